/**
 * The simulator's own zip writer (independent of the package's reassembly code, so tests compare
 * two implementations), following APPNOTE 6.3.x and what Info-ZIP `zip -s` writes:
 * - entries deflated (or stored when deflate does not shrink them), CRC-32, sizes in the local
 *   header (no data descriptors), an extended-timestamp ("UT") extra field, UTF-8 flag for names
 *   that need it; no Zip64 (simulator exports are far below 4 GiB and 65 535 entries);
 * - split archives as Info-ZIP makes them: the first part starts with the spanning signature
 *   `PK\x07\x08`; data is cut at part boundaries wherever it falls, but no header is ever cut — a
 *   local header, a central-directory record or the end record that does not fit in what is left
 *   of a part starts the next one (so parts before the last may be a little short); every
 *   central-directory record carries the disk its entry starts on and the offset on that disk (the
 *   marker counts); the central directory may itself begin in one part and continue in the next;
 *   the end record gives its own disk, the disk where the central directory starts, and how many
 *   records are on its disk. `zip -s` writes the marker even when everything fits in one part.
 */
import { closeSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipInput {
	name: string;
	data: Buffer;
	/** Modification time (default: the archive's `modified`). */
	modified?: Date;
}

export interface ZipOptions {
	/** Split into parts of at most this many bytes (Info-ZIP's minimum is 64 KiB). */
	splitSize?: number;
	/** Modification time of every entry without its own (default 2026-01-01T00:00:00Z). */
	modified?: Date;
	/** Deflate level (default 6, Info-ZIP's). */
	level?: number;
}

const SIG = {
	spanning: 0x08074b50,
	local: 0x04034b50,
	central: 0x02014b50,
	end: 0x06054b50,
} as const;
const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const END_SIZE = 22;
/** Info-ZIP's smallest split. */
export const MIN_SPLIT_SIZE = 64 * 1024;
const DEFAULT_MODIFIED = new Date(Date.UTC(2026, 0, 1));

/**
 * An entry whose data is already compressed in a file (an export too large to hold): its name, the
 * CRC-32 and size of the uncompressed data, and the file holding the raw deflate stream (method 8)
 * or the data itself (method 0).
 */
export interface ZipFileInput {
	name: string;
	crc: number;
	size: number;
	method: 0 | 8;
	path: string;
	compressedSize: number;
	modified?: Date;
}

interface Prepared {
	name: Buffer;
	flags: number;
	method: 0 | 8;
	crc: number;
	size: number;
	/** The entry's data as stored: in memory, or in a file. */
	compressed: Buffer | { path: string; length: number };
	compressedSize: number;
	dosTime: number;
	dosDate: number;
	unixTime: number;
}

/** MS-DOS date and time (2-second resolution), from the UTC fields so output is the same in any time zone. */
function dosDateTime(date: Date): { dosDate: number; dosTime: number } {
	const year = Math.min(2107, Math.max(1980, date.getUTCFullYear()));
	return {
		dosDate: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
		dosTime:
			(date.getUTCHours() << 11) |
			(date.getUTCMinutes() << 5) |
			Math.floor(date.getUTCSeconds() / 2),
	};
}

function prepare(input: ZipInput, options: ZipOptions): Prepared {
	if (input.data.length > 0xfffffffe)
		throw new Error(`zip entry ${input.name} needs Zip64, which this writer does not do`);
	const deflated = deflateRawSync(input.data, { level: options.level ?? 6 });
	const store = deflated.length >= input.data.length;
	const compressed = store ? input.data : deflated;
	return prepared(
		input.name,
		{
			method: store ? 0 : 8,
			crc: crc32(input.data) >>> 0,
			size: input.data.length,
			compressed,
			compressedSize: compressed.length,
		},
		input.modified ?? options.modified ?? DEFAULT_MODIFIED,
	);
}

function prepareFile(input: ZipFileInput, options: ZipOptions): Prepared {
	if (input.size > 0xfffffffe || input.compressedSize > 0xfffffffe)
		throw new Error(`zip entry ${input.name} needs Zip64, which this writer does not do`);
	return prepared(
		input.name,
		{
			method: input.method,
			crc: input.crc >>> 0,
			size: input.size,
			compressed: { path: input.path, length: input.compressedSize },
			compressedSize: input.compressedSize,
		},
		input.modified ?? options.modified ?? DEFAULT_MODIFIED,
	);
}

function prepared(
	nameText: string,
	data: Pick<Prepared, 'method' | 'crc' | 'size' | 'compressed' | 'compressedSize'>,
	modified: Date,
): Prepared {
	const name = Buffer.from(nameText, 'utf8');
	if (name.length === 0 || name.length > 0xffff)
		throw new Error(`zip entry name "${nameText}" is empty or too long`);
	return {
		name,
		// Bit 11: the name is UTF-8 (only needed, and only set, when it is not plain ASCII).
		flags: /[^\x20-\x7e]/.test(nameText) ? 0x0800 : 0,
		...data,
		...dosDateTime(modified),
		unixTime: Math.max(0, Math.floor(modified.getTime() / 1000)) >>> 0,
	};
}

/** Extended timestamp extra field (0x5455) with the modification time only. */
function timestampExtra(e: Prepared): Buffer {
	const extra = Buffer.alloc(9);
	extra.writeUInt16LE(0x5455, 0);
	extra.writeUInt16LE(5, 2);
	extra.writeUInt8(1, 4); // flags: mtime present
	extra.writeUInt32LE(e.unixTime, 5);
	return extra;
}

function localHeader(e: Prepared): Buffer {
	const extra = timestampExtra(e);
	const h = Buffer.alloc(LOCAL_SIZE);
	h.writeUInt32LE(SIG.local, 0);
	h.writeUInt16LE(e.method === 8 ? 20 : 10, 4); // version needed to extract
	h.writeUInt16LE(e.flags, 6);
	h.writeUInt16LE(e.method, 8);
	h.writeUInt16LE(e.dosTime, 10);
	h.writeUInt16LE(e.dosDate, 12);
	h.writeUInt32LE(e.crc, 14);
	h.writeUInt32LE(e.compressedSize, 18);
	h.writeUInt32LE(e.size, 22);
	h.writeUInt16LE(e.name.length, 26);
	h.writeUInt16LE(extra.length, 28);
	return Buffer.concat([h, e.name, extra]);
}

function centralRecord(e: Prepared, disk: number, offset: number): Buffer {
	const extra = timestampExtra(e);
	const h = Buffer.alloc(CENTRAL_SIZE);
	h.writeUInt32LE(SIG.central, 0);
	h.writeUInt16LE(0x031e, 4); // made by: Unix, spec 3.0 (as Info-ZIP on Linux)
	h.writeUInt16LE(e.method === 8 ? 20 : 10, 6);
	h.writeUInt16LE(e.flags, 8);
	h.writeUInt16LE(e.method, 10);
	h.writeUInt16LE(e.dosTime, 12);
	h.writeUInt16LE(e.dosDate, 14);
	h.writeUInt32LE(e.crc, 16);
	h.writeUInt32LE(e.compressedSize, 20);
	h.writeUInt32LE(e.size, 24);
	h.writeUInt16LE(e.name.length, 28);
	h.writeUInt16LE(extra.length, 30);
	h.writeUInt16LE(0, 32); // comment length
	h.writeUInt16LE(disk, 34); // disk number start
	h.writeUInt16LE(0, 36); // internal attributes
	h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: regular file, rw-r--r--
	h.writeUInt32LE(offset, 42); // offset of the local header on its disk
	return Buffer.concat([h, e.name, extra]);
}

function endRecord(fields: {
	disk: number;
	cdDisk: number;
	entriesHere: number;
	entries: number;
	cdSize: number;
	cdOffset: number;
}): Buffer {
	const h = Buffer.alloc(END_SIZE);
	h.writeUInt32LE(SIG.end, 0);
	h.writeUInt16LE(fields.disk, 4);
	h.writeUInt16LE(fields.cdDisk, 6);
	h.writeUInt16LE(fields.entriesHere, 8);
	h.writeUInt16LE(fields.entries, 10);
	h.writeUInt32LE(fields.cdSize, 12);
	h.writeUInt32LE(fields.cdOffset, 16);
	h.writeUInt16LE(0, 20); // comment length
	return h;
}

/** Where the parts go: bytes appended to the current part, or a new part begun. */
interface PartSink {
	append(bytes: Buffer): void;
	nextPart(): void;
}

/** Bytes laid out into parts of at most `limit` bytes, with headers kept whole. */
class PartWriter {
	private disks = 0;
	private used = 0;

	constructor(
		private readonly limit: number,
		private readonly sink: PartSink,
	) {}

	get disk(): number {
		return this.disks;
	}

	get offset(): number {
		return this.used;
	}

	private next(): void {
		this.sink.nextPart();
		this.disks++;
		this.used = 0;
	}

	/** Makes room for a header of `length` bytes, starting a new part when it would not fit. */
	reserve(length: number): void {
		if (length > this.limit)
			throw new Error(`a ${length}-byte zip header does not fit in a ${this.limit}-byte part`);
		if (this.used + length > this.limit) this.next();
	}

	header(bytes: Buffer): void {
		this.reserve(bytes.length);
		this.data(bytes);
	}

	/** Data, cut at part boundaries wherever they fall. */
	data(bytes: Buffer): void {
		let rest = bytes;
		while (rest.length > 0) {
			if (this.used === this.limit) this.next();
			const take = Math.min(rest.length, this.limit - this.used);
			this.sink.append(rest.subarray(0, take));
			this.used += take;
			rest = rest.subarray(take);
		}
	}

	/** An entry's stored data: from memory, or read from its file a piece at a time. */
	content(e: Prepared): void {
		if (Buffer.isBuffer(e.compressed)) return this.data(e.compressed);
		const fd = openSync(e.compressed.path, 'r');
		try {
			const piece = Buffer.allocUnsafe(1 << 20);
			let done = 0;
			while (done < e.compressed.length) {
				const n = readSync(fd, piece, 0, Math.min(piece.length, e.compressed.length - done), done);
				if (n === 0)
					throw new Error(
						`${e.compressed.path} ends after ${done} of its ${e.compressed.length} bytes`,
					);
				this.data(piece.subarray(0, n));
				done += n;
			}
		} finally {
			closeSync(fd);
		}
	}
}

/** Parts held in memory. */
class MemorySink implements PartSink {
	readonly parts: Buffer[][] = [[]];
	append(bytes: Buffer): void {
		this.parts[this.parts.length - 1].push(bytes);
	}
	nextPart(): void {
		this.parts.push([]);
	}
	result(): Buffer[] {
		return this.parts.map((chunks) => Buffer.concat(chunks));
	}
}

/** Parts written to files `<dir>/<base>.part<N>` as they are laid out (renamed once their count is known). */
class FileSink implements PartSink {
	readonly paths: string[] = [];
	private fd: number;

	constructor(
		private readonly dir: string,
		private readonly base: string,
	) {
		this.fd = this.open();
	}

	private open(): number {
		const path = join(this.dir, `${this.base}.part${this.paths.length + 1}`);
		this.paths.push(path);
		return openSync(path, 'wx');
	}

	append(bytes: Buffer): void {
		let done = 0;
		while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
	}

	nextPart(): void {
		closeSync(this.fd);
		this.fd = this.open();
	}

	close(): void {
		closeSync(this.fd);
	}
}

/**
 * Writes a zip; with `splitSize`, as the parts of an Info-ZIP split archive in disk order (the last
 * one is the `.zip`). `options` may be the split size alone.
 */
export function buildZip(inputs: ZipInput[], options: number | ZipOptions = {}): Buffer[] {
	const opts: ZipOptions = typeof options === 'number' ? { splitSize: options } : options;
	checkEntries(inputs.map((i) => i.name));
	const sink = new MemorySink();
	layOut(
		inputs.map((input) => prepare(input, opts)),
		opts,
		sink,
	);
	return sink.result();
}

/**
 * The same zip as `buildZip`, for entries already compressed in files: written part by part into
 * `dir` as `<base>.z01` … `<base>.zip` (or `<base>.zip` alone when not split), holding no more than
 * a piece of a file at a time. Returns the parts' paths in disk order.
 */
export function writeZipParts(
	inputs: ZipFileInput[],
	options: ZipOptions & { dir: string; base: string },
): string[] {
	checkEntries(inputs.map((i) => i.name));
	const sink = new FileSink(options.dir, options.base);
	try {
		layOut(
			inputs.map((input) => prepareFile(input, options)),
			options,
			sink,
		);
	} finally {
		sink.close();
	}
	const names = partNames(options.base, sink.paths.length);
	return sink.paths.map((path, i) => {
		const final = join(options.dir, names[i]);
		renameSync(path, final);
		return final;
	});
}

function checkEntries(names: string[]): void {
	if (names.length > 0xffff)
		throw new Error('more than 65 535 entries need Zip64, which this writer does not do');
	const seen = new Set<string>();
	for (const name of names) {
		if (seen.has(name)) throw new Error(`duplicate zip entry ${name}`);
		seen.add(name);
	}
}

function layOut(entries: Prepared[], opts: ZipOptions, sink: PartSink): void {
	const split = opts.splitSize !== undefined;
	if (split && (!Number.isInteger(opts.splitSize) || (opts.splitSize ?? 0) < MIN_SPLIT_SIZE)) {
		throw new Error(
			`split size ${opts.splitSize} is below Info-ZIP's minimum of ${MIN_SPLIT_SIZE} bytes`,
		);
	}
	const writer = new PartWriter(split ? (opts.splitSize ?? 0) : Number.MAX_SAFE_INTEGER, sink);

	if (split) writer.header(u32(SIG.spanning));
	const starts: Array<{ disk: number; offset: number }> = [];
	for (const e of entries) {
		const header = localHeader(e);
		writer.reserve(header.length);
		starts.push({ disk: writer.disk, offset: writer.offset });
		if (starts[starts.length - 1].offset > 0xffffffff)
			throw new Error('this archive needs Zip64, which this writer does not do');
		writer.data(header);
		writer.content(e);
	}

	const records = entries.map((e, i) => centralRecord(e, starts[i].disk, starts[i].offset));
	let cdStart: { disk: number; offset: number } | undefined;
	const recordDisks: number[] = [];
	for (const record of records) {
		writer.reserve(record.length);
		cdStart ??= { disk: writer.disk, offset: writer.offset };
		recordDisks.push(writer.disk);
		writer.data(record);
	}
	writer.reserve(END_SIZE);
	cdStart ??= { disk: writer.disk, offset: writer.offset };
	const disk = writer.disk;
	const cdSize = records.reduce((n, r) => n + r.length, 0);
	if (cdStart.offset > 0xffffffff || cdSize > 0xffffffff || disk > 0xfffe)
		throw new Error('this archive needs Zip64, which this writer does not do');
	writer.data(
		endRecord({
			disk,
			cdDisk: cdStart.disk,
			entriesHere: recordDisks.filter((d) => d === disk).length,
			entries: entries.length,
			cdSize,
			cdOffset: cdStart.offset,
		}),
	);
}

function u32(value: number): Buffer {
	const b = Buffer.alloc(4);
	b.writeUInt32LE(value, 0);
	return b;
}

/** The names Info-ZIP gives the parts: `<base>.z01` … `<base>.z99`, `<base>.z100` …, and `<base>.zip` last. */
export function partNames(base: string, count: number): string[] {
	return Array.from({ length: count }, (_, i) =>
		i === count - 1 ? `${base}.zip` : `${base}.z${String(i + 1).padStart(2, '0')}`,
	);
}
