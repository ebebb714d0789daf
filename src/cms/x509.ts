/**
 * Just enough X.509 to identify recipients: issuer name (exact DER), serial number, subject key
 * identifier, subject public key, and a readable subject for messages.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CxError } from '../errors';
import {
	children,
	content,
	decodeOid,
	expectTag,
	integerHex,
	raw,
	readTlv,
	TAG,
	type Tlv,
} from './der';
import { OID } from './oids';

export interface CertificateInfo {
	der: Buffer;
	issuerDer: Buffer;
	serial: Buffer;
	serialHex: string;
	subject: string;
	issuer: string;
	/** Value of the subjectKeyIdentifier extension, when the certificate has one. */
	subjectKeyIdentifier?: Buffer;
	publicKey: KeyObject;
}

const ATTRIBUTE_NAMES: Record<string, string> = {
	'2.5.4.3': 'CN',
	'2.5.4.6': 'C',
	'2.5.4.7': 'L',
	'2.5.4.8': 'ST',
	'2.5.4.10': 'O',
	'2.5.4.11': 'OU',
	'2.5.4.5': 'serialNumber',
	'1.2.840.113549.1.9.1': 'emailAddress',
	'0.9.2342.19200300.100.1.25': 'DC',
};

/** A one-line rendering of a Name, most specific part first (`CN=…, O=…, C=…`). */
export function formatName(buf: Buffer, name: Tlv): string {
	const parts: string[] = [];
	for (const rdn of children(buf, name, 'name')) {
		for (const atv of children(buf, rdn, 'name')) {
			const [type, value] = children(buf, atv, 'name');
			if (!type || !value) continue;
			const oid = decodeOid(content(buf, type), 'name');
			const bytes = content(buf, value);
			const text =
				value.tag === 30
					? Buffer.from(bytes).swap16().toString('utf16le')
					: bytes.toString(value.tag === 12 ? 'utf8' : 'latin1');
			parts.push(`${ATTRIBUTE_NAMES[oid] ?? oid}=${text}`);
		}
	}
	return parts.reverse().join(', ') || '(empty name)';
}

export function parseCertificate(der: Buffer, what = 'certificate'): CertificateInfo {
	const cert = expectTag(readTlv(der, 0, der.length, what), TAG.SEQUENCE, 'universal', what);
	const [tbs] = children(der, cert, what);
	if (!tbs) throw new CxError('KEY_INVALID', `${what}: not an X.509 certificate`);
	const fields = children(der, tbs, what);
	let i = 0;
	if (fields[i]?.cls === 'context' && fields[i].tag === 0) i++; // version
	const serialTlv = expectTag(fields[i++], TAG.INTEGER, 'universal', `${what} serial number`);
	i++; // signature algorithm
	const issuerTlv = expectTag(fields[i++], TAG.SEQUENCE, 'universal', `${what} issuer`);
	i++; // validity
	const subjectTlv = expectTag(fields[i++], TAG.SEQUENCE, 'universal', `${what} subject`);
	const spkiTlv = expectTag(fields[i++], TAG.SEQUENCE, 'universal', `${what} public key`);
	let ski: Buffer | undefined;
	for (; i < fields.length; i++) {
		if (fields[i].cls !== 'context' || fields[i].tag !== 3) continue;
		const [extensions] = children(der, fields[i], what);
		for (const ext of children(der, extensions, what)) {
			const parts = children(der, ext, what);
			if (decodeOid(content(der, parts[0]), what) !== OID.subjectKeyIdentifier) continue;
			const value = content(der, parts[parts.length - 1]); // OCTET STRING wrapping the KeyIdentifier
			ski = Buffer.from(content(value, readTlv(value, 0, value.length, what)));
		}
	}
	const serial = Buffer.from(content(der, serialTlv));
	let publicKey: KeyObject;
	try {
		publicKey = createPublicKey({ key: raw(der, spkiTlv), format: 'der', type: 'spki' });
	} catch (error) {
		throw new CxError('KEY_INVALID', `${what}: its public key cannot be read`, { cause: error });
	}
	return {
		der,
		issuerDer: Buffer.from(raw(der, issuerTlv)),
		serial,
		serialHex: integerHex(serial),
		subject: formatName(der, subjectTlv),
		issuer: formatName(der, issuerTlv),
		subjectKeyIdentifier: ski,
		publicKey,
	};
}

/** SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 §4.2.1.2 method 1): what OpenSSL puts in SKI. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
	const spki = publicKey.export({ type: 'spki', format: 'der' });
	const outer = readTlv(spki, 0, spki.length, 'public key');
	const [, bitString] = children(spki, outer, 'public key');
	return createHash('sha1').update(content(spki, bitString).subarray(1)).digest();
}

export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
	return a
		.export({ type: 'spki', format: 'der' })
		.equals(b.export({ type: 'spki', format: 'der' }));
}
