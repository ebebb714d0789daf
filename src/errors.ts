import type { LimitName } from './limits';

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
	| 'CMS_LIMIT' // a header element larger than the CMS header limit
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
	| 'API' // an API answered with an error status (ApiError: the HTTP code is `httpStatus`)
	| 'URL_REFUSED' // a URL handed over by an API that is not fetched (scheme, address, host)
	| 'CANCELLED' // the caller gave up (the n8n execution was cancelled): no retry, no wait
	// CLI usage
	| 'USAGE'
	| 'IO';

export class CxError extends Error {
	readonly code: CxErrorCode;
	/** The file, entry or part the error is about, when there is one. */
	readonly where?: string;
	/** The limit that stopped the operation, when one did (see src/limits.ts: its flag and node option). */
	readonly limit?: LimitName;

	constructor(
		code: CxErrorCode,
		message: string,
		options?: { where?: string; cause?: unknown; limit?: LimitName },
	) {
		super(oneLine(message), options?.cause === undefined ? undefined : { cause: options.cause });
		this.name = 'CxError';
		this.code = code;
		this.where = options?.where;
		this.limit = options?.limit;
	}
}

/**
 * A message is one line whatever the names it quotes: a file named `a\nb` (names come from the
 * user, from zips and from APIs) shows as `a\nb`, so a log line or the CLI's `error: …` stays whole.
 */
function oneLine(message: string): string {
	// eslint-disable-next-line no-control-regex
	return message.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) =>
		c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
	);
}

export function isCxError(error: unknown, code?: CxErrorCode): error is CxError {
	return error instanceof CxError && (code === undefined || error.code === code);
}

/**
 * An API that answered with an error status (or with something it does not document): the HTTP
 * code, what was being done, the service's own code and message when it gave them, and what to
 * check. The nodes turn it into n8n's NodeApiError with the HTTP code.
 */
export class ApiError extends CxError {
	readonly httpStatus: number;
	readonly operation: string;
	/** Who answered, for messages: "Genesys", "Connectif", "Context Services". */
	readonly service: string;
	/** The service's own error code and message, when the body held them. */
	readonly remoteCode?: number | string;
	readonly remoteMessage?: string;
	readonly hint?: string;

	constructor(options: {
		httpStatus: number;
		operation: string;
		service: string;
		remoteCode?: number | string;
		remoteMessage?: string;
		hint?: string;
		cause?: unknown;
	}) {
		const parts = [`${options.operation} failed: HTTP ${options.httpStatus}`];
		const said = [options.remoteCode, options.remoteMessage]
			.filter((p) => p !== undefined && p !== '')
			.join(' ');
		if (said !== '') parts.push(`${options.service} says ${said}`);
		if (options.hint) parts.push(options.hint);
		super(
			'API',
			parts.join('; '),
			options.cause === undefined ? undefined : { cause: options.cause },
		);
		this.name = 'ApiError';
		this.httpStatus = options.httpStatus;
		this.operation = options.operation;
		this.service = options.service;
		this.remoteCode = options.remoteCode;
		this.remoteMessage = options.remoteMessage;
		this.hint = options.hint;
	}
}
