/**
 * The central directory rewrite for offsets that do not fit 32 bits, checked field by field —
 * real archives past 4 GiB are in test/large/zip64-offsets.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
	findEocd,
	parseExtraFields,
	readCentralEntry,
	readZip64Eocd,
	rewriteCentralEntry,
	writeEndRecords,
} from '../../src/zip/format';

interface HeaderFields {
	versionNeeded?: number;
	compressedSize?: number;
	uncompressedSize?: number;
	disk?: number;
	offset?: number;
	extra?: Buffer;
	name?: string;
	comment?: string;
}

function centralHeader(f: HeaderFields): Buffer {
	const name = Buffer.from(f.name ?? 'Interaction-1.json');
	const extra = f.extra ?? Buffer.alloc(0);
	const comment = Buffer.from(f.comment ?? '');
	const h = Buffer.alloc(46);
	h.writeUInt32LE(0x02014b50, 0);
	h.writeUInt16LE(0x031e, 4);
	h.writeUInt16LE(f.versionNeeded ?? 20, 6);
	h.writeUInt16LE(8, 10);
	h.writeUInt32LE(0x12345678, 16);
	h.writeUInt32LE(f.compressedSize ?? 1000, 20);
	h.writeUInt32LE(f.uncompressedSize ?? 5000, 24);
	h.writeUInt16LE(name.length, 28);
	h.writeUInt16LE(extra.length, 30);
	h.writeUInt16LE(comment.length, 32);
	h.writeUInt16LE(f.disk ?? 3, 34);
	h.writeUInt32LE(f.offset ?? 123, 42);
	return Buffer.concat([h, name, extra, comment]);
}

function subfield(id: number, data: Buffer): Buffer {
	const head = Buffer.alloc(4);
	head.writeUInt16LE(id, 0);
	head.writeUInt16LE(data.length, 2);
	return Buffer.concat([head, data]);
}

function u64(...values: number[]): Buffer {
	const b = Buffer.alloc(8 * values.length);
	values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), i * 8));
	return b;
}

const UT = subfield(0x5455, Buffer.from([1, 1, 2, 3, 4]));

function reread(bytes: Buffer) {
	return readCentralEntry(bytes, 0, bytes.length);
}

describe('rewriteCentralEntry', () => {
	it('sets disk 0 and the absolute offset when it fits 32 bits; the rest is unchanged', () => {
		const original = centralHeader({ extra: UT, comment: 'c' });
		const rewritten = rewriteCentralEntry(reread(original), 0xfffffffe);
		expect(rewritten.length).toBe(original.length);
		const entry = reread(rewritten);
		expect(entry).toMatchObject({
			disk: 0,
			localOffset: 0xfffffffe,
			compressedSize: 1000,
			uncompressedSize: 5000,
		});
		expect(Buffer.compare(rewritten.subarray(0, 34), original.subarray(0, 34))).toBe(0);
		expect(rewritten.subarray(46).equals(original.subarray(46))).toBe(true);
	});

	it('adds a Zip64 extra field for an offset of 0xFFFFFFFF or more, after the other subfields', () => {
		const rewritten = rewriteCentralEntry(reread(centralHeader({ extra: UT })), 0xffffffff);
		const entry = reread(rewritten);
		expect(entry.localOffset).toBe(0xffffffff);
		expect(rewritten.readUInt32LE(42)).toBe(0xffffffff);
		expect(rewritten.readUInt16LE(6)).toBe(45); // version needed: Zip64
		const { fields } = parseExtraFields(entry.extra);
		expect(fields.map((f) => f.id)).toEqual([0x5455, 0x0001]);
		expect(fields[1].data.equals(u64(0xffffffff))).toBe(true);
	});

	it('extends an existing Zip64 field in the APPNOTE order: uncompressed, compressed, offset', () => {
		const extra = Buffer.concat([subfield(0x0001, u64(6_000_000_000, 5_500_000_000)), UT]);
		const original = centralHeader({
			uncompressedSize: 0xffffffff,
			compressedSize: 0xffffffff,
			extra,
		});
		const entry = reread(rewriteCentralEntry(reread(original), 9_000_000_000));
		expect(entry).toMatchObject({
			uncompressedSize: 6_000_000_000,
			compressedSize: 5_500_000_000,
			localOffset: 9_000_000_000,
			disk: 0,
		});
		const { fields } = parseExtraFields(entry.extra);
		expect(fields.map((f) => f.id)).toEqual([0x0001, 0x5455]); // kept in place
		expect(fields[0].data.equals(u64(6_000_000_000, 5_500_000_000, 9_000_000_000))).toBe(true);
	});

	it('drops the Zip64 disk number (0 fits 16 bits) and keeps Zip64 offsets that were Zip64', () => {
		const zip64 = Buffer.concat([u64(4_294_967_400), Buffer.from([7, 0, 0, 0])]); // offset, disk 7
		const original = centralHeader({
			offset: 0xffffffff,
			disk: 0xffff,
			extra: subfield(0x0001, zip64),
		});
		expect(reread(original)).toMatchObject({ localOffset: 4_294_967_400, disk: 7 });
		const entry = reread(rewriteCentralEntry(reread(original), 100));
		expect(entry).toMatchObject({ localOffset: 100, disk: 0 });
		expect(parseExtraFields(entry.extra).fields[0].data.equals(u64(100))).toBe(true);
	});

	it('removes a Zip64 field left empty', () => {
		const original = centralHeader({
			disk: 0xffff,
			extra: Buffer.concat([UT, subfield(0x0001, Buffer.from([2, 0, 0, 0]))]),
		});
		const entry = reread(rewriteCentralEntry(reread(original), 50));
		expect(parseExtraFields(entry.extra).fields.map((f) => f.id)).toEqual([0x5455]);
	});

	it('refuses 0xFFFFFFFF fields without a Zip64 extra field, and two Zip64 fields', () => {
		expect(() => reread(centralHeader({ uncompressedSize: 0xffffffff }))).toThrow(
			/uncompressed size.*no Zip64 extra field/,
		);
		const twice = Buffer.concat([subfield(0x0001, u64(1)), subfield(0x0001, u64(2))]);
		expect(() => reread(centralHeader({ uncompressedSize: 0xffffffff, extra: twice }))).toThrow(
			/two Zip64 extra fields/,
		);
	});
});

describe('writeEndRecords', () => {
	it('writes a plain end record when everything fits', () => {
		const { bytes, zip64 } = writeEndRecords({
			entries: 3,
			cdSize: 200,
			cdOffset: 1000,
			comment: Buffer.from('hi'),
			zip64: false,
		});
		expect(zip64).toBe(false);
		expect(findEocd(bytes)).toMatchObject({
			at: 0,
			thisDisk: 0,
			cdDisk: 0,
			entriesThisDisk: 3,
			totalEntries: 3,
			cdSize: 200,
			cdOffset: 1000,
		});
	});

	it.each([
		['more than 65534 entries', { entries: 70_000, cdSize: 200, cdOffset: 1000 }],
		['a central directory past 4 GiB', { entries: 3, cdSize: 200, cdOffset: 5_000_000_000 }],
		['a central directory of 4 GiB', { entries: 3, cdSize: 0xffffffff, cdOffset: 10 }],
	])('writes Zip64 records for %s', (_, values) => {
		const { bytes, zip64 } = writeEndRecords({ ...values, comment: Buffer.alloc(0), zip64: false });
		expect(zip64).toBe(true);
		const record = readZip64Eocd(bytes, 0);
		expect(record).toMatchObject({
			thisDisk: 0,
			cdDisk: 0,
			totalEntries: values.entries,
			entriesThisDisk: values.entries,
			cdSize: values.cdSize,
			cdOffset: values.cdOffset,
		});
		const eocd = findEocd(bytes)!;
		expect(bytes.readUInt32LE(eocd.at - 20)).toBe(0x07064b50);
		expect(Number(bytes.readBigUInt64LE(eocd.at - 12))).toBe(values.cdOffset + values.cdSize); // locator → record
		expect(bytes.readUInt32LE(eocd.at - 4)).toBe(1); // one disk
	});
});
