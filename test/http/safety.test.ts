/**
 * What the HTTP kernel does with what it is handed: token requests never follow a redirect, links
 * from an API are checked before any connection (scheme, address, resolved address), bodies are
 * read with a cap, and the execution's cancel signal stops retries and polls at once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeApiError, type INode } from 'n8n-workflow';
import { afterEach, describe, expect, it } from 'vitest';
import { toNodeError } from '../../nodes/shared/errors';
import { ConnectifClient } from '../../src/connectif/client';
import { ApiError, CxError, isCxError } from '../../src/errors';
import { requestToken } from '../../src/genesys/auth';
import { GenesysClient, type ApiRequest } from '../../src/genesys/client';
import { checkedFetch } from '../../src/http/transport';
import { checkUrl, urlPolicy } from '../../src/http/urlPolicy';

const servers: Server[] = [];
afterEach(async () => {
	while (servers.length) await new Promise((resolve) => servers.pop()?.close(resolve));
});

async function serve(
	handler: (
		req: IncomingMessage,
		body: string,
	) => { status: number; headers?: Record<string, string>; body?: string },
) {
	const seen: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = [];
	const server = createServer((req, res) => {
		let body = '';
		req.on('data', (c: Buffer) => (body += c.toString()));
		req.on('end', () => {
			seen.push({ url: req.url ?? '', headers: req.headers, body });
			const answer = handler(req, body);
			res.writeHead(answer.status, answer.headers);
			res.end(answer.body);
		});
	});
	servers.push(server);
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => undefined,
		(e: unknown) => e as Error,
	);

async function drain(chunks: AsyncIterable<Buffer>): Promise<number> {
	let n = 0;
	for await (const chunk of chunks) n += chunk.length;
	return n;
}

/** A body of `total` bytes that is only produced as it is read; `pulled()` says how much was. */
function lazyBody(total: number, chunk = 1024 * 1024) {
	let pulled = 0;
	const stream = new ReadableStream<Uint8Array>(
		{
			pull(controller) {
				if (pulled >= total) return controller.close();
				const n = Math.min(chunk, total - pulled);
				pulled += n;
				controller.enqueue(new Uint8Array(n).fill(0x61));
			},
		},
		{ highWaterMark: 0 },
	);
	return { stream, pulled: () => pulled };
}

describe('token requests', () => {
	it('a 307 to another origin is an error naming the status and host; the key and password are not sent again', async () => {
		const elsewhere = await serve(() => ({
			status: 200,
			headers: { 'content-type': 'application/json' },
			body: '{"access_token":"stolen"}',
		}));
		const gateway = await serve(() => ({
			status: 307,
			headers: { location: `${elsewhere.base}/auth/v3/oauth/token` },
		}));
		const error = await failure(
			requestToken({
				baseUrl: gateway.base,
				apiKey: 'KEY-123',
				clientId: 'client',
				clientSecret: 'SECRET',
				grantType: 'password',
				username: 'T\\u',
				password: 'PASSWORD',
			}),
		);
		expect(error).toBeInstanceOf(ApiError);
		expect((error as ApiError).httpStatus).toBe(307);
		expect(error?.message).toMatch(/HTTP 307/);
		expect(error?.message).toContain(new URL(elsewhere.base).host);
		expect(error?.message).not.toMatch(/KEY-123|SECRET|PASSWORD/);
		expect(gateway.seen).toHaveLength(1);
		expect(elsewhere.seen).toHaveLength(0);
	});
});

describe('links handed over by an API', () => {
	const refused = [
		['the metadata address', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
		['the metadata address over https', 'https://169.254.169.254/latest/meta-data/'],
		['a link-local IPv6 address', 'https://[fe80::1]/x'],
		['an IPv4-mapped metadata address', 'https://[::ffff:169.254.169.254]/x'],
		['loopback, from a public API', 'https://127.0.0.1:8080/admin'],
		['localhost, from a public API', 'https://localhost/x'],
		['a private address, from a public API', 'https://10.1.2.3/x'],
		['a data: URL', 'data:text/plain;base64,c2VjcmV0'],
		['a file: URL', 'file:///etc/passwd'],
		['plain http, from an https API', 'http://storage.example.net/b/export-1.zip.smime'],
		['an ftp: URL', 'ftp://storage.example.net/x'],
	] as const;

	for (const [what, location] of refused) {
		it(`refuses ${what} in a 303 Location before any connection`, async () => {
			let storageCalls = 0;
			const client = new GenesysClient({
				baseUrl: 'https://gapi-euw1.genesyscloud.com',
				send: async () => new Response(null, { status: 303, headers: { location } }),
				fetch: (async () => (storageCalls++, new Response('secret'))) as typeof fetch,
			});
			const error = await failure(drain(client.downloadFile('export-1.zip.smime').chunks));
			expect(isCxError(error, 'URL_REFUSED'), String(error)).toBe(true);
			expect(error?.message).toMatch(/download link of export-1\.zip\.smime .*is refused/);
			expect(storageCalls).toBe(0);
		});
	}

	it('refuses a JSON `path` pointing at the metadata address, and a Connectif fileUrl on loopback', async () => {
		let storageCalls = 0;
		const storage = (async () => (storageCalls++, new Response('secret'))) as typeof fetch;
		const genesys = new GenesysClient({
			baseUrl: 'https://gapi-euw1.genesyscloud.com',
			send: async () =>
				new Response(JSON.stringify({ path: 'http://169.254.169.254/latest/' }), {
					status: 200,
					headers: { 'content-type': 'application/json' },
				}),
			fetch: storage,
		});
		expect(
			isCxError(await failure(drain(genesys.downloadFile('a.zip.smime').chunks)), 'URL_REFUSED'),
		).toBe(true);
		const connectif = new ConnectifClient({ send: async () => new Response('{}'), fetch: storage });
		const exp = { id: 'e1', status: 'finished', fileUrl: 'https://127.0.0.1/files/e1.zip' };
		const error = await failure(drain(connectif.downloadExport(exp, Date.now()).chunks));
		expect(isCxError(error, 'URL_REFUSED'), String(error)).toBe(true);
		expect(error?.message).toMatch(/file link of Connectif export e1 .*loopback/);
		expect(storageCalls).toBe(0);
	});

	it('refuses a storage redirect to the metadata address, without fetching it', async () => {
		const fetched: string[] = [];
		const client = new GenesysClient({
			baseUrl: 'https://gapi-euw1.genesyscloud.com',
			send: async () =>
				new Response(null, {
					status: 303,
					headers: { location: 'https://storage.example.net/b/x?sig=1' },
				}),
			fetch: (async (url: URL) => (
				fetched.push(url.href),
				new Response(null, {
					status: 302,
					headers: { location: 'https://169.254.169.254/latest/' },
				})
			)) as typeof fetch,
		});
		expect(isCxError(await failure(drain(client.downloadFile('x').chunks)), 'URL_REFUSED')).toBe(
			true,
		);
		expect(fetched).toEqual(['https://storage.example.net/b/x?sig=1']);
	});

	it('takes loopback and http when the API itself is local (the simulator), and allowed hosts from a public API', () => {
		expect(
			checkUrl('http://127.0.0.1:9000/b/x', urlPolicy('http://127.0.0.1:8080'), 'the link').host,
		).toBe('127.0.0.1:9000');
		expect(
			checkUrl(
				'http://files.corp.example/x',
				urlPolicy('https://gapi-euw1.genesyscloud.com', ['*.corp.example']),
				'the link',
			).host,
		).toBe('files.corp.example');
		expect(() =>
			checkUrl(
				'https://169.254.169.254/',
				urlPolicy('http://127.0.0.1:8080', ['169.254.169.254']),
				'the link',
			),
		).toThrow(/link-local/);
	});

	it('checks the addresses a host name resolves to, and connects to the checked address (no DNS rebinding)', async () => {
		const local = await serve(() => ({ status: 200, body: 'internal' }));
		const port = new URL(local.base).port;
		const resolve = ((
			_host: string,
			_options: unknown,
			callback: (e: null, a: Array<{ address: string; family: number }>) => void,
		) => callback(null, [{ address: '127.0.0.1', family: 4 }])) as never;
		const policy = urlPolicy('https://gapi-euw1.genesyscloud.com');
		const error = await failure(
			checkedFetch(policy, { resolve })(new URL(`http://storage.example.net:${port}/x`), {}),
		);
		expect(isCxError(error, 'URL_REFUSED'), String(error)).toBe(true);
		expect(error?.message).toMatch(
			/storage\.example\.net resolves to 127\.0\.0\.1 is a loopback address/,
		);
		expect(local.seen).toHaveLength(0);
		// Allowed: the connection goes to the address the lookup checked.
		const allowed = await checkedFetch(
			urlPolicy('https://gapi-euw1.genesyscloud.com', ['storage.example.net']),
			{ resolve },
		)(new URL(`http://storage.example.net:${port}/x`), {});
		expect(await allowed.text()).toBe('internal');
		expect(local.seen[0].headers.host).toBe(`storage.example.net:${port}`);
	});
});

describe('bounded reads', () => {
	const MB = 1024 * 1024;

	it('reads 64 KiB of a 300 MB error answer, not 300 MB (three tries, as the retries would)', async () => {
		const bodies: Array<() => number> = [];
		const client = new GenesysClient({
			baseUrl: 'https://gapi-euw1.genesyscloud.com',
			send: async () => {
				const body = lazyBody(300 * MB);
				bodies.push(body.pulled);
				return new Response(body.stream, { status: 503 });
			},
			sleep: async () => undefined,
			retry: { policy: { retries: 2 } },
		});
		const error = await failure(client.getJob(7));
		expect(error).toBeInstanceOf(ApiError);
		expect((error as ApiError).httpStatus).toBe(503);
		expect(bodies).toHaveLength(3);
		expect(bodies.reduce((sum, pulled) => sum + pulled(), 0)).toBeLessThanOrEqual(3 * MB);
	});

	it('stops reading a 300 MB storage error page at the cap, every time the link is refused', async () => {
		const bodies: Array<() => number> = [];
		const client = new GenesysClient({
			baseUrl: 'https://gapi-euw1.genesyscloud.com',
			send: async () =>
				new Response(null, {
					status: 303,
					headers: { location: 'https://storage.example.net/b/x?sig=1' },
				}),
			fetch: (async () => {
				const body = lazyBody(300 * MB);
				bodies.push(body.pulled);
				return new Response(body.stream, { status: 403 });
			}) as typeof fetch,
		});
		expect(await failure(drain(client.downloadFile('x').chunks))).toBeInstanceOf(CxError);
		expect(bodies).toHaveLength(3);
		expect(bodies.reduce((sum, pulled) => sum + pulled(), 0)).toBeLessThanOrEqual(3 * MB);
	});

	it('refuses a JSON answer past its cap, naming the cap', async () => {
		const body = lazyBody(300 * MB);
		const client = new GenesysClient({
			baseUrl: 'https://gapi-euw1.genesyscloud.com',
			send: async () => new Response(body.stream, { status: 200 }),
		});
		const error = await failure(client.listJobs());
		expect(error?.message).toMatch(/larger than 32 MiB/);
		expect(body.pulled()).toBeLessThanOrEqual(34 * MB);
	});
});

describe('the cancel signal', () => {
	it('ends a retry wait (Retry-After: 30 s) at once', async () => {
		const controller = new AbortController();
		const client = new GenesysClient({
			baseUrl: 'https://gapi-euw1.genesyscloud.com',
			send: async () => new Response('{}', { status: 503, headers: { 'retry-after': '30' } }),
			signal: controller.signal,
		});
		const started = Date.now();
		setTimeout(() => controller.abort(), 50);
		const error = await failure(client.getJob(7));
		expect(isCxError(error, 'CANCELLED'), String(error)).toBe(true);
		expect(Date.now() - started).toBeLessThan(5_000);
	});

	it('ends a poll of a Genesys run and of a Connectif export at once', async () => {
		const running = (request: ApiRequest) =>
			new Response(
				JSON.stringify(
					request.url.pathname.endsWith('/progress')
						? { status: 'IN_PROGRESS', progress: 10 }
						: { id: 'e1', status: 'running' },
				),
				{
					status: 200,
					headers: { 'content-type': 'application/json' },
				},
			);
		const controller = new AbortController();
		const genesys = new GenesysClient({
			baseUrl: 'https://gapi-euw1.genesyscloud.com',
			send: async (r) => running(r),
		});
		const connectif = new ConnectifClient({ send: async (r) => running(r) });
		const started = Date.now();
		setTimeout(() => controller.abort(), 50);
		const [run, exp] = await Promise.all([
			failure(genesys.waitForRun(7, { pollIntervalMs: 60_000, signal: controller.signal })),
			failure(connectif.waitForExport('e1', { pollIntervalMs: 60_000, signal: controller.signal })),
		]);
		expect(isCxError(run, 'CANCELLED'), String(run)).toBe(true);
		expect(run?.message).toMatch(/waiting for export run 7: cancelled/);
		expect(isCxError(exp, 'CANCELLED'), String(exp)).toBe(true);
		expect(Date.now() - started).toBeLessThan(5_000);
	});
});

describe('errors in n8n', () => {
	it('a Connectif error reaches n8n as NodeApiError with its HTTP code', async () => {
		const client = new ConnectifClient({
			send: async () =>
				new Response(JSON.stringify({ message: 'Invalid API key' }), { status: 401 }),
		});
		const error = await failure(client.getExport('e1'));
		expect(error).toBeInstanceOf(ApiError);
		const node = {
			id: '1',
			name: 'Connectif',
			type: 'connectif',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		} as INode;
		const nodeError = toNodeError(node, error, 0);
		expect(nodeError).toBeInstanceOf(NodeApiError);
		expect((nodeError as NodeApiError).httpCode).toBe('401');
		expect(nodeError.message).toMatch(/HTTP 401; Connectif says Invalid API key/);
		expect(nodeError.description).toMatch(/check the API key/);
	});
});
