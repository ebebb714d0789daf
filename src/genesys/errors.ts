/**
 * Genesys API errors in the user's words: the HTTP status, Genesys' own `status.code` and
 * `message`, and what to do about it. Never includes tokens, keys or passwords.
 */
import { errorBody } from './models';

export class GenesysApiError extends Error {
	readonly httpStatus: number;
	readonly genesysCode?: number;
	readonly genesysMessage?: string;
	readonly hint?: string;

	constructor(options: { httpStatus: number; operation: string; genesysCode?: number; genesysMessage?: string; hint?: string }) {
		const parts = [`${options.operation} failed: HTTP ${options.httpStatus}`];
		if (options.genesysCode !== undefined || options.genesysMessage) {
			parts.push(`Genesys says ${[options.genesysCode, options.genesysMessage].filter((p) => p !== undefined && p !== '').join(' ')}`);
		}
		if (options.hint) parts.push(options.hint);
		super(parts.join('; '));
		this.name = 'GenesysApiError';
		this.httpStatus = options.httpStatus;
		this.genesysCode = options.genesysCode;
		this.genesysMessage = options.genesysMessage;
		this.hint = options.hint;
	}
}

export type ErrorContext = 'api' | 'token' | 'file';

/** What to check for a status, given what was being done. */
export function hintFor(httpStatus: number, context: ErrorContext = 'api'): string | undefined {
	if (httpStatus === 401) {
		return context === 'token'
			? 'check the client ID and secret, and the user (TENANT\\user) and password'
			: 'the token was refused: check the client ID and secret and the user credentials';
	}
	if (httpStatus === 403) return 'check the API key (x-api-key) and that this user may export data';
	if (httpStatus === 404 && context === 'file') return 'the file may be older than the 30-day retention, or the run was deleted';
	if (httpStatus === 404) return 'check the job or run ID';
	if (httpStatus === 429) return 'Genesys is rate-limiting this API key; retry later or lower the poll rate';
	if (httpStatus >= 500) return 'a Genesys service error; retry later';
	return undefined;
}

/** Builds the error for a failed call from its status and (possibly non-JSON) body text. */
export function genesysError(httpStatus: number, bodyText: string, operation: string, context: ErrorContext = 'api'): GenesysApiError {
	let code: number | undefined;
	let message: string | undefined;
	try {
		const parsed = errorBody.safeParse(JSON.parse(bodyText));
		if (parsed.success) {
			const status = parsed.data.status ?? parsed.data.errors?.[0]?.status;
			code = status?.code;
			message = status?.message;
		}
	} catch {
		// Not JSON (a proxy's HTML page, say): the status alone has to do.
	}
	return new GenesysApiError({ httpStatus, operation, genesysCode: code, genesysMessage: message?.slice(0, 300), hint: hintFor(httpStatus, context) });
}
