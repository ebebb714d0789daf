/**
 * The Authorization Code Grant of the Genesys Authentication API, carried out by the credential
 * itself rather than by n8n's OAuth2 machinery: n8n's code exchange and token refresh send no
 * `x-api-key`, which the Genesys gateway demands on every request, the token endpoint included.
 *
 * The user signs in once in a browser at `/auth/v3/oauth/authorize` (see `authorizationUrl`) and
 * pastes the code the sign-in redirected with. The credential exchanges that code once, keeps the
 * refresh token, and from then on gets access tokens with the refresh token. Every token request
 * goes through `requestToken`: API key, HTTP Basic client credentials, scope `*`.
 */
import { createHash } from 'node:crypto';
import { ApiError, CxError } from '../errors';
import { requestToken, type AuthOptions, type GenesysCredentials, type Token } from './auth';
import { genesysBaseUrl } from './credentials';

/** What the credential keeps between executions (n8n saves what `preAuthentication` returns). */
export interface AuthorizationCodeSession {
	accessToken: string;
	refreshToken: string;
	/** A digest of the code already exchanged: a code is good once, so it is never sent twice. */
	exchangedCode: string;
}

function text(fields: Record<string, unknown>, name: string): string {
	return typeof fields[name] === 'string' ? (fields[name] as string).trim() : '';
}

/**
 * A token request for a code or a refresh token. `invalid_grant` there does not mean a wrong
 * password (what the token hints say) but a sign-in that is over: say so.
 */
async function signInToken(credentials: GenesysCredentials, options: AuthOptions): Promise<Token> {
	try {
		return await requestToken(credentials, options);
	} catch (error) {
		if (
			error instanceof ApiError &&
			error.httpStatus === 400 &&
			error.remoteMessage?.startsWith('invalid_grant')
		) {
			throw new ApiError({
				httpStatus: 400,
				operation: error.operation,
				service: error.service,
				remoteCode: error.remoteCode,
				remoteMessage: error.remoteMessage,
				hint: 'the authorization code was used already or has expired, or the sign-in was revoked: sign in again and paste the new code',
			});
		}
		throw error;
	}
}

function digest(code: string): string {
	return createHash('sha256').update(code).digest('hex');
}

/** Where the user signs in: `{base}/auth/v3/oauth/authorize?response_type=code&client_id=…&redirect_uri=…&scope=*`. */
export function authorizationUrl(fields: Record<string, unknown>, state?: string): URL {
	const url = new URL('/auth/v3/oauth/authorize', genesysBaseUrl(fields) + '/');
	url.searchParams.set('response_type', 'code');
	url.searchParams.set('client_id', text(fields, 'clientId'));
	url.searchParams.set('redirect_uri', text(fields, 'redirectUri'));
	url.searchParams.set('scope', '*');
	if (state !== undefined) url.searchParams.set('state', state);
	return url;
}

/**
 * An access token for an authorization-code credential: a code not exchanged yet is exchanged
 * (a new sign-in wins over an older refresh token); otherwise the refresh token is used. The
 * answer's refresh token replaces the kept one when Genesys sends a new one.
 */
export async function authorizationCodeToken(
	fields: Record<string, unknown>,
	options: AuthOptions = {},
): Promise<AuthorizationCodeSession> {
	const base = {
		baseUrl: genesysBaseUrl(fields),
		apiKey: text(fields, 'apiKey'),
		clientId: text(fields, 'clientId'),
		clientSecret: text(fields, 'clientSecret'),
	};
	const code = text(fields, 'authorizationCode');
	const exchanged = text(fields, 'exchangedCode');
	const refreshToken = text(fields, 'refreshToken');
	if (code !== '' && digest(code) !== exchanged) {
		const redirectUri = text(fields, 'redirectUri');
		if (redirectUri === '')
			throw new CxError(
				'USAGE',
				'The credential has an authorization code but no Redirect URI: enter the redirect URI the sign-in used',
			);
		const token = await signInToken(
			{ ...base, grantType: 'authorization_code', code, redirectUri },
			options,
		);
		return {
			accessToken: token.accessToken,
			refreshToken: token.refreshToken ?? '',
			exchangedCode: digest(code),
		};
	}
	if (refreshToken !== '') {
		const token = await signInToken({ ...base, grantType: 'refresh_token', refreshToken }, options);
		return {
			accessToken: token.accessToken,
			refreshToken: token.refreshToken ?? refreshToken,
			exchangedCode: exchanged,
		};
	}
	throw new CxError(
		'USAGE',
		code === ''
			? 'Not signed in to Genesys yet: open the sign-in page (see the credential), sign in, and paste the code from the address you land on into Authorization Code'
			: 'The Genesys sign-in has ended (Genesys gave no refresh token): sign in again and paste the new authorization code',
	);
}
