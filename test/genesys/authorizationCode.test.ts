/**
 * The authorization-code sign-in end to end against the simulator, whose gateway demands
 * `x-api-key` on every request, the token endpoint included (code exchange and refresh alike), as
 * the Authentication API reference says. The browser's part is a GET of the sign-in page that
 * follows no redirect; everything after it runs through the credential and the Genesys Data Export
 * node in the n8n harness (n8n's preAuthentication semantics: called when the access token is
 * empty and again after a 401, its answer saved in the credential).
 */
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenesysMulticloudOAuth2Api } from '../../credentials/GenesysMulticloudOAuth2Api.credentials';
import { GenesysDataExport } from '../../nodes/GenesysDataExport/GenesysDataExport.node';
import { authorizationCodeToken, authorizationUrl } from '../../src/genesys/authorizationCode';
import {
	createHarness,
	type CredentialEntry,
	type Harness,
	type RecordedRequest,
} from '../nodes/harness';
import { startGenesysSimulator, type GenesysSimulator } from '../simulator/genesys';

const API_KEY = 'sim-api-key';
const REDIRECT_URI = 'https://n8n.example.com/rest/oauth2-credential/callback';
const basic = `Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}`;

let sim: GenesysSimulator;
const harnesses: Harness[] = [];

beforeAll(async () => {
	sim = await startGenesysSimulator({ rotateRefreshTokens: true });
});

afterAll(async () => {
	for (const h of harnesses) await h.close();
	await sim?.close();
});

function fields(overrides: ICredentialDataDecryptedObject = {}): ICredentialDataDecryptedObject {
	return {
		region: 'custom',
		customBaseUrl: sim.baseUrl,
		apiKey: API_KEY,
		clientId: 'sim-client',
		clientSecret: 'sim-secret',
		redirectUri: REDIRECT_URI,
		apiVersion: 'udm-v10',
		...overrides,
	};
}

/** What the user does in the browser: open the sign-in page, land on the redirect URI, copy `code`. */
async function signInInBrowser(credentialFields: IDataObject = fields()): Promise<string> {
	const answer = await fetch(authorizationUrl(credentialFields, 'st-1'), { redirect: 'manual' });
	expect(answer.status).toBe(302);
	const landing = new URL(answer.headers.get('location') ?? '');
	expect(`${landing.origin}${landing.pathname}`).toBe(REDIRECT_URI);
	expect(landing.searchParams.get('state')).toBe('st-1');
	return landing.searchParams.get('code') ?? '';
}

function tokenCall(form: Record<string, string>, headers: Record<string, string>) {
	return fetch(`${sim.baseUrl}/auth/v3/oauth/token`, {
		method: 'POST',
		headers: {
			'content-type': 'application/x-www-form-urlencoded',
			authorization: basic,
			...headers,
		},
		body: new URLSearchParams(form).toString(),
	});
}

async function getVersion(
	credential: CredentialEntry,
): Promise<{ harness: Harness; json: IDataObject }> {
	const harness = await createHarness({
		nodeType: new GenesysDataExport(),
		parameters: { authentication: 'oAuth2', resource: 'referenceData', operation: 'getVersion' },
		credentials: { genesysMulticloudOAuth2Api: credential },
	});
	harnesses.push(harness);
	const [[item]] = await harness.execute();
	return { harness, json: item.json };
}

const tokenRequests = (requests: RecordedRequest[]) =>
	requests.filter((r) => new URL(r.url).pathname === '/auth/v3/oauth/token');

describe('the simulator demands the API key on every token request', () => {
	it('refuses the code exchange and the refresh without x-api-key (403), and takes them with it', async () => {
		const code = await signInInBrowser();
		const exchange = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI };
		const withoutKey = await tokenCall(exchange, {});
		expect(withoutKey.status).toBe(403);
		expect(await withoutKey.json()).toEqual({ message: 'Forbidden' });
		const exchanged = await tokenCall(exchange, { 'x-api-key': API_KEY });
		expect(exchanged.status).toBe(200);
		const { refresh_token: refreshToken } = (await exchanged.json()) as { refresh_token: string };
		expect(refreshToken).toEqual(expect.any(String));

		expect(
			(await tokenCall({ grant_type: 'refresh_token', refresh_token: refreshToken }, {})).status,
		).toBe(403);
		expect(
			(
				await tokenCall(
					{ grant_type: 'refresh_token', refresh_token: refreshToken },
					{ 'x-api-key': 'another-key' },
				)
			).status,
		).toBe(403);
		expect(
			(
				await tokenCall(
					{ grant_type: 'refresh_token', refresh_token: refreshToken },
					{ 'x-api-key': API_KEY },
				)
			).status,
		).toBe(200);
	});

	it('exchanges a code only with the redirect URI it was issued for', async () => {
		const code = await signInInBrowser();
		expect(
			(await tokenCall({ grant_type: 'authorization_code', code }, { 'x-api-key': API_KEY }))
				.status,
		).toBe(400);
		const other = await signInInBrowser();
		expect(
			(
				await tokenCall(
					{
						grant_type: 'authorization_code',
						code: other,
						redirect_uri: 'https://elsewhere.example/cb',
					},
					{ 'x-api-key': API_KEY },
				)
			).status,
		).toBe(400);
	});
});

describe('Genesys Multicloud CX OAuth2 API (authorization code) credential', () => {
	it('builds the sign-in address the reference shows', () => {
		const url = authorizationUrl(fields({ region: 'gapi-euw1' }), 'abc');
		expect(url.origin + url.pathname).toBe(
			'https://gapi-euw1.genesyscloud.com/auth/v3/oauth/authorize',
		);
		expect(Object.fromEntries(url.searchParams)).toEqual({
			response_type: 'code',
			client_id: 'sim-client',
			redirect_uri: REDIRECT_URI,
			scope: '*',
			state: 'abc',
		});
	});

	it('is not an n8n OAuth2 credential, whose code exchange and refresh cannot send x-api-key', () => {
		const type = new GenesysMulticloudOAuth2Api();
		expect((type as { extends?: string[] }).extends ?? []).not.toContain('oAuth2Api');
		expect(type.properties.find((p) => p.typeOptions?.expirable)?.name).toBe('accessToken');
		for (const name of [
			'apiKey',
			'clientSecret',
			'authorizationCode',
			'refreshToken',
			'accessToken',
		]) {
			expect(type.properties.find((p) => p.name === name)?.typeOptions?.password, name).toBe(true);
		}
	});

	it('signs in with the pasted code, calls the API, and refreshes with the API key when the token expires', async () => {
		const credential: CredentialEntry = {
			type: new GenesysMulticloudOAuth2Api(),
			data: fields({ authorizationCode: await signInInBrowser() }),
		};

		const first = await getVersion(credential);
		expect(first.json).toMatchObject({ name: 'udm-simulator' });
		const signedIn = { ...credential.data };
		expect(signedIn.refreshToken).toEqual(expect.any(String));
		expect(signedIn.exchangedCode).toMatch(/^[0-9a-f]{64}$/);
		const exchange = tokenRequests(first.harness.requests);
		expect(exchange).toHaveLength(1);
		expect(exchange[0].headers['x-api-key']).toBe(API_KEY);
		const apiCall = first.harness.requests.at(-1);
		expect(apiCall?.headers['x-api-key']).toBe(API_KEY);
		expect(apiCall?.headers.authorization).toBe(`Bearer ${String(signedIn.accessToken)}`);

		// A later execution reuses the saved access token: no token request, the code is not resent.
		const again = await getVersion(credential);
		expect(again.json).toMatchObject({ name: 'udm-simulator' });
		expect(tokenRequests(again.harness.requests)).toHaveLength(0);

		// The token expires early (the API answers 401): one refresh, with the API key.
		for (let round = 0; round < 2; round++) {
			const kept = String(credential.data.refreshToken);
			sim.controls.expireTokensNow();
			const refreshed = await getVersion(credential);
			expect(refreshed.json).toMatchObject({ name: 'udm-simulator' });
			const refresh = tokenRequests(refreshed.harness.requests);
			expect(refresh).toHaveLength(1);
			expect(refresh[0].headers['x-api-key']).toBe(API_KEY);
			expect(refresh[0].headers.authorization).toBe(basic);
			expect(refreshed.harness.preAuthentications.genesysMulticloudOAuth2Api).toBe(1);
			// The simulator revokes a used refresh token: the new one was kept (the second round needs it).
			expect(credential.data.refreshToken).not.toBe(kept);
			expect(credential.data.exchangedCode).toBe(signedIn.exchangedCode);
		}
	});

	it('takes a new code over the kept refresh token, and never sends a code twice', async () => {
		const credential: CredentialEntry = {
			type: new GenesysMulticloudOAuth2Api(),
			data: fields({ authorizationCode: await signInInBrowser() }),
		};
		await getVersion(credential);
		const firstSignIn = credential.data.exchangedCode;
		credential.data.authorizationCode = await signInInBrowser();
		credential.data.accessToken = '';
		await getVersion(credential);
		expect(credential.data.exchangedCode).toMatch(/^[0-9a-f]{64}$/);
		expect(credential.data.exchangedCode).not.toBe(firstSignIn);

		// The same (spent) code, an empty access token: the refresh token is used, not the code
		// (which the simulator would refuse with 400 invalid_grant).
		const kept = credential.data.refreshToken;
		credential.data.accessToken = '';
		const { harness, json } = await getVersion(credential);
		expect(json).toMatchObject({ name: 'udm-simulator' });
		expect(tokenRequests(harness.requests)).toHaveLength(1);
		expect(credential.data.refreshToken).not.toBe(kept);
	});

	it('says what to do when the sign-in is missing or over, never echoing a secret', async () => {
		const secrets = [API_KEY, 'sim-secret'];
		const notSignedIn = await authorizationCodeToken(fields()).then(
			() => new Error('expected a failure'),
			(e: unknown) => e as Error,
		);
		expect(notSignedIn.message).toMatch(/Not signed in to Genesys yet: open the sign-in page/);

		const code = await signInInBrowser();
		await authorizationCodeToken(fields({ authorizationCode: code }));
		const spent = await authorizationCodeToken(fields({ authorizationCode: code })).then(
			() => new Error('expected a failure'),
			(e: unknown) => e as Error,
		);
		expect(spent.message).toMatch(
			/^Exchanging the Genesys authorization code failed: HTTP 400; Genesys says invalid_grant: .*; the authorization code was used already or has expired, or the sign-in was revoked: sign in again and paste the new code$/,
		);
		expect(spent.message).not.toContain(code);

		const revoked = await authorizationCodeToken(
			fields({ refreshToken: 'no-such-refresh-token' }),
		).then(
			() => new Error('expected a failure'),
			(e: unknown) => e as Error,
		);
		expect(revoked.message).toMatch(
			/^Refreshing the Genesys token failed: HTTP 400; .*sign in again and paste the new code$/,
		);

		const wrongKey = await authorizationCodeToken(
			fields({ apiKey: 'wrong-key', authorizationCode: await signInInBrowser() }),
		).then(
			() => new Error('expected a failure'),
			(e: unknown) => e as Error,
		);
		expect(wrongKey.message).toMatch(/HTTP 403.*check the API key/);
		for (const error of [notSignedIn, spent, revoked, wrongKey])
			for (const secret of [...secrets, 'no-such-refresh-token', 'wrong-key'])
				expect(error.message).not.toContain(secret);
	});
});
