/**
 * A local stand-in for a Genesys Multicloud CX tenant's export APIs, faithful where a client can
 * tell the difference. Two node:http servers:
 *
 * The API server
 * - `POST /auth/v3/oauth/token`: `x-api-key` on every grant (403 `{"message":"Forbidden"}`
 *   otherwise: the reference's "every request"), HTTP Basic client credentials (401 `Bad
 *   credentials`), grants password (`TENANT\user`), client_credentials, authorization_code (the
 *   code once, with the `redirect_uri` it was issued for) and refresh_token, scope `*`; tokens
 *   expire. `GET /auth/v3/oauth/authorize` approves at once and redirects with a one-time code; it
 *   is a browser's navigation, which cannot carry a header, so it asks no key.
 * - The User Data Management API at `/udm/v10` (export at `/udm/v10/export`), the deprecated v4
 *   paths (`/udm/v4/export` + `/udm/v3`) and the deprecated CDDS paths (`/data-download/v4/export` +
 *   `/data-download/v3`): one implementation at every prefix. Jobs (create, get, list, update,
 *   delete, cancel, suspend, resume), runs ("history") whose progress advances with the clock,
 *   progress, file metadata, files (303 to a pre-signed storage URL, or the URL as JSON),
 *   certificate ("cipher"), data sources/types/sub-types/job statuses, version; v10 also has
 *   attributes and labels. Every call needs `x-api-key` (403) and a valid bearer token (401);
 *   errors carry the reference's envelope `{"status":{"code","message"}}`.
 *
 * The storage server serves pre-signed URLs (S3 query-string style, HMAC-signed, expiring). It
 * refuses any request that carries `Authorization` or `x-api-key` (400, S3 XML error), expired
 * links (403), forged ones (403), and serves `Range` (206) and HEAD.
 *
 * Runs are settled lazily against the clock (`options.now`): whenever anything looks, every run
 * whose time is up ends, in the order their times ran out. A run that completes builds its export
 * the way Genesys does: CDDS JSON Lines records (see records.ts), zipped and split Info-ZIP style by
 * the job's file split size into `export-<uuid>.z01 … .zip` (zipWriter.ts), each part S/MIME
 * encrypted (AES-256-CBC, RSA key transport) to the uploaded certificate (smime.ts) and stored as
 * `<part>.smime`. With no certificate uploaded the run fails, as it does on a tenant.
 *
 * Test switches are in `controls`; everything is in memory, except large exports
 * (`options.largeExports`: runs of jobs whose title contains a given text export hundreds of
 * thousands of records): their records are made once into a cache on disk (largeExport.ts), their
 * parts are written to a temporary folder and served from there, and such a run completes when its
 * files are ready (however long its run duration says).
 */
import {
	createHash,
	createHmac,
	randomBytes,
	randomUUID,
	timingSafeEqual,
	type X509Certificate,
} from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
	closeServer,
	genesysErrorBody,
	headerRecord,
	hostForUrl,
	HttpError,
	listen,
	multipartField,
	readBody,
	s3Error,
	sendJson,
	sendXml,
} from './http';
import {
	cachedRecords,
	writeLargeRun,
	type CachedRecords,
	type LargeExportOptions,
	type LargeRunFile,
} from './largeExport';
import {
	generateExport,
	jsonLines,
	type ExportEntry,
	type ExportShape,
	type InteractionFiles,
} from './records';
import { encryptionCertificate, encryptSmime, type SmimeMediaType } from './smime';
import { buildZip, MIN_SPLIT_SIZE, partNames } from './zipWriter';

// ---- public types --------------------------------------------------------------------------------

export type GrantType = 'password' | 'client_credentials' | 'authorization_code' | 'refresh_token';

export interface SimulatorClient {
	clientId: string;
	clientSecret: string;
	/** Grants this client may use (default: all four). */
	grants?: GrantType[];
}

export interface SimulatorUser {
	/** `TENANT\user`. */
	username: string;
	password: string;
}

export interface SimulatorOptions {
	/** Default 127.0.0.1. */
	host?: string;
	/** API server port (default 0: any free port). */
	port?: number;
	/** Storage server port (default 0). */
	storagePort?: number;
	/** The accepted API key (default `sim-api-key`); `apiKeys` accepts several. */
	apiKey?: string;
	apiKeys?: string[];
	/** The OAuth client (default `sim-client` / `sim-secret`); `clients` accepts several. */
	clientId?: string;
	clientSecret?: string;
	clients?: SimulatorClient[];
	/** The user for the password grant (default `SIMTENANT\analyst` / `sim-password`); `users` accepts several. */
	username?: string;
	password?: string;
	users?: SimulatorUser[];
	/** Lifetime of access tokens (default 3600 s). */
	tokenTtlSeconds?: number;
	/**
	 * A refresh token works once: refreshing revokes it (the answer carries a new one). The
	 * reference leaves this open; by default a refresh token keeps working.
	 */
	rotateRefreshTokens?: boolean;
	/** Lifetime of pre-signed download URLs (default 60 s). */
	presignedUrlTtlSeconds?: number;
	/** How long a run takes from start to end (default 1000 ms of the simulator's clock). */
	runDurationMs?: number;
	/** Progress moves in this many equal steps (default 10: 0, 10, … 90, then 100 when completed). */
	progressSteps?: number;
	/** Interactions per Interaction export (default 60). */
	interactions?: number;
	/** Contacts per Contact export (default 20). */
	contacts?: number;
	/** Bytes of each email attachment before base64 (default 6000). */
	attachmentBytes?: number;
	/** `Interaction-<jobId>.json` for all interactions (default), or one file per entity type. */
	interactionFiles?: InteractionFiles;
	/** Makes the generated records, the zip parts before encryption and the export names repeatable. */
	seed?: string;
	/** A certificate (PEM) already uploaded. */
	certificate?: string | Buffer;
	/** Content-Type of the S/MIME files (default `application/pkcs7-mime`; OpenSSL writes `application/x-pkcs7-mime`). */
	smimeMediaType?: SmimeMediaType;
	/** Files are deleted this many days after they were made (default 30). */
	retentionDays?: number;
	/** The simulator's clock (default Date.now). */
	now?: () => number;
	/** Large exports, made on disk (see the top of this file). */
	largeExports?: LargeExportOptions;
	/** Shapes the reference leaves open; the defaults are the first reading (see `SimulatorReading`). */
	reading?: SimulatorReading;
}

/**
 * Where the reference is explicit the simulator follows it whatever these say (JobInfo's fields
 * per version, `suspended` a boolean on v10 and a string on v4/CDDS, the history `jobId` and the
 * file `historyId` filters only on v10, data types as `{name, source}` on the v3 paths). These
 * switch the shapes it leaves open, so tests cover each reading.
 */
export interface SimulatorReading {
	/**
	 * JobInfo (jobs listed, read, created, updated) also carries the job's settings as sent
	 * (`timeFrame`, `schedulerParam`, `jobParams`, `suspended`). The reference's JobInfo has none of
	 * them (false); UDM v4's `GET jobs/{id}` then answers the Job shape its reference shows. Default true.
	 */
	jobSettingsInJobInfo?: boolean;
	/** `GET files?filename=`: a list of `{path}` always ('list'), or one object for one name (default 'object-for-one'). */
	presignedUrls?: 'list' | 'object-for-one';
	/** v10 `data/types` (the reference shows `{}`): `{label, value}` (default) or `{name, source}` as the v3 reference. */
	referenceData?: 'label-value' | 'name-source';
}

export type RunStatus = 'InProgress' | 'Completed' | 'Failed' | 'Cancelled';

export interface SimJob {
	id: number;
	title: string;
	/** The job type of the request body (UCS or DataSync). */
	type: string;
	source: string;
	description?: string;
	/** The data type: Interaction or Contact (`jobParams.type`). */
	dataType: string;
	media: string[];
	fileSplitSize?: string;
	exportAttachments: boolean;
	timeFrame: { all?: boolean; dateFrom?: string; dateTo?: string };
	schedulerParam: { immediately?: boolean; cron?: string; runs?: string; startDate?: string };
	suspended: boolean;
	/** Set by cancel, cleared when the next run starts. */
	cancelled: boolean;
	createdAt: number;
}

/** What a run exports, copied from its job when it starts (later edits do not change it). */
export type RunSettings = Pick<
	SimJob,
	| 'title'
	| 'type'
	| 'source'
	| 'description'
	| 'dataType'
	| 'media'
	| 'fileSplitSize'
	| 'exportAttachments'
	| 'timeFrame'
>;

export interface SimRun {
	id: number;
	jobId: number;
	createdAt: number;
	/** How long this run takes. */
	durationMs: number;
	status: RunStatus;
	/** Why it failed or was cancelled. */
	failure?: string;
	/** `export-<uuid>`: the parts are `<exportName>.z01.smime` … `<exportName>.zip.smime`. */
	exportName: string;
	settings: RunSettings;
	/** When it ended (epoch ms). */
	endedAt?: number;
	/** The records, per archive entry in archive order (completed runs). */
	entries?: ExportEntry[];
	/** The zip parts before encryption, in disk order (completed runs). */
	parts?: Array<{ name: string; plain: Buffer }>;
	/** The encrypted files, in disk order. */
	fileNames: string[];
	/** Bytes of all encrypted files. */
	fileSize?: number;
	/** A large export: how many records it holds (its records and parts are on disk only). */
	largeRecords?: number;
}

export interface SimFile {
	name: string;
	runId: number;
	jobId: number;
	jobTitle: string;
	dataType: string;
	source: string;
	/** The file's bytes (for a large export's file, read from disk on each access: use `path`). */
	bytes: Buffer;
	/** A large export's file: where it is on disk (served from there, never held). */
	path?: string;
	size: number;
	/** MD5 of the bytes, hex (the storage host's ETag). */
	md5: string;
	createdAt: number;
}

export interface StorageRequest {
	method: string;
	/** The path, without the signed query string. */
	path: string;
	/** Every header as received (lower-case names). */
	headers: Record<string, string>;
}

export interface ApiRequestRecord {
	method: string;
	/** Path and query. */
	path: string;
}

/** A job create or update request as received. */
export interface JobRequestRecord extends ApiRequestRecord {
	body: unknown;
}

export interface SimulatorState {
	jobs: Map<number, SimJob>;
	runs: Map<number, SimRun>;
	files: Map<string, SimFile>;
	certificate?: { name: string; pem: string; uploadedAt: number };
	storageRequests: StorageRequest[];
	/** API requests (token requests included), without headers. */
	apiRequests: ApiRequestRecord[];
	/** The bodies of job create and update requests, in order. */
	jobRequests: JobRequestRecord[];
	tokensIssued: number;
	/** The records of a completed run, per entry in archive order. Throws for other runs. */
	exportContent(runId: number): { entries: ExportEntry[] };
	/** The zip parts of a completed run before encryption, in disk order (names without `.smime`). */
	exportParts(runId: number): Array<{ name: string; plain: Buffer }>;
}

export interface SimulatorControls {
	/**
	 * The next `count` API requests answer `status` (default 503), with `Retry-After` when given.
	 * Token requests are only hit when `pathPrefix` names them (e.g. `/auth`).
	 */
	failNextRequests(
		count: number,
		status?: number,
		options?: { retryAfterSeconds?: number; pathPrefix?: string },
	): void;
	/** The next `count` storage downloads (GET) answer `status` (default 503). */
	failNextDownloads(count: number, status?: number): void;
	/** The next storage download sends `afterBytes` bytes of its body, then drops the connection. */
	resetDownloadOnce(afterBytes: number): void;
	/** Every access token issued so far stops working (the API answers 401); refresh tokens still work. */
	expireTokensNow(): void;
	/** The next run to end fails with this reason. */
	failNextRun(reason?: string): void;
	/** Lifetime of pre-signed URLs made from now on; ≤ 0 makes links that are already expired. */
	setPresignedUrlTtl(seconds: number): void;
	/** Duration of runs started from now on. */
	setRunDuration(ms: number): void;
	/** Starts a run of a job now, as its schedule would (the job must not be suspended). */
	triggerSchedule(jobId: number): SimRun;
	/** Ends every run whose time is up (done anyway whenever the API or `state` helpers look). */
	settle(): void;
}

export interface GenesysSimulator {
	/** The API base URL, e.g. http://127.0.0.1:39123 (use as the credential's custom base URL). */
	baseUrl: string;
	storageUrl: string;
	state: SimulatorState;
	controls: SimulatorControls;
	close(): Promise<void>;
}

// ---- constants -------------------------------------------------------------------------------------

type FlavourName = 'udm-v10' | 'udm-v4' | 'cdds';

interface Flavour {
	name: FlavourName;
	exportPrefix: string;
	commonPrefix: string;
}

/** One implementation mounted at each API's prefixes. */
const FLAVOURS: readonly Flavour[] = [
	{ name: 'udm-v10', exportPrefix: '/udm/v10/export', commonPrefix: '/udm/v10' },
	{ name: 'udm-v4', exportPrefix: '/udm/v4/export', commonPrefix: '/udm/v3' },
	{ name: 'cdds', exportPrefix: '/data-download/v4/export', commonPrefix: '/data-download/v3' },
];

const TOKEN_PATH = '/auth/v3/oauth/token';
const AUTHORIZE_PATH = '/auth/v3/oauth/authorize';
const NEXUS_PATH = /^\/nexus\/v3\/(chat\/sessions|email\/interactions)\/([A-Za-z0-9-]{1,100})$/;

/**
 * What Digital Channels answers for an interaction's selfUri: the same answer for the same ID, so
 * a test can ask again and compare (status envelope as the Nexus APIs use).
 */
export function nexusInteraction(mediaType: 'chat' | 'email', id: string): Record<string, unknown> {
	const h = createHash('sha256').update(`${mediaType}/${id}`).digest();
	const customer = h.readUInt16BE(0) % 1000;
	const created = Date.UTC(2026, 9, 1) + (h.readUInt32BE(2) % (30 * 86_400_000));
	const messages = 1 + (h[6] % 6);
	return {
		status: { code: 0 },
		data: {
			id,
			mediaType,
			state: h[7] % 2 === 0 ? 'FINISHED' : 'STARTED',
			createdAt: new Date(created).toISOString(),
			customer: { nickname: `Customer ${customer}`, email: `customer${customer}@example.com` },
			subject: mediaType === 'email' ? `Order ${h.readUInt16BE(8)}` : undefined,
			messages: Array.from({ length: messages }, (_, i) => ({
				index: i,
				from: i % 2 === 0 ? 'customer' : 'agent',
				text:
					i % 2 === 0
						? `Question ${i / 2 + 1} about order ${h.readUInt16BE(8)}`
						: `Answer ${(i + 1) / 2}`,
				at: new Date(created + i * 45_000).toISOString(),
			})),
		},
	};
}
const BUCKET = 'gcx-udm-exports-sim';
const ALL_GRANTS: readonly GrantType[] = [
	'password',
	'client_credentials',
	'authorization_code',
	'refresh_token',
];
const SOURCES = [{ label: 'Contact History', value: 'UCS' }];
/** Listed by the tenant, refused for jobs: "Info Mart exports are not supported" (the admin guide). */
const LISTED_SOURCES = [...SOURCES, { label: 'Info Mart', value: 'InfoMart' }];
const DATA_TYPES = ['Interaction', 'Contact'];
const MEDIA = [
	{ name: 'email', displayName: 'Email' },
	{ name: 'chat', displayName: 'Chat' },
	{ name: 'voice', displayName: 'Voice' },
];
const JOB_STATUSES = ['Scheduled', 'InProgress', 'Completed', 'Failed', 'Cancelled', 'Suspended'];
const DAY_MS = 86_400_000;
/** Time frame of exports of "all" data: fixed, so that the seed alone decides the records. */
const ALL_DATA_FROM = Date.UTC(2026, 9, 1);
const ALL_DATA_TO = Date.UTC(2026, 10, 1);

// ---- helpers ---------------------------------------------------------------------------------------

function uuidFrom(text: string): string {
	const h = createHash('sha256').update(text).digest('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const SPLIT_SIZE = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$/i;

/** Bytes of a file split size as the API takes it ("100MB", "64KB"; a bare number is MB). */
function splitSizeBytes(value: string): number {
	const m = SPLIT_SIZE.exec(value);
	if (!m) throw new HttpError(400, `fileSplitSize "${value}" is not a size (write it like 100MB)`);
	const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[
		(m[2] ?? 'MB').toUpperCase() as 'B' | 'KB' | 'MB' | 'GB'
	];
	const bytes = Math.floor(Number(m[1]) * unit);
	if (bytes < MIN_SPLIT_SIZE)
		throw new HttpError(400, `fileSplitSize "${value}" is below the minimum of 64KB`);
	if (bytes > 4 * 1024 ** 3)
		throw new HttpError(400, `fileSplitSize "${value}" is above the maximum of 4GB`);
	return bytes;
}

/** A Quartz cron expression (what the scheduler takes): 6 or 7 fields of cron characters. */
function checkCron(cron: string): void {
	const fields = cron.trim().split(/\s+/);
	if (
		fields.length < 6 ||
		fields.length > 7 ||
		fields.some((f) => !/^[0-9A-Za-z*?/,#LW-]+$/.test(f))
	) {
		throw new HttpError(
			400,
			`schedulerParam.cron "${cron}" is not a cron expression (e.g. "0 0 2 * * ?")`,
		);
	}
}

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

function amzDate(ms: number): string {
	return new Date(ms)
		.toISOString()
		.replace(/[-:]/g, '')
		.replace(/\.\d{3}/, '');
}

function parseAmzDate(text: string): number | undefined {
	const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
	return m
		? Date.UTC(
				Number(m[1]),
				Number(m[2]) - 1,
				Number(m[3]),
				Number(m[4]),
				Number(m[5]),
				Number(m[6]),
			)
		: undefined;
}

function sameSecret(a: string, b: string): boolean {
	const x = Buffer.from(a);
	const y = Buffer.from(b);
	return x.length === y.length && timingSafeEqual(x, y);
}

/** The query parameters of a list request that page and order it. */
interface ListParams {
	from: number;
	size: number;
	orderField?: string;
	descending: boolean;
}

function listParams(q: URLSearchParams): ListParams {
	const whole = (name: string, fallback: number) => {
		const text = q.get(name);
		if (text === null || text === '') return fallback;
		if (!/^\d+$/.test(text))
			throw new HttpError(400, `${name} must be a whole number, not "${text}"`);
		return Number(text);
	};
	const descAsc = q.get('descAsc');
	if (descAsc !== null && descAsc !== '' && descAsc !== 'true' && descAsc !== 'false')
		throw new HttpError(400, `descAsc must be true or false, not "${descAsc}"`);
	// The reference: from defaults to 0, size to 999999999; descAsc true is descending.
	return {
		from: whole('from', 0),
		size: whole('size', 999_999_999),
		orderField: q.get('orderField') || undefined,
		descending: descAsc !== 'false',
	};
}

function compareValues(a: unknown, b: unknown): number {
	if (a === b) return 0;
	if (a === undefined || a === null) return 1;
	if (b === undefined || b === null) return -1;
	if (typeof a === 'number' && typeof b === 'number') return a - b;
	return String(a).localeCompare(String(b));
}

/**
 * A PagedResponse of `items` (already filtered), ordered by `orderField` of their JSON (default
 * `defaultOrder`) with `tieBreak` for equal values; undefined when nothing matched (the API
 * answers 204 then).
 */
function pageOf<T>(
	items: T[],
	params: ListParams,
	toJson: (item: T) => Record<string, unknown>,
	defaultOrder: string,
	tieBreak: (a: T, b: T) => number,
) {
	if (items.length === 0) return undefined;
	const field = params.orderField ?? defaultOrder;
	const rows = items.map((item) => ({ item, json: toJson(item) }));
	if (!rows.some((r) => field in r.json))
		throw new HttpError(400, `orderField "${field}" is not a field of these items`);
	rows.sort((a, b) => {
		const byField = compareValues(a.json[field], b.json[field]);
		return (params.descending ? -byField : byField) || tieBreak(a.item, b.item);
	});
	const slice = rows.slice(params.from, params.from + params.size);
	return {
		count: rows.length,
		from: params.from,
		size: slice.length,
		items: slice.map((r) => r.json),
	};
}

/** A `contains` filter, case-insensitive; absent or empty matches everything. */
function contains(value: string | null | undefined, filter: string | null): boolean {
	return (
		filter === null || filter === '' || (value ?? '').toLowerCase().includes(filter.toLowerCase())
	);
}

/** Comma-separated ids or names of a bulk request. */
function listParam(q: URLSearchParams, name: string): string[] {
	const values = (q.get(name) ?? '')
		.split(',')
		.map((v) => v.trim())
		.filter(Boolean);
	if (values.length === 0) throw new HttpError(400, `the ${name} query parameter is required`);
	return values;
}

// ---- the simulator ---------------------------------------------------------------------------------

interface Reply {
	status: number;
	body?: unknown;
	headers?: Record<string, string>;
}

interface RequestContext {
	flavour: Flavour;
	/** Path and query, as requested. */
	path: string;
	query: URLSearchParams;
	contentType?: string;
	body(): Promise<Buffer>;
	json(): Promise<unknown>;
}

interface Route {
	method: string;
	scope: 'export' | 'common';
	pattern: RegExp;
	/** Only in the v10 API (the v3 reference has no such resource). */
	v10Only?: boolean;
	handle(ctx: RequestContext, params: string[]): Reply | Promise<Reply>;
}

interface TokenRecord {
	clientId: string;
	username?: string;
	expiresAt: number;
}

interface InjectedFailure {
	status: number;
	retryAfterSeconds?: number;
	pathPrefix?: string;
}

export async function startGenesysSimulator(
	options: SimulatorOptions = {},
): Promise<GenesysSimulator> {
	const host = options.host ?? '127.0.0.1';
	const now = options.now ?? Date.now;
	const seed = options.seed ?? 'cx-export-simulator';
	const apiKeys = new Set(options.apiKeys ?? [options.apiKey ?? 'sim-api-key']);
	const clients: SimulatorClient[] = options.clients ?? [
		{
			clientId: options.clientId ?? 'sim-client',
			clientSecret: options.clientSecret ?? 'sim-secret',
		},
	];
	const users: SimulatorUser[] = options.users ?? [
		{
			username: options.username ?? 'SIMTENANT\\analyst',
			password: options.password ?? 'sim-password',
		},
	];
	const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
	const progressSteps = Math.max(1, Math.floor(options.progressSteps ?? 10));
	const retentionMs = (options.retentionDays ?? 30) * DAY_MS;
	const smimeMediaType = options.smimeMediaType ?? 'application/pkcs7-mime';
	const signingKey = randomBytes(32);
	const ccid = uuidFrom(`${seed}:ccid`);
	let presignedTtlSeconds = options.presignedUrlTtlSeconds ?? 60;
	let runDurationMs = options.runDurationMs ?? 1000;

	const accessTokens = new Map<string, TokenRecord>();
	const refreshTokens = new Map<string, { clientId: string; username?: string }>();
	const authorizationCodes = new Map<
		string,
		{ clientId: string; redirectUri: string; username: string; expiresAt: number }
	>();
	const injected: InjectedFailure[] = [];
	const downloadFailures: number[] = [];
	let resetAfterBytes: number | undefined;
	const runFailures: string[] = [];
	let nextJobId = 1000;
	let nextRunId = 5000;
	let certificate: X509Certificate | undefined;
	let storageUrl = '';

	const state: SimulatorState = {
		jobs: new Map(),
		runs: new Map(),
		files: new Map(),
		storageRequests: [],
		apiRequests: [],
		jobRequests: [],
		tokensIssued: 0,
		exportContent(runId) {
			settle();
			const run = state.runs.get(runId);
			if (run?.largeRecords !== undefined)
				throw new Error(
					`run ${runId} is a large export: its ${run.largeRecords} records are on disk only (download its files)`,
				);
			if (!run?.entries)
				throw new Error(
					`run ${runId} has no export (${run ? `status ${run.status}${run.failure ? `: ${run.failure}` : ''}` : 'no such run'})`,
				);
			return { entries: run.entries.map((e) => ({ name: e.name, records: e.records })) };
		},
		exportParts(runId) {
			settle();
			const run = state.runs.get(runId);
			if (run?.largeRecords !== undefined)
				throw new Error(
					`run ${runId} is a large export: its parts are on disk only (download its files)`,
				);
			if (!run?.parts)
				throw new Error(
					`run ${runId} has no export (${run ? `status ${run.status}` : 'no such run'})`,
				);
			return run.parts.map((p) => ({ name: p.name, plain: p.plain }));
		},
	};

	function setCertificate(name: string, pem: string): void {
		certificate = encryptionCertificate(pem);
		state.certificate = { name, pem, uploadedAt: now() };
	}
	if (options.certificate !== undefined)
		setCertificate('preloaded.pem', options.certificate.toString());

	// ---- runs ----------------------------------------------------------------------------------

	/** A one-time job: no cron expression (runs once, immediately or at its start date). */
	const isOneTime = (job: SimJob) => !job.schedulerParam.cron;
	const runsOf = (jobId: number) =>
		[...state.runs.values()].filter((r) => r.jobId === jobId).sort((a, b) => a.id - b.id);
	const runningRunOf = (jobId: number) => runsOf(jobId).find((r) => r.status === 'InProgress');

	function startRun(job: SimJob): SimRun {
		const id = nextRunId++;
		const run: SimRun = {
			id,
			jobId: job.id,
			createdAt: now(),
			durationMs: runDurationMs,
			status: 'InProgress',
			exportName: `export-${uuidFrom(`${seed}:run:${id}`)}`,
			settings: {
				title: job.title,
				type: job.type,
				source: job.source,
				description: job.description,
				dataType: job.dataType,
				media: [...job.media],
				fileSplitSize: job.fileSplitSize,
				exportAttachments: job.exportAttachments,
				timeFrame: { ...job.timeFrame },
			},
			fileNames: [],
		};
		state.runs.set(id, run);
		if (largeExports && run.settings.title.includes(largeExports.titleContains))
			startLargeExport(run);
		job.cancelled = false;
		// The admin guide: a one-time job is suspended once it starts, and cannot be resumed.
		if (isOneTime(job)) job.suspended = true;
		return run;
	}

	function progressOf(run: SimRun): number {
		if (run.status === 'Completed') return 100;
		if (run.status !== 'InProgress')
			return Math.min(
				99,
				Math.floor((((run.endedAt ?? now()) - run.createdAt) / run.durationMs) * 100),
			);
		const fraction = Math.min(1, Math.max(0, (now() - run.createdAt) / run.durationMs));
		return Math.min(99, Math.floor(Math.floor(fraction * progressSteps) * (100 / progressSteps)));
	}

	function timeFrameOf(settings: RunSettings): { from: number; to: number } {
		const from = settings.timeFrame.dateFrom ? Date.parse(settings.timeFrame.dateFrom) : undefined;
		const to = settings.timeFrame.dateTo ? Date.parse(settings.timeFrame.dateTo) : undefined;
		if (settings.timeFrame.all || (from === undefined && to === undefined))
			return { from: ALL_DATA_FROM, to: ALL_DATA_TO };
		return { from: from ?? (to ?? 0) - 30 * DAY_MS, to: to ?? (from ?? 0) + 30 * DAY_MS };
	}

	function shapeOf(s: RunSettings): ExportShape {
		return {
			dataType: s.dataType,
			media: s.media,
			exportAttachments: s.exportAttachments,
			interactions: options.interactions ?? 60,
			contacts: options.contacts ?? 20,
			attachmentBytes: options.attachmentBytes ?? 6000,
			interactionFiles: options.interactionFiles ?? 'merged',
			...timeFrameOf(s),
		};
	}

	function buildExport(run: SimRun, cert: X509Certificate): void {
		const s = run.settings;
		const entries = generateExport(run.jobId, `${seed}:run:${run.id}`, shapeOf(s));
		const zipParts = buildZip(
			entries.map((e) => ({ name: e.name, data: jsonLines(e.records) })),
			{
				splitSize: s.fileSplitSize ? splitSizeBytes(s.fileSplitSize) : undefined,
				modified: new Date(run.endedAt ?? now()),
			},
		);
		const names = partNames(run.exportName, zipParts.length);
		const parts = zipParts.map((plain, i) => ({ name: names[i], plain }));
		// Each part on its own, one recipient per file, as the export service does.
		const files: SimFile[] = parts.map((part) => {
			const bytes = encryptSmime(part.plain, cert, { mediaType: smimeMediaType });
			return {
				name: `${part.name}.smime`,
				runId: run.id,
				jobId: run.jobId,
				jobTitle: s.title,
				dataType: s.dataType,
				source: s.source,
				bytes,
				size: bytes.length,
				md5: createHash('md5').update(bytes).digest('hex'),
				createdAt: run.endedAt ?? now(),
			};
		});
		for (const file of files) state.files.set(file.name, file);
		run.parts = parts;
		run.entries = entries;
		run.fileNames = files.map((f) => f.name);
		run.fileSize = files.reduce((n, f) => n + f.size, 0);
	}

	// ---- large exports ---------------------------------------------------------------------------

	const largeExports = options.largeExports;
	/** Each large run's making: its records (started with the run), then its files (once it is due). */
	const largeBuilds = new Map<
		number,
		{
			records: Promise<CachedRecords>;
			checked: boolean;
			files?: Promise<void>;
			done?: { files: LargeRunFile[]; records: number } | { error: string };
		}
	>();
	/** This simulator's folder for large runs' files (removed by close()). */
	let largeDir: Promise<string> | undefined;
	/** The files on disk this simulator made (and removes when they are deleted), not ones a test put in `state.files`. */
	const madeFiles = new Set<string>();

	function largeShape(run: SimRun): ExportShape {
		const shape = shapeOf(run.settings);
		return {
			...shape,
			interactions: largeExports?.interactions ?? shape.interactions,
			attachmentBytes: largeExports?.attachmentBytes ?? shape.attachmentBytes,
			interactionFiles: largeExports?.interactionFiles ?? shape.interactionFiles,
		};
	}

	function startLargeExport(run: SimRun): void {
		if (!largeExports) return;
		// The records depend on the seed and the shape only (not the run), so that they can be reused.
		const records = cachedRecords(largeExports.cacheDir, `${seed}:large`, largeShape(run));
		records.catch(() => undefined);
		largeBuilds.set(run.id, { records, checked: false });
	}

	/** A due large run: completed or failed once its files are made, in progress until then. */
	function finishLarge(run: SimRun, cert: X509Certificate): void {
		const build = largeBuilds.get(run.id);
		if (!build) return;
		if (build.done) {
			largeBuilds.delete(run.id);
			run.endedAt = now();
			if ('error' in build.done) {
				run.status = 'Failed';
				run.failure = `Export failed: ${build.done.error}`;
				return;
			}
			const s = run.settings;
			for (const f of build.done.files) {
				const path = f.path;
				madeFiles.add(path);
				state.files.set(f.name, {
					name: f.name,
					runId: run.id,
					jobId: run.jobId,
					jobTitle: s.title,
					dataType: s.dataType,
					source: s.source,
					get bytes() {
						return readFileSync(path);
					},
					path,
					size: f.size,
					md5: f.md5,
					createdAt: run.endedAt,
				});
			}
			run.fileNames = build.done.files.map((f) => f.name);
			run.fileSize = build.done.files.reduce((n, f) => n + f.size, 0);
			run.largeRecords = build.done.records;
			run.status = 'Completed';
			return;
		}
		if (build.files) return;
		const modified = new Date(now());
		build.files = (async () => {
			const records = await build.records;
			largeDir ??= mkdtemp(join(tmpdir(), 'cx-sim-large-'));
			const dir = join(await largeDir, run.exportName);
			const s = run.settings;
			const files = await writeLargeRun(records, {
				jobId: run.jobId,
				shape: largeShape(run),
				exportName: run.exportName,
				splitSize: s.fileSplitSize ? splitSizeBytes(s.fileSplitSize) : undefined,
				modified,
				certificate: cert,
				mediaType: smimeMediaType,
				dir,
			});
			build.done = { files, records: records.records };
		})().catch((error: unknown) => {
			build.done = { error: error instanceof Error ? error.message : String(error) };
		});
	}

	function finish(run: SimRun): void {
		const large = largeBuilds.get(run.id);
		if (large?.checked && certificate) return finishLarge(run, certificate);
		run.endedAt = run.createdAt + run.durationMs;
		const failure = runFailures.shift();
		if (failure !== undefined) {
			largeBuilds.delete(run.id);
			run.status = 'Failed';
			run.failure = failure;
			return;
		}
		if (!certificate) {
			largeBuilds.delete(run.id);
			run.status = 'Failed';
			run.failure =
				'Export failed: no encryption certificate is uploaded; upload one (cipher) before exporting';
			return;
		}
		if (large) {
			large.checked = true;
			run.endedAt = undefined;
			return finishLarge(run, certificate);
		}
		try {
			buildExport(run, certificate);
			run.status = 'Completed';
		} catch (error) {
			run.status = 'Failed';
			run.failure = `Export failed: ${error instanceof Error ? error.message : String(error)}`;
		}
	}

	/** Ends every run whose time is up, in the order their times ran out; drops files past retention. */
	function settle(): void {
		const t = now();
		const due = [...state.runs.values()]
			.filter((r) => r.status === 'InProgress' && t >= r.createdAt + r.durationMs)
			.sort((a, b) => a.createdAt + a.durationMs - (b.createdAt + b.durationMs) || a.id - b.id);
		for (const run of due) finish(run);
		for (const [name, file] of state.files) if (t - file.createdAt >= retentionMs) dropFile(name);
	}

	// ---- JSON views ------------------------------------------------------------------------------

	function jobStatus(job: SimJob): string {
		const runs = runsOf(job.id);
		const last = runs[runs.length - 1];
		if (last?.status === 'InProgress') return 'InProgress';
		if (job.cancelled) return 'Cancelled';
		if (last) return last.status;
		return job.suspended ? 'Suspended' : 'Scheduled';
	}

	const reading = {
		jobSettingsInJobInfo: true,
		presignedUrls: 'object-for-one',
		referenceData: 'label-value',
		...options.reading,
	} as Required<SimulatorReading>;
	const isV10 = (flavour: Flavour) => flavour.name === 'udm-v10';
	/** `suspended` as the version's reference types it. */
	const suspendedJson = (flavour: Flavour, value: boolean) =>
		isV10(flavour) ? value : String(value);

	/** The job as its create body has it (the reference's Job), for the version. */
	function jobSettingsJson(job: SimJob, flavour: Flavour): Record<string, unknown> {
		return {
			timeFrame: job.timeFrame,
			schedulerParam: job.schedulerParam,
			jobParams: {
				type: job.dataType,
				media: job.media,
				...(job.fileSplitSize ? { fileSplitSize: job.fileSplitSize } : {}),
				...(isV10(flavour) ? { exportAttachments: job.exportAttachments } : {}),
			},
			suspended: suspendedJson(flavour, job.suspended),
		};
	}

	/** UDM v4's `GET jobs/{id}` as its reference shows it: the Job shape, not JobInfo. */
	function v4JobJson(job: SimJob): Record<string, unknown> {
		return {
			id: job.id,
			source: job.source,
			title: job.title,
			...(job.fileSplitSize ? { fileSplitSize: job.fileSplitSize } : {}),
			...(job.description !== undefined ? { description: job.description } : {}),
			...jobSettingsJson(job, FLAVOURS[1]),
		};
	}

	function jobJson(job: SimJob, flavour: Flavour): Record<string, unknown> {
		const runs = runsOf(job.id);
		const last = runs[runs.length - 1];
		return {
			id: job.id,
			type: job.type,
			source: job.source,
			title: job.title,
			fileSplitSize: job.fileSplitSize ?? null,
			fileName: last?.status === 'Completed' ? `${last.exportName}.zip.smime` : null,
			fileSize: last?.fileSize ?? null,
			status: jobStatus(job),
			createdDate: new Date(job.createdAt).toISOString(),
			dateFrom: job.timeFrame.dateFrom ?? null,
			dateTo: job.timeFrame.dateTo ?? null,
			description: job.description ?? null,
			media: job.media,
			progress: last ? progressOf(last) : 0,
			parentId: null,
			// JobInfo has exportAttachments in v10 only.
			...(isV10(flavour) ? { exportAttachments: job.exportAttachments } : {}),
			// The settings as sent, when this reading says JobInfo carries them.
			...(reading.jobSettingsInJobInfo ? jobSettingsJson(job, flavour) : {}),
		};
	}

	function runJson(run: SimRun, flavour: Flavour): Record<string, unknown> {
		const s = run.settings;
		return {
			id: run.id,
			type: s.type,
			source: s.source,
			title: s.title,
			fileSplitSize: s.fileSplitSize ?? null,
			fileName: run.status === 'Completed' ? `${run.exportName}.zip.smime` : null,
			fileSize: run.fileSize ?? null,
			status: run.status,
			createdDate: new Date(run.createdAt).toISOString(),
			dateFrom: s.timeFrame.dateFrom ?? null,
			dateTo: s.timeFrame.dateTo ?? null,
			// A failed or cancelled run says why here.
			description: run.failure ?? s.description ?? null,
			media: s.media,
			progress: progressOf(run),
			parentId: run.jobId,
			...(isV10(flavour) ? { exportAttachments: s.exportAttachments } : {}),
		};
	}

	function fileJson(file: SimFile, flavour: Flavour): Record<string, unknown> {
		return {
			name: file.name,
			size: file.size,
			// Only v10 knows files by run (its historyId filter); v4 and CDDS do not say.
			...(isV10(flavour) ? { historyId: file.runId, jobId: file.jobId } : {}),
			jobTitle: file.jobTitle,
			type: file.dataType,
			source: file.source,
			createdDate: new Date(file.createdAt).toISOString(),
			remainingDays: Math.max(0, Math.ceil((file.createdAt + retentionMs - now()) / DAY_MS)),
		};
	}

	// ---- jobs ------------------------------------------------------------------------------------

	/** Checks a create/update body as the API does and returns the job it describes. */
	function jobFromBody(body: unknown, flavour: Flavour, existing?: SimJob): SimJob {
		if (!isObject(body)) throw new HttpError(400, 'the body must be a JSON object (a Job)');
		const text = (name: string, value: unknown, required: boolean): string | undefined => {
			if (value === undefined || value === null || value === '') {
				if (required) throw new HttpError(400, `${name} is required`);
				return undefined;
			}
			if (typeof value !== 'string') throw new HttpError(400, `${name} must be a string`);
			return value;
		};
		const object = (name: string, value: unknown): Record<string, unknown> => {
			if (value === undefined || value === null) throw new HttpError(400, `${name} is required`);
			if (!isObject(value)) throw new HttpError(400, `${name} must be an object`);
			return value;
		};
		const flag = (name: string, value: unknown): boolean | undefined => {
			if (value === undefined || value === null) return undefined;
			if (typeof value === 'boolean') return value;
			throw new HttpError(400, `${name} must be true or false`);
		};
		// `suspended` (required): a boolean in the v10 reference, a string in the v4 and CDDS ones.
		const suspendedFlag = (value: unknown): boolean => {
			if (value === undefined || value === null) throw new HttpError(400, 'suspended is required');
			if (isV10(flavour)) {
				if (typeof value !== 'boolean') throw new HttpError(400, 'suspended must be a boolean');
				return value;
			}
			if (typeof value !== 'string' || !/^(true|false)$/i.test(value))
				throw new HttpError(400, 'suspended must be the string "true" or "false"');
			return value.toLowerCase() === 'true';
		};

		const source = text('source', body.source, true) as string;
		if (/^info\s*mart$/i.test(source))
			throw new HttpError(400, 'Info Mart exports are not supported');
		if (!SOURCES.some((s) => s.value.toLowerCase() === source.toLowerCase()))
			throw new HttpError(400, `source "${source}" is not a data source of this tenant (UCS)`);
		// v10 requires the job type; the v4 and CDDS bodies have none.
		const type = isV10(flavour) ? (text('type', body.type, true) as string) : 'UCS';
		const title = text('title', body.title, true) as string;
		if (title.length > 255) throw new HttpError(400, 'title is longer than 255 characters');
		const description = text('description', body.description, false);

		const timeFrame = object('timeFrame', body.timeFrame);
		const all = flag('timeFrame.all', timeFrame.all);
		const dateFrom = text('timeFrame.dateFrom', timeFrame.dateFrom, false);
		const dateTo = text('timeFrame.dateTo', timeFrame.dateTo, false);
		for (const [name, value] of [
			['dateFrom', dateFrom],
			['dateTo', dateTo],
		] as const) {
			if (value !== undefined && Number.isNaN(Date.parse(value)))
				throw new HttpError(400, `timeFrame.${name} "${value}" is not a date`);
		}
		if (!all && dateFrom === undefined && dateTo === undefined)
			throw new HttpError(400, 'timeFrame needs all, dateFrom or dateTo');
		if (dateFrom !== undefined && dateTo !== undefined && Date.parse(dateFrom) > Date.parse(dateTo))
			throw new HttpError(400, 'timeFrame.dateFrom is after timeFrame.dateTo');

		const scheduler = object('schedulerParam', body.schedulerParam);
		const immediately = flag('schedulerParam.immediately', scheduler.immediately);
		const cron = text('schedulerParam.cron', scheduler.cron, false);
		const runs = text('schedulerParam.runs', scheduler.runs, false);
		const startDate = text('schedulerParam.startDate', scheduler.startDate, false);
		if (cron !== undefined) checkCron(cron);
		if (startDate !== undefined && Number.isNaN(Date.parse(startDate)))
			throw new HttpError(400, `schedulerParam.startDate "${startDate}" is not a date`);
		if (!immediately && cron === undefined && startDate === undefined)
			throw new HttpError(
				400,
				'schedulerParam needs immediately, a cron expression or a startDate',
			);

		const params = object('jobParams', body.jobParams);
		const dataTypeText = text('jobParams.type', params.type, true) as string;
		const dataType = DATA_TYPES.find((t) => t.toLowerCase() === dataTypeText.toLowerCase());
		if (!dataType)
			throw new HttpError(
				400,
				`jobParams.type "${dataTypeText}" is not a data type (${DATA_TYPES.join(', ')})`,
			);
		if (!Array.isArray(params.media) || params.media.some((m) => typeof m !== 'string'))
			throw new HttpError(
				400,
				'jobParams.media is required (an array of media types; empty for all)',
			);
		const media = (params.media as string[]).map((m) => m.toLowerCase());
		const unknownMedia = media.find((m) => !MEDIA.some((known) => known.name === m));
		if (dataType === 'Interaction' && unknownMedia !== undefined)
			throw new HttpError(
				400,
				`jobParams.media "${unknownMedia}" is not a media type (${MEDIA.map((m) => m.name).join(', ')})`,
			);
		// v4 bodies carry fileSplitSize at the top level too.
		const splitValue =
			params.fileSplitSize ?? (flavour.name === 'udm-v10' ? undefined : body.fileSplitSize);
		const fileSplitSize = text('jobParams.fileSplitSize', splitValue, false);
		if (fileSplitSize !== undefined) splitSizeBytes(fileSplitSize);
		// exportAttachments is a v10 field; the v4 and CDDS bodies have none (their exports carry the
		// attachments files the CDDS guide describes, as a v10 job does by default).
		const exportAttachments = isV10(flavour)
			? flag('jobParams.exportAttachments', params.exportAttachments)
			: undefined;
		const suspended = suspendedFlag(body.suspended);

		return {
			id: existing?.id ?? nextJobId++,
			title,
			type,
			source: SOURCES.find((s) => s.value.toLowerCase() === source.toLowerCase())?.value ?? source,
			description,
			dataType,
			media,
			fileSplitSize: fileSplitSize?.trim(),
			exportAttachments: exportAttachments ?? true,
			timeFrame: {
				...(all !== undefined ? { all } : {}),
				...(dateFrom !== undefined ? { dateFrom } : {}),
				...(dateTo !== undefined ? { dateTo } : {}),
			},
			schedulerParam: {
				...(immediately !== undefined ? { immediately } : {}),
				...(cron !== undefined ? { cron } : {}),
				...(runs !== undefined ? { runs } : {}),
				...(startDate !== undefined ? { startDate } : {}),
			},
			suspended,
			cancelled: existing?.cancelled ?? false,
			createdAt: existing?.createdAt ?? now(),
		};
	}

	function jobById(id: string): SimJob {
		const job = state.jobs.get(Number(id));
		if (!job) throw new HttpError(404, `Job ${id} not found`);
		return job;
	}

	function runById(id: string): SimRun {
		const run = state.runs.get(Number(id));
		if (!run) throw new HttpError(404, `History record ${id} not found`);
		return run;
	}

	/** Why a job cannot be deleted now, if it cannot. */
	function jobDeleteRefusal(job: SimJob): string | undefined {
		return runningRunOf(job.id) ? `Job ${job.id} is in progress and cannot be deleted` : undefined;
	}

	function deleteRun(run: SimRun): void {
		for (const name of run.fileNames) dropFile(name);
		state.runs.delete(run.id);
	}

	/** Forgets a file (and removes a large export's file from disk). */
	function dropFile(name: string): boolean {
		const file = state.files.get(name);
		if (!file) return false;
		state.files.delete(name);
		if (file.path && madeFiles.delete(file.path)) unlink(file.path).catch(() => undefined);
		return true;
	}

	// ---- files -----------------------------------------------------------------------------------

	function presign(name: string): string {
		const date = amzDate(now());
		const expires = presignedTtlSeconds;
		const path = `/${BUCKET}/${encodeURIComponent(name)}`;
		const signature = createHmac('sha256', signingKey)
			.update(`${path}\n${date}\n${expires}`)
			.digest('hex');
		const query = new URLSearchParams({
			'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
			'X-Amz-Credential': `SIMACCESSKEY/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
			'X-Amz-Date': date,
			'X-Amz-Expires': String(expires),
			'X-Amz-SignedHeaders': 'host',
			'X-Amz-Signature': signature,
		});
		return `${storageUrl}${path}?${query.toString()}`;
	}

	function fileByName(name: string): SimFile {
		const file = state.files.get(name);
		if (!file) throw new HttpError(404, `File ${name} not found`);
		return file;
	}

	// ---- routes ----------------------------------------------------------------------------------

	const routes: Route[] = [
		// jobs
		{
			method: 'GET',
			scope: 'export',
			pattern: /^\/jobs$/,
			handle: ({ query: q, flavour }) => {
				const jobs = [...state.jobs.values()].filter((j) => {
					const suspend = q.get('suspend');
					const scheduleType = q.get('scheduleType');
					return (
						contains(j.title, q.get('title')) &&
						contains(j.type, q.get('type')) &&
						contains(j.source, q.get('source')) &&
						(suspend === null || suspend === '' || String(j.suspended) === suspend) &&
						(scheduleType === null ||
							scheduleType === '' ||
							contains(isOneTime(j) ? 'once' : 'cron', scheduleType))
					);
				});
				const page = pageOf(
					jobs,
					listParams(q),
					(j) => jobJson(j, flavour),
					'createdDate',
					(a, b) => b.id - a.id,
				);
				return page ? { status: 200, body: page } : { status: 204 };
			},
		},
		{
			method: 'POST',
			scope: 'export',
			pattern: /^\/jobs$/,
			handle: async (ctx) => {
				const body = await ctx.json();
				state.jobRequests.push({ method: 'POST', path: ctx.path, body });
				const job = jobFromBody(body, ctx.flavour);
				state.jobs.set(job.id, job);
				if (job.schedulerParam.immediately && !job.suspended) startRun(job);
				return { status: 202, body: jobJson(job, ctx.flavour) };
			},
		},
		{
			method: 'DELETE',
			scope: 'export',
			pattern: /^\/jobs$/,
			handle: ({ query }) => {
				// "In case some jobs cannot be deleted, internal server error is returned with a list of
				// jobs that weren't deleted as json array in the body."
				const kept: string[] = [];
				for (const id of listParam(query, 'jobIDs')) {
					const job = state.jobs.get(Number(id));
					if (!job || jobDeleteRefusal(job)) kept.push(id);
					else state.jobs.delete(job.id);
				}
				return kept.length > 0 ? { status: 500, body: kept } : { status: 204 };
			},
		},
		{
			method: 'GET',
			scope: 'export',
			pattern: /^\/jobs\/(\d+)$/,
			handle: (ctx, [id]) => {
				const job = jobById(id);
				// The UDM v4 reference answers the Job shape here (its settings, suspended as a string).
				if (!reading.jobSettingsInJobInfo && ctx.flavour.name === 'udm-v4')
					return { status: 200, body: v4JobJson(job) };
				return { status: 200, body: jobJson(job, ctx.flavour) };
			},
		},
		{
			method: 'PUT',
			scope: 'export',
			pattern: /^\/jobs\/(\d+)$/,
			handle: async (ctx, [id]) => {
				const job = jobById(id);
				const body = await ctx.json();
				state.jobRequests.push({ method: 'PUT', path: ctx.path, body });
				if (runningRunOf(job.id))
					throw new HttpError(400, `Job ${id} is in progress and cannot be edited`);
				if (isOneTime(job) && runsOf(job.id).length > 0)
					throw new HttpError(
						400,
						`Job ${id} runs only once and has been submitted: it cannot be edited`,
					);
				const updated = jobFromBody(body, ctx.flavour, job);
				state.jobs.set(job.id, updated);
				return { status: 200, body: jobJson(updated, ctx.flavour) };
			},
		},
		{
			method: 'DELETE',
			scope: 'export',
			pattern: /^\/jobs\/(\d+)$/,
			handle: (_ctx, [id]) => {
				const job = jobById(id);
				const refusal = jobDeleteRefusal(job);
				if (refusal) throw new HttpError(400, refusal);
				state.jobs.delete(job.id);
				return { status: 204 };
			},
		},
		{
			method: 'POST',
			scope: 'export',
			pattern: /^\/jobs\/cancel\/(\d+)$/,
			handle: (_ctx, [id]) => {
				const job = jobById(id);
				// Cancels what is running; a job with nothing running is left as it is.
				for (const run of runsOf(job.id)) {
					if (run.status !== 'InProgress') continue;
					run.status = 'Cancelled';
					run.endedAt = now();
					run.failure = 'Cancelled by user';
					job.cancelled = true;
				}
				return { status: 200 };
			},
		},
		{
			method: 'POST',
			scope: 'export',
			pattern: /^\/jobs\/(suspend|resume)\/(\d+)$/,
			handle: (ctx, [action, id]) => {
				const job = jobById(id);
				if (action === 'resume' && isOneTime(job) && runsOf(job.id).length > 0)
					throw new HttpError(400, `Job ${id} runs only once and has run: it cannot be resumed`);
				job.suspended = action === 'suspend';
				// v10 answers the job; v4 (and CDDS) a status envelope.
				return {
					status: 200,
					body:
						ctx.flavour.name === 'udm-v10'
							? jobJson(job, ctx.flavour)
							: { status: { code: 0, message: 'successful' } },
				};
			},
		},
		// runs
		{
			method: 'GET',
			scope: 'export',
			pattern: /^\/history$/,
			handle: ({ query: q, flavour }) => {
				// jobId and source are filters of the v10 history only: v4 and CDDS ignore them, as a
				// server ignores query parameters it does not know.
				const jobId = isV10(flavour) ? q.get('jobId') : null;
				const source = isV10(flavour) ? q.get('source') : null;
				const runs = [...state.runs.values()].filter((r) => {
					return (
						(jobId === null || jobId === '' || String(r.jobId) === jobId) &&
						contains(r.status, q.get('status')) &&
						contains(r.settings.title, q.get('title')) &&
						contains(r.settings.type, q.get('type')) &&
						contains(r.settings.source, source) &&
						contains(`${r.exportName}.zip.smime`, q.get('fileName'))
					);
				});
				const page = pageOf(
					runs,
					listParams(q),
					(r) => runJson(r, flavour),
					'createdDate',
					(a, b) => b.id - a.id,
				);
				return page ? { status: 200, body: page } : { status: 204 };
			},
		},
		{
			method: 'DELETE',
			scope: 'export',
			pattern: /^\/history$/,
			handle: ({ query }) => {
				const kept: string[] = [];
				for (const id of listParam(query, 'jobIDs')) {
					const run = state.runs.get(Number(id));
					if (!run || run.status === 'InProgress') kept.push(id);
					else deleteRun(run);
				}
				return kept.length > 0 ? { status: 500, body: kept } : { status: 204 };
			},
		},
		{
			method: 'GET',
			scope: 'export',
			pattern: /^\/history\/(\d+)$/,
			handle: (ctx, [id]) => ({ status: 200, body: runJson(runById(id), ctx.flavour) }),
		},
		{
			method: 'DELETE',
			scope: 'export',
			pattern: /^\/history\/(\d+)$/,
			handle: (_ctx, [id]) => {
				const run = runById(id);
				if (run.status === 'InProgress')
					throw new HttpError(400, `History record ${id} is in progress and cannot be deleted`);
				deleteRun(run);
				return { status: 204 };
			},
		},
		{
			method: 'GET',
			scope: 'export',
			pattern: /^\/history\/(\d+)\/progress$/,
			handle: (_ctx, [id]) => {
				const run = runById(id);
				return { status: 200, body: { progress: progressOf(run), status: run.status } };
			},
		},
		// files
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/file-metadatas$/,
			handle: ({ query: q, flavour }) => {
				const date = (name: string) => {
					const text = q.get(name);
					if (text === null || text === '') return undefined;
					const ms = Date.parse(text);
					if (Number.isNaN(ms)) throw new HttpError(400, `${name} "${text}" is not a date`);
					return ms;
				};
				const startDate = date('startDate');
				const endDate = date('endDate');
				// historyId is a filter of v10 only: v4 and CDDS ignore it.
				const historyId = isV10(flavour) ? q.get('historyId') : null;
				const files = [...state.files.values()].filter(
					(f) =>
						(historyId === null || historyId === '' || String(f.runId) === historyId) &&
						contains(f.jobTitle, q.get('jobTitle')) &&
						contains(f.name, q.get('name')) &&
						contains(f.dataType, q.get('type')) &&
						contains(f.source, q.get('source')) &&
						(startDate === undefined || f.createdAt >= startDate) &&
						(endDate === undefined || f.createdAt <= endDate),
				);
				// Newest first; the parts of one run in part order.
				const page = pageOf(
					files,
					listParams(q),
					(f) => fileJson(f, flavour),
					'createdDate',
					(a, b) => a.name.localeCompare(b.name),
				);
				return page ? { status: 200, body: page } : { status: 204 };
			},
		},
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/files$/,
			handle: ({ query }) => {
				const names = listParam(query, 'filename');
				if (names.length > 100) throw new HttpError(400, 'at most 100 files at a time');
				const missing = names.filter((n) => !state.files.has(n));
				if (missing.length > 0) return { status: 404, body: missing.map((path) => ({ path })) };
				const links = names.map((n) => ({ path: presign(n) }));
				return {
					status: 200,
					body: links.length === 1 && reading.presignedUrls === 'object-for-one' ? links[0] : links,
				};
			},
		},
		{
			method: 'DELETE',
			scope: 'common',
			pattern: /^\/files$/,
			handle: ({ query }) => {
				const kept: string[] = [];
				for (const name of listParam(query, 'filename')) if (!dropFile(name)) kept.push(name);
				return kept.length > 0 ? { status: 500, body: kept } : { status: 204 };
			},
		},
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/files\/([^/]+)$/,
			handle: (_ctx, [encoded]) => {
				const file = fileByName(decodeURIComponent(encoded));
				return { status: 303, headers: { location: presign(file.name) } };
			},
		},
		{
			method: 'DELETE',
			scope: 'common',
			pattern: /^\/files\/([^/]+)$/,
			handle: (_ctx, [encoded]) => {
				dropFile(fileByName(decodeURIComponent(encoded)).name);
				return { status: 204 };
			},
		},
		// certificate
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/cipher$/,
			handle: () => {
				const cert = state.certificate;
				if (!cert) throw new HttpError(404, 'No certificate has been uploaded');
				return {
					status: 200,
					body: {
						ccid,
						name: cert.name,
						size: Buffer.byteLength(cert.pem),
						lastModified: new Date(cert.uploadedAt).toISOString(),
					},
				};
			},
		},
		{
			method: 'POST',
			scope: 'common',
			pattern: /^\/cipher\/([^/]+)$/,
			handle: async (ctx, [encoded]) => {
				const name = decodeURIComponent(encoded);
				const file = multipartField(await ctx.body(), ctx.contentType, 'file');
				if (!file)
					throw new HttpError(400, 'the certificate must be sent in the multipart field "file"');
				const pem = file.content.toString('latin1');
				if (/PRIVATE KEY-----/.test(pem))
					throw new HttpError(400, 'the file holds a private key: upload only the certificate');
				let parsed: X509Certificate;
				try {
					parsed = encryptionCertificate(pem);
				} catch (error) {
					throw new HttpError(
						400,
						`not a valid X.509 RSA certificate: ${error instanceof Error ? error.message : String(error)}`,
					);
				}
				if (Date.parse(parsed.validTo) < now() || Date.parse(parsed.validFrom) > now())
					throw new HttpError(
						400,
						`the certificate is not valid now (valid ${parsed.validFrom} to ${parsed.validTo})`,
					);
				setCertificate(name, pem);
				return { status: 201, body: `Certificate ${name} uploaded` };
			},
		},
		// reference data
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/data\/sources$/,
			handle: () => ({ status: 200, body: LISTED_SOURCES }),
		},
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/data\/types$/,
			handle: ({ query, flavour }) => {
				const source = query.get('source');
				if (source && !SOURCES.some((s) => s.value.toLowerCase() === source.toLowerCase()))
					return { status: 204 };
				// The v3 reference answers DataType {name, source}; v10 shows {} (a reading).
				const nameSource = !isV10(flavour) || reading.referenceData === 'name-source';
				return {
					status: 200,
					body: DATA_TYPES.map((t) =>
						nameSource ? { name: t, source: source || SOURCES[0].value } : { label: t, value: t },
					),
				};
			},
		},
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/data\/sub-types$/,
			handle: ({ query }) => {
				const source = query.get('source') || 'UCS';
				const requested = query.get('dataType') || 'Interaction';
				const dataType = DATA_TYPES.find((t) => t.toLowerCase() === requested.toLowerCase());
				if (!dataType)
					throw new HttpError(
						400,
						`dataType "${requested}" is not a data type (${DATA_TYPES.join(', ')})`,
					);
				if (
					dataType !== 'Interaction' ||
					!SOURCES.some((s) => s.value.toLowerCase() === source.toLowerCase())
				)
					return { status: 204 };
				return { status: 200, body: MEDIA.map((m) => ({ ...m, source, dataType, enabled: true })) };
			},
		},
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/data\/job-statuses$/,
			handle: () => ({ status: 200, body: JOB_STATUSES.map((s) => ({ label: s, value: s })) }),
		},
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/data\/attributes$/,
			v10Only: true,
			handle: ({ query }) => {
				const all: Record<string, string[]> = {
					Interaction: [
						'IXNID',
						'MEDIATYPEID',
						'TYPEID',
						'SUBTYPEID',
						'STATUS',
						'STARTDATE',
						'ENDDATE',
						'CONTACTID',
						'SUBJECT',
						'QUEUENAME',
						'ALLATTRIBUTES',
					],
					Contact: [
						'CONTACTID',
						'STRATTRIBUTE1',
						'STRATTRIBUTE2',
						'STRATTRIBUTE3',
						'STRATTRIBUTE4',
						'CREATEDDATE',
						'MODIFIEDDATE',
					],
				};
				const wanted = (query.get('entities') ?? '')
					.split(',')
					.map((e) => e.trim().toLowerCase())
					.filter(Boolean);
				return {
					status: 200,
					body: Object.fromEntries(
						Object.entries(all).filter(
							([entity]) => wanted.length === 0 || wanted.includes(entity.toLowerCase()),
						),
					),
				};
			},
		},
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/resources\/labels$/,
			v10Only: true,
			handle: () => ({
				status: 200,
				body: {
					'export.title': 'Export',
					'export.history': 'History',
					'export.artifacts': 'Artifacts',
					'job.add': 'Add new job',
					'job.clone': 'Clone selected',
				},
			}),
		},
		{
			method: 'GET',
			scope: 'common',
			pattern: /^\/version$/,
			handle: ({ flavour }) => ({
				status: 200,
				body:
					flavour.name === 'udm-v10'
						? { version: '10.0.000.21', buildNumber: '21', changeset: 'sim', name: 'udm-simulator' }
						: flavour.name === 'udm-v4'
							? {
									version: '9.0.000.48',
									buildNumber: '48',
									changeset: 'sim',
									name: 'udm-simulator',
								}
							: {
									version: '9.0.000.31',
									buildNumber: '31',
									changeset: 'sim',
									name: 'cdds-simulator',
								},
			}),
		},
	];

	// ---- the API server --------------------------------------------------------------------------

	function takeInjectedFailure(path: string, isAuth: boolean): InjectedFailure | undefined {
		const index = injected.findIndex((f) =>
			f.pathPrefix !== undefined ? path.startsWith(f.pathPrefix) : !isAuth,
		);
		return index === -1 ? undefined : injected.splice(index, 1)[0];
	}

	function injectedReply(failure: InjectedFailure): Reply {
		const message =
			failure.status === 429
				? 'Too Many Requests'
				: failure.status === 503
					? 'Service Unavailable'
					: `Simulated failure (HTTP ${failure.status})`;
		return {
			status: failure.status,
			body: genesysErrorBody(failure.status, message),
			headers:
				failure.retryAfterSeconds !== undefined
					? { 'retry-after': String(failure.retryAfterSeconds) }
					: {},
		};
	}

	function basicClient(req: IncomingMessage): SimulatorClient | undefined {
		const encoded = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
		if (!encoded) return undefined;
		const decoded = Buffer.from(encoded, 'base64').toString('utf8');
		const colon = decoded.indexOf(':');
		if (colon === -1) return undefined;
		// RFC 6749 2.3.1: both parts are form-urlencoded before they are joined.
		const unescape = (text: string) => {
			try {
				return decodeURIComponent(text.replace(/\+/g, ' '));
			} catch {
				return text;
			}
		};
		const id = unescape(decoded.slice(0, colon));
		const secret = unescape(decoded.slice(colon + 1));
		return clients.find((c) => c.clientId === id && sameSecret(c.clientSecret, secret));
	}

	function issueToken(clientId: string, username: string | undefined, withRefresh: boolean): Reply {
		const accessToken = randomUUID();
		accessTokens.set(accessToken, {
			clientId,
			username,
			expiresAt: now() + tokenTtlSeconds * 1000,
		});
		state.tokensIssued++;
		let refreshToken: string | undefined;
		if (withRefresh) {
			refreshToken = randomUUID();
			refreshTokens.set(refreshToken, { clientId, username });
		}
		return {
			status: 200,
			body: {
				access_token: accessToken,
				token_type: 'bearer',
				expires_in: tokenTtlSeconds,
				...(refreshToken ? { refresh_token: refreshToken } : {}),
				scope: '*',
			},
			headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
		};
	}

	async function tokenRequest(req: IncomingMessage): Promise<Reply> {
		const oauthError = (status: number, error: string, description: string): Reply => ({
			status,
			body: { error, error_description: description },
		});
		if (!apiKeys.has(String(req.headers['x-api-key'] ?? '')))
			return { status: 403, body: { message: 'Forbidden' } };
		const failure = takeInjectedFailure(TOKEN_PATH, true);
		if (failure) return injectedReply(failure);
		const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
		const client = basicClient(req);
		if (!client || (form.get('client_id') && form.get('client_id') !== client.clientId))
			return oauthError(401, 'Unauthorized', 'Bad credentials');
		const grant = form.get('grant_type');
		if (!grant) return oauthError(400, 'invalid_request', 'Missing grant type');
		if (
			!(ALL_GRANTS as readonly string[]).includes(grant) ||
			!(client.grants ?? ALL_GRANTS).includes(grant as GrantType)
		) {
			return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grant}`);
		}
		const scope = form.get('scope');
		if (scope !== null && scope !== '*')
			return oauthError(400, 'invalid_scope', `Invalid scope: ${scope}`);
		switch (grant as GrantType) {
			case 'password': {
				const user = users.find(
					(u) =>
						u.username === form.get('username') &&
						sameSecret(u.password, form.get('password') ?? ''),
				);
				if (!user) return oauthError(400, 'invalid_grant', 'Bad credentials');
				return issueToken(client.clientId, user.username, true);
			}
			case 'client_credentials':
				return issueToken(client.clientId, undefined, false);
			case 'authorization_code': {
				const code = form.get('code') ?? '';
				const grantRecord = authorizationCodes.get(code);
				authorizationCodes.delete(code);
				if (
					!grantRecord ||
					grantRecord.clientId !== client.clientId ||
					grantRecord.expiresAt < now()
				)
					return oauthError(400, 'invalid_grant', 'Invalid authorization code');
				// RFC 6749 4.1.3 (and the reference's example): the redirect_uri of the authorization request.
				if (form.get('redirect_uri') !== grantRecord.redirectUri)
					return oauthError(400, 'invalid_grant', 'Redirect URI mismatch');
				return issueToken(client.clientId, grantRecord.username, true);
			}
			case 'refresh_token': {
				const record = refreshTokens.get(form.get('refresh_token') ?? '');
				if (!record || record.clientId !== client.clientId)
					return oauthError(400, 'invalid_grant', 'Invalid refresh token');
				if (options.rotateRefreshTokens) refreshTokens.delete(form.get('refresh_token') ?? '');
				return issueToken(client.clientId, record.username, true);
			}
		}
	}

	function authorizeRequest(url: URL): Reply {
		const q = url.searchParams;
		const redirectUri = q.get('redirect_uri');
		const client = clients.find((c) => c.clientId === q.get('client_id'));
		if (!client || !redirectUri || q.get('response_type') !== 'code') {
			return {
				status: 400,
				body: {
					error: 'invalid_request',
					error_description: 'response_type=code, a known client_id and redirect_uri are required',
				},
			};
		}
		let target: URL;
		try {
			target = new URL(redirectUri);
		} catch {
			return {
				status: 400,
				body: {
					error: 'invalid_request',
					error_description: 'redirect_uri is not an absolute URI',
				},
			};
		}
		// The sign-in form is skipped: the first user signs in at once.
		const code = randomBytes(12).toString('base64url');
		authorizationCodes.set(code, {
			clientId: client.clientId,
			redirectUri,
			username: users[0]?.username ?? '',
			expiresAt: now() + 60_000,
		});
		target.searchParams.set('code', code);
		const stateParam = q.get('state');
		if (stateParam !== null) target.searchParams.set('state', stateParam);
		return { status: 302, headers: { location: target.href } };
	}

	async function apiRequest(req: IncomingMessage, url: URL): Promise<Reply> {
		const method = req.method ?? 'GET';
		const path = url.pathname;
		if (path === TOKEN_PATH)
			return method === 'POST'
				? tokenRequest(req)
				: {
						status: 405,
						body: genesysErrorBody(405, 'Method Not Allowed'),
						headers: { allow: 'POST' },
					};
		if (path === AUTHORIZE_PATH && method === 'GET') return authorizeRequest(url);

		// The gateway checks the API key before anything else.
		if (!apiKeys.has(String(req.headers['x-api-key'] ?? '')))
			return { status: 403, body: { message: 'Forbidden' } };
		const failure = takeInjectedFailure(path, path.startsWith('/auth/'));
		if (failure) return injectedReply(failure);

		// Digital Channels (Nexus): the interaction an Interactions Webhook event's selfUri points at
		// (`NexusURL/nexus/v3/chat/sessions/<id>`); the gateway's API key is all it takes.
		const nexus = NEXUS_PATH.exec(path);
		if (nexus) {
			if (method !== 'GET')
				return {
					status: 405,
					body: genesysErrorBody(405, 'Method Not Allowed'),
					headers: { allow: 'GET' },
				};
			return {
				status: 200,
				body: nexusInteraction(nexus[1] === 'chat/sessions' ? 'chat' : 'email', nexus[2]),
			};
		}

		// The export prefix lies inside the common one (/udm/v10/export under /udm/v10): try it first.
		const located = FLAVOURS.flatMap((f) => [
			{ flavour: f, scope: 'export' as const, prefix: f.exportPrefix },
			{ flavour: f, scope: 'common' as const, prefix: f.commonPrefix },
		]).find((candidate) => path.startsWith(`${candidate.prefix}/`));
		if (!located) throw new HttpError(404, `No resource at ${path}`);
		const { flavour, scope } = located;
		const rest = path.slice(located.prefix.length);

		const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
		const token = bearer ? accessTokens.get(bearer) : undefined;
		if (!token || token.expiresAt <= now()) {
			return {
				status: 401,
				body: genesysErrorBody(
					401,
					'Unauthorized: the access token is missing, invalid or expired',
				),
				headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
			};
		}

		settle();
		let pathMatched = false;
		for (const route of routes) {
			if (route.scope !== scope || (route.v10Only && flavour.name !== 'udm-v10')) continue;
			const m = route.pattern.exec(rest);
			if (!m) continue;
			pathMatched = true;
			if (route.method !== method) continue;
			let bodyPromise: Promise<Buffer> | undefined;
			const body = () => (bodyPromise ??= readBody(req));
			const ctx: RequestContext = {
				flavour,
				path: `${url.pathname}${url.search}`,
				query: url.searchParams,
				contentType: req.headers['content-type'],
				body,
				json: async () => {
					const text = (await body()).toString('utf8');
					if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
						throw new HttpError(415, 'the body must be application/json');
					try {
						return JSON.parse(text) as unknown;
					} catch {
						throw new HttpError(400, 'the body is not valid JSON');
					}
				},
			};
			return route.handle(ctx, m.slice(1));
		}
		if (pathMatched) throw new HttpError(405, `${method} is not allowed on ${path}`);
		throw new HttpError(404, `No resource at ${path}`);
	}

	function writeReply(res: ServerResponse, reply: Reply): void {
		sendJson(res, reply.status, reply.body, reply.headers);
	}

	const api: Server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://simulator.invalid');
		state.apiRequests.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}` });
		apiRequest(req, url).then(
			(reply) => writeReply(res, reply),
			(error: unknown) => {
				if (res.headersSent) return void res.destroy();
				if (error instanceof HttpError)
					return writeReply(res, {
						status: error.status,
						body: error.body ?? genesysErrorBody(error.status, error.message),
						headers: error.headers,
					});
				writeReply(res, {
					status: 500,
					body: genesysErrorBody(
						500,
						`Simulator error: ${error instanceof Error ? error.message : String(error)}`,
					),
				});
			},
		);
	});

	// ---- the storage server ----------------------------------------------------------------------

	function storageRequest(req: IncomingMessage, res: ServerResponse): void {
		const url = new URL(req.url ?? '/', 'http://storage.invalid');
		const method = req.method ?? 'GET';
		state.storageRequests.push({ method, path: url.pathname, headers: headerRecord(req) });
		const requestId = randomBytes(8).toString('hex').toUpperCase();
		const fail = (
			status: number,
			code: string,
			message: string,
			headers: Record<string, string> = {},
		) => {
			// HEAD answers carry no body.
			if (method === 'HEAD')
				return void res.writeHead(status, { 'x-amz-request-id': requestId, ...headers }).end();
			sendXml(res, status, s3Error(code, message, url.pathname, requestId), {
				'x-amz-request-id': requestId,
				...headers,
			});
		};
		if (method !== 'GET' && method !== 'HEAD')
			return fail(
				405,
				'MethodNotAllowed',
				'The specified method is not allowed against this resource.',
				{ allow: 'GET, HEAD' },
			);
		// A pre-signed URL is its own credential: S3 refuses a second one.
		if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) {
			return fail(
				400,
				'InvalidArgument',
				'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
			);
		}
		const q = url.searchParams;
		const date = q.get('X-Amz-Date') ?? '';
		const expires = q.get('X-Amz-Expires') ?? '';
		const signature = q.get('X-Amz-Signature') ?? '';
		const signedAt = parseAmzDate(date);
		if (
			q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' ||
			signedAt === undefined ||
			!/^-?\d+$/.test(expires) ||
			!signature
		) {
			return fail(
				403,
				'AccessDenied',
				'Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
			);
		}
		const expected = createHmac('sha256', signingKey)
			.update(`${url.pathname}\n${date}\n${expires}`)
			.digest('hex');
		if (!sameSecret(signature, expected))
			return fail(
				403,
				'SignatureDoesNotMatch',
				'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
			);
		if (now() > signedAt + Number(expires) * 1000)
			return fail(403, 'AccessDenied', 'Request has expired', {});
		const prefix = `/${BUCKET}/`;
		const name = url.pathname.startsWith(prefix)
			? decodeURIComponent(url.pathname.slice(prefix.length))
			: '';
		settle();
		const file = state.files.get(name);
		if (!file) return fail(404, 'NoSuchKey', 'The specified key does not exist.');
		if (method === 'GET') {
			const failure = downloadFailures.shift();
			if (failure !== undefined)
				return fail(
					failure,
					failure === 503 ? 'SlowDown' : failure >= 500 ? 'InternalError' : 'AccessDenied',
					failure === 503
						? 'Please reduce your request rate.'
						: 'We encountered an internal error. Please try again.',
				);
		}

		const total = file.size;
		let start = 0;
		let end = total - 1;
		let status = 200;
		const range = req.headers.range;
		if (range !== undefined) {
			// One byte range, as S3 serves (bytes=N-, bytes=N-M, bytes=-K); other forms are ignored.
			const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
			if (m && (m[1] !== '' || m[2] !== '')) {
				if (m[1] === '') {
					start = Math.max(0, total - Number(m[2]));
				} else {
					start = Number(m[1]);
					if (m[2] !== '') end = Math.min(end, Number(m[2]));
				}
				if (start >= total || start > end || (m[1] === '' && Number(m[2]) === 0)) {
					return fail(416, 'InvalidRange', 'The requested range is not satisfiable', {
						'content-range': `bytes */${total}`,
					});
				}
				status = 206;
			}
		}
		const length = end + 1 - start;
		res.writeHead(status, {
			'content-type': 'binary/octet-stream',
			'content-length': String(length),
			'accept-ranges': 'bytes',
			etag: `"${file.md5}"`,
			'last-modified': new Date(file.createdAt).toUTCString(),
			'x-amz-request-id': requestId,
			...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${total}` } : {}),
		});
		if (method === 'HEAD') return void res.end();
		let cut: number | undefined;
		if (resetAfterBytes !== undefined) {
			cut = Math.max(0, Math.min(resetAfterBytes, length - 1));
			resetAfterBytes = undefined;
		}
		// Send part of the body, let it reach the client, then drop the connection.
		const drop = () => setTimeout(() => res.socket?.destroy(), 10);
		if (file.path === undefined) {
			const body = file.bytes.subarray(start, end + 1);
			if (cut !== undefined) return void res.write(body.subarray(0, cut), drop);
			return void res.end(body);
		}
		// A large export's file: streamed from disk.
		if (cut === 0) return void res.write(Buffer.alloc(0), drop);
		const stream = createReadStream(file.path, {
			start,
			end: cut === undefined ? end : start + cut - 1,
		});
		stream.once('error', () => res.destroy());
		if (cut !== undefined) {
			stream.pipe(res, { end: false });
			stream.once('end', () => res.write(Buffer.alloc(0), drop));
			return;
		}
		stream.pipe(res);
	}

	const storage: Server = createServer(storageRequest);

	const apiPort = await listen(api, options.port ?? 0, host);
	let storagePort: number;
	try {
		storagePort = await listen(storage, options.storagePort ?? 0, host);
	} catch (error) {
		await closeServer(api);
		throw error;
	}
	storageUrl = `http://${hostForUrl(host)}:${storagePort}`;

	const controls: SimulatorControls = {
		failNextRequests(count, status = 503, opts = {}) {
			for (let i = 0; i < count; i++)
				injected.push({
					status,
					retryAfterSeconds: opts.retryAfterSeconds,
					pathPrefix: opts.pathPrefix,
				});
		},
		failNextDownloads(count, status = 503) {
			for (let i = 0; i < count; i++) downloadFailures.push(status);
		},
		resetDownloadOnce(afterBytes) {
			resetAfterBytes = afterBytes;
		},
		expireTokensNow() {
			for (const token of accessTokens.values()) token.expiresAt = 0;
		},
		failNextRun(reason = 'Export failed: the data source did not answer in time') {
			runFailures.push(reason);
		},
		setPresignedUrlTtl(seconds) {
			presignedTtlSeconds = Math.trunc(seconds);
		},
		setRunDuration(ms) {
			runDurationMs = Math.max(0, ms);
		},
		triggerSchedule(jobId) {
			settle();
			const job = state.jobs.get(jobId);
			if (!job) throw new Error(`no job ${jobId}`);
			if (job.suspended)
				throw new Error(`job ${jobId} is suspended: its schedule does not start runs`);
			return startRun(job);
		},
		settle,
	};

	return {
		baseUrl: `http://${hostForUrl(host)}:${apiPort}`,
		storageUrl,
		state,
		controls,
		async close() {
			await Promise.all([closeServer(api), closeServer(storage)]);
			if (largeDir) await rm(await largeDir, { recursive: true, force: true });
		},
	};
}
