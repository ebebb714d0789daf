/**
 * `cx-export extract` is all or nothing, also when it is interrupted: the real CLI on a multi-MB
 * split export (Info-ZIP `zip -s`, each part encrypted with `openssl smime`), signalled at known
 * points — while the parts are reassembled into the temporary zip, while files are extracted —
 * found by watching the temp dir and DIR, not by sleeping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerTag } from '../../src/pipeline/files';
import {
	encryptParts,
	makeRecipient,
	tempDir,
	zipParts,
	type Recipient,
} from '../helpers/fixtures.mjs';

const bin = join(__dirname, '../../bin/cx-export.js');
const dir = tempDir();
let alice: Recipient;
let parts: string[];
/** The small files alone, as one plain zip. */
let smallZip: string;
/** Every file of the export (relative path → content). */
const files = new Map<string, Buffer>();
let runs = 0;

const SMALL_FILES = 4000;

beforeAll(() => {
	alice = makeRecipient(dir.path, 'alice');
	const src = join(dir.path, 'src');
	mkdirSync(join(src, 'records'), { recursive: true });
	// Many small files first (a long extraction phase), then 24 MiB that does not compress (a long
	// reassembly): 26 MiB in 4 MiB parts.
	for (let i = 0; i < SMALL_FILES; i++) {
		const name = `records/Interaction-${String(i).padStart(5, '0')}.json`;
		const data = Buffer.from(
			`${JSON.stringify({ id: i, text: randomBytes(300).toString('base64') })}\n`,
		);
		writeFileSync(join(src, name), data);
		files.set(name, data);
	}
	smallZip = join(dir.path, 'small.zip');
	expect(spawnSync('zip', ['-q', '-r', smallZip, 'records'], { cwd: src }).status).toBe(0);
	const big = randomBytes(24 * 1024 * 1024);
	writeFileSync(join(src, 'attachments.bin'), big);
	files.set('attachments.bin', big);
	const plain = join(dir.path, 'plain');
	mkdirSync(plain);
	const plainParts = zipParts(
		src,
		join(plain, 'export-0f8e1c2a.zip'),
		['records', 'attachments.bin'],
		{ size: '4m', flags: ['-r'] },
	);
	parts = encryptParts(plainParts, join(dir.path, 'enc'), alice.certPath);
	expect(parts.length).toBeGreaterThanOrEqual(6);
});
afterAll(() => dir.remove());

/** A fresh target DIR (not created; `existing` puts a file of the user's in it) and temp dir. */
function newRun(existing: boolean): { target: string; temp: string } {
	const base = join(dir.path, `run-${++runs}`);
	const temp = join(base, 'tmp');
	mkdirSync(temp, { recursive: true });
	const target = join(base, 'out');
	if (existing) {
		mkdirSync(target);
		writeFileSync(join(target, 'keep.me'), 'mine\n');
	}
	return { target, temp };
}

function start(
	target: string,
	temp: string,
	inputs = parts,
): {
	child: ChildProcess;
	exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
} {
	const child = spawn(
		process.execPath,
		[bin, 'extract', '--key', alice.keyPath, '--temp-dir', temp, ...inputs, '-d', target],
		{
			stdio: ['ignore', 'ignore', 'pipe'],
			env: { ...process.env, CX_EXPORT_PASSPHRASE: '' },
		},
	);
	let stderr = '';
	child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
	const exited = new Promise<{
		code: number | null;
		signal: NodeJS.Signals | null;
		stderr: string;
	}>((resolveExit) => child.on('close', (code, signal) => resolveExit({ code, signal, stderr })));
	return { child, exited };
}

function cx(args: string[]) {
	const r = spawnSync(process.execPath, [bin, ...args], {
		env: { ...process.env, CX_EXPORT_PASSPHRASE: '' },
	});
	return { status: r.status, stderr: r.stderr.toString('utf8') };
}

/** Every path under `root` (directories end with `/`), hidden ones included; [] when it does not exist. */
function tree(root: string): string[] {
	if (!existsSync(root)) return [];
	return (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
		.map((d) => {
			const path = join(d.parentPath ?? d.path, d.name).slice(root.length + 1);
			return d.isDirectory() ? `${path}/` : path;
		})
		.sort();
}

/** Files (not directories) under `root`, counted while another process changes it. */
function fileCount(root: string): number {
	try {
		return tree(root).filter((p) => !p.endsWith('/')).length;
	} catch {
		return 0; // a directory vanished while it was read
	}
}

/** The size of the largest file under `root`. */
function largestFile(root: string): number {
	let largest = 0;
	try {
		for (const path of tree(root))
			if (!path.endsWith('/')) largest = Math.max(largest, statSync(join(root, path)).size);
	} catch {
		// a file vanished while it was read
	}
	return largest;
}

/** Polls `condition` every 2 ms until it holds; fails (naming `what`) when the child exits first. */
async function until(
	what: string,
	exited: Promise<unknown>,
	condition: () => boolean,
): Promise<void> {
	let done = false;
	void exited.then(() => (done = true));
	while (!condition()) {
		if (done) throw new Error(`the run ended before ${what}`);
		await new Promise((resolveWait) => setTimeout(resolveWait, 2));
	}
}

/** Signals the run at `phase`: while reassembling (the temporary zip has grown past 1 MiB), or while extracting (files are being written under DIR). */
async function interrupt(
	phase: 'reassembling' | 'extracting',
	signal: NodeJS.Signals,
	target: string,
	temp: string,
) {
	const { child, exited } = start(target, temp);
	if (phase === 'reassembling')
		await until('the temporary zip grew', exited, () => largestFile(temp) > 1024 * 1024);
	else await until('files were extracted', exited, () => fileCount(target) >= 50);
	child.kill(signal);
	return exited;
}

function expectExtracted(target: string, others: string[] = []) {
	const dirs = ['records/'];
	expect(tree(target)).toEqual([...files.keys(), ...dirs, ...others].sort());
	for (const [name, data] of files)
		expect(readFileSync(join(target, name)).equals(data), name).toBe(true);
}

describe('cx-export extract, interrupted', () => {
	it.each([
		['SIGTERM', 'reassembling', 143, true],
		['SIGINT', 'reassembling', 130, false],
		['SIGTERM', 'extracting', 143, false],
		['SIGINT', 'extracting', 130, true],
	] as const)(
		'%s while %s: exits %i, and nothing of the run stays in DIR (existing: %s) or in the temp dir',
		async (signal, phase, status, existing) => {
			const { target, temp } = newRun(existing);
			const { code, stderr } = await interrupt(phase, signal, target, temp);
			expect(code, stderr).toBe(status);
			expect(stderr).toMatch(/^error: interrupted; no output was kept$/m);
			expect(tree(target)).toEqual(existing ? ['keep.me'] : []);
			expect(existsSync(target)).toBe(existing);
			expect(tree(temp)).toEqual([]);
		},
	);

	it('SIGTERM at 16 points of an extraction: never anything left (a file the thread pool was still creating included)', async () => {
		for (let point = 0; point < 16; point++) {
			const { target, temp } = newRun(point % 2 === 0);
			const { child, exited } = start(target, temp, [smallZip]);
			await until('files were extracted', exited, () => fileCount(target) >= 20 + point * 25);
			child.kill('SIGTERM');
			const { code, stderr } = await exited;
			expect(code, stderr).toBe(143);
			expect(tree(target), `signalled after ${20 + point * 25} files`).toEqual(
				point % 2 === 0 ? ['keep.me'] : [],
			);
		}
	});

	it.each(['reassembling', 'extracting'] as const)(
		'SIGKILL while %s: a rerun into the same DIR succeeds and removes what the killed run left',
		async (phase) => {
			const { target, temp } = newRun(true);
			const { signal } = await interrupt(phase, 'SIGKILL', target, temp);
			expect(signal).toBe('SIGKILL');
			// The killed run could not clean up: its temporary zip, or its staged files, are there.
			expect(tree(temp).length + tree(target).length).toBeGreaterThan(1);
			const r = cx(['extract', '--key', alice.keyPath, '--temp-dir', temp, ...parts, '-d', target]);
			expect(r.status, r.stderr).toBe(0);
			expectExtracted(target, ['keep.me']);
			expect(tree(temp)).toEqual([]);
		},
	);
});

describe('cx-export extract: leftovers of other runs', () => {
	/** A pid that is certainly not running: a child that has exited. */
	function deadPid(): number {
		const child = spawnSync(process.execPath, ['-e', '']);
		expect(child.status).toBe(0);
		return child.pid;
	}

	function leftover(parent: string, name: string): string {
		const path = join(parent, name);
		mkdirSync(join(path, 'files', 'records'), { recursive: true });
		writeFileSync(join(path, 'files', 'records', 'Interaction-00000.json'), 'stale\n');
		writeFileSync(join(path, 'export.zip'), randomBytes(1024));
		return path;
	}

	it("removes a dead run's staging dir and temporary zip, keeps a live run's and anything else", async () => {
		const { target, temp } = newRun(true);
		const dead = ownerTag(deadPid());
		// This test process is alive; so is pid 1.
		const live = ownerTag(process.pid);
		const removed = [
			leftover(target, `.cx-export-staging-${dead}-Ab12Cd`),
			leftover(temp, `cx-export-${dead}-Ab12Cd`),
		];
		const kept = [
			leftover(target, `.cx-export-staging-${live}-Ab12Cd`),
			leftover(temp, `cx-export-${live}-Ab12Cd`),
			leftover(target, `.cx-export-staging-${ownerTag(1)}-Ab12Cd`),
			// Not ours, or not recognisably ours: never touched.
			leftover(temp, `cx-export-test-Ab12Cd`),
			leftover(temp, `cx-export-${dead.split('-')[0]}-Ab12Cd`),
			leftover(temp, `cx-export-${dead.split('-')[0]}-0badf00d-Ab12Cd`),
			leftover(target, `.cx-export-staging-${dead}-Ab12Cd.bak`),
			leftover(target, `cx-export-${dead}-Ab12Cd`),
		];
		const r = cx(['extract', '--key', alice.keyPath, '--temp-dir', temp, ...parts, '-d', target]);
		expect(r.status, r.stderr).toBe(0);
		for (const path of removed) expect(existsSync(path), path).toBe(false);
		for (const path of kept)
			expect(tree(path), path).toEqual([
				'export.zip',
				'files/',
				'files/records/',
				'files/records/Interaction-00000.json',
			]);
		expect(
			readFileSync(join(target, 'records', 'Interaction-00000.json')).equals(
				files.get('records/Interaction-00000.json')!,
			),
		).toBe(true);
	});

	it('finishes undoing a run killed while it moved files into place, so that the rerun succeeds', async () => {
		// What a run killed between moving `attachments.bin` into DIR and moving `records` leaves:
		// its journal names both; `records` is still staged.
		const { target, temp } = newRun(true);
		const staging = join(target, `.cx-export-staging-${ownerTag(deadPid())}-Zz09aB`);
		mkdirSync(join(staging, 'files', 'records'), { recursive: true });
		writeFileSync(join(staging, 'files', 'records', 'Interaction-00000.json'), 'half\n');
		writeFileSync(join(target, 'attachments.bin'), 'moved by the killed run\n');
		writeFileSync(join(staging, 'moving'), 'M\tattachments.bin\nM\trecords\n');
		const r = cx(['extract', '--key', alice.keyPath, '--temp-dir', temp, ...parts, '-d', target]);
		expect(r.status, r.stderr).toBe(0);
		expectExtracted(target, ['keep.me']);
		expect(tree(temp)).toEqual([]);
	});

	it('refuses to replace a file that exists, at the first one (not after extracting everything), without advice to use a flag that does not exist; nothing is written', () => {
		const { target, temp } = newRun(true);
		writeFileSync(join(target, 'attachments.bin'), 'mine\n');
		mkdirSync(join(target, 'records'));
		writeFileSync(join(target, 'records', 'Interaction-00007.json'), 'mine\n');
		const r = cx(['extract', '--key', alice.keyPath, '--temp-dir', temp, ...parts, '-d', target]);
		expect(r.status).toBe(1);
		const lines = r.stderr.split('\n').filter(Boolean);
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(
			/^error: \S+\/out\/records\/Interaction-00007\.json already exists; nothing was extracted: extract into a new or empty directory, or move what is there away first$/,
		);
		expect(lines[0]).not.toMatch(/allow overwriting|--overwrite/);
		expect(tree(target)).toEqual([
			'attachments.bin',
			'keep.me',
			'records/',
			'records/Interaction-00007.json',
		]);
		expect(readFileSync(join(target, 'attachments.bin'), 'utf8')).toBe('mine\n');
		expect(tree(temp)).toEqual([]);
	});
});
