/**
 * The simulator is only useful if it behaves like Genesys: checked here over plain HTTP against
 * the API reference's shapes (the package's zod models), and its exports checked with the real
 * tools (openssl smime -decrypt, unzip, Info-ZIP's zip -s 0) and with the core (reassembly,
 * record schemas). Most tests drive a simulator on a test clock, so runs end when the test says.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
	createReadStream,
	createWriteStream,
	mkdirSync,
	readFileSync,
	writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inspectCms } from '../../src/cms';
import { fileMetadata } from '../../src/genesys/client';
import {
	certificateInfo,
	errorBody,
	jobInfo,
	jobProgress,
	keyValueItem,
	pagedResponse,
	preSignedUri,
	subType,
	versionInfo,
} from '../../src/genesys/models';
import { parseJsonLines, recordKindForEntry, validateRecord } from '../../src/jsonl';
import { reassemble, zipEntries } from '../../src/zip';
import { makeRecipient, openssl, tempDir, type Recipient } from '../helpers/fixtures.mjs';
import { startGenesysSimulator, type GenesysSimulator, type SimulatorOptions } from './genesys';

const API_KEY = 'sim-api-key';
const BASIC = `Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}`;

let dir: ReturnType<typeof tempDir>;
let recipient: Recipient;
const simulators: GenesysSimulator[] = [];

beforeAll(() => {
	dir = tempDir('cx-sim-');
	recipient = makeRecipient(dir.path, 'sim-recipient');
});

afterAll(async () => {
	await Promise.all(simulators.map((s) => s.close()));
	dir.remove();
});

/** A simulator on a test clock (unless `now` is given), closed after the file. */
async function simulator(
	options: SimulatorOptions = {},
): Promise<{ sim: GenesysSimulator; clock: { now: number } }> {
	const clock = { now: Date.now() };
	const sim = await startGenesysSimulator({ now: () => clock.now, ...options });
	simulators.push(sim);
	return { sim, clock };
}

function tokenRequest(
	sim: GenesysSimulator,
	form: Record<string, string>,
	headers: Record<string, string> = {},
): Promise<Response> {
	return fetch(`${sim.baseUrl}/auth/v3/oauth/token`, {
		method: 'POST',
		headers: {
			'x-api-key': API_KEY,
			authorization: BASIC,
			'content-type': 'application/x-www-form-urlencoded',
			...headers,
		},
		body: new URLSearchParams(form).toString(),
	});
}

const tokenAnswer = z.object({
	access_token: z.string(),
	token_type: z.literal('bearer'),
	expires_in: z.number(),
	scope: z.literal('*'),
	refresh_token: z.string().optional(),
});

/** An API session: a token and a request helper that sends the Genesys headers. */
class Session {
	constructor(
		readonly sim: GenesysSimulator,
		public token: string,
	) {}

	static async open(sim: GenesysSimulator): Promise<Session> {
		const answer = await tokenRequest(sim, {
			grant_type: 'password',
			username: 'SIMTENANT\\analyst',
			password: 'sim-password',
			scope: '*',
		});
		expect(answer.status).toBe(200);
		return new Session(sim, tokenAnswer.parse(await answer.json()).access_token);
	}

	request(
		method: string,
		path: string,
		body?: unknown,
		headers: Record<string, string> = {},
	): Promise<Response> {
		return fetch(`${this.sim.baseUrl}${path}`, {
			method,
			headers: {
				'x-api-key': API_KEY,
				authorization: `Bearer ${this.token}`,
				...(body !== undefined ? { 'content-type': 'application/json' } : {}),
				...headers,
			},
			body: body === undefined ? undefined : JSON.stringify(body),
			redirect: 'manual',
		});
	}

	/** A successful JSON answer, validated by `schema`. */
	async json<T>(schema: z.ZodType<T>, method: string, path: string, body?: unknown): Promise<T> {
		const answer = await this.request(method, path, body);
		const text = await answer.text();
		expect(answer.ok, `${method} ${path}: HTTP ${answer.status} ${text}`).toBe(true);
		return schema.parse(JSON.parse(text));
	}

	/** An error answer: its status and body. */
	async error(
		method: string,
		path: string,
		body?: unknown,
		headers?: Record<string, string>,
	): Promise<{ status: number; body: unknown }> {
		const answer = await this.request(method, path, body, headers);
		expect(answer.ok).toBe(false);
		return { status: answer.status, body: await answer.json() };
	}

	async uploadCertificate(pem: Buffer, prefix = '/udm/v10', name = 'cert.pem'): Promise<Response> {
		const boundary = 'sim-test-boundary';
		const body = Buffer.concat([
			Buffer.from(
				`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/x-x509-ca-cert\r\n\r\n`,
			),
			pem,
			Buffer.from(`\r\n--${boundary}--\r\n`),
		]);
		return fetch(`${this.sim.baseUrl}${prefix}/cipher/${name}`, {
			method: 'POST',
			headers: {
				'x-api-key': API_KEY,
				authorization: `Bearer ${this.token}`,
				'content-type': `multipart/form-data; boundary=${boundary}`,
			},
			body,
		});
	}

	/** Creates a job and returns it with its first run (when it runs immediately). */
	async createJob(
		body: Record<string, unknown>,
		exportPrefix = '/udm/v10/export',
	): Promise<{ id: number; status?: string | null; runId?: number }> {
		const job = await this.json(jobInfo, 'POST', `${exportPrefix}/jobs`, body);
		const runs = await this.request('GET', `${exportPrefix}/history?jobId=${job.id}`);
		if (runs.status === 204) return job;
		return { ...job, runId: pagedResponse(jobInfo).parse(await runs.json()).items[0]?.id };
	}
}

function jobBody(
	title: string,
	overrides: {
		fileSplitSize?: string;
		dataType?: string;
		media?: string[];
		schedulerParam?: Record<string, unknown>;
		timeFrame?: Record<string, unknown>;
		suspended?: unknown;
	} = {},
): Record<string, unknown> {
	return {
		source: 'UCS',
		type: 'UCS',
		title,
		timeFrame: overrides.timeFrame ?? { all: true },
		schedulerParam: overrides.schedulerParam ?? { immediately: true },
		jobParams: {
			type: overrides.dataType ?? 'Interaction',
			media: overrides.media ?? [],
			exportAttachments: true,
			...(overrides.fileSplitSize ? { fileSplitSize: overrides.fileSplitSize } : {}),
		},
		suspended: overrides.suspended ?? false,
	};
}

/** A v10 body as the v4 and CDDS references write it: no job type, no exportAttachments, suspended a string. */
function v4Body(body: Record<string, unknown>): Record<string, unknown> {
	const { type: _type, ...rest } = body;
	const { exportAttachments: _attachments, ...jobParams } = body.jobParams as Record<
		string,
		unknown
	>;
	return { ...rest, jobParams, suspended: String(body.suspended) };
}

const errorEnvelope = (code: number) => ({ status: { code, message: expect.any(String) } });
const paged = <T extends z.ZodType>(item: T) => pagedResponse(item);

// ---- authentication ------------------------------------------------------------------------------

describe('Genesys simulator: the Authentication API', () => {
	let sim: GenesysSimulator;
	beforeAll(async () => {
		({ sim } = await simulator());
	});

	it('issues bearer tokens for the password grant (with a refresh token) and the client-credentials grant', async () => {
		const password = await tokenRequest(sim, {
			grant_type: 'password',
			client_id: 'sim-client',
			username: 'SIMTENANT\\analyst',
			password: 'sim-password',
			scope: '*',
		});
		expect(password.status).toBe(200);
		expect(password.headers.get('cache-control')).toBe('no-store');
		const body = tokenAnswer.parse(await password.json());
		expect(body).toMatchObject({
			token_type: 'bearer',
			expires_in: 3600,
			scope: '*',
			refresh_token: expect.any(String),
		});
		expect(body.access_token).toMatch(
			/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
		);

		const client = tokenAnswer.parse(
			await (await tokenRequest(sim, { grant_type: 'client_credentials' })).json(),
		);
		expect(client.refresh_token).toBeUndefined();
		expect(client.access_token).not.toBe(body.access_token);
	});

	it('refuses a wrong API key (403), client (401) and user (400) with the bodies the reference documents', async () => {
		for (const headers of [{ 'x-api-key': 'wrong' }, { 'x-api-key': '' }]) {
			const answer = await tokenRequest(sim, { grant_type: 'client_credentials' }, headers);
			expect(answer.status).toBe(403);
			expect(await answer.json()).toEqual({ message: 'Forbidden' });
		}
		for (const authorization of [
			`Basic ${Buffer.from('sim-client:nope').toString('base64')}`,
			`Basic ${Buffer.from('someone:sim-secret').toString('base64')}`,
			'Bearer x',
		]) {
			const answer = await tokenRequest(
				sim,
				{ grant_type: 'client_credentials' },
				{ authorization },
			);
			expect(answer.status).toBe(401);
			expect(await answer.json()).toEqual({
				error: 'Unauthorized',
				error_description: 'Bad credentials',
			});
		}
		const badUser = await tokenRequest(sim, {
			grant_type: 'password',
			username: 'SIMTENANT\\analyst',
			password: 'nope',
		});
		expect(badUser.status).toBe(400);
		expect(await badUser.json()).toEqual({
			error: 'invalid_grant',
			error_description: 'Bad credentials',
		});
		expect(await (await tokenRequest(sim, { grant_type: 'implicit' })).json()).toMatchObject({
			error: 'unsupported_grant_type',
		});
		expect(
			await (await tokenRequest(sim, { grant_type: 'client_credentials', scope: 'read' })).json(),
		).toMatchObject({ error: 'invalid_scope' });
		expect((await tokenRequest(sim, {})).status).toBe(400);
	});

	it('answers API calls without the API key 403 and without a valid token 401; expired tokens stop working, refresh tokens still do', async () => {
		const s = await Session.open(sim);
		expect((await s.request('GET', '/udm/v10/data/sources')).status).toBe(200);
		const noKey = await s.request('GET', '/udm/v10/data/sources', undefined, {
			'x-api-key': 'nope',
		});
		expect(noKey.status).toBe(403);
		expect(await noKey.json()).toEqual({ message: 'Forbidden' });
		for (const authorization of [
			'Bearer not-a-token',
			'',
			`Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}`,
		]) {
			const answer = await s.request('GET', '/udm/v10/data/sources', undefined, { authorization });
			expect(answer.status).toBe(401);
			expect(errorBody.parse(await answer.json())).toMatchObject(errorEnvelope(401));
		}
		const refresh =
			tokenAnswer.parse(
				await (
					await tokenRequest(sim, {
						grant_type: 'password',
						username: 'SIMTENANT\\analyst',
						password: 'sim-password',
					})
				).json(),
			).refresh_token ?? '';
		sim.controls.expireTokensNow();
		expect((await s.request('GET', '/udm/v10/data/sources')).status).toBe(401);
		const renewed = await tokenRequest(sim, {
			grant_type: 'refresh_token',
			refresh_token: refresh,
		});
		expect(renewed.status).toBe(200);
		s.token = tokenAnswer.parse(await renewed.json()).access_token;
		expect((await s.request('GET', '/udm/v10/data/sources')).status).toBe(200);
		expect(
			(await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: 'made-up' })).status,
		).toBe(400);
	});

	it('lets tokens expire on the clock, and takes several API keys, clients and users', async () => {
		const { sim: custom, clock } = await simulator({
			apiKeys: ['key-a', 'key-b'],
			clients: [
				{ clientId: 'etl', clientSecret: 's1' },
				{ clientId: 'robot', clientSecret: 's2', grants: ['client_credentials'] },
			],
			users: [
				{ username: 'ACME\\ann', password: 'pw-ann' },
				{ username: 'ACME\\bob', password: 'pw-bob' },
			],
			tokenTtlSeconds: 120,
		});
		const basic = (id: string, secret: string) =>
			`Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
		const bob = await tokenRequest(
			custom,
			{ grant_type: 'password', username: 'ACME\\bob', password: 'pw-bob' },
			{ 'x-api-key': 'key-b', authorization: basic('etl', 's1') },
		);
		const { access_token: token, expires_in } = tokenAnswer.parse(await bob.json());
		expect(expires_in).toBe(120);
		expect(
			(
				await tokenRequest(
					custom,
					{ grant_type: 'password', username: 'ACME\\ann', password: 'pw-bob' },
					{ 'x-api-key': 'key-a', authorization: basic('etl', 's1') },
				)
			).status,
		).toBe(400);
		expect(
			(
				await tokenRequest(
					custom,
					{ grant_type: 'password', username: 'ACME\\ann', password: 'pw-ann' },
					{ 'x-api-key': 'key-a', authorization: basic('robot', 's2') },
				)
			).status,
		).toBe(400);
		expect(
			(
				await tokenRequest(
					custom,
					{ grant_type: 'client_credentials' },
					{ 'x-api-key': 'key-a', authorization: basic('robot', 's2') },
				)
			).status,
		).toBe(200);
		expect(
			(
				await tokenRequest(
					custom,
					{ grant_type: 'client_credentials' },
					{ 'x-api-key': API_KEY, authorization: basic('robot', 's2') },
				)
			).status,
		).toBe(403);

		const call = () =>
			fetch(`${custom.baseUrl}/udm/v10/version`, {
				headers: { 'x-api-key': 'key-a', authorization: `Bearer ${token}` },
			});
		expect((await call()).status).toBe(200);
		clock.now += 119_000;
		expect((await call()).status).toBe(200);
		clock.now += 2_000;
		expect((await call()).status).toBe(401);
	});

	it('approves authorization-code sign-ins and exchanges each code once', async () => {
		const callback = 'http://localhost:5678/rest/oauth2-credential/callback';
		const answer = await fetch(
			`${sim.baseUrl}/auth/v3/oauth/authorize?response_type=code&client_id=sim-client&redirect_uri=${encodeURIComponent(callback)}&state=xyz`,
			{ redirect: 'manual' },
		);
		expect(answer.status).toBe(302);
		const location = new URL(answer.headers.get('location') ?? '');
		expect(location.origin + location.pathname).toBe(callback);
		expect(location.searchParams.get('state')).toBe('xyz');
		const code = location.searchParams.get('code') ?? '';
		const first = await tokenRequest(sim, {
			grant_type: 'authorization_code',
			code,
			redirect_uri: callback,
		});
		expect(first.status).toBe(200);
		expect(tokenAnswer.parse(await first.json()).refresh_token).toEqual(expect.any(String));
		expect(
			(await tokenRequest(sim, { grant_type: 'authorization_code', code, redirect_uri: callback }))
				.status,
		).toBe(400);
		expect(
			(
				await fetch(
					`${sim.baseUrl}/auth/v3/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=${encodeURIComponent(callback)}`,
					{ redirect: 'manual' },
				)
			).status,
		).toBe(400);
	});
});

describe('Genesys simulator: Digital Channels interactions (selfUri)', () => {
	it('answers GET on a chat or email selfUri with the API key alone, the same answer each time', async () => {
		const { sim } = await simulator();
		const get = (path: string, key = API_KEY) =>
			fetch(`${sim.baseUrl}${path}`, { headers: { 'x-api-key': key } });
		const chat = await get('/nexus/v3/chat/sessions/8e09e19f-b8ba-4db0-b6e7-dfc8a7776176');
		expect(chat.status).toBe(200);
		const body = (await chat.json()) as {
			status: { code: number };
			data: { id: string; mediaType: string; messages: unknown[] };
		};
		expect(body.status.code).toBe(0);
		expect(body.data).toMatchObject({
			id: '8e09e19f-b8ba-4db0-b6e7-dfc8a7776176',
			mediaType: 'chat',
		});
		expect(body.data.messages.length).toBeGreaterThan(0);
		expect(
			await (await get('/nexus/v3/chat/sessions/8e09e19f-b8ba-4db0-b6e7-dfc8a7776176')).json(),
		).toEqual(body);
		expect(
			(
				(await (await get('/nexus/v3/email/interactions/00ab')).json()) as {
					data: { mediaType: string };
				}
			).data.mediaType,
		).toBe('email');
		expect((await get('/nexus/v3/chat/sessions/x', 'wrong')).status).toBe(403);
		expect((await get('/nexus/v3/chat/other/x')).status).toBe(404);
	});
});

// ---- jobs and runs -------------------------------------------------------------------------------

describe('Genesys simulator: jobs and runs', () => {
	let sim: GenesysSimulator;
	let clock: { now: number };
	let s: Session;

	beforeAll(async () => {
		({ sim, clock } = await simulator({ runDurationMs: 1000, progressSteps: 4 }));
		s = await Session.open(sim);
		expect((await s.uploadCertificate(recipient.cert)).status).toBe(201);
	});

	it('validates job bodies as the API does, with the error envelope', async () => {
		const bad = async (body: unknown, pattern: RegExp, prefix = '/udm/v10/export') => {
			const answer = await s.error('POST', `${prefix}/jobs`, body);
			expect(answer.status).toBe(400);
			expect(errorBody.parse(answer.body).status?.message).toMatch(pattern);
		};
		const ok = jobBody('ok');
		await bad({ ...ok, title: '' }, /^title is required$/);
		await bad({ ...ok, source: undefined }, /source is required/);
		await bad({ ...ok, source: 'Elsewhere' }, /source "Elsewhere"/);
		// The admin guide: "Info Mart exports are not supported".
		await bad({ ...ok, source: 'InfoMart' }, /Info Mart exports are not supported/);
		await bad({ ...ok, type: undefined }, /type is required/);
		await bad({ ...ok, suspended: undefined }, /suspended is required/);
		await bad({ ...ok, suspended: 'false' }, /suspended must be a boolean/);
		await bad({ ...ok, timeFrame: { all: 'true' } }, /timeFrame.all must be true or false/);
		await bad({ ...ok, timeFrame: {} }, /timeFrame needs/);
		await bad(
			jobBody('x', {
				timeFrame: { dateFrom: '2026-11-02T00:00:00Z', dateTo: '2026-11-01T00:00:00Z' },
			}),
			/after/,
		);
		await bad(jobBody('x', { timeFrame: { dateFrom: 'yesterday' } }), /not a date/);
		await bad(jobBody('x', { schedulerParam: {} }), /schedulerParam needs/);
		await bad(jobBody('x', { schedulerParam: { cron: 'every night' } }), /not a cron expression/);
		await bad(jobBody('x', { fileSplitSize: 'lots' }), /not a size/);
		await bad(jobBody('x', { fileSplitSize: '32KB' }), /minimum of 64KB/);
		await bad(jobBody('x', { dataType: 'Agents' }), /not a data type/);
		await bad(jobBody('x', { media: ['fax'] }), /"fax" is not a media type/);
		await bad({ ...ok, jobParams: { type: 'Interaction' } }, /jobParams.media is required/);
		// The v4 body types `suspended` as a string and has no job type.
		const v4 = await s.json(
			jobInfo,
			'POST',
			'/udm/v4/export/jobs',
			v4Body(jobBody('v4 body', { suspended: true })),
		);
		expect(v4).toMatchObject({ title: 'v4 body', type: 'UCS', suspended: 'true' });
		expect(v4).not.toHaveProperty('exportAttachments');
		for (const prefix of ['/udm/v4/export', '/data-download/v4/export']) {
			await bad(
				{ ...v4Body(ok), suspended: false },
				/suspended must be the string "true" or "false"/,
				prefix,
			);
			await bad({ ...v4Body(ok), suspended: undefined }, /suspended is required/, prefix);
		}
		expect(
			(await s.request('POST', '/udm/v10/export/jobs', undefined, { 'content-type': 'text/plain' }))
				.status,
		).toBe(415);
		expect(
			(
				await fetch(`${sim.baseUrl}/udm/v10/export/jobs`, {
					method: 'POST',
					headers: {
						'x-api-key': API_KEY,
						authorization: `Bearer ${s.token}`,
						'content-type': 'application/json',
					},
					body: '{"title":',
				})
			).status,
		).toBe(400);
	});

	it('runs a job created to run immediately: 202, progress in steps over time, history, then files; the one-time job is suspended for good', async () => {
		const answer = await s.request(
			'POST',
			'/udm/v10/export/jobs',
			jobBody('Nightly', { fileSplitSize: '64KB' }),
		);
		expect(answer.status).toBe(202);
		const job = jobInfo.parse(await answer.json());
		expect(job).toMatchObject({
			title: 'Nightly',
			status: 'InProgress',
			fileSplitSize: '64KB',
			parentId: null,
		});
		const history = await s.json(paged(jobInfo), 'GET', `/udm/v10/export/history?jobId=${job.id}`);
		expect(history.count).toBe(1);
		const runId = history.items[0].id;
		expect(history.items[0]).toMatchObject({
			status: 'InProgress',
			parentId: job.id,
			progress: 0,
			title: 'Nightly',
		});

		const seen: Array<z.infer<typeof jobProgress>> = [];
		for (let i = 0; i < 5; i++) {
			seen.push(await s.json(jobProgress, 'GET', `/udm/v10/export/history/${runId}/progress`));
			clock.now += 250;
		}
		expect(seen).toEqual([
			{ progress: 0, status: 'InProgress' },
			{ progress: 25, status: 'InProgress' },
			{ progress: 50, status: 'InProgress' },
			{ progress: 75, status: 'InProgress' },
			{ progress: 100, status: 'Completed' },
		]);
		const run = await s.json(jobInfo, 'GET', `/udm/v10/export/history/${runId}`);
		expect(run).toMatchObject({
			status: 'Completed',
			progress: 100,
			fileName: expect.stringMatching(/^export-[0-9a-f-]{36}\.zip\.smime$/),
			fileSize: expect.any(Number),
		});
		const files = await s.json(
			paged(fileMetadata),
			'GET',
			`/udm/v10/file-metadatas?historyId=${runId}`,
		);
		expect(files.items.length).toBeGreaterThanOrEqual(2);
		expect(files.items.reduce((n, f) => n + (f.size ?? 0), 0)).toBe(run.fileSize);
		expect(
			files.items.every(
				(f) => f.historyId === runId && f.jobId === job.id && f.jobTitle === 'Nightly',
			),
		).toBe(true);

		// "A one-time job submitted to run immediately is added suspended and can't be resumed" (or edited).
		expect(await s.json(jobInfo, 'GET', `/udm/v10/export/jobs/${job.id}`)).toMatchObject({
			suspended: true,
			status: 'Completed',
		});
		expect((await s.error('POST', `/udm/v10/export/jobs/resume/${job.id}`)).status).toBe(400);
		expect(
			(await s.error('PUT', `/udm/v10/export/jobs/${job.id}`, jobBody('Nightly 2'))).status,
		).toBe(400);
	});

	it('keeps scheduled jobs until their schedule fires; suspends, resumes, cancels, and refuses to delete what is running', async () => {
		const job = await s.createJob(
			jobBody('Weekly', {
				schedulerParam: { immediately: false, cron: '0 0 2 ? * MON' },
				fileSplitSize: '1MB',
			}),
		);
		expect(job.status).toBe('Scheduled');
		expect(job.runId).toBeUndefined();
		expect(await s.json(jobInfo, 'POST', `/udm/v10/export/jobs/suspend/${job.id}`)).toMatchObject({
			id: job.id,
			status: 'Suspended',
			suspended: true,
		});
		expect(() => sim.controls.triggerSchedule(job.id)).toThrow(/suspended/);
		expect(await s.json(jobInfo, 'POST', `/udm/v10/export/jobs/resume/${job.id}`)).toMatchObject({
			suspended: false,
			status: 'Scheduled',
		});

		const updated = await s.json(
			jobInfo,
			'PUT',
			`/udm/v10/export/jobs/${job.id}`,
			jobBody('Weekly (renamed)', { schedulerParam: { cron: '0 0 3 ? * MON' } }),
		);
		expect(updated).toMatchObject({
			id: job.id,
			title: 'Weekly (renamed)',
			schedulerParam: { cron: '0 0 3 ? * MON' },
		});

		const run = sim.controls.triggerSchedule(job.id);
		expect(run).toMatchObject({ jobId: job.id, status: 'InProgress' });
		expect((await s.error('DELETE', `/udm/v10/export/jobs/${job.id}`)).status).toBe(400);
		expect((await s.error('DELETE', `/udm/v10/export/history/${run.id}`)).status).toBe(400);
		expect(
			(
				await s.error(
					'PUT',
					`/udm/v10/export/jobs/${job.id}`,
					jobBody('busy', { schedulerParam: { cron: '0 0 3 ? * MON' } }),
				)
			).status,
		).toBe(400);
		const cancel = await s.request('POST', `/udm/v10/export/jobs/cancel/${job.id}`);
		expect(cancel.status).toBe(200);
		expect(await s.json(jobInfo, 'GET', `/udm/v10/export/history/${run.id}`)).toMatchObject({
			status: 'Cancelled',
			description: 'Cancelled by user',
		});
		expect(await s.json(jobInfo, 'GET', `/udm/v10/export/jobs/${job.id}`)).toMatchObject({
			status: 'Cancelled',
			suspended: false,
		});
		clock.now += 5000; // a cancelled run stays cancelled
		expect(sim.state.runs.get(run.id)).toMatchObject({ status: 'Cancelled', fileNames: [] });

		expect((await s.request('DELETE', `/udm/v10/export/history/${run.id}`)).status).toBe(204);
		expect((await s.error('GET', `/udm/v10/export/history/${run.id}`)).status).toBe(404);
		expect((await s.request('DELETE', `/udm/v10/export/jobs/${job.id}`)).status).toBe(204);
		const gone = await s.error('GET', `/udm/v10/export/jobs/${job.id}`);
		expect(gone).toEqual({ status: 404, body: errorEnvelope(404) });
	});

	it('lists jobs and runs in pages, filtered and ordered as asked; 204 when nothing matches', async () => {
		const ids: number[] = [];
		for (const title of ['Page A', 'Page B', 'Page C']) {
			ids.push((await s.createJob(jobBody(title, { schedulerParam: { cron: '0 0 1 * * ?' } }))).id);
			clock.now += 10;
		}
		const newestFirst = await s.json(
			paged(jobInfo),
			'GET',
			'/udm/v10/export/jobs?title=page&from=0&size=2',
		);
		expect(newestFirst).toMatchObject({ count: 3, from: 0, size: 2 });
		expect(newestFirst.items.map((j) => j.id)).toEqual([ids[2], ids[1]]);
		const rest = await s.json(
			paged(jobInfo),
			'GET',
			'/udm/v10/export/jobs?title=page&from=2&size=2',
		);
		expect(rest.items.map((j) => j.id)).toEqual([ids[0]]);
		const byTitle = await s.json(
			paged(jobInfo),
			'GET',
			'/udm/v10/export/jobs?title=PAGE&orderField=title&descAsc=false',
		);
		expect(byTitle.items.map((j) => j.title)).toEqual(['Page A', 'Page B', 'Page C']);
		expect((await s.request('GET', '/udm/v10/export/jobs?title=no-such-job')).status).toBe(204);
		expect((await s.error('GET', '/udm/v10/export/jobs?size=lots')).status).toBe(400);
		expect((await s.error('GET', '/udm/v10/export/jobs?orderField=colour')).status).toBe(400);

		const runs = [sim.controls.triggerSchedule(ids[0]), sim.controls.triggerSchedule(ids[1])];
		const all = await s.json(
			paged(jobInfo),
			'GET',
			'/udm/v10/export/history?title=page&orderField=id&descAsc=false',
		);
		expect(all.items.map((r) => r.id)).toEqual(runs.map((r) => r.id));
		const ofOne = await s.json(paged(jobInfo), 'GET', `/udm/v10/export/history?jobId=${ids[1]}`);
		expect(ofOne.items.map((r) => r.parentId)).toEqual([ids[1]]);
		expect((await s.request('GET', `/udm/v10/export/history?jobId=${ids[2]}`)).status).toBe(204);

		// Bulk deletes name what they could not delete (a 500 with the list, as the reference says).
		const bulk = await s.error('DELETE', `/udm/v10/export/jobs?jobIDs=${ids[0]},${ids[2]},999999`);
		expect(bulk).toEqual({ status: 500, body: [String(ids[0]), '999999'] });
		expect(sim.state.jobs.has(ids[2])).toBe(false);
		clock.now += 1000;
		expect(
			(
				await s.request(
					'DELETE',
					`/udm/v10/export/history?jobIDs=${runs.map((r) => r.id).join(',')}`,
				)
			).status,
		).toBe(204);
	});

	it('fails the next run when told to, with the reason in the run', async () => {
		sim.controls.failNextRun('Export failed: the UCS database was not reachable');
		const job = await s.createJob(jobBody('Doomed'));
		clock.now += 1000;
		expect(await s.json(jobInfo, 'GET', `/udm/v10/export/history/${job.runId}`)).toMatchObject({
			status: 'Failed',
			description: 'Export failed: the UCS database was not reachable',
			fileName: null,
		});
		expect(
			await s.json(jobProgress, 'GET', `/udm/v10/export/history/${job.runId}/progress`),
		).toMatchObject({ status: 'Failed' });
		expect((await s.request('GET', `/udm/v10/file-metadatas?historyId=${job.runId}`)).status).toBe(
			204,
		);
	});

	it('fails runs when no certificate is uploaded, as a tenant does, and takes only RSA certificates without private keys', async () => {
		const { sim: bare, clock: bareClock } = await simulator();
		const b = await Session.open(bare);
		expect((await b.error('GET', '/udm/v10/cipher')).status).toBe(404);
		const job = await b.createJob(jobBody('no certificate'));
		bareClock.now += 1000;
		expect(await b.json(jobInfo, 'GET', `/udm/v10/export/history/${job.runId}`)).toMatchObject({
			status: 'Failed',
			description: expect.stringMatching(/no encryption certificate/),
		});

		expect((await b.uploadCertificate(Buffer.concat([recipient.cert, recipient.key]))).status).toBe(
			400,
		);
		const ecKey = join(dir.path, 'ec.key');
		const ecCert = join(dir.path, 'ec.pem');
		openssl([
			'req',
			'-x509',
			'-newkey',
			'ec',
			'-pkeyopt',
			'ec_paramgen_curve:P-256',
			'-nodes',
			'-keyout',
			ecKey,
			'-out',
			ecCert,
			'-subj',
			'/CN=ec',
			'-days',
			'2',
		]);
		const ec = await b.uploadCertificate(readFileSync(ecCert));
		expect(ec.status).toBe(400);
		expect(errorBody.parse(await ec.json()).status?.message).toMatch(/not RSA/);
		expect((await b.uploadCertificate(Buffer.from('not a certificate'))).status).toBe(400);
		expect(
			(
				await fetch(`${bare.baseUrl}/udm/v10/cipher/x.pem`, {
					method: 'POST',
					headers: {
						'x-api-key': API_KEY,
						authorization: `Bearer ${b.token}`,
						'content-type': 'application/x-pem-file',
					},
					body: recipient.cert,
				})
			).status,
		).toBe(400);

		const uploaded = await b.uploadCertificate(recipient.cert, '/data-download/v3', 'exports.pem');
		expect(uploaded.status).toBe(201);
		expect(await uploaded.json()).toEqual(expect.any(String));
		expect(await b.json(certificateInfo, 'GET', '/udm/v10/cipher')).toEqual({
			ccid: expect.any(String),
			name: 'exports.pem',
			size: recipient.cert.length,
			lastModified: new Date(bareClock.now).toISOString(),
		});
	});

	it('serves the same API under the v4 and CDDS paths, and the v10-only resources only under v10', async () => {
		for (const [exportPrefix, commonPrefix, versionName] of [
			['/udm/v4/export', '/udm/v3', 'udm-simulator'],
			['/data-download/v4/export', '/data-download/v3', 'cdds-simulator'],
		]) {
			const job = await s.createJob(
				v4Body(jobBody(`flavour ${commonPrefix}`, { fileSplitSize: '1MB' })),
				exportPrefix,
			);
			expect(await s.json(jobInfo, 'GET', `${exportPrefix}/jobs/${job.id}`)).toMatchObject({
				id: job.id,
				title: `flavour ${commonPrefix}`,
			});
			expect(
				await s.json(jobProgress, 'GET', `${exportPrefix}/history/${job.runId}/progress`),
			).toEqual({ progress: 0, status: 'InProgress' });
			clock.now += 1000;
			const finished = await s.json(jobInfo, 'GET', `${exportPrefix}/history/${job.runId}`);
			expect(finished).toMatchObject({
				status: 'Completed',
				parentId: job.id,
				fileName: expect.stringMatching(/^export-[0-9a-f-]{36}\.zip\.smime$/),
			});
			expect(finished).not.toHaveProperty('exportAttachments');
			// historyId is a filter of v10 only: here it is ignored, and the files carry no historyId.
			const unfiltered = await s.json(
				paged(fileMetadata),
				'GET',
				`${commonPrefix}/file-metadatas?historyId=${job.runId}`,
			);
			expect(unfiltered.items).toHaveLength(sim.state.files.size);
			expect(unfiltered.items.every((f) => f.historyId === undefined)).toBe(true);
			const exportName = String(finished.fileName).replace(/\.zip\.smime$/, '');
			const files = await s.json(
				paged(fileMetadata),
				'GET',
				`${commonPrefix}/file-metadatas?name=${exportName}`,
			);
			expect(files.items.map((f) => f.name)).toEqual([finished.fileName]);
			const redirect = await s.request('GET', `${commonPrefix}/files/${files.items[0].name}`);
			expect(redirect.status).toBe(303);
			expect(new URL(redirect.headers.get('location') ?? '').origin).toBe(sim.storageUrl);
			expect(await s.json(versionInfo, 'GET', `${commonPrefix}/version`)).toMatchObject({
				name: versionName,
			});
			// v4 answers suspend and resume with a status envelope, v10 with the job.
			const scheduled = await s.createJob(
				v4Body(jobBody('v4 schedule', { schedulerParam: { cron: '0 0 2 * * ?' } })),
				exportPrefix,
			);
			expect(
				await s.json(z.unknown(), 'POST', `${exportPrefix}/jobs/suspend/${scheduled.id}`),
			).toEqual({ status: { code: 0, message: 'successful' } });
			for (const path of ['/resources/labels', '/data/attributes'])
				expect((await s.error('GET', `${commonPrefix}${path}`)).status).toBe(404);
			expect(await s.json(z.array(keyValueItem), 'GET', `${commonPrefix}/data/sources`)).toEqual([
				{ label: 'Contact History', value: 'UCS' },
				{ label: 'Info Mart', value: 'InfoMart' },
			]);
		}
		expect(
			await s.json(z.record(z.string(), z.unknown()), 'GET', '/udm/v10/resources/labels'),
		).toMatchObject({ 'export.title': 'Export' });
		expect(
			await s.json(
				z.record(z.string(), z.array(z.string())),
				'GET',
				'/udm/v10/data/attributes?entities=Contact',
			),
		).toEqual({ Contact: expect.arrayContaining(['CONTACTID']) });
		expect((await s.error('GET', '/udm/v10/no-such-thing')).status).toBe(404);
		expect((await s.error('PATCH', '/udm/v10/version')).status).toBe(405);
	});

	it('answers the reference data the UI offers', async () => {
		expect(await s.json(z.array(keyValueItem), 'GET', '/udm/v10/data/types?source=UCS')).toEqual([
			{ label: 'Interaction', value: 'Interaction' },
			{ label: 'Contact', value: 'Contact' },
		]);
		expect(
			(
				await s.json(
					z.array(subType),
					'GET',
					'/udm/v10/data/sub-types?source=UCS&dataType=Interaction',
				)
			).map((t) => t.name),
		).toEqual(['email', 'chat', 'voice']);
		expect(
			(await s.request('GET', '/udm/v10/data/sub-types?source=UCS&dataType=Contact')).status,
		).toBe(204);
		expect((await s.error('GET', '/udm/v10/data/sub-types?dataType=Agents')).status).toBe(400);
		expect(
			(await s.json(z.array(keyValueItem), 'GET', '/udm/v10/data/job-statuses')).map(
				(k) => k.value,
			),
		).toEqual(expect.arrayContaining(['InProgress', 'Completed', 'Failed', 'Cancelled']));
	});

	it('answers bursts of 429/503 with Retry-After, on the paths asked for', async () => {
		sim.controls.failNextRequests(1, 503, { pathPrefix: '/udm/v3' });
		sim.controls.failNextRequests(2, 429, { retryAfterSeconds: 2 });
		const limited = await s.request('GET', '/udm/v10/version');
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('2');
		expect(errorBody.parse(await limited.json())).toMatchObject(errorEnvelope(429));
		expect((await s.request('GET', '/udm/v10/version')).status).toBe(429);
		expect((await s.request('GET', '/udm/v10/version')).status).toBe(200);
		expect((await s.request('GET', '/udm/v3/version')).status).toBe(503);
		expect((await s.request('GET', '/udm/v3/version')).status).toBe(200);
		// Token requests are only failed when asked for by path.
		sim.controls.failNextRequests(1, 503, { pathPrefix: '/auth' });
		expect((await tokenRequest(sim, { grant_type: 'client_credentials' })).status).toBe(503);
		expect((await tokenRequest(sim, { grant_type: 'client_credentials' })).status).toBe(200);
	});

	it('deletes files after 30 days', async () => {
		const job = await s.createJob(jobBody('retention', { fileSplitSize: '1MB' }));
		clock.now += 1000;
		const [file] = (
			await s.json(paged(fileMetadata), 'GET', `/udm/v10/file-metadatas?historyId=${job.runId}`)
		).items;
		expect(file).toMatchObject({ remainingDays: 30 });
		clock.now += 29 * 86_400_000;
		s.token = (await Session.open(sim)).token; // the old token expired long ago
		expect((await s.request('GET', `/udm/v10/files/${file.name}`)).status).toBe(303);
		clock.now += 86_400_000;
		s.token = (await Session.open(sim)).token;
		expect((await s.error('GET', `/udm/v10/files/${file.name}`)).status).toBe(404);
		expect((await s.request('GET', `/udm/v10/file-metadatas?historyId=${job.runId}`)).status).toBe(
			204,
		);
	});
});

// ---- exports -------------------------------------------------------------------------------------

/** What the central directory of a split set says, read here independently of src/zip. */
function checkSplitLayout(
	parts: Buffer[],
	splitSize: number,
): Array<{ name: string; disk: number; offset: number }> {
	const last = parts[parts.length - 1];
	const eocd = last.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
	expect(eocd).toBe(last.length - 22);
	const disk = last.readUInt16LE(eocd + 4);
	const cdDisk = last.readUInt16LE(eocd + 6);
	const entries = last.readUInt16LE(eocd + 10);
	const cdSize = last.readUInt32LE(eocd + 12);
	const cdOffset = last.readUInt32LE(eocd + 16);
	expect(disk).toBe(parts.length - 1);
	const cd = Buffer.concat(parts.slice(cdDisk)).subarray(cdOffset, cdOffset + cdSize);
	const out: Array<{ name: string; disk: number; offset: number }> = [];
	for (let at = 0; at < cd.length; ) {
		expect(cd.readUInt32LE(at)).toBe(0x02014b50);
		const nameLength = cd.readUInt16LE(at + 28);
		const extraLength = cd.readUInt16LE(at + 30);
		const commentLength = cd.readUInt16LE(at + 32);
		const name = cd.subarray(at + 46, at + 46 + nameLength).toString('utf8');
		const entryDisk = cd.readUInt16LE(at + 34);
		const offset = cd.readUInt32LE(at + 42);
		// The local header is whole in the part the central directory names.
		const part = parts[entryDisk];
		expect(part.readUInt32LE(offset)).toBe(0x04034b50);
		expect(
			offset + 30 + part.readUInt16LE(offset + 26) + part.readUInt16LE(offset + 28),
		).toBeLessThanOrEqual(part.length);
		expect(part.subarray(offset + 30, offset + 30 + nameLength).toString('utf8')).toBe(name);
		out.push({ name, disk: entryDisk, offset });
		at += 46 + nameLength + extraLength + commentLength;
	}
	expect(out).toHaveLength(entries);
	expect(parts.every((p) => p.length <= splitSize)).toBe(true);
	return out;
}

async function readZipRecords(
	zipPath: string,
): Promise<Array<{ name: string; records: unknown[] }>> {
	const out: Array<{ name: string; records: unknown[] }> = [];
	for await (const entry of zipEntries(zipPath)) {
		const records: unknown[] = [];
		for await (const record of parseJsonLines(await entry.open(), { source: entry.name }))
			records.push(record.value);
		out.push({ name: entry.name, records });
	}
	return out;
}

describe('Genesys simulator: exports as Genesys writes them', () => {
	let sim: GenesysSimulator;
	let clock: { now: number };
	let s: Session;

	beforeAll(async () => {
		({ sim, clock } = await simulator({
			runDurationMs: 500,
			interactions: 90,
			contacts: 600,
			attachmentBytes: 25_000,
		}));
		s = await Session.open(sim);
		expect((await s.uploadCertificate(recipient.cert)).status).toBe(201);
	});

	async function finishedRun(
		body: Record<string, unknown>,
	): Promise<{ jobId: number; runId: number; names: string[] }> {
		const job = await s.createJob(body);
		clock.now += 500;
		const files = await s.json(
			paged(fileMetadata),
			'GET',
			`/udm/v10/file-metadatas?historyId=${job.runId}&orderField=name&descAsc=false`,
		);
		return { jobId: job.id, runId: job.runId ?? -1, names: files.items.map((f) => f.name) };
	}

	/** Downloads every file through the 303 and decrypts it with openssl; returns the decrypted paths. */
	async function downloadAndDecrypt(names: string[], into: string): Promise<string[]> {
		mkdirSync(into, { recursive: true });
		const paths: string[] = [];
		for (const name of names) {
			const redirect = await s.request('GET', `/udm/v10/files/${encodeURIComponent(name)}`);
			expect(redirect.status).toBe(303);
			const bytes = Buffer.from(
				await (await fetch(redirect.headers.get('location') ?? '')).arrayBuffer(),
			);
			expect(bytes.equals(sim.state.files.get(name)?.bytes ?? Buffer.alloc(0))).toBe(true);
			const encrypted = join(into, name);
			writeFileSync(encrypted, bytes);
			const plain = encrypted.replace(/\.smime$/, '');
			openssl([
				'smime',
				'-decrypt',
				'-binary',
				'-inkey',
				recipient.keyPath,
				'-in',
				encrypted,
				'-out',
				plain,
			]);
			paths.push(plain);
		}
		return paths;
	}

	it('splits an Interaction export into ≥10 S/MIME parts that openssl decrypts, our core reassembles and unzip accepts, holding exactly the records it says', async () => {
		const { jobId, runId, names } = await finishedRun(
			jobBody('Nightly', { fileSplitSize: '64KB' }),
		);
		expect(names.length).toBeGreaterThanOrEqual(10);
		const base = names[names.length - 1].replace(/\.zip\.smime$/, '');
		expect(base).toMatch(
			/^export-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
		);
		expect(names).toEqual([
			...names.slice(0, -1).map((_, i) => `${base}.z${String(i + 1).padStart(2, '0')}.smime`),
			`${base}.zip.smime`,
		]);

		const first = sim.state.files.get(names[0])?.bytes.toString('latin1') ?? '';
		expect(first.split('\n\n')[0].split('\n')).toEqual([
			'MIME-Version: 1.0',
			'Content-Disposition: attachment; filename="smime.p7m"',
			'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
			'Content-Transfer-Encoding: base64',
		]);
		// One recipient per file: the uploaded certificate, by issuer and serial number, RSA key transport.
		const header = await inspectCms([sim.state.files.get(names[0])?.bytes ?? Buffer.alloc(0)]);
		const certificate = new X509Certificate(recipient.cert);
		expect(header.contentType).toBe('envelopedData');
		expect(header.recipients).toHaveLength(1);
		const [only] = header.recipients;
		expect(
			only.type === 'keyTransport' && only.id.kind === 'issuerSerial'
				? {
						serial: only.id.serialHex.replace(/^0+/, ''),
						issuer: only.id.issuer,
						keyBytes: only.encryptedKey.length,
					}
				: only,
		).toEqual({
			serial: certificate.serialNumber.toUpperCase().replace(/^0+/, ''),
			issuer: expect.stringContaining('CN=sim-recipient'),
			keyBytes: 256,
		});

		const work = join(dir.path, `interaction-${runId}`);
		const plainPaths = await downloadAndDecrypt(names, work);
		const plain = plainPaths.map((p) => readFileSync(p));
		const parts = sim.state.exportParts(runId);
		expect(parts.map((p) => `${p.name}.smime`)).toEqual(names);
		expect(plain.every((p, i) => p.equals(parts[i].plain))).toBe(true);
		expect(plain[0].subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x07, 0x08]));
		expect(checkSplitLayout(plain, 64 * 1024).map((e) => e.name)).toEqual([
			`Interaction-${jobId}.json`,
			`Interaction-Attachment-${jobId}.json`,
		]);

		const merged = join(work, 'merged.zip');
		const summary = await reassemble(
			plainPaths.map((path) => ({
				name: path.split('/').pop() ?? path,
				open: () => createReadStream(path),
			})),
			createWriteStream(merged),
		);
		expect(summary).toMatchObject({ parts: names.length, entries: 2, rewritten: true });
		const tested = spawnSync('unzip', ['-tq', merged], { encoding: 'utf8' });
		expect(tested.status, tested.stdout + tested.stderr).toBe(0);

		const content = sim.state.exportContent(runId);
		expect(content.entries.map((e) => e.name)).toEqual([
			`Interaction-${jobId}.json`,
			`Interaction-Attachment-${jobId}.json`,
		]);
		expect(execFileSync('zipinfo', ['-1', merged]).toString().trim().split('\n')).toEqual(
			content.entries.map((e) => e.name),
		);
		expect(await readZipRecords(merged)).toEqual(content.entries);
		const unzipped = execFileSync('unzip', ['-p', merged, content.entries[1].name], {
			maxBuffer: 1 << 28,
		}).toString('utf8');
		expect(
			unzipped
				.trimEnd()
				.split('\n')
				.map((line) => JSON.parse(line) as unknown),
		).toEqual(content.entries[1].records);
	});

	it('writes records with the names and types of the reference schemas; attachments join their interaction', async () => {
		const { runId } = await finishedRun(jobBody('Schemas', { fileSplitSize: '1MB' }));
		const { entries } = sim.state.exportContent(runId);
		for (const entry of entries) {
			const kind = recordKindForEntry(entry.name);
			expect(kind).toBeDefined();
			for (const record of entry.records)
				expect(validateRecord(kind ?? 'interaction', record)).toMatchObject({ ok: true });
		}
		const [interactions, attachments] = entries.map((e) => e.records);
		expect(interactions).toHaveLength(90);
		expect(new Set(interactions.map((r) => r.IXNID)).size).toBe(90);
		expect(new Set(interactions.map((r) => r.ENTITYTYPEID))).toEqual(new Set([0, 1, 2, 3]));
		expect(
			interactions.every(
				(r) =>
					typeof r.IXNID === 'string' &&
					String(r.IXNID).length === 16 &&
					/Z$/.test(String(r.STARTDATE)),
			),
		).toBe(true);
		const ixnIds = new Set(interactions.filter((r) => r.ENTITYTYPEID === 0).map((r) => r.IXNID));
		expect(attachments).toHaveLength(ixnIds.size);
		for (const a of attachments) {
			expect(ixnIds.has(a.ENTITYID)).toBe(true);
			expect(Buffer.from(String(a.CONTENT), 'base64').length).toBe(a.THESIZE);
			expect(a.THESIZE).toBe(25_000);
		}
	});

	it('writes a Contact export that Info-ZIP itself merges (no entry spans more than two parts)', async () => {
		const { jobId, runId, names } = await finishedRun(
			jobBody('Contacts', { dataType: 'Contact', fileSplitSize: '64KB' }),
		);
		expect(names).toHaveLength(2);
		const work = join(dir.path, `contacts-${runId}`);
		await downloadAndDecrypt(names, work);
		const zipName = names[1].replace(/\.smime$/, '');
		execFileSync('zip', ['-q', '-s', '0', zipName, '--out', 'merged.zip'], { cwd: work });
		const tested = spawnSync('unzip', ['-tq', 'merged.zip'], { cwd: work, encoding: 'utf8' });
		expect(tested.status, tested.stdout + tested.stderr).toBe(0);
		const content = sim.state.exportContent(runId);
		expect(content.entries.map((e) => e.name)).toEqual([
			`Contact-${jobId}.json`,
			`ContactAttribute-${jobId}.json`,
		]);
		expect(await readZipRecords(join(work, 'merged.zip'))).toEqual(content.entries);
		const contacts = new Set(content.entries[0].records.map((c) => c.CONTACTID));
		expect(contacts.size).toBe(600);
		expect(content.entries[1].records.every((a) => contacts.has(a.CONTACTID))).toBe(true);
	});

	it('writes one Info-ZIP split part when the export fits (spanning marker and all), and an ordinary zip without a split size', async () => {
		const small = await finishedRun(jobBody('Small', { media: ['chat'], fileSplitSize: '1MB' }));
		expect(small.names).toEqual([expect.stringMatching(/\.zip\.smime$/)]);
		const [splitPath] = await downloadAndDecrypt(
			small.names,
			join(dir.path, `small-${small.runId}`),
		);
		expect(readFileSync(splitPath).subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x07, 0x08]));
		expect(spawnSync('unzip', ['-tq', splitPath]).status).toBe(0);
		expect(
			sim.state
				.exportContent(small.runId)
				.entries[0].records.every((r) => r.MEDIATYPEID === 'chat'),
		).toBe(true);

		const whole = await finishedRun(jobBody('Whole', { media: ['voice'] }));
		const [wholePath] = await downloadAndDecrypt(
			whole.names,
			join(dir.path, `whole-${whole.runId}`),
		);
		expect(readFileSync(wholePath).subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
		expect(await readZipRecords(wholePath)).toEqual(sim.state.exportContent(whole.runId).entries);
	});

	it('builds the same records and zip parts from the same seed; only the encryption differs', async () => {
		const make = async (seed: string) => {
			const { sim: other, clock: otherClock } = await simulator({
				seed,
				runDurationMs: 100,
				interactionFiles: 'perEntityType',
				certificate: recipient.cert,
			});
			otherClock.now = Date.UTC(2026, 10, 20, 12, 0, 0);
			const session = await Session.open(other);
			const job = await session.createJob(
				jobBody('Seeded', {
					fileSplitSize: '64KB',
					timeFrame: { dateFrom: '2026-11-01T00:00:00Z', dateTo: '2026-11-08T00:00:00Z' },
				}),
			);
			otherClock.now += 100;
			other.controls.settle();
			const runId = job.runId ?? -1;
			return {
				content: other.state.exportContent(runId),
				parts: other.state.exportParts(runId),
				files:
					other.state.runs.get(runId)?.fileNames.map((n) => other.state.files.get(n)?.bytes) ?? [],
			};
		};
		const a = await make('seed-1');
		const b = await make('seed-1');
		const c = await make('seed-2');
		expect(a.content.entries.map((e) => e.name)).toEqual([
			'EmailIn-1000.json',
			'EmailIn-Attachment-1000.json',
			'EmailOut-1000.json',
			'Chat-1000.json',
			'PhoneCall-1000.json',
		]);
		expect(b.content).toEqual(a.content);
		expect(b.parts).toEqual(a.parts);
		expect(b.files[0]?.equals(a.files[0] ?? Buffer.alloc(0))).toBe(false);
		expect(c.content).not.toEqual(a.content);
		const starts = a.content.entries
			.filter((e) => !e.name.includes('Attachment'))
			.flatMap((e) => e.records.map((r) => Date.parse(String(r.STARTDATE))));
		expect(Math.min(...starts)).toBeGreaterThanOrEqual(Date.UTC(2026, 10, 1));
		expect(Math.max(...starts)).toBeLessThan(Date.UTC(2026, 10, 8));
	});
});

// ---- the storage host ----------------------------------------------------------------------------

describe('Genesys simulator: the storage host', () => {
	let sim: GenesysSimulator;
	let clock: { now: number };
	let s: Session;
	let name: string;
	let bytes: Buffer;

	beforeAll(async () => {
		({ sim, clock } = await simulator({
			runDurationMs: 100,
			certificate: recipient.cert,
			attachmentBytes: 20_000,
		}));
		s = await Session.open(sim);
		const job = await s.createJob(jobBody('storage', { fileSplitSize: '1MB' }));
		clock.now += 100;
		sim.controls.settle(); // state is read directly below, not through the API
		name = sim.state.runs.get(job.runId ?? -1)?.fileNames[0] ?? '';
		bytes = sim.state.files.get(name)?.bytes ?? Buffer.alloc(0);
		expect(bytes.length).toBeGreaterThan(1000);
	});

	const link = async () =>
		(await s.json(preSignedUri, 'GET', `/udm/v10/files?filename=${encodeURIComponent(name)}`)).path;

	it('gives pre-signed links (303 or JSON) that work without credentials, for GET and HEAD', async () => {
		const redirect = await s.request('GET', `/udm/v10/files/${encodeURIComponent(name)}`);
		expect(redirect.status).toBe(303);
		const location = new URL(redirect.headers.get('location') ?? '');
		expect(location.origin).toBe(sim.storageUrl);
		expect([...location.searchParams.keys()]).toEqual(
			expect.arrayContaining(['X-Amz-Algorithm', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Signature']),
		);
		const got = await fetch(location);
		expect(got.status).toBe(200);
		expect(got.headers.get('accept-ranges')).toBe('bytes');
		expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
		const head = await fetch(await link(), { method: 'HEAD' });
		expect(head.status).toBe(200);
		expect(head.headers.get('content-length')).toBe(String(bytes.length));
		expect(await head.text()).toBe('');
		const missing = await s.error('GET', '/udm/v10/files?filename=nope.zip.smime');
		expect(missing).toEqual({ status: 404, body: [{ path: 'nope.zip.smime' }] });
		expect((await s.error('GET', '/udm/v10/files/nope.zip.smime')).status).toBe(404);
	});

	it('refuses requests that carry Genesys credentials with an S3-style 400', async () => {
		const url = await link();
		const before = sim.state.storageRequests.length;
		for (const headers of [
			{ authorization: `Bearer ${s.token}` },
			{ 'x-api-key': API_KEY },
		] as Array<Record<string, string>>) {
			const answer = await fetch(url, { headers });
			expect(answer.status).toBe(400);
			expect(answer.headers.get('content-type')).toBe('application/xml');
			expect(await answer.text()).toMatch(
				/<Error><Code>InvalidArgument<\/Code><Message>Only one auth mechanism allowed/,
			);
		}
		expect((await fetch(url)).status).toBe(200);
		const seen = sim.state.storageRequests.slice(before);
		expect(
			seen.map((r) => [
				r.headers.authorization !== undefined,
				r.headers['x-api-key'] !== undefined,
			]),
		).toEqual([
			[true, false],
			[false, true],
			[false, false],
		]);
		expect(seen.every((r) => !r.path.includes('X-Amz-Signature'))).toBe(true);
	});

	it('serves byte ranges: bytes=N-, bytes=N-M, bytes=-K, and 416 past the end', async () => {
		const url = await link();
		const from = await fetch(url, { headers: { range: 'bytes=100-' } });
		expect(from.status).toBe(206);
		expect(from.headers.get('content-range')).toBe(`bytes 100-${bytes.length - 1}/${bytes.length}`);
		expect(Buffer.from(await from.arrayBuffer()).equals(bytes.subarray(100))).toBe(true);
		const middle = await fetch(url, { headers: { range: 'bytes=10-19' } });
		expect(Buffer.from(await middle.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
		const suffix = await fetch(url, { headers: { range: 'bytes=-50' } });
		expect(suffix.headers.get('content-range')).toBe(
			`bytes ${bytes.length - 50}-${bytes.length - 1}/${bytes.length}`,
		);
		const past = await fetch(url, { headers: { range: `bytes=${bytes.length}-` } });
		expect(past.status).toBe(416);
		expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
	});

	it('refuses forged links and links past their expiry (403)', async () => {
		const url = await link();
		const forged = new URL(url);
		forged.searchParams.set('X-Amz-Expires', '999999');
		const refusedForged = await fetch(forged);
		expect(refusedForged.status).toBe(403);
		expect(await refusedForged.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
		const otherFile = new URL(url);
		otherFile.pathname = otherFile.pathname.replace(/[^/]+$/, 'other.zip.smime');
		expect((await fetch(otherFile)).status).toBe(403);

		clock.now += 59_000;
		expect((await fetch(url)).status).toBe(200);
		clock.now += 2_000;
		const expired = await fetch(url);
		expect(expired.status).toBe(403);
		expect(await expired.text()).toContain('<Message>Request has expired</Message>');

		sim.controls.setPresignedUrlTtl(-1);
		const born = await link();
		sim.controls.setPresignedUrlTtl(60);
		expect((await fetch(born)).status).toBe(403);
		expect((await fetch(await link())).status).toBe(200);
	});

	it('fails downloads and drops connections midway when told to', async () => {
		sim.controls.failNextDownloads(2, 503);
		const url = await link();
		const first = await fetch(url);
		expect(first.status).toBe(503);
		expect(await first.text()).toContain('<Code>SlowDown</Code>');
		expect((await fetch(url, { method: 'HEAD' })).status).toBe(200); // HEAD does not use them up
		expect((await fetch(url)).status).toBe(503);
		expect((await fetch(url)).status).toBe(200);

		sim.controls.resetDownloadOnce(1000);
		const broken = await fetch(url);
		expect(broken.status).toBe(200);
		await expect(broken.arrayBuffer()).rejects.toThrow();
		const resumed = await fetch(url, { headers: { range: 'bytes=1000-' } });
		expect(Buffer.from(await resumed.arrayBuffer()).equals(bytes.subarray(1000))).toBe(true);
	});

	it('deletes files one by one and in bulk, naming those it could not delete', async () => {
		const job = await s.createJob(jobBody('to delete', { fileSplitSize: '64KB' }));
		clock.now += 100;
		sim.controls.settle();
		const names = sim.state.runs.get(job.runId ?? -1)?.fileNames ?? [];
		expect(names.length).toBeGreaterThanOrEqual(3);
		expect((await s.request('DELETE', `/udm/v10/files/${names[0]}`)).status).toBe(204);
		expect((await s.error('DELETE', `/udm/v10/files/${names[0]}`)).status).toBe(404);
		expect(await s.error('DELETE', `/udm/v10/files?filename=${names[1]},${names[0]}`)).toEqual({
			status: 500,
			body: [names[0]],
		});
		expect(
			(await s.request('DELETE', `/udm/v10/files?filename=${names.slice(2).join(',')}`)).status,
		).toBe(204);
		expect(names.some((n) => sim.state.files.has(n))).toBe(false);
	});
});

describe('Genesys simulator: real time', () => {
	it('advances progress with the wall clock', async () => {
		const sim = await startGenesysSimulator({ runDurationMs: 300, certificate: recipient.cert });
		simulators.push(sim);
		const s = await Session.open(sim);
		const job = await s.createJob(jobBody('real time', { media: ['chat'] }));
		const early = await s.json(jobProgress, 'GET', `/udm/v10/export/history/${job.runId}/progress`);
		await new Promise((resolve) => setTimeout(resolve, 150));
		const later = await s.json(jobProgress, 'GET', `/udm/v10/export/history/${job.runId}/progress`);
		expect(later.progress ?? 0).toBeGreaterThan(early.progress ?? 0);
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(
			await s.json(jobProgress, 'GET', `/udm/v10/export/history/${job.runId}/progress`),
		).toEqual({ progress: 100, status: 'Completed' });
	});
});
