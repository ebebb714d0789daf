/**
 * RecipientInfos: which recipient a file is for, whether our key is one of them, and unwrapping the
 * content-encryption key.
 *
 * Node 20 refuses `privateDecrypt` with PKCS#1 v1.5 padding (CVE-2023-46809) and Node 24 answers a
 * wrong key with a random value (implicit rejection). Both are avoided the same way: raw RSA
 * (`RSA_NO_PADDING`) and our own v1.5 unpadding, plus a content-key length check. The recipient is
 * identified *before* any content is decrypted, so a wrong key is an error, never garbage output.
 */
import { constants, privateDecrypt } from 'node:crypto';
import { CxError } from '../errors';
import {
	children,
	content,
	expectTag,
	integerHex,
	octets,
	oidOf,
	parsing,
	raw,
	readTlv,
	smallInt,
	TAG,
	type Tlv,
} from './der';
import type { DecryptionKey } from './keys';
import { HASHES, nameOf, OID } from './oids';
import { formatName } from './x509';

export type RecipientId =
	| { kind: 'issuerSerial'; issuerDer: Buffer; issuer: string; serial: Buffer; serialHex: string }
	| { kind: 'keyId'; keyId: Buffer };

export interface KeyTransRecipient {
	type: 'keyTransport';
	id: RecipientId;
	algorithm: string;
	/** DER of the algorithm parameters, when present. */
	parameters?: Buffer;
	encryptedKey: Buffer;
}

export interface OtherRecipient {
	type: 'keyAgreement' | 'kek' | 'password' | 'other';
}

export type Recipient = KeyTransRecipient | OtherRecipient;

export function parseRecipientInfos(der: Buffer, what: string): Recipient[] {
	const set = expectTag(readTlv(der, 0, der.length, what), TAG.SET, 'universal', what);
	return children(der, set, what).map((ri): Recipient => {
		if (ri.cls === 'universal' && ri.tag === TAG.SEQUENCE) return parseKeyTrans(der, ri, what);
		if (ri.cls === 'context') {
			const types = ['other', 'keyAgreement', 'kek', 'password', 'other'] as const;
			return { type: types[ri.tag] ?? 'other' };
		}
		throw new CxError(
			'CMS_FORMAT',
			`${what}: unexpected element in RecipientInfos at byte ${ri.start}`,
		);
	});
}

function parseKeyTrans(der: Buffer, ri: Tlv, what: string): KeyTransRecipient {
	const [version, rid, alg, ek] = children(der, ri, what);
	if (!ek)
		throw new CxError(
			'CMS_FORMAT',
			`${what}: incomplete KeyTransRecipientInfo at byte ${ri.start}`,
		);
	smallInt(der, version, `${what} version`);
	let id: RecipientId;
	if (rid.cls === 'context' && rid.tag === 0) {
		id = { kind: 'keyId', keyId: Buffer.from(octets(der, rid, what)) };
	} else {
		const [issuer, serial] = children(der, expectTag(rid, TAG.SEQUENCE, 'universal', what), what);
		if (!serial)
			throw new CxError(
				'CMS_FORMAT',
				`${what}: incomplete IssuerAndSerialNumber at byte ${rid.start}`,
			);
		expectTag(serial, TAG.INTEGER, 'universal', `${what} serial number`);
		const serialBytes = Buffer.from(content(der, serial));
		id = {
			kind: 'issuerSerial',
			issuerDer: Buffer.from(raw(der, issuer)),
			issuer: formatName(der, issuer),
			serial: serialBytes,
			serialHex: integerHex(serialBytes),
		};
	}
	const algParts = children(der, expectTag(alg, TAG.SEQUENCE, 'universal', what), what);
	expectTag(ek, TAG.OCTET_STRING, 'universal', `${what} encrypted key`);
	return {
		type: 'keyTransport',
		id,
		algorithm: oidOf(der, algParts[0], `${what} key encryption algorithm`),
		parameters:
			algParts[1] && !(algParts[1].tag === TAG.NULL && algParts[1].cls === 'universal')
				? Buffer.from(raw(der, algParts[1]))
				: undefined,
		encryptedKey: Buffer.from(octets(der, ek, what)),
	};
}

export function describeRecipient(r: Recipient): string {
	if (r.type !== 'keyTransport') return `a ${r.type} recipient (not supported)`;
	return r.id.kind === 'keyId'
		? `key identifier ${r.id.keyId.toString('hex').toUpperCase()}`
		: `${r.id.issuer}, serial ${r.id.serialHex}`;
}

function describeKey(key: DecryptionKey): string {
	const certs = key.certificates.map((c) => `${c.issuer}, serial ${c.serialHex}`);
	const id = `key identifier ${key.keyIdentifier.toString('hex').toUpperCase()}`;
	return certs.length > 0 ? `${certs.join('; ')} (${id})` : id;
}

function identifies(r: KeyTransRecipient, key: DecryptionKey): boolean {
	if (r.id.kind === 'keyId') {
		const keyId = r.id.keyId;
		return (
			keyId.equals(key.keyIdentifier) ||
			key.certificates.some((c) => c.subjectKeyIdentifier?.equals(keyId) === true)
		);
	}
	const { issuerDer, serial } = r.id;
	return key.certificates.some((c) => c.issuerDer.equals(issuerDer) && c.serial.equals(serial));
}

/** PKCS#1 v1.5 type 2 unpadding of a raw RSA result; `undefined` when the block is not well formed. */
function unpadPkcs1(em: Buffer, expectedLength: number): Buffer | undefined {
	// EM = 00 || 02 || PS (>= 8 non-zero bytes) || 00 || M. Every byte is examined whatever the
	// outcome, so the time taken does not depend on where the block is wrong.
	let bad = (em[0] ^ 0x00) | (em[1] ^ 0x02);
	let separator = 0;
	for (let i = 2; i < em.length; i++) {
		const isZero = em[i] === 0 ? 1 : 0;
		const first = isZero & (separator === 0 ? 1 : 0);
		separator = first ? i : separator;
	}
	bad |= separator === 0 ? 1 : 0;
	bad |= separator < 10 ? 1 : 0;
	bad |= em.length - separator - 1 !== expectedLength ? 1 : 0;
	return bad === 0 ? Buffer.from(em.subarray(separator + 1)) : undefined;
}

interface OaepParams {
	hash: string;
	label?: Buffer;
}

function parseOaepParams(params: Buffer | undefined, what: string): OaepParams {
	const result: OaepParams = { hash: 'sha1' };
	if (!params) return result;
	let mgfHash = 'sha1';
	const seq = readTlv(params, 0, params.length, what);
	for (const field of children(params, seq, what)) {
		const [inner] = children(params, field, what);
		const algParts = children(params, inner, what);
		const oid = oidOf(params, algParts[0], what);
		if (field.tag === 0) {
			const hash = HASHES[oid];
			if (!hash)
				throw new CxError(
					'CMS_UNSUPPORTED',
					`${what}: RSA-OAEP with hash ${nameOf(oid)} is not supported`,
				);
			result.hash = hash;
		} else if (field.tag === 1) {
			if (oid !== OID.mgf1)
				throw new CxError(
					'CMS_UNSUPPORTED',
					`${what}: RSA-OAEP mask generation ${nameOf(oid)} is not supported`,
				);
			const hashAlg = children(params, algParts[1], what);
			const hash = HASHES[oidOf(params, hashAlg[0], what)];
			if (!hash)
				throw new CxError('CMS_UNSUPPORTED', `${what}: RSA-OAEP MGF1 hash is not supported`);
			mgfHash = hash;
		} else if (field.tag === 2) {
			if (oid !== OID.pSpecified)
				throw new CxError(
					'CMS_UNSUPPORTED',
					`${what}: RSA-OAEP label source ${nameOf(oid)} is not supported`,
				);
			if (algParts[1]) result.label = Buffer.from(octets(params, algParts[1], what));
		}
	}
	if (mgfHash !== result.hash) {
		throw new CxError(
			'CMS_UNSUPPORTED',
			`${what}: RSA-OAEP with different hashes for OAEP (${result.hash}) and MGF1 (${mgfHash}) is not supported`,
		);
	}
	return result;
}

function unwrap(
	r: KeyTransRecipient,
	key: DecryptionKey,
	keyLength: number,
	source: string,
): Buffer | undefined {
	if (r.encryptedKey.length !== key.modulusBytes) return undefined;
	if (r.algorithm === OID.rsaEncryption) {
		let em: Buffer;
		try {
			em = privateDecrypt(
				{ key: key.privateKey, padding: constants.RSA_NO_PADDING },
				r.encryptedKey,
			);
		} catch {
			// A value encrypted for another key can be larger than this key's modulus.
			return undefined;
		}
		return unpadPkcs1(em, keyLength);
	}
	if (r.algorithm === OID.rsaesOaep) {
		const params = parsing(`${source}: RSA-OAEP parameters`, () =>
			parseOaepParams(r.parameters, `${source}: RSA-OAEP parameters`),
		);
		try {
			const cek = privateDecrypt(
				{
					key: key.privateKey,
					padding: constants.RSA_PKCS1_OAEP_PADDING,
					oaepHash: params.hash,
					oaepLabel: params.label,
				},
				r.encryptedKey,
			);
			return cek.length === keyLength ? cek : undefined;
		} catch {
			return undefined;
		}
	}
	throw new CxError(
		'CMS_UNSUPPORTED',
		`${source}: key transport ${nameOf(r.algorithm)} is not supported (RSA PKCS#1 v1.5 or RSA-OAEP)`,
	);
}

/**
 * Finds our recipient and returns the content-encryption key. Throws `CMS_WRONG_KEY` naming the
 * recipients the file was encrypted for when the key is not one of them.
 */
export function unwrapContentKey(
	recipients: Recipient[],
	key: DecryptionKey,
	keyLength: number,
	source: string,
): Buffer {
	const keyTrans = recipients.filter((r): r is KeyTransRecipient => r.type === 'keyTransport');
	const named = keyTrans.filter((r) => identifies(r, key));
	for (const r of named) {
		const cek = unwrap(r, key, keyLength, source);
		if (cek) return cek;
	}
	if (named.length > 0) {
		throw new CxError(
			'CMS_WRONG_KEY',
			`${source}: the file is encrypted for ${describeRecipient(named[0])}, which names this key's certificate, but the private key cannot open it; check that the key and certificate belong together`,
		);
	}
	// Without a certificate an issuer+serial recipient cannot be matched by name: try the key on
	// each. The structure and length checks make a false match vanishingly unlikely, and the
	// content's padding or authentication tag is checked again at the end.
	if (key.certificates.length === 0) {
		for (const r of keyTrans) {
			if (r.id.kind !== 'issuerSerial') continue;
			const cek = unwrap(r, key, keyLength, source);
			if (cek) return cek;
		}
	}
	const list = recipients.map(describeRecipient).join('; ') || 'no recipients';
	throw new CxError(
		'CMS_WRONG_KEY',
		`${source}: no recipient matches this key: the file is for ${list}; the key is ${describeKey(key)}. Use the private key whose certificate was uploaded to Genesys when this export ran`,
	);
}
