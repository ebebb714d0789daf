/**
 * Tokens for the Genesys Multicloud CX APIs: `POST {base}/auth/v3/oauth/token` with the API key,
 * HTTP Basic client credentials and a password or client-credentials grant, scope `*`. A token is
 * reused until shortly before it expires; a request answered 401 gets one fresh token and one more
 * try. Secrets never appear in errors.
 */
import { z } from 'zod';
import { genesysError } from './errors';

export interface GenesysCredentials {
	/** e.g. https://gapi-use1.genesyscloud.com (no trailing path). */
	baseUrl: string;
	apiKey: string;
	clientId: string;
	clientSecret: string;
	grantType: 'password' | 'client_credentials';
	/** `TENANT\user`, for the password grant. */
	username?: string;
	password?: string;
}

export interface Token {
	accessToken: string;
	/** Epoch ms. */
	expiresAt: number;
}

const tokenResponse = z.looseObject({
	access_token: z.string().min(1),
	token_type: z.string().optional(),
	expires_in: z.number().optional(),
});

/** Renew this long before the stated expiry, so that a token never expires mid-request. */
const EXPIRY_MARGIN_MS = 60_000;
/** When a token response gives no lifetime. */
const DEFAULT_LIFETIME_S = 3600;

export interface AuthOptions {
	fetch?: typeof fetch;
	now?: () => number;
}

export function tokenUrl(baseUrl: string): URL {
	return new URL('/auth/v3/oauth/token', baseUrl.replace(/\/+$/, '') + '/');
}

export async function requestToken(credentials: GenesysCredentials, options: AuthOptions = {}): Promise<Token> {
	const doFetch = options.fetch ?? fetch;
	const now = options.now ?? Date.now;
	const form = new URLSearchParams({ grant_type: credentials.grantType, client_id: credentials.clientId, scope: '*' });
	if (credentials.grantType === 'password') {
		form.set('username', credentials.username ?? '');
		form.set('password', credentials.password ?? '');
	}
	const response = await doFetch(tokenUrl(credentials.baseUrl), {
		method: 'POST',
		headers: {
			'x-api-key': credentials.apiKey,
			authorization: `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`,
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'application/json',
		},
		body: form.toString(),
	});
	const text = await response.text();
	if (!response.ok) throw genesysError(response.status, text, 'Getting a Genesys token', 'token');
	let parsed: z.infer<typeof tokenResponse>;
	try {
		parsed = tokenResponse.parse(JSON.parse(text));
	} catch {
		throw genesysError(response.status, '', 'Getting a Genesys token (the answer holds no access_token)', 'token');
	}
	return { accessToken: parsed.access_token, expiresAt: now() + (parsed.expires_in ?? DEFAULT_LIFETIME_S) * 1000 };
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
		this.pending ??= requestToken(this.credentials, this.options).finally(() => (this.pending = undefined));
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
