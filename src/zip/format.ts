/**
 * The zip records reassembly reads and writes (PKWARE APPNOTE 6.3.10: 4.3.7 local file header,
 * 4.3.12 central directory header, 4.3.14–4.3.16 Zip64 end of central directory record and
 * locator, end of central directory record, 4.5.3 Zip64 extended information extra field), as
 * plain functions over Buffers. No I/O here.
 *
 * Problems are thrown as `Malformed` with a message that says which field holds which wrong value;
 * the caller adds which part and byte it is about and turns it into a CxError.
 */

export const SIG_LOCAL = 0x04034b50; // PK\3\4
export const SIG_CENTRAL = 0x02014b50; // PK\1\2
export const SIG_EOCD = 0x06054b50; // PK\5\6
export const SIG_ZIP64_EOCD = 0x06064b50; // PK\6\6
export const SIG_ZIP64_LOCATOR = 0x07064b50; // PK\6\7
/** PK\7\8: starts the first part of a split archive (and is also the data descriptor signature). */
export const SIG_SPANNING = 0x08074b50;
/** PK00: "split archive that needed one segment" (APPNOTE 8.5.4); PKZIP writes it, Info-ZIP does not. */
export const SIG_SINGLE_SEGMENT = 0x30304b50;

export const LOCAL_HEADER_SIZE = 30;
export const CENTRAL_HEADER_SIZE = 46;
export const EOCD_SIZE = 22;
export const ZIP64_EOCD_SIZE = 56;
export const ZIP64_LOCATOR_SIZE = 20;
export const MAX_COMMENT = 0xffff;
/** The most bytes the end records can take after the central directory (without Zip64 extensible data). */
export const MAX_END_RECORDS = ZIP64_EOCD_SIZE + ZIP64_LOCATOR_SIZE + EOCD_SIZE + MAX_COMMENT;

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;
const ZIP64_EXTRA_ID = 0x0001;
/** "Version needed to extract" for Zip64 (APPNOTE 4.4.3.2). */
export const VERSION_ZIP64 = 45;

export class Malformed extends Error {
	constructor(
		message: string,
		/** Offset of the problem inside the buffer that was being read, when known. */
		readonly at?: number,
	) {
		super(message);
		this.name = 'Malformed';
	}
}

/** An unsigned 64-bit little-endian field, refused when it does not fit a JavaScript number exactly. */
export function readU64(buf: Buffer, at: number, what: string): number {
	const value = buf.readBigUInt64LE(at);
	if (value > BigInt(Number.MAX_SAFE_INTEGER))
		throw new Malformed(`${what} is ${value}, beyond 2^53 (not a real archive)`, at);
	return Number(value);
}

function writeU64(buf: Buffer, at: number, value: number): void {
	buf.writeBigUInt64LE(BigInt(value), at);
}

export interface Eocd {
	/** Where the record starts in the buffer searched. */
	at: number;
	thisDisk: number;
	cdDisk: number;
	entriesThisDisk: number;
	totalEntries: number;
	cdSize: number;
	cdOffset: number;
	comment: Buffer;
}

/**
 * The end of central directory record: searched backwards from the end of `tail` over the last
 * 22 + 65535 bytes, and accepted only where its comment length reaches exactly the end (so a
 * `PK\5\6` inside a comment is not taken for the record).
 */
export function findEocd(tail: Buffer): Eocd | undefined {
	const lowest = Math.max(0, tail.length - EOCD_SIZE - MAX_COMMENT);
	for (let at = tail.length - EOCD_SIZE; at >= lowest; at--) {
		if (tail.readUInt32LE(at) !== SIG_EOCD) continue;
		const commentLength = tail.readUInt16LE(at + 20);
		if (at + EOCD_SIZE + commentLength !== tail.length) continue;
		return {
			at,
			thisDisk: tail.readUInt16LE(at + 4),
			cdDisk: tail.readUInt16LE(at + 6),
			entriesThisDisk: tail.readUInt16LE(at + 8),
			totalEntries: tail.readUInt16LE(at + 10),
			cdSize: tail.readUInt32LE(at + 12),
			cdOffset: tail.readUInt32LE(at + 16),
			comment: Buffer.from(tail.subarray(at + EOCD_SIZE)),
		};
	}
	return undefined;
}

export interface Zip64Locator {
	at: number;
	/** The disk the Zip64 end of central directory record is on. */
	disk: number;
	/** Its offset, relative to the start of that disk. */
	offset: number;
	totalDisks: number;
}

/** The Zip64 locator sits right before the end of central directory record, when there is one. */
export function findZip64Locator(tail: Buffer, eocdAt: number): Zip64Locator | undefined {
	const at = eocdAt - ZIP64_LOCATOR_SIZE;
	if (at < 0 || tail.readUInt32LE(at) !== SIG_ZIP64_LOCATOR) return undefined;
	return {
		at,
		disk: tail.readUInt32LE(at + 4),
		offset: readU64(tail, at + 8, 'the Zip64 locator’s record offset'),
		totalDisks: tail.readUInt32LE(at + 16),
	};
}

export interface Zip64Eocd {
	at: number;
	/** Bytes from `at` to the end of the record (fixed part and extensible data). */
	length: number;
	versionMadeBy: number;
	versionNeeded: number;
	thisDisk: number;
	cdDisk: number;
	entriesThisDisk: number;
	totalEntries: number;
	cdSize: number;
	cdOffset: number;
	/** "Zip64 extensible data sector" (reserved by PKWARE); kept as is. */
	extensible: Buffer;
}

export function readZip64Eocd(buf: Buffer, at: number): Zip64Eocd {
	if (at + ZIP64_EOCD_SIZE > buf.length)
		throw new Malformed('the Zip64 end of central directory record is cut short', at);
	const signature = buf.readUInt32LE(at);
	if (signature !== SIG_ZIP64_EOCD)
		throw new Malformed(
			`no Zip64 end of central directory record where the locator points (found ${hex32(signature)})`,
			at,
		);
	const size = readU64(buf, at + 4, 'the Zip64 end of central directory record size');
	if (size < ZIP64_EOCD_SIZE - 12)
		throw new Malformed(
			`the Zip64 end of central directory record says it is ${size + 12} bytes, less than the ${ZIP64_EOCD_SIZE} it needs`,
			at + 4,
		);
	const length = 12 + size;
	if (at + length > buf.length)
		throw new Malformed(
			`the Zip64 end of central directory record says it is ${length} bytes, past the end of the archive`,
			at + 4,
		);
	return {
		at,
		length,
		versionMadeBy: buf.readUInt16LE(at + 12),
		versionNeeded: buf.readUInt16LE(at + 14),
		thisDisk: buf.readUInt32LE(at + 16),
		cdDisk: buf.readUInt32LE(at + 20),
		entriesThisDisk: readU64(buf, at + 24, 'the number of entries on this disk'),
		totalEntries: readU64(buf, at + 32, 'the number of entries'),
		cdSize: readU64(buf, at + 40, 'the central directory size'),
		cdOffset: readU64(buf, at + 48, 'the central directory offset'),
		extensible: Buffer.from(buf.subarray(at + ZIP64_EOCD_SIZE, at + length)),
	};
}

export interface ExtraField {
	id: number;
	data: Buffer;
}

/**
 * Extra field subfields (id, size, data). Up to 3 bytes left at the end (too short for a subfield
 * header) are kept as `trailing`, as some writers pad; a subfield running past the end is refused.
 */
export function parseExtraFields(extra: Buffer): { fields: ExtraField[]; trailing: Buffer } {
	const fields: ExtraField[] = [];
	let at = 0;
	while (at + 4 <= extra.length) {
		const id = extra.readUInt16LE(at);
		const size = extra.readUInt16LE(at + 2);
		if (at + 4 + size > extra.length)
			throw new Malformed(
				`extra field 0x${id.toString(16).padStart(4, '0')} says it is ${size} bytes, past the end of the extra fields`,
				at,
			);
		fields.push({ id, data: extra.subarray(at + 4, at + 4 + size) });
		at += 4 + size;
	}
	return { fields, trailing: extra.subarray(at) };
}

export interface CentralEntry {
	/** Where the header starts in the buffer it was read from. */
	at: number;
	/** Bytes the header takes: 46 + name + extra + comment. */
	length: number;
	/** The fixed 46 bytes, as read. */
	fixed: Buffer;
	name: Buffer;
	extra: Buffer;
	comment: Buffer;
	flags: number;
	method: number;
	crc32: number;
	/** Sizes, disk and offset with the Zip64 extra field applied. */
	compressedSize: number;
	uncompressedSize: number;
	disk: number;
	localOffset: number;
}

/** Reads one central directory header at `at`, not reading past `end`. */
export function readCentralEntry(buf: Buffer, at: number, end: number): CentralEntry {
	if (at + CENTRAL_HEADER_SIZE > end)
		throw new Malformed('the central directory ends in the middle of an entry header', at);
	const signature = buf.readUInt32LE(at);
	if (signature !== SIG_CENTRAL)
		throw new Malformed(
			`expected a central directory entry header (PK\\1\\2), found ${hex32(signature)}`,
			at,
		);
	const nameLength = buf.readUInt16LE(at + 28);
	const extraLength = buf.readUInt16LE(at + 30);
	const commentLength = buf.readUInt16LE(at + 32);
	const length = CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
	if (at + length > end)
		throw new Malformed(
			'the central directory ends in the middle of an entry’s name, extra field or comment',
			at,
		);
	const nameAt = at + CENTRAL_HEADER_SIZE;
	const extraAt = nameAt + nameLength;
	const entry: CentralEntry = {
		at,
		length,
		fixed: Buffer.from(buf.subarray(at, nameAt)),
		name: Buffer.from(buf.subarray(nameAt, extraAt)),
		extra: Buffer.from(buf.subarray(extraAt, extraAt + extraLength)),
		comment: Buffer.from(buf.subarray(extraAt + extraLength, at + length)),
		flags: buf.readUInt16LE(at + 8),
		method: buf.readUInt16LE(at + 10),
		crc32: buf.readUInt32LE(at + 16),
		compressedSize: buf.readUInt32LE(at + 20),
		uncompressedSize: buf.readUInt32LE(at + 24),
		disk: buf.readUInt16LE(at + 34),
		localOffset: buf.readUInt32LE(at + 42),
	};
	let extra: { fields: ExtraField[]; trailing: Buffer };
	try {
		extra = parseExtraFields(entry.extra);
	} catch (error) {
		if (error instanceof Malformed) throw new Malformed(error.message, extraAt + (error.at ?? 0));
		throw error;
	}
	const zip64 = extra.fields.filter((f) => f.id === ZIP64_EXTRA_ID);
	if (zip64.length > 1)
		throw new Malformed(
			'the entry has two Zip64 extra fields (readers would disagree on its sizes and offset)',
			extraAt,
		);
	const needs = zip64Needs(entry.fixed);
	const values = zip64.length === 1 ? zip64[0].data : Buffer.alloc(0);
	let p = 0;
	const take = (what: string, bytes: 8 | 4): number => {
		if (p + bytes > values.length) {
			throw new Malformed(
				`the ${what} field is 0x${bytes === 8 ? 'FFFFFFFF' : 'FFFF'}, so it must be in the Zip64 extra field, but ${zip64.length === 0 ? 'there is no Zip64 extra field' : 'the Zip64 extra field is too short'}`,
				extraAt,
			);
		}
		const value = bytes === 8 ? readU64(values, p, `the Zip64 ${what}`) : values.readUInt32LE(p);
		p += bytes;
		return value;
	};
	if (needs.uncompressed) entry.uncompressedSize = take('uncompressed size', 8);
	if (needs.compressed) entry.compressedSize = take('compressed size', 8);
	if (needs.offset) entry.localOffset = take('local header offset', 8);
	if (needs.disk) entry.disk = take('disk number', 4);
	return entry;
}

/** Which fields of a central header hold the "see the Zip64 extra field" value (APPNOTE 4.5.3). */
function zip64Needs(fixed: Buffer): {
	uncompressed: boolean;
	compressed: boolean;
	offset: boolean;
	disk: boolean;
} {
	return {
		uncompressed: fixed.readUInt32LE(24) === U32_MAX,
		compressed: fixed.readUInt32LE(20) === U32_MAX,
		offset: fixed.readUInt32LE(42) === U32_MAX,
		disk: fixed.readUInt16LE(34) === U16_MAX,
	};
}

/**
 * The same central header for a one-disk archive: disk number start 0 and the local header at
 * `offset` (absolute). The Zip64 extra field is rebuilt in the APPNOTE's order — uncompressed size,
 * compressed size, offset — holding exactly the values whose 32-bit field says 0xFFFFFFFF:
 * - sizes stay where they were;
 * - the offset goes to Zip64 when it no longer fits (≥ 0xFFFFFFFF) or was there already;
 * - the disk number leaves it (0 always fits 16 bits);
 * - bytes after the known values are kept; a Zip64 field left empty is dropped; a new one is
 *   appended after the other subfields.
 * Other subfields, the name and the comment are copied unchanged.
 */
export function rewriteCentralEntry(entry: CentralEntry, offset: number): Buffer {
	const needs = zip64Needs(entry.fixed);
	const offsetInZip64 = needs.offset || offset >= U32_MAX;
	const { fields, trailing } = parseExtraFields(entry.extra);
	const old = fields.find((f) => f.id === ZIP64_EXTRA_ID);
	const consumed =
		(needs.uncompressed ? 8 : 0) +
		(needs.compressed ? 8 : 0) +
		(needs.offset ? 8 : 0) +
		(needs.disk ? 4 : 0);
	const rest = old ? old.data.subarray(Math.min(consumed, old.data.length)) : Buffer.alloc(0);
	const values: Buffer[] = [];
	const u64 = (value: number) => {
		const b = Buffer.alloc(8);
		writeU64(b, 0, value);
		values.push(b);
	};
	if (needs.uncompressed) u64(entry.uncompressedSize);
	if (needs.compressed) u64(entry.compressedSize);
	if (offsetInZip64) u64(offset);
	values.push(rest);
	const zip64Data = Buffer.concat(values);

	const pieces: Buffer[] = [];
	const addSubfield = (id: number, data: Buffer) => {
		const head = Buffer.alloc(4);
		head.writeUInt16LE(id, 0);
		head.writeUInt16LE(data.length, 2);
		pieces.push(head, data);
	};
	for (const field of fields) {
		if (field.id !== ZIP64_EXTRA_ID) addSubfield(field.id, field.data);
		else if (zip64Data.length > 0) addSubfield(ZIP64_EXTRA_ID, zip64Data);
	}
	if (!old && zip64Data.length > 0) addSubfield(ZIP64_EXTRA_ID, zip64Data);
	pieces.push(trailing);
	const extra = Buffer.concat(pieces);
	if (extra.length > U16_MAX)
		throw new Malformed(
			`the extra field would grow past 65535 bytes with the Zip64 offset added (it is ${entry.extra.length} bytes)`,
			entry.at,
		);

	const fixed = Buffer.from(entry.fixed);
	fixed.writeUInt16LE(0, 34);
	fixed.writeUInt32LE(offsetInZip64 ? U32_MAX : offset, 42);
	fixed.writeUInt16LE(extra.length, 30);
	const needed = fixed.readUInt16LE(6);
	if (offsetInZip64 && (needed & 0xff) < VERSION_ZIP64)
		fixed.writeUInt16LE((needed & 0xff00) | VERSION_ZIP64, 6);
	return Buffer.concat([fixed, entry.name, extra, entry.comment]);
}

export interface EndRecordsInput {
	entries: number;
	cdSize: number;
	cdOffset: number;
	comment: Buffer;
	/** Write Zip64 records even when the values fit (the input had them). */
	zip64: boolean;
	versionMadeBy?: number;
	versionNeeded?: number;
	extensible?: Buffer;
}

/**
 * End records of a one-disk archive: [Zip64 EOCD record + locator] + EOCD record with the
 * comment. Zip64 is written when asked, or when a value does not fit: more than 65534 entries, or
 * a central directory size or offset ≥ 0xFFFFFFFF. Fields that fit hold their value; fields that
 * do not hold 0xFFFF / 0xFFFFFFFF.
 */
export function writeEndRecords(input: EndRecordsInput): { bytes: Buffer; zip64: boolean } {
	const zip64 =
		input.zip64 || input.entries >= U16_MAX || input.cdSize >= U32_MAX || input.cdOffset >= U32_MAX;
	const pieces: Buffer[] = [];
	if (zip64) {
		const extensible = input.extensible ?? Buffer.alloc(0);
		const record = Buffer.alloc(ZIP64_EOCD_SIZE);
		record.writeUInt32LE(SIG_ZIP64_EOCD, 0);
		writeU64(record, 4, ZIP64_EOCD_SIZE - 12 + extensible.length);
		record.writeUInt16LE(input.versionMadeBy ?? VERSION_ZIP64, 12);
		record.writeUInt16LE(Math.max(input.versionNeeded ?? VERSION_ZIP64, VERSION_ZIP64), 14);
		record.writeUInt32LE(0, 16);
		record.writeUInt32LE(0, 20);
		writeU64(record, 24, input.entries);
		writeU64(record, 32, input.entries);
		writeU64(record, 40, input.cdSize);
		writeU64(record, 48, input.cdOffset);
		const locator = Buffer.alloc(ZIP64_LOCATOR_SIZE);
		locator.writeUInt32LE(SIG_ZIP64_LOCATOR, 0);
		locator.writeUInt32LE(0, 4);
		writeU64(locator, 8, input.cdOffset + input.cdSize);
		locator.writeUInt32LE(1, 16);
		pieces.push(record, extensible, locator);
	}
	const eocd = Buffer.alloc(EOCD_SIZE);
	const entries16 = input.entries >= U16_MAX ? U16_MAX : input.entries;
	eocd.writeUInt32LE(SIG_EOCD, 0);
	eocd.writeUInt16LE(0, 4);
	eocd.writeUInt16LE(0, 6);
	eocd.writeUInt16LE(entries16, 8);
	eocd.writeUInt16LE(entries16, 10);
	eocd.writeUInt32LE(input.cdSize >= U32_MAX ? U32_MAX : input.cdSize, 12);
	eocd.writeUInt32LE(input.cdOffset >= U32_MAX ? U32_MAX : input.cdOffset, 16);
	eocd.writeUInt16LE(input.comment.length, 20);
	pieces.push(eocd, input.comment);
	return { bytes: Buffer.concat(pieces), zip64 };
}

export function hex32(value: number): string {
	return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

/** An entry name for messages: UTF-8 when valid, else Latin-1, quoted, shortened, no control characters. */
export function describeName(name: Buffer): string {
	let text = name.toString('utf8');
	if (text.includes('\ufffd')) text = name.toString('latin1');
	text = text.replace(/[\x00-\x1f\x7f]/g, '?');
	if (text.length > 120) text = `${text.slice(0, 117)}...`;
	return JSON.stringify(text);
}

/** Where `value` stands among the first `count` values of `sorted` (increasing), or -1. */
export function sortedIndexOf(sorted: Float64Array, count: number, value: number): number {
	let lo = 0;
	let hi = count - 1;
	while (lo <= hi) {
		const mid = (lo + hi) >>> 1;
		const at = sorted[mid];
		if (at === value) return mid;
		if (at < value) lo = mid + 1;
		else hi = mid - 1;
	}
	return -1;
}
