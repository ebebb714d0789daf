/**
 * A small in-memory BER/DER reader for the bounded parts of CMS and X.509: recipient infos,
 * algorithm identifiers, certificates. The encrypted content itself never goes through here: it
 * is streamed by `decrypt.ts`. Every read is bounds-checked; a malformed structure throws a
 * CxError naming the byte offset and what was expected.
 */
import { CxError } from '../errors';

export const TAG = {
	BOOLEAN: 0x01,
	INTEGER: 0x02,
	BIT_STRING: 0x03,
	OCTET_STRING: 0x04,
	NULL: 0x05,
	OID: 0x06,
	SEQUENCE: 0x10,
	SET: 0x11,
} as const;

export type TagClass = 'universal' | 'application' | 'context' | 'private';

export interface Tlv {
	/** Tag number (low bits; high-tag-number form is decoded). */
	tag: number;
	cls: TagClass;
	constructed: boolean;
	/** Offset of the first identifier byte in the buffer. */
	start: number;
	headerLength: number;
	/** Content length, or `undefined` for the indefinite form. */
	length: number | undefined;
	/** Offset of the first content byte. */
	contentStart: number;
	/** Offset just past the content (before the end-of-contents octets for indefinite length). */
	contentEnd: number;
	/** Offset just past the whole element (after end-of-contents octets, if any). */
	end: number;
}

const CLASSES: TagClass[] = ['universal', 'application', 'context', 'private'];

/** Maximum nesting we accept; CMS headers and certificates are far shallower. */
export const MAX_DEPTH = 64;

export interface TlvHeader {
	tag: number;
	cls: TagClass;
	constructed: boolean;
	headerLength: number;
	length: number | undefined;
}

/**
 * Decodes an identifier + length header at `offset`. Returns `undefined` when `buf` does not hold
 * the whole header yet (the streaming reader asks for more bytes then).
 */
export function readHeader(buf: Uint8Array, offset: number, what = 'ASN.1'): TlvHeader | undefined {
	let p = offset;
	if (p >= buf.length) return undefined;
	const first = buf[p++];
	const cls = CLASSES[first >> 6];
	const constructed = (first & 0x20) !== 0;
	let tag = first & 0x1f;
	if (tag === 0x1f) {
		tag = 0;
		for (let i = 0; ; i++) {
			if (p >= buf.length) return undefined;
			const b = buf[p++];
			if (i >= 4)
				throw new CxError('CMS_FORMAT', `${what}: tag number too large at byte ${offset}`);
			tag = (tag << 7) | (b & 0x7f);
			if ((b & 0x80) === 0) break;
		}
	}
	if (p >= buf.length) return undefined;
	const l0 = buf[p++];
	let length: number | undefined;
	if (l0 < 0x80) {
		length = l0;
	} else if (l0 === 0x80) {
		if (!constructed) {
			throw new CxError(
				'CMS_FORMAT',
				`${what}: indefinite length on a primitive element at byte ${offset}`,
			);
		}
		length = undefined;
	} else {
		const n = l0 & 0x7f;
		if (n > 6 || l0 === 0xff) {
			throw new CxError(
				'CMS_FORMAT',
				`${what}: length of ${n} bytes at byte ${offset} is not supported`,
			);
		}
		if (p + n > buf.length) return undefined;
		length = 0;
		for (let i = 0; i < n; i++) length = length * 256 + buf[p++];
	}
	return { tag, cls, constructed, headerLength: p - offset, length };
}

/** Reads one complete element at `offset`; the element must lie wholly inside `[offset, limit)`. */
export function readTlv(
	buf: Uint8Array,
	offset: number,
	limit = buf.length,
	what = 'ASN.1',
	depth = 0,
): Tlv {
	if (depth > MAX_DEPTH)
		throw new CxError('CMS_FORMAT', `${what}: nesting deeper than ${MAX_DEPTH} at byte ${offset}`);
	const view = limit === buf.length ? buf : buf.subarray(0, limit);
	const h = readHeader(view, offset, what);
	if (h === undefined) throw runsPast(buf, limit, what, offset);
	const contentStart = offset + h.headerLength;
	if (h.length !== undefined) {
		const end = contentStart + h.length;
		if (end > limit)
			throw runsPast(
				buf,
				limit,
				what,
				offset,
				`declares ${h.length} bytes, only ${limit - contentStart} remain`,
			);
		return { ...h, start: offset, contentStart, contentEnd: end, end };
	}
	// Indefinite length: children until the end-of-contents octets 00 00.
	let p = contentStart;
	for (;;) {
		if (p + 2 > limit) throw runsPast(buf, limit, what, offset, 'has no end-of-contents');
		if (buf[p] === 0 && buf[p + 1] === 0)
			return { ...h, start: offset, contentStart, contentEnd: p, end: p + 2 };
		p = readTlv(buf, p, limit, what, depth + 1).end;
	}
}

/**
 * An element that runs past the end of the data is `CMS_TRUNCATED` (the streaming reader then
 * fetches more); one that runs past its parent's declared length is malformed.
 */
function runsPast(
	buf: Uint8Array,
	limit: number,
	what: string,
	offset: number,
	detail = 'runs past the end',
): CxError {
	return limit >= buf.length
		? new CxError('CMS_TRUNCATED', `${what}: element at byte ${offset} ${detail} of the data`)
		: new CxError('CMS_FORMAT', `${what}: element at byte ${offset} ${detail} of its container`);
}

/**
 * `t`, or CMS_FORMAT when it is missing: a structure with fewer elements than it must have (the
 * callers destructure children, which a damaged file can leave short).
 */
export function present(t: Tlv | undefined, what: string): Tlv {
	if (t === undefined) throw new CxError('CMS_FORMAT', `${what}: a required element is missing`);
	return t;
}

/**
 * Runs `parse` over bytes already in memory: a failure that is not a CxError (a check this reader
 * lacks) is reported as the malformed structure it is, never as a TypeError. Only for parsers that
 * do no I/O, so that nothing but malformed bytes is ever reported so.
 */
export function parsing<T>(what: string, parse: () => T): T {
	try {
		return parse();
	} catch (error) {
		if (error instanceof CxError) throw error;
		throw new CxError(
			'CMS_FORMAT',
			`${what}: malformed structure (${error instanceof RangeError ? 'out of range' : 'unexpected layout'})`,
			{ cause: error },
		);
	}
}

/** The direct children of a constructed element. */
export function children(buf: Uint8Array, element: Tlv | undefined, what = 'ASN.1'): Tlv[] {
	const parent = present(element, what);
	if (!parent.constructed)
		throw new CxError(
			'CMS_FORMAT',
			`${what}: expected a constructed element at byte ${parent.start}`,
		);
	const out: Tlv[] = [];
	let p = parent.contentStart;
	while (p < parent.contentEnd) {
		const child = readTlv(buf, p, parent.contentEnd, what);
		out.push(child);
		p = child.end;
	}
	return out;
}

export function expectTag(element: Tlv | undefined, tag: number, cls: TagClass, what: string): Tlv {
	const t = present(element, what);
	if (t.tag !== tag || t.cls !== cls) {
		throw new CxError(
			'CMS_FORMAT',
			`${what}: expected ${describeTag(tag, cls)} at byte ${t.start}, found ${describeTag(t.tag, t.cls)}`,
		);
	}
	return t;
}

export function describeTag(tag: number, cls: TagClass): string {
	if (cls === 'context') return `[${tag}]`;
	if (cls !== 'universal') return `${cls} tag ${tag}`;
	const names: Record<number, string> = {
		1: 'BOOLEAN',
		2: 'INTEGER',
		3: 'BIT STRING',
		4: 'OCTET STRING',
		5: 'NULL',
		6: 'OBJECT IDENTIFIER',
		16: 'SEQUENCE',
		17: 'SET',
	};
	return names[tag] ?? `universal tag ${tag}`;
}

export function content(buf: Uint8Array, element: Tlv | undefined, what = 'ASN.1'): Buffer {
	const t = present(element, what);
	return Buffer.from(buf.buffer, buf.byteOffset + t.contentStart, t.contentEnd - t.contentStart);
}

export function raw(buf: Uint8Array, element: Tlv | undefined, what = 'ASN.1'): Buffer {
	const t = present(element, what);
	return Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);
}

/**
 * The bytes of an OCTET STRING, primitive or constructed (BER allows the constructed form, made of
 * nested OCTET STRING segments). Segments nested deeper than MAX_DEPTH are refused: a hostile file
 * could otherwise nest them until the stack overflows.
 */
export function octets(
	buf: Uint8Array,
	element: Tlv | undefined,
	what = 'ASN.1',
	depth = 0,
): Buffer {
	const t = present(element, what);
	if (!t.constructed) return content(buf, t);
	if (depth >= MAX_DEPTH)
		throw new CxError(
			'CMS_FORMAT',
			`${what}: OCTET STRING segments nested deeper than ${MAX_DEPTH} at byte ${t.start}`,
		);
	return Buffer.concat(children(buf, t, what).map((c) => octets(buf, c, what, depth + 1)));
}

export function decodeOid(bytes: Uint8Array, what = 'ASN.1'): string {
	if (bytes.length === 0) throw new CxError('CMS_FORMAT', `${what}: empty OBJECT IDENTIFIER`);
	const parts: number[] = [];
	let value = 0;
	for (let i = 0; i < bytes.length; i++) {
		value = value * 128 + (bytes[i] & 0x7f);
		if ((bytes[i] & 0x80) === 0) {
			if (parts.length === 0) {
				const first = value < 80 ? Math.floor(value / 40) : 2;
				parts.push(first, value - first * 40);
			} else {
				parts.push(value);
			}
			value = 0;
		} else if (value > Number.MAX_SAFE_INTEGER / 128) {
			throw new CxError('CMS_FORMAT', `${what}: OBJECT IDENTIFIER component too large`);
		}
	}
	if ((bytes[bytes.length - 1] & 0x80) !== 0)
		throw new CxError('CMS_FORMAT', `${what}: truncated OBJECT IDENTIFIER`);
	return parts.join('.');
}

export function oidOf(buf: Uint8Array, t: Tlv, what: string): string {
	expectTag(t, TAG.OID, 'universal', what);
	return decodeOid(content(buf, t), what);
}

/** Non-negative INTEGER content as a small number (versions, ICV lengths). */
export function smallInt(buf: Uint8Array, t: Tlv, what: string): number {
	expectTag(t, TAG.INTEGER, 'universal', what);
	const c = content(buf, t);
	if (c.length === 0 || c.length > 4)
		throw new CxError(
			'CMS_FORMAT',
			`${what}: unexpected INTEGER of ${c.length} bytes at byte ${t.start}`,
		);
	return c.readUIntBE(0, c.length);
}

/** Upper-case hex of an INTEGER's magnitude (serial numbers), without leading zero bytes. */
export function integerHex(bytes: Uint8Array): string {
	let i = 0;
	while (i < bytes.length - 1 && bytes[i] === 0) i++;
	return Buffer.from(bytes.subarray(i)).toString('hex').toUpperCase();
}
