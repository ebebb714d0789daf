/**
 * The simulator's own S/MIME encryption, written from RFC 5652 / RFC 8551 (independent of the
 * package's decryption code): CMS EnvelopedData, one KeyTransRecipientInfo naming the certificate
 * by issuer and serial number, RSA PKCS#1 v1.5 key transport, AES-256-CBC content, DER, wrapped as
 * `openssl smime -encrypt -binary -aes256` writes it (MIME headers, base64 in 64-column lines).
 */
import { constants, createCipheriv, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';

function length(n: number): Buffer {
	if (n < 0x80) return Buffer.from([n]);
	const bytes: number[] = [];
	for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
	return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
	const body = Buffer.concat(content);
	return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const integer = (n: number) => tlv(0x02, Buffer.from([n]));
const NULL = Buffer.from([0x05, 0x00]);

function oid(dotted: string): Buffer {
	const [a, b, ...rest] = dotted.split('.').map(Number);
	const bytes = [40 * a + b];
	for (const arc of rest) {
		const chunk: number[] = [arc & 0x7f];
		for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
		bytes.push(...chunk);
	}
	return tlv(0x06, Buffer.from(bytes));
}

/** A DER element: its tag, where its content starts and ends, and where the next one starts. */
function read(der: Buffer, at: number): { tag: number; start: number; end: number } {
	const tag = der[at];
	let len = der[at + 1];
	let start = at + 2;
	if (len & 0x80) {
		const n = len & 0x7f;
		len = 0;
		for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i];
		start += n;
	}
	return { tag, start, end: start + len };
}

/** The DER of the certificate's issuer Name and serialNumber INTEGER, copied as they are. */
function issuerAndSerial(certDer: Buffer): Buffer {
	const cert = read(certDer, 0);
	const tbs = read(certDer, cert.start);
	let at = tbs.start;
	let element = read(certDer, at);
	if (element.tag === 0xa0) {
		at = element.end;
		element = read(certDer, at);
	}
	const serial = certDer.subarray(at, element.end);
	const signature = read(certDer, element.end);
	const issuer = read(certDer, signature.end);
	return sequence(certDer.subarray(signature.end, issuer.end), serial);
}

export function encryptDer(content: Buffer, certificatePem: string): Buffer {
	const certificate = new X509Certificate(certificatePem);
	const key = randomBytes(32);
	const iv = randomBytes(16);
	const cipher = createCipheriv('aes-256-cbc', key, iv);
	const encrypted = Buffer.concat([cipher.update(content), cipher.final()]);
	const wrapped = publicEncrypt({ key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING }, key);
	const recipient = sequence(integer(0), issuerAndSerial(certificate.raw), sequence(oid('1.2.840.113549.1.1.1'), NULL), octets(wrapped));
	const encryptedContentInfo = sequence(oid('1.2.840.113549.1.7.1'), sequence(oid('2.16.840.1.101.3.4.1.42'), octets(iv)), tlv(0x80, encrypted));
	const enveloped = sequence(integer(0), set(recipient), encryptedContentInfo);
	return sequence(oid('1.2.840.113549.1.7.3'), tlv(0xa0, enveloped));
}

export function encryptSmime(content: Buffer, certificatePem: string): Buffer {
	const base64 = encryptDer(content, certificatePem).toString('base64');
	const lines: string[] = [];
	for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
	return Buffer.from(
		[
			'MIME-Version: 1.0',
			'Content-Disposition: attachment; filename="smime.p7m"',
			'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
			'Content-Transfer-Encoding: base64',
			'',
			...lines,
			'',
		].join('\n'),
	);
}
