import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resumableDownload } from '../../src/http/download';
import { failure } from '../helpers/failure';

const file = randomBytes(3 * 1024 * 1024 + 17);
let server: Server;
let base: string;
/** Per path: how many more responses to cut short, and after how many bytes. */
const cuts = new Map<string, { times: number; after: number }>();
const requests: Array<{ path: string; range?: string }> = [];

beforeAll(async () => {
	server = createServer((req, res) => {
		const path = req.url ?? '/';
		requests.push({ path, range: req.headers.range });
		const honourRange = !path.startsWith('/norange');
		let body =
			path.startsWith('/changes') && requests.filter((r) => r.path === path).length > 1
				? file.subarray(0, file.length - 1)
				: file;
		const m = honourRange ? /^bytes=(\d+)-$/.exec(req.headers.range ?? '') : null;
		if (m) {
			const start = Number(m[1]);
			res.writeHead(206, {
				'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
				'content-length': body.length - start,
			});
			body = body.subarray(start);
		} else {
			res.writeHead(200, { 'content-length': body.length });
		}
		const cut = cuts.get(path);
		if (cut && cut.times > 0) {
			cut.times--;
			res.write(body.subarray(0, cut.after), () => res.socket?.destroy());
			return;
		}
		res.end(body);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

function opener(path: string) {
	return (offset: number) =>
		fetch(`${base}${path}`, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {} });
}

async function collect(gen: AsyncGenerator<Buffer>): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const chunk of gen) parts.push(chunk);
	return Buffer.concat(parts);
}

describe('resumable download', () => {
	it('delivers the file once, byte-exact, when nothing breaks', async () => {
		expect(
			(await collect(resumableDownload(opener('/plain'), { name: 'export.zip.smime' }))).equals(
				file,
			),
		).toBe(true);
	});

	it('resumes with Range after the connection breaks midway, twice', async () => {
		cuts.set('/cut', { times: 2, after: 1024 * 1024 });
		requests.length = 0;
		const resumed: number[] = [];
		const data = await collect(
			resumableDownload(opener('/cut'), {
				name: 'export.z03.smime',
				onResume: (i) => resumed.push(i.offset),
			}),
		);
		expect(data.equals(file)).toBe(true);
		expect(resumed).toHaveLength(2);
		expect(requests.map((r) => r.range)).toEqual([
			undefined,
			`bytes=${resumed[0]}-`,
			`bytes=${resumed[1]}-`,
		]);
		expect(resumed[0]).toBeGreaterThan(0);
	});

	it('starts over and skips what it had when the server ignores Range', async () => {
		cuts.set('/norange', { times: 1, after: 512 * 1024 });
		const data = await collect(resumableDownload(opener('/norange'), { name: 'x.zip.smime' }));
		expect(data.equals(file)).toBe(true);
	});

	it('gives up after the allowed resumes with an error naming the file, not the URL', async () => {
		cuts.set('/flaky?X-Amz-Signature=secret', { times: 10, after: 100_000 });
		const error = await failure(
			collect(
				resumableDownload(opener('/flaky?X-Amz-Signature=secret'), {
					name: 'export.z07.smime',
					resumes: 2,
				}),
			),
		);
		expect(error.code).toBe('DOWNLOAD');
		expect(error.message).toMatch(
			/^export\.z07\.smime: the connection (broke|ended) after \d+ of 3145745 bytes, and 2 attempts to resume/,
		);
		expect(error.message).not.toContain('secret');
	});

	it('refuses a file that changes size between requests', async () => {
		cuts.set('/changes', { times: 1, after: 200_000 });
		const error = await failure(
			collect(resumableDownload(opener('/changes'), { name: 'a.zip.smime' })),
		);
		expect(error.message).toMatch(/changed size between requests/);
	});

	it('lets the caller ask for a fresh URL on each attempt (an expired pre-signed URL)', async () => {
		cuts.set('/old', { times: 1, after: 300_000 });
		const asked: string[] = [];
		const open = (offset: number, attempt: number) => {
			const path = attempt === 0 ? '/old' : '/fresh';
			asked.push(path);
			return fetch(`${base}${path}`, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {} });
		};
		expect((await collect(resumableDownload(open, { name: 'b.zip.smime' }))).equals(file)).toBe(
			true,
		);
		expect(asked).toEqual(['/old', '/fresh']);
	});
});
