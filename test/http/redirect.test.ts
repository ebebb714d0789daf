import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFollowingRedirects } from '../../src/http/redirect';

interface Seen {
	method: string;
	url: string;
	headers: IncomingHttpHeaders;
}

function server(
	handler: (req: Seen, res: import('node:http').ServerResponse) => void,
): Promise<{ server: Server; base: string; seen: Seen[] }> {
	const seen: Seen[] = [];
	const s = createServer((req, res) => {
		const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
		seen.push(entry);
		req.resume();
		req.on('end', () => handler(entry, res));
	});
	return new Promise((resolve) =>
		s.listen(0, '127.0.0.1', () =>
			resolve({ server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen }),
		),
	);
}

let api: Awaited<ReturnType<typeof server>>;
let storage: Awaited<ReturnType<typeof server>>;

beforeAll(async () => {
	storage = await server((req, res) => {
		res.writeHead(200, { 'content-type': 'application/octet-stream' });
		res.end(`file ${req.url}`);
	});
	api = await server((req, res) => {
		if (req.url.startsWith('/files/')) {
			res.writeHead(303, {
				location: `${storage.base}/bucket${req.url.slice(6)}?X-Amz-Signature=abc`,
			});
			res.end();
		} else if (req.url === '/moved') {
			res.writeHead(307, { location: '/files/x.zip.smime' });
			res.end();
		} else if (req.url === '/loop') {
			res.writeHead(302, { location: '/loop' });
			res.end();
		} else {
			res.writeHead(200);
			res.end('ok');
		}
	});
});
afterAll(() => {
	api.server.close();
	storage.server.close();
});

const credentials = {
	authorization: 'Bearer secret-token',
	'x-api-key': 'secret-key',
	accept: '*/*',
};

describe('following redirects', () => {
	it('follows a 303 to the storage host without sending Authorization or x-api-key there', async () => {
		storage.seen.length = 0;
		const { response, url, leftOrigin } = await fetchFollowingRedirects(
			`${api.base}/files/export-1.zip.smime`,
			{ headers: credentials },
		);
		expect(await response.text()).toBe('file /bucket/export-1.zip.smime?X-Amz-Signature=abc');
		expect(url.origin).toBe(storage.base);
		expect(leftOrigin).toBe(true);
		expect(api.seen.at(-1)?.headers).toMatchObject({
			authorization: 'Bearer secret-token',
			'x-api-key': 'secret-key',
		});
		expect(storage.seen).toHaveLength(1);
		expect(storage.seen[0].headers.authorization).toBeUndefined();
		expect(storage.seen[0].headers['x-api-key']).toBeUndefined();
		expect(storage.seen[0].headers.accept).toBe('*/*');
	});

	it('keeps credentials on a redirect within the same origin, then drops them when it leaves', async () => {
		api.seen.length = 0;
		storage.seen.length = 0;
		await fetchFollowingRedirects(`${api.base}/moved`, { headers: credentials });
		expect(api.seen.map((s) => [s.url, s.headers['x-api-key']])).toEqual([
			['/moved', 'secret-key'],
			['/files/x.zip.smime', 'secret-key'],
		]);
		expect(storage.seen[0].headers['x-api-key']).toBeUndefined();
	});

	it('turns a POST answered with 303 into a GET without the body', async () => {
		storage.seen.length = 0;
		await fetchFollowingRedirects(`${api.base}/files/y`, {
			method: 'POST',
			body: '{"a":1}',
			headers: { ...credentials, 'content-type': 'application/json' },
		});
		expect(storage.seen[0].method).toBe('GET');
		expect(storage.seen[0].headers['content-type']).toBeUndefined();
	});

	it('stops a redirect loop', async () => {
		await expect(
			fetchFollowingRedirects(`${api.base}/loop`, {}, { maxRedirects: 3 }),
		).rejects.toThrow(/more than 3 redirects/);
	});

	it('refuses to go from https to plain http', async () => {
		const fake = (async () =>
			new Response(null, {
				status: 302,
				headers: { location: 'http://storage.example/x' },
			})) as typeof fetch;
		await expect(
			fetchFollowingRedirects(
				'https://gapi-use1.genesyscloud.com/files/x',
				{ headers: credentials },
				{ fetch: fake },
			),
		).rejects.toThrow(/https to plain http/);
	});
});
