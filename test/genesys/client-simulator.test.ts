/**
 * The core Genesys client end to end against the simulator, for each API flavour: certificate,
 * job, run, files, downloads (never with credentials on the storage host), then the export's
 * records through the core pipeline, equal to what the simulator put in.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDecryptionKey } from '../../src/cms';
import { fetchSender, GenesysClient, runState, type ApiFlavour } from '../../src/genesys/client';
import { exportRecords } from '../../src/pipeline/export';
import { fileSource } from '../../src/pipeline/sources';
import { makeRecipient, tempDir, type Recipient } from '../helpers/openssl';
import { startGenesysSimulator, type GenesysSimulator } from '../simulator/genesys';

let sim: GenesysSimulator;
let dir: ReturnType<typeof tempDir>;
let recipient: Recipient;
const logs: string[] = [];

function client(flavour: ApiFlavour = 'udm-v10', log?: (m: string) => void): GenesysClient {
	const credentials = { baseUrl: sim.baseUrl, apiKey: 'sim-api-key', clientId: 'sim-client', clientSecret: 'sim-secret', grantType: 'password' as const, username: 'SIMTENANT\\analyst', password: 'sim-password' };
	return new GenesysClient({
		baseUrl: sim.baseUrl,
		flavour,
		send: fetchSender(credentials),
		retry: { policy: { baseDelayMs: 5, maxDelayMs: 50 } },
		log: (message) => {
			logs.push(message);
			log?.(message);
		},
	});
}

const jobRequest = (title: string, fileSplitSize = '64KB') => ({
	source: 'UCS',
	type: 'UCS',
	title,
	timeFrame: { all: true },
	schedulerParam: { immediately: true },
	jobParams: { type: 'Interaction', media: [], fileSplitSize, exportAttachments: true },
	suspended: false,
});

async function downloadAll(c: GenesysClient, names: string[], into: string): Promise<string[]> {
	const paths: string[] = [];
	for (const name of names) {
		const path = join(into, name);
		await pipeline(Readable.from(c.downloadFile(name).chunks), createWriteStream(path));
		paths.push(path);
	}
	return paths;
}

async function recordsOf(paths: string[]): Promise<unknown[]> {
	const key = loadDecryptionKey({ key: recipient.key.toString('utf8') });
	const records: unknown[] = [];
	const sources = await Promise.all(paths.map((p) => fileSource(p)));
	for await (const record of exportRecords(sources, { key }, { records: 0, skipped: 0, lines: 0 })) records.push(record.value);
	return records;
}

beforeAll(async () => {
	dir = tempDir('cx-client-sim-');
	recipient = makeRecipient(dir.path, 'client-sim');
	sim = await startGenesysSimulator({ runDurationMs: 200, interactions: 60, attachmentBytes: 36_000 });
});

afterAll(async () => {
	await sim.close();
	dir.remove();
});

describe('GenesysClient against the simulator', () => {
	for (const flavour of ['udm-v10', 'udm-v4', 'cdds'] as const) {
		it(`${flavour}: uploads the certificate, creates a job, waits for its run and downloads every part, records intact`, async () => {
			const c = client(flavour);
			await c.uploadCertificate('export.pem', recipient.cert);
			expect(await c.getCertificate()).toMatchObject({ name: 'export.pem' });
			const since = Date.now();
			const job = await c.createJob(jobRequest(`e2e ${flavour}`));
			const run = await c.waitForJobRun(job.id, since, { pollIntervalMs: 50, timeoutMs: 20_000 });
			expect(runState(run.status)).toBe('completed');
			const files = await c.runFiles(run.id);
			expect(files.length).toBeGreaterThanOrEqual(10);
			const before = sim.state.storageRequests.length;
			const out = join(dir.path, flavour);
			await import('node:fs/promises').then((fs) => fs.mkdir(out));
			const paths = await downloadAll(c, files.map((f) => f.name), out);
			const storage = sim.state.storageRequests.slice(before);
			expect(storage.length).toBe(files.length);
			for (const request of storage) {
				expect(request.headers.authorization).toBeUndefined();
				expect(request.headers['x-api-key']).toBeUndefined();
			}
			const expected = sim.state.exportContent(run.id).entries.flatMap((e) => e.records);
			expect(await recordsOf(paths)).toEqual(expected);
		});
	}

	it('retries a burst of 503 and 429 answers (Retry-After honoured) and gets there', async () => {
		const c = client();
		sim.controls.failNextRequests(2, 503);
		sim.controls.failNextRequests(1, 429, { retryAfterSeconds: 0 });
		expect(await c.version()).toMatchObject({ name: 'udm-simulator' });
		expect(logs.filter((l) => /retry/.test(l)).length).toBeGreaterThanOrEqual(3);
	});

	it('resumes a download the storage host dropped midway, and survives a storage 503', async () => {
		const c = client();
		const since = Date.now();
		const job = await c.createJob(jobRequest('resume', '1MB'));
		const run = await c.waitForJobRun(job.id, since, { pollIntervalMs: 50, timeoutMs: 20_000 });
		const [file] = await c.runFiles(run.id);
		sim.controls.resetDownloadOnce(20_000);
		sim.controls.failNextDownloads(1, 503);
		const path = (await downloadAll(c, [file.name], dir.path))[0];
		const { readFile } = await import('node:fs/promises');
		expect((await readFile(path)).equals(sim.state.files.get(file.name)?.bytes ?? Buffer.alloc(0))).toBe(true);
		const ranges = sim.state.storageRequests.filter((r) => r.headers.range !== undefined);
		expect(ranges.length).toBeGreaterThanOrEqual(1);
	});

	it('gets a new token once after the API answers 401', async () => {
		const c = client();
		await c.version();
		const issued = sim.state.tokensIssued;
		sim.controls.expireTokensNow();
		expect(await c.version()).toMatchObject({ name: 'udm-simulator' });
		expect(sim.state.tokensIssued).toBe(issued + 1);
	});

	it('asks Genesys for a new link when the pre-signed one expired', async () => {
		const since = Date.now();
		const c = client('udm-v10', (message) => {
			// The first link was made expired; the one asked for after the refusal works.
			if (/asking Genesys for a new one/.test(message)) sim.controls.setPresignedUrlTtl(60);
		});
		const job = await c.createJob(jobRequest('expired link', '1MB'));
		const run = await c.waitForJobRun(job.id, since, { pollIntervalMs: 50, timeoutMs: 20_000 });
		const [file] = await c.runFiles(run.id);
		sim.controls.setPresignedUrlTtl(-1);
		const path = (await downloadAll(c, [file.name], dir.path))[0];
		const { readFile } = await import('node:fs/promises');
		expect((await readFile(path)).length).toBe(sim.state.files.get(file.name)?.bytes.length);
		sim.controls.setPresignedUrlTtl(60);
	});

	it('reports a failed run as failed, with the reason', async () => {
		const c = client();
		sim.controls.failNextRun('Export failed: the UCS database was not reachable');
		const since = Date.now();
		const job = await c.createJob(jobRequest('doomed'));
		const run = await c.waitForJobRun(job.id, since, { pollIntervalMs: 50, timeoutMs: 20_000 });
		expect(runState(run.status)).toBe('failed');
		expect(run.description).toBe('Export failed: the UCS database was not reachable');
	});
});
