/**
 * Tokens for the Genesys Multicloud CX APIs: `POST {base}/auth/v3/oauth/token` with the API key,
 * HTTP Basic client credentials and a password, client-credentials, authorization-code or
 * refresh-token grant, scope `*`. A token is reused until shortly before it expires; a request
 * answered 401 gets one fresh token and one more try. Secrets never appear in errors. The token
 * request never follows a redirect: an answer that points elsewhere is an error, so the key, the
 * client secret and the password go to the token endpoint and nowhere else.
 */
import { z } from 'zod';
import { ApiError } from '../errors';
import { discard, readErrorText, readTextLimited } from '../http/body';
import { genesysError } from './errors';

export interface GenesysCredentials {
	/** e.g. https://gapi-use1.genesyscloud.com (no trailing path). */
	baseUrl: string;
	apiKey: string;
	clientId: string;
	clientSecret: string;
	grantType: 'password' | 'client_credentials' | 'authorization_code' | 'refresh_token';
	/** `TENANT\user`, for the password grant. */
	username?: string;
	password?: string;
	/** The authorization_code grant: the code the sign-in redirected with, and that redirect URI. */
	code?: string;
	redirectUri?: string;
	/** The refresh_token grant. */
	refreshToken?: string;
}

export interface Token {
	accessToken: string;
	/** Epoch ms. */
	expiresAt: number;
	/** When the answer holds one (the password, authorization-code and refresh grants). */
	refreshToken?: string;
}

const tokenResponse = z.looseObject({
	access_token: z.string().min(1),
	token_type: z.string().optional(),
	expires_in: z.number().optional(),
	refresh_token: z.string().min(1).optional(),
});

const OPERATIONS: Record<GenesysCredentials['grantType'], string> = {
	password: 'Getting a Genesys token',
	client_credentials: 'Getting a Genesys token',
	authorization_code: 'Exchanging the Genesys authorization code',
	refresh_token: 'Refreshing the Genesys token',
};

/** Renew this long before the stated expiry, so that a token never expires mid-request. */
const EXPIRY_MARGIN_MS = 60_000;
/** When a token response gives no lifetime. */
const DEFAULT_LIFETIME_S = 3600;

export interface AuthOptions {
	fetch?: typeof fetch;
	now?: () => number;
	signal?: AbortSignal;
}

/** A token answer is a few KiB; anything past this is not one. */
const TOKEN_BODY_LIMIT = 256 * 1024;

export function tokenUrl(baseUrl: string): URL {
	return new URL('/auth/v3/oauth/token', baseUrl.replace(/\/+$/, '') + '/');
}

export async function requestToken(
	credentials: GenesysCredentials,
	options: AuthOptions = {},
): Promise<Token> {
	const doFetch = options.fetch ?? fetch;
	const now = options.now ?? Date.now;
	const form = new URLSearchParams({
		grant_type: credentials.grantType,
		client_id: credentials.clientId,
		scope: '*',
	});
	if (credentials.grantType === 'password') {
		form.set('username', credentials.username ?? '');
		form.set('password', credentials.password ?? '');
	} else if (credentials.grantType === 'authorization_code') {
		form.set('code', credentials.code ?? '');
		form.set('redirect_uri', credentials.redirectUri ?? '');
	} else if (credentials.grantType === 'refresh_token') {
		form.set('refresh_token', credentials.refreshToken ?? '');
	}
	const operation = OPERATIONS[credentials.grantType];
	const url = tokenUrl(credentials.baseUrl);
	const response = await doFetch(url, {
		method: 'POST',
		headers: {
			'x-api-key': credentials.apiKey,
			authorization: `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`,
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'application/json',
		},
		body: form.toString(),
		// Never re-sent elsewhere: a redirect is reported, not followed.
		redirect: 'manual',
		signal: options.signal,
	});
	if (response.status >= 300 && response.status < 400) {
		await discard(response);
		throw new ApiError({
			httpStatus: response.status,
			operation,
			service: 'Genesys',
			hint: `the token endpoint ${url.host} answered with a redirect${redirectTarget(response, url)}; the credentials are not sent there: check the base URL`,
		});
	}
	if (!response.ok)
		throw genesysError(response.status, await readErrorText(response), operation, 'token');
	let parsed: z.infer<typeof tokenResponse>;
	try {
		parsed = tokenResponse.parse(
			JSON.parse(await readTextLimited(response, TOKEN_BODY_LIMIT, operation)),
		);
	} catch {
		throw genesysError(
			response.status,
			'',
			`${operation} (the answer holds no access_token)`,
			'token',
		);
	}
	return {
		accessToken: parsed.access_token,
		expiresAt: now() + (parsed.expires_in ?? DEFAULT_LIFETIME_S) * 1000,
		refreshToken: parsed.refresh_token,
	};
}

/** " to <host>" of a redirect's Location, when it names one (never its path or query). */
function redirectTarget(response: Response, from: URL): string {
	try {
		const location = response.headers.get('location');
		return location ? ` to ${new URL(location, from).host}` : '';
	} catch {
		return '';
	}
}

/** A cached token, renewed before it expires or when the API refuses it. */
export class TokenSource {
	private token?: Token;
	private pending?: Promise<Token>;

	constructor(
		private readonly credentials: GenesysCredentials,
		private readonly options: AuthOptions = {},
	) {}

	async get(): Promise<Token> {
		const now = (this.options.now ?? Date.now)();
		if (this.token && now < this.token.expiresAt - EXPIRY_MARGIN_MS) return this.token;
		// Concurrent callers share one token request.
		this.pending ??= requestToken(this.credentials, this.options).finally(
			() => (this.pending = undefined),
		);
		this.token = await this.pending;
		return this.token;
	}

	invalidate(): void {
		this.token = undefined;
	}

	/**
	 * Runs `request` with a token; a 401 answer gets one new token and one more try. The second
	 * answer is returned whatever it is (the caller reports a second 401 with its hint).
	 */
	async authorized(request: (token: Token) => Promise<Response>): Promise<Response> {
		const first = await request(await this.get());
		if (first.status !== 401) return first;
		await first.body?.cancel();
		this.invalidate();
		return request(await this.get());
	}
}
