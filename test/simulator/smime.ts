/**
 * The simulator's own S/MIME encryption, written from RFC 5652 (CMS) and RFC 8551 (S/MIME 4.0) and
 * independent of the package's decryption code: EnvelopedData with one KeyTransRecipientInfo that
 * names the certificate by issuer and serial number, the content key wrapped with RSA PKCS#1 v1.5,
 * the content encrypted with AES-256-CBC, all in DER, then wrapped as
 * `openssl smime -encrypt -binary -aes256 -in part -out part.smime cert.pem` writes it: MIME
 * headers, a blank line, the DER in base64 lines of 64 characters, LF line ends, a blank last line.
 */
import {
	constants,
	createCipheriv,
	createHash,
	publicEncrypt,
	randomBytes,
	X509Certificate,
} from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
	certificateIssuerAndSerial,
	encodeLength,
	integer,
	nullValue,
	objectIdentifier,
	octetString,
	sequence,
	setOf,
} from './der';

const OID = {
	data: '1.2.840.113549.1.7.1',
	envelopedData: '1.2.840.113549.1.7.3',
	rsaEncryption: '1.2.840.113549.1.1.1',
	aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

/**
 * The MIME type in the Content-Type header. RFC 8551 names `application/pkcs7-mime`; OpenSSL's
 * `smime` command still writes the older `application/x-pkcs7-mime`. Decryptors take both.
 */
export type SmimeMediaType = 'application/pkcs7-mime' | 'application/x-pkcs7-mime';

export interface EncryptOptions {
	/** Content-encryption key and IV; random unless given (tests that want fixed bytes). */
	contentKey?: Buffer;
	iv?: Buffer;
}

/** Parses a PEM certificate and checks that exports can be encrypted to it (RSA public key). */
export function encryptionCertificate(pem: string | Buffer): X509Certificate {
	const certificate = new X509Certificate(pem);
	const type = certificate.publicKey.asymmetricKeyType;
	if (type !== 'rsa')
		throw new Error(
			`the certificate's key is ${type ?? 'of an unknown type'}, not RSA: exports are encrypted with RSA key transport`,
		);
	return certificate;
}

/** CMS ContentInfo { envelopedData } for `content`, as DER. */
export function encryptEnvelopedData(
	content: Buffer,
	certificate: X509Certificate,
	options: EncryptOptions = {},
): Buffer {
	const { contentKey, iv } = keyAndIv(options);
	const cipher = createCipheriv('aes-256-cbc', contentKey, iv);
	const encryptedContent = Buffer.concat([cipher.update(content), cipher.final()]);
	return Buffer.concat([
		envelopeHead(encryptedContent.length, certificate, contentKey, iv),
		encryptedContent,
	]);
}

function keyAndIv(options: EncryptOptions): { contentKey: Buffer; iv: Buffer } {
	const contentKey = options.contentKey ?? randomBytes(32);
	const iv = options.iv ?? randomBytes(16);
	if (contentKey.length !== 32 || iv.length !== 16)
		throw new Error('AES-256-CBC needs a 32-byte key and a 16-byte IV');
	return { contentKey, iv };
}

/**
 * The DER of ContentInfo { envelopedData } up to the encrypted content, which comes last in every
 * enclosing structure: so the encoding is this head followed by the `encryptedLength` bytes, and a
 * file's content can be streamed after it.
 */
function envelopeHead(
	encryptedLength: number,
	certificate: X509Certificate,
	contentKey: Buffer,
	iv: Buffer,
): Buffer {
	// PKCS#1 v1.5 is what openssl smime and Genesys use for key transport; Node allows it for encryption.
	const encryptedKey = publicEncrypt(
		{ key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING },
		contentKey,
	);
	const { issuer, serialNumber } = certificateIssuerAndSerial(certificate.raw);
	const open = (tag: number, length: number) =>
		Buffer.concat([Buffer.from([tag]), encodeLength(length)]);

	// KeyTransRecipientInfo ::= SEQUENCE { version 0, rid IssuerAndSerialNumber, keyEncryptionAlgorithm, encryptedKey }
	const recipientInfo = sequence(
		integer(0),
		sequence(issuer, serialNumber),
		sequence(objectIdentifier(OID.rsaEncryption), nullValue()),
		octetString(encryptedKey),
	);
	// EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm, [0] IMPLICIT encryptedContent }
	const contentHead = Buffer.concat([
		objectIdentifier(OID.data),
		sequence(objectIdentifier(OID.aes256Cbc), octetString(iv)),
		open(0x80, encryptedLength),
	]);
	const encryptedContentInfo = open(0x30, contentHead.length + encryptedLength);
	// EnvelopedData ::= SEQUENCE { version 0 (no originatorInfo, only ktri v0), recipientInfos SET, encryptedContentInfo }
	const envelopedHead = Buffer.concat([
		integer(0),
		setOf(recipientInfo),
		encryptedContentInfo,
		contentHead,
	]);
	const envelopedData = open(0x30, envelopedHead.length + encryptedLength);
	// ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content }
	const explicit = open(0xa0, envelopedData.length + envelopedHead.length + encryptedLength);
	const oid = objectIdentifier(OID.envelopedData);
	const outer = open(
		0x30,
		oid.length + explicit.length + envelopedData.length + envelopedHead.length + encryptedLength,
	);
	return Buffer.concat([outer, oid, explicit, envelopedData, envelopedHead]);
}

function mimeHead(mediaType: SmimeMediaType): string {
	const head = [
		'MIME-Version: 1.0',
		'Content-Disposition: attachment; filename="smime.p7m"',
		`Content-Type: ${mediaType}; smime-type=enveloped-data; name="smime.p7m"`,
		'Content-Transfer-Encoding: base64',
	];
	return `${head.join('\n')}\n\n`;
}

/** Wraps CMS DER as an S/MIME message the way OpenSSL writes it. */
export function smimeMessage(
	der: Buffer,
	mediaType: SmimeMediaType = 'application/pkcs7-mime',
): Buffer {
	const base64 = der.toString('base64');
	const lines: string[] = [];
	for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
	return Buffer.from(`${mimeHead(mediaType)}${lines.join('\n')}\n\n`, 'latin1');
}

/** Bytes in, base64 out in lines of 64 characters, each ended by LF (48 bytes a line). */
class Base64Lines extends Transform {
	private rest = Buffer.alloc(0);

	override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
		const all = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
		const whole = all.length - (all.length % 48);
		this.rest = Buffer.from(all.subarray(whole));
		if (whole > 0) this.push(Base64Lines.lines(all.subarray(0, whole)));
		done();
	}

	override _flush(done: TransformCallback): void {
		if (this.rest.length > 0) this.push(Base64Lines.lines(this.rest));
		done();
	}

	private static lines(bytes: Buffer): Buffer {
		const base64 = bytes.toString('base64');
		const lines: string[] = [];
		for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
		return Buffer.from(`${lines.join('\n')}\n`, 'latin1');
	}
}

/**
 * `encryptSmime` for a file too large to hold: the same S/MIME message, streamed from `inPath` to
 * `outPath`. Resolves with the message's size and MD5 (the storage host's ETag).
 */
export async function encryptSmimeFile(
	inPath: string,
	outPath: string,
	certificate: X509Certificate | string,
	options: EncryptOptions & { mediaType?: SmimeMediaType } = {},
): Promise<{ size: number; md5: string }> {
	const cert = typeof certificate === 'string' ? encryptionCertificate(certificate) : certificate;
	const { contentKey, iv } = keyAndIv(options);
	const { size } = await stat(inPath);
	// CBC with PKCS#7 padding: always 1 to 16 bytes of padding.
	const encryptedLength = (Math.floor(size / 16) + 1) * 16;
	const head = envelopeHead(encryptedLength, cert, contentKey, iv);
	const md5 = createHash('md5');
	let written = 0;
	const count = new Transform({
		transform(chunk: Buffer, _encoding, done) {
			md5.update(chunk);
			written += chunk.length;
			done(null, chunk);
		},
	});
	async function* der(): AsyncGenerator<Buffer> {
		yield head;
		const cipher = createCipheriv('aes-256-cbc', contentKey, iv);
		for await (const chunk of createReadStream(inPath, { highWaterMark: 1 << 20 }))
			yield cipher.update(chunk as Buffer);
		yield cipher.final();
	}
	async function* message(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
		yield Buffer.from(mimeHead(options.mediaType ?? 'application/pkcs7-mime'), 'latin1');
		for await (const chunk of source) yield chunk;
		yield Buffer.from('\n', 'latin1');
	}
	await pipeline(
		der,
		new Base64Lines(),
		message,
		count,
		createWriteStream(outPath, { flags: 'wx' }),
	);
	return { size: written, md5: md5.digest('hex') };
}

export function encryptSmime(
	content: Buffer,
	certificate: X509Certificate | string,
	options: EncryptOptions & { mediaType?: SmimeMediaType } = {},
): Buffer {
	const cert = typeof certificate === 'string' ? encryptionCertificate(certificate) : certificate;
	return smimeMessage(encryptEnvelopedData(content, cert, options), options.mediaType);
}
