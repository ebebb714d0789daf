/**
 * The simulator is only useful if it behaves like Genesys: checked here over plain HTTP, and its
 * exports checked with the real tools (openssl smime -decrypt, unzip, zip -s 0).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRecipient, openssl, tempDir, type Recipient } from '../helpers/openssl';
import { startGenesysSimulator, type GenesysSimulator } from './genesys';

let sim: GenesysSimulator;
let dir: ReturnType<typeof tempDir>;
let recipient: Recipient;
let token: string;

const apiKey = 'sim-api-key';

async function getToken(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
	return fetch(`${sim.baseUrl}/auth/v3/oauth/token`, {
		method: 'POST',
		headers: { 'x-api-key': apiKey, authorization: `Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
		body: new URLSearchParams(form).toString(),
	});
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
	return fetch(`${sim.baseUrl}${path}`, {
		method,
		headers: { 'x-api-key': apiKey, authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
		redirect: 'manual',
	});
}

function jobBody(title: string, fileSplitSize = '64KB', extra: Record<string, unknown> = {}) {
	return { source: 'UCS', type: 'UCS', title, timeFrame: { all: true }, schedulerParam: { immediately: true }, jobParams: { type: 'Interaction', media: [], fileSplitSize, exportAttachments: true }, suspended: false, ...extra };
}

async function waitCompleted(runId: number, prefix = '/udm/v10/export'): Promise<Record<string, unknown>> {
	for (let i = 0; i < 100; i++) {
		const run = (await (await api('GET', `${prefix}/history/${runId}`)).json()) as Record<string, unknown>;
		if (run.status !== 'InProgress') return run;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error('run did not finish');
}

async function uploadCertificate(pem: Buffer): Promise<Response> {
	const boundary = 'sim-test-boundary';
	const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cert.pem"\r\nContent-Type: application/x-x509-ca-cert\r\n\r\n`), pem, Buffer.from(`\r\n--${boundary}--\r\n`)]);
	return fetch(`${sim.baseUrl}/udm/v10/cipher/cert.pem`, { method: 'POST', headers: { 'x-api-key': apiKey, authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
}

beforeAll(async () => {
	dir = tempDir('cx-sim-');
	recipient = makeRecipient(dir.path, 'sim-recipient');
	sim = await startGenesysSimulator({ runDurationMs: 300, interactions: 90, contacts: 600, attachmentBytes: 25_000 });
	token = ((await (await getToken({ grant_type: 'password', username: 'SIMTENANT\\analyst', password: 'sim-password', scope: '*' })).json()) as { access_token: string }).access_token;
});

afterAll(async () => {
	await sim.close();
	dir.remove();
});

describe('Genesys simulator: authentication', () => {
	it('issues tokens for the password and client-credentials grants, and refuses bad ones as Genesys does', async () => {
		const ok = await getToken({ grant_type: 'client_credentials', scope: '*' });
		expect(ok.status).toBe(200);
		expect(await ok.json()).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
		expect((await getToken({ grant_type: 'client_credentials' }, { 'x-api-key': 'wrong' })).status).toBe(403);
		expect((await getToken({ grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from('sim-client:nope').toString('base64')}` })).status).toBe(401);
		const badUser = await getToken({ grant_type: 'password', username: 'SIMTENANT\\analyst', password: 'nope' });
		expect(badUser.status).toBe(400);
		expect(await badUser.json()).toEqual({ error: 'invalid_grant', error_description: 'Bad credentials' });
	});

	it('answers 403 without the API key and 401 without a valid token; expired tokens stop working', async () => {
		expect((await api('GET', '/udm/v10/version', undefined, { 'x-api-key': 'nope' })).status).toBe(403);
		expect((await api('GET', '/udm/v10/version', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
		const own = ((await (await getToken({ grant_type: 'client_credentials' })).json()) as { access_token: string }).access_token;
		expect((await api('GET', '/udm/v10/version', undefined, { authorization: `Bearer ${own}` })).status).toBe(200);
		sim.controls.expireTokensNow();
		expect((await api('GET', '/udm/v10/version', undefined, { authorization: `Bearer ${own}` })).status).toBe(401);
		token = ((await (await getToken({ grant_type: 'client_credentials' })).json()) as { access_token: string }).access_token;
	});

	it('approves authorization-code sign-ins and exchanges the code once', async () => {
		const answer = await fetch(`${sim.baseUrl}/auth/v3/oauth/authorize?response_type=code&client_id=sim-client&redirect_uri=${encodeURIComponent('http://localhost:5678/rest/oauth2-credential/callback')}&state=xyz`, { redirect: 'manual' });
		expect(answer.status).toBe(302);
		const location = new URL(answer.headers.get('location') ?? '');
		expect(location.searchParams.get('state')).toBe('xyz');
		const code = location.searchParams.get('code') ?? '';
		const first = await getToken({ grant_type: 'authorization_code', code, redirect_uri: 'http://localhost:5678/rest/oauth2-credential/callback' });
		const body = (await first.json()) as { refresh_token: string };
		expect(first.status).toBe(200);
		expect((await getToken({ grant_type: 'authorization_code', code })).status).toBe(400);
		expect((await getToken({ grant_type: 'refresh_token', refresh_token: body.refresh_token })).status).toBe(200);
	});
});

describe('Genesys simulator: jobs, runs and files', () => {
	it('fails a run when no certificate is uploaded, as a tenant would', async () => {
		const job = (await (await api('POST', '/udm/v10/export/jobs', jobBody('no cert'))).json()) as { id: number };
		const runs = (await (await api('GET', `/udm/v10/export/history?jobId=${job.id}`)).json()) as { items: Array<{ id: number }> };
		const run = await waitCompleted(runs.items[0].id);
		expect(run).toMatchObject({ status: 'Failed', description: expect.stringMatching(/certificate/) });
	});

	it('validates job bodies', async () => {
		const bad = await api('POST', '/udm/v10/export/jobs', { ...jobBody('x'), title: '' });
		expect(bad.status).toBe(400);
		expect(await bad.json()).toEqual({ status: { code: 400, message: 'title is required' } });
		expect((await api('POST', '/udm/v10/export/jobs', jobBody('x', 'lots'))).status).toBe(400);
	});

	it('runs a job: progress advances with time, history lists it, ≥10 encrypted parts that openssl, zip and unzip accept', async () => {
		expect((await uploadCertificate(recipient.cert)).status).toBe(204);
		expect(await (await api('GET', '/udm/v10/cipher')).json()).toMatchObject({ name: 'cert.pem', size: recipient.cert.length });
		const job = (await (await api('POST', '/udm/v10/export/jobs', jobBody('Nightly'))).json()) as { id: number };
		const history = (await (await api('GET', `/udm/v10/export/history?jobId=${job.id}`)).json()) as { count: number; items: Array<{ id: number; status: string; parentId: number }> };
		expect(history.count).toBe(1);
		const runId = history.items[0].id;
		expect(history.items[0]).toMatchObject({ status: 'InProgress', parentId: job.id });
		const early = (await (await api('GET', `/udm/v10/export/history/${runId}/progress`)).json()) as { progress: number };
		await new Promise((r) => setTimeout(r, 150));
		const later = (await (await api('GET', `/udm/v10/export/history/${runId}/progress`)).json()) as { progress: number };
		expect(later.progress).toBeGreaterThan(early.progress);
		expect(await waitCompleted(runId)).toMatchObject({ status: 'Completed', progress: 100 });

		const files = (await (await api('GET', `/udm/v10/file-metadatas?historyId=${runId}&size=1000`)).json()) as { items: Array<{ name: string; size: number }> };
		const names = files.items.map((f) => f.name).sort();
		expect(names.length).toBeGreaterThanOrEqual(10);
		expect(names[names.length - 1]).toMatch(/^export-[0-9a-f-]{36}\.zip\.smime$/);
		expect(names[0]).toMatch(/\.z01\.smime$/);

		const plainNames: string[] = [];
		for (const name of names) {
			const redirect = await api('GET', `/udm/v10/files/${encodeURIComponent(name)}`);
			expect(redirect.status).toBe(303);
			const location = redirect.headers.get('location') ?? '';
			expect(new URL(location).origin).toBe(sim.storageUrl);
			const bytes = Buffer.from(await (await fetch(location)).arrayBuffer());
			const encrypted = join(dir.path, name);
			writeFileSync(encrypted, bytes);
			const plain = join(dir.path, name.replace(/\.smime$/, ''));
			openssl(['smime', '-decrypt', '-binary', '-inkey', recipient.keyPath, '-in', encrypted, '-out', plain]);
			plainNames.push(plain);
		}
		expect(readFileSync(plainNames[0]).subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x07, 0x08]));
		const last = plainNames[plainNames.length - 1];
		const merged = join(dir.path, 'sim-merged.zip');
		// The attachments entry spans more than two parts, which Info-ZIP's own merge gets wrong: merge with ours.
		execFileSync('node', [join(__dirname, '../../bin/cx-export.js'), 'reassemble', ...plainNames, '-o', merged]);
		execFileSync('unzip', ['-tq', merged]);
		const content = sim.state.exportContent(runId);
		expect(content.entries.map((e) => e.name)).toEqual(execFileSync('zipinfo', ['-1', merged]).toString().trim().split('\n'));
		for (const entry of content.entries) {
			const text = execFileSync('unzip', ['-p', merged, entry.name], { maxBuffer: 1 << 28 }).toString('utf8');
			expect(text.trimEnd().split('\n').map((line) => JSON.parse(line))).toEqual(entry.records);
		}
		expect(content.entries.map((e) => e.name)).toEqual([`EmailIn-${job.id}.json`, `EmailIn-Attachment-${job.id}.json`, `Chat-${job.id}.json`, `PhoneCall-${job.id}.json`, `Contact-${job.id}.json`]);
		expect(last.endsWith('.zip')).toBe(true);
	});

	it('writes parts that Info-ZIP itself merges when no entry spans more than two of them', async () => {
		const job = (await (await api('POST', '/udm/v10/export/jobs', { ...jobBody('Contacts', '32KB'), jobParams: { type: 'Contact', media: [], fileSplitSize: '32KB' } })).json()) as { id: number };
		const runId = ((await (await api('GET', `/udm/v10/export/history?jobId=${job.id}`)).json()) as { items: Array<{ id: number }> }).items[0].id;
		await waitCompleted(runId);
		const names = sim.state.runs.get(runId)?.fileNames ?? [];
		const work = join(dir.path, `contacts-${runId}`);
		execFileSync('mkdir', ['-p', work]);
		for (const name of names) {
			const encrypted = join(work, name);
			writeFileSync(encrypted, sim.state.files.get(name)?.bytes ?? Buffer.alloc(0));
			openssl(['smime', '-decrypt', '-binary', '-inkey', recipient.keyPath, '-in', encrypted, '-out', encrypted.replace(/\.smime$/, '')]);
		}
		const zipName = names[names.length - 1].replace(/\.smime$/, '');
		expect(names.length).toBeGreaterThan(1);
		execFileSync('zip', ['-q', '-s', '0', zipName, '--out', 'merged.zip'], { cwd: work });
		execFileSync('unzip', ['-tq', 'merged.zip'], { cwd: work });
		expect(execFileSync('zipinfo', ['-1', 'merged.zip'], { cwd: work }).toString().trim().split('\n')).toEqual([`Contact-${job.id}.json`, `ContactAttribute-${job.id}.json`]);
	});

	it('serves the same API under the v4 and CDDS paths', async () => {
		for (const [exportPrefix, commonPrefix] of [
			['/udm/v4/export', '/udm/v3'],
			['/data-download/v4/export', '/data-download/v3'],
		]) {
			const job = (await (await api('POST', `${exportPrefix}/jobs`, jobBody(`flavour ${commonPrefix}`, '1MB'))).json()) as { id: number };
			expect((await (await api('GET', `${exportPrefix}/jobs/${job.id}`)).json()) as object).toMatchObject({ id: job.id });
			const runId = ((await (await api('GET', `${exportPrefix}/history?jobId=${job.id}`)).json()) as { items: Array<{ id: number }> }).items[0].id;
			await waitCompleted(runId, exportPrefix);
			const files = (await (await api('GET', `${commonPrefix}/file-metadatas?historyId=${runId}`)).json()) as { items: Array<{ name: string }> };
			expect(files.items).toHaveLength(1);
			expect((await api('GET', `${commonPrefix}/files/${files.items[0].name}`)).status).toBe(303);
			expect((await api('GET', `${commonPrefix}/version`)).status).toBe(200);
			expect((await api('GET', `${commonPrefix}/resources/labels`)).status).toBe(404);
		}
	});

	it('suspends, resumes, cancels and deletes jobs; deletes runs and files', async () => {
		const job = (await (await api('POST', '/udm/v10/export/jobs', jobBody('lifecycle', '1MB', { schedulerParam: { immediately: false, cron: '0 0 2 * * ?' } }))).json()) as { id: number; status: string };
		expect(job.status).toBe('Scheduled');
		expect((await api('POST', `/udm/v10/export/jobs/suspend/${job.id}`)).status).toBe(204);
		expect(((await (await api('GET', `/udm/v10/export/jobs/${job.id}`)).json()) as { status: string }).status).toBe('Suspended');
		expect((await api('POST', `/udm/v10/export/jobs/resume/${job.id}`)).status).toBe(204);
		const run = sim.controls.triggerSchedule(job.id);
		expect((await api('POST', `/udm/v10/export/jobs/cancel/${job.id}`)).status).toBe(204);
		expect(((await (await api('GET', `/udm/v10/export/history/${run.id}`)).json()) as { status: string }).status).toBe('Cancelled');
		expect((await api('DELETE', `/udm/v10/export/history/${run.id}`)).status).toBe(204);
		expect((await api('GET', `/udm/v10/export/history/${run.id}`)).status).toBe(404);
		expect((await api('DELETE', `/udm/v10/export/jobs/${job.id}`)).status).toBe(204);
		expect((await api('GET', `/udm/v10/export/jobs/${job.id}`)).status).toBe(404);
	});
});

describe('Genesys simulator: the storage host', () => {
	let location: string;
	let name: string;

	beforeAll(async () => {
		const job = (await (await api('POST', '/udm/v10/export/jobs', jobBody('storage', '1MB'))).json()) as { id: number };
		const runId = ((await (await api('GET', `/udm/v10/export/history?jobId=${job.id}`)).json()) as { items: Array<{ id: number }> }).items[0].id;
		await waitCompleted(runId);
		name = sim.state.runs.get(runId)?.fileNames[0] ?? '';
		location = ((await (await api('GET', `/udm/v10/files?filename=${encodeURIComponent(name)}`)).json()) as { path: string }).path;
	});

	it('refuses requests that carry Genesys credentials, with S3-style 400', async () => {
		for (const headers of [{ authorization: `Bearer ${token}` }, { 'x-api-key': apiKey }] as Array<Record<string, string>>) {
			const answer = await fetch(location, { headers });
			expect(answer.status).toBe(400);
			expect(await answer.text()).toContain('<Code>InvalidArgument</Code>');
		}
		expect((await fetch(location)).status).toBe(200);
	});

	it('serves ranges and refuses forged or expired links', async () => {
		const whole = Buffer.from(await (await fetch(location)).arrayBuffer());
		const part = await fetch(location, { headers: { range: 'bytes=100-' } });
		expect(part.status).toBe(206);
		expect(part.headers.get('content-range')).toBe(`bytes 100-${whole.length - 1}/${whole.length}`);
		expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(100))).toBe(true);
		expect((await fetch(location.replace(/X-Amz-Signature=[0-9a-f]/, 'X-Amz-Signature=g'))).status).toBe(403);
		sim.controls.setPresignedUrlTtl(-1);
		const expired = ((await (await api('GET', `/udm/v10/files?filename=${encodeURIComponent(name)}`)).json()) as { path: string }).path;
		sim.controls.setPresignedUrlTtl(60);
		const refused = await fetch(expired);
		expect(refused.status).toBe(403);
		expect(await refused.text()).toContain('Request has expired');
	});

	it('drops a download midway when told to, and answers bursts of errors', async () => {
		sim.controls.resetDownloadOnce(1000);
		await expect(fetch(location).then((r) => r.arrayBuffer())).rejects.toThrow();
		sim.controls.failNextDownloads(1, 503);
		expect((await fetch(location)).status).toBe(503);
		sim.controls.failNextRequests(2, 429, { retryAfterSeconds: 1 });
		const limited = await api('GET', '/udm/v10/version');
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('1');
		expect((await api('GET', '/udm/v10/version')).status).toBe(429);
		expect((await api('GET', '/udm/v10/version')).status).toBe(200);
		expect(sim.state.storageRequests.filter((r) => r.headers.authorization !== undefined || r.headers['x-api-key'] !== undefined)).toHaveLength(2);
	});
});
