/**
 * CMS / BER at the byte level, for the fuzz mutations (independent of src/cms): the element
 * headers of a message with the offset and form of their length octets, length octets rewritten to
 * extreme values, S/MIME and PEM armour taken off and put back, and EnvelopedData built with parts
 * nested deeper than any real message (constructed OCTET STRINGs, indefinite lengths).
 */
import {
	constants,
	createCipheriv,
	publicEncrypt,
	randomBytes,
	X509Certificate,
} from 'node:crypto';
import {
	certificateIssuerAndSerial,
	encodeLength,
	integer,
	nullValue,
	objectIdentifier,
	octetString,
	sequence,
	setOf,
	tlv,
} from '../simulator/der';
import { smimeMessage } from '../simulator/smime';

export interface DerHeader {
	at: number;
	/** Offset of the first length octet. */
	lengthAt: number;
	/** How many length octets there are. */
	lengthBytes: number;
	constructed: boolean;
	/** undefined: indefinite. */
	length: number | undefined;
}

/** The headers of every element, walking into constructed ones (at most `max`). */
export function derHeaders(der: Buffer, max = 4000): DerHeader[] {
	const out: DerHeader[] = [];
	const walk = (start: number, end: number, depth: number): number => {
		let p = start;
		while (p < end && out.length < max) {
			if (der[p] === 0 && der[p + 1] === 0) return p + 2; // end-of-contents
			const at = p;
			const first = der[p++];
			if ((first & 0x1f) === 0x1f) while (p < end && der[p++] & 0x80);
			if (p >= end) return end;
			const lengthAt = p;
			const l0 = der[p++];
			let length: number | undefined;
			if (l0 < 0x80) length = l0;
			else if (l0 === 0x80) length = undefined;
			else {
				const n = l0 & 0x7f;
				if (n > 6 || p + n > end) return end;
				length = 0;
				for (let i = 0; i < n; i++) length = length * 256 + der[p++];
			}
			const constructed = (first & 0x20) !== 0;
			out.push({ at, lengthAt, lengthBytes: p - lengthAt, constructed, length });
			if (constructed && depth < 32) {
				const inner = walk(p, length === undefined ? end : Math.min(end, p + length), depth + 1);
				p = length === undefined ? inner : p + length;
			} else {
				if (length === undefined) return end;
				p += length;
			}
		}
		return p;
	};
	walk(0, der.length, 0);
	return out;
}

/** Length octets worth trying in place of a header's own. */
export function extremeLengths(header: DerHeader, fileLength: number): Buffer[] {
	const original = header.length ?? 0;
	const forms = [
		Buffer.from([0x00]),
		Buffer.from([0x7f]),
		Buffer.from([0x80]),
		Buffer.from([0x81, 0x00]),
		Buffer.from([0x81, 0xff]),
		Buffer.from([0x82, 0xff, 0xff]),
		Buffer.from([0x84, 0x7f, 0xff, 0xff, 0xff]),
		Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff]),
		Buffer.from([0x86, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
		Buffer.from([0x87, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
		Buffer.from([0x88, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
		Buffer.from([0x89, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
		Buffer.from([0xff]),
		Buffer.from([0x83, 0x00, 0x00, 0x01]), // not minimal
		encodeLength(original + 1),
		encodeLength(Math.max(0, original - 1)),
		encodeLength(fileLength),
		encodeLength(fileLength * 2 + 1),
		encodeLength(2 ** 48 - 1),
	];
	return forms;
}

/** `der` with the length octets of `header` replaced by `length`. */
export function withLength(der: Buffer, header: DerHeader, length: Buffer): Buffer {
	return Buffer.concat([
		der.subarray(0, header.lengthAt),
		length,
		der.subarray(header.lengthAt + header.lengthBytes),
	]);
}

export type Armour = 'der' | 'smime' | 'pem';

/** The DER inside an S/MIME or PEM message, and how it was wrapped. */
export function unarmour(message: Buffer): { der: Buffer; armour: Armour } {
	if (message[0] === 0x30) return { der: message, armour: 'der' };
	const text = message.toString('latin1');
	const pem = /-----BEGIN (?:PKCS7|CMS)-----\r?\n([\s\S]*?)-----END/.exec(text);
	if (pem) return { der: Buffer.from(pem[1].replace(/\s+/g, ''), 'base64'), armour: 'pem' };
	const body = text.slice(text.search(/\r?\n\r?\n/)).replace(/\s+/g, '');
	return { der: Buffer.from(body, 'base64'), armour: 'smime' };
}

export function armour(der: Buffer, how: Armour): Buffer {
	if (how === 'der') return der;
	if (how === 'smime') return smimeMessage(der, 'application/x-pkcs7-mime');
	const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
	return Buffer.from(`-----BEGIN CMS-----\n${lines.join('\n')}\n-----END CMS-----\n`, 'latin1');
}

/**
 * `payload` wrapped in `depth` constructed elements with identifier `tag`: definite lengths
 * (computed inside out, written outside in, so a million levels cost one pass) or indefinite ones.
 */
export function nested(
	payload: Buffer,
	depth: number,
	form: 'definite' | 'indefinite',
	tag = 0x24,
): Buffer {
	if (form === 'indefinite') {
		const open = Buffer.alloc(depth * 2);
		for (let i = 0; i < depth; i++) {
			open[i * 2] = tag;
			open[i * 2 + 1] = 0x80;
		}
		return Buffer.concat([open, payload, Buffer.alloc(depth * 2)]);
	}
	const lengths: number[] = new Array(depth);
	let inner = payload.length;
	for (let i = depth - 1; i >= 0; i--) {
		lengths[i] = inner;
		inner += 1 + encodeLength(inner).length;
	}
	const out = Buffer.alloc(inner);
	let p = 0;
	for (let i = 0; i < depth; i++) {
		out[p++] = tag;
		const length = encodeLength(lengths[i]);
		length.copy(out, p);
		p += length.length;
	}
	payload.copy(out, p);
	return out;
}

export type NestedPart =
	| 'iv'
	| 'keyId'
	| 'encryptedKey'
	| 'content'
	| 'unprotectedAttrs'
	| 'originatorInfo';

const OID = {
	data: '1.2.840.113549.1.7.1',
	envelopedData: '1.2.840.113549.1.7.3',
	rsaEncryption: '1.2.840.113549.1.1.1',
	aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

/**
 * EnvelopedData (AES-256-CBC, RSA PKCS#1 v1.5) of `plaintext` for `certificate`, with one part
 * nested `depth` levels deep: the IV, the recipient's key identifier or encrypted key, or the
 * encrypted content as constructed OCTET STRINGs (BER allows all of them); unprotected
 * attributes or originator info as nested indefinite-length elements.
 */
export function nestedEnvelope(
	plaintext: Buffer,
	certificate: X509Certificate,
	keyIdentifier: Buffer,
	part: NestedPart,
	depth: number,
	form: 'definite' | 'indefinite',
): Buffer {
	const key = randomBytes(32);
	const iv = randomBytes(16);
	const cipher = createCipheriv('aes-256-cbc', key, iv);
	const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
	const encryptedKey = publicEncrypt(
		{ key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING },
		key,
	);
	const deepOctets = (bytes: Buffer) => nested(tlv(0x04, bytes), depth, form);
	let rid: Buffer;
	if (part === 'keyId') {
		// [0] IMPLICIT SubjectKeyIdentifier, constructed: its segments nested inside.
		const inner = nested(tlv(0x04, keyIdentifier), depth - 1, form);
		rid = Buffer.concat([
			Buffer.from([0xa0]),
			form === 'definite' ? encodeLength(inner.length) : Buffer.from([0x80]),
			inner,
			form === 'definite' ? Buffer.alloc(0) : Buffer.alloc(2),
		]);
	} else {
		const { issuer, serialNumber } = certificateIssuerAndSerial(certificate.raw);
		rid = sequence(issuer, serialNumber);
	}
	const ek = part === 'encryptedKey' ? deepOctets(encryptedKey) : octetString(encryptedKey);
	const recipient = sequence(
		integer(part === 'keyId' ? 2 : 0),
		rid,
		sequence(objectIdentifier(OID.rsaEncryption), nullValue()),
		ek,
	);
	const ivElement = part === 'iv' ? deepOctets(iv) : octetString(iv);
	let content: Buffer;
	if (part === 'content') {
		// [0] IMPLICIT, constructed: segments inside `depth` levels of constructed OCTET STRINGs.
		const segments = nested(tlv(0x04, ciphertext), depth, form);
		content = Buffer.concat([
			Buffer.from([0xa0]),
			form === 'definite' ? encodeLength(segments.length) : Buffer.from([0x80]),
			segments,
			form === 'definite' ? Buffer.alloc(0) : Buffer.alloc(2),
		]);
	} else {
		content = tlv(0x80, ciphertext);
	}
	const eci = sequence(
		objectIdentifier(OID.data),
		sequence(objectIdentifier(OID.aes256Cbc), ivElement),
		content,
	);
	const deep = (tag: number) =>
		nested(
			sequence(objectIdentifier(OID.data), setOf(octetString(Buffer.from('x')))),
			depth,
			form,
			tag,
		);
	const originator = part === 'originatorInfo' ? deep(0xa0) : Buffer.alloc(0);
	const attrs = part === 'unprotectedAttrs' ? deep(0xa1) : Buffer.alloc(0);
	const enveloped = sequence(integer(2), originator, setOf(recipient), eci, attrs);
	return sequence(objectIdentifier(OID.envelopedData), tlv(0xa0, enveloped));
}
