/**
 * extractTo is all or nothing: entries are staged in `.cx-export-staging-<pid>-<host>-XXXXXX`
 * inside the target and moved into place once every one is verified; what a killed run left is
 * undone by the next. (The CLI's signals and SIGKILL: test/cli/extract-interrupt.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerTag, registerPending } from '../../src/pipeline/files';
import { extractTo } from '../../src/zip';
import { cxError, dataOffset, makeTempDir, writeFiles, zip } from '../helpers/zipTools';

const tmp = makeTempDir();
const src = join(tmp.path, 'src');
const zips = join(tmp.path, 'zips');
let targets = 0;

beforeAll(() => {
	mkdirSync(src);
	mkdirSync(zips);
	writeFiles(src, { 'a.txt': 'new a\n', 'b.txt': 'new b\n', 'sub/c.txt': 'new c\n' });
	zip(src, ['-0', join(zips, 'abc.zip'), 'a.txt', 'b.txt', 'sub/c.txt']);
});
afterAll(() => tmp.remove());

function newTarget(files: Record<string, string> = {}): string {
	const dir = join(tmp.path, `target-${++targets}`);
	mkdirSync(dir);
	writeFiles(dir, files);
	return dir;
}

/** Every path under `dir`, hidden ones included, directories ending with `/`. */
function tree(dir: string): string[] {
	return readdirSync(dir, { recursive: true, withFileTypes: true })
		.map((d) => {
			const path = join(d.parentPath ?? d.path, d.name).slice(dir.length + 1);
			return d.isDirectory() ? `${path}/` : path;
		})
		.sort();
}

function deadPid(): number {
	return spawnSync(process.execPath, ['-e', '']).pid;
}

describe('extractTo, all or nothing', () => {
	it('fails at the first file that exists, before a later corrupt entry is even read', async () => {
		const data = readFileSync(join(zips, 'abc.zip'));
		const corrupt = Buffer.from(data);
		corrupt[dataOffset(corrupt, 'b.txt')] ^= 0x01;
		const zipPath = join(zips, 'late-crc.zip');
		writeFileSync(zipPath, corrupt);
		const dir = newTarget({ 'a.txt': 'mine\n' });
		const error = await cxError(() => extractTo(zipPath, dir));
		expect(error.code).toBe('IO');
		expect(error.where).toBe('a.txt');
		expect(error.message).toBe(
			`${join(dir, 'a.txt')} already exists; nothing was extracted: extract into a new or empty directory, or move what is there away first`,
		);
		expect(tree(dir)).toEqual(['a.txt']);
	});

	it('merges into directories the target has, and leaves no staging directory', async () => {
		const dir = newTarget({ 'sub/mine.txt': 'mine\n' });
		const files = await extractTo(join(zips, 'abc.zip'), dir);
		expect(files.map((f) => f.path)).toEqual(
			['a.txt', 'b.txt', 'sub/c.txt'].map((name) => join(dir, name)),
		);
		expect(tree(dir)).toEqual(['a.txt', 'b.txt', 'sub/', 'sub/c.txt', 'sub/mine.txt']);
	});

	it('refuses an entry named like a staging directory', async () => {
		const dir = newTarget();
		writeFiles(src, { 'x/.cx-export-staging-1-00000000-Abc123/y': 'y\n' });
		const zipPath = join(zips, 'named.zip');
		zip(join(src, 'x'), [zipPath, '.cx-export-staging-1-00000000-Abc123/y']);
		const error = await cxError(() => extractTo(zipPath, dir));
		expect(error.code).toBe('ZIP_UNSAFE');
		expect(error.message).toContain("named like cx-export's staging directories");
		expect(tree(dir)).toEqual([]);
	});

	it('puts back the files a run killed while replacing them (overwrite) had set aside', async () => {
		// A run with { overwrite: true } killed after replacing a.txt (set aside as replaced/0)
		// and before moving sub: its journal lists both.
		const dir = newTarget({ 'a.txt': 'new a\n' });
		const staging = join(dir, `.cx-export-staging-${ownerTag(deadPid())}-Q1w2E3`);
		writeFiles(staging, {
			'replaced/0': 'mine\n',
			'files/b.txt': 'new b\n',
			'files/sub/c.txt': 'new c\n',
			moving: 'R\t0\ta.txt\nM\tb.txt\nM\tsub\n',
		});
		// The next run finds a.txt as it was: not to be replaced without overwrite.
		const error = await cxError(() => extractTo(join(zips, 'abc.zip'), dir));
		expect(error.message).toContain(`${join(dir, 'a.txt')} already exists`);
		expect(tree(dir)).toEqual(['a.txt']);
		expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('mine\n');
	});

	it('replaces files with overwrite, and keeps nothing aside afterwards', async () => {
		const dir = newTarget({ 'a.txt': 'mine\n', 'keep.txt': 'mine\n' });
		await extractTo(join(zips, 'abc.zip'), dir, {}, { overwrite: true });
		expect(tree(dir)).toEqual(['a.txt', 'b.txt', 'keep.txt', 'sub/', 'sub/c.txt']);
		expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('new a\n');
	});

	it('ignores journal lines that would lead outside the target', async () => {
		const outer = newTarget({ 'victim.txt': 'mine\n' });
		const dir = join(outer, 'out');
		const staging = join(dir, `.cx-export-staging-${ownerTag(deadPid())}-Q1w2E3`);
		writeFiles(staging, {
			moving: 'M\t../victim.txt\nM\t/etc/passwd\nR\t0\t../victim.txt\n',
			'replaced/0': 'x\n',
		});
		await extractTo(join(zips, 'abc.zip'), dir);
		expect(tree(outer)).toEqual([
			'out/',
			'out/a.txt',
			'out/b.txt',
			'out/sub/',
			'out/sub/c.txt',
			'victim.txt',
		]);
		expect(readFileSync(join(outer, 'victim.txt'), 'utf8')).toBe('mine\n');
	});

	it("removes a leftover carrying this process's own pid (a pid comes back after a restart) unless it is one of its pending paths", async () => {
		const dir = newTarget();
		const mine = ownerTag(process.pid);
		writeFiles(dir, {
			[`.cx-export-staging-${mine}-Old123/files/a.txt`]: 'old\n',
			[`.cx-export-staging-${mine}-Run123/files/a.txt`]: 'running\n',
		});
		const untrack = registerPending(join(dir, `.cx-export-staging-${mine}-Run123`));
		try {
			await extractTo(join(zips, 'abc.zip'), dir);
		} finally {
			untrack();
		}
		expect(tree(dir)).toEqual([
			`.cx-export-staging-${mine}-Run123/`,
			`.cx-export-staging-${mine}-Run123/files/`,
			`.cx-export-staging-${mine}-Run123/files/a.txt`,
			'a.txt',
			'b.txt',
			'sub/',
			'sub/c.txt',
		]);
	});

	it('keeps a leftover made on another host, whatever its pid', async () => {
		const dir = newTarget();
		const name = `.cx-export-staging-${deadPid()}-${ownerTag().endsWith('00000000') ? '11111111' : '00000000'}-Abc123`;
		writeFiles(dir, { [`${name}/files/x`]: 'x\n' });
		await extractTo(join(zips, 'abc.zip'), dir);
		expect(tree(dir)).toContain(`${name}/files/x`);
	});
});
