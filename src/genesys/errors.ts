/**
 * Genesys API errors in the user's words (as ApiError): the HTTP status, Genesys' own
 * `status.code` and `message`, and what to do about it. Never includes tokens, keys or passwords.
 */
import { ApiError } from '../errors';
import { errorBody } from './models';

export type ErrorContext = 'api' | 'token' | 'file';

/** What to check for a status, given what was being done. */
export function hintFor(
	httpStatus: number,
	context: ErrorContext = 'api',
	oauthError?: string,
): string | undefined {
	if (context === 'token') {
		// The Authentication API: 401 = the client is refused, 400 invalid_grant = the user is.
		if (httpStatus === 401) return 'check the client ID and client secret';
		if (httpStatus === 400 && oauthError === 'invalid_grant')
			return 'check the user name (TENANT\\user) and password';
		if (httpStatus === 400 && oauthError === 'unsupported_grant_type')
			return 'this client may not use this grant type: try the other one in the credential';
	}
	if (httpStatus === 401)
		return 'the token was refused: check the client ID and secret and the user credentials';
	if (httpStatus === 403) return 'check the API key (x-api-key) and that this user may export data';
	if (httpStatus === 404 && context === 'file')
		return 'the file may be older than the 30-day retention, or the run was deleted';
	if (httpStatus === 404) return 'check the job or run ID';
	if (httpStatus === 429)
		return 'Genesys is rate-limiting this API key; retry later or lower the poll rate';
	if (httpStatus >= 500) return 'a Genesys service error; retry later';
	return undefined;
}

/** Builds the error for a failed call from its status and (possibly non-JSON) body text. */
export function genesysError(
	httpStatus: number,
	bodyText: string,
	operation: string,
	context: ErrorContext = 'api',
): ApiError {
	let code: number | undefined;
	let message: string | undefined;
	let oauthError: string | undefined;
	try {
		const parsed = errorBody.safeParse(JSON.parse(bodyText));
		if (parsed.success) {
			const status = parsed.data.status ?? parsed.data.errors?.[0]?.status;
			code = status?.code;
			// The Authentication API answers OAuth-style ({error, error_description}); the gateway {message}.
			oauthError = parsed.data.error;
			message =
				status?.message ??
				(oauthError
					? [oauthError, parsed.data.error_description].filter(Boolean).join(': ')
					: parsed.data.message);
		}
	} catch {
		// Not JSON (a proxy's HTML page, say): the status alone has to do.
	}
	return new ApiError({
		httpStatus,
		operation,
		service: 'Genesys',
		remoteCode: code,
		remoteMessage: message?.slice(0, 300),
		hint: hintFor(httpStatus, context, oauthError),
	});
}
