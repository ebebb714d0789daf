/**
 * Genesys Context Services (Context Management Service) maintenance exports, from the API
 * reference: "Export Services to File by Date" (`POST maintenance/services/files`, the server writes
 * the files and answers their paths) and "Export Services to JSON Stream by Date"
 * (`GET maintenance/services/stream`, IDs only or full services, read here as a stream).
 * Parameters are checked before anything is sent; dates go out as ISO 8601 UTC with milliseconds,
 * as the reference writes them (`2014-09-02T08:00:00.000Z`).
 */
import { z } from 'zod';
import { ApiError, CxError } from '../errors';
import { ApiCaller, type ClientOptions } from '../http/api';
import { jsonArrayElements } from '../jsonl/array';

export type FilterEvents = 'any' | 'started' | 'completed';
export type FilterState = 'any' | 'active' | 'inactive';

export interface ExportWindow {
	/** Required: services with an event (or state) from this date/time. */
	timeFrom: string | Date;
	/** Default: now (the server's). */
	timeTo?: string | Date;
	filterEvents?: FilterEvents;
}

export interface ExportToFilesRequest extends ExportWindow {
	filterState?: FilterState;
	/** Destination path and prefix on the server, e.g. `/var/exports/cs-`. */
	filePrefix: string;
	compression?: 'uncompressed' | 'zip' | 'gzip';
	separator?: string;
	format?: 'csv' | 'json';
}

export interface ExportStreamRequest extends ExportWindow {
	/** true: every service's data; false (default): service IDs only. */
	exportContent?: boolean;
	/** Only with `exportContent` (the reference says so). */
	filterState?: FilterState;
}

/** `send` adds the credential's headers (API key, basic auth, ContactCenterId). */
export interface ContextServicesOptions
	extends Pick<ClientOptions, 'send' | 'retry' | 'signal' | 'log'> {
	/** e.g. http://cs-host:8080/genesys/1/cs */
	baseUrl: string;
}

const EVENTS: readonly FilterEvents[] = ['any', 'started', 'completed'];
const STATES: readonly FilterState[] = ['any', 'active', 'inactive'];

/** A date as the API wants it: ISO 8601, UTC, milliseconds. Refuses what is not a date, naming the field. */
export function isoUtc(value: string | Date, field: string): string {
	const date = value instanceof Date ? value : new Date(String(value).trim());
	if (Number.isNaN(date.getTime()) || (typeof value === 'string' && value.trim() === '')) {
		throw new CxError(
			'USAGE',
			`${field} "${String(value)}" is not a date: write it like 2014-09-02T08:00:00.000Z`,
		);
	}
	return date.toISOString();
}

function windowQuery(request: ExportWindow): Record<string, string> {
	if (request.timeFrom === undefined || request.timeFrom === null || request.timeFrom === '')
		throw new CxError('USAGE', 'time_from is required: the start of the export period');
	const query: Record<string, string> = { time_from: isoUtc(request.timeFrom, 'time_from') };
	if (request.timeTo !== undefined && request.timeTo !== '') {
		query.time_to = isoUtc(request.timeTo, 'time_to');
		if (Date.parse(query.time_to) < Date.parse(query.time_from))
			throw new CxError(
				'USAGE',
				`time_to (${query.time_to}) is before time_from (${query.time_from})`,
			);
	}
	if (request.filterEvents !== undefined) {
		if (!EVENTS.includes(request.filterEvents))
			throw new CxError(
				'USAGE',
				`filter_events "${request.filterEvents}" is not one of ${EVENTS.join(', ')}`,
			);
		query.filter_events = request.filterEvents;
	}
	return query;
}

function checkState(state: FilterState | undefined): void {
	if (state !== undefined && !STATES.includes(state))
		throw new CxError('USAGE', `filter_state "${state}" is not one of ${STATES.join(', ')}`);
}

/** The query of an export-to-files request, checked. */
export function filesQuery(request: ExportToFilesRequest): Record<string, string> {
	const query = windowQuery(request);
	checkState(request.filterState);
	if (request.filterState !== undefined) query.filter_state = request.filterState;
	const prefix = (request.filePrefix ?? '').trim();
	if (prefix === '')
		throw new CxError(
			'USAGE',
			'file_prefix is required: the path and file name prefix on the Context Services host, e.g. /var/exports/cs-',
		);
	query.file_prefix = prefix;
	if (request.compression !== undefined) {
		if (!['uncompressed', 'zip', 'gzip'].includes(request.compression))
			throw new CxError(
				'USAGE',
				`compression "${request.compression}" is not one of uncompressed, zip, gzip`,
			);
		query.compression = request.compression;
	}
	if (request.format !== undefined) {
		if (!['csv', 'json'].includes(request.format))
			throw new CxError('USAGE', `format "${request.format}" is not csv or json`);
		query.format = request.format;
	}
	if (request.separator !== undefined && request.separator !== '') {
		if (/[\r\n"]/.test(request.separator))
			throw new CxError('USAGE', 'the CSV separator cannot be a line break or a double quote');
		query.separator = request.separator;
	}
	return query;
}

export type ExportFileKind = 'services' | 'states' | 'tasks';

const FILE_KINDS: Record<string, ExportFileKind> = {
	services: 'services',
	se: 'services',
	states: 'states',
	st: 'states',
	tasks: 'tasks',
	ta: 'tasks',
};

/**
 * What an exported file holds, from its name: the reference names them both ways,
 * `<prefix><date>_services.csv` / `_states` / `_tasks` and `<prefix><date>_se` / `_st` / `_ta`
 * (with or without an extension, e.g. `.csv`, `.json`, `.zip`, `.gz`); undefined for another name.
 */
export function exportFileKind(path: string): ExportFileKind | undefined {
	const name = path.split(/[\\/]/).pop() ?? '';
	const m = /_(services|states|tasks|se|st|ta)(?:\.[A-Za-z0-9]+)*$/i.exec(name);
	return m ? FILE_KINDS[m[1].toLowerCase()] : undefined;
}

/** The query of an export-stream request, checked (filter_state only with export_content). */
export function streamQuery(request: ExportStreamRequest): Record<string, string> {
	const query = windowQuery(request);
	checkState(request.filterState);
	if (
		request.filterState !== undefined &&
		request.filterState !== 'any' &&
		request.exportContent !== true
	) {
		throw new CxError(
			'USAGE',
			'filter_state can only be used when export_content is true (with service IDs only, the API does not filter by state): switch on "Export Content" or leave the state filter at "any"',
		);
	}
	query.export_content = request.exportContent === true ? 'true' : 'false';
	if (request.exportContent === true && request.filterState !== undefined)
		query.filter_state = request.filterState;
	return query;
}

const csErrorBody = z.looseObject({
	message: z.string().optional(),
	code: z.union([z.number(), z.string()]).optional(),
	exception: z.string().optional(),
});

function hint(status: number): string | undefined {
	if (status === 401)
		return 'check the user name and password (basic authentication) of the credential';
	if (status === 403) return 'check the API key and that this user may run maintenance exports';
	if (status === 404) return 'check the base URL: it ends with /genesys/1/cs';
	if (status === 400) return 'check the dates and filters';
	if (status === 429 || status >= 500)
		return 'the Context Services host is busy or failing; retry later';
	return undefined;
}

/** The error for a failed call, from its status and (capped, possibly non-JSON) body text. */
export function contextServicesError(status: number, text: string, operation: string): ApiError {
	let message: string | undefined;
	let code: number | undefined;
	try {
		const parsed = csErrorBody.safeParse(JSON.parse(text));
		if (parsed.success) {
			message = parsed.data.message ?? parsed.data.exception;
			code = typeof parsed.data.code === 'number' ? parsed.data.code : undefined;
		}
	} catch {
		message =
			text.trim() === '' || text.trimStart().startsWith('<')
				? undefined
				: text.trim().slice(0, 200);
	}
	return new ApiError({
		httpStatus: status,
		operation,
		service: 'Context Services',
		remoteCode: code,
		remoteMessage: message?.slice(0, 300),
		hint: hint(status),
	});
}

export class ContextServicesClient {
	private readonly base: URL;
	private readonly api: ApiCaller;

	constructor(options: ContextServicesOptions) {
		let base: URL;
		try {
			base = new URL(options.baseUrl);
		} catch {
			throw new CxError(
				'USAGE',
				`the Context Services base URL "${options.baseUrl}" is not a URL: write it like http://cs-host:8080/genesys/1/cs`,
			);
		}
		if (base.protocol !== 'http:' && base.protocol !== 'https:')
			throw new CxError(
				'USAGE',
				`the Context Services base URL must be http(s), not ${base.protocol}`,
			);
		base.search = '';
		base.hash = '';
		base.pathname = `${base.pathname.replace(/\/+$/, '')}/`;
		this.base = base;
		this.api = new ApiCaller({
			service: 'Context Services',
			send: options.send,
			errorFor: contextServicesError,
			unexpectedHint: (what) => `${what}; check the base URL`,
			retry: options.retry,
			signal: options.signal,
			log: options.log,
		});
	}

	private url(path: string, query: Record<string, string> = {}): URL {
		const url = new URL(path.replace(/^\/+/, ''), this.base);
		for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
		return url;
	}

	/** Asks the server to write the export files; returns their paths on the server. */
	async exportToFiles(request: ExportToFilesRequest): Promise<string[]> {
		const paths = z
			.array(z.string())
			.optional()
			.transform((list) => list ?? []);
		return this.api.json(
			'Exporting services to files',
			'POST',
			this.url('maintenance/services/files', filesQuery(request)),
			paths as unknown as z.ZodType<string[]>,
		);
	}

	/** Service IDs (strings), or whole services (objects) with `exportContent`, one at a time. */
	async *exportStream(request: ExportStreamRequest): AsyncGenerator<unknown> {
		const operation = 'Exporting services as a stream';
		const response = await this.api.call(
			'GET',
			this.url('maintenance/services/stream', streamQuery(request)),
			{ stream: true },
		);
		if (!response.ok) throw await this.api.failure(response, operation);
		if (!response.body) return;
		yield* jsonArrayElements(response.body as unknown as AsyncIterable<Uint8Array>, {
			source: 'the service stream',
		});
	}

	/** One service with its data (Query Service by ID). */
	async getService(id: string): Promise<Record<string, unknown>> {
		if (!/^[\w.:-]+$/.test(id)) throw new CxError('USAGE', `"${id}" is not a service ID`);
		return this.api.json(
			`Getting service ${id}`,
			'GET',
			this.url(`services/${encodeURIComponent(id)}`),
			z.record(z.string(), z.unknown()),
		);
	}
}
