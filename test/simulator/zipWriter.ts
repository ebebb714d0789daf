/**
 * The simulator's own zip writer (independent of the package's reassembly code, so tests compare
 * two implementations): deflated entries, CRC-32, and Info-ZIP style split archives — the first
 * part starts with the spanning signature `PK\x07\x08`, every central-directory record carries the
 * disk its entry starts on and the offset on that disk, and the end record counts disks. Sizes
 * stay under 4 GiB (no Zip64): simulator exports are small.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipInput {
	name: string;
	data: Buffer;
}

const SPANNING_SIGNATURE = Buffer.from([0x50, 0x4b, 0x07, 0x08]);
/** 2026-01-01 00:00 in MS-DOS date/time. */
const DOS_TIME = 0;
const DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1;

interface Prepared {
	name: Buffer;
	utf8: boolean;
	crc: number;
	size: number;
	compressed: Buffer;
	method: number;
}

function prepare(entry: ZipInput): Prepared {
	const name = Buffer.from(entry.name, 'utf8');
	const deflated = deflateRawSync(entry.data, { level: 6 });
	const stored = deflated.length >= entry.data.length;
	return {
		name,
		utf8: /[^\x20-\x7e]/.test(entry.name),
		crc: crc32(entry.data) >>> 0,
		size: entry.data.length,
		compressed: stored ? entry.data : deflated,
		method: stored ? 0 : 8,
	};
}

function localHeader(e: Prepared): Buffer {
	const h = Buffer.alloc(30);
	h.writeUInt32LE(0x04034b50, 0);
	h.writeUInt16LE(20, 4);
	h.writeUInt16LE(e.utf8 ? 0x0800 : 0, 6);
	h.writeUInt16LE(e.method, 8);
	h.writeUInt16LE(DOS_TIME, 10);
	h.writeUInt16LE(DOS_DATE, 12);
	h.writeUInt32LE(e.crc, 14);
	h.writeUInt32LE(e.compressed.length, 18);
	h.writeUInt32LE(e.size, 22);
	h.writeUInt16LE(e.name.length, 26);
	h.writeUInt16LE(0, 28);
	return Buffer.concat([h, e.name]);
}

function centralRecord(e: Prepared, disk: number, offset: number): Buffer {
	const h = Buffer.alloc(46);
	h.writeUInt32LE(0x02014b50, 0);
	h.writeUInt16LE(0x031e, 4); // made by: Unix, 3.0
	h.writeUInt16LE(20, 6);
	h.writeUInt16LE(e.utf8 ? 0x0800 : 0, 8);
	h.writeUInt16LE(e.method, 10);
	h.writeUInt16LE(DOS_TIME, 12);
	h.writeUInt16LE(DOS_DATE, 14);
	h.writeUInt32LE(e.crc, 16);
	h.writeUInt32LE(e.compressed.length, 20);
	h.writeUInt32LE(e.size, 24);
	h.writeUInt16LE(e.name.length, 28);
	h.writeUInt16LE(0, 30); // extra
	h.writeUInt16LE(0, 32); // comment
	h.writeUInt16LE(disk, 34);
	h.writeUInt16LE(0, 36); // internal attributes
	h.writeUInt32LE((0o100644 << 16) >>> 0, 38);
	h.writeUInt32LE(offset, 42);
	return Buffer.concat([h, e.name]);
}

function endRecord(thisDisk: number, cdDisk: number, entriesHere: number, entries: number, cdSize: number, cdOffset: number): Buffer {
	const h = Buffer.alloc(22);
	h.writeUInt32LE(0x06054b50, 0);
	h.writeUInt16LE(thisDisk, 4);
	h.writeUInt16LE(cdDisk, 6);
	h.writeUInt16LE(entriesHere, 8);
	h.writeUInt16LE(entries, 10);
	h.writeUInt32LE(cdSize, 12);
	h.writeUInt32LE(cdOffset, 16);
	h.writeUInt16LE(0, 20);
	return h;
}

/**
 * Writes a zip; with `splitSize`, as split parts of at most that many bytes (the last one holds
 * the whole central directory and end record, as Info-ZIP keeps them together). A zip that fits
 * in one part is an ordinary zip, as `zip -s` makes it.
 */
export function buildZip(inputs: ZipInput[], splitSize?: number): Buffer[] {
	const entries = inputs.map(prepare);
	const bodies = entries.map((e) => Buffer.concat([localHeader(e), e.compressed]));
	const cdLength = entries.reduce((n, e) => n + 46 + e.name.length, 0);
	const plainLength = bodies.reduce((n, b) => n + b.length, 0) + cdLength + 22;
	if (!splitSize || plainLength <= splitSize) {
		let offset = 0;
		const cd: Buffer[] = [];
		entries.forEach((e, i) => {
			cd.push(centralRecord(e, 0, offset));
			offset += bodies[i].length;
		});
		return [Buffer.concat([...bodies, ...cd, endRecord(0, 0, entries.length, entries.length, cdLength, offset)])];
	}
	if (splitSize < cdLength + 22 + 64) throw new Error(`split size ${splitSize} is too small for this archive's central directory`);

	// Lay the stream out: signature, then entries cut at part boundaries wherever they fall.
	const parts: Buffer[][] = [[SPANNING_SIGNATURE]];
	let used = SPANNING_SIGNATURE.length;
	const starts: Array<{ disk: number; offset: number }> = [];
	const append = (data: Buffer) => {
		let rest = data;
		while (rest.length > 0) {
			if (used === splitSize) {
				parts.push([]);
				used = 0;
			}
			const take = Math.min(rest.length, splitSize - used);
			parts[parts.length - 1].push(rest.subarray(0, take));
			used += take;
			rest = rest.subarray(take);
		}
	};
	bodies.forEach((body) => {
		if (used === splitSize) {
			parts.push([]);
			used = 0;
		}
		starts.push({ disk: parts.length - 1, offset: used });
		append(body);
	});
	// The central directory and end record go together in the last part.
	if (splitSize - used < cdLength + 22) {
		parts.push([]);
		used = 0;
	}
	const cdDisk = parts.length - 1;
	const cdOffset = used;
	const cd = Buffer.concat(entries.map((e, i) => centralRecord(e, starts[i].disk, starts[i].offset)));
	parts[cdDisk].push(cd, endRecord(cdDisk, cdDisk, entries.length, entries.length, cdLength, cdOffset));
	return parts.map((chunks) => Buffer.concat(chunks));
}

/** Genesys's names for the parts: `<base>.z01` … `<base>.z99`, `.z100` …, and `<base>.zip` last. */
export function partNames(base: string, count: number): string[] {
	return Array.from({ length: count }, (_, i) => (i === count - 1 ? `${base}.zip` : `${base}.z${String(i + 1).padStart(2, '0')}`));
}
