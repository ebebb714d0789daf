/**
 * The simulator's own S/MIME encryption, written from RFC 5652 (CMS) and RFC 8551 (S/MIME 4.0) and
 * independent of the package's decryption code: EnvelopedData with one KeyTransRecipientInfo that
 * names the certificate by issuer and serial number, the content key wrapped with RSA PKCS#1 v1.5,
 * the content encrypted with AES-256-CBC, all in DER, then wrapped as
 * `openssl smime -encrypt -binary -aes256 -in part -out part.smime cert.pem` writes it: MIME
 * headers, a blank line, the DER in base64 lines of 64 characters, LF line ends, a blank last line.
 */
import { constants, createCipheriv, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';
import { certificateIssuerAndSerial, contextConstructed, contextPrimitive, integer, nullValue, objectIdentifier, octetString, sequence, setOf } from './der';

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
	if (type !== 'rsa') throw new Error(`the certificate's key is ${type ?? 'of an unknown type'}, not RSA: exports are encrypted with RSA key transport`);
	return certificate;
}

/** CMS ContentInfo { envelopedData } for `content`, as DER. */
export function encryptEnvelopedData(content: Buffer, certificate: X509Certificate, options: EncryptOptions = {}): Buffer {
	const contentKey = options.contentKey ?? randomBytes(32);
	const iv = options.iv ?? randomBytes(16);
	if (contentKey.length !== 32 || iv.length !== 16) throw new Error('AES-256-CBC needs a 32-byte key and a 16-byte IV');

	const cipher = createCipheriv('aes-256-cbc', contentKey, iv);
	const encryptedContent = Buffer.concat([cipher.update(content), cipher.final()]);
	// PKCS#1 v1.5 is what openssl smime and Genesys use for key transport; Node allows it for encryption.
	const encryptedKey = publicEncrypt({ key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING }, contentKey);
	const { issuer, serialNumber } = certificateIssuerAndSerial(certificate.raw);

	// KeyTransRecipientInfo ::= SEQUENCE { version 0, rid IssuerAndSerialNumber, keyEncryptionAlgorithm, encryptedKey }
	const recipientInfo = sequence(integer(0), sequence(issuer, serialNumber), sequence(objectIdentifier(OID.rsaEncryption), nullValue()), octetString(encryptedKey));
	// EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm, [0] IMPLICIT encryptedContent }
	const encryptedContentInfo = sequence(objectIdentifier(OID.data), sequence(objectIdentifier(OID.aes256Cbc), octetString(iv)), contextPrimitive(0, encryptedContent));
	// EnvelopedData ::= SEQUENCE { version 0 (no originatorInfo, only ktri v0), recipientInfos SET, encryptedContentInfo }
	const envelopedData = sequence(integer(0), setOf(recipientInfo), encryptedContentInfo);
	return sequence(objectIdentifier(OID.envelopedData), contextConstructed(0, envelopedData));
}

/** Wraps CMS DER as an S/MIME message the way OpenSSL writes it. */
export function smimeMessage(der: Buffer, mediaType: SmimeMediaType = 'application/pkcs7-mime'): Buffer {
	const base64 = der.toString('base64');
	const lines: string[] = [];
	for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
	const head = [
		'MIME-Version: 1.0',
		'Content-Disposition: attachment; filename="smime.p7m"',
		`Content-Type: ${mediaType}; smime-type=enveloped-data; name="smime.p7m"`,
		'Content-Transfer-Encoding: base64',
	];
	return Buffer.from(`${head.join('\n')}\n\n${lines.join('\n')}\n\n`, 'latin1');
}

export function encryptSmime(content: Buffer, certificate: X509Certificate | string, options: EncryptOptions & { mediaType?: SmimeMediaType } = {}): Buffer {
	const cert = typeof certificate === 'string' ? encryptionCertificate(certificate) : certificate;
	return smimeMessage(encryptEnvelopedData(content, cert, options), options.mediaType);
}
