/**
 * The Connectif node and client against the Connectif simulator over loopback (and nock for a
 * foreign next-page link): every operation, pagination, 429 retries, an export ending in error,
 * expired file links, the 31-day check before sending, rows read with the export's delimiter.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INodeParameters } from 'n8n-workflow';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectifApi } from '../../credentials/ConnectifApi.credentials';
import { ConnectifClient } from '../../src/connectif/client';
import { Connectif } from '../../nodes/Connectif/Connectif.node';
import { tempDir } from '../helpers/fixtures.mjs';
import { startConnectifSimulator, type ConnectifSimulator } from '../simulator/connectif';
import { createHarness, type Harness } from './harness';

let sim: ConnectifSimulator;
let clock = Date.now();
let dir: ReturnType<typeof tempDir>;
const harnesses: Harness[] = [];

async function node(parameters: INodeParameters, continueOnFail = false): Promise<Harness> {
	const h = await createHarness({
		nodeType: new Connectif(),
		parameters,
		continueOnFail,
		credentials: {
			connectifApi: {
				type: new ConnectifApi(),
				data: { apiKey: 'sim-connectif-key', baseUrl: sim.baseUrl },
			},
		},
	});
	harnesses.push(h);
	return h;
}

async function run(parameters: INodeParameters, continueOnFail = false) {
	return (await (await node(parameters, continueOnFail)).execute())[0];
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const chunk of chunks) parts.push(chunk);
	return Buffer.concat(parts);
}

const finish = () => {
	clock += 2_000;
};

beforeAll(async () => {
	dir = tempDir('cx-connectif-');
	sim = await startConnectifSimulator({
		now: () => clock,
		exportDurationMs: 1_000,
		rows: 120,
		pageSize: 2,
	});
});

afterAll(async () => {
	for (const h of harnesses) await h.close();
	await sim.close();
	dir.remove();
});

describe('Connectif node', () => {
	it('creates a contacts export, reads it, waits for it and downloads its rows exactly', async () => {
		const [created] = await run({
			operation: 'create',
			exportType: 'contacts',
			additionalFields: { delimiter: ',', segmentId: 'seg-1' },
		});
		expect(created.json).toMatchObject({
			status: 'queued',
			exportType: 'contacts',
			filters: { segmentId: 'seg-1' },
		});
		const id = String(created.json.id);
		clock += 500;
		expect((await run({ operation: 'get', exportId: id }))[0].json).toMatchObject({
			status: 'inProgress',
		});
		finish();
		const [done] = await run({
			operation: 'waitForCompletion',
			exportId: id,
			waitOptions: { pollInterval: 0.01 },
		});
		expect(done.json).toMatchObject({ status: 'finished', progress: 120, total: 120 });
		const rows = await run({ operation: 'download', exportId: id });
		expect(rows.map((r) => r.json)).toEqual(sim.exports.get(id)?.rows);
		// Names with quotes, commas and line breaks came through.
		expect(rows.some((r) => String(r.json.name).includes('\n'))).toBe(true);
		const fileRequests = sim.requests.filter((r) => r.path.startsWith('/files/'));
		expect(fileRequests.length).toBeGreaterThan(0);
		expect(fileRequests.every((r) => r.headers.authorization === undefined)).toBe(true);
	});

	it('creates an activities export with ";" and reads it with that delimiter; downloads the zip or the CSV file', async () => {
		const [created] = await run({
			operation: 'create',
			exportType: 'activities',
			fromDate: '2026-10-01T00:00:00Z',
			toDate: '2026-10-31T00:00:00Z',
			additionalFields: { delimiter: ';', activityTypes: 'purchase, page-visit' },
		});
		expect(created.json).toMatchObject({
			filters: { activityTypes: ['purchase', 'page-visit'], fromDate: '2026-10-01T00:00:00.000Z' },
		});
		const id = String(created.json.id);
		finish();
		const rows = await run({ operation: 'download', exportId: id, maxRows: 10 });
		expect(rows.map((r) => r.json)).toEqual(sim.exports.get(id)?.rows.slice(0, 10));

		const zipHarness = await node({ operation: 'download', exportId: id, output: 'zip' });
		const [zipItem] = (await zipHarness.execute())[0];
		const zipPath = join(dir.path, `${id}.zip`);
		writeFileSync(
			zipPath,
			await zipHarness.binary.buffer(zipItem.binary?.data ?? { data: '', mimeType: '' }),
		);
		execFileSync('unzip', ['-tq', zipPath]);
		const csvHarness = await node({
			operation: 'download',
			exportId: id,
			output: 'csv',
			binaryPropertyName: 'csv',
		});
		const [csvItem] = (await csvHarness.execute())[0];
		const text = (
			await csvHarness.binary.buffer(csvItem.binary?.csv ?? { data: '', mimeType: '' })
		).toString('utf8');
		expect(text.startsWith('\uFEFFcontactId;activityType;date;value\r\n')).toBe(true);
		expect(csvItem.binary?.csv.mimeType).toBe('text/csv');
	});

	it('creates a data explorer export', async () => {
		const [created] = await run({
			operation: 'create',
			exportType: 'dataExplorer',
			reportId: 'rep-9',
			fromDate: '2026-11-01T00:00:00Z',
			toDate: '2026-11-15T00:00:00Z',
		});
		expect(created.json).toMatchObject({
			exportType: 'data-explorer',
			filters: { reportId: 'rep-9' },
		});
		expect(sim.requests.at(-1)?.path).toBe('/exports/type/data-explorer');
	});

	it('refuses periods over 31 days and wrong filters before sending anything', async () => {
		const before = sim.requests.length;
		const [tooLong] = await run(
			{
				operation: 'create',
				exportType: 'activities',
				fromDate: '2026-09-01T00:00:00Z',
				toDate: '2026-10-15T00:00:00Z',
			},
			true,
		);
		expect(tooLong.json.error).toMatch(/at most 31 days of activities at a time; .* is 44 days/);
		const [backwards] = await run(
			{
				operation: 'create',
				exportType: 'activities',
				fromDate: '2026-10-15T00:00:00Z',
				toDate: '2026-10-01T00:00:00Z',
			},
			true,
		);
		expect(backwards.json.error).toMatch(/is after the to date/);
		const [noDates] = await run(
			{ operation: 'create', exportType: 'dataExplorer', reportId: 'r', fromDate: '', toDate: '' },
			true,
		);
		expect(noDates.json.error).toMatch(/need both a from date and a to date/);
		expect(sim.requests.length).toBe(before);
	});

	it('applies the 31-day cap to activities only: a data-explorer export of a longer period is sent', async () => {
		const [explorer] = await run({
			operation: 'create',
			exportType: 'dataExplorer',
			reportId: 'r',
			fromDate: '2026-09-01T00:00:00Z',
			toDate: '2026-11-01T00:00:00Z',
		});
		expect(explorer.json).toMatchObject({
			exportType: 'data-explorer',
			filters: {
				reportId: 'r',
				fromDate: '2026-09-01T00:00:00.000Z',
				toDate: '2026-11-01T00:00:00.000Z',
			},
		});
		expect(sim.requests.at(-1)?.path).toBe('/exports/type/data-explorer');
	});

	it('stops waiting at once on a status it does not know, and takes an export with a file as finished', async () => {
		for (const [statusNames, outcome] of [
			[{ inProgress: 'paused' }, 'unknown'],
			[{ finished: 'ready' }, 'finished'],
		] as const) {
			let now = Date.now();
			const odd = await startConnectifSimulator({
				now: () => now,
				exportDurationMs: 1_000,
				rows: 5,
				statusNames,
			});
			try {
				const c = new ConnectifClient({
					baseUrl: odd.baseUrl,
					now: () => now,
					sleep: async (ms) => {
						now += ms;
					},
					send: async (r) =>
						fetch(r.url, {
							method: r.method,
							headers: { ...r.headers, authorization: 'apiKey sim-connectif-key' },
							body: r.body,
						}),
				});
				const created = await c.createExport({ exportType: 'contacts' });
				now += 500; // inProgress by now
				const waiting = c.waitForExport(created.id, { pollIntervalMs: 100, timeoutMs: 3_600_000 });
				if (outcome === 'unknown') {
					await expect(waiting).rejects.toThrow(
						/has the status "paused", which is none of queued, inProgress, finished or error/,
					);
					expect(now).toBeLessThan(Date.now() + 60_000);
				} else {
					expect(await waiting).toMatchObject({ status: 'ready', fileUrl: expect.any(String) });
				}
			} finally {
				await odd.close();
			}
		}
	});

	it('lists exports across pages (links.next), all or up to a limit', async () => {
		const all = await run({ operation: 'getMany', returnAll: true });
		expect(all.length).toBe(sim.exports.size);
		expect(all.length).toBeGreaterThanOrEqual(3);
		const pages = sim.requests.filter(
			(r) => r.path.startsWith('/exports?') || r.path === '/exports',
		).length;
		expect(pages).toBeGreaterThanOrEqual(2);
		expect(await run({ operation: 'getMany', limit: 3 })).toHaveLength(3);
	});

	it('retries 429 answers', async () => {
		sim.controls.failNextRequests(2, 429, 0);
		const [created] = await run({ operation: 'create', exportType: 'contacts' });
		expect(created.json.status).toBe('queued');
	});

	it("fails with Connectif's reason when an export ends in error; an error item with continue on fail", async () => {
		sim.controls.failNextExport('Segment seg-x does not exist');
		const [created] = await run({
			operation: 'create',
			exportType: 'contacts',
			additionalFields: { segmentId: 'seg-x' },
		});
		finish();
		const h = await node({
			operation: 'waitForCompletion',
			exportId: String(created.json.id),
			waitOptions: { pollInterval: 0.01 },
		});
		await expect(h.execute()).rejects.toThrow(/ended in error: Segment seg-x does not exist/);
		const [item] = await run(
			{
				operation: 'waitForCompletion',
				exportId: String(created.json.id),
				waitOptions: { pollInterval: 0.01 },
			},
			true,
		);
		expect(item).toMatchObject({
			json: { error: expect.stringMatching(/Segment seg-x/) },
			pairedItem: { item: 0 },
		});
	});
});

describe('Connectif client: file links', () => {
	const client = () =>
		new ConnectifClient({
			baseUrl: sim.baseUrl,
			now: () => clock,
			send: async (r) =>
				fetch(r.url, {
					method: r.method,
					headers: { ...r.headers, authorization: 'apiKey sim-connectif-key' },
					body: r.body,
				}),
		});

	it('reads the export again when the link in hand is older than 100 minutes, and when a link is refused', async () => {
		const c = client();
		const created = await c.createExport({ exportType: 'contacts' });
		finish();
		const read = await c.getExport(created.id);
		const readAt = clock;
		clock += 101 * 60_000; // the link has expired
		const gets = () => sim.requests.filter((r) => r.path === `/exports/${created.id}`).length;
		const before = gets();
		const bytes = await collect(c.downloadExport(read, readAt).chunks);
		expect(bytes.subarray(0, 2).toString()).toBe('PK');
		expect(gets()).toBe(before + 1);

		// A link refused by the file host (expired early) is replaced once more.
		sim.controls.setFileUrlTtl(-1);
		const stale = await c.getExport(created.id);
		sim.controls.setFileUrlTtl(100 * 60_000);
		const again = await collect(c.downloadExport(stale, clock).chunks);
		expect(again.equals(bytes)).toBe(true);
	});

	it('does not follow a next-page link to another host with the API key', async () => {
		const scope = nock('https://api.connectif.cloud')
			.get('/exports')
			.reply(200, {
				links: { next: 'https://evil.example.com/exports?page=2' },
				results: [{ id: 'a1', status: 'finished' }],
			});
		const evil = nock('https://evil.example.com').get(/.*/).reply(200, { results: [] });
		const c = new ConnectifClient({
			send: async (r) =>
				fetch(r.url, {
					method: r.method,
					headers: { ...r.headers, authorization: 'apiKey secret' },
				}),
		});
		const seen: string[] = [];
		await expect(
			(async () => {
				for await (const exp of c.listExports()) seen.push(exp.id);
			})(),
		).rejects.toThrow(/another host/);
		expect(seen).toEqual(['a1']);
		expect(scope.isDone()).toBe(true);
		expect(evil.isDone()).toBe(false);
		nock.cleanAll();
	});
});
