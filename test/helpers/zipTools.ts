/**
 * Fixtures made by the real Info-ZIP tools (`zip`, `zip -s`, `unzip`) inside the test run, and a
 * few byte-level helpers to damage them on purpose. The zip reading here (`listCentralDirectory`)
 * is deliberately independent of src/zip, so fixtures are not located with the code under test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants as zlibConstants, crc32, deflateRawSync } from 'node:zlib';
import { Writable } from 'node:stream';
import { CxError } from '../../src/errors';
import {
	reassemble,
	zipEntries,
	type ExtractLimits,
	type ReassembleOptions,
	type ReassembleSummary,
	type ZipPart,
} from '../../src/zip';
import { tempDir } from './fixtures.mjs';

export { splitPartNames } from './fixtures.mjs';

/** A new empty directory (fixtures.mjs' tempDir, named for the zip tests). */
export function makeTempDir(prefix = 'cx-zip-test-'): { path: string; remove(): void } {
	return tempDir(prefix);
}

/** Runs Info-ZIP `zip` with `args` in `cwd` (quiet); stdin optional. */
export function zip(cwd: string, args: string[], input?: Buffer | string): void {
	execFileSync('zip', ['-q', ...args], {
		cwd,
		input,
		maxBuffer: 1 << 30,
		stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
	});
}

/** `unzip -t`: true when Info-ZIP's unzip accepts the archive and every CRC. */
export function unzipTest(path: string): { ok: boolean; output: string } {
	const result = spawnSync('unzip', ['-tq', path], { encoding: 'utf8' });
	return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** Lines of random base64: text that deflate can barely shrink (~75%), so parts fill up. */
export function randomText(bytes: number): Buffer {
	return Buffer.from(
		randomBytes(Math.ceil((bytes * 3) / 4))
			.toString('base64')
			.replace(/(.{76})/g, '$1\n'),
	).subarray(0, bytes);
}

/** Writes `files` (name → content) under `dir`, creating subdirectories. */
export function writeFiles(dir: string, files: Record<string, Buffer | string>): void {
	for (const [name, content] of Object.entries(files)) {
		const path = join(dir, name);
		execFileSync('mkdir', ['-p', join(path, '..')]);
		writeFileSync(path, content);
	}
}

/** Parts read from files, in chunks of `chunk` bytes (any size, to exercise chunk boundaries). */
export function fileParts(dir: string, names: string[], chunk = 64 * 1024): ZipPart[] {
	return names.map((name) => ({
		name,
		open: () => createReadStream(join(dir, name), { highWaterMark: chunk }),
	}));
}

/** Parts held in memory, yielded in chunks of `chunk` bytes. */
export function bufferParts(
	parts: Array<{ name: string; data: Buffer }>,
	chunk = 64 * 1024,
): ZipPart[] {
	return parts.map(({ name, data }) => ({
		name,
		open: async function* () {
			for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
		},
	}));
}

export function readParts(dir: string, names: string[]): Array<{ name: string; data: Buffer }> {
	return names.map((name) => ({ name, data: readFileSync(join(dir, name)) }));
}

export interface ListedEntry {
	name: string;
	/** Offset of the central directory header in the archive. */
	centralAt: number;
	/** Offset of the local header (single-disk archives). */
	localAt: number;
	compressedSize: number;
	uncompressedSize: number;
	method: number;
	nameLength: number;
	/** Disk number start (0-based). */
	disk: number;
}

/**
 * The central directory of an ordinary (non-Zip64) zip, read independently of src/zip. Also reads
 * the final part of a split set whose central directory is all in that part (offsets are then
 * relative to each entry's disk).
 */
export function listCentralDirectory(zipData: Buffer): ListedEntry[] {
	let eocd = -1;
	for (let i = zipData.length - 22; i >= 0; i--) {
		if (zipData.readUInt32LE(i) === 0x06054b50) {
			eocd = i;
			break;
		}
	}
	if (eocd < 0) throw new Error('test helper: no EOCD');
	const count = zipData.readUInt16LE(eocd + 10);
	let at = zipData.readUInt32LE(eocd + 16);
	if (zipData.readUInt16LE(eocd + 4) !== zipData.readUInt16LE(eocd + 6))
		throw new Error('test helper: central directory not in this part');
	const entries: ListedEntry[] = [];
	for (let i = 0; i < count; i++) {
		if (zipData.readUInt32LE(at) !== 0x02014b50) throw new Error('test helper: bad central header');
		const nameLength = zipData.readUInt16LE(at + 28);
		const extraLength = zipData.readUInt16LE(at + 30);
		const commentLength = zipData.readUInt16LE(at + 32);
		entries.push({
			name: zipData.toString('utf8', at + 46, at + 46 + nameLength),
			centralAt: at,
			localAt: zipData.readUInt32LE(at + 42),
			compressedSize: zipData.readUInt32LE(at + 20),
			uncompressedSize: zipData.readUInt32LE(at + 24),
			method: zipData.readUInt16LE(at + 10),
			nameLength,
			disk: zipData.readUInt16LE(at + 34),
		});
		at += 46 + nameLength + extraLength + commentLength;
	}
	return entries;
}

/** Renames an entry in place (same length) in both its local and central headers. */
export function renameEntry(zipData: Buffer, from: string, to: string): Buffer {
	if (Buffer.byteLength(from) !== Buffer.byteLength(to))
		throw new Error('test helper: names must have the same length');
	const out = Buffer.from(zipData);
	const entry = listCentralDirectory(out).find((e) => e.name === from);
	if (!entry) throw new Error(`test helper: no entry ${from}`);
	out.write(to, entry.centralAt + 46);
	out.write(to, entry.localAt + 30);
	return out;
}

/** Sets the declared uncompressed size of an entry in both headers (a lying header). */
export function patchUncompressedSize(zipData: Buffer, name: string, size: number): Buffer {
	const out = Buffer.from(zipData);
	const entry = listCentralDirectory(out).find((e) => e.name === name);
	if (!entry) throw new Error(`test helper: no entry ${name}`);
	out.writeUInt32LE(size, entry.centralAt + 24);
	out.writeUInt32LE(size, entry.localAt + 22);
	return out;
}

/** Offset of an entry's data in a single-disk zip (after its local header). */
export function dataOffset(zipData: Buffer, name: string): number {
	const entry = listCentralDirectory(zipData).find((e) => e.name === name);
	if (!entry) throw new Error(`test helper: no entry ${name}`);
	return (
		entry.localAt +
		30 +
		zipData.readUInt16LE(entry.localAt + 26) +
		zipData.readUInt16LE(entry.localAt + 28)
	);
}

/**
 * A real deflate zip bomb without spending 20 s in `zip`: `blocks` MiB of zeros, deflated once per
 * MiB with a full flush (byte-aligned, no back references across blocks) and the compressed block
 * repeated — a valid deflate stream that inflates to `blocks` MiB. Zip64 when the size needs it,
 * exactly as Info-ZIP writes a stdin entry (`head -c 4G /dev/zero | zip bomb.zip -`).
 */
export function zerosBomb(blocks: number, name = 'zeros.bin'): Buffer {
	const mib = Buffer.alloc(1024 * 1024);
	const block = deflateRawSync(mib, { finishFlush: zlibConstants.Z_FULL_FLUSH });
	const last = deflateRawSync(Buffer.alloc(0));
	let crc = 0;
	for (let i = 0; i < blocks; i++) crc = crc32(mib, crc);
	const size = blocks * mib.length;
	const compressed = block.length * blocks + last.length;
	const zip64 = size >= 0xffffffff;
	const nameBytes = Buffer.from(name);
	const extra = Buffer.alloc(zip64 ? 20 : 0);
	if (zip64) {
		extra.writeUInt16LE(1, 0);
		extra.writeUInt16LE(16, 2);
		extra.writeBigUInt64LE(BigInt(size), 4);
		extra.writeBigUInt64LE(BigInt(compressed), 12);
	}
	const header = (central: boolean) => {
		const h = Buffer.alloc(central ? 46 : 30);
		let p = 0;
		h.writeUInt32LE(central ? 0x02014b50 : 0x04034b50, p);
		p += 4;
		if (central) {
			h.writeUInt16LE(0x031e, p);
			p += 2;
		}
		h.writeUInt16LE(zip64 ? 45 : 20, p); // version needed
		h.writeUInt16LE(0, p + 2); // flags
		h.writeUInt16LE(8, p + 4); // deflate
		h.writeUInt16LE(0, p + 6);
		h.writeUInt16LE(0x21, p + 8);
		h.writeUInt32LE(crc >>> 0, p + 10);
		h.writeUInt32LE(zip64 ? 0xffffffff : compressed, p + 14);
		h.writeUInt32LE(zip64 ? 0xffffffff : size, p + 18);
		h.writeUInt16LE(nameBytes.length, p + 22);
		h.writeUInt16LE(extra.length, p + 24);
		if (central) h.writeUInt32LE(0o100644 * 0x10000, 38); // external attributes: regular file
		return h;
	};
	const local = Buffer.concat([header(false), nameBytes, extra]);
	const data = Buffer.concat([...Array.from({ length: blocks }, () => block), last]);
	const cd = Buffer.concat([header(true), nameBytes, extra]);
	const eocd = Buffer.alloc(22);
	eocd.writeUInt32LE(0x06054b50, 0);
	eocd.writeUInt16LE(1, 8);
	eocd.writeUInt16LE(1, 10);
	eocd.writeUInt32LE(cd.length, 12);
	eocd.writeUInt32LE(local.length + data.length, 16);
	return Buffer.concat([local, data, cd, eocd]);
}

/** `unzip -o -d dir zip`: Info-ZIP's own extraction, to compare with. */
export function unzipExtract(path: string, dir: string): void {
	execFileSync('unzip', ['-qo', path, '-d', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A writable collecting everything written to it. */
export function collector(options: { highWaterMark?: number; slow?: boolean } = {}): {
	stream: Writable;
	data(): Buffer;
	violations: number;
} {
	const chunks: Buffer[] = [];
	const state = { violations: 0 };
	const stream = new Writable({
		highWaterMark: options.highWaterMark ?? 16 * 1024,
		write(chunk: Buffer, _encoding, callback) {
			chunks.push(Buffer.from(chunk));
			if (options.slow) setImmediate(callback);
			else callback();
		},
	});
	// Writing again while the stream asked to wait for 'drain' is a backpressure violation.
	const write = stream.write.bind(stream) as (chunk: Buffer) => boolean;
	stream.write = ((chunk: Buffer) => {
		if (stream.writableNeedDrain) state.violations++;
		return write(chunk);
	}) as typeof stream.write;
	return {
		stream,
		data: () => Buffer.concat(chunks),
		get violations() {
			return state.violations;
		},
	};
}

/** Reassembles into memory. */
export async function reassembleToBuffer(
	parts: ZipPart[],
	options?: ReassembleOptions,
): Promise<{ data: Buffer; summary: ReassembleSummary }> {
	const out = collector();
	const summary = await reassemble(parts, out.stream, options);
	return { data: out.data(), summary };
}

/** Every file entry of a zip on disk, read through zipEntries (name → content). */
export async function readEntries(
	path: string,
	limits?: Partial<ExtractLimits>,
): Promise<Map<string, Buffer>> {
	const result = new Map<string, Buffer>();
	for await (const entry of zipEntries(path, limits)) {
		if (entry.isDirectory) continue;
		const chunks: Buffer[] = [];
		for await (const chunk of await entry.open()) chunks.push(chunk as Buffer);
		result.set(entry.name, Buffer.concat(chunks));
	}
	return result;
}

/** Runs `run` and returns the CxError it throws (fails the test on success or on another error). */
export async function cxError(run: () => Promise<unknown>): Promise<CxError> {
	try {
		await run();
	} catch (error) {
		if (error instanceof CxError) return error;
		throw error;
	}
	throw new Error('expected a CxError, but it succeeded');
}
