/** Object identifiers this package understands, with the names used in messages. */
export const OID = {
	data: '1.2.840.113549.1.7.1',
	envelopedData: '1.2.840.113549.1.7.3',
	signedData: '1.2.840.113549.1.7.2',
	authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
	rsaEncryption: '1.2.840.113549.1.1.1',
	rsaesOaep: '1.2.840.113549.1.1.7',
	mgf1: '1.2.840.113549.1.1.8',
	pSpecified: '1.2.840.113549.1.1.9',
	subjectKeyIdentifier: '2.5.29.14',
} as const;

export const HASHES: Record<string, string> = {
	'1.3.14.3.2.26': 'sha1',
	'2.16.840.1.101.3.4.2.4': 'sha224',
	'2.16.840.1.101.3.4.2.1': 'sha256',
	'2.16.840.1.101.3.4.2.2': 'sha384',
	'2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface ContentCipherSpec {
	/** Node/OpenSSL cipher name. */
	cipher: string;
	keyLength: number;
	mode: 'cbc' | 'gcm';
	label: string;
}

export const CONTENT_CIPHERS: Record<string, ContentCipherSpec> = {
	'2.16.840.1.101.3.4.1.2': {
		cipher: 'aes-128-cbc',
		keyLength: 16,
		mode: 'cbc',
		label: 'AES-128-CBC',
	},
	'2.16.840.1.101.3.4.1.22': {
		cipher: 'aes-192-cbc',
		keyLength: 24,
		mode: 'cbc',
		label: 'AES-192-CBC',
	},
	'2.16.840.1.101.3.4.1.42': {
		cipher: 'aes-256-cbc',
		keyLength: 32,
		mode: 'cbc',
		label: 'AES-256-CBC',
	},
	'1.2.840.113549.3.7': {
		cipher: 'des-ede3-cbc',
		keyLength: 24,
		mode: 'cbc',
		label: 'DES-EDE3-CBC',
	},
	'2.16.840.1.101.3.4.1.6': {
		cipher: 'aes-128-gcm',
		keyLength: 16,
		mode: 'gcm',
		label: 'AES-128-GCM',
	},
	'2.16.840.1.101.3.4.1.26': {
		cipher: 'aes-192-gcm',
		keyLength: 24,
		mode: 'gcm',
		label: 'AES-192-GCM',
	},
	'2.16.840.1.101.3.4.1.46': {
		cipher: 'aes-256-gcm',
		keyLength: 32,
		mode: 'gcm',
		label: 'AES-256-GCM',
	},
};

/** Names for OIDs that show up in "not supported" messages. */
export const KNOWN_NAMES: Record<string, string> = {
	[OID.data]: 'data',
	[OID.envelopedData]: 'enveloped data',
	[OID.signedData]: 'signed data (a signature, not encryption)',
	[OID.authEnvelopedData]: 'authenticated enveloped data',
	'1.2.840.113549.1.7.6': 'encrypted data (password based)',
	'1.2.840.113549.1.9.16.1.9': 'compressed data',
	'1.2.840.113549.3.2': 'RC2-CBC',
	'1.3.14.3.2.7': 'DES-CBC',
	'2.16.840.1.101.3.4.1.7': 'AES-128-CCM',
	'2.16.840.1.101.3.4.1.27': 'AES-192-CCM',
	'2.16.840.1.101.3.4.1.47': 'AES-256-CCM',
};

export function nameOf(oid: string): string {
	return KNOWN_NAMES[oid] ? `${KNOWN_NAMES[oid]} (${oid})` : oid;
}
