/**
 * Connectif export jobs: create (contacts, activities, data explorer), read, list (following
 * `links.next`), wait for the end, and download the file — a zip holding one CSV — from its
 * `fileUrl`, which Connectif makes anew on every read and which works for 100 minutes.
 * Checks what Connectif would refuse before sending (the 31-day limit on activity periods).
 */
import { z } from 'zod';
import { CxError } from '../errors';
import { describeUrl, fetchFollowingRedirects } from '../http/redirect';
import { resumableDownload } from '../http/download';
import { httpDecision, retrying, type RetryOptions } from '../http/retry';
import type { HttpMethod, Send } from '../genesys/client';

export const CONNECTIF_API = 'https://api.connectif.cloud';
/** How long a `fileUrl` works after the export was read. */
export const FILE_URL_LIFETIME_MS = 100 * 60_000;
const MAX_PERIOD_MS = 31 * 24 * 3_600_000;

const optString = z.string().nullable().optional();
const optInt = z.number().int().nullable().optional();

export const connectifExport = z.looseObject({
	id: z.string(),
	status: z.string(),
	exportType: optString,
	createdAt: optString,
	finishedAt: optString,
	dateFormat: optString,
	delimiter: optString,
	fileExtension: optString,
	fileName: optString,
	fileUrl: optString,
	filters: z
		.looseObject({ activityTypes: z.array(z.string()).nullable().optional(), fromDate: optString, toDate: optString, reportId: optString, segmentId: optString })
		.nullable()
		.optional(),
	origin: optString,
	progress: optInt,
	total: optInt,
	version: optString,
	/** Present on failed exports in practice. */
	error: z.unknown().optional(),
	errorMessage: optString,
});
export type ConnectifExport = z.infer<typeof connectifExport>;

const exportList = z.looseObject({
	links: z.looseObject({ next: optString, prev: optString }).nullable().optional(),
	results: z.array(connectifExport).default([]),
});

export type ExportType = 'contacts' | 'activities';

export interface CreateExportRequest {
	exportType: ExportType;
	dateFormat?: string;
	/** "," or ";" */
	delimiter?: string;
	filters?: { fromDate?: string; toDate?: string; segmentId?: string; activityTypes?: string[] };
}

export interface CreateDataExplorerRequest {
	reportId: string;
	fromDate: string;
	toDate: string;
	dateFormat?: string;
	delimiter?: string;
}

export interface ConnectifOptions {
	baseUrl?: string;
	/** Sends an API request with `Authorization: apiKey …`. */
	send: Send;
	/** For the file host (no credentials are ever given to it). */
	fetch?: typeof fetch;
	retry?: RetryOptions;
	now?: () => number;
	sleep?: (ms: number) => Promise<void>;
	log?: (message: string) => void;
}

export interface WaitOptions {
	pollIntervalMs?: number;
	timeoutMs?: number;
	signal?: AbortSignal;
	onProgress?: (exp: ConnectifExport) => void;
}

export type ExportState = 'queued' | 'running' | 'finished' | 'error';

/** Where an export stands, whatever the exact word Connectif used. */
export function exportState(status: string): ExportState {
	const s = status.toLowerCase().replace(/[^a-z]/g, '');
	if (['finished', 'completed', 'done', 'success'].includes(s)) return 'finished';
	if (['error', 'failed', 'failure', 'cancelled', 'canceled'].includes(s)) return 'error';
	if (['queued', 'pending', 'created', 'waiting'].includes(s)) return 'queued';
	return 'running';
}

function isoDate(value: string | undefined, field: string): string | undefined {
	if (value === undefined || value.trim() === '') return undefined;
	const t = Date.parse(value);
	if (Number.isNaN(t)) throw new CxError('USAGE', `${field} "${value}" is not a date (ISO 8601, e.g. 2026-11-01T00:00:00.000Z)`);
	return new Date(t).toISOString();
}

function checkPeriod(fromDate: string | undefined, toDate: string | undefined, what: string): void {
	if (!fromDate || !toDate) throw new CxError('USAGE', `${what} exports need both a from date and a to date`);
	const span = Date.parse(toDate) - Date.parse(fromDate);
	if (span < 0) throw new CxError('USAGE', `the from date (${fromDate}) is after the to date (${toDate})`);
	if (span > MAX_PERIOD_MS) {
		const days = Math.ceil(span / (24 * 3_600_000));
		throw new CxError('USAGE', `Connectif exports at most 31 days of ${what} at a time; ${fromDate} to ${toDate} is ${days} days: split the period into several exports`);
	}
}

function checkDelimiter(delimiter: string | undefined): void {
	if (delimiter !== undefined && delimiter !== ',' && delimiter !== ';') throw new CxError('USAGE', `the delimiter must be "," or ";", not "${delimiter}"`);
}

/** The body of a contacts or activities export, checked as Connectif would. */
export function createExportBody(request: CreateExportRequest): Record<string, unknown> {
	if (request.exportType !== 'contacts' && request.exportType !== 'activities') throw new CxError('USAGE', `export type "${String(request.exportType)}" is not contacts or activities`);
	checkDelimiter(request.delimiter);
	const filters: Record<string, unknown> = {};
	const fromDate = isoDate(request.filters?.fromDate, 'fromDate');
	const toDate = isoDate(request.filters?.toDate, 'toDate');
	if (request.exportType === 'activities') {
		checkPeriod(fromDate, toDate, 'activities');
		filters.fromDate = fromDate;
		filters.toDate = toDate;
		if (request.filters?.activityTypes && request.filters.activityTypes.length > 0) filters.activityTypes = request.filters.activityTypes;
	} else if (fromDate || toDate || (request.filters?.activityTypes?.length ?? 0) > 0) {
		throw new CxError('USAGE', 'dates and activity types filter activities exports only; a contacts export takes a segment at most');
	}
	if (request.filters?.segmentId) filters.segmentId = request.filters.segmentId;
	return {
		exportType: request.exportType,
		...(request.dateFormat ? { dateFormat: request.dateFormat } : {}),
		...(request.delimiter ? { delimiter: request.delimiter } : {}),
		...(Object.keys(filters).length > 0 ? { filters } : {}),
	};
}

/** The body of a data-explorer export, checked. */
export function dataExplorerBody(request: CreateDataExplorerRequest): Record<string, unknown> {
	if (!request.reportId || request.reportId.trim() === '') throw new CxError('USAGE', 'a data explorer export needs the report ID');
	checkDelimiter(request.delimiter);
	const fromDate = isoDate(request.fromDate, 'fromDate');
	const toDate = isoDate(request.toDate, 'toDate');
	checkPeriod(fromDate, toDate, 'data explorer report data');
	return {
		...(request.dateFormat ? { dateFormat: request.dateFormat } : {}),
		...(request.delimiter ? { delimiter: request.delimiter } : {}),
		filters: { reportId: request.reportId.trim(), fromDate, toDate },
	};
}

export class ConnectifApiError extends Error {
	constructor(
		readonly httpStatus: number,
		message: string,
		readonly hint?: string,
	) {
		super(hint ? `${message}; ${hint}` : message);
		this.name = 'ConnectifApiError';
	}
}

function hintFor(status: number): string | undefined {
	if (status === 401 || status === 403) return 'check the API key of the Connectif credential (and that it may use exports)';
	if (status === 404) return 'check the export ID';
	if (status === 429) return 'Connectif is rate-limiting this API key; retry later';
	if (status >= 500) return 'a Connectif service error; retry later';
	return undefined;
}

async function connectifError(response: Response, operation: string): Promise<ConnectifApiError> {
	const text = await response.text().catch(() => '');
	let detail = '';
	try {
		const body = JSON.parse(text) as { message?: unknown; error?: unknown; errors?: unknown };
		const message = typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : undefined;
		if (message) detail = `: ${message.slice(0, 300)}`;
	} catch {
		// not JSON
	}
	return new ConnectifApiError(response.status, `${operation} failed: HTTP ${response.status}${detail}`, hintFor(response.status));
}

export interface DownloadedExport {
	export: ConnectifExport;
	chunks: AsyncIterable<Buffer>;
}

export class ConnectifClient {
	private readonly base: URL;

	constructor(private readonly options: ConnectifOptions) {
		const text = options.baseUrl ?? CONNECTIF_API;
		try {
			this.base = new URL(text);
		} catch {
			throw new CxError('USAGE', `the Connectif base URL "${text}" is not a URL`);
		}
		this.base.pathname = `${this.base.pathname.replace(/\/+$/, '')}/`;
	}

	private url(path: string): URL {
		return new URL(path.replace(/^\/+/, ''), this.base);
	}

	private call(method: HttpMethod, url: URL, body?: unknown): Promise<Response> {
		let previous: Response | undefined;
		return retrying(
			async () => {
				await previous?.body?.cancel().catch(() => undefined);
				const headers: Record<string, string> = { accept: 'application/json' };
				if (body !== undefined) headers['content-type'] = 'application/json';
				previous = await this.options.send({ method, url, headers, body: body === undefined ? undefined : JSON.stringify(body) });
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

	private async json<T>(operation: string, method: HttpMethod, url: URL, schema: z.ZodType<T>, body?: unknown): Promise<T> {
		const response = await this.call(method, url, body);
		if (!response.ok) throw await connectifError(response, operation);
		const text = await response.text();
		let parsed: z.ZodSafeParseResult<T>;
		try {
			parsed = schema.safeParse(JSON.parse(text));
		} catch {
			throw new ConnectifApiError(response.status, `${operation}: the answer is not JSON`, 'check the base URL');
		}
		if (!parsed.success) {
			const issue = parsed.error.issues[0];
			throw new ConnectifApiError(response.status, `${operation}: unexpected answer (${issue.path.join('.') || 'body'}: ${issue.message})`, 'check the base URL');
		}
		return parsed.data;
	}

	async createExport(request: CreateExportRequest): Promise<ConnectifExport> {
		return this.json(`Creating a ${request.exportType} export`, 'POST', this.url('exports/'), connectifExport, createExportBody(request));
	}

	async createDataExplorerExport(request: CreateDataExplorerRequest): Promise<ConnectifExport> {
		return this.json('Creating a data explorer export', 'POST', this.url('exports/type/data-explorer'), connectifExport, dataExplorerBody(request));
	}

	async getExport(id: string): Promise<ConnectifExport> {
		const clean = id.trim();
		if (!/^[\w-]+$/.test(clean)) throw new CxError('USAGE', `"${id}" is not an export ID`);
		return this.json(`Getting export ${clean}`, 'GET', this.url(`exports/${encodeURIComponent(clean)}`), connectifExport);
	}

	/** Every export, page after page (`links.next`), up to `limit`. */
	async *listExports(options: { limit?: number; pageSize?: number } = {}): AsyncGenerator<ConnectifExport> {
		const limit = options.limit ?? Infinity;
		let url: URL | undefined = this.url('exports');
		if (options.pageSize) url.searchParams.set('limit', String(options.pageSize));
		let yielded = 0;
		const seen = new Set<string>();
		while (url) {
			const page: z.infer<typeof exportList> = await this.json('Listing exports', 'GET', url, exportList);
			for (const item of page.results) {
				yield item;
				if (++yielded >= limit) return;
			}
			const next: string | null | undefined = page.links?.next;
			if (!next || page.results.length === 0) return;
			const nextUrl: URL = new URL(next, url);
			// The API key goes only to the API's own host.
			if (nextUrl.origin !== this.base.origin) throw new CxError('USAGE', `the next page is on another host (${describeUrl(nextUrl)}); not following it with the API key`);
			if (seen.has(nextUrl.href)) return;
			seen.add(nextUrl.href);
			url = nextUrl;
		}
	}

	/** Polls until the export is finished (returned) or in error (thrown, with Connectif's reason). */
	async waitForExport(id: string, options: WaitOptions = {}): Promise<ConnectifExport> {
		const now = this.options.now ?? Date.now;
		const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
		const interval = Math.max(0, options.pollIntervalMs ?? 10_000);
		const deadline = now() + (options.timeoutMs ?? 3_600_000);
		for (;;) {
			if (options.signal?.aborted) throw new CxError('TIMEOUT', `stopped waiting for export ${id}`);
			const current = await this.getExport(id);
			options.onProgress?.(current);
			const state = exportState(current.status);
			if (state === 'finished') return current;
			if (state === 'error') {
				const reason = current.errorMessage ?? (typeof current.error === 'string' ? current.error : current.error ? JSON.stringify(current.error).slice(0, 300) : undefined);
				throw new CxError('EXPORT_FAILED', `Connectif export ${id} ended in error${reason ? `: ${reason}` : ''}`);
			}
			if (now() + interval > deadline) {
				const done = current.total ? ` (${current.progress ?? 0} of ${current.total} items)` : '';
				throw new CxError('TIMEOUT', `Connectif export ${id} is still ${current.status}${done}; wait longer (raise the timeout) or check it in Connectif`);
			}
			await sleep(interval);
		}
	}

	/**
	 * The export's file, streamed from its `fileUrl` without the API key. A URL read more than 100
	 * minutes ago (or refused as expired) is replaced by reading the export again.
	 */
	downloadExport(exp: ConnectifExport, readAt: number): DownloadedExport {
		const now = this.options.now ?? Date.now;
		const doFetch = this.options.fetch ?? fetch;
		let current = exp;
		let at = readAt;
		let refreshed = 0;
		const fresh = async (): Promise<URL> => {
			if (!current.fileUrl || now() - at >= FILE_URL_LIFETIME_MS - 60_000) {
				current = await this.getExport(exp.id);
				at = now();
			}
			if (exportState(current.status) !== 'finished' || !current.fileUrl) throw new CxError('DOWNLOAD', `Connectif export ${exp.id} has no file (status ${current.status}): wait for it to finish`);
			return new URL(current.fileUrl);
		};
		const open = async (offset: number): Promise<Response> => {
			for (;;) {
				const target = await fresh();
				const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
				const response = await retrying(async () => (await fetchFollowingRedirects(target, { headers }, { fetch: doFetch })).response, httpDecision, {
					...this.options.retry,
					sleep: this.options.retry?.sleep ?? this.options.sleep,
				});
				if (response.ok) return response;
				await response.body?.cancel().catch(() => undefined);
				if ((response.status === 403 || response.status === 400 || response.status === 401) && refreshed < 2) {
					refreshed++;
					this.options.log?.(`export ${exp.id}: the file link was refused (HTTP ${response.status}); reading the export again for a new one`);
					at = -Infinity;
					continue;
				}
				throw new CxError('DOWNLOAD', `Connectif export ${exp.id}: the file host ${describeUrl(target)} answered HTTP ${response.status}`);
			}
		};
		return { export: current, chunks: resumableDownload(open, { name: `export ${exp.id}`, resumes: 3 }) };
	}
}
