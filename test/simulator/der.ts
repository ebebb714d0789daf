/**
 * The simulator's own small DER toolkit (X.690), written for the S/MIME writer and independent of
 * the package's BER reader in src/cms: definite-length encoding of the few types CMS needs, and a
 * reader just good enough to pick fields out of a DER certificate.
 */

export const TAG = {
	INTEGER: 0x02,
	OCTET_STRING: 0x04,
	NULL: 0x05,
	OBJECT_IDENTIFIER: 0x06,
	SEQUENCE: 0x30,
	SET: 0x31,
} as const;

/** The length octets of a definite-length encoding. */
export function encodeLength(length: number): Buffer {
	if (!Number.isSafeInteger(length) || length < 0)
		throw new RangeError(`cannot encode a DER length of ${length}`);
	if (length < 0x80) return Buffer.from([length]);
	const bytes: number[] = [];
	for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
	return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element: identifier octet, length, contents. */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
	const body = Buffer.concat(contents);
	return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const sequence = (...elements: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...elements);

/** SET OF, with its elements in DER order (sorted by their encodings). */
export const setOf = (...elements: Buffer[]): Buffer =>
	tlv(TAG.SET, ...[...elements].sort(Buffer.compare));

export const octetString = (bytes: Buffer): Buffer => tlv(TAG.OCTET_STRING, bytes);

export const nullValue = (): Buffer => Buffer.from([TAG.NULL, 0x00]);

/** A non-negative INTEGER in its minimal two's-complement form. */
export function integer(value: number | bigint): Buffer {
	let n = BigInt(value);
	if (n < 0n) throw new RangeError('negative INTEGERs are not needed here');
	const bytes: number[] = [];
	do {
		bytes.unshift(Number(n & 0xffn));
		n >>= 8n;
	} while (n > 0n);
	if (bytes[0] & 0x80) bytes.unshift(0);
	return tlv(TAG.INTEGER, Buffer.from(bytes));
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function objectIdentifier(dotted: string): Buffer {
	const arcs = dotted.split('.').map((arc) => {
		if (!/^\d+$/.test(arc)) throw new Error(`"${dotted}" is not an object identifier`);
		return BigInt(arc);
	});
	if (arcs.length < 2 || arcs[0] > 2n || (arcs[0] < 2n && arcs[1] > 39n))
		throw new Error(`"${dotted}" is not an object identifier`);
	const bytes: number[] = [];
	for (const arc of [arcs[0] * 40n + arcs[1], ...arcs.slice(2)]) {
		const chunk: number[] = [Number(arc & 0x7fn)];
		for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) chunk.unshift(Number(rest & 0x7fn) | 0x80);
		bytes.push(...chunk);
	}
	return tlv(TAG.OBJECT_IDENTIFIER, Buffer.from(bytes));
}

/** [n] EXPLICIT or a constructed IMPLICIT context-specific element. */
export const contextConstructed = (n: number, ...contents: Buffer[]): Buffer =>
	tlv(0xa0 | n, ...contents);

/** [n] IMPLICIT over a primitive type (e.g. OCTET STRING). */
export const contextPrimitive = (n: number, contents: Buffer): Buffer => tlv(0x80 | n, contents);

/** Where one DER element sits in a buffer. */
export interface DerElement {
	tag: number;
	/** Offset of the identifier octet. */
	at: number;
	/** Offset of the first content octet. */
	start: number;
	/** Offset just past the last content octet (the next element's `at`). */
	end: number;
}

/** Reads the element at `at` (single-octet tags and definite lengths only, as DER has). */
export function readElement(der: Buffer, at: number): DerElement {
	if (at + 2 > der.length) throw new Error(`DER: no element at byte ${at}`);
	const tag = der[at];
	if ((tag & 0x1f) === 0x1f) throw new Error(`DER: multi-octet tag at byte ${at}`);
	let length = der[at + 1];
	let start = at + 2;
	if (length === 0x80) throw new Error(`DER: indefinite length at byte ${at}`);
	if (length & 0x80) {
		const count = length & 0x7f;
		if (count > 6 || start + count > der.length) throw new Error(`DER: bad length at byte ${at}`);
		length = 0;
		for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
		start += count;
	}
	const end = start + length;
	if (end > der.length)
		throw new Error(`DER: element at byte ${at} runs past the end (${end} > ${der.length})`);
	return { tag, at, start, end };
}

/** The elements directly inside a constructed element. */
export function children(der: Buffer, parent: DerElement): DerElement[] {
	const out: DerElement[] = [];
	for (let at = parent.start; at < parent.end; ) {
		const child = readElement(der, at);
		out.push(child);
		at = child.end;
	}
	return out;
}

/**
 * The issuer Name and serialNumber of an X.509 certificate, as their exact DER encodings (what a
 * CMS IssuerAndSerialNumber copies).
 */
export function certificateIssuerAndSerial(certificateDer: Buffer): {
	issuer: Buffer;
	serialNumber: Buffer;
} {
	const certificate = readElement(certificateDer, 0);
	const [tbs] = children(certificateDer, certificate);
	if (certificate.tag !== TAG.SEQUENCE || tbs?.tag !== TAG.SEQUENCE)
		throw new Error('not an X.509 certificate');
	const fields = children(certificateDer, tbs);
	// tbsCertificate: [0] version (optional), serialNumber, signature, issuer, …
	const first = fields[0]?.tag === 0xa0 ? 1 : 0;
	const serial = fields[first];
	const issuer = fields[first + 2];
	if (serial?.tag !== TAG.INTEGER || issuer?.tag !== TAG.SEQUENCE)
		throw new Error('not an X.509 certificate');
	return {
		issuer: certificateDer.subarray(issuer.at, issuer.end),
		serialNumber: certificateDer.subarray(serial.at, serial.end),
	};
}
