/**
 * Streaming merge of a split zip (Info-ZIP `zip -s`: `.z01` … `.zNN` + `.zip`) into one ordinary
 * zip, without `zip -s 0 --out`: Info-ZIP 3.0's merge writes a broken archive, and exits 0, when an
 * entry spans more than two parts (reproduced with 64 KiB and 100 MiB splits).
 *
 * How: the parts are read once, one at a time, in order (they may be decrypting streams; nothing is
 * read twice or out of order). Their bytes go to the output as they come, minus the 4-byte spanning
 * marker at the start of the first part, except for a bounded tail window
 * (`maxCentralDirectoryBytes` + the end records) held back because the central directory and the
 * end records are at the end and where they start is only known there. At the end the end records
 * are found in the window, the central directory is parsed, every entry's (disk, relative offset)
 * becomes an absolute offset in the output (disk number 0), and fresh end records are written.
 * Memory: the window, plus 20 bytes per local header seen (at most one per 46 bytes of allowed
 * central directory, see LocalHeaderIndex) — never the size of the export.
 *
 * What is verified (everything else passes through as is):
 * - the number of parts given equals the number of disks the end record names (PART_MISSING,
 *   PART_FOREIGN);
 * - the end records, the Zip64 records and every central directory entry are well formed, the
 *   central directory holds exactly the number of entries and bytes the end record says, and every
 *   (disk, offset) lies inside the part it names (ZIP_FORMAT naming the part and byte);
 * - every entry's rewritten offset is the start of a local file header (`PK\3\4`) whose name
 *   length, compression method and (when no data descriptor is used) CRC-32 match the central
 *   directory: every `PK\3\4` in the stream is indexed on the way through (Buffer.indexOf, several
 *   GB/s), so this costs no second read;
 * - for split sets: the entries tile the archive — each entry's local header + data (+ data
 *   descriptor) ends exactly where the next entry, or the central directory, begins. This is what
 *   catches a truncated (or padded) middle part, whose loss would otherwise only show as a bad CRC
 *   at extraction; the message names the part that does not have the size of the others.
 * - unless `verify: false`, every entry's data, while it streams through (entryCheck.ts): inflated
 *   and its CRC-32 and sizes compared with its local header or data descriptor, then with the
 *   central directory. This is what catches parts of the same size swapped or out of order inside
 *   one entry's data, which every structural check above lets through; the message names the entry
 *   and the parts it spans. A mismatch stops the merge as soon as it is known (after the part being
 *   read, whose size then helps say which part is at fault).
 *
 * A single part that does not start with a spanning marker is an ordinary zip: it is copied byte
 * for byte (checked, not rewritten).
 */
import { CxError } from '../errors';
import { raiseAdvice } from '../limits';
import {
	CENTRAL_HEADER_SIZE,
	EOCD_SIZE,
	LOCAL_HEADER_SIZE,
	MAX_END_RECORDS,
	Malformed,
	SIG_LOCAL,
	SIG_SINGLE_SEGMENT,
	SIG_SPANNING,
	describeName,
	findEocd,
	findZip64Locator,
	readCentralEntry,
	readZip64Eocd,
	rewriteCentralEntry,
	writeEndRecords,
	type CentralEntry,
	type Zip64Eocd,
	sortedIndexOf,
} from './format';
import { EntryChecker, EntryDataFailure } from './entryCheck';
import { baseName, missingPartsMessage, parsePartName } from './parts';

/** What a part's `open()` may return: bytes, as an async iterable or a Node readable stream. */
export type PartStream = AsyncIterable<Buffer | Uint8Array | string> | NodeJS.ReadableStream;

export interface ZipPart {
	/** The part's file name (used in messages only; order is the array's). */
	name: string;
	/** Opens the part's bytes. Called once, when the part's turn comes. */
	open(): PartStream | Promise<PartStream>;
}

export interface ReassembleOptions {
	/**
	 * The most central directory bytes held in memory while streaming (default 16 MiB, about
	 * 150 000 entries with typical names). A bigger central directory is refused with
	 * CentralDirectoryTooLarge saying how much is needed; `reassembleToFile` then runs again with
	 * that much room (up to LARGEST_CENTRAL_DIRECTORY_BYTES).
	 */
	maxCentralDirectoryBytes?: number;
	/** End `output` when done (default true). */
	end?: boolean;
	/**
	 * Inflate every entry and check its CRC-32 and sizes while writing (default true). Off, a part
	 * swapped with another of the same size inside an entry's data goes through, to be caught by
	 * whatever reads the zip later (extraction checks CRC-32 too).
	 */
	verify?: boolean;
}

/**
 * 16 MiB: the tail window holds this much of the stream for every export (where the central
 * directory starts is known only at the end), so it is what every reassembly costs in memory.
 * Genesys exports have a handful of entries; an export of 300,000 files (a 28 MB central directory)
 * is reassembled a second time with the room it needs, rather than every export paying for it.
 */
export const DEFAULT_MAX_CENTRAL_DIRECTORY_BYTES = 16 * 1024 * 1024;

/** The most a second pass may hold: about 1,000,000 entries, extraction's maxEntries. */
export const LARGEST_CENTRAL_DIRECTORY_BYTES = 128 * 1024 * 1024;

/** The central directory (and the end records) need more room than the window had. */
export class CentralDirectoryTooLarge extends CxError {
	constructor(
		message: string,
		where: string,
		/** Window size that would have held them. */
		readonly neededBytes: number,
	) {
		super('ZIP_LIMIT', message, { where, limit: 'maxCentralDirectoryBytes' });
	}
}

export interface ReassembleSummary {
	entries: number;
	/** Bytes written to the output. */
	bytes: number;
	parts: number;
	/** The output has Zip64 end records. */
	zip64: boolean;
	/** False when the input was one ordinary zip, copied byte for byte. */
	rewritten: boolean;
	/** Entries whose local header was found at the (rewritten) offset and matched. */
	verifiedEntries: number;
	/** Entries whose data was inflated and matched its CRC-32 and sizes (0 with `verify: false`). */
	checkedEntries: number;
	/** Why some entries' data could not be checked, when checkedEntries < entries with verification on. */
	unchecked?: string;
}

interface Disk {
	/** The part's base name. */
	name: string;
	/** The name for messages (with where it was given, when out of place). */
	label: string;
	/** Output offset of this disk's first byte kept. */
	start: number;
	/** Bytes dropped from the start of this disk (the spanning marker), counted in its offsets. */
	strip: number;
	/** Bytes read from this part, marker included. */
	length: number;
}

export async function reassemble(
	parts: ZipPart[],
	output: NodeJS.WritableStream,
	options: ReassembleOptions = {},
): Promise<ReassembleSummary> {
	if (parts.length === 0)
		throw new CxError(
			'PART_MISSING',
			'no parts were given: give every part of the export (.z01 … .zNN and the final .zip)',
		);
	const maxCd = options.maxCentralDirectoryBytes ?? DEFAULT_MAX_CENTRAL_DIRECTORY_BYTES;
	if (!Number.isSafeInteger(maxCd) || maxCd < 0)
		throw new CxError(
			'USAGE',
			`maxCentralDirectoryBytes must be a whole number of bytes (got ${maxCd})`,
		);

	const sink = new Sink(output);
	const window = new TailWindow(maxCd + MAX_END_RECORDS, sink);
	const capacity = Math.ceil(maxCd / CENTRAL_HEADER_SIZE) + 1024;
	const index = new LocalHeaderIndex(capacity);
	const checker = options.verify === false ? undefined : new EntryChecker(capacity);
	const disks: Disk[] = [];
	try {
		let failure = await readParts(parts, disks, window, index, checker);
		if (checker && !failure) {
			try {
				await checker.end();
			} catch (error) {
				if (!(error instanceof EntryDataFailure)) throw error;
				failure = error;
			}
		}
		return await finish(parts, disks, window, sink, index, checker, maxCd, options, failure);
	} finally {
		checker?.destroy();
	}
}

/**
 * Streams the parts, in order, into the window (and the checker). After a mismatch in an entry's
 * data nothing more is written or checked, but the parts are read to the end: a missing, foreign,
 * truncated or misplaced part explains such a mismatch, and only the end of the archive tells
 * (finish reports it, else the mismatch). Returns the mismatch, if any.
 */
async function readParts(
	parts: ZipPart[],
	disks: Disk[],
	window: TailWindow,
	index: LocalHeaderIndex,
	checker: EntryChecker | undefined,
): Promise<EntryDataFailure | undefined> {
	let failure: EntryDataFailure | undefined;
	for (let d = 0; d < parts.length; d++) {
		const part = parts[d];
		const name = baseName(part.name);
		const disk: Disk = {
			name,
			label: label(name, d, parts.length),
			start: window.position,
			strip: 0,
			length: 0,
		};
		disks.push(disk);
		const accept = async (data: Buffer) => {
			if (data.length === 0) return;
			index.scan(data, window.position);
			if (checker && !failure) {
				try {
					await checker.push(data);
				} catch (error) {
					if (!(error instanceof EntryDataFailure)) throw error;
					failure = error;
					checker.destroy();
					window.discard();
				}
			}
			await window.push(data);
		};
		// The first part's first 4 bytes decide whether there is a marker to drop.
		let head: Buffer | undefined = d === 0 ? Buffer.alloc(0) : undefined;
		let stream: PartStream;
		try {
			stream = await part.open();
		} catch (error) {
			throw readFailure(error, name);
		}
		try {
			for await (const raw of stream) {
				const chunk = bytesOf(raw, name);
				disk.length += chunk.length;
				if (head === undefined) {
					await accept(chunk);
					continue;
				}
				head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
				if (head.length < 4) continue;
				const signature = head.readUInt32LE(0);
				if (signature === SIG_SPANNING || signature === SIG_SINGLE_SEGMENT) disk.strip = 4;
				const rest = head.subarray(disk.strip);
				head = undefined;
				await accept(rest);
			}
		} catch (error) {
			throw readFailure(error, name);
		}
		if (head !== undefined) await accept(head);
		if (disk.length === 0)
			throw new CxError('ZIP_FORMAT', `${name} is empty (0 bytes): download or decrypt it again`, {
				where: part.name,
			});
	}
	return failure;
}

/** Everything is read: checks the end of the archive and writes it, central directory rewritten. */
async function finish(
	parts: ZipPart[],
	disks: Disk[],
	window: TailWindow,
	sink: Sink,
	index: LocalHeaderIndex,
	checker: EntryChecker | undefined,
	maxCd: number,
	options: ReassembleOptions,
	/** A mismatch in an entry's data: reported unless the structure of the archive explains it. */
	failure: EntryDataFailure | undefined,
): Promise<ReassembleSummary> {
	const passthrough = parts.length === 1 && disks[0].strip === 0;
	const tailStart = window.start;
	const tail = window.take();
	const archive = new Archive(disks, tail, tailStart, window.position, maxCd, passthrough);
	const layout = archive.analyse();

	if (passthrough) {
		// Checked like a split set (except the tiling), then the held tail goes out unchanged.
		const verifiedEntries = layout.entries
			? archive.verify(layout.entries, layout.cdStart, index)
			: 0;
		if (failure) throw entryFailure(failure, disks, parts.length);
		const checked = archive.crossCheck(layout.entries, checker);
		await sink.write(tail);
		await sink.finish(options.end !== false);
		return {
			entries: layout.end.totalEntries,
			bytes: sink.bytes,
			parts: 1,
			zip64: layout.zip64 !== undefined,
			rewritten: false,
			verifiedEntries,
			...checkSummary(checked, layout.end.totalEntries, checker),
		};
	}

	const entries = layout.entries;
	if (!entries)
		throw new Error('unreachable: a split set always has its central directory in the window');
	const verifiedEntries = archive.verify(entries, layout.cdStart, index);
	if (failure) throw entryFailure(failure, disks, parts.length);
	const checked = archive.crossCheck(entries, checker);
	// Everything before the central directory is unchanged.
	const cdStart = layout.cdStart;
	await sink.write(tail.subarray(0, cdStart - tailStart));
	let cdSize = 0;
	let batch: Buffer[] = [];
	let batchBytes = 0;
	for (const entry of entries) {
		const header = archive.rewrite(entry.entry, entry.offset);
		batch.push(header);
		batchBytes += header.length;
		cdSize += header.length;
		if (batchBytes >= 1 << 20) {
			await sink.write(Buffer.concat(batch));
			batch = [];
			batchBytes = 0;
		}
	}
	if (batch.length > 0) await sink.write(Buffer.concat(batch));
	const end = writeEndRecords({
		entries: entries.length,
		cdSize,
		cdOffset: cdStart,
		comment: layout.end.comment,
		zip64: layout.zip64 !== undefined,
		versionMadeBy: layout.zip64?.versionMadeBy,
		versionNeeded: layout.zip64?.versionNeeded,
		extensible: layout.zip64?.extensible,
	});
	await sink.write(end.bytes);
	await sink.finish(options.end !== false);
	return {
		entries: entries.length,
		bytes: sink.bytes,
		parts: parts.length,
		zip64: end.zip64,
		rewritten: true,
		verifiedEntries,
		...checkSummary(checked, entries.length, checker),
	};
}

function checkSummary(
	checked: number,
	entries: number,
	checker: EntryChecker | undefined,
): Pick<ReassembleSummary, 'checkedEntries' | 'unchecked'> {
	if (!checker || checked >= entries) return { checkedEntries: checked };
	const reasons: string[] = [];
	if (checker.skipped > 0)
		reasons.push(
			`${checker.skipped} entr${checker.skipped === 1 ? 'y is' : 'ies are'} encrypted by the zip or compressed with a method other than deflate`,
		);
	if (checker.stopped) reasons.push(`checking stopped: ${checker.stopped.reason}`);
	return {
		checkedEntries: checked,
		unchecked:
			reasons.length > 0
				? reasons.join('; ')
				: 'their local headers could not be matched to the central directory',
	};
}

/** An entry whose data does not match: names the entry, the parts it spans and, when sizes tell, the part at fault. */
function entryFailure(failure: EntryDataFailure, disks: Disk[], partCount: number): CxError {
	const diskAt = (offset: number) => {
		let found = 0;
		for (let d = 0; d < disks.length; d++) if (disks[d].start <= offset) found = d;
		return found;
	};
	const first = diskAt(failure.start);
	const last = Math.max(first, diskAt(failure.end - 1));
	const span =
		first === last
			? `in ${disks[first].label}`
			: `parts ${disks[first].label}–${disks[last].label}`;
	const found =
		failure.at !== undefined && first !== last ? `, in ${disks[diskAt(failure.at)].label}` : '';
	const suspect = partCount > 1 ? suspectPart(disks, partCount, first, last) : undefined;
	const blame =
		partCount === 1
			? 'the zip is damaged; download or decrypt it again'
			: suspect
				? `${suspect.disk.label} is ${suspect.disk.length} bytes where the other full parts are ${suspect.usual} bytes: it is probably truncated or damaged; download or decrypt it again`
				: 'the parts may be out of order or swapped (a part under another part’s name), or one of them is damaged; check the part names, or download or decrypt the parts again';
	return new CxError(
		failure.code,
		`entry ${failure.entry} (${span}): ${failure.problem}${found}; ${blame}`,
		{ where: suspect?.disk.name ?? JSON.parse(failure.entry) },
	);
}

/**
 * The one part among `first..last` whose size gives it away (see Archive.oddPart), from the parts
 * read so far (all complete); the usual size is the most common size of the non-final parts.
 */
function suspectPart(
	disks: Disk[],
	partCount: number,
	first: number,
	last: number,
): { disk: Disk; usual: number } | undefined {
	const full = disks.filter((_, d) => d < partCount - 1);
	const sizes = new Map<number, number>();
	for (const disk of full) sizes.set(disk.length, (sizes.get(disk.length) ?? 0) + 1);
	let usual = 0;
	let best = 0;
	for (const [size, count] of sizes) if (count > best) [usual, best] = [size, count];
	if (best < 2) return undefined;
	const odd: Disk[] = [];
	for (let d = first; d <= last && d < full.length; d++) {
		const disk = disks[d];
		if ((d < last && disk.length !== usual) || disk.length > usual) odd.push(disk);
	}
	return odd.length === 1 ? { disk: odd[0], usual } : undefined;
}

/** A part's name for messages; says where it was given when its name says it belongs elsewhere. */
function label(name: string, disk: number, count: number): string {
	let parsed;
	try {
		parsed = parsePartName(name);
	} catch {
		return name;
	}
	const expected = disk === count - 1 ? Infinity : disk + 1;
	if (parsed.index === expected) return name;
	return `${name} (given as ${disk === count - 1 ? 'the final part' : `part ${disk + 1}`})`;
}

function bytesOf(chunk: Buffer | Uint8Array | string, name: string): Buffer {
	if (Buffer.isBuffer(chunk)) return chunk;
	if (chunk instanceof Uint8Array)
		return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
	throw new CxError(
		'IO',
		`${name}: the part's stream gives text, not bytes; open it without an encoding`,
	);
}

function readFailure(error: unknown, name: string): Error {
	if (error instanceof CxError) return error;
	const message = error instanceof Error ? error.message : String(error);
	return new CxError('IO', `${name}: reading the part failed: ${message}`, {
		where: name,
		cause: error,
	});
}

/**
 * The output, written strictly in order with backpressure: each write that fills the stream's
 * buffer waits for 'drain'. An 'error' (or a close before the end) stops the merge with IO.
 */
class Sink {
	bytes = 0;
	private failure: Error | undefined;
	private closed = false;

	constructor(private readonly out: NodeJS.WritableStream) {
		out.on('error', (error: Error) => {
			this.failure ??= error;
		});
		out.on('close', () => {
			this.closed = true;
		});
	}

	async write(chunk: Buffer): Promise<void> {
		this.check();
		if (chunk.length === 0) return;
		this.bytes += chunk.length;
		if (!this.out.write(chunk)) await this.event('drain');
		this.check();
	}

	async finish(end: boolean): Promise<void> {
		this.check();
		if (!end) return;
		const done = this.event('finish');
		this.out.end();
		await done;
		if (this.failure) this.check();
	}

	private check(): void {
		if (this.failure) {
			throw new CxError('IO', `writing the reassembled zip failed: ${this.failure.message}`, {
				cause: this.failure,
			});
		}
		if (this.closed)
			throw new CxError('IO', 'the output was closed before the reassembled zip was complete');
	}

	/** Waits for `name`, or an error, or a close; whichever comes first. */
	private event(name: 'drain' | 'finish'): Promise<void> {
		return new Promise((resolve) => {
			const done = () => {
				this.out.removeListener(name, done);
				this.out.removeListener('error', done);
				this.out.removeListener('close', onClose);
				resolve();
			};
			const onClose = () => {
				// 'close' after 'finish' is normal; 'close' while waiting for 'drain' is not.
				if (name === 'drain') this.closed = true;
				done();
			};
			this.out.on(name, done);
			this.out.on('error', done);
			this.out.on('close', onClose);
		});
	}
}

/**
 * Holds back the last `capacity` bytes of the output; everything older is written. Chunks are kept
 * as given (no copy) and split only when one straddles the boundary.
 */
class TailWindow {
	/** Output offset just past the last byte received. */
	position = 0;
	private chunks: Buffer[] = [];
	private first = 0;
	private held = 0;
	private discarding = false;

	constructor(
		private readonly capacity: number,
		private readonly sink: Sink,
	) {}

	/** Output offset of the first byte still held. */
	get start(): number {
		return this.position - this.held;
	}

	/** From now on bytes leaving the window are dropped, not written: the output will not be completed. */
	discard(): void {
		this.discarding = true;
	}

	async push(data: Buffer): Promise<void> {
		this.chunks.push(data);
		this.held += data.length;
		this.position += data.length;
		while (this.held > this.capacity) {
			const oldest = this.chunks[this.first];
			const excess = this.held - this.capacity;
			if (oldest.length <= excess) {
				this.chunks[this.first] = EMPTY; // written: let it go
				this.first++;
				this.held -= oldest.length;
				if (!this.discarding) await this.sink.write(oldest);
			} else {
				this.chunks[this.first] = oldest.subarray(excess);
				this.held -= excess;
				if (!this.discarding) await this.sink.write(oldest.subarray(0, excess));
			}
		}
		if (this.first > 1024 && this.first * 2 > this.chunks.length) {
			this.chunks = this.chunks.slice(this.first);
			this.first = 0;
		}
	}

	/** The held bytes as one buffer (the window is emptied). */
	take(): Buffer {
		const all = Buffer.concat(this.chunks.slice(this.first), this.held);
		this.chunks = [];
		this.first = 0;
		this.held = 0;
		return all;
	}
}

/**
 * Every `PK\3\4` seen in the output, with the local header fields reassembly checks against the
 * central directory: name length, extra length, flags, method, CRC-32. 20 bytes per header; spurious
 * matches inside compressed data are rare (one per 4 GiB of random bytes) but stored zips inside the
 * export have their own headers, so the index is capped. Past the cap, entries whose local header
 * comes after the point where indexing stopped are not verified (reported in `verifiedEntries`).
 */
class LocalHeaderIndex {
	private offsets = new Float64Array(1024);
	private fields = new Uint32Array(1024 * 3);
	count = 0;
	/** Indexing covers every header that starts before this output offset. */
	coveredUpTo = Infinity;
	/** Last bytes of the previous chunk (< 30) that might start a header. */
	private carry = Buffer.alloc(0);
	private carryStart = 0;

	constructor(private readonly capacity: number) {}

	scan(data: Buffer, start: number): void {
		if (this.coveredUpTo !== Infinity) return;
		let buf = data;
		let base = start;
		if (this.carry.length > 0) {
			if (data.length >= LOCAL_HEADER_SIZE - 1) {
				// Headers starting in the carry need at most 29 bytes of this chunk.
				const seam = Buffer.concat([this.carry, data.subarray(0, LOCAL_HEADER_SIZE - 1)]);
				this.scanRange(seam, this.carryStart, this.carry.length - 1);
			} else {
				buf = Buffer.concat([this.carry, data]);
				base = this.carryStart;
			}
			this.carry = Buffer.alloc(0);
		}
		this.scanRange(buf, base, buf.length - LOCAL_HEADER_SIZE);
		const keep = Math.max(0, buf.length - (LOCAL_HEADER_SIZE - 1));
		this.carry = Buffer.from(buf.subarray(keep));
		this.carryStart = base + keep;
	}

	/** Records headers starting at positions 0..last of `buf` (each has 30 bytes available). */
	private scanRange(buf: Buffer, base: number, last: number): void {
		let p = 0;
		while (p <= last) {
			p = buf.indexOf(LOCAL_SIGNATURE, p);
			if (p === -1 || p > last) return;
			if (this.count === this.capacity) {
				this.coveredUpTo = base + p;
				return;
			}
			this.record(base + p, buf, p);
			p += 1;
		}
	}

	private record(offset: number, buf: Buffer, p: number): void {
		if (this.count === this.offsets.length) {
			const offsets = new Float64Array(this.offsets.length * 2);
			offsets.set(this.offsets);
			this.offsets = offsets;
			const fields = new Uint32Array(this.fields.length * 2);
			fields.set(this.fields);
			this.fields = fields;
		}
		this.offsets[this.count] = offset;
		const f = this.count * 3;
		this.fields[f] = buf.readUInt16LE(p + 6) | (buf.readUInt16LE(p + 8) << 16); // flags | method << 16
		this.fields[f + 1] = buf.readUInt32LE(p + 14); // CRC-32
		this.fields[f + 2] = buf.readUInt16LE(p + 26) | (buf.readUInt16LE(p + 28) << 16); // name length | extra length << 16
		this.count++;
	}

	/** The local header indexed at `offset`, if any (offsets are recorded in increasing order). */
	find(offset: number): LocalHeader | undefined {
		const i = sortedIndexOf(this.offsets, this.count, offset);
		if (i < 0) return undefined;
		const f = i * 3;
		return {
			flags: this.fields[f] & 0xffff,
			method: this.fields[f] >>> 16,
			crc32: this.fields[f + 1],
			nameLength: this.fields[f + 2] & 0xffff,
			extraLength: this.fields[f + 2] >>> 16,
		};
	}
}

const EMPTY = Buffer.alloc(0);
const LOCAL_SIGNATURE = Buffer.alloc(4);
LOCAL_SIGNATURE.writeUInt32LE(SIG_LOCAL, 0);

interface LocalHeader {
	flags: number;
	method: number;
	crc32: number;
	nameLength: number;
	extraLength: number;
}

interface PlacedEntry {
	entry: CentralEntry;
	/** Absolute output offset of the local header. */
	offset: number;
}

interface Layout {
	end: {
		thisDisk: number;
		cdDisk: number;
		totalEntries: number;
		cdSize: number;
		cdOffset: number;
		comment: Buffer;
	};
	/** Output offset of the central directory. */
	cdStart: number;
	zip64?: Zip64Eocd;
	/** The central directory, when it is inside the window (always, except for a passthrough). */
	entries?: PlacedEntry[];
}

/** The end of the streamed archive: the held tail, and where each part landed in the output. */
class Archive {
	constructor(
		private readonly disks: Disk[],
		private readonly tail: Buffer,
		/** Output offset of tail[0]. */
		private readonly tailStart: number,
		/** Output length. */
		private readonly length: number,
		private readonly maxCd: number,
		private readonly passthrough: boolean,
	) {}

	private get last(): Disk {
		return this.disks[this.disks.length - 1];
	}

	/** Finds and checks the end records and (when held) the central directory. */
	analyse(): Layout {
		const eocd = findEocd(this.tail);
		if (!eocd) {
			const what = this.disks.length > 1 ? 'the final part of a split zip' : 'a zip file';
			throw this.fail(
				'ZIP_FORMAT',
				`${this.last.label} does not end with an end-of-central-directory record: it is truncated, or it is not ${what} (it ends with ${describeBytes(this.tail.subarray(-8))}); download or decrypt it again`,
				this.last,
			);
		}
		let end: Layout['end'] = eocd;
		let zip64: Zip64Eocd | undefined;
		const locator = this.malformed(() => findZip64Locator(this.tail, eocd.at), eocd.at);
		if (locator) {
			const at = this.inTail(
				this.absolute(locator.disk, locator.offset, 'the Zip64 end of central directory record'),
				'the Zip64 end of central directory record',
			);
			zip64 = this.malformed(() => readZip64Eocd(this.tail, at), at);
			if (at + zip64.length !== locator.at) {
				throw this.failAt(
					`the Zip64 end of central directory record (${zip64.length} bytes) should end where its locator starts, ${locator.at - at - zip64.length} bytes away`,
					at,
				);
			}
			end = { ...zip64, comment: eocd.comment };
		}
		this.checkDiskCount(end.thisDisk);
		if (end.cdDisk > end.thisDisk)
			throw this.failAt(
				`the end record says the central directory starts on disk ${end.cdDisk + 1}, after the last disk (${end.thisDisk + 1})`,
				eocd.at,
			);
		const cdStart = this.absolute(end.cdDisk, end.cdOffset, 'the central directory');
		const endRecordsStart = this.tailStart + (zip64 ? zip64.at : eocd.at);
		if (cdStart + end.cdSize !== endRecordsStart) {
			throw this.failAt(
				`the central directory should be ${end.cdSize} bytes from ${this.where(cdStart)}, ending where the end records start (${this.where(endRecordsStart)}), but it ${cdStart + end.cdSize > endRecordsStart ? 'would overlap them' : `leaves ${endRecordsStart - cdStart - end.cdSize} bytes unaccounted for`}: ${this.disks.length > 1 ? 'a part is truncated or from another export' : 'the zip is truncated or corrupt'}`,
				eocd.at,
			);
		}
		// Exact: a central directory larger than maxCd is refused even when the room kept for the end records would hold it.
		if (cdStart < this.tailStart || (!this.passthrough && end.cdSize > this.maxCd)) {
			if (this.passthrough) return { end, cdStart, zip64 };
			const needed = end.cdSize + (this.length - endRecordsStart);
			throw new CentralDirectoryTooLarge(
				`the central directory of this export is ${end.cdSize} bytes (${end.totalEntries} entries), more than the central directory window (maxCentralDirectoryBytes, ${this.maxCd} bytes) holds in memory; ${raiseAdvice('maxCentralDirectoryBytes')} to at least ${needed} bytes`,
				this.disks[end.cdDisk].name,
				needed,
			);
		}
		const entries: PlacedEntry[] = [];
		const cdEnd = endRecordsStart - this.tailStart;
		let at = cdStart - this.tailStart;
		for (let i = 0; i < end.totalEntries; i++) {
			if (at >= cdEnd)
				throw this.failAt(
					`the central directory ends after ${i} of the ${end.totalEntries} entries the end record announces`,
					at,
				);
			const entry = this.malformed(() => readCentralEntry(this.tail, at, cdEnd), at, i);
			const offset = this.absolute(
				entry.disk,
				entry.localOffset,
				`the local header of entry ${describeName(entry.name)}`,
			);
			if (offset + LOCAL_HEADER_SIZE > cdStart) {
				throw this.failAt(
					`entry ${describeName(entry.name)} says its local header is at ${this.where(offset)}, which is not before the central directory`,
					at,
				);
			}
			entries.push({ entry, offset });
			at += entry.length;
		}
		if (at !== cdEnd)
			throw this.failAt(
				`the central directory has ${cdEnd - at} bytes left after the ${end.totalEntries} entries the end record announces`,
				at,
			);
		return { end, cdStart, zip64, entries };
	}

	/**
	 * Checks every entry against the local header found at its offset; for split sets also that the
	 * entries tile the archive up to the central directory. Returns how many entries were checked.
	 */
	verify(entries: PlacedEntry[], cdStart: number, index: LocalHeaderIndex): number {
		let verified = 0;
		const locals = new Map<number, LocalHeader>();
		for (const { entry, offset } of entries) {
			const local = index.find(offset);
			if (!local) {
				if (offset >= index.coveredUpTo) continue;
				const disk = this.diskAt(offset);
				throw this.fail(
					'ZIP_FORMAT',
					`${disk.label}: entry ${describeName(entry.name)} should start at byte ${offset - disk.start + disk.strip} of this part, but there is no local file header there: ${this.disks.length > 1 ? 'a part is truncated, out of order, or from another export' : 'the zip is corrupt'}`,
					disk,
				);
			}
			const mismatch =
				local.nameLength !== entry.name.length
					? `a name of ${local.nameLength} bytes, not ${entry.name.length}`
					: local.method !== entry.method
						? `compression method ${local.method}, not ${entry.method}`
						: (local.flags & 0x08) === 0 && local.crc32 !== entry.crc32
							? `CRC-32 ${local.crc32.toString(16).padStart(8, '0')}, not ${entry.crc32.toString(16).padStart(8, '0')}`
							: undefined;
			if (mismatch) {
				const disk = this.diskAt(offset);
				throw this.fail(
					'ZIP_FORMAT',
					`${disk.label}: the local header at byte ${offset - disk.start + disk.strip} of this part is not the one of entry ${describeName(entry.name)} (it has ${mismatch}): ${this.disks.length > 1 ? 'a part is out of order or from another export' : 'the zip is corrupt'}`,
					disk,
				);
			}
			locals.set(offset, local);
			verified++;
		}
		if (!this.passthrough && verified === entries.length)
			this.checkTiling(entries, cdStart, locals);
		return verified;
	}

	/**
	 * What the checker found in each entry's data against the central directory (CRC-32, sizes):
	 * this covers entries with a data descriptor and a central directory that disagrees with the
	 * local headers. Returns how many entries were checked.
	 */
	crossCheck(entries: PlacedEntry[] | undefined, checker: EntryChecker | undefined): number {
		if (!checker) return 0;
		if (!entries) return checker.checked;
		let checked = 0;
		for (const { entry, offset } of entries) {
			const found = checker.find(offset);
			if (!found) continue;
			const hex = (value: number) => (value >>> 0).toString(16).padStart(8, '0');
			const problem =
				found.compressedSize !== entry.compressedSize
					? `its data is ${found.compressedSize} bytes, but the central directory gives ${entry.compressedSize}`
					: found.uncompressedSize !== entry.uncompressedSize
						? `its data inflates to ${found.uncompressedSize} bytes, but the central directory gives ${entry.uncompressedSize}`
						: found.crc32 !== entry.crc32
							? `the CRC-32 of its data is ${hex(found.crc32)}, which does not match the ${hex(entry.crc32)} the central directory gives`
							: undefined;
			if (problem) {
				// Where the data ends, near enough to name the parts (the local extra field is left out).
				const dataEnd = offset + LOCAL_HEADER_SIZE + entry.name.length + found.compressedSize;
				const code = problem.startsWith('the CRC') ? 'ZIP_CRC' : 'ZIP_FORMAT';
				const failure = new EntryDataFailure(
					code,
					describeName(entry.name),
					offset,
					dataEnd + 1,
					problem,
				);
				throw entryFailure(failure, this.disks, this.disks.length);
			}
			checked++;
		}
		return checked;
	}

	/** Each entry (header, data, data descriptor) must end where the next one, or the central directory, starts. */
	private checkTiling(
		entries: PlacedEntry[],
		cdStart: number,
		locals: Map<number, LocalHeader>,
	): void {
		const sorted = [...entries].sort((a, b) => a.offset - b.offset);
		if (sorted.length > 0 && sorted[0].offset !== 0) {
			const disk = this.disks[0];
			throw this.fail(
				'ZIP_FORMAT',
				`${disk.label}: the first entry ${describeName(sorted[0].entry.name)} should start the part but starts at byte ${sorted[0].offset + disk.strip}: the part is not the first of its set, or is corrupt`,
				disk,
			);
		}
		for (let i = 0; i < sorted.length; i++) {
			const { entry, offset } = sorted[i];
			const local = locals.get(offset)!;
			const dataEnd =
				offset + LOCAL_HEADER_SIZE + local.nameLength + local.extraLength + entry.compressedSize;
			const next = i + 1 < sorted.length ? sorted[i + 1].offset : cdStart;
			const gap = next - dataEnd;
			// A data descriptor: optional signature, CRC-32, two sizes of 4 (or, Zip64, 8) bytes.
			if (gap === 0 || ((local.flags & 0x08) !== 0 && [12, 16, 20, 24].includes(gap))) continue;
			const first = this.diskIndexAt(offset);
			const lastDisk = this.diskIndexAt(Math.max(offset, next));
			const span = this.disks.slice(first, lastDisk + 1);
			const suspect = this.oddPart(first, lastDisk);
			const nextWhat =
				i + 1 < sorted.length
					? `entry ${describeName(sorted[i + 1].entry.name)}`
					: 'the central directory';
			const spanText =
				span.length === 1 ? span[0].label : `${span[0].label} … ${span[span.length - 1].label}`;
			const problem = gap < 0 ? `${-gap} bytes are missing` : `there are ${gap} bytes too many`;
			const blame = suspect
				? `${suspect.disk.label} is ${suspect.disk.length} bytes where the other full parts are ${suspect.usual} bytes: it is probably ${gap < 0 ? 'truncated' : 'damaged or from another export'}`
				: `a part among ${spanText} is ${gap < 0 ? 'truncated' : 'damaged or from another export'}`;
			throw this.fail(
				'ZIP_FORMAT',
				`entry ${describeName(entry.name)} (${spanText}) should end where ${nextWhat} starts, but ${problem}: ${blame}; download or decrypt it again`,
				suspect?.disk ?? span[0],
			);
		}
	}

	/**
	 * Info-ZIP fills every part to the split size except where a header did not fit, so while one
	 * entry's data runs on, every part it leaves is full. Among the parts `first..last` (the entry's
	 * header to the next header), the suspect is the one part that is not full although the data ran
	 * past its end (`first..last-1`), or that is bigger than a full part. The usual (full) size is the
	 * most common size of the parts before the final one. None when that is not conclusive.
	 */
	private oddPart(first: number, last: number): { disk: Disk; usual: number } | undefined {
		const sizes = new Map<number, number>();
		for (const disk of this.disks.slice(0, -1))
			sizes.set(disk.length, (sizes.get(disk.length) ?? 0) + 1);
		let usual = 0;
		let best = 0;
		for (const [size, count] of sizes) if (count > best) [usual, best] = [size, count];
		if (best < 2) return undefined;
		const odd: Disk[] = [];
		for (let d = first; d <= last && d < this.disks.length - 1; d++) {
			const disk = this.disks[d];
			if ((d < last && disk.length !== usual) || disk.length > usual) odd.push(disk);
		}
		return odd.length === 1 ? { disk: odd[0], usual } : undefined;
	}

	rewrite(entry: CentralEntry, offset: number): Buffer {
		return this.malformed(() => rewriteCentralEntry(entry, offset), entry.at);
	}

	/** Output offset of `relative` bytes into disk `disk`, checked to lie inside that part. */
	absolute(disk: number, relative: number, what = 'an offset'): number {
		if (disk >= this.disks.length)
			throw this.failAt(
				`${what} is on disk ${disk + 1}, but the set has ${this.disks.length} parts`,
				this.tail.length - EOCD_SIZE,
			);
		const d = this.disks[disk];
		if (relative < d.strip || relative > d.length) {
			throw this.fail(
				'ZIP_FORMAT',
				`${d.label}: ${what} is at byte ${relative} of this part, ${relative < d.strip ? 'inside its spanning marker' : `past its end (it is ${d.length} bytes): the part is truncated, or from another export`}`,
				d,
			);
		}
		return d.start + relative - d.strip;
	}

	private checkDiskCount(thisDisk: number): void {
		const disks = thisDisk + 1;
		const given = this.disks.length;
		if (disks === given) return;
		if (disks > given) {
			throw this.fail(
				'PART_MISSING',
				missingPartsMessage(
					this.last.label,
					disks,
					this.disks.map((disk) => disk.name),
				),
				this.last,
			);
		}
		throw this.fail(
			'PART_FOREIGN',
			`${this.last.label} says its zip has ${disks} part${disks > 1 ? 's' : ''}, but ${given} were given: some parts belong to another export or are left over from an earlier download`,
			this.last,
		);
	}

	private inTail(offset: number, what: string): number {
		const at = offset - this.tailStart;
		if (at < 0) {
			const needed = this.length - offset - MAX_END_RECORDS;
			throw new CentralDirectoryTooLarge(
				`${what} is further from the end than the central directory window (maxCentralDirectoryBytes, ${this.maxCd} bytes) holds; ${raiseAdvice('maxCentralDirectoryBytes')} to at least ${needed} bytes`,
				this.last.name,
				needed,
			);
		}
		if (at >= this.tail.length)
			throw this.failAt(
				`${what} would be past the end of the archive`,
				this.tail.length - EOCD_SIZE,
			);
		return at;
	}

	private diskIndexAt(offset: number): number {
		let lo = 0;
		let hi = this.disks.length - 1;
		while (lo < hi) {
			const mid = (lo + hi + 1) >>> 1;
			if (this.disks[mid].start <= offset) lo = mid;
			else hi = mid - 1;
		}
		return lo;
	}

	private diskAt(offset: number): Disk {
		return this.disks[this.diskIndexAt(offset)];
	}

	/** `byte 123 of export.z04` */
	private where(offset: number): string {
		const disk = this.diskAt(offset);
		return `byte ${offset - disk.start + disk.strip} of ${disk.label}`;
	}

	private malformed<T>(read: () => T, at: number, entryIndex?: number): T {
		try {
			return read();
		} catch (error) {
			if (!(error instanceof Malformed)) throw error;
			const prefix = entryIndex === undefined ? '' : `central directory entry ${entryIndex + 1}: `;
			throw this.failAt(`${prefix}${error.message}`, error.at ?? at);
		}
	}

	/** ZIP_FORMAT about the byte at `at` in the tail, naming the part it is in. */
	private failAt(message: string, at: number): CxError {
		const offset = this.tailStart + Math.max(0, Math.min(at, this.tail.length - 1));
		const disk = this.diskAt(offset);
		return this.fail(
			'ZIP_FORMAT',
			`${disk.label}, byte ${offset - disk.start + disk.strip}: ${message}`,
			disk,
		);
	}

	private fail(
		code: 'ZIP_FORMAT' | 'PART_MISSING' | 'PART_FOREIGN',
		message: string,
		disk: Disk,
	): CxError {
		return new CxError(code, message, { where: disk.name });
	}
}

function describeBytes(bytes: Buffer): string {
	return bytes.length === 0 ? 'nothing' : bytes.toString('hex').replace(/(..)(?!$)/g, '$1 ');
}
