import { describe, expect, it } from 'vitest';
import { CxError } from '../../src/errors';
import {
	GenesysClient,
	runState,
	type ApiRequest,
	type JobRequest,
} from '../../src/genesys/client';
import { ApiError as GenesysApiError } from '../../src/errors';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
	new Response(body === undefined ? null : JSON.stringify(body), {
		status,
		headers: { 'content-type': 'application/json', ...headers },
	});

/** A client over a scripted `send`; every request is recorded. */
function clientWith(
	answer: (request: ApiRequest, index: number) => Response | Promise<Response>,
	extra: Partial<ConstructorParameters<typeof GenesysClient>[0]> = {},
) {
	const requests: ApiRequest[] = [];
	const sleeps: number[] = [];
	const client = new GenesysClient({
		baseUrl: 'https://gapi-euw1.genesyscloud.com',
		send: async (request) => {
			requests.push(request);
			return answer(request, requests.length - 1);
		},
		sleep: async (ms) => {
			sleeps.push(ms);
		},
		retry: { random: () => 0.5 },
		...extra,
	});
	return { client, requests, sleeps };
}

const job: JobRequest = {
	source: 'UCS',
	type: 'UCS',
	title: 'Nightly',
	timeFrame: { all: true },
	schedulerParam: { immediately: true },
	jobParams: {
		type: 'Interaction',
		media: ['chat', 'email'],
		fileSplitSize: '100 mb',
		exportAttachments: true,
	},
	suspended: false,
};

describe('paths per API flavour', () => {
	const cases = [
		['udm-v10', '/udm/v10/export/jobs', '/udm/v10/file-metadatas'],
		['udm-v4', '/udm/v4/export/jobs', '/udm/v3/file-metadatas'],
		['cdds', '/data-download/v4/export/jobs', '/data-download/v3/file-metadatas'],
	] as const;
	for (const [flavour, jobs, files] of cases) {
		it(`${flavour}: jobs at ${jobs}, files at ${files}`, async () => {
			const { client, requests } = clientWith(
				(request) =>
					/\/history\/7$/.test(request.url.pathname)
						? json(200, { id: 7, status: 'Completed', fileName: 'export-7.zip.smime' })
						: json(200, { count: 0, from: 0, size: 0, items: [] }),
				{ flavour },
			);
			await client.listJobs({ title: 'x', from: 0, size: 10 });
			await client.listFiles({ historyId: '7' });
			expect(requests[0].url.pathname).toBe(jobs);
			expect(requests[0].url.searchParams.get('title')).toBe('x');
			const listing = requests[requests.length - 1];
			expect(listing.url.pathname).toBe(files);
			if (flavour === 'udm-v10') {
				expect(listing.url.searchParams.get('historyId')).toBe('7');
			} else {
				// No historyId filter outside v10: the run's export name instead.
				expect(requests.map((r) => r.url.pathname)).toEqual([
					jobs,
					jobs.replace(/jobs$/, 'history/7'),
					files,
				]);
				expect(listing.url.searchParams.has('historyId')).toBe(false);
				expect(listing.url.searchParams.get('name')).toBe('export-7');
			}
		});
	}

	it('keeps a path prefix of the base URL and drops a trailing slash', async () => {
		const { client, requests } = clientWith(() => json(200, { version: '10.1' }), {
			baseUrl: 'https://proxy.example/genesys/',
		});
		expect((await client.version()).version).toBe('10.1');
		expect(requests[0].url.href).toBe('https://proxy.example/genesys/udm/v10/version');
	});

	it('says labels and attributes exist only in v10, before sending anything', async () => {
		const { client, requests } = clientWith(() => json(200, {}), { flavour: 'cdds' });
		await expect(client.labels()).rejects.toThrow(/only in the User Data Management v10 API/);
		expect(requests).toHaveLength(0);
	});

	it('refuses a base URL that is not http(s)', () => {
		expect(
			() => new GenesysClient({ baseUrl: 'ftp://x', send: async () => json(200, {}) }),
		).toThrow(/http/);
		expect(
			() => new GenesysClient({ baseUrl: 'gapi-use1', send: async () => json(200, {}) }),
		).toThrow(/not a URL/);
	});
});

describe('jobs', () => {
	it('creates a job with the documented body, the split size passed through as written', async () => {
		const { client, requests } = clientWith(() =>
			json(202, { id: 42, title: 'Nightly', status: 'SCHEDULED' }),
		);
		const created = await client.createJob(job);
		expect(created.id).toBe(42);
		expect(requests[0].method).toBe('POST');
		expect(requests[0].headers['content-type']).toBe('application/json');
		expect(JSON.parse(String(requests[0].body))).toEqual(job);
	});

	it('refuses an incomplete or inconsistent job before sending', async () => {
		const { client, requests } = clientWith(() => json(202, { id: 1 }));
		await expect(client.createJob({ ...job, title: '' })).rejects.toThrow(/title/);
		await expect(client.createJob({ ...job, timeFrame: { all: false } })).rejects.toThrow(
			/start or an end date/,
		);
		await expect(
			client.createJob({
				...job,
				timeFrame: { all: false, dateFrom: '2026-11-02', dateTo: '2026-11-01' },
			}),
		).rejects.toThrow(/starts .* after it ends/);
		await expect(
			client.createJob({ ...job, timeFrame: { all: false, dateFrom: 'yesterday' } }),
		).rejects.toThrow(/not a date/);
		await expect(client.getJob('12; DROP')).rejects.toThrow(/not a job or run ID/);
		expect(requests).toHaveLength(0);
	});

	it('cancel, suspend, resume and delete hit their documented paths', async () => {
		const { client, requests } = clientWith(() => new Response(null, { status: 204 }));
		await client.cancelJob(5);
		await client.suspendJob(5);
		await client.resumeJob('5');
		await client.deleteJob(5);
		await client.deleteJobs([5, 6]);
		expect(requests.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).toEqual([
			'POST /udm/v10/export/jobs/cancel/5',
			'POST /udm/v10/export/jobs/suspend/5',
			'POST /udm/v10/export/jobs/resume/5',
			'DELETE /udm/v10/export/jobs/5',
			'DELETE /udm/v10/export/jobs?jobIDs=5%2C6',
		]);
	});

	it('clones a job: reads it, creates a copy with every returned field and only the changes', async () => {
		const returned = {
			id: 9,
			title: 'Weekly',
			source: 'UCS',
			type: 'UCS',
			media: ['voice'],
			fileSplitSize: '50MB',
			dateFrom: '2026-10-01T00:00:00Z',
			dateTo: '2026-10-31T00:00:00Z',
			exportAttachments: false,
			newerField: { kept: true },
			schedulerParam: { cron: '0 0 2 * * ?', startDate: '2026-10-01T00:00:00Z' },
			jobParams: {
				type: 'Interaction',
				media: ['voice'],
				fileSplitSize: '50MB',
				exportAttachments: false,
			},
			suspended: true,
		};
		const { client, requests } = clientWith((request) =>
			request.method === 'GET'
				? json(200, returned)
				: json(202, { id: 10, title: 'Weekly (copy)' }),
		);
		const clone = await client.cloneJob(9, { dateTo: '2026-11-30T00:00:00Z' });
		expect(clone.id).toBe(10);
		const { id, ...rest } = returned;
		expect(id).toBe(9);
		expect(JSON.parse(String(requests[1].body))).toEqual({
			...rest,
			title: 'Weekly (copy)',
			dateTo: '2026-11-30T00:00:00Z',
			timeFrame: { all: false, dateFrom: '2026-10-01T00:00:00Z', dateTo: '2026-11-30T00:00:00Z' },
		});
	});

	it('never makes up the schedule, the data type or the suspended state the tenant did not return (JobInfo as the reference has it)', async () => {
		const jobInfo = {
			id: 9,
			title: 'Weekly',
			source: 'UCS',
			type: 'UCS',
			media: ['voice'],
			dateFrom: null,
			dateTo: null,
			exportAttachments: true,
			status: 'Scheduled',
		};
		const { client, requests } = clientWith((request) =>
			request.method === 'GET' ? json(200, jobInfo) : json(200, { ...jobInfo, title: 'x' }),
		);
		await expect(client.updateJob(9, { title: 'Renamed' })).rejects.toThrow(
			/did not return the schedule of job 9 \(schedulerParam\).*"Run Immediately", "Cron Expression" or "Start Date"/,
		);
		await expect(client.updateJob(9, { title: 'Renamed', cron: '0 0 3 * * ?' })).rejects.toThrow(
			/the data type of job 9 \(jobParams.type\).*"Data Type"/,
		);
		await expect(
			client.updateJob(9, { title: 'Renamed', cron: '0 0 3 * * ?', dataType: 'Interaction' }),
		).rejects.toThrow(/whether the job is suspended.*"Suspended"/);
		expect(requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
		await client.updateJob(9, {
			title: 'Renamed',
			cron: '0 0 3 * * ?',
			dataType: 'Interaction',
			suspended: false,
		});
		const body = JSON.parse(String(requests.find((r) => r.method === 'PUT')?.body));
		expect(body).toEqual({
			...jobInfo,
			title: 'Renamed',
			timeFrame: { all: true },
			schedulerParam: { immediately: false, cron: '0 0 3 * * ?' },
			jobParams: { type: 'Interaction', media: ['voice'], exportAttachments: true },
			suspended: false,
		});
	});

	it('writes the body each version takes: v4 and CDDS have suspended as a string, no top-level type, no exportAttachments', async () => {
		for (const flavour of ['udm-v4', 'cdds'] as const) {
			const { client, requests } = clientWith(() => json(202, { id: 1 }), { flavour });
			await client.createJob({ ...job, suspended: true });
			expect(JSON.parse(String(requests[0].body))).toEqual({
				source: 'UCS',
				title: 'Nightly',
				timeFrame: { all: true },
				fileSplitSize: '100 mb',
				schedulerParam: { immediately: true },
				jobParams: { fileSplitSize: '100 mb', type: 'Interaction', media: ['chat', 'email'] },
				suspended: 'true',
			});
			await expect(
				client.createJob({ ...job, jobParams: { ...job.jobParams, exportAttachments: false } }),
			).rejects.toThrow(/setting of the User Data Management v10 API only/);
		}
		const { client } = clientWith(() => json(202, { id: 1 }));
		await expect(client.createJob({ ...job, type: undefined })).rejects.toThrow(
			/type \(the job type: UCS or DataSync\) is required/,
		);
	});

	it('sends "all media types" as the full list the tenant offers, not an empty list', async () => {
		const { client, requests } = clientWith((request) =>
			request.url.pathname.endsWith('/data/sub-types')
				? json(200, [{ name: 'email' }, { name: 'chat' }, { name: 'sms', enabled: false }])
				: json(202, { id: 1 }),
		);
		await client.createJob({ ...job, jobParams: { ...job.jobParams, media: 'all' } });
		expect(requests[0].url.searchParams.get('source')).toBe('UCS');
		expect(requests[0].url.searchParams.get('dataType')).toBe('Interaction');
		expect(JSON.parse(String(requests[1].body)).jobParams.media).toEqual(['email', 'chat']);
	});

	it('a list answered 204 is an empty page', async () => {
		const { client } = clientWith(() => new Response(null, { status: 204 }));
		expect(await client.listRuns()).toEqual({ count: 0, from: 0, size: 0, items: [] });
	});
});

describe('errors and retries', () => {
	it('retries 503 and 429 honouring Retry-After, then succeeds', async () => {
		const { client, requests, sleeps } = clientWith((_, i) =>
			i === 0
				? json(503, {})
				: i === 1
					? json(429, {}, { 'retry-after': '3' })
					: json(200, { id: 1 }),
		);
		expect((await client.getRun(1)).id).toBe(1);
		expect(requests).toHaveLength(3);
		expect(sleeps[1]).toBe(3000);
	});

	it('retries a dropped connection', async () => {
		const { client } = clientWith((_, i) => {
			if (i === 0)
				throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
			return json(200, { id: 3 });
		});
		expect((await client.getJob(3)).id).toBe(3);
	});

	it('gives up after the retry budget with the last status, Genesys code and a hint', async () => {
		const { client, requests } = clientWith(() =>
			json(503, { status: { code: 500, message: 'maintenance' } }),
		);
		const error = await client.getJob(1).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(GenesysApiError);
		expect((error as GenesysApiError).httpStatus).toBe(503);
		expect(String(error)).toMatch(/maintenance/);
		expect(requests.length).toBe(6);
	});

	it('403 → check the API key; 401 → check client and user; 404 on a file → retention', async () => {
		const cases: Array<[number, () => Promise<unknown>, RegExp]> = [];
		const { client } = clientWith((request) => {
			const status = Number(
				request.url.searchParams.get('status') ?? request.url.pathname.split('/').pop(),
			);
			return json(status, { status: { code: 7, message: 'nope' } });
		});
		const { client: files } = clientWith(() =>
			json(404, { status: { code: 404, message: 'no such file' } }),
		);
		cases.push([403, () => client.listJobs({ status: 403 }), /API key/]);
		cases.push([401, () => client.listJobs({ status: 401 }), /client ID and secret/]);
		cases.push([404, () => files.getDownloadUrl('export-1.zip.smime'), /30-day retention/]);
		for (const [status, call, hint] of cases) {
			const error = (await call().catch((e: unknown) => e)) as GenesysApiError;
			expect(error.httpStatus).toBe(status);
			expect(error.message).toMatch(hint);
		}
	});

	it('an answer of the wrong shape names the field and suggests checking the API version', async () => {
		const { client } = clientWith(() => json(200, { id: 'not a number' }));
		await expect(client.getJob(1)).rejects.toThrow(/id: .*check the base URL and the API version/);
		const { client: html } = clientWith(() => new Response('<html>login</html>', { status: 200 }));
		await expect(html.getJob(1)).rejects.toThrow(/not JSON/);
	});
});

describe('waiting for a run', () => {
	it('polls progress until completed, then returns the run', async () => {
		const progress = [10, 60, 100];
		const seen: number[] = [];
		const { client, sleeps } = clientWith((request) => {
			if (request.url.pathname.endsWith('/progress')) {
				const p = progress.shift()!;
				return json(200, { progress: p, status: p === 100 ? 'COMPLETED' : 'IN_PROGRESS' });
			}
			return json(200, { id: 7, status: 'COMPLETED', fileName: 'export-x.zip.smime' });
		});
		const run = await client.waitForRun(7, {
			pollIntervalMs: 5000,
			onProgress: (p) => seen.push(p.progress ?? -1),
		});
		expect(run.fileName).toBe('export-x.zip.smime');
		expect(seen).toEqual([10, 60, 100]);
		expect(sleeps).toEqual([5000, 5000]);
	});

	it('times out naming the last progress', async () => {
		let clock = 0;
		const { client } = clientWith(() => json(200, { progress: 40, status: 'IN_PROGRESS' }), {
			now: () => clock,
			sleep: async (ms) => {
				clock += ms;
			},
		});
		const error = (await client
			.waitForRun(7, { pollIntervalMs: 1000, timeoutMs: 5000 })
			.catch((e: unknown) => e)) as CxError;
		expect(error.code).toBe('TIMEOUT');
		expect(error.message).toMatch(/still IN_PROGRESS at 40%/);
	});

	it('finds the run a job started, then waits for it', async () => {
		let listed = 0;
		const { client } = clientWith((request) => {
			if (request.url.pathname.endsWith('/history')) {
				listed++;
				return json(
					200,
					listed < 2
						? { count: 0, items: [] }
						: {
								count: 1,
								items: [
									{
										id: 70,
										parentId: 7,
										status: 'IN_PROGRESS',
										createdDate: new Date().toISOString(),
									},
								],
							},
				);
			}
			if (request.url.pathname.endsWith('/progress'))
				return json(200, { progress: 100, status: 'FAILED' });
			return json(200, { id: 70, parentId: 7, status: 'FAILED' });
		});
		const run = await client.waitForJobRun(7, Date.now(), { pollIntervalMs: 1 });
		expect(run.id).toBe(70);
		expect(runState(run.status)).toBe('failed');
	});

	it('runState reads the words of every flavour', () => {
		expect(['COMPLETED', 'Completed', 'SUCCESS', 'done'].map(runState)).toEqual([
			'completed',
			'completed',
			'completed',
			'completed',
		]);
		expect(['FAILED', 'Error'].map(runState)).toEqual(['failed', 'failed']);
		expect(['CANCELED', 'Cancelled'].map(runState)).toEqual(['cancelled', 'cancelled']);
		expect(['IN_PROGRESS', 'Scheduled', null, undefined].map(runState)).toEqual([
			'running',
			'running',
			'running',
			'running',
		]);
	});
});

describe('paging', () => {
	it('reads every page until the count, and stops at a limit', async () => {
		const items = Array.from({ length: 250 }, (_, i) => ({ id: i }));
		const { client, requests } = clientWith((request) => {
			const from = Number(request.url.searchParams.get('from'));
			const size = Number(request.url.searchParams.get('size'));
			return json(200, { count: items.length, from, size, items: items.slice(from, from + size) });
		});
		const all: number[] = [];
		for await (const job of client.all((q) => client.listJobs(q))) all.push(job.id);
		expect(all).toEqual(items.map((i) => i.id));
		expect(requests).toHaveLength(3);
		const some: number[] = [];
		for await (const job of client.all((q) => client.listJobs(q), { limit: 120 }))
			some.push(job.id);
		expect(some).toHaveLength(120);
		expect(requests.slice(3).map((r) => r.url.searchParams.get('size'))).toEqual(['100', '20']);
	});
});

describe('downloads', () => {
	const content = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));

	function storage(
		behaviour: { expireFirst?: boolean; breakAt?: number; ignoreRange?: boolean } = {},
	) {
		const seen: Array<{ url: string; headers: Record<string, string> }> = [];
		let urls = 0;
		let broke = false;
		const fetchStorage = (async (input: string | URL, init?: RequestInit) => {
			const url = new URL(String(input));
			const headers = (init?.headers ?? {}) as Record<string, string>;
			seen.push({ url: url.href, headers });
			if (behaviour.expireFirst && url.searchParams.get('n') === '1')
				return new Response('<Error><Message>Request has expired</Message></Error>', {
					status: 403,
				});
			const range = /bytes=(\d+)-/.exec(headers.range ?? '');
			const start = range && !behaviour.ignoreRange ? Number(range[1]) : 0;
			const body = content.subarray(start);
			const breaking = behaviour.breakAt !== undefined && !broke && start === 0;
			if (breaking) broke = true;
			let pulls = 0;
			const stream = new ReadableStream<Uint8Array>({
				pull(controller) {
					if (breaking) {
						// The first pull delivers part of the file; the next finds the connection gone.
						if (pulls++ === 0) controller.enqueue(body.subarray(0, behaviour.breakAt));
						else
							controller.error(
								Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
							);
						return;
					}
					controller.enqueue(body);
					controller.close();
				},
			});
			return start > 0
				? new Response(stream, {
						status: 206,
						headers: {
							'content-range': `bytes ${start}-${content.length - 1}/${content.length}`,
							'content-length': String(body.length),
						},
					})
				: new Response(stream, {
						status: 200,
						headers: { 'content-length': String(content.length) },
					});
		}) as typeof fetch;
		const api = clientWith(
			(request) => {
				expect(request.url.pathname).toBe('/udm/v10/files/export-1.z01.smime');
				return new Response(null, {
					status: 303,
					headers: {
						location: `https://storage.example/bucket/export-1.z01.smime?n=${++urls}&sig=abc`,
					},
				});
			},
			{ fetch: fetchStorage },
		);
		return { ...api, seen };
	}

	async function read(chunks: AsyncGenerator<Buffer>) {
		const parts: Buffer[] = [];
		for await (const chunk of chunks) parts.push(chunk);
		return Buffer.concat(parts);
	}

	it('follows the 303 to storage without any Genesys header', async () => {
		const { client, seen } = storage();
		expect((await read(client.downloadFile('export-1.z01.smime').chunks)).equals(content)).toBe(
			true,
		);
		expect(seen).toHaveLength(1);
		expect(Object.keys(seen[0].headers).map((h) => h.toLowerCase())).not.toContain('authorization');
		expect(Object.keys(seen[0].headers).map((h) => h.toLowerCase())).not.toContain('x-api-key');
	});

	it('asks Genesys for a fresh link when the storage says the old one expired', async () => {
		const { client, seen, requests } = storage({ expireFirst: true });
		expect((await read(client.downloadFile('export-1.z01.smime').chunks)).equals(content)).toBe(
			true,
		);
		expect(requests).toHaveLength(2);
		expect(seen.map((s) => new URL(s.url).searchParams.get('n'))).toEqual(['1', '2']);
	});

	it('resumes a broken download with Range, bytes exact', async () => {
		const { client, seen } = storage({ breakAt: 30_000 });
		expect((await read(client.downloadFile('export-1.z01.smime').chunks)).equals(content)).toBe(
			true,
		);
		expect(
			seen.map((s) => s.headers.range),
			JSON.stringify(seen),
		).toEqual([undefined, 'bytes=30000-']);
	});

	it('restarts and skips when the storage ignores Range', async () => {
		const { client } = storage({ breakAt: 30_000, ignoreRange: true });
		expect((await read(client.downloadFile('export-1.z01.smime').chunks)).equals(content)).toBe(
			true,
		);
	});

	it('a file Genesys no longer has: 404 with the retention hint', async () => {
		const { client } = clientWith(() =>
			json(404, { status: { code: 404, message: 'File not found' } }),
		);
		await expect(read(client.downloadFile('export-old.zip.smime').chunks)).rejects.toThrow(
			/30-day retention/,
		);
	});
});

describe('certificates', () => {
	it('uploads the PEM as the multipart field "file"', async () => {
		const { client, requests } = clientWith(() => json(201, 'ok'));
		const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
		await client.uploadCertificate('exports.pem', pem);
		const body = String(requests[0].body);
		expect(requests[0].url.pathname).toBe('/udm/v10/cipher/exports.pem');
		expect(requests[0].headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
		expect(body).toContain('Content-Disposition: form-data; name="file"; filename="exports.pem"');
		expect(body).toContain(pem);
	});

	it('refuses to upload a private key or something that is not a certificate', async () => {
		const { client, requests } = clientWith(() => json(201, 'ok'));
		await expect(
			client.uploadCertificate(
				'k.pem',
				'-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n',
			),
		).rejects.toThrow(/private key/);
		await expect(client.uploadCertificate('k.pem', 'hello')).rejects.toThrow(
			/not a PEM certificate/,
		);
		expect(requests).toHaveLength(0);
	});

	it('no certificate uploaded yet: undefined, not an error', async () => {
		const { client } = clientWith(() => json(404, { status: { code: 404, message: 'not found' } }));
		expect(await client.getCertificate()).toBeUndefined();
	});
});

it("reads data types in the v3 shape ({name, source}) as {label, value}, and keeps only the run's files", async () => {
	const answers: Record<string, unknown> = {
		'/udm/v3/data/types': [{ name: 'Interaction', source: 'UCS' }],
		'/udm/v4/export/history/7': { id: 7, status: 'Completed', fileName: 'a.zip.smime' },
		'/udm/v3/file-metadatas': {
			count: 2,
			items: [
				{ name: 'a.zip.smime', historyId: 7 },
				{ name: 'b.zip.smime', historyId: 8 },
			],
		},
	};
	const client = new GenesysClient({
		baseUrl: 'https://gapi-use1.genesyscloud.com',
		flavour: 'udm-v4',
		send: async (request) =>
			new Response(JSON.stringify(answers[request.url.pathname] ?? {}), {
				status: 200,
				headers: { 'content-type': 'application/json' },
			}),
	});
	expect(await client.types()).toEqual([
		expect.objectContaining({ label: 'Interaction', value: 'Interaction' }),
	]);
	expect((await client.runFiles(7)).map((f) => f.name)).toEqual(['a.zip.smime']);
});
