/**
 * Connectif export jobs: create (contacts, activities, data explorer), read, list (following
 * `links.next`), wait for the end, and download the file — a zip holding one CSV — from its
 * `fileUrl`, which Connectif makes anew on every read and which works for 100 minutes.
 * Checks what Connectif would refuse before sending (the 31-day limit on activity periods).
 */
import { z } from 'zod';
import { ApiError, CxError } from '../errors';
import { ApiCaller, pollUntil, type ClientOptions } from '../http/api';
import { refreshingDownload } from '../http/download';
import { describeUrl } from '../http/redirect';
import { checkedFetch } from '../http/transport';
import { checkUrl, urlPolicy, type UrlPolicy } from '../http/urlPolicy';

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
		.looseObject({
			activityTypes: z.array(z.string()).nullable().optional(),
			fromDate: optString,
			toDate: optString,
			reportId: optString,
			segmentId: optString,
		})
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

export interface ConnectifOptions extends ClientOptions {
	baseUrl?: string;
}

export interface WaitOptions {
	pollIntervalMs?: number;
	timeoutMs?: number;
	signal?: AbortSignal;
	onProgress?: (exp: ConnectifExport) => void;
}

export type ExportState = 'queued' | 'running' | 'finished' | 'error' | 'unknown';

/**
 * Where an export stands. The reference leaves the list of statuses empty; the ones seen in
 * practice are queued, inProgress, finished and error (a few synonyms are read too). Any other
 * word is 'unknown' — except that an export with a `fileUrl` is finished, as the reference
 * defines the URL "only when the export status is finished".
 */
export function exportState(status: string, fileUrl?: string | null): ExportState {
	const s = status.toLowerCase().replace(/[^a-z]/g, '');
	if (['finished', 'completed', 'done', 'success'].includes(s)) return 'finished';
	if (['error', 'failed', 'failure', 'cancelled', 'canceled'].includes(s)) return 'error';
	if (['queued', 'pending', 'created', 'waiting'].includes(s)) return 'queued';
	if (['inprogress', 'running', 'processing', 'started', 'exporting'].includes(s)) return 'running';
	return fileUrl ? 'finished' : 'unknown';
}

function isoDate(value: string | undefined, field: string): string | undefined {
	if (value === undefined || value.trim() === '') return undefined;
	const t = Date.parse(value);
	if (Number.isNaN(t))
		throw new CxError(
			'USAGE',
			`${field} "${value}" is not a date (ISO 8601, e.g. 2026-11-01T00:00:00.000Z)`,
		);
	return new Date(t).toISOString();
}

/**
 * Both dates, in order; at most 31 days apart when `capped` (activities: the limit known for them;
 * nothing documents one for data-explorer exports, so none is applied there).
 */
function checkPeriod(
	fromDate: string | undefined,
	toDate: string | undefined,
	what: string,
	capped: boolean,
): void {
	if (!fromDate || !toDate)
		throw new CxError('USAGE', `${what} exports need both a from date and a to date`);
	const span = Date.parse(toDate) - Date.parse(fromDate);
	if (span < 0)
		throw new CxError('USAGE', `the from date (${fromDate}) is after the to date (${toDate})`);
	if (capped && span > MAX_PERIOD_MS) {
		const days = Math.ceil(span / (24 * 3_600_000));
		throw new CxError(
			'USAGE',
			`Connectif exports at most 31 days of ${what} at a time; ${fromDate} to ${toDate} is ${days} days: split the period into several exports`,
		);
	}
}

function checkDelimiter(delimiter: string | undefined): void {
	if (delimiter !== undefined && delimiter !== ',' && delimiter !== ';')
		throw new CxError('USAGE', `the delimiter must be "," or ";", not "${delimiter}"`);
}

/** The body of a contacts or activities export, checked as Connectif would. */
export function createExportBody(request: CreateExportRequest): Record<string, unknown> {
	if (request.exportType !== 'contacts' && request.exportType !== 'activities')
		throw new CxError(
			'USAGE',
			`export type "${String(request.exportType)}" is not contacts or activities`,
		);
	checkDelimiter(request.delimiter);
	const filters: Record<string, unknown> = {};
	const fromDate = isoDate(request.filters?.fromDate, 'fromDate');
	const toDate = isoDate(request.filters?.toDate, 'toDate');
	if (request.exportType === 'activities') {
		checkPeriod(fromDate, toDate, 'activities', true);
		filters.fromDate = fromDate;
		filters.toDate = toDate;
		if (request.filters?.activityTypes && request.filters.activityTypes.length > 0)
			filters.activityTypes = request.filters.activityTypes;
	} else if (fromDate || toDate || (request.filters?.activityTypes?.length ?? 0) > 0) {
		throw new CxError(
			'USAGE',
			'dates and activity types filter activities exports only; a contacts export takes a segment at most',
		);
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
	if (!request.reportId || request.reportId.trim() === '')
		throw new CxError('USAGE', 'a data explorer export needs the report ID');
	checkDelimiter(request.delimiter);
	const fromDate = isoDate(request.fromDate, 'fromDate');
	const toDate = isoDate(request.toDate, 'toDate');
	checkPeriod(fromDate, toDate, 'data explorer report data', false);
	return {
		...(request.dateFormat ? { dateFormat: request.dateFormat } : {}),
		...(request.delimiter ? { delimiter: request.delimiter } : {}),
		filters: { reportId: request.reportId.trim(), fromDate, toDate },
	};
}

function hintFor(status: number): string | undefined {
	if (status === 401 || status === 403)
		return 'check the API key of the Connectif credential (and that it may use exports)';
	if (status === 404) return 'check the export ID';
	if (status === 429) return 'Connectif is rate-limiting this API key; retry later';
	if (status >= 500) return 'a Connectif service error; retry later';
	return undefined;
}

/** The error for a failed call, from its status and (capped, possibly non-JSON) body text. */
export function connectifError(status: number, text: string, operation: string): ApiError {
	let message: string | undefined;
	try {
		const body = JSON.parse(text) as { message?: unknown; error?: unknown };
		message =
			typeof body.message === 'string'
				? body.message
				: typeof body.error === 'string'
					? body.error
					: undefined;
	} catch {
		// not JSON
	}
	return new ApiError({
		httpStatus: status,
		operation,
		service: 'Connectif',
		remoteMessage: message?.slice(0, 300),
		hint: hintFor(status),
	});
}

export interface DownloadedExport {
	export: ConnectifExport;
	chunks: AsyncIterable<Buffer>;
}

export class ConnectifClient {
	private readonly base: URL;
	private readonly api: ApiCaller;
	/** What file links may point at. */
	readonly urlPolicy: UrlPolicy;

	constructor(private readonly options: ConnectifOptions) {
		const text = options.baseUrl ?? CONNECTIF_API;
		try {
			this.base = new URL(text);
		} catch {
			throw new CxError('USAGE', `the Connectif base URL "${text}" is not a URL`);
		}
		if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:')
			throw new CxError(
				'USAGE',
				`the Connectif base URL must be http(s), not ${this.base.protocol}`,
			);
		this.base.pathname = `${this.base.pathname.replace(/\/+$/, '')}/`;
		this.urlPolicy = urlPolicy(this.base, options.allowedHosts);
		this.api = new ApiCaller({
			service: 'Connectif',
			send: options.send,
			errorFor: connectifError,
			unexpectedHint: (what) => `unexpected answer (${what}); check the base URL`,
			retry: options.retry,
			sleep: options.sleep,
			now: options.now,
			signal: options.signal,
			log: options.log,
		});
	}

	private url(path: string): URL {
		return new URL(path.replace(/^\/+/, ''), this.base);
	}

	async createExport(request: CreateExportRequest): Promise<ConnectifExport> {
		return this.api.json(
			`Creating a ${request.exportType} export`,
			'POST',
			this.url('exports/'),
			connectifExport,
			{ json: createExportBody(request) },
		);
	}

	async createDataExplorerExport(request: CreateDataExplorerRequest): Promise<ConnectifExport> {
		return this.api.json(
			'Creating a data explorer export',
			'POST',
			this.url('exports/type/data-explorer'),
			connectifExport,
			{ json: dataExplorerBody(request) },
		);
	}

	async getExport(id: string): Promise<ConnectifExport> {
		const clean = id.trim();
		if (!/^[\w-]+$/.test(clean)) throw new CxError('USAGE', `"${id}" is not an export ID`);
		return this.api.json(
			`Getting export ${clean}`,
			'GET',
			this.url(`exports/${encodeURIComponent(clean)}`),
			connectifExport,
		);
	}

	/** Every export, page after page (`links.next`), up to `limit`. */
	async *listExports(
		options: { limit?: number; pageSize?: number } = {},
	): AsyncGenerator<ConnectifExport> {
		const limit = options.limit ?? Infinity;
		let url: URL | undefined = this.url('exports');
		if (options.pageSize) url.searchParams.set('limit', String(options.pageSize));
		let yielded = 0;
		const seen = new Set<string>();
		while (url) {
			const page: z.infer<typeof exportList> = await this.api.json(
				'Listing exports',
				'GET',
				url,
				exportList,
			);
			for (const item of page.results) {
				yield item;
				if (++yielded >= limit) return;
			}
			const next: string | null | undefined = page.links?.next;
			if (!next || page.results.length === 0) return;
			const nextUrl: URL = new URL(next, url);
			// The API key goes only to the API's own host.
			if (nextUrl.origin !== this.base.origin)
				throw new CxError(
					'USAGE',
					`the next page is on another host (${describeUrl(nextUrl)}); not following it with the API key`,
				);
			if (seen.has(nextUrl.href)) return;
			seen.add(nextUrl.href);
			url = nextUrl;
		}
	}

	/** Polls until the export is finished (returned) or in error (thrown, with Connectif's reason). */
	async waitForExport(id: string, options: WaitOptions = {}): Promise<ConnectifExport> {
		const finished = await pollUntil(
			async () => {
				const current = await this.getExport(id);
				options.onProgress?.(current);
				return current;
			},
			// An unknown status ends the wait at once: it is reported, not waited out until the timeout.
			(current) =>
				['finished', 'error', 'unknown'].includes(exportState(current.status, current.fileUrl)),
			{
				intervalMs: options.pollIntervalMs ?? 10_000,
				timeoutMs: options.timeoutMs ?? 3_600_000,
				signal: options.signal ?? this.options.signal,
				now: this.options.now,
				sleep: this.options.sleep,
				what: `waiting for Connectif export ${id}`,
				timedOut: (current) => {
					const done = current.total ? ` (${current.progress ?? 0} of ${current.total} items)` : '';
					return new CxError(
						'TIMEOUT',
						`Connectif export ${id} is still ${current.status}${done}; wait longer (raise the timeout) or check it in Connectif`,
					);
				},
			},
		);
		const state = exportState(finished.status, finished.fileUrl);
		if (state === 'unknown') {
			throw new CxError(
				'API_FORMAT',
				`Connectif export ${id} has the status "${finished.status}", which is none of queued, inProgress, finished or error, and no file: stopped waiting rather than wait for the timeout; check the export in Connectif`,
			);
		}
		if (state === 'error') {
			const reason =
				finished.errorMessage ??
				(typeof finished.error === 'string'
					? finished.error
					: finished.error
						? JSON.stringify(finished.error).slice(0, 300)
						: undefined);
			throw new CxError(
				'EXPORT_FAILED',
				`Connectif export ${id} ended in error${reason ? `: ${reason}` : ''}`,
			);
		}
		return finished;
	}

	/**
	 * The export's file, streamed from its `fileUrl` without the API key. A URL read more than 100
	 * minutes ago (or refused as expired) is replaced by reading the export again.
	 */
	downloadExport(exp: ConnectifExport, readAt: number): DownloadedExport {
		const now = this.options.now ?? Date.now;
		let current = exp;
		let at = readAt;
		const name = `Connectif export ${exp.id}`;
		const chunks = refreshingDownload({
			name,
			source: 'Connectif',
			locate: async (refresh) => {
				if (refresh || !current.fileUrl || now() - at >= FILE_URL_LIFETIME_MS - 60_000) {
					current = await this.getExport(exp.id);
					at = now();
				}
				if (exportState(current.status, current.fileUrl) !== 'finished' || !current.fileUrl)
					throw new CxError(
						'DOWNLOAD',
						`${name} has no file (status ${current.status}): wait for it to finish`,
					);
				return checkUrl(current.fileUrl, this.urlPolicy, `the file link of ${name}`);
			},
			check: (url) => checkUrl(url, this.urlPolicy, `the download of ${name}`),
			fetch: this.options.fetch ?? checkedFetch(this.urlPolicy),
			retry: this.api.retryOptions(),
			signal: this.options.signal,
			refusedHint: 'the file link keeps being refused: read the export again later',
			log: this.options.log,
		});
		return { export: current, chunks };
	}
}
