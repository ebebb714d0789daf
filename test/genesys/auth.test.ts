import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requestToken, TokenSource, type GenesysCredentials } from '../../src/genesys/auth';
import { ApiError as GenesysApiError } from '../../src/errors';

let server: Server;
let base: string;
const tokenRequests: Array<{
	headers: Record<string, string | string[] | undefined>;
	form: URLSearchParams;
}> = [];
let issued = 0;
/** Tokens the resource accepts; the test revokes them to simulate early expiry. */
const valid = new Set<string>();
let lifetime = 3600;

beforeAll(async () => {
	server = createServer((req, res) => {
		let body = '';
		req.on('data', (d) => (body += d));
		req.on('end', () => {
			if (req.url === '/auth/v3/oauth/token' && req.method === 'POST') {
				const form = new URLSearchParams(body);
				tokenRequests.push({ headers: req.headers, form });
				const basic = Buffer.from('client-1:client-secret-xyz').toString('base64');
				const okUser =
					form.get('grant_type') === 'client_credentials' ||
					(form.get('username') === 'ACME\\agent' && form.get('password') === 'pa55word');
				// As the Authentication API reference documents: 403 {message} for the API key,
				// 401 {error, error_description} for the client, 400 invalid_grant for the user.
				if (req.headers['x-api-key'] !== 'api-key-123') {
					res.writeHead(403, { 'content-type': 'application/json' });
					return res.end(JSON.stringify({ message: 'Forbidden' }));
				}
				if (req.headers.authorization !== `Basic ${basic}`) {
					res.writeHead(401, { 'content-type': 'application/json' });
					return res.end(
						JSON.stringify({ error: 'Unauthorized', error_description: 'Bad credentials' }),
					);
				}
				if (!okUser) {
					res.writeHead(400, { 'content-type': 'application/json' });
					return res.end(
						JSON.stringify({ error: 'invalid_grant', error_description: 'Bad credentials' }),
					);
				}
				const token = `token-${++issued}`;
				valid.add(token);
				res.writeHead(200, { 'content-type': 'application/json' });
				return res.end(
					JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: lifetime }),
				);
			}
			const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
			res.writeHead(valid.has(token) ? 200 : 401);
			return res.end(valid.has(token) ? `hello ${token}` : '');
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());
beforeEach(() => {
	tokenRequests.length = 0;
	lifetime = 3600;
});

function credentials(overrides: Partial<GenesysCredentials> = {}): GenesysCredentials {
	return {
		baseUrl: base,
		apiKey: 'api-key-123',
		clientId: 'client-1',
		clientSecret: 'client-secret-xyz',
		grantType: 'password',
		username: 'ACME\\agent',
		password: 'pa55word',
		...overrides,
	};
}

describe('Genesys tokens', () => {
	it('asks with the API key, Basic client credentials and the password grant, scope *', async () => {
		const token = await requestToken(credentials());
		expect(token.accessToken).toMatch(/^token-/);
		const { headers, form } = tokenRequests[0];
		expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
		expect(Object.fromEntries(form)).toEqual({
			grant_type: 'password',
			client_id: 'client-1',
			scope: '*',
			username: 'ACME\\agent',
			password: 'pa55word',
		});
	});

	it('supports the client-credentials grant without a user', async () => {
		await requestToken(
			credentials({ grantType: 'client_credentials', username: undefined, password: undefined }),
		);
		expect(tokenRequests[0].form.has('username')).toBe(false);
	});

	it('says what to check, never echoing a secret', async () => {
		for (const [bad, status, hint] of [
			[{ apiKey: 'wrong' }, 403, /check the API key/],
			[
				{ password: 'nope-secret' },
				400,
				/invalid_grant: Bad credentials; check the user name \(TENANT\\user\) and password/,
			],
			[{ clientSecret: 'other-secret' }, 401, /check the client ID and client secret/],
		] as const) {
			const error = await requestToken(credentials(bad)).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(GenesysApiError);
			expect((error as GenesysApiError).httpStatus).toBe(status);
			expect((error as Error).message).toMatch(hint);
			for (const secret of [
				'pa55word',
				'nope-secret',
				'client-secret-xyz',
				'other-secret',
				'api-key-123',
				'wrong',
			])
				expect((error as Error).message).not.toContain(secret);
		}
	});

	it('reuses a token until shortly before it expires', async () => {
		let t = 0;
		const source = new TokenSource(credentials(), { now: () => t });
		const a = await source.get();
		t = 3600_000 - 120_000;
		expect(await source.get()).toBe(a);
		t = 3600_000 - 30_000;
		expect((await source.get()).accessToken).not.toBe(a.accessToken);
		expect(tokenRequests).toHaveLength(2);
	});

	it('shares one token request between concurrent callers', async () => {
		const source = new TokenSource(credentials());
		const tokens = await Promise.all([source.get(), source.get(), source.get()]);
		expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
		expect(tokenRequests).toHaveLength(1);
	});

	it('refreshes once when the API answers 401 (a token that expired early)', async () => {
		const source = new TokenSource(credentials());
		const first = await source.get();
		valid.delete(first.accessToken);
		const call = (token: { accessToken: string }) =>
			fetch(`${base}/udm/v10/jobs`, { headers: { authorization: `Bearer ${token.accessToken}` } });
		const response = await source.authorized(call);
		expect(response.status).toBe(200);
		expect(await response.text()).not.toContain(first.accessToken);
		expect(tokenRequests).toHaveLength(2);
	});

	it('returns the second 401 instead of looping', async () => {
		const source = new TokenSource(credentials());
		let calls = 0;
		const response = await source.authorized(
			async () => (calls++, new Response(null, { status: 401 })),
		);
		expect(response.status).toBe(401);
		expect(calls).toBe(2);
	});
});
