/**
 * The Genesys export client: User Data Management (UDM v10, the deprecated v4) and the older CDDS
 * API behind one set of calls. How a request reaches Genesys with credentials is the caller's
 * `send` (a token-caching fetch for the CLI and tests, n8n's authenticated request helper in the
 * nodes); the HTTP kernel (src/http) retries, reads and checks answers, waits and downloads; here
 * are paths per API flavour, Genesys' error messages and hints, paging, and where a file is: the
 * 303 `Location` (or JSON `path`) of `GET files/{name}`, checked by the URL policy and fetched
 * without any credential, resumed after a break, replaced when it expired.
 */
import { z } from 'zod';
import { CxError, type ApiError } from '../errors';
import {
	ApiCaller,
	pollUntil,
	type ApiRequest,
	type ClientOptions,
	type HttpMethod,
	type Send,
} from '../http/api';
import { discard } from '../http/body';
import { refreshingDownload } from '../http/download';
import { checkedFetch } from '../http/transport';
import { checkUrl, urlPolicy, type UrlPolicy } from '../http/urlPolicy';
import { TokenSource, type AuthOptions, type GenesysCredentials } from './auth';
import { genesysError, type ErrorContext } from './errors';
import { jobBody, mergeJob, type JobChanges, type JobRequest } from './jobs';
import { exportNameOf, isFileOfRun } from './runWatch';
import {
	certificateInfo,
	jobInfo,
	jobProgress,
	pagedResponse,
	preSignedUri,
	referenceItem,
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

export const API_FLAVOURS: Readonly<
	Record<ApiFlavour, { name: string; exportPath: string; commonPath: string; v10Only: boolean }>
> = Object.freeze({
	'udm-v10': {
		name: 'User Data Management v10',
		exportPath: '/udm/v10/export',
		commonPath: '/udm/v10',
		v10Only: true,
	},
	'udm-v4': {
		name: 'User Data Management v4 (deprecated)',
		exportPath: '/udm/v4/export',
		commonPath: '/udm/v3',
		v10Only: false,
	},
	cdds: {
		name: 'Cloud Data Download Service (deprecated)',
		exportPath: '/data-download/v4/export',
		commonPath: '/data-download/v3',
		v10Only: false,
	},
});

export type { ApiRequest, HttpMethod, Send };
export type { JobChanges, JobRequest };

/** Info Mart, by label or value ("Info Mart", "InfoMart", "GIM"). */
const INFO_MART = /^(info\s*-?\s*mart|gim)$/i;

/** A `Send` over fetch with a token source: the CLI's and the tests' way to reach Genesys. */
export function fetchSender(credentials: GenesysCredentials, options: AuthOptions = {}): Send {
	const tokens = new TokenSource(credentials, options);
	const doFetch = options.fetch ?? fetch;
	return (request) =>
		tokens.authorized((token) =>
			doFetch(request.url, {
				method: request.method,
				headers: {
					...request.headers,
					authorization: `Bearer ${token.accessToken}`,
					'x-api-key': credentials.apiKey,
				},
				body: request.body,
				redirect: 'manual',
				signal: request.signal,
			}),
		);
}

export interface GenesysClientOptions extends ClientOptions {
	/** e.g. https://gapi-use1.genesyscloud.com; a path prefix is kept (reverse proxies). */
	baseUrl: string;
	flavour?: ApiFlavour;
	/** New requests after a download breaks (default 3). */
	downloadResumes?: number;
	/** Fresh pre-signed URLs asked for when one expires during a download (default 2). */
	urlRefreshes?: number;
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

/** Where a run stands, whatever words the API flavour uses for it. */
export type RunState = 'completed' | 'failed' | 'cancelled' | 'running';

export function runState(status: string | null | undefined): RunState {
	const s = (status ?? '').toUpperCase().replace(/[^A-Z]/g, '');
	if (
		['COMPLETED', 'COMPLETE', 'SUCCESS', 'SUCCEEDED', 'SUCCESSFUL', 'DONE', 'FINISHED'].includes(s)
	)
		return 'completed';
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

export class GenesysClient {
	readonly flavour: ApiFlavour;
	private readonly base: URL;
	/** The base URL's path without its trailing slash ('' for a bare host). */
	private readonly prefix: string;
	private readonly api: ApiCaller<ErrorContext>;
	/** What download links may point at. */
	readonly urlPolicy: UrlPolicy;

	constructor(private readonly options: GenesysClientOptions) {
		this.flavour = options.flavour ?? 'udm-v10';
		if (!(this.flavour in API_FLAVOURS))
			throw new CxError(
				'USAGE',
				`unknown API flavour "${this.flavour}": use udm-v10, udm-v4 or cdds`,
			);
		let base: URL;
		try {
			base = new URL(options.baseUrl);
		} catch {
			throw new CxError(
				'USAGE',
				`the Genesys base URL "${options.baseUrl}" is not a URL: use e.g. https://gapi-use1.genesyscloud.com`,
			);
		}
		if (base.protocol !== 'https:' && base.protocol !== 'http:')
			throw new CxError('USAGE', `the Genesys base URL must be http(s), not ${base.protocol}`);
		base.search = '';
		base.hash = '';
		this.prefix = base.pathname.replace(/\/+$/, '');
		this.base = base;
		this.urlPolicy = urlPolicy(base, options.allowedHosts);
		const name = API_FLAVOURS[this.flavour].name;
		this.api = new ApiCaller<ErrorContext>({
			service: 'Genesys',
			send: options.send,
			errorFor: genesysError,
			unexpectedHint: (what) =>
				`the answer was not what the ${name} API returns (${what}); check the base URL and the API version`,
			retry: options.retry,
			sleep: options.sleep,
			now: options.now,
			signal: options.signal,
			log: options.log,
		});
	}

	// ---- plumbing --------------------------------------------------------------------------

	private url(
		path: string,
		query: Record<string, string | number | boolean | undefined> = {},
	): URL {
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
			throw new CxError(
				'USAGE',
				`${rest.replace(/^\//, '')} is only in the User Data Management v10 API; this credential uses ${flavour.name}`,
			);
		}
		return `${flavour.commonPath}${rest}`;
	}

	/** Calls and reads a JSON answer, validated by `schema`; HTTP errors become ApiError. */
	private json<T>(
		operation: string,
		method: HttpMethod,
		url: URL,
		schema: z.ZodType<T>,
		body?: unknown,
		context: ErrorContext = 'api',
	): Promise<T> {
		return this.api.json(operation, method, url, schema, { json: body, context });
	}

	/** Calls where success has no body worth reading (204, 201 with a string). */
	private noContent(
		operation: string,
		method: HttpMethod,
		url: URL,
		context: ErrorContext = 'api',
		body?: { text: string | Buffer; contentType: string },
	): Promise<void> {
		return this.api.noContent(operation, method, url, { context, body });
	}

	// ---- jobs ------------------------------------------------------------------------------

	async listJobs(query: ListQuery = {}): Promise<PagedResponse<JobInfo>> {
		return this.json(
			'Listing export jobs',
			'GET',
			this.url(this.exportPath('/jobs'), query),
			pagedOrEmpty(jobInfo),
		);
	}

	async getJob(id: number | string): Promise<JobInfo> {
		return this.json(
			`Getting export job ${id}`,
			'GET',
			this.url(this.exportPath(`/jobs/${encodeId(id)}`)),
			jobInfo,
		);
	}

	/** Creates a job; `media: 'all'` is sent as the tenant's full list of media types (the reference: a required array). */
	async createJob(request: JobRequest): Promise<JobInfo> {
		const media =
			request.jobParams?.media === 'all'
				? await this.mediaTypes(request.source, request.jobParams.type)
				: request.jobParams?.media;
		const body = jobBody({ ...request, jobParams: { ...request.jobParams, media } }, this.flavour);
		return this.json(
			`Creating export job "${String(body.title)}"`,
			'POST',
			this.url(this.exportPath('/jobs')),
			jobInfo,
			body,
		);
	}

	/**
	 * Changes a job: it is read, and sent back with every field Genesys returned and only `changes`
	 * applied (see jobs.ts `mergeJob`).
	 */
	async updateJob(id: number | string, changes: JobChanges): Promise<JobInfo> {
		const current = await this.getJob(id);
		const body = mergeJob(
			current,
			await this.resolveMedia(current, changes),
			this.flavour,
			'update',
		);
		// The reference documents no body for the answer; read it back when there is none.
		const answer = await this.json(
			`Updating export job ${id}`,
			'PUT',
			this.url(this.exportPath(`/jobs/${encodeId(id)}`)),
			jobInfo.optional(),
			body,
		);
		return answer ?? this.getJob(id);
	}

	async deleteJob(id: number | string): Promise<void> {
		return this.noContent(
			`Deleting export job ${id}`,
			'DELETE',
			this.url(this.exportPath(`/jobs/${encodeId(id)}`)),
		);
	}

	async deleteJobs(ids: Array<number | string>): Promise<void> {
		return this.noContent(
			`Deleting export jobs ${ids.join(', ')}`,
			'DELETE',
			this.url(this.exportPath('/jobs'), { jobIDs: ids.map(encodeId).join(',') }),
		);
	}

	async cancelJob(id: number | string): Promise<void> {
		return this.noContent(
			`Cancelling export job ${id}`,
			'POST',
			this.url(this.exportPath(`/jobs/cancel/${encodeId(id)}`)),
		);
	}

	async suspendJob(id: number | string): Promise<void> {
		return this.noContent(
			`Suspending export job ${id}`,
			'POST',
			this.url(this.exportPath(`/jobs/suspend/${encodeId(id)}`)),
		);
	}

	async resumeJob(id: number | string): Promise<void> {
		return this.noContent(
			`Resuming export job ${id}`,
			'POST',
			this.url(this.exportPath(`/jobs/resume/${encodeId(id)}`)),
		);
	}

	/**
	 * A new job with the settings of an existing one (what "Clone selected" does in the UI): the job
	 * is read and created again with every field Genesys returned, `changes` applied, and the title
	 * suffixed " (copy)" unless changed.
	 */
	async cloneJob(id: number | string, changes: JobChanges = {}): Promise<JobInfo> {
		const original = await this.getJob(id);
		const body = mergeJob(
			original,
			await this.resolveMedia(original, changes),
			this.flavour,
			'clone',
		);
		return this.json(
			`Cloning export job ${id} as "${String(body.title)}"`,
			'POST',
			this.url(this.exportPath('/jobs')),
			jobInfo,
			body,
		);
	}

	/** Every media type the tenant lists for a source and data type (enabled ones): what "all media types" means. */
	async mediaTypes(source: string, dataType: string): Promise<string[]> {
		return (await this.subTypes(source, dataType))
			.filter((t) => t.enabled !== false)
			.map((t) => t.name);
	}

	private async resolveMedia(job: JobInfo, changes: JobChanges): Promise<JobChanges> {
		if (changes.media !== 'all') return changes;
		const params = (job as { jobParams?: { type?: unknown } }).jobParams;
		const dataType =
			changes.dataType ?? (typeof params?.type === 'string' ? params.type : undefined);
		if (!job.source || !dataType)
			throw new CxError(
				'USAGE',
				`cannot list every media type of job ${job.id}: Genesys did not return its source or data type; choose the media types, or set "Data Type"`,
			);
		return { ...changes, media: await this.mediaTypes(job.source, dataType) };
	}

	// ---- runs (export history) -----------------------------------------------------------

	/**
	 * A page of the export history. The `jobId` filter is only in the v10 reference: on v4 and CDDS
	 * it is not sent, and the page is filtered here by the runs' `parentId` (`scanned` tells the
	 * pager how many runs the API listed).
	 */
	async listRuns(query: ListQuery = {}): Promise<PagedResponse<JobInfo>> {
		const { jobId, ...rest } = query;
		if (jobId === undefined || jobId === '' || API_FLAVOURS[this.flavour].v10Only) {
			return this.json(
				'Listing export runs',
				'GET',
				this.url(this.exportPath('/history'), query),
				pagedOrEmpty(jobInfo),
			);
		}
		const page = await this.json(
			`Listing export runs of job ${jobId}`,
			'GET',
			this.url(this.exportPath('/history'), rest),
			pagedOrEmpty(jobInfo),
		);
		return {
			...page,
			items: page.items.filter(
				(run) =>
					run.parentId !== undefined &&
					run.parentId !== null &&
					String(run.parentId) === String(jobId),
			),
			scanned: page.items.length,
		};
	}

	async getRun(id: number | string): Promise<JobInfo> {
		return this.json(
			`Getting export run ${id}`,
			'GET',
			this.url(this.exportPath(`/history/${encodeId(id)}`)),
			jobInfo,
		);
	}

	async getRunProgress(id: number | string): Promise<JobProgress> {
		return this.json(
			`Getting the progress of export run ${id}`,
			'GET',
			this.url(this.exportPath(`/history/${encodeId(id)}/progress`)),
			jobProgress,
		);
	}

	async deleteRun(id: number | string): Promise<void> {
		return this.noContent(
			`Deleting export run ${id}`,
			'DELETE',
			this.url(this.exportPath(`/history/${encodeId(id)}`)),
		);
	}

	async deleteRuns(ids: Array<number | string>): Promise<void> {
		return this.noContent(
			`Deleting export runs ${ids.join(', ')}`,
			'DELETE',
			this.url(this.exportPath('/history'), { jobIDs: ids.map(encodeId).join(',') }),
		);
	}

	/**
	 * Polls a run until it completes, fails or is cancelled, and returns it as it ended. Throws a
	 * timeout error naming the last progress seen.
	 */
	async waitForRun(id: number | string, options: WaitOptions = {}): Promise<JobInfo> {
		await pollUntil(
			async () => {
				const progress = await this.getRunProgress(id);
				options.onProgress?.(progress);
				return progress;
			},
			(progress) => runState(progress.status) !== 'running',
			{
				...this.polling(options),
				what: `waiting for export run ${id}`,
				timedOut: (last) =>
					new CxError(
						'TIMEOUT',
						`export run ${id} did not finish in time: still ${last.status ?? 'running'} at ${last.progress ?? 0}%; wait longer (raise the timeout) or check the run in Genesys`,
					),
			},
		);
		return this.getRun(id);
	}

	/**
	 * Waits for the first run of `jobId` that started at or after `since` (epoch ms), then for it
	 * to end. A job created to run immediately shows its run after a moment.
	 */
	async waitForJobRun(
		jobId: number | string,
		since: number,
		options: WaitOptions = {},
	): Promise<JobInfo> {
		const polling = this.polling(options);
		const deadline = polling.now() + polling.timeoutMs;
		const run = await pollUntil(
			async () => {
				// v4 and CDDS cannot filter by job: their newest runs are looked through instead.
				const size = API_FLAVOURS[this.flavour].v10Only ? 20 : 100;
				const page = await this.listRuns({
					jobId: String(jobId),
					descAsc: true,
					orderField: 'createdDate',
					from: 0,
					size,
				});
				return page.items
					.filter(
						(r) =>
							r.parentId !== undefined &&
							r.parentId !== null &&
							String(r.parentId) === String(jobId),
					)
					.filter(
						(r) =>
							!r.createdDate ||
							Date.parse(r.createdDate) >= since - 60_000 ||
							Number.isNaN(Date.parse(r.createdDate)),
					)
					.sort((a, b) => a.id - b.id)[0];
			},
			(found) => found !== undefined,
			{
				...polling,
				what: `waiting for a run of export job ${jobId}`,
				timedOut: () =>
					new CxError(
						'TIMEOUT',
						`export job ${jobId} has not started a run in time; check its schedule, or whether it is suspended`,
					),
			},
		);
		return this.waitForRun(run!.id, {
			...options,
			timeoutMs: Math.max(0, deadline - polling.now()),
		});
	}

	private polling(options: WaitOptions) {
		return {
			intervalMs: options.pollIntervalMs ?? 10_000,
			timeoutMs: options.timeoutMs ?? 3_600_000,
			now: this.options.now ?? Date.now,
			sleep: this.options.sleep,
			signal: options.signal ?? this.options.signal,
		};
	}

	// ---- files -----------------------------------------------------------------------------

	/**
	 * A page of file metadata. A `historyId` (run) filter is only in the v10 reference: on v4 and
	 * CDDS the run's files are found by its export's name instead (see `filesOfRunPage`).
	 */
	async listFiles(query: ListQuery = {}): Promise<PagedResponse<FileMetadata>> {
		const { historyId, ...rest } = query;
		if (historyId === undefined || historyId === '') return this.fileMetadatas(query);
		const run = API_FLAVOURS[this.flavour].v10Only
			? { id: Number(encodeId(historyId as string | number)) }
			: await this.getRun(historyId as string | number);
		return this.filesOfRunPage(rest, run);
	}

	/**
	 * The files of one run, all pages, and never another run's: on v10 by the `historyId` filter;
	 * on v4 and CDDS, which have no such filter, by the run's export name (`fileName` of the history,
	 * `export-<uuid>.zip.smime`, whose parts are `export-<uuid>.z01.smime` …). Pass the run when
	 * you have it, to save reading it again.
	 */
	async runFiles(run: number | string | JobInfo): Promise<FileMetadata[]> {
		const info =
			typeof run === 'object'
				? run
				: API_FLAVOURS[this.flavour].v10Only
					? { id: Number(encodeId(run)) }
					: await this.getRun(run);
		const files: FileMetadata[] = [];
		for await (const file of this.all((query) => this.filesOfRunPage(query, info)))
			files.push(file);
		return files;
	}

	private fileMetadatas(query: ListQuery): Promise<PagedResponse<FileMetadata>> {
		return this.json(
			'Listing export files',
			'GET',
			this.url(this.commonPath('/file-metadatas'), query),
			pagedOrEmpty(fileMetadata),
		);
	}

	private async filesOfRunPage(
		query: ListQuery,
		run: Pick<JobInfo, 'id'> & Partial<JobInfo>,
	): Promise<PagedResponse<FileMetadata>> {
		const exportName = exportNameOf(run);
		let page: PagedResponse<FileMetadata>;
		if (API_FLAVOURS[this.flavour].v10Only) {
			page = await this.fileMetadatas({ ...query, historyId: String(run.id) });
		} else {
			if (!exportName) {
				if (runState(run.status) !== 'completed')
					return { count: 0, from: query.from ?? 0, size: 0, items: [] };
				throw new CxError(
					'API_FORMAT',
					`export run ${run.id} completed but Genesys gave no file name for it (fileName): on ${API_FLAVOURS[this.flavour].name} a run's files are told from other runs' only by that name; download them by name (File → Download, Files: By Name)`,
				);
			}
			page = await this.fileMetadatas({ ...query, name: exportName });
		}
		return {
			...page,
			items: page.items.filter((file) => isFileOfRun(file, run.id, exportName)),
			scanned: page.items.length,
		};
	}

	/** A pre-signed URL for a file; it works without credentials until it expires. */
	async getDownloadUrl(filename: string): Promise<string> {
		const [link] = await this.getDownloadUrls([filename]);
		return link.url;
	}

	/**
	 * Pre-signed URLs for files, up to 100 names a request (the reference: "the list of pre-signed
	 * url for specified files list", a comma-separated `filename`). The answer is read as a list of
	 * `{path}` in the order asked, or as one `{path}` for a single name.
	 */
	async getDownloadUrls(filenames: string[]): Promise<Array<{ fileName: string; url: string }>> {
		const links: Array<{ fileName: string; url: string }> = [];
		for (let i = 0; i < filenames.length; i += 100) {
			const names = filenames.slice(i, i + 100);
			const what = names.length === 1 ? names[0] : `${names.length} files`;
			const operation = `Getting download links for ${what}`;
			const answer = await this.json(
				operation,
				'GET',
				this.url(this.commonPath('/files'), { filename: names.join(',') }),
				z.union([preSignedUri, z.array(preSignedUri)]),
				undefined,
				'file',
			);
			const list = Array.isArray(answer) ? answer : [answer];
			if (list.length !== names.length)
				throw this.api.unexpected(
					operation,
					200,
					`${list.length} link(s) for ${names.length} file(s)`,
				);
			names.forEach((fileName, n) => links.push({ fileName, url: list[n].path }));
		}
		return links;
	}

	async deleteFile(filename: string): Promise<void> {
		return this.noContent(
			`Deleting file ${filename}`,
			'DELETE',
			this.url(this.commonPath(`/files/${encodeURIComponent(filename)}`)),
			'file',
		);
	}

	async deleteFiles(filenames: string[]): Promise<void> {
		return this.noContent(
			`Deleting files ${filenames.join(', ')}`,
			'DELETE',
			this.url(this.commonPath('/files'), { filename: filenames.join(',') }),
			'file',
		);
	}

	/**
	 * Where a file is stored now: `GET files/{name}` answers 303 to a pre-signed URL (read here,
	 * not followed, so the Genesys credentials never go to the storage host), or, in some
	 * deployments, 200 with the URL as JSON `path`. Checked by the URL policy before any use.
	 */
	private async storageLocation(filename: string): Promise<URL> {
		const operation = `Downloading ${filename}`;
		const apiUrl = this.url(this.commonPath(`/files/${encodeURIComponent(filename)}`));
		const response = await this.api.call('GET', apiUrl, { context: 'file' });
		const location = response.headers.get('location');
		const what = `the download link of ${filename}`;
		if (response.status >= 300 && response.status < 400 && location) {
			await discard(response);
			return checkUrl(location, { ...this.urlPolicy, apiBase: apiUrl }, what);
		}
		let path: string;
		try {
			path = (await this.api.read(response, operation, preSignedUri, 'file')).path;
		} catch (error) {
			if ((error as ApiError).httpStatus !== undefined && !response.ok) throw error;
			throw this.api.unexpected(
				operation,
				response.status,
				'neither a redirect nor a download link',
				error,
			);
		}
		return checkUrl(path, { ...this.urlPolicy, apiBase: apiUrl }, what);
	}

	/**
	 * Downloads a file from its storage host, streaming. The storage request carries no Genesys
	 * header. Breaks are resumed with Range (or the file is read again and the delivered part
	 * skipped); an expired or refused pre-signed URL is replaced by a fresh one from Genesys.
	 */
	downloadFile(filename: string): DownloadedFile {
		let location: URL | undefined;
		const chunks = refreshingDownload({
			name: filename,
			source: 'Genesys',
			locate: async (refresh) => {
				if (refresh || !location) location = await this.storageLocation(filename);
				return location;
			},
			check: (url) => checkUrl(url, this.urlPolicy, `the download of ${filename}`),
			fetch: this.options.fetch ?? checkedFetch(this.urlPolicy),
			retry: this.api.retryOptions(),
			signal: this.options.signal,
			refreshes: this.options.urlRefreshes ?? 2,
			resumes: this.options.downloadResumes ?? 3,
			refusedHint:
				'the download link keeps being refused: the file may have expired (30-day retention)',
			log: this.options.log,
		});
		return { name: filename, chunks };
	}

	// ---- certificate ---------------------------------------------------------------------

	/** The certificate exports are encrypted to; undefined when none was uploaded. */
	async getCertificate(): Promise<CertificateInfo | undefined> {
		const url = this.url(this.commonPath('/cipher'));
		const response = await this.api.call('GET', url);
		if (response.status === 404 || response.status === 204) {
			await discard(response);
			return undefined;
		}
		return this.api.read(response, 'Getting the encryption certificate', certificateInfo);
	}

	/** Uploads the certificate (PEM) that later exports are encrypted to. */
	async uploadCertificate(filename: string, pem: string | Buffer): Promise<void> {
		const text = Buffer.isBuffer(pem) ? pem.toString('latin1') : pem;
		if (!/-----BEGIN CERTIFICATE-----/.test(text)) {
			throw new CxError(
				'USAGE',
				`${filename} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line); upload the certificate, not the private key`,
			);
		}
		if (/PRIVATE KEY-----/.test(text)) {
			throw new CxError(
				'USAGE',
				`${filename} holds a private key: upload only the certificate (its public part) to Genesys`,
			);
		}
		const body = multipartFile(
			'file',
			filename,
			Buffer.from(text, 'latin1'),
			'application/x-x509-ca-cert',
		);
		await this.noContent(
			`Uploading certificate ${filename}`,
			'POST',
			this.url(this.commonPath(`/cipher/${encodeURIComponent(filename)}`)),
			'api',
			body,
		);
	}

	// ---- reference data --------------------------------------------------------------------

	/**
	 * The data sources a job can export from. Info Mart is left out: the admin guide says "Info Mart
	 * exports are not supported. Do not select Info Mart as the data source".
	 */
	async sources(): Promise<KeyValueItem[]> {
		const sources = await this.json(
			'Listing data sources',
			'GET',
			this.url(this.commonPath('/data/sources')),
			listOf(referenceItem),
		);
		return sources.filter((s) => !INFO_MART.test(s.value) && !INFO_MART.test(s.label));
	}

	/** The data types of a source; the v3 reference answers `{name, source}`, read as `{label, value}`. */
	async types(source?: string): Promise<KeyValueItem[]> {
		return this.json(
			'Listing data types',
			'GET',
			this.url(this.commonPath('/data/types'), { source }),
			listOf(referenceItem),
		);
	}

	async subTypes(source?: string, dataType?: string): Promise<SubType[]> {
		return this.json(
			'Listing data sub-types',
			'GET',
			this.url(this.commonPath('/data/sub-types'), { source, dataType }),
			listOf(subType),
		);
	}

	async attributes(entities?: string): Promise<Record<string, unknown>> {
		return this.json(
			'Listing interaction attributes',
			'GET',
			this.url(this.commonPath('/data/attributes', true), { entities }),
			z.record(z.string(), z.unknown()).default({}),
		);
	}

	async jobStatuses(): Promise<KeyValueItem[]> {
		return this.json(
			'Listing job statuses',
			'GET',
			this.url(this.commonPath('/data/job-statuses')),
			listOf(referenceItem),
		);
	}

	async labels(): Promise<Record<string, unknown>> {
		return this.json(
			'Listing labels',
			'GET',
			this.url(this.commonPath('/resources/labels', true)),
			z.record(z.string(), z.unknown()).default({}),
		);
	}

	async version(): Promise<VersionInfo> {
		return this.json(
			'Getting the service version',
			'GET',
			this.url(this.commonPath('/version')),
			versionInfo,
		);
	}

	// ---- paging ----------------------------------------------------------------------------

	/**
	 * Every item of a paged list, page by page (`from`/`size`), stopping at `limit` items, at the
	 * stated `count`, or at a short page.
	 */
	async *all<T>(
		page: (query: { from: number; size: number }) => Promise<PagedResponse<T>>,
		options: { limit?: number; pageSize?: number } = {},
	): AsyncGenerator<T> {
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
			// A page filtered here (v4/CDDS runs of a job, files of a run) says how many the API listed.
			const listed = answer.scanned ?? answer.items.length;
			from += listed;
			if (listed === 0 || listed < size) return;
			if (typeof answer.count === 'number' && from >= answer.count) return;
		}
	}
}

// ---- helpers ---------------------------------------------------------------------------------

/** List endpoints answer 204 with no body when nothing matches. */
function pagedOrEmpty<T extends z.ZodType>(item: T) {
	return pagedResponse(item)
		.optional()
		.transform(
			(page) => page ?? { count: 0, from: 0, size: 0, items: [] as z.infer<T>[] },
		) as unknown as z.ZodType<PagedResponse<z.infer<T>>>;
}

function listOf<T extends z.ZodType>(item: T) {
	return z
		.array(item)
		.optional()
		.transform((list) => list ?? []) as unknown as z.ZodType<z.infer<T>[]>;
}

function encodeId(id: number | string): string {
	const text = String(id).trim();
	if (!/^\d+$/.test(text))
		throw new CxError('USAGE', `"${text}" is not a job or run ID (a whole number)`);
	return text;
}

/** A multipart/form-data body with one file field. */
export function multipartFile(
	field: string,
	filename: string,
	content: Buffer,
	contentType: string,
): { text: Buffer; contentType: string } {
	const boundary = `----cx-export-${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
	const safeName = filename.replace(/["\r\n]/g, '_');
	const head = Buffer.from(
		`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${safeName}"\r\nContent-Type: ${contentType}\r\n\r\n`,
		'utf8',
	);
	const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
	return {
		text: Buffer.concat([head, content, tail]),
		contentType: `multipart/form-data; boundary=${boundary}`,
	};
}
