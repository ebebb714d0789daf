/**
 * The core Genesys client end to end against the simulator, for each API flavour: certificate,
 * job, run, files, downloads (never with credentials on the storage host), then the export's
 * records through the core pipeline (decrypt, reassemble, JSON Lines), equal to what the simulator
 * put in; and the client's recovery paths against the simulator's failures. The client runs on
 * the simulator's test clock (its sleeps move the clock), so nothing here waits for real time.
 */
import { mkdirSync, readFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDecryptionKey } from '../../src/cms';
import { isCxError } from '../../src/errors';
import {
	fetchSender,
	GenesysClient,
	runState,
	type ApiFlavour,
	type GenesysClientOptions,
	type JobRequest,
} from '../../src/genesys/client';
import { exportRecords } from '../../src/pipeline/export';
import { fileSource } from '../../src/pipeline/sources';
import { makeRecipient, tempDir, type Recipient } from '../helpers/fixtures.mjs';
import { startGenesysSimulator, type GenesysSimulator } from '../simulator/genesys';

let sim: GenesysSimulator;
const clock = { now: Date.now() };
let dir: ReturnType<typeof tempDir>;
let recipient: Recipient;

interface Harness {
	client: GenesysClient;
	/** What the client waited for (ms), in order. */
	sleeps: number[];
	logs: string[];
}

function harness(
	flavour: ApiFlavour = 'udm-v10',
	options: Partial<GenesysClientOptions> = {},
	onLog?: (message: string) => void,
): Harness {
	const credentials = {
		baseUrl: sim.baseUrl,
		apiKey: 'sim-api-key',
		clientId: 'sim-client',
		clientSecret: 'sim-secret',
		grantType: 'password' as const,
		username: 'SIMTENANT\\analyst',
		password: 'sim-password',
	};
	const sleeps: number[] = [];
	const logs: string[] = [];
	const client = new GenesysClient({
		baseUrl: sim.baseUrl,
		flavour,
		send: fetchSender(credentials, { now: () => clock.now }),
		now: () => clock.now,
		sleep: async (ms) => {
			sleeps.push(ms);
			clock.now += ms;
		},
		retry: { policy: { baseDelayMs: 10, maxDelayMs: 10_000 } },
		log: (message) => {
			logs.push(message);
			onLog?.(message);
		},
		...options,
	});
	return { client, sleeps, logs };
}

const jobRequest = (
	title: string,
	fileSplitSize?: string,
	dataType = 'Interaction',
): JobRequest => ({
	source: 'UCS',
	type: 'UCS',
	title,
	timeFrame: { all: true },
	schedulerParam: { immediately: true },
	jobParams: {
		type: dataType,
		media: [],
		...(fileSplitSize ? { fileSplitSize } : {}),
		exportAttachments: true,
	},
	suspended: false,
});

const wait = { pollIntervalMs: 250, timeoutMs: 60_000 };

async function download(c: GenesysClient, names: string[], into: string): Promise<string[]> {
	mkdirSync(into, { recursive: true });
	const paths: string[] = [];
	for (const name of names) {
		const path = join(into, name);
		await pipeline(Readable.from(c.downloadFile(name).chunks), createWriteStream(path));
		paths.push(path);
	}
	return paths;
}

async function recordsOf(paths: string[]): Promise<unknown[]> {
	const key = loadDecryptionKey({ key: recipient.key });
	const records: unknown[] = [];
	const sources = await Promise.all(paths.map((p) => fileSource(p)));
	for await (const record of exportRecords(sources, { key }, { records: 0, skipped: 0, lines: 0 }))
		records.push(record.value);
	return records;
}

const credentialHeaders = () =>
	sim.state.storageRequests.filter(
		(r) => r.headers.authorization !== undefined || r.headers['x-api-key'] !== undefined,
	);

beforeAll(async () => {
	dir = tempDir('cx-client-sim-');
	recipient = makeRecipient(dir.path, 'client-sim');
	clock.now = Date.now(); // not before the certificate's notBefore
	sim = await startGenesysSimulator({
		now: () => clock.now,
		runDurationMs: 2000,
		interactions: 60,
		attachmentBytes: 36_000,
	});
});

afterAll(async () => {
	await sim?.close();
	dir?.remove();
});

describe('GenesysClient against the simulator', () => {
	it('reports no certificate before one is uploaded, and refuses a private key before sending it', async () => {
		const { client } = harness();
		expect(await client.getCertificate()).toBeUndefined();
		await expect(
			client.uploadCertificate('key.pem', Buffer.concat([recipient.cert, recipient.key])),
		).rejects.toThrow(/private key/);
		expect(sim.state.certificate).toBeUndefined();
	});

	for (const flavour of ['udm-v10', 'udm-v4', 'cdds'] as const) {
		it(`${flavour}: uploads the certificate, creates a job, waits for its run, downloads every part without credentials; the records are the simulator's`, async () => {
			const { client } = harness(flavour);
			await client.uploadCertificate(`${flavour}.pem`, recipient.cert);
			expect(await client.getCertificate()).toMatchObject({
				name: `${flavour}.pem`,
				size: recipient.cert.length,
			});
			const since = clock.now;
			const job = await client.createJob(jobRequest(`e2e ${flavour}`, '64KB'));
			const progress: number[] = [];
			const run = await client.waitForJobRun(job.id, since, {
				...wait,
				onProgress: (p) => progress.push(p.progress ?? -1),
			});
			expect(runState(run.status)).toBe('completed');
			expect(run.parentId).toBe(job.id);
			expect(progress[progress.length - 1]).toBe(100);
			expect(progress.length).toBeGreaterThan(2);

			const files = await client.runFiles(run.id);
			expect(files.length).toBeGreaterThanOrEqual(10);
			// Exactly this run's files: on v10 by historyId, on v4/CDDS by the run's export name.
			expect(files.map((f) => f.name)).toEqual(sim.state.runs.get(run.id)?.fileNames);
			const before = sim.state.storageRequests.length;
			const paths = await download(
				client,
				files.map((f) => f.name),
				join(dir.path, flavour),
			);
			expect(sim.state.storageRequests.length - before).toBe(files.length);
			expect(credentialHeaders()).toEqual([]);
			for (const [i, path] of paths.entries())
				expect(
					readFileSync(path).equals(sim.state.files.get(files[i].name)?.bytes ?? Buffer.alloc(0)),
				).toBe(true);

			const expected = sim.state.exportContent(run.id).entries.flatMap((e) => e.records);
			expect(expected.length).toBeGreaterThan(60);
			expect(await recordsOf(paths)).toEqual(expected);
		});
	}

	it('retries a burst of 503 and 429 answers, honouring Retry-After, and gets there', async () => {
		const { client, sleeps, logs } = harness();
		const calls = () => sim.state.apiRequests.filter((r) => r.path === '/udm/v10/version').length;
		const before = calls();
		sim.controls.failNextRequests(2, 503);
		sim.controls.failNextRequests(1, 429, { retryAfterSeconds: 3 });
		expect(await client.version()).toMatchObject({ name: 'udm-simulator' });
		expect(calls() - before).toBe(4);
		expect(sleeps).toHaveLength(3);
		expect(sleeps[2]).toBe(3000);
		expect(logs.filter((l) => /HTTP (503|429), retry/.test(l))).toHaveLength(3);
	});

	it('gives up on an endless burst, saying what happened', async () => {
		const { client } = harness('udm-v10', { retry: { policy: { retries: 2, baseDelayMs: 10 } } });
		sim.controls.failNextRequests(3, 503);
		await expect(client.sources()).rejects.toThrow(/HTTP 503/);
		expect(await client.sources()).toEqual([{ label: 'Contact History', value: 'UCS' }]);
	});

	it('resumes a download the storage host dropped midway (Range), after riding out a storage 503', async () => {
		const { client, logs } = harness();
		const since = clock.now;
		const job = await client.createJob(jobRequest('resume', '1MB'));
		const run = await client.waitForJobRun(job.id, since, wait);
		const [file] = await client.runFiles(run.id);
		const bytes = sim.state.files.get(file.name)?.bytes ?? Buffer.alloc(0);
		expect(bytes.length).toBeGreaterThan(100_000);
		const before = sim.state.storageRequests.length;
		sim.controls.failNextDownloads(1, 503);
		sim.controls.resetDownloadOnce(20_000);
		const [path] = await download(client, [file.name], join(dir.path, 'resume'));
		expect(readFileSync(path).equals(bytes)).toBe(true);
		expect(sim.state.storageRequests.slice(before).map((r) => r.headers.range ?? null)).toEqual([
			null,
			null,
			'bytes=20000-',
		]);
		expect(logs.some((l) => l.includes('resuming at byte 20000'))).toBe(true);
		expect(credentialHeaders()).toEqual([]);
	});

	it('gets one new token after the API answers 401, and carries on', async () => {
		const { client } = harness();
		await client.version();
		const issued = sim.state.tokensIssued;
		const calls = () =>
			sim.state.apiRequests.filter((r) => r.path === '/udm/v10/data/job-statuses').length;
		const before = calls();
		sim.controls.expireTokensNow();
		expect((await client.jobStatuses()).length).toBeGreaterThan(3);
		expect(sim.state.tokensIssued).toBe(issued + 1);
		expect(calls() - before).toBe(2); // refused once, then answered
	});

	it('asks Genesys for a new link when the pre-signed one has expired, and gives up when links keep being refused', async () => {
		const since = clock.now;
		const { client } = harness('udm-v10', {}, (message) => {
			// The first link was made expired; the one asked for after the refusal works.
			if (/asking Genesys for a new one/.test(message)) sim.controls.setPresignedUrlTtl(60);
		});
		const job = await client.createJob(jobRequest('expired link', '1MB'));
		const run = await client.waitForJobRun(job.id, since, wait);
		const [file] = await client.runFiles(run.id);
		const linkRequests = () =>
			sim.state.apiRequests.filter((r) => r.path === `/udm/v10/files/${file.name}`).length;
		const before = { links: linkRequests(), storage: sim.state.storageRequests.length };
		sim.controls.setPresignedUrlTtl(-1);
		const [path] = await download(client, [file.name], join(dir.path, 'expired'));
		expect(
			readFileSync(path).equals(sim.state.files.get(file.name)?.bytes ?? Buffer.alloc(0)),
		).toBe(true);
		expect(linkRequests() - before.links).toBe(2);
		expect(sim.state.storageRequests.length - before.storage).toBe(2);

		const stubborn = harness('udm-v10', { urlRefreshes: 2 }).client;
		sim.controls.setPresignedUrlTtl(-1);
		try {
			await expect(download(stubborn, [file.name], join(dir.path, 'stubborn'))).rejects.toThrow(
				/HTTP 403.*keeps being refused/,
			);
		} finally {
			sim.controls.setPresignedUrlTtl(60);
		}
		expect(linkRequests() - before.links).toBe(2 + 3);
	});

	it('reports a run that failed as failed, with the reason', async () => {
		const { client } = harness('cdds');
		sim.controls.failNextRun('Export failed: the UCS database was not reachable');
		const since = clock.now;
		const job = await client.createJob(jobRequest('doomed'));
		const run = await client.waitForJobRun(job.id, since, wait);
		expect(runState(run.status)).toBe('failed');
		expect(run.description).toBe('Export failed: the UCS database was not reachable');
		expect(await client.runFiles(run.id)).toEqual([]);
	});

	it('times out waiting for a run that takes too long, naming its progress', async () => {
		const { client } = harness();
		const job = await client.createJob(jobRequest('slow'));
		const error = await client
			.waitForJobRun(job.id, clock.now, { pollIntervalMs: 250, timeoutMs: 1000 })
			.then(
				() => undefined,
				(e: unknown) => e,
			);
		expect(isCxError(error) && error.code).toBe('TIMEOUT');
		expect(String(error)).toMatch(/still InProgress at \d+%/);
	});

	it('manages jobs: pages through them, updates, clones, suspends, resumes, cancels and deletes (v10 and v4)', async () => {
		for (const flavour of ['udm-v10', 'udm-v4'] as const) {
			const { client } = harness(flavour);
			const scheduled = (title: string): JobRequest => ({
				...jobRequest(title),
				schedulerParam: { cron: '0 0 2 * * ?' },
			});
			const ids: number[] = [];
			for (let i = 0; i < 5; i++) {
				ids.push((await client.createJob(scheduled(`paging-${flavour}-${i}`))).id);
				clock.now += 1;
			}
			const listed: number[] = [];
			for await (const job of client.all(
				(q) => client.listJobs({ ...q, title: `paging-${flavour}-` }),
				{ pageSize: 2 },
			))
				listed.push(job.id);
			expect(listed).toEqual([...ids].reverse());
			expect((await client.listJobs({ title: 'no such job anywhere' })).items).toEqual([]);

			const updated = await client.updateJob(ids[0], { title: 'renamed', description: 'nightly' });
			expect(updated).toMatchObject({ id: ids[0], title: 'renamed', description: 'nightly' });
			const clone = await client.cloneJob(ids[0], { title: 'renamed again' });
			expect(clone.id).not.toBe(ids[0]);
			expect(clone).toMatchObject({
				title: 'renamed again',
				description: 'nightly',
				status: 'Scheduled',
			});

			await client.suspendJob(ids[1]);
			expect(sim.state.jobs.get(ids[1])?.suspended).toBe(true);
			await client.resumeJob(ids[1]);
			expect(sim.state.jobs.get(ids[1])?.suspended).toBe(false);
			const run = sim.controls.triggerSchedule(ids[1]);
			await expect(client.deleteJob(ids[1])).rejects.toThrow(/HTTP 400.*in progress/);
			await client.cancelJob(ids[1]);
			expect(runState((await client.getRun(run.id)).status)).toBe('cancelled');
			await client.deleteRun(run.id);
			await expect(client.getRun(run.id)).rejects.toThrow(/HTTP 404/);
			await client.deleteJobs([ids[1], ids[2]]);
			await client.deleteJob(ids[3]);
			expect([ids[1], ids[2], ids[3]].some((id) => sim.state.jobs.has(id))).toBe(false);
			await expect(client.getJob(ids[3])).rejects.toThrow(/HTTP 404/);
		}
	});

	it('reads the reference data; v10-only resources are refused before sending on the older APIs', async () => {
		const v10 = harness().client;
		expect(await v10.sources()).toEqual([{ label: 'Contact History', value: 'UCS' }]);
		expect((await v10.types('UCS')).map((t) => t.value)).toEqual(['Interaction', 'Contact']);
		expect((await v10.subTypes('UCS', 'Interaction')).map((t) => t.name)).toEqual([
			'email',
			'chat',
			'voice',
		]);
		expect(await v10.subTypes('UCS', 'Contact')).toEqual([]);
		expect(await v10.attributes('Interaction')).toEqual({
			Interaction: expect.arrayContaining(['IXNID']),
		});
		expect(await v10.labels()).toMatchObject({ 'export.title': 'Export' });
		expect(await harness('cdds').client.version()).toMatchObject({ name: 'cdds-simulator' });
		const before = sim.state.apiRequests.length;
		await expect(harness('udm-v4').client.labels()).rejects.toThrow(
			/only in the User Data Management v10 API/,
		);
		await expect(harness('cdds').client.attributes()).rejects.toThrow(
			/only in the User Data Management v10 API/,
		);
		expect(sim.state.apiRequests.length).toBe(before);
	});

	it('gives download links and deletes files', async () => {
		const { client } = harness();
		const since = clock.now;
		const job = await client.createJob(jobRequest('links', '64KB'));
		const run = await client.waitForJobRun(job.id, since, wait);
		const names = (await client.runFiles(run.id)).map((f) => f.name);
		const url = new URL(await client.getDownloadUrl(names[0]));
		expect(url.origin).toBe(sim.storageUrl);
		expect(
			Buffer.from(await (await fetch(url)).arrayBuffer()).equals(
				sim.state.files.get(names[0])?.bytes ?? Buffer.alloc(0),
			),
		).toBe(true);
		await client.deleteFile(names[0]);
		await expect(client.getDownloadUrl(names[0])).rejects.toThrow(/HTTP 404/);
		await client.deleteFiles(names.slice(1));
		expect(await client.runFiles(run.id)).toEqual([]);
		expect(credentialHeaders()).toEqual([]);
	});
});

describe("GenesysClient against the simulator switched to the reference's reading", () => {
	let ref: GenesysSimulator;
	const refClock = { now: Date.now() };

	beforeAll(async () => {
		ref = await startGenesysSimulator({
			now: () => refClock.now,
			runDurationMs: 1000,
			certificate: recipient.cert,
			// JobInfo without the job's settings, files?filename= answered as a list, data types as {name, source}.
			reading: { jobSettingsInJobInfo: false, presignedUrls: 'list', referenceData: 'name-source' },
		});
	});

	afterAll(async () => {
		await ref?.close();
	});

	function client(flavour: ApiFlavour = 'udm-v10'): GenesysClient {
		return new GenesysClient({
			baseUrl: ref.baseUrl,
			flavour,
			send: fetchSender(
				{
					baseUrl: ref.baseUrl,
					apiKey: 'sim-api-key',
					clientId: 'sim-client',
					clientSecret: 'sim-secret',
					grantType: 'client_credentials',
				},
				{ now: () => refClock.now },
			),
			now: () => refClock.now,
			sleep: async (ms) => {
				refClock.now += ms;
			},
		});
	}

	const scheduled = (title: string, flavour: ApiFlavour): JobRequest => ({
		...jobRequest(title),
		schedulerParam: { immediately: false, cron: '0 0 2 * * ?' },
		jobParams: {
			type: 'Interaction',
			media: ['chat'],
			...(flavour === 'udm-v10' ? { exportAttachments: true } : {}),
		},
		suspended: true,
	});

	it('item 2: Update and Clone never turn a scheduled, suspended job into a run-now, unsuspended one', async () => {
		// v10: JobInfo has no schedule, data type or suspended state; nothing is made up for them.
		const v10 = client();
		const job = await v10.createJob(scheduled('keep my schedule', 'udm-v10'));
		const puts = () => ref.state.jobRequests.filter((r) => r.method === 'PUT').length;
		const before = puts();
		await expect(v10.updateJob(job.id, { title: 'renamed' })).rejects.toThrow(
			/did not return the schedule of job \d+ \(schedulerParam\)/,
		);
		await expect(v10.cloneJob(job.id)).rejects.toThrow(/did not return the schedule/);
		expect(puts()).toBe(before);
		expect(ref.state.jobs.get(job.id)).toMatchObject({
			title: 'keep my schedule',
			suspended: true,
			schedulerParam: { immediately: false, cron: '0 0 2 * * ?' },
		});
		// Given explicitly, the update goes through with those values and every returned field.
		await v10.updateJob(job.id, {
			title: 'renamed',
			cron: '0 0 3 * * ?',
			dataType: 'Interaction',
			suspended: true,
		});
		expect(ref.state.jobs.get(job.id)).toMatchObject({
			title: 'renamed',
			suspended: true,
			media: ['chat'],
			schedulerParam: { immediately: false, cron: '0 0 3 * * ?' },
		});
		expect(ref.state.jobRequests.at(-1)?.body).toMatchObject({
			id: job.id,
			status: 'Suspended',
			media: ['chat'],
			exportAttachments: true,
		});

		// UDM v4 answers GET jobs/{id} with the Job shape: its schedule and suspended state go back as they were.
		const v4 = client('udm-v4');
		const old = await v4.createJob(scheduled('v4 schedule', 'udm-v4'));
		await v4.updateJob(old.id, { title: 'v4 renamed' });
		expect(ref.state.jobs.get(old.id)).toMatchObject({
			title: 'v4 renamed',
			suspended: true,
			schedulerParam: { immediately: false, cron: '0 0 2 * * ?' },
		});
		const clone = await v4.cloneJob(old.id);
		expect(ref.state.jobs.get(clone.id)).toMatchObject({
			title: 'v4 renamed (copy)',
			suspended: true,
			schedulerParam: { immediately: false, cron: '0 0 2 * * ?' },
		});
		expect(ref.state.runs.size).toBe(0);
	});

	it('item 3: each version gets its own body (v4 and CDDS: suspended a string, no type, no exportAttachments)', async () => {
		for (const [flavour, path] of [
			['udm-v10', '/udm/v10/export/jobs'],
			['udm-v4', '/udm/v4/export/jobs'],
			['cdds', '/data-download/v4/export/jobs'],
		] as const) {
			await client(flavour).createJob(scheduled(`body ${flavour}`, flavour));
			const { body } = ref.state.jobRequests.filter((r) => r.path === path).at(-1)!;
			if (flavour === 'udm-v10') {
				expect(body).toMatchObject({
					type: 'UCS',
					suspended: true,
					jobParams: { exportAttachments: true },
				});
			} else {
				expect(body).toMatchObject({ suspended: 'true' });
				expect(body).not.toHaveProperty('type');
				expect((body as { jobParams: object }).jobParams).not.toHaveProperty('exportAttachments');
			}
		}
	});

	it("item 4: on v4 and CDDS a run's files are its own, found by its export name; runs of a job are found without the v10-only jobId filter", async () => {
		for (const flavour of ['udm-v4', 'cdds'] as const) {
			const c = client(flavour);
			const since = refClock.now;
			const mine = await c.createJob({
				...jobRequest(`mine ${flavour}`, '64KB'),
				jobParams: { type: 'Interaction', media: [], fileSplitSize: '64KB' },
			});
			refClock.now += 1;
			// Another job's run, newer, that a jobId filter the API ignores would hand over.
			await c.createJob({
				...jobRequest(`other ${flavour}`, '64KB'),
				jobParams: { type: 'Interaction', media: [], fileSplitSize: '64KB' },
			});
			const run = await c.waitForJobRun(mine.id, since, wait);
			expect(run.parentId).toBe(mine.id);
			const files = await c.runFiles(run.id);
			expect(files.map((f) => f.name)).toEqual(ref.state.runs.get(run.id)?.fileNames);
			expect(files.length).toBeGreaterThan(1);
			expect(ref.state.files.size).toBeGreaterThan(files.length);
			const history = ref.state.apiRequests.filter((r) => /\/history\?/.test(r.path));
			expect(history.some((r) => /[?&]jobId=/.test(r.path) && !r.path.startsWith('/udm/v10'))).toBe(
				false,
			);
		}
	});

	it('item 5: "all media types" is sent as the explicit list the tenant offers', async () => {
		const job = await client().createJob({
			...jobRequest('all media'),
			schedulerParam: { cron: '0 0 2 * * ?' },
			jobParams: { type: 'Interaction', media: 'all' },
		});
		expect(ref.state.jobs.get(job.id)?.media).toEqual(['email', 'chat', 'voice']);
	});

	it('item 6: files?filename= answered as a list, several names in one request', async () => {
		const c = client();
		const since = refClock.now;
		const job = await c.createJob(jobRequest('links as a list', '64KB'));
		const run = await c.waitForJobRun(job.id, since, wait);
		const names = (await c.runFiles(run.id)).map((f) => f.name);
		const before = ref.state.apiRequests.length;
		const links = await c.getDownloadUrls(names);
		expect(ref.state.apiRequests.length - before).toBe(1);
		expect(links.map((l) => l.fileName)).toEqual(names);
		for (const link of links.slice(0, 2)) {
			const bytes = Buffer.from(await (await fetch(link.url)).arrayBuffer());
			expect(bytes.equals(ref.state.files.get(link.fileName)?.bytes ?? Buffer.alloc(0))).toBe(true);
		}
		expect(new URL(await c.getDownloadUrl(names[0])).origin).toBe(ref.storageUrl);
	});

	it('item 7: sources without Info Mart, data types read as {name, source}, the split size passed through as written', async () => {
		const c = client();
		expect(await c.sources()).toEqual([{ label: 'Contact History', value: 'UCS' }]);
		expect((await c.types('UCS')).map((t) => t.value)).toEqual(['Interaction', 'Contact']);
		await expect(c.createJob(jobRequest('odd split size', 'lots'))).rejects.toThrow(
			/HTTP 400.*fileSplitSize "lots"/,
		);
		await c.createJob({
			...jobRequest('spaced split size'),
			schedulerParam: { cron: '0 0 2 * * ?' },
			jobParams: { type: 'Interaction', media: [], fileSplitSize: '2 MB' },
		});
		expect(ref.state.jobRequests.at(-1)?.body).toMatchObject({
			jobParams: { fileSplitSize: '2 MB' },
		});
	});
});
