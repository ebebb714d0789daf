import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CxError } from '../../src/errors';
import { reassembleToFile } from '../../src/pipeline/export';
import { fileSource } from '../../src/pipeline/sources';
import { orderParts, reassemble, type ZipPart } from '../../src/zip';
import {
	bufferParts,
	collector,
	cxError,
	fileParts,
	listCentralDirectory,
	makeTempDir,
	randomText,
	readEntries,
	readParts,
	reassembleToBuffer,
	splitPartNames,
	unzipExtract,
	unzipTest,
	writeFiles,
	zip,
} from '../helpers/zipTools';

const tmp = makeTempDir();
const src = join(tmp.path, 'src');
const sets = join(tmp.path, 'sets');
const originals: Record<string, Buffer> = {};
let outCount = 0;

beforeAll(() => {
	mkdirSync(src);
	mkdirSync(sets);
	originals['a.txt'] = randomText(1_500_000);
	originals['b.txt'] = randomText(400_000);
	originals['c.txt'] = Buffer.from('hello\n');
	originals['sub/d.json'] = Buffer.from(
		`${JSON.stringify({ id: 1, text: 'x'.repeat(5000) })}\n`.repeat(50),
	);
	writeFiles(src, originals);
	const all = ['a.txt', 'b.txt', 'c.txt', 'sub/d.json'];
	const make = (name: string, args: string[], files = all) =>
		zip(src, [...args, join(sets, `${name}.zip`), ...files]);
	make('two', ['-s', '1m'], ['a.txt', 'c.txt']);
	make('many', ['-s', '64k']);
	make('stored', ['-0', '-s', '64k']);
	make('zip64', ['-fz', '-s', '64k']);
	make('plain', []);
	make('single', ['-s', '10m'], ['c.txt']);
	zip(src, ['-s', '64k', join(sets, 'stdin.zip'), '-'], originals['a.txt']);
	zip(
		src,
		['-z', '-s', '64k', join(sets, 'commented.zip'), 'a.txt'],
		'Contact history export 2024-05\n',
	);
	// A central directory spread over several parts: 3000 entries with long names.
	const wide = join(tmp.path, 'wide');
	mkdirSync(wide);
	for (let i = 0; i < 3000; i++)
		writeFileSync(
			join(wide, `interaction-attachment-with-a-rather-long-file-name-${i}.json`),
			`{"n":${i}}\n`,
		);
	zip(wide, ['-s', '64k', join(sets, 'wide.zip'), '.', '-r']);
});
afterAll(() => tmp.remove());

function parts(set: string, chunk?: number): ZipPart[] {
	return fileParts(sets, splitPartNames(sets, set), chunk);
}

/** Reassembles to a file; checks it with `unzip -t` and reads every entry back. */
async function reassembled(input: ZipPart[]) {
	const path = join(tmp.path, `out-${++outCount}.zip`);
	const out = collector();
	const summary = await reassemble(input, out.stream);
	writeFileSync(path, out.data());
	return {
		path,
		summary,
		data: out.data(),
		unzip: unzipTest(path),
		entries: await readEntries(path),
		violations: out.violations,
	};
}

function expectOriginals(entries: Map<string, Buffer>, names: string[]) {
	expect([...entries.keys()].sort()).toEqual([...names].sort());
	for (const name of names) expect(entries.get(name)!.equals(originals[name]), name).toBe(true);
}

describe('reassemble: split sets made by zip -s', () => {
	it('merges a set of 2 parts into a zip that unzip -t accepts, entries byte-identical', async () => {
		expect(splitPartNames(sets, 'two')).toEqual(['two.z01', 'two.zip']);
		const r = await reassembled(parts('two'));
		expect(r.unzip.ok, r.unzip.output).toBe(true);
		expect(r.summary).toEqual({
			entries: 2,
			bytes: r.data.length,
			parts: 2,
			zip64: false,
			rewritten: true,
			verifiedEntries: 2,
			checkedEntries: 2,
		});
		expect(r.data.readUInt32LE(0)).toBe(0x04034b50); // the spanning marker is gone
		expectOriginals(r.entries, ['a.txt', 'c.txt']);
	});

	it('merges 20+ parts with entries spanning many parts (deflate), as Info-ZIP unzip extracts them', async () => {
		const names = splitPartNames(sets, 'many');
		expect(names.length).toBeGreaterThanOrEqual(20);
		const r = await reassembled(parts('many'));
		expect(r.unzip.ok, r.unzip.output).toBe(true);
		expect(r.summary).toMatchObject({
			entries: 4,
			parts: names.length,
			verifiedEntries: 4,
			checkedEntries: 4,
		});
		expectOriginals(r.entries, ['a.txt', 'b.txt', 'c.txt', 'sub/d.json']);
		const dir = join(tmp.path, 'unzipped-many');
		unzipExtract(r.path, dir);
		for (const name of Object.keys(originals))
			expect(readFileSync(join(dir, name)).equals(originals[name])).toBe(true);
	});

	it('merges 20+ parts of stored (zip -0) entries', async () => {
		expect(splitPartNames(sets, 'stored').length).toBeGreaterThanOrEqual(20);
		const r = await reassembled(parts('stored'));
		expect(r.unzip.ok, r.unzip.output).toBe(true);
		expectOriginals(r.entries, ['a.txt', 'b.txt', 'c.txt', 'sub/d.json']);
	});

	it('puts shuffled parts back in order (orderParts) and gives the same bytes', async () => {
		const names = splitPartNames(sets, 'many');
		const shuffled = [...names].sort(() => Math.random() - 0.5);
		const { parts: ordered } = orderParts(fileParts(sets, shuffled));
		expect(ordered.map((p) => p.name)).toEqual(names);
		const a = await reassembleToBuffer(ordered);
		const b = await reassembleToBuffer(parts('many'));
		expect(a.data.equals(b.data)).toBe(true);
	});

	it('gives the same bytes whatever the chunk sizes (7 bytes, 1 MiB, Uint8Array chunks)', async () => {
		const reference = await reassembleToBuffer(parts('two'));
		const data = readParts(sets, splitPartNames(sets, 'two'));
		expect((await reassembleToBuffer(bufferParts(data, 7))).data.equals(reference.data)).toBe(true);
		expect((await reassembleToBuffer(bufferParts(data, 1 << 20))).data.equals(reference.data)).toBe(
			true,
		);
		const uint8: ZipPart[] = data.map(({ name, data: bytes }) => ({
			name,
			open: async function* () {
				for (let i = 0; i < bytes.length; i += 4096)
					yield new Uint8Array(bytes.subarray(i, i + 4096));
			},
		}));
		expect((await reassembleToBuffer(uint8)).data.equals(reference.data)).toBe(true);
	});

	it('merges Zip64 sets (zip -fz): Zip64 extra fields read and kept, Zip64 end records rewritten', async () => {
		const r = await reassembled(parts('zip64'));
		expect(r.unzip.ok, r.unzip.output).toBe(true);
		expect(r.summary.zip64).toBe(true);
		expect(r.data.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
		expectOriginals(r.entries, ['a.txt', 'b.txt', 'c.txt', 'sub/d.json']);
	});

	it('merges a set zipped from stdin (Zip64 local headers and end records)', async () => {
		const r = await reassembled(parts('stdin'));
		expect(r.unzip.ok, r.unzip.output).toBe(true);
		expect(r.summary.zip64).toBe(true);
		expect(r.entries.get('-')!.equals(originals['a.txt'])).toBe(true);
	});

	it('merges a set whose central directory spans several parts', async () => {
		const r = await reassembled(parts('wide'));
		expect(r.unzip.ok, r.unzip.output).toBe(true);
		expect(r.summary.entries).toBe(3000);
		expect(r.summary.verifiedEntries).toBe(3000);
		expect(r.summary.checkedEntries).toBe(3000);
		expect(
			r.entries.get('interaction-attachment-with-a-rather-long-file-name-2999.json')!.toString(),
		).toBe('{"n":2999}\n');
	});

	it('keeps the archive comment', async () => {
		const r = await reassembled(parts('commented'));
		expect(r.unzip.ok, r.unzip.output).toBe(true);
		const comment = 'Contact history export 2024-05';
		expect(r.data.subarray(-comment.length - 2).toString()).toContain(comment);
		expect(r.data.readUInt16LE(r.data.length - comment.length - 3)).toBeGreaterThanOrEqual(
			comment.length,
		);
	});

	it('rewrites a one-part split zip (spanning marker, offsets counting it)', async () => {
		expect(splitPartNames(sets, 'single')).toEqual(['single.zip']);
		const r = await reassembled(parts('single'));
		expect(readFileSync(join(sets, 'single.zip')).readUInt32LE(0)).toBe(0x08074b50);
		expect(r.summary.rewritten).toBe(true);
		expect(r.data.readUInt32LE(0)).toBe(0x04034b50);
		expect(r.unzip.ok, r.unzip.output).toBe(true);
		expectOriginals(r.entries, ['c.txt']);
	});

	it('passes an ordinary zip through byte for byte', async () => {
		const input = readFileSync(join(sets, 'plain.zip'));
		const r = await reassembled(fileParts(sets, ['plain.zip']));
		expect(r.data.equals(input)).toBe(true);
		expect(r.summary).toEqual({
			entries: 4,
			bytes: input.length,
			parts: 1,
			zip64: false,
			rewritten: false,
			verifiedEntries: 4,
			checkedEntries: 4,
		});
	});

	it('accepts a split set whose first part has no spanning marker', async () => {
		const data = readParts(sets, splitPartNames(sets, 'many'));
		data[0] = { name: data[0].name, data: data[0].data.subarray(4) };
		// Offsets on the first disk now count from its first byte: patch them in the final part.
		const last = Buffer.from(data[data.length - 1].data);
		for (const entry of listCentralDirectory(last))
			if (entry.disk === 0) last.writeUInt32LE(entry.localAt - 4, entry.centralAt + 42);
		data[data.length - 1] = { name: data[data.length - 1].name, data: last };
		const expected = await reassembleToBuffer(parts('many'));
		const { data: merged } = await reassembleToBuffer(bufferParts(data));
		expect(merged.equals(expected.data)).toBe(true);
	});

	it('merges 70 000 entries: Zip64 end records because of the entry count', async () => {
		const dir = join(tmp.path, 'seventy');
		mkdirSync(dir);
		const list: string[] = [];
		for (let i = 0; i < 70_000; i++) {
			writeFileSync(join(dir, `f${i}`), `${i}\n`);
			list.push(`f${i}`);
		}
		zip(dir, ['-s', '1m', join(sets, 'seventy.zip'), '-@'], list.join('\n'));
		const path = join(tmp.path, 'seventy-out.zip');
		const { data, summary } = await reassembleToBuffer(parts('seventy'));
		writeFileSync(path, data);
		expect(summary).toMatchObject({
			entries: 70_000,
			zip64: true,
			verifiedEntries: 70_000,
			checkedEntries: 70_000,
		});
		const check = unzipTest(path);
		expect(check.ok, check.output).toBe(true);
	});
});

describe('reassemble: streaming', () => {
	it('opens parts one at a time, in order, each after the previous one is read to its end', async () => {
		const events: string[] = [];
		const input = readParts(sets, splitPartNames(sets, 'many')).map(({ name, data }) => ({
			name,
			open: async function* () {
				events.push(`open ${name}`);
				for (let i = 0; i < data.length; i += 10_000) yield data.subarray(i, i + 10_000);
				events.push(`end ${name}`);
			},
		}));
		await reassembleToBuffer(input);
		expect(events).toEqual(input.flatMap((p) => [`open ${p.name}`, `end ${p.name}`]));
	});

	it('waits for drain: never writes while the output asks it to wait', async () => {
		const out = collector({ highWaterMark: 1024, slow: true });
		await reassemble(parts('many', 16 * 1024), out.stream);
		expect(out.violations).toBe(0);
		expect(out.data().equals((await reassembleToBuffer(parts('many'))).data)).toBe(true);
	});

	it('holds back only the tail window (maxCentralDirectoryBytes) before the end', async () => {
		let written = 0;
		let writtenWhenLastOpened = -1;
		const input = parts('many');
		const last = input[input.length - 1];
		input[input.length - 1] = {
			name: last.name,
			open: () => {
				writtenWhenLastOpened = written;
				return last.open();
			},
		};
		const out = new Writable({
			write(chunk: Buffer, _e, cb) {
				written += chunk.length;
				cb();
			},
		});
		await reassemble(input, out, { maxCentralDirectoryBytes: 100_000 });
		const before =
			input.slice(0, -1).reduce((n, p) => n + statSync(join(sets, p.name)).size, 0) - 4;
		expect(writtenWhenLastOpened).toBeGreaterThanOrEqual(before - (100_000 + 65_557 + 98));
	});

	it('stops with IO when the output fails, without reading further parts', async () => {
		let opened = 0;
		const input = parts('many').map((p) => ({ name: p.name, open: () => (opened++, p.open()) }));
		let writes = 0;
		const out = new Writable({
			write(_chunk, _e, cb) {
				cb(++writes === 3 ? new Error('ENOSPC: no space left on device') : null);
			},
		});
		const error = await cxError(() => reassemble(input, out, { maxCentralDirectoryBytes: 0 }));
		expect(error.code).toBe('IO');
		expect(error.message).toContain('ENOSPC');
		expect(opened).toBeLessThan(input.length);
	});

	it('passes on a part stream’s own CxError (e.g. decryption) unchanged', async () => {
		const input = parts('two');
		input[1] = {
			name: input[1].name,
			open: async function* () {
				yield Buffer.from('PK');
				throw new CxError('CMS_INTEGRITY', 'two.zip.smime: padding check failed');
			},
		};
		const error = await cxError(() => reassembleToBuffer(input));
		expect(error.code).toBe('CMS_INTEGRITY');
	});

	it('refuses a central directory bigger than maxCentralDirectoryBytes, saying how much is needed', async () => {
		const error = await cxError(() =>
			reassembleToBuffer(parts('wide'), { maxCentralDirectoryBytes: 50_000 }),
		);
		expect(error.code).toBe('ZIP_LIMIT');
		const needed = Number(/at least (\d+)/.exec(error.message)?.[1]);
		expect(needed).toBeGreaterThan(50_000);
		const { summary } = await reassembleToBuffer(parts('wide'), {
			maxCentralDirectoryBytes: needed,
		});
		expect(summary.entries).toBe(3000);
	});

	it('reassembleToFile reads an export whose central directory outgrows the window a second time, counting each byte once', async () => {
		const names = splitPartNames(sets, 'wide');
		const sources = await Promise.all(names.map((name) => fileSource(join(sets, name))));
		const total = names.reduce((sum, name) => sum + statSync(join(sets, name)).size, 0);
		const out = join(tmp.path, `second-pass-${outCount++}.zip`);
		let reported = 0;
		const summary = await reassembleToFile(sources, out, {
			maxCentralDirectoryBytes: 50_000,
			onRead: (bytes) => (reported += bytes),
		});
		expect(summary.entries).toBe(3000);
		expect(reported).toBe(total);
		const direct = await reassembleToBuffer(parts('wide'), {
			maxCentralDirectoryBytes: 10_000_000,
		});
		expect(readFileSync(out).equals(direct.data)).toBe(true);
		expect(unzipTest(out).ok).toBe(true);
	});
});

describe('reassemble: damaged or wrong sets', () => {
	function damaged(
		set: string,
		change: (parts: Array<{ name: string; data: Buffer }>) => Array<{ name: string; data: Buffer }>,
	) {
		return cxError(() =>
			reassembleToBuffer(bufferParts(change(readParts(sets, splitPartNames(sets, set))))),
		);
	}

	it('a missing part (not caught by names): PART_MISSING from the disk count', async () => {
		const error = await damaged('many', (p) => p.filter((x) => x.name !== 'many.z03'));
		expect(error.code).toBe('PART_MISSING');
		expect(error.message).toMatch(
			/many\.zip is the last part of a split export of \d+ parts, but only \d+ parts were given: many\.z03 is missing/,
		);
	});

	it('a Zip64 locator whose offset is 2^64 − 1: ZIP_FORMAT, not an internal error', async () => {
		const error = await damaged('plain', ([part]) => {
			const data = part.data;
			const eocd = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
			// A locator (signature, disk, offset, total disks) right before the end record.
			const locator = Buffer.alloc(20);
			locator.writeUInt32LE(0x07064b50, 0);
			locator.writeUInt32LE(0, 4);
			locator.writeBigUInt64LE(0xffffffffffffffffn, 8);
			locator.writeUInt32LE(1, 16);
			return [
				{
					name: part.name,
					data: Buffer.concat([data.subarray(0, eocd), locator, data.subarray(eocd)]),
				},
			];
		});
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).not.toMatch(/\n/);
	});

	it('a part named with a line break is quoted on one line', async () => {
		const error = await damaged('many', (p) => [
			...p.slice(0, -1),
			{ name: 'many\nfinal.zip', data: p[p.length - 1].data.subarray(0, 100) },
		]);
		expect(error.message).not.toMatch(/[\n\r]/);
		expect(error.message).toContain('many\\nfinal.zip');
	});

	it('the final part alone: PART_MISSING', async () => {
		const error = await damaged('many', (p) => p.slice(-1));
		expect(error.code).toBe('PART_MISSING');
		expect(error.message).toContain('but only it was given');
	});

	it('an extra part: PART_FOREIGN', async () => {
		const error = await damaged('many', (p) => [
			...p.slice(0, 5),
			{ name: 'many.z05 (again)', data: p[4].data },
			...p.slice(5),
		]);
		expect(error.code).toBe('PART_FOREIGN');
		expect(error.message).toContain('some parts belong to another export');
	});

	it('a part of another export under the right name: ZIP_FORMAT naming the part', async () => {
		// Another export with other sizes: headers sit elsewhere.
		const other = join(tmp.path, 'other');
		mkdirSync(other);
		writeFiles(other, {
			'a.txt': randomText(1_400_000),
			'b.txt': randomText(500_000),
			'c.txt': 'bye\n',
		});
		zip(other, ['-s', '64k', join(other, 'many.zip'), 'a.txt', 'b.txt', 'c.txt']);
		const foreign = readParts(other, splitPartNames(other, 'many'));
		// The part where b.txt's header is in the genuine set.
		const cd = listCentralDirectory(readFileSync(join(sets, 'many.zip')));
		const disk = cd.find((e) => e.name === 'b.txt')!.disk;
		const error = await damaged('many', (p) => p.map((x, i) => (i === disk ? foreign[disk] : x)));
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain(`many.z${String(disk + 1).padStart(2, '0')}`);
	});

	it('a truncated middle part: ZIP_FORMAT naming it', async () => {
		const error = await damaged('many', (p) =>
			p.map((x) =>
				x.name === 'many.z05' ? { ...x, data: x.data.subarray(0, x.data.length - 1000) } : x,
			),
		);
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain('1000 bytes are missing');
		expect(error.message).toContain(
			'many.z05 is 64536 bytes where the other full parts are 65536 bytes: it is probably truncated',
		);
		expect(error.where).toBe('many.z05');
	});

	it('a truncated first part: ZIP_FORMAT naming it', async () => {
		const error = await damaged('many', (p) => [
			{ ...p[0], data: p[0].data.subarray(0, 30_000) },
			...p.slice(1),
		]);
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain('many.z01');
	});

	it('a truncated final part: ZIP_FORMAT naming it', async () => {
		const error = await damaged('many', (p) => [
			...p.slice(0, -1),
			{ ...p[p.length - 1], data: p[p.length - 1].data.subarray(0, -10) },
		]);
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain(
			'many.zip does not end with an end-of-central-directory record',
		);
	});

	it('a garbage final part: ZIP_FORMAT naming it', async () => {
		const error = await damaged('many', (p) => [
			...p.slice(0, -1),
			{ ...p[p.length - 1], data: randomBytes(50_000) },
		]);
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.where).toBe('many.zip');
	});

	it('a garbage middle part of another size: ZIP_FORMAT naming it', async () => {
		const error = await damaged('many', (p) =>
			p.map((x) => (x.name === 'many.z07' ? { ...x, data: randomBytes(70_000) } : x)),
		);
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain('many.z07 is 70000 bytes');
	});

	it('a garbage first part: ZIP_FORMAT naming it', async () => {
		const error = await damaged('many', (p) => [
			{ ...p[0], data: randomBytes(p[0].data.length) },
			...p.slice(1),
		]);
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain('many.z01');
	});

	it('an empty part: ZIP_FORMAT', async () => {
		const error = await damaged('many', (p) =>
			p.map((x) => (x.name === 'many.z02' ? { ...x, data: Buffer.alloc(0) } : x)),
		);
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toBe('many.z02 is empty (0 bytes): download or decrypt it again');
	});

	it('a file that is not a zip: ZIP_FORMAT', async () => {
		const error = await cxError(() =>
			reassembleToBuffer(
				bufferParts([{ name: 'records.json', data: Buffer.from('{"a":1}\n'.repeat(100)) }]),
			),
		);
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain(
			'records.json does not end with an end-of-central-directory record',
		);
	});

	it('parts in the wrong order around an entry header: ZIP_FORMAT naming a part', async () => {
		const disk = listCentralDirectory(readFileSync(join(sets, 'many.zip'))).find(
			(e) => e.name === 'b.txt',
		)!.disk;
		const error = await damaged('many', (p) =>
			p.map((x, i) => (i === disk ? p[disk - 1] : i === disk - 1 ? p[disk] : x)),
		);
		expect(error.code).toBe('ZIP_FORMAT');
		const pad = (n: number) => String(n).padStart(2, '0');
		expect(error.message).toContain(`many.z${pad(disk)} (given as part ${disk + 1})`);
	});

	it('a part swapped with another of the same size inside one entry’s data, names kept: refused, naming the entry and the parts it spans', async () => {
		const data = readParts(sets, splitPartNames(sets, 'many'));
		expect(data[2].data.length).toBe(data[3].data.length);
		// The contents of many.z03 and many.z04 under each other's names: no name, size or header is out of place.
		[data[2].data, data[3].data] = [data[3].data, data[2].data];
		const error = await cxError(() => reassembleToBuffer(bufferParts(data)));
		expect(['ZIP_CRC', 'ZIP_FORMAT']).toContain(error.code);
		const cd = listCentralDirectory(data[data.length - 1].data);
		const a = cd.find((e) => e.name === 'a.txt')!;
		const lastPart = `many.z${String(cd.find((e) => e.name === 'b.txt')!.disk + 1).padStart(2, '0')}`;
		expect(error.message).toMatch(
			new RegExp(
				`^entry "a\\.txt" \\(parts many\\.z0${a.disk + 1}–${lastPart.replace('.', '\\.')}\\): `,
			),
		);
		expect(error.message).toContain('the parts may be out of order or swapped');
		expect(error.message).not.toContain('given as');
		expect(error.where).toBe('a.txt');
	});

	it('stored (zip -0) parts of the same size swapped: ZIP_CRC giving both CRC-32 values', async () => {
		const data = readParts(sets, splitPartNames(sets, 'stored'));
		expect(data[4].data.length).toBe(data[5].data.length);
		[data[4].data, data[5].data] = [data[5].data, data[4].data];
		const error = await cxError(() => reassembleToBuffer(bufferParts(data)));
		expect(error.code).toBe('ZIP_CRC');
		const last = data[data.length - 1].data;
		const expected = last.readUInt32LE(
			listCentralDirectory(last).find((e) => e.name === 'a.txt')!.centralAt + 16,
		);
		expect(error.message).toMatch(
			/^entry "a\.txt" \(parts stored\.z01–stored\.z\d\d\): the CRC-32 of its data is [0-9a-f]{8}, which does not match the ([0-9a-f]{8}) its local header gives; the parts may be out of order or swapped/,
		);
		expect(error.message).toContain(
			`the ${expected.toString(16).padStart(8, '0')} its local header gives`,
		);
	});

	it('with verify: false, swapped parts go through as before: only extraction notices (ZIP_CRC)', async () => {
		const data = readParts(sets, splitPartNames(sets, 'many'));
		[data[2].data, data[3].data] = [data[3].data, data[2].data];
		const { data: merged, summary } = await reassembleToBuffer(bufferParts(data), {
			verify: false,
		});
		expect(summary).toMatchObject({ entries: 4, verifiedEntries: 4, checkedEntries: 0 });
		const path = join(tmp.path, 'swapped.zip');
		writeFileSync(path, merged);
		expect(unzipTest(path).ok).toBe(false);
		const error = await cxError(() => readEntries(path));
		expect(['ZIP_CRC', 'ZIP_FORMAT']).toContain(error.code);
		expect(error.where).toBe('a.txt');
	});

	it('reassembleToFile: swapped parts leave nothing under the output name, nor any partial file', async () => {
		const dir = join(tmp.path, 'swapped-files');
		mkdirSync(dir);
		const names = splitPartNames(sets, 'many');
		for (const name of names) writeFileSync(join(dir, name), readFileSync(join(sets, name)));
		writeFileSync(join(dir, names[2]), readFileSync(join(sets, names[3])));
		writeFileSync(join(dir, names[3]), readFileSync(join(sets, names[2])));
		const sources = await Promise.all(names.map((name) => fileSource(join(dir, name))));
		const out = join(dir, 'out', 'merged.zip');
		mkdirSync(join(dir, 'out'));
		const error = await cxError(() => reassembleToFile(sources, out, {}));
		expect(error.message).toMatch(/^entry "a\.txt" \(parts many\.z01–many\.z\d\d\)/);
		expect(readdirSync(join(dir, 'out'))).toEqual([]);
		// Off, the same parts give a zip (that extraction will refuse).
		await reassembleToFile(sources, out, { verify: false });
		expect(unzipTest(out).ok).toBe(false);
	});

	it('a flipped byte inside one part names the entry, the parts it spans, and the part where inflating failed', async () => {
		const data = readParts(sets, splitPartNames(sets, 'many'));
		const damagedPart = Buffer.from(data[6].data);
		for (let i = 1000; i < 1100; i++) damagedPart[i] ^= 0x55;
		data[6] = { name: data[6].name, data: damagedPart };
		const error = await cxError(() => reassembleToBuffer(bufferParts(data)));
		expect(['ZIP_CRC', 'ZIP_FORMAT']).toContain(error.code);
		expect(error.message).toMatch(/^entry "a\.txt" \(parts many\.z01–many\.z\d\d\): /);
		// Inflating fails, or the deflate stream ends early, where the damage is (a CRC-32 or size mismatch is known only at the end).
		if (/is corrupt|deflate data ends/.test(error.message))
			expect(error.message).toContain(', in many.z07;');
	});
});

describe('reassemble: every entry’s data checked while streaming', () => {
	/** Sets made here with data descriptors (zip -sp: "pause between disks", answered with Enter). */
	beforeAll(() => {
		const enter = '\n'.repeat(200);
		const all = ['a.txt', 'b.txt', 'c.txt', 'sub/d.json'];
		zip(src, ['-sp', '-s', '64k', join(sets, 'dd.zip'), ...all], enter);
		zip(src, ['-sp', '-0', '-s', '64k', join(sets, 'dd-stored.zip'), ...all], enter);
		// Streamed to a pipe: one ordinary zip with data descriptors (deflated and stored).
		execFileSync(
			'bash',
			[
				'-c',
				`zip -q - ${all.join(' ')} | cat > ${join(sets, 'piped.zip')} && zip -q -0 - ${all.join(' ')} | cat > ${join(sets, 'piped-stored.zip')}`,
			],
			{ cwd: src },
		);
	});

	it('clean sets give the same bytes with and without verification, every entry checked', async () => {
		for (const set of [
			'two',
			'many',
			'stored',
			'zip64',
			'stdin',
			'commented',
			'single',
			'wide',
			'plain',
		]) {
			const checked = await reassembleToBuffer(parts(set));
			const unchecked = await reassembleToBuffer(parts(set), { verify: false });
			expect(checked.data.equals(unchecked.data), set).toBe(true);
			expect(checked.summary.checkedEntries, set).toBe(checked.summary.entries);
			expect(checked.summary.unchecked, set).toBeUndefined();
			expect(unchecked.summary.checkedEntries, set).toBe(0);
		}
	});

	it('checks sets whose entries have data descriptors (zip -sp): deflated and stored', async () => {
		for (const set of ['dd', 'dd-stored']) {
			const first = readFileSync(join(sets, `${set}.z01`));
			expect(first.readUInt16LE(4 + 6) & 0x08, set).toBe(0x08);
			const r = await reassembled(parts(set));
			expect(r.unzip.ok, r.unzip.output).toBe(true);
			expect(r.summary, set).toMatchObject({ entries: 4, checkedEntries: 4 });
			expectOriginals(r.entries, ['a.txt', 'b.txt', 'c.txt', 'sub/d.json']);
			// Chunks of 7 bytes: headers, data and descriptors cut everywhere.
			const small = await reassembleToBuffer(
				bufferParts(readParts(sets, splitPartNames(sets, set)), 7),
			);
			expect(small.data.equals(r.data), set).toBe(true);
			expect(small.summary.checkedEntries, set).toBe(4);
		}
	});

	it('checks an ordinary zip streamed with data descriptors (zip - | cat), deflated and stored', async () => {
		for (const name of ['piped.zip', 'piped-stored.zip']) {
			const input = readFileSync(join(sets, name));
			const r = await reassembled(fileParts(sets, [name], 1000));
			expect(r.data.equals(input)).toBe(true);
			expect(r.summary, name).toMatchObject({ entries: 4, rewritten: false, checkedEntries: 4 });
		}
	});

	it('refuses swapped parts of the same size in sets with data descriptors', async () => {
		for (const set of ['dd', 'dd-stored']) {
			const data = readParts(sets, splitPartNames(sets, set));
			expect(data[2].data.length).toBe(data[3].data.length);
			[data[2].data, data[3].data] = [data[3].data, data[2].data];
			const error = await cxError(() => reassembleToBuffer(bufferParts(data)));
			expect(['ZIP_CRC', 'ZIP_FORMAT'], set).toContain(error.code);
			expect(error.message, set).toMatch(new RegExp(`^entry "a\\.txt" \\(parts ${set}\\.z01–`));
		}
	});

	it('refuses a central directory whose CRC-32 disagrees with the data and its data descriptor', async () => {
		const data = readParts(sets, splitPartNames(sets, 'dd'));
		const last = Buffer.from(data[data.length - 1].data);
		const b = listCentralDirectory(last).find((e) => e.name === 'b.txt')!;
		last.writeUInt32LE((last.readUInt32LE(b.centralAt + 16) ^ 1) >>> 0, b.centralAt + 16);
		data[data.length - 1] = { name: data[data.length - 1].name, data: last };
		const error = await cxError(() => reassembleToBuffer(bufferParts(data)));
		expect(error.code).toBe('ZIP_CRC');
		expect(error.message).toMatch(
			/^entry "b\.txt" \(.+\): the CRC-32 of its data is [0-9a-f]{8}, which does not match the [0-9a-f]{8} the central directory gives/,
		);
	});

	it('says which entries it could not check: encrypted by the zip itself (zip -P), or compressed with bzip2', async () => {
		zip(src, ['-P', 'secret', '-s', '64k', join(sets, 'zipcrypto.zip'), 'a.txt', 'c.txt']);
		zip(src, ['-Z', 'bzip2', join(sets, 'bzip2.zip'), 'b.txt', 'c.txt']);
		const encrypted = await reassembleToBuffer(parts('zipcrypto'));
		// Info-ZIP writes encrypted entries with data descriptors: where their data ends is unknown while streaming.
		expect(encrypted.summary).toMatchObject({
			entries: 2,
			checkedEntries: 0,
			unchecked:
				'checking stopped: entry "a.txt" is encrypted and its size is not in its local header',
		});
		const bzip2 = await reassembleToBuffer(fileParts(sets, ['bzip2.zip']));
		expect(bzip2.summary).toMatchObject({ entries: 2, checkedEntries: 1 });
		expect(bzip2.summary.unchecked).toContain(
			'1 entry is encrypted by the zip or compressed with a method other than deflate',
		);
	});

	it('checks data descriptors with 8-byte (Zip64) sizes, with and without their signature', async () => {
		for (const signed of [true, false]) {
			const content = randomText(300_000);
			const zip64 = zip64DescriptorZip('big.txt', content, signed);
			const path = join(tmp.path, `zip64-dd-${signed}.zip`);
			writeFileSync(path, zip64);
			expect(unzipTest(path).ok, unzipTest(path).output).toBe(true);
			const { data, summary } = await reassembleToBuffer(
				bufferParts([{ name: 'dd64.zip', data: zip64 }], 1000),
			);
			expect(data.equals(zip64)).toBe(true);
			expect(summary).toMatchObject({ entries: 1, checkedEntries: 1 });
			// The same with one byte of the data changed: its CRC-32 no longer matches the descriptor's.
			const damaged = Buffer.from(zip64);
			damaged[200] ^= 0x01;
			const error = await cxError(() =>
				reassembleToBuffer(bufferParts([{ name: 'dd64.zip', data: damaged }], 1000)),
			);
			expect(error.message).toMatch(/^entry "big\.txt" \(in dd64\.zip\): /);
		}
	});

	it('refuses a local header whose size says “in the Zip64 extra field” without one (found by fuzzing)', async () => {
		const input = readFileSync(join(sets, 'plain.zip'));
		const patched = Buffer.from(input);
		const local = listCentralDirectory(patched).find((e) => e.name === 'c.txt')!.localAt;
		patched.writeUInt32LE(0xffffffff, local + 18);
		const error = await cxError(() =>
			reassembleToBuffer(bufferParts([{ name: 'plain.zip', data: patched }])),
		);
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toBe(
			'entry "c.txt" (in plain.zip): its local header says its sizes are in a Zip64 extra field (0xFFFFFFFF), but it has none; the zip is damaged; download or decrypt it again',
		);
		// Off, it goes through as before.
		expect(
			(
				await reassembleToBuffer(bufferParts([{ name: 'plain.zip', data: patched }]), {
					verify: false,
				})
			).data.equals(patched),
		).toBe(true);
	});

	it('refuses an entry that inflates to more than its local header says (small and large entries)', async () => {
		const input = readFileSync(join(sets, 'plain.zip'));
		for (const name of ['sub/d.json', 'a.txt']) {
			const patched = Buffer.from(input);
			const local = listCentralDirectory(patched).find((e) => e.name === name)!.localAt;
			patched.writeUInt32LE(patched.readUInt32LE(local + 22) - 1, local + 22);
			const error = await cxError(() =>
				reassembleToBuffer(bufferParts([{ name: 'plain.zip', data: patched }])),
			);
			expect(error.code, name).toBe('ZIP_FORMAT');
			expect(error.message, name).toMatch(
				new RegExp(
					`^entry "${name.replace('.', '\\.')}" \\(in plain\\.zip\\): its data inflates to more than the \\d+ bytes its local header gives; the zip is damaged`,
				),
			);
		}
	});
});

/**
 * One deflated entry written as a streaming Zip64 writer does (Python's zipfile with force_zip64 to
 * a pipe): a local Zip64 extra field with zero sizes, flag bit 3, and a data descriptor with
 * 8-byte sizes (signed or not). Info-ZIP writes such descriptors only for entries over 4 GiB.
 */
function zip64DescriptorZip(name: string, content: Buffer, signed: boolean): Buffer {
	const nameBytes = Buffer.from(name);
	const data = deflateRawSync(content);
	const crc = crc32(content);
	const local = Buffer.alloc(30 + nameBytes.length + 20);
	local.writeUInt32LE(0x04034b50, 0);
	local.writeUInt16LE(45, 4);
	local.writeUInt16LE(0x08, 6);
	local.writeUInt16LE(8, 8);
	local.writeUInt32LE(0xffffffff, 18);
	local.writeUInt32LE(0xffffffff, 22);
	local.writeUInt16LE(nameBytes.length, 26);
	local.writeUInt16LE(20, 28);
	nameBytes.copy(local, 30);
	local.writeUInt16LE(0x0001, 30 + nameBytes.length);
	local.writeUInt16LE(16, 32 + nameBytes.length); // both sizes, 0 until the descriptor
	const descriptor = Buffer.alloc(signed ? 24 : 20);
	let p = 0;
	if (signed) p = descriptor.writeUInt32LE(0x08074b50, 0);
	descriptor.writeUInt32LE(crc, p);
	descriptor.writeBigUInt64LE(BigInt(data.length), p + 4);
	descriptor.writeBigUInt64LE(BigInt(content.length), p + 12);
	const central = Buffer.alloc(46 + nameBytes.length);
	central.writeUInt32LE(0x02014b50, 0);
	central.writeUInt16LE(45, 4);
	central.writeUInt16LE(45, 6);
	central.writeUInt16LE(0x08, 8);
	central.writeUInt16LE(8, 10);
	central.writeUInt32LE(crc, 16);
	central.writeUInt32LE(data.length, 20);
	central.writeUInt32LE(content.length, 24);
	central.writeUInt16LE(nameBytes.length, 28);
	nameBytes.copy(central, 46);
	const eocd = Buffer.alloc(22);
	eocd.writeUInt32LE(0x06054b50, 0);
	eocd.writeUInt16LE(1, 8);
	eocd.writeUInt16LE(1, 10);
	eocd.writeUInt32LE(central.length, 12);
	eocd.writeUInt32LE(local.length + data.length + descriptor.length, 16);
	return Buffer.concat([local, data, descriptor, central, eocd]);
}
