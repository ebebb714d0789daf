/**
 * Loading the recipient's key material: PKCS#1 / PKCS#8 PEM (optionally encrypted), DER, and
 * PKCS#12 (.p12/.pfx, binary or base64 text). Certificates found alongside the key (in the PEM or
 * the PKCS#12 bag) or given separately are kept: they identify the recipient by issuer + serial.
 *
 * Messages never include the key, the passphrase or any part of either.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type forgeModule from 'node-forge';
import { CxError } from '../errors';
import { keyIdentifier, parseCertificate, samePublicKey, type CertificateInfo } from './x509';

export interface DecryptionKey {
	privateKey: KeyObject;
	publicKey: KeyObject;
	/** Modulus size in bytes: the length of every RSA-encrypted content key for this key. */
	modulusBytes: number;
	/** SHA-1 key identifier of the public key, as OpenSSL computes subjectKeyIdentifier. */
	keyIdentifier: Buffer;
	/** Certificates that belong to this key (public key matches). */
	certificates: CertificateInfo[];
	/** Where the key came from, for messages (a file name; never its content). */
	label: string;
}

export interface KeyInput {
	/** PEM text, DER bytes, PKCS#12 bytes, or PKCS#12 as base64 text. */
	key: Buffer | string;
	passphrase?: string;
	/** An optional certificate (PEM or DER) for the key: used to match recipients by issuer+serial. */
	certificate?: Buffer | string;
	label?: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 #]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

interface PemBlock {
	label: string;
	text: string;
	der: Buffer;
}

function pemBlocks(text: string): PemBlock[] {
	const blocks: PemBlock[] = [];
	for (const m of text.matchAll(PEM_BLOCK)) {
		const body = m[2]
			.split(/\r?\n/)
			.filter((line) => !line.includes(':'))
			.join('');
		blocks.push({ label: m[1], text: m[0], der: Buffer.from(body, 'base64') });
	}
	return blocks;
}

function isLikelyBase64Text(buf: Buffer): boolean {
	return buf.length > 0 && /^[A-Za-z0-9+/=\s]+$/.test(buf.toString('latin1'));
}

function passphraseProblem(error: unknown): boolean {
	const text = String((error as { message?: string })?.message ?? error);
	return /passphrase|bad decrypt|decrypt|interrupted or cancelled|unsupported/i.test(text);
}

/**
 * Whether DER bytes are an EncryptedPrivateKeyInfo: SEQUENCE { SEQUENCE { OID of a PKCS#5 or
 * PKCS#12 password-based scheme, … }, OCTET STRING } (a public key has the same outline, with
 * rsaEncryption instead).
 */
function looksEncryptedPkcs8(der: Buffer): boolean {
	if (der.length < 16 || der[0] !== 0x30) return false;
	const inner = 2 + (der[1] & 0x80 ? der[1] & 0x7f : 0);
	if (der[inner] !== 0x30) return false;
	const oid = inner + 2 + (der[inner + 1] & 0x80 ? der[inner + 1] & 0x7f : 0);
	if (der[oid] !== 0x06) return false;
	const arcs = der.subarray(oid + 2, oid + 10).toString('hex');
	return arcs === '2a864886f70d0105' || arcs === '2a864886f70d010c';
}

function loadPrivateKey(
	input: Parameters<typeof createPrivateKey>[0],
	label: string,
	hasPassphrase: boolean,
	encrypted: boolean,
): KeyObject {
	try {
		return createPrivateKey(input);
	} catch (error) {
		// OpenSSL's messages for a missing passphrase and for junk overlap ("unsupported"): only an
		// encrypted key gets the passphrase advice.
		if (encrypted && passphraseProblem(error)) {
			throw new CxError(
				'KEY_INVALID',
				hasPassphrase
					? `${label}: the passphrase does not open this key; check the passphrase`
					: `${label}: the key is encrypted; give its passphrase (--passphrase)`,
			);
		}
		throw new CxError(
			'KEY_INVALID',
			`${label}: not a readable private key (PEM or DER, PKCS#1 or PKCS#8)`,
		);
	}
}

/** node-forge is only needed for PKCS#12 (Node has no parser for it): loaded on first use. */
let forgeLoaded: typeof forgeModule | undefined;
function forgeLib(): typeof forgeModule {
	forgeLoaded ??= require('node-forge') as typeof forgeModule;
	return forgeLoaded;
}

function fromPkcs12(
	der: Buffer,
	passphrase: string | undefined,
	label: string,
): { privateKey: KeyObject; certs: Buffer[] } {
	const forge = forgeLib();
	let p12: forgeModule.pkcs12.Pkcs12Pfx;
	try {
		const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
		p12 = forge.pkcs12.pkcs12FromAsn1(asn1, passphrase ?? '');
	} catch (error) {
		const message = String((error as Error)?.message ?? '');
		if (/mac|password|invalid|decrypt/i.test(message)) {
			throw new CxError(
				'KEY_INVALID',
				passphrase
					? `${label}: the password does not open this PKCS#12 file; check the passphrase`
					: `${label}: the PKCS#12 file needs a password (--passphrase)`,
			);
		}
		throw new CxError(
			'KEY_INVALID',
			`${label}: not a readable PKCS#12 file (${message.slice(0, 80)})`,
		);
	}
	const keys: forgeModule.pki.PrivateKey[] = [];
	for (const type of [forge.pki.oids.pkcs8ShroudedKeyBag, forge.pki.oids.keyBag]) {
		for (const bag of p12.getBags({ bagType: type })[type] ?? []) if (bag.key) keys.push(bag.key);
	}
	if (keys.length === 0)
		throw new CxError('KEY_INVALID', `${label}: the PKCS#12 file holds no private key`);
	const certs: Buffer[] = [];
	for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ??
		[]) {
		if (bag.cert)
			certs.push(
				Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(bag.cert)).getBytes(), 'binary'),
			);
	}
	let privateKey: KeyObject;
	try {
		privateKey = createPrivateKey(
			forge.pki.privateKeyToPem(keys[0] as forgeModule.pki.rsa.PrivateKey),
		);
	} catch (error) {
		throw new CxError(
			'KEY_INVALID',
			`${label}: the private key in the PKCS#12 file cannot be read`,
			{ cause: error },
		);
	}
	return { privateKey, certs };
}

function looksLikePkcs12(der: Buffer): boolean {
	// PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData OPTIONAL }
	// The first element inside the outer SEQUENCE is INTEGER 3: 02 01 03 after the SEQUENCE header.
	if (der.length < 8 || der[0] !== 0x30) return false;
	const lenBytes = der[1] & 0x80 ? (der[1] & 0x7f) + 2 : 2;
	return der[lenBytes] === 0x02 && der[lenBytes + 1] === 0x01 && der[lenBytes + 2] === 0x03;
}

function certificatesFrom(input: Buffer | string | undefined, label: string): Buffer[] {
	if (input === undefined) return [];
	const buf = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
	if (buf.length === 0) return [];
	const text = buf.toString('latin1');
	if (text.includes('-----BEGIN')) {
		const certs = pemBlocks(text).filter(
			(b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE',
		);
		if (certs.length === 0)
			throw new CxError('KEY_INVALID', `${label}: no CERTIFICATE block found`);
		return certs.map((b) => b.der);
	}
	return [buf];
}

/** A certificate that comes with the key: one that cannot be read is KEY_INVALID, whatever is wrong in it. */
function readCertificate(der: Buffer, what: string): CertificateInfo {
	try {
		return parseCertificate(der, what);
	} catch (error) {
		if (error instanceof CxError)
			throw error.code === 'KEY_INVALID'
				? error
				: new CxError('KEY_INVALID', error.message, { cause: error });
		throw new CxError('KEY_INVALID', `${what}: not a readable X.509 certificate`, { cause: error });
	}
}

/** Reads key material in any of the supported forms. */
export function loadDecryptionKey(input: KeyInput): DecryptionKey {
	const label = input.label ?? 'key';
	const buf = Buffer.isBuffer(input.key) ? input.key : Buffer.from(input.key, 'utf8');
	if (buf.length === 0) throw new CxError('KEY_INVALID', `${label}: the key is empty`);
	const passphrase = input.passphrase === '' ? undefined : input.passphrase;
	let privateKey: KeyObject | undefined;
	const certDers: Buffer[] = [];
	const text = buf.toString('latin1');

	if (text.includes('-----BEGIN')) {
		const blocks = pemBlocks(text);
		const keyBlock = blocks.find((b) => /PRIVATE KEY$/.test(b.label));
		if (!keyBlock) {
			throw new CxError(
				'KEY_INVALID',
				`${label}: no private key in this PEM file (found ${blocks.map((b) => b.label).join(', ') || 'nothing'})`,
			);
		}
		const encrypted =
			/ENCRYPTED/.test(keyBlock.label) || /Proc-Type:\s*4,ENCRYPTED/i.test(keyBlock.text);
		privateKey = loadPrivateKey(
			{ key: keyBlock.text, format: 'pem', passphrase },
			label,
			passphrase !== undefined,
			encrypted,
		);
		for (const block of blocks) if (block.label === 'CERTIFICATE') certDers.push(block.der);
	} else {
		const der = isLikelyBase64Text(buf) ? Buffer.from(text, 'base64') : buf;
		if (looksLikePkcs12(der)) {
			const p12 = fromPkcs12(der, passphrase, label);
			privateKey = p12.privateKey;
			for (const der of p12.certs) certDers.push(der);
		} else {
			for (const type of ['pkcs8', 'pkcs1'] as const) {
				try {
					privateKey = createPrivateKey({ key: der, format: 'der', type, passphrase });
					break;
				} catch {
					// try the next type
				}
			}
			if (!privateKey) {
				if (looksEncryptedPkcs8(der)) {
					return loadDecryptionKey({
						...input,
						key: `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${der.toString('base64')}\n-----END ENCRYPTED PRIVATE KEY-----\n`,
					});
				}
				throw new CxError(
					'KEY_INVALID',
					`${label}: not a readable private key (PEM, DER, or PKCS#12)`,
				);
			}
		}
	}

	if (privateKey.asymmetricKeyType !== 'rsa') {
		throw new CxError(
			'KEY_INVALID',
			`${label}: a ${privateKey.asymmetricKeyType ?? 'non-RSA'} key; Genesys exports are encrypted to RSA keys`,
		);
	}
	const publicKey = createPublicKey(privateKey);
	for (const der of certificatesFrom(input.certificate, `${label} certificate`)) certDers.push(der);
	const certificates: CertificateInfo[] = [];
	let foreign: CertificateInfo | undefined;
	for (const der of certDers) {
		const cert = readCertificate(der, `${label} certificate`);
		if (samePublicKey(cert.publicKey, publicKey)) certificates.push(cert);
		else foreign ??= cert;
	}
	if (input.certificate !== undefined && certificates.length === 0 && foreign) {
		throw new CxError(
			'KEY_INVALID',
			`${label}: the certificate (${foreign.subject}, serial ${foreign.serialHex}) does not belong to this private key; give the certificate that was issued for it`,
		);
	}
	const modulusLength = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
	return {
		privateKey,
		publicKey,
		modulusBytes: Math.ceil(modulusLength / 8),
		keyIdentifier: keyIdentifier(publicKey),
		certificates,
		label,
	};
}
