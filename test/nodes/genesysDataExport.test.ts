/**
 * The Genesys Data Export node through the n8n harness, over real HTTP against the simulator: the
 * credential's token handling, every resource, and the whole chain create → wait → download →
 * decrypt → reassemble → records.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenesysMulticloudApi } from '../../credentials/GenesysMulticloudApi.credentials';
import { GenesysMulticloudOAuth2Api } from '../../credentials/GenesysMulticloudOAuth2Api.credentials';
import { SmimeKeyApi } from '../../credentials/SmimeKeyApi.credentials';
import { GenesysDataExport } from '../../nodes/GenesysDataExport/GenesysDataExport.node';
import { makeRecipient, tempDir, type Recipient } from '../helpers/fixtures.mjs';
import { startGenesysSimulator, type GenesysSimulator } from '../simulator/genesys';
import { createHarness, type CredentialEntry, type Harness } from './harness';

let sim: GenesysSimulator;
let dir: ReturnType<typeof tempDir>;
let recipient: Recipient;
const harnesses: Harness[] = [];

const FAST = { options: { pollInterval: 0.05, timeout: 1 } };

function genesysCredential(overrides: IDataObject = {}): CredentialEntry {
	return {
		type: new GenesysMulticloudApi(),
		data: {
			region: 'custom',
			customBaseUrl: sim.baseUrl,
			apiKey: 'sim-api-key',
			clientId: 'sim-client',
			clientSecret: 'sim-secret',
			grantType: 'password',
			username: 'SIMTENANT\\analyst',
			password: 'sim-password',
			...overrides,
		},
	};
}

async function node(
	parameters: INodeParameters,
	options: {
		credential?: CredentialEntry;
		continueOnFail?: boolean;
		key?: boolean;
		typeVersion?: number;
	} = {},
): Promise<Harness> {
	const credentials: Record<string, CredentialEntry> = {
		genesysMulticloudApi: options.credential ?? genesysCredential(),
	};
	if (options.key !== false)
		credentials.smimeKeyApi = {
			type: new SmimeKeyApi(),
			data: {
				privateKey: recipient.key.toString('utf8'),
				certificate: recipient.cert.toString('utf8'),
			},
		};
	const h = await createHarness({
		nodeType: new GenesysDataExport(),
		parameters,
		credentials,
		continueOnFail: options.continueOnFail,
		typeVersion: options.typeVersion,
	});
	harnesses.push(h);
	return h;
}

async function run(
	parameters: INodeParameters,
	items?: INodeExecutionData[],
	options?: Parameters<typeof node>[1],
): Promise<INodeExecutionData[]> {
	const h = await node(parameters, options);
	return (await h.execute(items))[0];
}

const createAndWait = (title: string, extra: IDataObject = {}): INodeParameters => ({
	resource: 'job',
	operation: 'createAndWait',
	title,
	source: 'UCS',
	additionalFields: { fileSplitSize: '64KB', exportAttachments: true },
	...FAST,
	...extra,
});

beforeAll(async () => {
	dir = tempDir('cx-node-genesys-');
	recipient = makeRecipient(dir.path, 'node-recipient');
	sim = await startGenesysSimulator({
		runDurationMs: 250,
		interactions: 60,
		attachmentBytes: 36_000,
	});
	const [uploaded] = await run({
		resource: 'certificate',
		operation: 'upload',
		certificateSource: 'credential',
	});
	expect(uploaded.json).toMatchObject({ uploaded: true });
}, 60_000);

afterAll(async () => {
	for (const h of harnesses) await h.close();
	await sim?.close();
	dir?.remove();
});

describe('Genesys Data Export node: the whole chain', () => {
	it('create and wait → download as records gives exactly the records the simulator exported, from ≥10 encrypted parts', async () => {
		const [finished] = await run(createAndWait('Nightly contact history'));
		expect(finished.json).toMatchObject({ state: 'completed', title: 'Nightly contact history' });
		const fileNames = finished.json.fileNames as string[];
		expect(fileNames.length).toBeGreaterThanOrEqual(10);

		const before = sim.state.storageRequests.length;
		const records = await run({
			resource: 'file',
			operation: 'download',
			filesOf: 'run',
			runId: String(finished.json.id),
			output: 'records',
		});
		const expected = sim.state
			.exportContent(Number(finished.json.id))
			.entries.flatMap((e) => e.records);
		expect(
			records.map((r) => {
				const { runId, ...rest } = r.json;
				expect(runId).toBe(finished.json.id);
				return rest;
			}),
		).toEqual(expected);
		expect(records.every((r) => JSON.stringify(r.pairedItem) === '{"item":0}')).toBe(true);
		const storage = sim.state.storageRequests.slice(before);
		expect(storage).toHaveLength(fileNames.length);
		expect(
			storage.filter(
				(r) => r.headers.authorization !== undefined || r.headers['x-api-key'] !== undefined,
			),
		).toEqual([]);
	});

	it('downloads a run as the files, one merged zip, or the files inside', async () => {
		const [finished] = await run(createAndWait('Outputs'));
		const runId = String(finished.json.id);
		const content = sim.state.exportContent(Number(runId));
		const h = await node({
			resource: 'file',
			operation: 'download',
			filesOf: 'run',
			runId,
			output: 'files',
		});
		const files = (await h.execute())[0];
		expect(files.map((f) => f.json.fileName)).toEqual(
			(finished.json.fileNames as string[]).map((n) => n.replace(/\.smime$/, '')),
		);
		expect(
			files.every(
				(f) => f.binary?.data.mimeType === 'application/zip' && f.json.decrypted === true,
			),
		).toBe(true);

		const zipHarness = await node({
			resource: 'file',
			operation: 'download',
			filesOf: 'run',
			runId,
			output: 'zip',
			binaryPropertyName: 'export',
		});
		const [zipItem] = (await zipHarness.execute())[0];
		const zipPath = join(dir.path, `run-${runId}.zip`);
		writeFileSync(
			zipPath,
			await zipHarness.binary.buffer(zipItem.binary?.export ?? { data: '', mimeType: '' }),
		);
		execFileSync('unzip', ['-tq', zipPath]);
		expect(zipItem.json).toMatchObject({ parts: fileNames(finished).length, runId: Number(runId) });

		const extractedHarness = await node({
			resource: 'file',
			operation: 'download',
			filesOf: 'names',
			fileNames: fileNames(finished).join(', '),
			output: 'extracted',
		});
		const extracted = (await extractedHarness.execute())[0];
		expect(extracted.map((e) => e.json.path)).toEqual(content.entries.map((e) => e.name));
		const first = await extractedHarness.binary.buffer(
			extracted[0].binary?.data ?? { data: '', mimeType: '' },
		);
		expect(
			first
				.toString('utf8')
				.trimEnd()
				.split('\n')
				.map((l) => JSON.parse(l)),
		).toEqual(content.entries[0].records);

		const encrypted = await run(
			{
				resource: 'file',
				operation: 'download',
				filesOf: 'names',
				fileNames: fileNames(finished)[0],
				decrypt: false,
			},
			undefined,
			{ key: false },
		);
		expect(encrypted[0].json).toMatchObject({ fileName: fileNames(finished)[0], decrypted: false });
	});
});

function fileNames(item: INodeExecutionData): string[] {
	return item.json.fileNames as string[];
}

describe('Genesys Data Export node: jobs, runs, files, certificate and reference data', () => {
	it('creates, reads, lists, updates, suspends, resumes, clones, cancels and deletes jobs', async () => {
		const [job] = await run({
			resource: 'job',
			operation: 'create',
			source: 'UCS',
			title: 'Weekly',
			run: 'schedule',
			cron: '0 0 2 ? * MON',
			additionalFields: { fileSplitSize: '10MB', description: 'every Monday' },
		});
		expect(job.json).toMatchObject({
			title: 'Weekly',
			status: 'Scheduled',
			description: 'every Monday',
		});
		const jobId = String(job.json.id);
		expect((await run({ resource: 'job', operation: 'get', jobId }))[0].json).toMatchObject({
			id: job.json.id,
		});
		const limited = await run({ resource: 'job', operation: 'getMany', limit: 1 });
		expect(limited).toHaveLength(1);
		const all = await run({
			resource: 'job',
			operation: 'getMany',
			returnAll: true,
			filters: { title: 'week' },
		});
		expect(all.map((j) => j.json.title)).toEqual(['Weekly']);
		const [updated] = await run({
			resource: 'job',
			operation: 'update',
			jobId,
			updateFields: { title: 'Weekly (renamed)' },
		});
		expect(updated.json.title).toBe('Weekly (renamed)');
		expect(sim.state.jobs.get(Number(jobId))?.title).toBe('Weekly (renamed)');
		await run({ resource: 'job', operation: 'suspend', jobId });
		expect(sim.state.jobs.get(Number(jobId))?.suspended).toBe(true);
		await run({ resource: 'job', operation: 'resume', jobId });
		expect(sim.state.jobs.get(Number(jobId))?.suspended).toBe(false);
		const [clone] = await run({
			resource: 'job',
			operation: 'clone',
			jobId,
			cloneFields: { title: 'Weekly copy' },
		});
		expect(clone.json).toMatchObject({ title: 'Weekly copy' });
		expect(clone.json.id).not.toBe(job.json.id);
		const started = sim.controls.triggerSchedule(Number(jobId));
		await run({ resource: 'job', operation: 'cancel', jobId });
		expect(sim.state.runs.get(started.id)?.status).toBe('Cancelled');
		await run({ resource: 'job', operation: 'delete', jobId });
		expect(sim.state.jobs.has(Number(jobId))).toBe(false);
	});

	it('gets runs, their progress, waits for them and deletes them; a failed run is an error unless told otherwise', async () => {
		const [job] = await run({
			resource: 'job',
			operation: 'create',
			source: 'UCS',
			title: 'Runs',
			additionalFields: { fileSplitSize: '1MB' },
		});
		const runs = await run({
			resource: 'run',
			operation: 'getMany',
			returnAll: true,
			filters: { jobId: String(job.json.id) },
		});
		expect(runs).toHaveLength(1);
		const runId = String(runs[0].json.id);
		const [progress] = await run({ resource: 'run', operation: 'getProgress', runId });
		expect(progress.json.progress).toEqual(expect.any(Number));
		const [done] = await run({ resource: 'run', operation: 'waitForCompletion', runId, ...FAST });
		expect(done.json).toMatchObject({
			state: 'completed',
			fileNames: [expect.stringMatching(/\.zip\.smime$/)],
		});
		expect((await run({ resource: 'run', operation: 'get', runId }))[0].json).toMatchObject({
			status: 'Completed',
			progress: 100,
		});

		sim.controls.failNextRun('Export failed: disk full');
		await expect(run(createAndWait('Doomed'))).rejects.toThrow(
			/ended Failed: Export failed: disk full/,
		);
		sim.controls.failNextRun('Export failed: disk full');
		const [failed] = await run(
			createAndWait('Doomed but reported', {
				options: { pollInterval: 0.05, failOnRunFailure: false },
			}),
		);
		expect(failed.json).toMatchObject({ state: 'failed', description: 'Export failed: disk full' });

		await run({ resource: 'run', operation: 'delete', runId });
		expect(sim.state.runs.has(Number(runId))).toBe(false);
	});

	it('lists files, gives a download link that works without credentials, and deletes files', async () => {
		const [finished] = await run(
			createAndWait('Files', { additionalFields: { fileSplitSize: '1MB' } }),
		);
		const names = fileNames(finished);
		const listed = await run({
			resource: 'file',
			operation: 'getMany',
			returnAll: true,
			filters: { historyId: String(finished.json.id) },
		});
		expect(listed.map((f) => f.json.name)).toEqual(names);
		const [link] = await run({ resource: 'file', operation: 'getDownloadUrl', fileName: names[0] });
		const url = String(link.json.url ?? link.json.path);
		expect(new URL(url).origin).toBe(sim.storageUrl);
		expect((await fetch(url)).status).toBe(200);
		await run({ resource: 'file', operation: 'delete', fileName: names[0] });
		expect(sim.state.files.has(names[0])).toBe(false);
	});

	it('reads the certificate and the reference data, and fills the dropdowns', async () => {
		expect((await run({ resource: 'certificate', operation: 'get' }))[0].json).toMatchObject({
			name: 'exports.pem',
		});
		expect(
			(await run({ resource: 'referenceData', operation: 'getSources' })).map((i) => i.json.value),
		).toEqual(['UCS']);
		expect(
			(await run({ resource: 'referenceData', operation: 'getTypes' })).map((i) => i.json.value),
		).toEqual(['Interaction', 'Contact']);
		expect(
			(await run({ resource: 'referenceData', operation: 'getSubTypes' })).map((i) => i.json.name),
		).toEqual(['email', 'chat', 'voice']);
		expect(
			(await run({ resource: 'referenceData', operation: 'getJobStatuses' })).length,
		).toBeGreaterThan(3);
		expect(
			(await run({ resource: 'referenceData', operation: 'getVersion' }))[0].json,
		).toMatchObject({ name: 'udm-simulator' });
		expect(
			(await run({ resource: 'referenceData', operation: 'getLabels' }))[0].json,
		).toMatchObject({ 'export.title': 'Export' });

		const h = await node({ resource: 'job', operation: 'get' });
		expect((await h.loadOptions('getSources')).map((o) => o.value)).toEqual(['UCS']);
		// Dropdowns are sorted by name.
		expect(
			(await h.loadOptions('getSubTypes', { source: 'UCS', dataType: 'Interaction' })).map(
				(o) => o.value,
			),
		).toEqual(['chat', 'email', 'voice']);
		const jobs = await h.loadOptions('getJobs');
		expect(jobs.length).toBeGreaterThan(0);
		expect(jobs[0]).toMatchObject({
			name: expect.stringMatching(/\(\d+\)$/),
			value: expect.stringMatching(/^\d+$/),
		});
	});
});

/** A resource locator's value as the editor saves it. */
const locator = (mode: 'list' | 'id', value: string) => ({ __rl: true, mode, value });

describe('Genesys Data Export node: Job and Run as resource locators (version 1.1), version 1 unchanged', () => {
	it('has version 1 fields for version 1 workflows and resource locators from version 1.1', () => {
		const { description } = new GenesysDataExport();
		expect(description.version).toEqual([1, 1.1]);
		expect(description.defaultVersion).toBe(1.1);
		for (const name of ['jobId', 'runId']) {
			const fields = description.properties.filter(
				(p) => p.name === name && p.displayOptions?.show?.resource,
			);
			const v1 = fields.filter((p) => p.displayOptions?.show?.['@version']?.[0] === 1);
			const v11 = fields.filter((p) => p.displayOptions?.hide?.['@version']?.[0] === 1);
			expect(v1.length).toBeGreaterThan(0);
			expect(v1.length).toBe(v11.length);
			expect(v1.every((p) => p.type !== 'resourceLocator')).toBe(true);
			for (const field of v11) {
				expect(field.type).toBe('resourceLocator');
				expect(field.default).toEqual({ mode: 'list', value: '' });
				expect(field.modes?.map((m) => m.name)).toEqual(['list', 'id']);
			}
		}
	});

	it('runs the Job and Run operations and File → Download from a locator (From List or By ID) and from version 1 fields', async () => {
		const [finished] = await run(createAndWait('Locator run'));
		const runId = String(finished.json.id);
		const jobId = String(finished.json.parentId);
		expect(jobId).toMatch(/^\d+$/);
		for (const value of [locator('list', jobId), locator('id', ` ${jobId} `)]) {
			const [job] = await run({ resource: 'job', operation: 'get', jobId: value });
			expect(job.json).toMatchObject({ id: Number(jobId), title: 'Locator run' });
		}
		for (const value of [locator('list', runId), locator('id', runId)]) {
			const [got] = await run({ resource: 'run', operation: 'get', runId: value });
			expect(got.json).toMatchObject({ id: Number(runId) });
		}
		// An expression in By ID, as the shipped workflows have it.
		const files = await run(
			{
				resource: 'file',
				operation: 'download',
				filesOf: 'run',
				runId: locator('id', '={{ $json.id }}'),
				decrypt: false,
				output: 'files',
			},
			[{ json: { id: Number(runId) } }],
		);
		expect(files.map((f) => f.json.fileName ?? f.json.name)).toHaveLength(
			(finished.json.fileNames as string[]).length,
		);
		// Version 1: the dropdown's value and the plain run ID, as saved by workflows of that version.
		const [v1job] = (
			await (await node({ resource: 'job', operation: 'get', jobId }, { typeVersion: 1 })).execute()
		)[0];
		expect(v1job.json).toMatchObject({ id: Number(jobId) });
		const [v1run] = (
			await (await node({ resource: 'run', operation: 'get', runId }, { typeVersion: 1 })).execute()
		)[0];
		expect(v1run.json).toMatchObject({ id: Number(runId) });
	});

	it('says which field is empty', async () => {
		const h = await node({ resource: 'run', operation: 'get', runId: locator('list', '') });
		await expect(h.execute()).rejects.toThrow(/No run chosen/);
		const failed = await run(
			{ resource: 'job', operation: 'get', jobId: locator('id', '  ') },
			undefined,
			{ continueOnFail: true },
		);
		expect(failed[0].json.error).toMatch(/No job chosen/);
	});

	it('lists jobs and runs newest first, found by title or by ID, a page at a time', async () => {
		const made: IDataObject[] = [];
		for (const title of ['Locator list alpha', 'Locator list beta'])
			made.push((await run(createAndWait(title)))[0].json);
		const h = await node({ resource: 'job', operation: 'get' });
		const [alpha, beta] = made;

		const jobs = await h.listSearch('searchJobs');
		const newest = jobs.results.findIndex((r) => r.value === String(beta.parentId));
		const older = jobs.results.findIndex((r) => r.value === String(alpha.parentId));
		expect(newest).toBeGreaterThanOrEqual(0);
		expect(older).toBeGreaterThan(newest);
		expect(jobs.results[newest].name).toBe(`Locator list beta (${String(beta.parentId)})`);

		const byTitle = await h.listSearch('searchJobs', 'list beta');
		expect(byTitle.results.map((r) => r.value)).toEqual([String(beta.parentId)]);
		const byId = await h.listSearch('searchJobs', String(alpha.parentId));
		expect(byId.results[0]).toMatchObject({ value: String(alpha.parentId) });
		expect((await h.listSearch('searchJobs', 'no job has this title')).results).toEqual([]);

		const runs = await h.listSearch('searchRuns', 'Locator list');
		expect(runs.results.map((r) => r.value)).toEqual([String(beta.id), String(alpha.id)]);
		expect(runs.results[0].name).toMatch(
			new RegExp(`^Locator list beta · \\w+.* \\(run ${String(beta.id)}\\)$`),
		);
		const runById = await h.listSearch('searchRuns', String(alpha.id));
		expect(runById.results[0]).toMatchObject({ value: String(alpha.id) });

		// Page by page: every job once, in the same order as one long list.
		for (let i = 0; i < 60; i++)
			sim.state.jobs.set(900_000 + i, {
				...sim.state.jobs.get(Number(alpha.parentId))!,
				id: 900_000 + i,
				title: `Locator filler ${i}`,
			});
		const seen: string[] = [];
		let token: string | undefined;
		let pages = 0;
		do {
			const page = await h.listSearch('searchJobs', undefined, token);
			seen.push(...page.results.map((r) => String(r.value)));
			token = page.paginationToken as string | undefined;
			pages++;
		} while (token && pages < 20);
		expect(pages).toBeGreaterThan(1);
		expect(new Set(seen).size).toBe(seen.length);
		expect(seen).toEqual(expect.arrayContaining([String(alpha.parentId), '900059', '900000']));
	});
});

describe('Genesys Data Export node: credentials, errors and recovery', () => {
	it('fetches the token once and refreshes it once after a 401, keeping it for later executions', async () => {
		const credential = genesysCredential();
		const h = await node({ resource: 'referenceData', operation: 'getVersion' }, { credential });
		await h.execute();
		await h.execute();
		expect(h.preAuthentications.genesysMulticloudApi).toBe(1);
		expect(credential.data.accessToken).toEqual(expect.any(String));
		sim.controls.expireTokensNow();
		expect((await h.execute())[0][0].json).toMatchObject({ name: 'udm-simulator' });
		expect(h.preAuthentications.genesysMulticloudApi).toBe(2);
		// The token never shows up in what the node returns.
		expect(JSON.stringify(await h.execute())).not.toContain(String(credential.data.accessToken));
	});

	it('says what to check on 403 (API key) and on a refused user, without the secrets', async () => {
		const badKey = genesysCredential({ apiKey: 'wrong-key' });
		const error = await run({ resource: 'referenceData', operation: 'getVersion' }, undefined, {
			credential: badKey,
		}).then(
			() => undefined,
			(e: Error & { description?: string }) => e,
		);
		expect(`${error?.message} ${error?.description}`).toMatch(/API key/i);
		expect(`${error?.message} ${error?.description}`).not.toContain('wrong-key');

		const badUser = genesysCredential({ password: 'not-the-password' });
		const refused = await run({ resource: 'referenceData', operation: 'getVersion' }, undefined, {
			credential: badUser,
		}).then(
			() => undefined,
			(e: Error & { description?: string }) => e,
		);
		expect(`${refused?.message} ${refused?.description}`).toMatch(
			/check the user name \(TENANT\\user\) and password/,
		);
		expect(`${refused?.message} ${refused?.description}`).not.toContain('not-the-password');
	});

	it('turns a failing item into an error item with continue on fail, paired with its input', async () => {
		const out = await run(
			{ resource: 'job', operation: 'get', jobId: '={{ $json.id }}' },
			[{ json: { id: 999999 } }, { json: { id: 'abc' } }],
			{ continueOnFail: true },
		);
		expect(out).toHaveLength(2);
		expect(out[0]).toMatchObject({
			json: { error: expect.stringMatching(/999999/) },
			pairedItem: { item: 0 },
		});
		expect(out[1]).toMatchObject({
			json: { error: expect.stringMatching(/not a job or run ID/) },
			pairedItem: { item: 1 },
		});
	});

	it('rides out 503/429 bursts and a download dropped midway', async () => {
		const [finished] = await run(
			createAndWait('Flaky', { additionalFields: { fileSplitSize: '1MB' } }),
		);
		sim.controls.failNextRequests(2, 503);
		sim.controls.failNextRequests(1, 429, { retryAfterSeconds: 0 });
		sim.controls.resetDownloadOnce(10_000);
		const records = await run({
			resource: 'file',
			operation: 'download',
			filesOf: 'run',
			runId: String(finished.json.id),
			output: 'records',
		});
		expect(records).toHaveLength(
			sim.state
				.exportContent(Number(finished.json.id))
				.entries.reduce((n, e) => n + e.records.length, 0),
		);
	});

	it('works the same over the v4 and CDDS APIs', async () => {
		for (const apiVersion of ['udm-v4', 'cdds']) {
			const credential = genesysCredential({ apiVersion });
			const [finished] = await run(
				createAndWait(`Over ${apiVersion}`, { additionalFields: { fileSplitSize: '1MB' } }),
				undefined,
				{ credential },
			);
			expect(finished.json.state).toBe('completed');
			const prefix =
				apiVersion === 'cdds' ? '/data-download/v4/export/jobs' : '/udm/v4/export/jobs';
			expect(sim.state.apiRequests.some((r) => r.method === 'POST' && r.path === prefix)).toBe(
				true,
			);
			const records = await run(
				{
					resource: 'file',
					operation: 'download',
					filesOf: 'run',
					runId: String(finished.json.id),
					output: 'records',
				},
				undefined,
				{ credential },
			);
			expect(records.length).toBeGreaterThan(0);
		}
	});

	it('signs in with an authorization code and signs requests with the bearer token and the API key', async () => {
		// The browser's part of the sign-in: the sign-in page redirects to the redirect URI with a code.
		const redirectUri = 'https://n8n.example.com/rest/oauth2-credential/callback';
		const signIn = await fetch(
			`${sim.baseUrl}/auth/v3/oauth/authorize?response_type=code&client_id=sim-client&scope=*&redirect_uri=${encodeURIComponent(redirectUri)}`,
			{ redirect: 'manual' },
		);
		const code = new URL(signIn.headers.get('location') ?? '').searchParams.get('code') ?? '';
		const credential: CredentialEntry = {
			type: new GenesysMulticloudOAuth2Api(),
			data: {
				region: 'custom',
				customBaseUrl: sim.baseUrl,
				apiKey: 'sim-api-key',
				clientId: 'sim-client',
				clientSecret: 'sim-secret',
				redirectUri,
				authorizationCode: code,
				apiVersion: 'udm-v10',
			},
		};
		const h = await createHarness({
			nodeType: new GenesysDataExport(),
			parameters: { authentication: 'oAuth2', resource: 'referenceData', operation: 'getVersion' },
			credentials: { genesysMulticloudOAuth2Api: credential },
		});
		harnesses.push(h);
		expect((await h.execute())[0][0].json).toMatchObject({ name: 'udm-simulator' });
		expect(h.requests.map((r) => new URL(r.url).pathname)).toEqual([
			'/auth/v3/oauth/token',
			'/udm/v10/version',
		]);
		for (const request of h.requests) expect(request.headers['x-api-key']).toBe('sim-api-key');
		expect(h.requests[1].headers.authorization).toBe(
			`Bearer ${String(credential.data.accessToken)}`,
		);
	});
});
