/**
 * The Genesys export client: User Data Management (UDM v10, the deprecated v4) and the older CDDS
 * API behind one set of calls. How a request reaches Genesys with credentials is the caller's
 * `send` (a token-caching fetch for the CLI and tests, n8n's authenticated request helper in the
 * nodes); everything else lives here: paths per API flavour, retries with backoff, error messages
 * with hints, response validation, paging, waiting for runs, and downloads that follow the 303 to
 * the storage host without any credential, resume after a break and ask for a fresh pre-signed URL
 * when the old one expired.
 */
import { z } from 'zod';
import { CxError } from '../errors';
import { resumableDownload } from '../http/download';
import { describeUrl, fetchFollowingRedirects } from '../http/redirect';
import { httpDecision, retrying, type RetryOptions } from '../http/retry';
import { TokenSource, type AuthOptions, type GenesysCredentials } from './auth';
import { genesysError, GenesysApiError, type ErrorContext } from './errors';
import {
	certificateInfo,
	jobInfo,
	jobProgress,
	keyValueItem,
	pagedResponse,
	preSignedUri,
	subType,
	versionInfo,
	type CertificateInfo,
	type JobInfo,
	type JobProgress,
	type KeyValueItem,
	type PagedResponse,
	type SubType,
	type VersionInfo,
} from './models';

/** Which API the tenant speaks. UDM v10 is current; v4 and CDDS are deprecated but still served. */
export type ApiFlavour = 'udm-v10' | 'udm-v4' | 'cdds';

export const API_FLAVOURS: Readonly<Record<ApiFlavour, { name: string; exportPath: string; commonPath: string; v10Only: boolean }>> = Object.freeze({
	'udm-v10': { name: 'User Data Management v10', exportPath: '/udm/v10/export', commonPath: '/udm/v10', v10Only: true },
	'udm-v4': { name: 'User Data Management v4 (deprecated)', exportPath: '/udm/v4/export', commonPath: '/udm/v3', v10Only: false },
	cdds: { name: 'Cloud Data Download Service (deprecated)', exportPath: '/data-download/v4/export', commonPath: '/data-download/v3', v10Only: false },
});

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRequest {
	method: HttpMethod;
	url: URL;
	headers: Record<string, string>;
	body?: string | Buffer;
	/** The caller reads the body as a stream (a large answer): do not buffer it. */
	stream?: boolean;
}

/**
 * Sends one request to the Genesys API host with the Genesys credentials (`Authorization` and
 * `x-api-key`) and returns its response as is: no redirects followed, no retries, any status.
 * A 401 should already have been given one token refresh.
 */
export type Send = (request: ApiRequest) => Promise<Response>;

/** A `Send` over fetch with a token source: the CLI's and the tests' way to reach Genesys. */
export function fetchSender(credentials: GenesysCredentials, options: AuthOptions = {}): Send {
	const tokens = new TokenSource(credentials, options);
	const doFetch = options.fetch ?? fetch;
	return (request) =>
		tokens.authorized((token) =>
			doFetch(request.url, {
				method: request.method,
				headers: { ...request.headers, authorization: `Bearer ${token.accessToken}`, 'x-api-key': credentials.apiKey },
				body: request.body,
				redirect: 'manual',
			}),
		);
}

export interface GenesysClientOptions {
	/** e.g. https://gapi-use1.genesyscloud.com; a path prefix is kept (reverse proxies). */
	baseUrl: string;
	flavour?: ApiFlavour;
	send: Send;
	/** fetch for storage hosts; never given Genesys credentials. */
	fetch?: typeof fetch;
	retry?: RetryOptions;
	/** New requests after a download breaks (default 3). */
	downloadResumes?: number;
	/** Fresh pre-signed URLs asked for when one expires during a download (default 2). */
	urlRefreshes?: number;
	sleep?: (ms: number) => Promise<void>;
	now?: () => number;
	/** Told about retries and resumes (never given URLs with signatures or secrets). */
	log?: (message: string) => void;
}

export interface ListQuery {
	from?: number;
	size?: number;
	descAsc?: boolean;
	orderField?: string;
	[filter: string]: string | number | boolean | undefined;
}

/** A file of an export run, as `file-metadatas` lists it. */
export const fileMetadata = z.looseObject({
	name: z.string(),
	size: z.number().nullable().optional(),
	historyId: z.number().int().nullable().optional(),
	jobId: z.number().int().nullable().optional(),
	jobTitle: z.string().nullable().optional(),
	type: z.string().nullable().optional(),
	source: z.string().nullable().optional(),
	createdDate: z.string().nullable().optional(),
});
export type FileMetadata = z.infer<typeof fileMetadata>;

/** The body of a create or update request, as the API reference documents it. */
export const jobRequest = z.object({
	source: z.string().min(1),
	/** The job type: UCS or DataSync. */
	type: z.string().min(1),
	title: z.string().min(1),
	timeFrame: z.object({ all: z.boolean().optional(), dateFrom: z.string().optional(), dateTo: z.string().optional() }),
	description: z.string().optional(),
	schedulerParam: z.object({ immediately: z.boolean().optional(), cron: z.string().optional(), runs: z.string().optional(), startDate: z.string().optional() }),
	jobParams: z.object({
		fileSplitSize: z.string().optional(),
		/** The data type: Interaction or Contact. */
		type: z.string().min(1),
		media: z.array(z.string()),
		exportAttachments: z.boolean().optional(),
	}),
	suspended: z.boolean(),
});
export type JobRequest = z.infer<typeof jobRequest>;

/** Where a run stands, whatever words the API flavour uses for it. */
export type RunState = 'completed' | 'failed' | 'cancelled' | 'running';

export function runState(status: string | null | undefined): RunState {
	const s = (status ?? '').toUpperCase().replace(/[^A-Z]/g, '');
	if (['COMPLETED', 'COMPLETE', 'SUCCESS', 'SUCCEEDED', 'SUCCESSFUL', 'DONE', 'FINISHED'].includes(s)) return 'completed';
	if (['FAILED', 'FAILURE', 'ERROR', 'ERRORED'].includes(s)) return 'failed';
	if (['CANCELLED', 'CANCELED', 'ABORTED'].includes(s)) return 'cancelled';
	return 'running';
}

export interface WaitOptions {
	/** Between progress requests (default 10 s). */
	pollIntervalMs?: number;
	/** Give up after this long (default 1 h). */
	timeoutMs?: number;
	signal?: AbortSignal;
	onProgress?: (progress: JobProgress) => void;
}

export interface DownloadedFile {
	name: string;
	/** The bytes, in order, once; resumed transparently after breaks. */
	chunks: AsyncGenerator<Buffer>;
}

const sizeOfSplit = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$/i;

/** Checks a file split size as the API takes it ("100MB"); returns it normalised. */
export function normaliseSplitSize(value: string): string {
	const m = sizeOfSplit.exec(value);
	if (!m || Number(m[1]) <= 0) throw new CxError('USAGE', `file split size "${value}" is not a size: write it like 100MB, 500KB or 1GB`);
	const unit = (m[2] ?? 'MB').toUpperCase();
	const bytes = Number(m[1]) * ({ B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as Record<string, number>)[unit];
	// Split archives are Info-ZIP's, whose smallest part is 64 KB.
	if (bytes < 64 * 1024) throw new CxError('USAGE', `file split size "${value}" is too small: parts are at least 64KB`);
	return `${m[1]}${unit}`;
}

const realSleep = (ms: number, signal?: AbortSignal) =>
	new Promise<void>((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason);
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		const onAbort = () => {
			clearTimeout(timer);
			reject(signal?.reason);
		};
		signal?.addEventListener('abort', onAbort, { once: true });
	});

export class GenesysClient {
	readonly flavour: ApiFlavour;
	private readonly base: URL;
	/** The base URL's path without its trailing slash ('' for a bare host). */
	private readonly prefix: string;

	constructor(private readonly options: GenesysClientOptions) {
		this.flavour = options.flavour ?? 'udm-v10';
		if (!(this.flavour in API_FLAVOURS)) throw new CxError('USAGE', `unknown API flavour "${this.flavour}": use udm-v10, udm-v4 or cdds`);
		let base: URL;
		try {
			base = new URL(options.baseUrl);
		} catch {
			throw new CxError('USAGE', `the Genesys base URL "${options.baseUrl}" is not a URL: use e.g. https://gapi-use1.genesyscloud.com`);
		}
		if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new CxError('USAGE', `the Genesys base URL must be http(s), not ${base.protocol}`);
		base.search = '';
		base.hash = '';
		this.prefix = base.pathname.replace(/\/+$/, '');
		this.base = base;
	}

	// ---- plumbing --------------------------------------------------------------------------

	private url(path: string, query: Record<string, string | number | boolean | undefined> = {}): URL {
		const url = new URL(this.base.href);
		url.pathname = `${this.prefix}${path}`;
		for (const [name, value] of Object.entries(query)) {
			if (value === undefined || value === '') continue;
			url.searchParams.set(name, String(value));
		}
		return url;
	}

	private exportPath(rest: string): string {
		return `${API_FLAVOURS[this.flavour].exportPath}${rest}`;
	}

	private commonPath(rest: string, v10Only = false): string {
		const flavour = API_FLAVOURS[this.flavour];
		if (v10Only && !flavour.v10Only) {
			throw new CxError('USAGE', `${rest.replace(/^\//, '')} is only in the User Data Management v10 API; this credential uses ${flavour.name}`);
		}
		return `${flavour.commonPath}${rest}`;
	}

	/** Sends with retries on 429/5xx and dropped connections; returns the final response. */
	private async call(method: HttpMethod, url: URL, body?: { text: string | Buffer; contentType: string }): Promise<Response> {
		let previous: Response | undefined;
		return retrying(
			async () => {
				await previous?.body?.cancel().catch(() => undefined);
				const headers: Record<string, string> = { accept: 'application/json' };
				if (body) headers['content-type'] = body.contentType;
				previous = await this.options.send({ method, url, headers, body: body?.text });
				return previous;
			},
			httpDecision,
			{
				...this.options.retry,
				sleep: this.options.retry?.sleep ?? this.options.sleep,
				now: this.options.retry?.now ?? this.options.now,
				onRetry: (info) => {
					this.options.log?.(`${method} ${url.pathname}: ${info.reason}, retry ${info.retry} in ${info.waitMs} ms`);
					this.options.retry?.onRetry?.(info);
				},
			},
		);
	}

	/** Calls and reads a JSON answer, validated by `schema`; HTTP errors become GenesysApiError. */
	private async json<T>(operation: string, method: HttpMethod, url: URL, schema: z.ZodType<T>, body?: unknown, context: ErrorContext = 'api'): Promise<T> {
		const response = await this.call(method, url, body === undefined ? undefined : { text: JSON.stringify(body), contentType: 'application/json' });
		const text = await response.text();
		if (!response.ok) throw genesysError(response.status, text, operation, context);
		let data: unknown;
		try {
			data = text.trim() === '' ? undefined : JSON.parse(text);
		} catch {
			throw this.unexpected(operation, response.status, 'the answer is not JSON');
		}
		const parsed = schema.safeParse(data);
		if (!parsed.success) {
			const issue = parsed.error.issues[0];
			throw this.unexpected(operation, response.status, `${issue.path.join('.') || 'the answer'}: ${issue.message}`);
		}
		return parsed.data;
	}

	/** Calls where success has no body worth reading (204, 201 with a string). */
	private async noContent(operation: string, method: HttpMethod, url: URL, context: ErrorContext = 'api', body?: { text: string | Buffer; contentType: string }): Promise<void> {
		const response = await this.call(method, url, body);
		const text = await response.text();
		if (!response.ok) throw genesysError(response.status, text, operation, context);
	}

	private unexpected(operation: string, status: number, what: string): GenesysApiError {
		return new GenesysApiError({
			httpStatus: status,
			operation,
			hint: `the answer was not what the ${API_FLAVOURS[this.flavour].name} API returns (${what}); check the base URL and the API version`,
		});
	}

	// ---- jobs ------------------------------------------------------------------------------

	async listJobs(query: ListQuery = {}): Promise<PagedResponse<JobInfo>> {
		return this.json('Listing export jobs', 'GET', this.url(this.exportPath('/jobs'), query), pagedOrEmpty(jobInfo));
	}

	async getJob(id: number | string): Promise<JobInfo> {
		return this.json(`Getting export job ${id}`, 'GET', this.url(this.exportPath(`/jobs/${encodeId(id)}`)), jobInfo);
	}

	async createJob(request: JobRequest): Promise<JobInfo> {
		const body = checkJobRequest(request);
		return this.json(`Creating export job "${body.title}"`, 'POST', this.url(this.exportPath('/jobs')), jobInfo, body);
	}

	async updateJob(id: number | string, request: JobRequest): Promise<JobInfo> {
		const body = checkJobRequest(request);
		// The reference documents no body for the answer; read it back when there is none.
		const answer = await this.json(`Updating export job ${id}`, 'PUT', this.url(this.exportPath(`/jobs/${encodeId(id)}`)), jobInfo.optional(), body);
		return answer ?? this.getJob(id);
	}

	async deleteJob(id: number | string): Promise<void> {
		return this.noContent(`Deleting export job ${id}`, 'DELETE', this.url(this.exportPath(`/jobs/${encodeId(id)}`)));
	}

	async deleteJobs(ids: Array<number | string>): Promise<void> {
		return this.noContent(`Deleting export jobs ${ids.join(', ')}`, 'DELETE', this.url(this.exportPath('/jobs'), { jobIDs: ids.map(encodeId).join(',') }));
	}

	async cancelJob(id: number | string): Promise<void> {
		return this.noContent(`Cancelling export job ${id}`, 'POST', this.url(this.exportPath(`/jobs/cancel/${encodeId(id)}`)));
	}

	async suspendJob(id: number | string): Promise<void> {
		return this.noContent(`Suspending export job ${id}`, 'POST', this.url(this.exportPath(`/jobs/suspend/${encodeId(id)}`)));
	}

	async resumeJob(id: number | string): Promise<void> {
		return this.noContent(`Resuming export job ${id}`, 'POST', this.url(this.exportPath(`/jobs/resume/${encodeId(id)}`)));
	}

	/**
	 * A new job with the settings of an existing one (what "Clone selected" does in the UI): the
	 * settings are read back and created again, with `changes` applied on top.
	 */
	async cloneJob(id: number | string, changes: Partial<JobRequest> = {}): Promise<JobInfo> {
		const job = await this.getJob(id);
		const request = jobRequestFrom(job, changes);
		return this.createJob(request);
	}

	// ---- runs (export history) -----------------------------------------------------------

	async listRuns(query: ListQuery = {}): Promise<PagedResponse<JobInfo>> {
		return this.json('Listing export runs', 'GET', this.url(this.exportPath('/history'), query), pagedOrEmpty(jobInfo));
	}

	async getRun(id: number | string): Promise<JobInfo> {
		return this.json(`Getting export run ${id}`, 'GET', this.url(this.exportPath(`/history/${encodeId(id)}`)), jobInfo);
	}

	async getRunProgress(id: number | string): Promise<JobProgress> {
		return this.json(`Getting the progress of export run ${id}`, 'GET', this.url(this.exportPath(`/history/${encodeId(id)}/progress`)), jobProgress);
	}

	async deleteRun(id: number | string): Promise<void> {
		return this.noContent(`Deleting export run ${id}`, 'DELETE', this.url(this.exportPath(`/history/${encodeId(id)}`)));
	}

	async deleteRuns(ids: Array<number | string>): Promise<void> {
		return this.noContent(`Deleting export runs ${ids.join(', ')}`, 'DELETE', this.url(this.exportPath('/history'), { jobIDs: ids.map(encodeId).join(',') }));
	}

	/**
	 * Polls a run until it completes, fails or is cancelled, and returns it as it ended. Throws a
	 * timeout error naming the last progress seen.
	 */
	async waitForRun(id: number | string, options: WaitOptions = {}): Promise<JobInfo> {
		const { interval, deadline, now, sleep } = this.waiting(options);
		let last: JobProgress | undefined;
		for (;;) {
			last = await this.getRunProgress(id);
			options.onProgress?.(last);
			if (runState(last.status) !== 'running') return this.getRun(id);
			if (now() + interval > deadline) {
				throw new CxError('TIMEOUT', `export run ${id} did not finish in time: still ${last.status ?? 'running'} at ${last.progress ?? 0}%; wait longer (raise the timeout) or check the run in Genesys`);
			}
			await sleep(interval);
		}
	}

	/**
	 * Waits for the first run of `jobId` that started at or after `since` (epoch ms), then for it
	 * to end. A job created to run immediately shows its run after a moment.
	 */
	async waitForJobRun(jobId: number | string, since: number, options: WaitOptions = {}): Promise<JobInfo> {
		const { interval, deadline, now, sleep } = this.waiting(options);
		for (;;) {
			const page = await this.listRuns({ jobId: String(jobId), descAsc: true, orderField: 'createdDate', from: 0, size: 20 });
			const runs = page.items
				.filter((run) => run.parentId === undefined || run.parentId === null || String(run.parentId) === String(jobId))
				.filter((run) => !run.createdDate || Date.parse(run.createdDate) >= since - 60_000 || Number.isNaN(Date.parse(run.createdDate)))
				.sort((a, b) => a.id - b.id);
			const run = runs[0];
			if (run) {
				const remaining = deadline - now();
				return this.waitForRun(run.id, { ...options, timeoutMs: Math.max(0, remaining) });
			}
			if (now() + interval > deadline) {
				throw new CxError('TIMEOUT', `export job ${jobId} has not started a run in time; check its schedule, or whether it is suspended`);
			}
			await sleep(interval);
		}
	}

	private waiting(options: WaitOptions) {
		const now = this.options.now ?? Date.now;
		const interval = Math.max(0, options.pollIntervalMs ?? 10_000);
		const deadline = now() + (options.timeoutMs ?? 3_600_000);
		const sleep = (ms: number) => (this.options.sleep ? this.options.sleep(ms) : realSleep(ms, options.signal));
		return { interval, deadline, now, sleep };
	}

	// ---- files -----------------------------------------------------------------------------

	async listFiles(query: ListQuery = {}): Promise<PagedResponse<FileMetadata>> {
		return this.json('Listing export files', 'GET', this.url(this.commonPath('/file-metadatas'), query), pagedOrEmpty(fileMetadata));
	}

	/** The files of one run, all pages. */
	async runFiles(runId: number | string): Promise<FileMetadata[]> {
		const files: FileMetadata[] = [];
		for await (const file of this.all((query) => this.listFiles({ ...query, historyId: String(runId) }))) {
			// Only v10 documents the historyId filter: keep what belongs to the run whatever the API did.
			if (file.historyId === undefined || file.historyId === null || String(file.historyId) === String(runId)) files.push(file);
		}
		return files;
	}

	/** A pre-signed URL for a file; it works without credentials until it expires. */
	async getDownloadUrl(filename: string): Promise<string> {
		const answer = await this.json(`Getting a download link for ${filename}`, 'GET', this.url(this.commonPath('/files'), { filename }), preSignedUri, undefined, 'file');
		return answer.path;
	}

	async deleteFile(filename: string): Promise<void> {
		return this.noContent(`Deleting file ${filename}`, 'DELETE', this.url(this.commonPath(`/files/${encodeURIComponent(filename)}`)), 'file');
	}

	async deleteFiles(filenames: string[]): Promise<void> {
		return this.noContent(`Deleting files ${filenames.join(', ')}`, 'DELETE', this.url(this.commonPath('/files'), { filename: filenames.join(',') }), 'file');
	}

	/**
	 * Where a file is stored now: `GET files/{name}` answers 303 to a pre-signed URL (read here,
	 * not followed, so the Genesys credentials never go to the storage host).
	 */
	private async storageLocation(filename: string): Promise<URL> {
		const operation = `Downloading ${filename}`;
		const apiUrl = this.url(this.commonPath(`/files/${encodeURIComponent(filename)}`));
		const response = await this.call('GET', apiUrl);
		const location = response.headers.get('location');
		if (response.status >= 300 && response.status < 400 && location) {
			await response.body?.cancel().catch(() => undefined);
			return new URL(location, apiUrl);
		}
		const text = await response.text();
		if (!response.ok) throw genesysError(response.status, text, operation, 'file');
		// Some deployments answer with the pre-signed URL as JSON instead of a redirect.
		try {
			return new URL(preSignedUri.parse(JSON.parse(text)).path, apiUrl);
		} catch {
			throw this.unexpected(operation, response.status, 'neither a redirect nor a download link');
		}
	}

	/**
	 * Downloads a file from its storage host, streaming. The storage request carries no Genesys
	 * header. Breaks are resumed with Range (or the file is read again and the delivered part
	 * skipped); an expired or refused pre-signed URL is replaced by a fresh one from Genesys.
	 */
	downloadFile(filename: string): DownloadedFile {
		const doFetch = this.options.fetch ?? fetch;
		const urlRefreshes = this.options.urlRefreshes ?? 2;
		let location: URL | undefined;
		let refreshes = 0;
		const open = async (offset: number): Promise<Response> => {
			for (;;) {
				location ??= await this.storageLocation(filename);
				const target = location;
				const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
				const response = await retrying(
					async () => (await fetchFollowingRedirects(target, { headers }, { fetch: doFetch })).response,
					httpDecision,
					{ ...this.options.retry, sleep: this.options.retry?.sleep ?? this.options.sleep, now: this.options.retry?.now ?? this.options.now },
				);
				if (response.ok) return response;
				const text = await response.text().catch(() => '');
				// S3-style stores answer 403 (or 400) once a pre-signed URL expired: ask Genesys again.
				if ((response.status === 403 || response.status === 400 || response.status === 401) && refreshes < urlRefreshes) {
					refreshes++;
					this.options.log?.(`${filename}: the storage host refused the download link (HTTP ${response.status}); asking Genesys for a new one`);
					location = undefined;
					continue;
				}
				if (response.status === 416 && offset > 0) return response;
				throw new CxError(
					'DOWNLOAD',
					`${filename}: the storage host ${describeUrl(target)} answered HTTP ${response.status}${storageMessage(text)}; ${
						response.status === 403 || response.status === 400 ? 'the download link keeps being refused: the file may have expired (30-day retention)' : 'try again later'
					}`,
				);
			}
		};
		const chunks = resumableDownload(open, {
			name: filename,
			resumes: this.options.downloadResumes ?? 3,
			onResume: (info) => this.options.log?.(`${filename}: ${info.reason}; resuming at byte ${info.offset}`),
		});
		return { name: filename, chunks };
	}

	// ---- certificate ---------------------------------------------------------------------

	/** The certificate exports are encrypted to; undefined when none was uploaded. */
	async getCertificate(): Promise<CertificateInfo | undefined> {
		const url = this.url(this.commonPath('/cipher'));
		const response = await this.call('GET', url);
		if (response.status === 404 || response.status === 204) {
			await response.body?.cancel().catch(() => undefined);
			return undefined;
		}
		const text = await response.text();
		if (!response.ok) throw genesysError(response.status, text, 'Getting the encryption certificate');
		try {
			return certificateInfo.parse(JSON.parse(text));
		} catch {
			throw this.unexpected('Getting the encryption certificate', response.status, 'not a CertificateInfo');
		}
	}

	/** Uploads the certificate (PEM) that later exports are encrypted to. */
	async uploadCertificate(filename: string, pem: string | Buffer): Promise<void> {
		const text = Buffer.isBuffer(pem) ? pem.toString('latin1') : pem;
		if (!/-----BEGIN CERTIFICATE-----/.test(text)) {
			throw new CxError('USAGE', `${filename} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line); upload the certificate, not the private key`);
		}
		if (/PRIVATE KEY-----/.test(text)) {
			throw new CxError('USAGE', `${filename} holds a private key: upload only the certificate (its public part) to Genesys`);
		}
		const body = multipartFile('file', filename, Buffer.from(text, 'latin1'), 'application/x-x509-ca-cert');
		await this.noContent(`Uploading certificate ${filename}`, 'POST', this.url(this.commonPath(`/cipher/${encodeURIComponent(filename)}`)), 'api', body);
	}

	// ---- reference data --------------------------------------------------------------------

	async sources(): Promise<KeyValueItem[]> {
		return this.json('Listing data sources', 'GET', this.url(this.commonPath('/data/sources')), listOf(keyValueItem));
	}

	async types(source?: string): Promise<KeyValueItem[]> {
		// v10 answers {label, value}; the v3 reference documents {name, source}: both become {label, value}.
		const item = z.union([keyValueItem, z.looseObject({ name: z.string(), source: z.string().nullable().optional() }).transform((t) => ({ ...t, label: t.name, value: t.name }))]);
		return this.json('Listing data types', 'GET', this.url(this.commonPath('/data/types'), { source }), listOf(item) as z.ZodType<KeyValueItem[]>);
	}

	async subTypes(source?: string, dataType?: string): Promise<SubType[]> {
		return this.json('Listing data sub-types', 'GET', this.url(this.commonPath('/data/sub-types'), { source, dataType }), listOf(subType));
	}

	async attributes(entities?: string): Promise<Record<string, unknown>> {
		return this.json('Listing interaction attributes', 'GET', this.url(this.commonPath('/data/attributes', true), { entities }), z.record(z.string(), z.unknown()).default({}));
	}

	async jobStatuses(): Promise<KeyValueItem[]> {
		return this.json('Listing job statuses', 'GET', this.url(this.commonPath('/data/job-statuses')), listOf(keyValueItem));
	}

	async labels(): Promise<Record<string, unknown>> {
		return this.json('Listing labels', 'GET', this.url(this.commonPath('/resources/labels', true)), z.record(z.string(), z.unknown()).default({}));
	}

	async version(): Promise<VersionInfo> {
		return this.json('Getting the service version', 'GET', this.url(this.commonPath('/version')), versionInfo);
	}

	// ---- paging ----------------------------------------------------------------------------

	/**
	 * Every item of a paged list, page by page (`from`/`size`), stopping at `limit` items, at the
	 * stated `count`, or at a short page.
	 */
	async *all<T>(page: (query: { from: number; size: number }) => Promise<PagedResponse<T>>, options: { limit?: number; pageSize?: number } = {}): AsyncGenerator<T> {
		const pageSize = options.pageSize ?? 100;
		const limit = options.limit ?? Infinity;
		let from = 0;
		let yielded = 0;
		for (;;) {
			const size = Math.min(pageSize, limit - yielded);
			if (size <= 0) return;
			const answer = await page({ from, size });
			for (const item of answer.items.slice(0, size)) {
				yield item;
				if (++yielded >= limit) return;
			}
			from += answer.items.length;
			if (answer.items.length === 0 || answer.items.length < size) return;
			if (typeof answer.count === 'number' && from >= answer.count) return;
		}
	}
}

// ---- helpers ---------------------------------------------------------------------------------

/** List endpoints answer 204 with no body when nothing matches. */
function pagedOrEmpty<T extends z.ZodType>(item: T) {
	return pagedResponse(item)
		.optional()
		.transform((page) => page ?? { count: 0, from: 0, size: 0, items: [] as z.infer<T>[] }) as unknown as z.ZodType<PagedResponse<z.infer<T>>>;
}

function listOf<T extends z.ZodType>(item: T) {
	return z
		.array(item)
		.optional()
		.transform((list) => list ?? []) as unknown as z.ZodType<z.infer<T>[]>;
}

function encodeId(id: number | string): string {
	const text = String(id).trim();
	if (!/^\d+$/.test(text)) throw new CxError('USAGE', `"${text}" is not a job or run ID (a whole number)`);
	return text;
}

function checkJobRequest(request: JobRequest): JobRequest {
	const parsed = jobRequest.safeParse(request);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		throw new CxError('USAGE', `the export job is incomplete: ${issue.path.join('.')}: ${issue.message}`);
	}
	const body = parsed.data;
	const { all, dateFrom, dateTo } = body.timeFrame;
	if (!all) {
		if (!dateFrom && !dateTo) throw new CxError('USAGE', 'the export time frame needs a start or an end date, or "all"');
		for (const [name, value] of [
			['dateFrom', dateFrom],
			['dateTo', dateTo],
		] as const) {
			if (value !== undefined && Number.isNaN(Date.parse(value))) throw new CxError('USAGE', `timeFrame.${name} "${value}" is not a date (use ISO 8601, e.g. 2026-11-01T00:00:00Z)`);
		}
		if (dateFrom && dateTo && Date.parse(dateFrom) > Date.parse(dateTo)) throw new CxError('USAGE', `the time frame starts (${dateFrom}) after it ends (${dateTo})`);
	}
	const { startDate } = body.schedulerParam;
	if (startDate !== undefined && Number.isNaN(Date.parse(startDate))) throw new CxError('USAGE', `schedulerParam.startDate "${startDate}" is not a date`);
	if (body.jobParams.fileSplitSize) body.jobParams.fileSplitSize = normaliseSplitSize(body.jobParams.fileSplitSize);
	return body;
}

/** The create request that reproduces a job, from what the API returns about it. */
export function jobRequestFrom(job: JobInfo, changes: Partial<JobRequest> = {}, options: { copy?: boolean } = { copy: true }): JobRequest {
	const loose = job as JobInfo & { jobParams?: Partial<JobRequest['jobParams']>; schedulerParam?: JobRequest['schedulerParam']; timeFrame?: JobRequest['timeFrame']; jobType?: string; dataType?: string };
	const dateFrom = job.dateFrom ?? undefined;
	const dateTo = job.dateTo ?? undefined;
	const base: JobRequest = {
		source: job.source ?? 'UCS',
		type: loose.jobType ?? 'UCS',
		title: `${job.title ?? `Job ${job.id}`}${options.copy === false ? '' : ' (copy)'}`,
		timeFrame: loose.timeFrame ?? { all: !dateFrom && !dateTo, ...(dateFrom ? { dateFrom } : {}), ...(dateTo ? { dateTo } : {}) },
		description: job.description ?? undefined,
		schedulerParam: loose.schedulerParam ?? { immediately: true },
		jobParams: {
			type: loose.jobParams?.type ?? loose.dataType ?? job.type ?? 'Interaction',
			media: loose.jobParams?.media ?? job.media ?? [],
			...(job.fileSplitSize ? { fileSplitSize: job.fileSplitSize } : {}),
			...(typeof job.exportAttachments === 'boolean' ? { exportAttachments: job.exportAttachments } : {}),
		},
		suspended: options.copy === false && typeof (job as { suspended?: unknown }).suspended === 'boolean' ? Boolean((job as { suspended?: unknown }).suspended) : false,
	};
	return {
		...base,
		...changes,
		timeFrame: { ...base.timeFrame, ...changes.timeFrame },
		schedulerParam: changes.schedulerParam ?? base.schedulerParam,
		jobParams: { ...base.jobParams, ...changes.jobParams },
	};
}

/** A multipart/form-data body with one file field. */
export function multipartFile(field: string, filename: string, content: Buffer, contentType: string): { text: Buffer; contentType: string } {
	const boundary = `----cx-export-${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
	const safeName = filename.replace(/["\r\n]/g, '_');
	const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${safeName}"\r\nContent-Type: ${contentType}\r\n\r\n`, 'utf8');
	const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
	return { text: Buffer.concat([head, content, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The message of an S3-style XML error, short, for the user. */
function storageMessage(text: string): string {
	const m = /<Message>([^<]{1,200})<\/Message>/.exec(text);
	if (m) return ` (${m[1]})`;
	const plain = text.replace(/\s+/g, ' ').trim();
	return plain && plain.length <= 200 && !/https?:\/\//.test(plain) ? ` (${plain})` : '';
}
