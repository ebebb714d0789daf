/**
 * One error type for the whole core. `code` is stable (tests, the CLI and the nodes switch on it);
 * `message` says what is wrong, where, and what to do. Messages never contain secrets: keys,
 * passphrases, tokens or passwords are never interpolated into them.
 */
export type CxErrorCode =
	// input format / S/MIME / CMS
	| 'CMS_FORMAT' // not S/MIME, PEM or DER CMS; malformed ASN.1
	| 'CMS_TRUNCATED' // the input ended before the CMS structure did
	| 'CMS_UNSUPPORTED' // a valid structure we do not handle (cipher, key transport, content type)
	| 'CMS_WRONG_KEY' // no recipient matches the key, or the key does not open the content key
	| 'CMS_INTEGRITY' // padding / authentication tag check failed: corrupted or wrong key
	| 'KEY_INVALID' // the key file cannot be read (format, passphrase)
	// split sets and zip
	| 'PART_MISSING'
	| 'PART_DUPLICATE'
	| 'PART_FOREIGN'
	| 'PART_NAME' // a name that is not a part of a split export
	| 'ZIP_FORMAT' // not a zip / corrupt structure
	| 'ZIP_UNSAFE' // zip slip, symlink, absolute path
	| 'ZIP_LIMIT' // size / count / ratio limits (zip bomb)
	| 'ZIP_CRC' // CRC-32 mismatch
	// records
	| 'JSONL_MALFORMED'
	| 'JSONL_LIMIT'
	// HTTP
	| 'DOWNLOAD' // a download that could not be completed (after resuming)
	| 'TIMEOUT' // waited longer than allowed (an export run that does not finish)
	| 'API_FORMAT' // an API answer that is not what the API documents (JSON array, CSV)
	| 'EXPORT_FAILED' // a remote export that ended in error
	// CLI usage
	| 'USAGE'
	| 'IO';

export class CxError extends Error {
	readonly code: CxErrorCode;
	/** The file, entry or part the error is about, when there is one. */
	readonly where?: string;

	constructor(code: CxErrorCode, message: string, options?: { where?: string; cause?: unknown }) {
		super(message, options?.cause === undefined ? undefined : { cause: options.cause });
		this.name = 'CxError';
		this.code = code;
		this.where = options?.where;
	}
}

export function isCxError(error: unknown, code?: CxErrorCode): error is CxError {
	return error instanceof CxError && (code === undefined || error.code === code);
}
