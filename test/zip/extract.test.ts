import { spawnSync } from 'node:child_process';
import {
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	symlinkSync,
	writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, extractTo, zipEntries } from '../../src/zip';
import { unsafeNameReason } from '../../src/zip/extract';
import {
	cxError,
	dataOffset,
	listCentralDirectory,
	makeTempDir,
	patchUncompressedSize,
	randomText,
	readEntries,
	renameEntry,
	writeFiles,
	zerosBomb,
	zip,
} from '../helpers/zipTools';

const tmp = makeTempDir();
const src = join(tmp.path, 'src');
const zips = join(tmp.path, 'zips');
const originals: Record<string, Buffer> = {};
let targets = 0;

/** A fresh, not yet existing target directory inside `outer` (so escapes can be looked for). */
function newTarget(): { outer: string; dir: string } {
	const outer = join(tmp.path, `target-${++targets}`);
	mkdirSync(outer);
	return { outer, dir: join(outer, 'out') };
}

/** Every path under `dir`, recursively (directories end with /). */
function tree(dir: string): string[] {
	if (!existsSync(dir)) return [];
	return readdirSync(dir, { withFileTypes: true, recursive: true })
		.map((e) => `${join(e.parentPath, e.name).slice(dir.length + 1)}${e.isDirectory() ? '/' : ''}`)
		.sort();
}

function write(name: string, data: Buffer): string {
	const path = join(zips, name);
	writeFileSync(path, data);
	return path;
}

const path = (name: string) => join(zips, name);

beforeAll(() => {
	mkdirSync(src);
	mkdirSync(zips);
	originals['a.txt'] = randomText(300_000);
	originals['b.txt'] = randomText(1000);
	originals['c.txt'] = Buffer.from('hello\n');
	originals['sub/deeper/d.json'] = Buffer.from('{"id":1}\n'.repeat(1000));
	originals['résumé.json'] = Buffer.from('{"unicode":true}\n');
	writeFiles(src, originals);
	zip(src, ['-r', path('normal.zip'), 'a.txt', 'sub', 'c.txt', 'résumé.json']);
	zip(src, ['-0', path('stored.zip'), 'a.txt', 'c.txt']);
	// Zip slip as Info-ZIP itself stores it: a relative path climbing out.
	const inner = join(src, 'inner');
	mkdirSync(inner);
	writeFileSync(join(inner, 'ok.txt'), 'ok\n');
	writeFileSync(join(src, 'evil.txt'), 'evil\n');
	zip(inner, [path('slip.zip'), 'ok.txt', '../evil.txt']);
	// A symbolic link, stored as a link (zip -y).
	symlinkSync('/etc/passwd', join(inner, 'link'));
	zip(inner, ['-y', path('symlink.zip'), 'ok.txt', 'link']);
	// Names Info-ZIP would never store, patched in place (same length) in both headers.
	writeFiles(src, {
		'_abs.txt': 'abs\n',
		'xxevil.txt': 'evil\n',
		'Cxevil.txt': 'evil\n',
		q: 'file\n',
		'r/s': 'under\n',
	});
	zip(src, [
		path('names.zip'),
		'_abs.txt',
		'xxevil.txt',
		'Cxevil.txt',
		'b.txt',
		'c.txt',
		'q',
		'r/s',
	]);
	zip(src, ['-P', 'secret', path('encrypted.zip'), 'c.txt']);
	writeFileSync(join(src, 'zeros'), Buffer.alloc(10 * 1024 * 1024));
	zip(src, [path('zeros.zip'), 'zeros']);
});
afterAll(() => tmp.remove());

describe('zipEntries', () => {
	it('yields every entry with its metadata, and streams verified content', async () => {
		const seen: Array<{ name: string; size: number; isDirectory: boolean }> = [];
		for await (const entry of zipEntries(path('normal.zip'))) {
			seen.push({ name: entry.name, size: entry.size, isDirectory: entry.isDirectory });
			expect(entry.lastModified.getTime()).toBeGreaterThan(Date.UTC(2020, 0, 1));
			if (!entry.isDirectory) expect(entry.crc32).toBe(crc32(originals[entry.name]));
		}
		expect(seen).toEqual([
			{ name: 'a.txt', size: originals['a.txt'].length, isDirectory: false },
			{ name: 'sub/', size: 0, isDirectory: true },
			{ name: 'sub/deeper/', size: 0, isDirectory: true },
			{
				name: 'sub/deeper/d.json',
				size: originals['sub/deeper/d.json'].length,
				isDirectory: false,
			},
			{ name: 'c.txt', size: 6, isDirectory: false },
			{ name: 'résumé.json', size: originals['résumé.json'].length, isDirectory: false },
		]);
		const entries = await readEntries(path('normal.zip'));
		for (const [name, data] of entries) expect(data.equals(originals[name]), name).toBe(true);
	});

	it('refuses a file that is not a zip, and a missing file', async () => {
		const notZip = write('notzip.zip', Buffer.from('{"a":1}\n'));
		expect((await cxError(() => readEntries(notZip))).code).toBe('ZIP_FORMAT');
		expect((await cxError(() => readEntries(join(zips, 'missing.zip')))).code).toBe('IO');
	});

	it('refuses the final part of a split zip, naming the parts that are missing', async () => {
		const dir = join(tmp.path, 'split');
		mkdirSync(dir);
		writeFileSync(join(dir, 'big.txt'), randomText(200_000));
		zip(dir, ['-s', '64k', join(dir, 'set.zip'), 'big.txt']);
		const error = await cxError(() => readEntries(join(dir, 'set.zip')));
		expect(error.code).toBe('PART_MISSING');
		const numbered = readdirSync(dir)
			.filter((name) => /^set\.z\d\d$/.test(name))
			.sort();
		const missing =
			numbered.length >= 3 ? `set.z01 … ${numbered[numbered.length - 1]}` : numbered.join(' and ');
		expect(error.message).toBe(
			`set.zip is the last part of a split export of ${numbered.length + 1} parts, but only it was given: ${missing} are missing; every part of a split export is needed`,
		);
	});
});

describe('extractTo', () => {
	it('writes every file byte-identical, creates directories, leaves no temporary files', async () => {
		const { dir } = newTarget();
		const files = await extractTo(path('normal.zip'), dir);
		expect(files.map((f) => f.name)).toEqual([
			'a.txt',
			'sub/deeper/d.json',
			'c.txt',
			'résumé.json',
		]);
		expect(tree(dir)).toEqual([
			'a.txt',
			'c.txt',
			'résumé.json',
			'sub/',
			'sub/deeper/',
			'sub/deeper/d.json',
		]);
		for (const file of files) {
			expect(file.path).toBe(join(dir, file.name));
			expect(readFileSync(file.path).equals(originals[file.name])).toBe(true);
		}
	});

	it('refuses to replace existing files unless asked to', async () => {
		const { dir } = newTarget();
		mkdirSync(dir);
		writeFileSync(join(dir, 'c.txt'), 'mine\n');
		const error = await cxError(() => extractTo(path('normal.zip'), dir));
		expect(error.code).toBe('IO');
		expect(error.message).toContain('already exists');
		expect(readFileSync(join(dir, 'c.txt'), 'utf8')).toBe('mine\n');
		expect(tree(dir)).toEqual(['c.txt']);
		await extractTo(path('normal.zip'), dir, {}, { overwrite: true });
		expect(readFileSync(join(dir, 'c.txt'), 'utf8')).toBe('hello\n');
	});

	describe('refuses unsafe entries with ZIP_UNSAFE, writing nothing anywhere', () => {
		async function refused(zipPath: string, entry: string) {
			const { outer, dir } = newTarget();
			const error = await cxError(() => extractTo(zipPath, dir));
			expect(error.code).toBe('ZIP_UNSAFE');
			expect(error.where).toBe(entry);
			expect(error.message).toContain(JSON.stringify(entry));
			expect(tree(outer)).toEqual([]); // not even the target directory it created
			return error;
		}

		it('../evil.txt (zip slip, as Info-ZIP stores it)', async () => {
			expect(listCentralDirectory(readFileSync(path('slip.zip'))).map((e) => e.name)).toEqual([
				'ok.txt',
				'../evil.txt',
			]);
			const error = await refused(path('slip.zip'), '../evil.txt');
			expect(error.message).toContain('climbs out of the target directory');
		});

		it('/abs.txt (absolute path)', async () => {
			await refused(
				write('abs.zip', renameEntry(readFileSync(path('names.zip')), '_abs.txt', '/abs.txt')),
				'/abs.txt',
			);
		});

		it('..\\evil.txt (backslash separators, read as /)', async () => {
			await refused(
				write(
					'backslash.zip',
					renameEntry(readFileSync(path('names.zip')), 'xxevil.txt', '..\\evi.txt'),
				),
				'../evi.txt',
			);
		});

		it('C:evil.txt (drive letter)', async () => {
			await refused(
				write(
					'drive.zip',
					renameEntry(readFileSync(path('names.zip')), 'Cxevil.txt', 'C:evil.txt'),
				),
				'C:evil.txt',
			);
		});

		it('a symbolic link (zip -y)', async () => {
			const error = await refused(path('symlink.zip'), 'link');
			expect(error.message).toContain('symbolic link');
		});

		it('duplicate names', async () => {
			const error = await refused(
				write('duplicate.zip', renameEntry(readFileSync(path('names.zip')), 'b.txt', 'c.txt')),
				'c.txt',
			);
			expect(error.message).toContain('duplicate names');
		});

		it('a file and a directory with the same path', async () => {
			const error = await refused(
				write('conflict.zip', renameEntry(readFileSync(path('names.zip')), 'r/s', 'q/s')),
				'q/s',
			);
			expect(error.message).toContain('"q" to be a directory');
		});

		it('entries that overlap (the overlapping-files zip bomb)', async () => {
			const data = Buffer.from(readFileSync(path('names.zip')));
			const cd = listCentralDirectory(data);
			const c = cd.find((e) => e.name === 'c.txt')!;
			data.writeUInt32LE(cd.find((e) => e.name === 'b.txt')!.localAt, c.centralAt + 42);
			const error = await refused(write('overlap.zip', data), 'b.txt');
			expect(error.message).toContain('overlaps entry "c.txt"');
		});
	});

	it('never writes through a symbolic link already in the target directory', async () => {
		const { outer, dir } = newTarget();
		const elsewhere = join(outer, 'elsewhere');
		mkdirSync(elsewhere);
		mkdirSync(dir);
		symlinkSync(elsewhere, join(dir, 'sub'));
		const error = await cxError(() => extractTo(path('normal.zip'), dir));
		expect(error.code).toBe('ZIP_UNSAFE');
		expect(error.message).toContain('is a symbolic link in the target directory');
		expect(tree(elsewhere)).toEqual([]);
		expect(tree(dir)).toEqual(['sub']); // a.txt, written before, was removed again
	});

	it('removes what it wrote when a later entry fails (CRC), and leaves what was there', async () => {
		const data = Buffer.from(readFileSync(path('stored.zip')));
		data[dataOffset(data, 'c.txt') + 1] ^= 0x01; // 'hello' → 'hdllo', nothing else patched
		const zipPath = write('late-crc.zip', data);
		const { dir } = newTarget();
		mkdirSync(dir);
		writeFileSync(join(dir, 'keep.me'), 'mine');
		const error = await cxError(() => extractTo(zipPath, dir));
		expect(error.code).toBe('ZIP_CRC');
		expect(error.where).toBe('c.txt');
		expect(tree(dir)).toEqual(['keep.me']);
	});

	it('leaves nothing when the first, tiny entry fails before its file is even open (100 runs: no race with the open)', async () => {
		zip(src, ['-0', path('tiny.zip'), 'c.txt']);
		const data = Buffer.from(readFileSync(path('tiny.zip')));
		data[dataOffset(data, 'c.txt') + 1] ^= 0x01;
		const zipPath = write('early-crc.zip', data);
		for (let run = 0; run < 100; run++) {
			const { dir } = newTarget();
			const error = await cxError(() => extractTo(zipPath, dir));
			expect(error.code).toBe('ZIP_CRC');
			expect(existsSync(dir), `run ${run}: ${tree(dir).join(', ')}`).toBe(false);
		}
	});

	it('refuses encrypted entries', async () => {
		const error = await cxError(() => extractTo(path('encrypted.zip'), newTarget().dir));
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain('encrypted');
	});

	it.each([
		['fewer', 1],
		['none', 0],
	])(
		'refuses a zip whose end record counts %s entries than its central directory holds (found by fuzzing: the others were left out silently)',
		async (_, count) => {
			const data = Buffer.from(readFileSync(path('stored.zip')));
			const eocd = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
			expect(data.readUInt16LE(eocd + 10)).toBeGreaterThan(1);
			data.writeUInt16LE(count, eocd + 8);
			data.writeUInt16LE(count, eocd + 10);
			const zipPath = write(`count-${count}.zip`, data);
			const { outer, dir } = newTarget();
			const error = await cxError(() => extractTo(zipPath, dir));
			expect(error.code).toBe('ZIP_FORMAT');
			expect(error.message).toBe(
				`count-${count}.zip: its end record says it holds ${count} ${count === 1 ? 'entry' : 'entries'}, but its central directory holds more: corrupt, or made to hide entries from some readers`,
			);
			expect(tree(outer)).toEqual([]);
			const listing = await cxError(async () => {
				for await (const entry of zipEntries(zipPath)) void entry;
			});
			expect(listing.code).toBe('ZIP_FORMAT');
		},
	);

	it('refuses an entry whose local header names it differently than the central directory', async () => {
		const data = Buffer.from(readFileSync(path('stored.zip')));
		const c = listCentralDirectory(data).find((e) => e.name === 'c.txt')!;
		data.write('x', c.localAt + 30);
		const error = await cxError(() => extractTo(write('local-name.zip', data), newTarget().dir));
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain('disagree');
	});
});

describe('zip bombs and lying headers', () => {
	it('refuses a 4 GiB bomb of zeros from its central directory, in milliseconds', async () => {
		const bomb = write('bomb-4g.zip', zerosBomb(4096));
		const { outer, dir } = newTarget();
		const started = performance.now();
		const error = await cxError(() => extractTo(bomb, dir));
		const elapsed = performance.now() - started;
		expect(error.code).toBe('ZIP_LIMIT');
		expect(error.message).toContain('declares 4294967296 bytes');
		expect(error.message).toContain('compression ratio limit (200x)');
		expect(error.message).toContain('--max-ratio in the CLI, Max Compression Ratio in the nodes');
		expect(error.limit).toBe('maxRatio');
		expect(elapsed).toBeLessThan(1000);
		expect(tree(outer)).toEqual([]);
	});

	it('…and that bomb is real: with limits raised it inflates zeros', async () => {
		const limits = { maxRatio: 2000, maxEntryBytes: 8 * 1024 ** 3, maxTotalBytes: 8 * 1024 ** 3 };
		for await (const entry of zipEntries(path('bomb-4g.zip'), limits)) {
			const stream = await entry.open();
			let bytes = 0;
			for await (const chunk of stream) {
				expect((chunk as Buffer).every((b) => b === 0)).toBe(true);
				bytes += (chunk as Buffer).length;
				if (bytes >= 8 * 1024 * 1024) break;
			}
			expect(bytes).toBeGreaterThanOrEqual(8 * 1024 * 1024);
		}
	});

	it('refuses a bomb made by zip from a stream of zeros (head -c 256M /dev/zero | zip)', async () => {
		const made = spawnSync('sh', [
			'-c',
			`head -c 256M /dev/zero | zip -q '${path('bomb-zip.zip')}' -`,
		]);
		expect(made.status).toBe(0);
		const started = performance.now();
		const error = await cxError(() => readEntries(path('bomb-zip.zip')));
		expect(error.code).toBe('ZIP_LIMIT');
		expect(error.where).toBe('-');
		expect(performance.now() - started).toBeLessThan(1000);
	});

	it('stops an entry inflating past its declared size (header patched in both places)', async () => {
		// 10 MiB of zeros declared as 100 000 bytes: a ratio of ~10, passes every declared check.
		const zipPath = write(
			'liar.zip',
			patchUncompressedSize(readFileSync(path('zeros.zip')), 'zeros', 100_000),
		);
		const { outer, dir } = newTarget();
		const error = await cxError(() => extractTo(zipPath, dir));
		expect(error.code).toBe('ZIP_LIMIT');
		expect(error.message).toContain('inflates to more than the 100000 bytes its headers declare');
		expect(tree(outer)).toEqual([]);
	});

	it('refuses declared sizes over the limits before inflating', async () => {
		const count = await cxError(() => readEntries(path('normal.zip'), { maxEntries: 3 }));
		expect(count.code).toBe('ZIP_LIMIT');
		expect(count.message).toContain(
			'6 entries, more than the entry count limit (3); if you trust this file, raise the entry count limit (--max-entries in the CLI, Max Entries in the nodes)',
		);
		expect(count.limit).toBe('maxEntries');
		const entry = await cxError(() => readEntries(path('normal.zip'), { maxEntryBytes: 100_000 }));
		expect(entry.code).toBe('ZIP_LIMIT');
		expect(entry.where).toBe('a.txt');
		const total = await cxError(() => readEntries(path('normal.zip'), { maxTotalBytes: 305_000 }));
		expect(total.code).toBe('ZIP_LIMIT');
		expect(total.message).toContain(
			'--max-total-size in the CLI, Max Total Size (MiB) in the nodes',
		);
		expect(total.limit).toBe('maxTotalBytes');
		const ratio = await cxError(() =>
			readEntries(path('normal.zip'), { maxRatio: 5, ratioThresholdBytes: 1000 }),
		);
		expect(ratio.code).toBe('ZIP_LIMIT');
		expect(ratio.where).toBe('sub/deeper/d.json');
	});

	it('lets through what the defaults are meant for: JSON at 5-20x', () => {
		const size = 20 * 1024 ** 3;
		expect(size).toBeLessThanOrEqual(DEFAULT_LIMITS.maxTotalBytes);
		expect(20).toBeLessThan(DEFAULT_LIMITS.maxRatio);
		expect(1030).toBeGreaterThan(DEFAULT_LIMITS.maxRatio); // deflate's best: zeros
	});
});

describe('corrupt data', () => {
	it('a flipped byte inside stored data: ZIP_CRC at the end of the stream', async () => {
		const data = Buffer.from(readFileSync(path('stored.zip')));
		data[dataOffset(data, 'a.txt') + 150_000] ^= 0x20;
		const zipPath = write('crc.zip', data);
		const received: Buffer[] = [];
		const error = await cxError(async () => {
			for await (const entry of zipEntries(zipPath)) {
				if (entry.name !== 'a.txt') continue;
				for await (const chunk of await entry.open()) received.push(chunk as Buffer);
			}
		});
		expect(error.code).toBe('ZIP_CRC');
		expect(error.message).toContain('"a.txt"');
		expect(Buffer.concat(received).length).toBe(originals['a.txt'].length); // the error comes after the data
	});

	it('damaged deflate data: an error (ZIP_FORMAT, ZIP_CRC, or ZIP_LIMIT when it inflates past its size), never silence', async () => {
		const data = Buffer.from(readFileSync(path('normal.zip')));
		const at = dataOffset(data, 'a.txt');
		for (let i = 0; i < 64; i++) data[at + 1000 + i] ^= 0xff;
		const error = await cxError(() => readEntries(write('deflate.zip', data)));
		expect(['ZIP_FORMAT', 'ZIP_CRC', 'ZIP_LIMIT']).toContain(error.code);
		expect(error.where).toBe('a.txt');
	});
});

describe('hostile offsets', () => {
	/** An end of central directory record whose fields all say "see the Zip64 record". */
	function zip64Eocd(): Buffer {
		const eocd = Buffer.alloc(22);
		eocd.writeUInt32LE(0x06054b50, 0);
		eocd.fill(0xff, 4, 20);
		return eocd;
	}
	/** A Zip64 end of central directory locator pointing at `offset`. */
	function locator(offset: bigint): Buffer {
		const loc = Buffer.alloc(20);
		loc.writeUInt32LE(0x07064b50, 0);
		loc.writeBigUInt64LE(offset, 8);
		loc.writeUInt32LE(1, 16);
		return loc;
	}

	/** Runs `work` and fails if anything escapes as an uncaught exception meanwhile (as it would kill n8n). */
	async function noUncaught<T>(work: () => Promise<T>): Promise<T> {
		const escaped: unknown[] = [];
		const listener = (error: unknown) => escaped.push(error);
		process.on('uncaughtException', listener);
		try {
			const result = await work();
			await new Promise((resolve) => setTimeout(resolve, 50));
			return result;
		} finally {
			process.off('uncaughtException', listener);
			expect(escaped).toEqual([]);
		}
	}

	it('a Zip64 locator pointing at 2^63, or past the end: ZIP_FORMAT naming the offset, never an uncaught exception', async () => {
		const cases: Array<[string, Buffer, RegExp]> = [
			[
				'zip64-2p63.zip',
				Buffer.concat([Buffer.alloc(203, 0x20), locator(1n << 63n), zip64Eocd()]),
				/outside the file: 56 bytes at an offset beyond any file/,
			],
			[
				'zip64-far.zip',
				Buffer.concat([Buffer.alloc(203, 0x20), locator(1_000_000n), zip64Eocd()]),
				/outside the file: 56 bytes at offset 1000000, in a file of 245 bytes/,
			],
		];
		for (const [name, data, reason] of cases) {
			expect(data.length).toBe(245);
			const zipPath = write(name, data);
			const error = await noUncaught(() => cxError(() => readEntries(zipPath)));
			expect(error.code).toBe('ZIP_FORMAT');
			expect(error.message).toMatch(reason);
			const { dir } = newTarget();
			const again = await noUncaught(() => cxError(() => extractTo(zipPath, dir)));
			expect(again.code).toBe('ZIP_FORMAT');
			expect(existsSync(dir)).toBe(false);
		}
	});

	it('an entry whose local header offset lies past the end of the file: ZIP_FORMAT for that entry', async () => {
		const data = Buffer.from(readFileSync(path('stored.zip')));
		const [first] = listCentralDirectory(data);
		data.writeUInt32LE(0xfffffff0, first.centralAt + 42);
		const zipPath = write('local-far.zip', data);
		const error = await noUncaught(() => cxError(() => readEntries(zipPath)));
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toMatch(/outside the file/);
	});
});

describe('unsafeNameReason', () => {
	it.each([
		['report.json', undefined],
		['dir/sub/file.json', undefined],
		['dir/', undefined],
		['..foo', undefined],
		['./x.txt', undefined],
		['', 'has an empty name'],
		['../x', 'has a ".." segment that climbs out of the target directory'],
		['a/../../x', 'has a ".." segment that climbs out of the target directory'],
		['/etc/passwd', 'is an absolute path'],
		['c:/windows', 'starts with a drive letter'],
		['a\\b', 'has a backslash in its name'],
		['a\u0000b', 'has control characters in its name'],
		['./', 'has no file name'],
		[`${'a'.repeat(255)}/b`, undefined],
		[
			`d/${'a'.repeat(256)}`,
			'has a name segment of 256 bytes, more than the 255 file systems allow',
		],
		[`${'é'.repeat(128)}`, 'has a name segment of 256 bytes, more than the 255 file systems allow'],
		[`${'abcdefgh/'.repeat(113)}x`, undefined],
		[`${'abcdefgh/'.repeat(114)}x`, 'has a path of 1027 bytes, more than 1024'],
	])('%j → %s', (name, reason) => {
		expect(unsafeNameReason(name, 'linux')).toBe(reason);
	});

	it('adds Windows rules on Windows only', () => {
		for (const name of ['ab:c.json', 'CON', 'dir/nul.txt', 'trailing.', 'what?.json']) {
			expect(unsafeNameReason(name, 'win32'), name).toBeDefined();
			expect(unsafeNameReason(name, 'linux'), name).toBeUndefined();
		}
	});
});
