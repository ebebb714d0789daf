/**
 * Zip structures at the byte level, for the fuzz mutations, read and written here independently of
 * src/zip (so the code under test never locates its own damage): every header field of the end
 * records, the Zip64 records, the central directory and the local headers, with its offset and
 * width; and a small writer for zips with names and attributes no tool would write.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface Field {
	/** e.g. `cd[1].localOffset`, `eocd.totalEntries`, `local[0].zip64[8]`. */
	name: string;
	at: number;
	width: 1 | 2 | 4 | 8;
}

export interface CentralRecord {
	at: number;
	/** Whole record length (fixed part, name, extra, comment). */
	length: number;
	diskStart: number;
	localOffset: number;
	nameLength: number;
}

export interface ZipLayout {
	eocd: number;
	zip64Locator?: number;
	zip64Eocd?: number;
	cdStart: number;
	cdSize: number;
	central: CentralRecord[];
	fields: Field[];
}

const SIG = {
	local: 0x04034b50,
	central: 0x02014b50,
	eocd: 0x06054b50,
	zip64Eocd: 0x06064b50,
	zip64Locator: 0x07064b50,
} as const;

function findEocd(data: Buffer): number {
	for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
		if (data.readUInt32LE(i) === SIG.eocd) return i;
	}
	return -1;
}

function extraFields(
	data: Buffer,
	start: number,
	length: number,
	prefix: string,
	fields: Field[],
): void {
	for (let x = start; x + 4 <= start + length; ) {
		const id = data.readUInt16LE(x);
		const size = data.readUInt16LE(x + 2);
		fields.push(
			{ name: `${prefix}.extra(${id.toString(16)}).id`, at: x, width: 2 },
			{ name: `${prefix}.extra(${id.toString(16)}).size`, at: x + 2, width: 2 },
		);
		if (id === 0x0001) {
			for (let k = 0; k + 8 <= size && x + 4 + k + 8 <= data.length; k += 8)
				fields.push({ name: `${prefix}.zip64[${k}]`, at: x + 4 + k, width: 8 });
		}
		x += 4 + size;
	}
}

/** Fields of the local header at `at` (in whichever buffer holds it). */
export function localFields(data: Buffer, at: number, prefix: string): Field[] {
	if (at < 0 || at + 30 > data.length || data.readUInt32LE(at) !== SIG.local) return [];
	const fields: Field[] = [
		{ name: `${prefix}.versionNeeded`, at: at + 4, width: 2 },
		{ name: `${prefix}.flags`, at: at + 6, width: 2 },
		{ name: `${prefix}.method`, at: at + 8, width: 2 },
		{ name: `${prefix}.time`, at: at + 10, width: 2 },
		{ name: `${prefix}.crc`, at: at + 14, width: 4 },
		{ name: `${prefix}.compressedSize`, at: at + 18, width: 4 },
		{ name: `${prefix}.size`, at: at + 22, width: 4 },
		{ name: `${prefix}.nameLength`, at: at + 26, width: 2 },
		{ name: `${prefix}.extraLength`, at: at + 28, width: 2 },
	];
	const nameLength = data.readUInt16LE(at + 26);
	const extraLength = data.readUInt16LE(at + 28);
	if (at + 30 + nameLength + extraLength <= data.length)
		extraFields(data, at + 30 + nameLength, extraLength, prefix, fields);
	return fields;
}

/**
 * The end records and central directory of a zip (or of the final part of a split set, whose
 * central directory it holds), with every field; local headers too when they are in `data`
 * (`localsHere`: all entries start in this buffer, as in a single-disk zip).
 */
export function zipLayout(data: Buffer, localsHere = true): ZipLayout | undefined {
	const eocd = findEocd(data);
	if (eocd < 0) return undefined;
	const fields: Field[] = [
		{ name: 'eocd.disk', at: eocd + 4, width: 2 },
		{ name: 'eocd.cdDisk', at: eocd + 6, width: 2 },
		{ name: 'eocd.entriesOnDisk', at: eocd + 8, width: 2 },
		{ name: 'eocd.totalEntries', at: eocd + 10, width: 2 },
		{ name: 'eocd.cdSize', at: eocd + 12, width: 4 },
		{ name: 'eocd.cdOffset', at: eocd + 16, width: 4 },
		{ name: 'eocd.commentLength', at: eocd + 20, width: 2 },
	];
	let cdSize = data.readUInt32LE(eocd + 12);
	let endRecords = eocd;
	let zip64Locator: number | undefined;
	let zip64Eocd: number | undefined;
	if (eocd >= 20 && data.readUInt32LE(eocd - 20) === SIG.zip64Locator) {
		zip64Locator = eocd - 20;
		fields.push(
			{ name: 'locator.disk', at: zip64Locator + 4, width: 4 },
			{ name: 'locator.offset', at: zip64Locator + 8, width: 8 },
			{ name: 'locator.totalDisks', at: zip64Locator + 16, width: 4 },
		);
		endRecords = zip64Locator;
		// The Zip64 end record sits right before the locator (its offset is relative to its disk).
		for (let at = zip64Locator - 56; at >= Math.max(0, zip64Locator - 56 - 1024); at--) {
			if (data.readUInt32LE(at) === SIG.zip64Eocd) {
				zip64Eocd = at;
				break;
			}
		}
		if (zip64Eocd !== undefined) {
			const z = zip64Eocd;
			fields.push(
				{ name: 'zip64.recordSize', at: z + 4, width: 8 },
				{ name: 'zip64.versionNeeded', at: z + 14, width: 2 },
				{ name: 'zip64.disk', at: z + 16, width: 4 },
				{ name: 'zip64.cdDisk', at: z + 20, width: 4 },
				{ name: 'zip64.entriesOnDisk', at: z + 24, width: 8 },
				{ name: 'zip64.totalEntries', at: z + 32, width: 8 },
				{ name: 'zip64.cdSize', at: z + 40, width: 8 },
				{ name: 'zip64.cdOffset', at: z + 48, width: 8 },
			);
			cdSize = Number(data.readBigUInt64LE(z + 40));
			endRecords = z;
		}
	}
	const cdStart = endRecords - cdSize;
	const central: CentralRecord[] = [];
	if (cdStart >= 0) {
		for (
			let at = cdStart, i = 0;
			at + 46 <= endRecords && data.readUInt32LE(at) === SIG.central;
			i++
		) {
			const nameLength = data.readUInt16LE(at + 28);
			const extraLength = data.readUInt16LE(at + 30);
			const commentLength = data.readUInt16LE(at + 32);
			const p = `cd[${i}]`;
			fields.push(
				{ name: `${p}.versionMade`, at: at + 4, width: 2 },
				{ name: `${p}.versionNeeded`, at: at + 6, width: 2 },
				{ name: `${p}.flags`, at: at + 8, width: 2 },
				{ name: `${p}.method`, at: at + 10, width: 2 },
				{ name: `${p}.time`, at: at + 12, width: 2 },
				{ name: `${p}.crc`, at: at + 16, width: 4 },
				{ name: `${p}.compressedSize`, at: at + 20, width: 4 },
				{ name: `${p}.size`, at: at + 24, width: 4 },
				{ name: `${p}.nameLength`, at: at + 28, width: 2 },
				{ name: `${p}.extraLength`, at: at + 30, width: 2 },
				{ name: `${p}.commentLength`, at: at + 32, width: 2 },
				{ name: `${p}.diskStart`, at: at + 34, width: 2 },
				{ name: `${p}.internalAttributes`, at: at + 36, width: 2 },
				{ name: `${p}.externalAttributes`, at: at + 38, width: 4 },
				{ name: `${p}.localOffset`, at: at + 42, width: 4 },
			);
			if (at + 46 + nameLength + extraLength <= data.length)
				extraFields(data, at + 46 + nameLength, extraLength, p, fields);
			let localOffset = data.readUInt32LE(at + 42);
			if (localOffset === 0xffffffff) {
				// The Zip64 extra field holds it, after the sizes that are 0xffffffff too.
				const skip =
					(data.readUInt32LE(at + 24) === 0xffffffff ? 8 : 0) +
					(data.readUInt32LE(at + 20) === 0xffffffff ? 8 : 0);
				for (
					let x = at + 46 + nameLength;
					x + 4 <= at + 46 + nameLength + extraLength;
					x += 4 + data.readUInt16LE(x + 2)
				) {
					if (data.readUInt16LE(x) === 1 && x + 4 + skip + 8 <= data.length)
						localOffset = Number(data.readBigUInt64LE(x + 4 + skip));
				}
			}
			const record = {
				at,
				length: 46 + nameLength + extraLength + commentLength,
				diskStart: data.readUInt16LE(at + 34),
				localOffset,
				nameLength,
			};
			central.push(record);
			if (localsHere) fields.push(...localFields(data, localOffset, `local[${i}]`));
			at += record.length;
		}
	}
	return { eocd, zip64Locator, zip64Eocd, cdStart, cdSize, central, fields };
}

/** Values a field of `width` bytes is set to: the edges of every integer type readers use. */
export function extremeValues(
	width: Field['width'],
	context: { original: bigint; fileLength: number },
): bigint[] {
	const max = (1n << BigInt(width * 8)) - 1n;
	const values = [
		0n,
		1n,
		max,
		max - 1n,
		context.original + 1n,
		context.original - 1n,
		BigInt(context.fileLength),
		BigInt(context.fileLength) + 1n,
		BigInt(context.fileLength) - 1n,
	];
	if (width >= 2) values.push(0x7fffn, 0x8000n, 0xfffen);
	if (width >= 4) values.push(0x7fffffffn, 0x80000000n, 0xfffffffen, 0x10000n);
	if (width === 8)
		values.push(
			1n << 32n,
			(1n << 32n) + 1n,
			1n << 53n,
			(1n << 53n) + 1n,
			1n << 62n,
			1n << 63n,
			(1n << 63n) - 1n,
			(1n << 63n) + 1n,
		);
	return values.map((v) => (v < 0n ? 0n : v > max ? max : v));
}

export function readField(data: Buffer, field: Field): bigint {
	if (field.at + field.width > data.length) return 0n;
	return field.width === 8
		? data.readBigUInt64LE(field.at)
		: BigInt(data.readUIntLE(field.at, field.width));
}

export function writeField(data: Buffer, field: Field, value: bigint): void {
	if (field.at + field.width > data.length) return;
	if (field.width === 8) data.writeBigUInt64LE(value, field.at);
	else data.writeUIntLE(Number(value), field.at, field.width);
}

export interface WriteEntry {
	/** The name as stored (any bytes). */
	name: Buffer;
	data: Buffer;
	method?: 0 | 8;
	/** General purpose flags (bit 11: UTF-8 names). */
	flags?: number;
	/** Extra field bytes, in both headers. */
	extra?: Buffer;
	/** Unix mode in the high 16 bits of the external attributes (default a regular file, 0644). */
	unixMode?: number;
	/** The name in the local header, when it should differ from the central one. */
	localName?: Buffer;
}

/** A single-disk zip of `entries`, exactly as given (no name checks at all). */
export function writeZip(entries: WriteEntry[]): Buffer {
	const locals: Buffer[] = [];
	const centrals: Buffer[] = [];
	let offset = 0;
	for (const e of entries) {
		const method = e.method ?? 8;
		const stored = method === 8 ? deflateRawSync(e.data) : e.data;
		const crc = crc32(e.data) >>> 0;
		const extra = e.extra ?? Buffer.alloc(0);
		const localName = e.localName ?? e.name;
		const local = Buffer.alloc(30);
		local.writeUInt32LE(SIG.local, 0);
		local.writeUInt16LE(20, 4);
		local.writeUInt16LE(e.flags ?? 0, 6);
		local.writeUInt16LE(method, 8);
		local.writeUInt16LE(0x4000, 10);
		local.writeUInt16LE(0x5b41, 12);
		local.writeUInt32LE(crc, 14);
		local.writeUInt32LE(stored.length, 18);
		local.writeUInt32LE(e.data.length, 22);
		local.writeUInt16LE(localName.length, 26);
		local.writeUInt16LE(extra.length, 28);
		const central = Buffer.alloc(46);
		central.writeUInt32LE(SIG.central, 0);
		central.writeUInt16LE(0x031e, 4);
		central.writeUInt16LE(20, 6);
		central.writeUInt16LE(e.flags ?? 0, 8);
		central.writeUInt16LE(method, 10);
		central.writeUInt16LE(0x4000, 12);
		central.writeUInt16LE(0x5b41, 14);
		central.writeUInt32LE(crc, 16);
		central.writeUInt32LE(stored.length, 20);
		central.writeUInt32LE(e.data.length, 24);
		central.writeUInt16LE(e.name.length, 28);
		central.writeUInt16LE(extra.length, 30);
		central.writeUInt32LE(((e.unixMode ?? 0o100644) * 0x10000) >>> 0, 38);
		central.writeUInt32LE(offset, 42);
		const localBytes = Buffer.concat([local, localName, extra, stored]);
		locals.push(localBytes);
		centrals.push(Buffer.concat([central, e.name, extra]));
		offset += localBytes.length;
	}
	const cd = Buffer.concat(centrals);
	const eocd = Buffer.alloc(22);
	eocd.writeUInt32LE(SIG.eocd, 0);
	eocd.writeUInt16LE(Math.min(entries.length, 0xffff), 8);
	eocd.writeUInt16LE(Math.min(entries.length, 0xffff), 10);
	eocd.writeUInt32LE(cd.length, 12);
	eocd.writeUInt32LE(offset, 16);
	return Buffer.concat([...locals, cd, eocd]);
}

/** The Info-ZIP Unicode Path extra field (0x7075) giving `name` for an entry whose stored name is `stored`. */
export function unicodePathExtra(stored: Buffer, name: Buffer): Buffer {
	const head = Buffer.alloc(9);
	head.writeUInt16LE(0x7075, 0);
	head.writeUInt16LE(5 + name.length, 2);
	head.writeUInt8(1, 4);
	head.writeUInt32LE(crc32(stored) >>> 0, 5);
	return Buffer.concat([head, name]);
}

/**
 * A single-disk zip whose central directory is replaced by `records` (raw central records, in that
 * order, possibly repeated), with the end record's counts and size to match.
 */
export function withCentralRecords(data: Buffer, layout: ZipLayout, records: Buffer[]): Buffer {
	const cd = Buffer.concat(records);
	const before = data.subarray(0, layout.cdStart);
	const eocd = Buffer.from(data.subarray(layout.eocd));
	eocd.writeUInt16LE(Math.min(records.length, 0xffff), 8);
	eocd.writeUInt16LE(Math.min(records.length, 0xffff), 10);
	eocd.writeUInt32LE(cd.length, 12);
	return Buffer.concat([before, cd, eocd]);
}
