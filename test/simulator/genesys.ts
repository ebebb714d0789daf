/**
 * A local stand-in for a Genesys Multicloud CX tenant's export APIs, faithful where clients can
 * tell the difference:
 * - `POST /auth/v3/oauth/token` (password, client-credentials, authorization-code and refresh
 *   grants; tokens expire) and `GET /auth/v3/oauth/authorize` (approves at once, for OAuth2 tests);
 * - the User Data Management API under `/udm/v10` (export under `/udm/v10/export`), the deprecated
 *   v4 paths (`/udm/v4/export` + `/udm/v3`) and the CDDS paths (`/data-download/v4/export` +
 *   `/data-download/v3`): jobs, runs (history) whose progress advances with time, file metadata,
 *   files answering 303 to a pre-signed URL, certificate (cipher) upload, reference data, version;
 * - every API call needs `x-api-key` (403 otherwise) and a valid bearer token (401 otherwise);
 * - a second "storage" server serves the pre-signed URLs: it refuses any request carrying
 *   `Authorization` or `x-api-key` (400, S3 style), expired links (403), and serves `Range`;
 * - exports are built as Genesys builds them: CDDS JSON Lines, zipped, split by the job's file split
 *   size into `export-<uuid>.z01 … .zip`, each part S/MIME-encrypted (AES-256) to the uploaded
 *   certificate. Without a certificate a run fails, as it would on a tenant.
 * Test switches live in `controls`. Everything is in memory.
 */
import { createHash, createHmac, randomBytes, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateExport, jsonLines, type ExportEntry } from './records';
import { encryptSmime } from './smime';
import { buildZip, partNames } from './zipWriter';

export interface SimulatorOptions {
	host?: string;
	port?: number;
	storagePort?: number;
	apiKey?: string;
	clientId?: string;
	clientSecret?: string;
	/** `TENANT\user`. */
	username?: string;
	password?: string;
	tokenTtlSeconds?: number;
	presignedUrlTtlSeconds?: number;
	/** How long a run takes from start to completed (default 1500 ms). */
	runDurationMs?: number;
	/** Interactions per run (default 60) and contacts (default 20). */
	interactions?: number;
	contacts?: number;
	/** Bytes of each email attachment before base64 (default 6000). */
	attachmentBytes?: number;
	/** Makes generated data and export names repeatable. */
	seed?: string;
	/** A certificate (PEM) already uploaded. */
	certificate?: string;
	now?: () => number;
}

export interface SimJob {
	id: number;
	title: string;
	type: string;
	source: string;
	description?: string;
	dataType: string;
	media: string[];
	fileSplitSize?: string;
	exportAttachments: boolean;
	timeFrame: { all?: boolean; dateFrom?: string; dateTo?: string };
	schedulerParam: { immediately?: boolean; cron?: string; runs?: string; startDate?: string };
	suspended: boolean;
	cancelled: boolean;
	createdAt: number;
}

export interface SimRun {
	id: number;
	jobId: number;
	createdAt: number;
	status: 'InProgress' | 'Completed' | 'Failed' | 'Cancelled';
	failure?: string;
	/** Set when the run fails on completion. */
	failWith?: string;
	exportName: string;
	entries?: ExportEntry[];
	fileNames: string[];
	fileSize?: number;
}

export interface SimFile {
	name: string;
	runId: number;
	jobId: number;
	bytes: Buffer;
	createdAt: number;
}

export interface StorageRequest {
	method: string;
	path: string;
	/** Header names as received (lower case) with their values; the simulator holds no real secret. */
	headers: Record<string, string>;
}

export interface SimulatorState {
	jobs: Map<number, SimJob>;
	runs: Map<number, SimRun>;
	files: Map<string, SimFile>;
	certificate?: { name: string; pem: string; uploadedAt: number };
	storageRequests: StorageRequest[];
	/** API requests: method, path and query (no headers). */
	apiRequests: Array<{ method: string; path: string }>;
	tokensIssued: number;
	/** The records of a completed run, per entry in archive order. */
	exportContent(runId: number): { entries: ExportEntry[] };
}

export interface SimulatorControls {
	/** The next `count` API requests (optionally only under `pathPrefix`) answer `status`. */
	failNextRequests(count: number, status?: number, options?: { retryAfterSeconds?: number; pathPrefix?: string }): void;
	/** The next `count` storage downloads answer `status`. */
	failNextDownloads(count: number, status?: number): void;
	/** The next storage download sends `afterBytes` bytes of the body, then drops the connection. */
	resetDownloadOnce(afterBytes: number): void;
	/** Every token issued so far stops working (the API answers 401). */
	expireTokensNow(): void;
	/** The next run to complete fails with this reason. */
	failNextRun(reason?: string): void;
	setPresignedUrlTtl(seconds: number): void;
	setRunDuration(ms: number): void;
	/** Starts a run of a scheduled job now, as its schedule would. */
	triggerSchedule(jobId: number): SimRun;
}

export interface GenesysSimulator {
	baseUrl: string;
	storageUrl: string;
	state: SimulatorState;
	controls: SimulatorControls;
	close(): Promise<void>;
}

interface Flavour {
	exportPrefix: string;
	commonPrefix: string;
	v10: boolean;
}

const FLAVOURS: Flavour[] = [
	{ exportPrefix: '/udm/v10/export', commonPrefix: '/udm/v10', v10: true },
	{ exportPrefix: '/udm/v4/export', commonPrefix: '/udm/v3', v10: false },
	{ exportPrefix: '/data-download/v4/export', commonPrefix: '/data-download/v3', v10: false },
];

class HttpError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly body?: unknown,
	) {
		super(message);
	}
}

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|K|M|G)?\s*$/i;

function splitBytes(value: string | undefined): number {
	const m = SIZE.exec(value ?? '100MB');
	if (!m) throw new HttpError(400, `fileSplitSize "${value}" is not a size`);
	const unit = (m[2] ?? 'MB').toUpperCase()[0];
	return Math.floor(Number(m[1]) * (unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : 1024 ** 3));
}

function uuidFrom(seed: string): string {
	const h = createHash('sha256').update(seed).digest('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > limit) throw new HttpError(413, 'request body too large');
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
	if (body === undefined) {
		res.writeHead(status, headers).end();
		return;
	}
	const text = JSON.stringify(body);
	res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

function errorBody(status: number, message: string) {
	return { status: { code: status, message } };
}

/** The `file` part of a multipart/form-data body. */
function multipartFile(body: Buffer, contentType: string | undefined): { filename?: string; content: Buffer } {
	const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
	if (!boundary) throw new HttpError(400, 'expected multipart/form-data with a boundary');
	const delimiter = Buffer.from(`--${boundary}`);
	let at = body.indexOf(delimiter);
	while (at !== -1) {
		const next = body.indexOf(delimiter, at + delimiter.length);
		if (next === -1) break;
		const part = body.subarray(at + delimiter.length + 2, next - 2);
		const headerEnd = part.indexOf('\r\n\r\n');
		if (headerEnd !== -1) {
			const headers = part.subarray(0, headerEnd).toString('utf8');
			if (/name="file"/i.test(headers)) return { filename: /filename="([^"]*)"/i.exec(headers)?.[1], content: part.subarray(headerEnd + 4) };
		}
		at = next;
	}
	throw new HttpError(400, 'the multipart body has no "file" field');
}

function matches(value: string | null | undefined, filter: string | null): boolean {
	return filter === null || filter === '' || (value ?? '').toLowerCase().includes(filter.toLowerCase());
}

export async function startGenesysSimulator(options: SimulatorOptions = {}): Promise<GenesysSimulator> {
	const host = options.host ?? '127.0.0.1';
	const apiKey = options.apiKey ?? 'sim-api-key';
	const clientId = options.clientId ?? 'sim-client';
	const clientSecret = options.clientSecret ?? 'sim-secret';
	const username = options.username ?? 'SIMTENANT\\analyst';
	const password = options.password ?? 'sim-password';
	const seed = options.seed ?? 'cx-export-simulator';
	const now = options.now ?? Date.now;
	const signingKey = randomBytes(32);
	const tokenTtl = options.tokenTtlSeconds ?? 3600;
	let presignedTtl = options.presignedUrlTtlSeconds ?? 60;
	let runDuration = options.runDurationMs ?? 1500;

	const tokens = new Map<string, { expiresAt: number; refresh?: string }>();
	const refreshTokens = new Set<string>();
	const codes = new Set<string>();
	let nextJobId = 1000;
	let nextRunId = 5000;
	const failures: Array<{ status: number; retryAfter?: number; pathPrefix?: string }> = [];
	const downloadFailures: number[] = [];
	let resetAfter: number | undefined;
	const runFailures: string[] = [];

	const state: SimulatorState = {
		jobs: new Map(),
		runs: new Map(),
		files: new Map(),
		storageRequests: [],
		apiRequests: [],
		tokensIssued: 0,
		exportContent(runId) {
			const run = settle(state.runs.get(runId));
			if (!run?.entries) throw new Error(`run ${runId} has no export (status ${run?.status ?? 'unknown'})`);
			return { entries: run.entries.map((e) => ({ name: e.name, records: e.records })) };
		},
	};
	if (options.certificate) state.certificate = { name: 'preloaded.pem', pem: options.certificate, uploadedAt: now() };

	// ---- runs -----------------------------------------------------------------------------------

	function startRun(job: SimJob): SimRun {
		const id = nextRunId++;
		const run: SimRun = { id, jobId: job.id, createdAt: now(), status: 'InProgress', exportName: `export-${uuidFrom(`${seed}:run:${id}`)}`, fileNames: [] };
		state.runs.set(id, run);
		return run;
	}

	function progressOf(run: SimRun): number {
		if (run.status === 'Completed') return 100;
		return Math.min(99, Math.floor(((now() - run.createdAt) / runDuration) * 100));
	}

	/** Brings a run up to date: once its time is up it completes (building the export) or fails. */
	function settle(run: SimRun | undefined): SimRun | undefined {
		if (!run || run.status !== 'InProgress' || now() - run.createdAt < runDuration) return run;
		const job = state.jobs.get(run.jobId);
		const failure = runFailures.shift();
		if (failure !== undefined) {
			run.status = 'Failed';
			run.failure = failure;
			return run;
		}
		if (!job) {
			run.status = 'Failed';
			run.failure = 'the job was deleted while it ran';
			return run;
		}
		if (!state.certificate) {
			run.status = 'Failed';
			run.failure = 'No encryption certificate is uploaded: upload one (cipher) before exporting';
			return run;
		}
		const entries = generateExport(job.id, `${seed}:${run.id}`, {
			dataType: job.dataType,
			media: job.media,
			exportAttachments: job.exportAttachments,
			interactions: options.interactions ?? 60,
			contacts: options.contacts ?? 20,
			attachmentBytes: options.attachmentBytes ?? 6000,
		});
		const parts = buildZip(
			entries.map((e) => ({ name: e.name, data: jsonLines(e.records) })),
			splitBytes(job.fileSplitSize),
		);
		const names = partNames(run.exportName, parts.length);
		let total = 0;
		parts.forEach((part, i) => {
			const name = `${names[i]}.smime`;
			const bytes = encryptSmime(part, state.certificate?.pem ?? '');
			total += bytes.length;
			state.files.set(name, { name, runId: run.id, jobId: job.id, bytes, createdAt: now() });
			run.fileNames.push(name);
		});
		run.entries = entries;
		run.fileSize = total;
		run.status = 'Completed';
		return run;
	}

	function jobStatus(job: SimJob): string {
		if (job.cancelled) return 'Cancelled';
		if (job.suspended) return 'Suspended';
		const runs = [...state.runs.values()].filter((r) => r.jobId === job.id).map((r) => settle(r) as SimRun);
		const last = runs.sort((a, b) => b.id - a.id)[0];
		if (!last) return job.schedulerParam.immediately ? 'InProgress' : 'Scheduled';
		return last.status;
	}

	function jobInfo(job: SimJob) {
		return {
			id: job.id,
			title: job.title,
			type: job.type,
			source: job.source,
			description: job.description ?? null,
			status: jobStatus(job),
			createdDate: new Date(job.createdAt).toISOString(),
			dateFrom: job.timeFrame.dateFrom ?? null,
			dateTo: job.timeFrame.dateTo ?? null,
			media: job.media,
			fileSplitSize: job.fileSplitSize ?? '100MB',
			exportAttachments: job.exportAttachments,
			timeFrame: job.timeFrame,
			schedulerParam: job.schedulerParam,
			jobParams: { type: job.dataType, media: job.media, fileSplitSize: job.fileSplitSize, exportAttachments: job.exportAttachments },
			suspended: job.suspended,
		};
	}

	function runInfo(run: SimRun) {
		settle(run);
		const job = state.jobs.get(run.jobId);
		return {
			id: run.id,
			parentId: run.jobId,
			title: job?.title ?? null,
			type: job?.type ?? null,
			source: job?.source ?? null,
			media: job?.media ?? [],
			fileSplitSize: job?.fileSplitSize ?? '100MB',
			status: run.status,
			progress: progressOf(run),
			createdDate: new Date(run.createdAt).toISOString(),
			fileName: run.status === 'Completed' ? `${run.exportName}.zip.smime` : null,
			fileSize: run.fileSize ?? null,
			description: run.failure ?? job?.description ?? null,
		};
	}

	function fileInfo(file: SimFile) {
		const job = state.jobs.get(file.jobId);
		return { name: file.name, size: file.bytes.length, historyId: file.runId, jobId: file.jobId, jobTitle: job?.title ?? null, type: job?.type ?? null, source: job?.source ?? null, createdDate: new Date(file.createdAt).toISOString() };
	}

	function page<T>(items: T[], query: URLSearchParams, field: (item: T) => string | number) {
		const descAsc = query.get('descAsc');
		const sorted = [...items].sort((a, b) => {
			const x = field(a);
			const y = field(b);
			return x < y ? -1 : x > y ? 1 : 0;
		});
		if (descAsc === null || descAsc === 'true') sorted.reverse();
		const from = Math.max(0, Number(query.get('from') ?? 0) || 0);
		const size = Math.max(1, Math.min(1000, Number(query.get('size') ?? 100) || 100));
		return { count: sorted.length, from, size, items: sorted.slice(from, from + size) };
	}

	function orderField<T extends { createdAt?: number; id: number; title?: string }>(query: URLSearchParams): (item: T) => string | number {
		const name = query.get('orderField') ?? 'createdDate';
		if (name === 'title') return (item) => item.title ?? '';
		if (name === 'id') return (item) => item.id;
		return (item) => (item.createdAt ?? 0) * 100000 + item.id;
	}

	// ---- jobs -----------------------------------------------------------------------------------

	function jobFromBody(body: unknown, existing?: SimJob): SimJob {
		if (!body || typeof body !== 'object') throw new HttpError(400, 'the body must be a JSON object');
		const b = body as Record<string, unknown>;
		const need = (name: string, value: unknown) => {
			if (value === undefined || value === null || value === '') throw new HttpError(400, `${name} is required`);
			return value;
		};
		const jobParams = need('jobParams', b.jobParams) as Record<string, unknown>;
		const schedulerParam = need('schedulerParam', b.schedulerParam) as SimJob['schedulerParam'];
		const timeFrame = need('timeFrame', b.timeFrame) as SimJob['timeFrame'];
		if (!Array.isArray(jobParams.media)) throw new HttpError(400, 'jobParams.media must be an array');
		if (typeof b.suspended !== 'boolean') throw new HttpError(400, 'suspended is required');
		if (jobParams.fileSplitSize !== undefined) splitBytes(String(jobParams.fileSplitSize));
		return {
			id: existing?.id ?? nextJobId++,
			title: String(need('title', b.title)),
			type: String(need('type', b.type)),
			source: String(need('source', b.source)),
			description: typeof b.description === 'string' ? b.description : undefined,
			dataType: String(need('jobParams.type', jobParams.type)),
			media: (jobParams.media as unknown[]).map(String),
			fileSplitSize: typeof jobParams.fileSplitSize === 'string' ? jobParams.fileSplitSize : undefined,
			exportAttachments: jobParams.exportAttachments !== false,
			timeFrame,
			schedulerParam,
			suspended: b.suspended,
			cancelled: false,
			createdAt: existing?.createdAt ?? now(),
		};
	}

	function getJob(id: string): SimJob {
		const job = state.jobs.get(Number(id));
		if (!job) throw new HttpError(404, `Job ${id} not found`);
		return job;
	}

	function getRun(id: string): SimRun {
		const run = settle(state.runs.get(Number(id)));
		if (!run) throw new HttpError(404, `History ${id} not found`);
		return run;
	}

	function deleteRun(run: SimRun): void {
		for (const name of run.fileNames) state.files.delete(name);
		state.runs.delete(run.id);
	}

	// ---- pre-signed URLs ----------------------------------------------------------------------

	let storageUrl = '';
	function presign(name: string): string {
		const expires = Math.floor(now() / 1000) + presignedTtl;
		const signature = createHmac('sha256', signingKey).update(`${name}\n${expires}`).digest('hex');
		return `${storageUrl}/bucket/${encodeURIComponent(name)}?X-Amz-Expires=${expires}&X-Amz-Signature=${signature}`;
	}

	// ---- the API server -------------------------------------------------------------------------

	async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
		if (req.headers['x-api-key'] !== apiKey) return sendJson(res, 403, { message: 'Forbidden' });
		const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
		const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
		const form = new URLSearchParams((await readBody(req)).toString('utf8'));
		if (id !== clientId || secret !== clientSecret) return sendJson(res, 401, { error: 'Unauthorized', error_description: 'Bad credentials' });
		const grant = form.get('grant_type');
		if (grant === 'password') {
			if (form.get('username') !== username || form.get('password') !== password) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Bad credentials' });
		} else if (grant === 'authorization_code') {
			const code = form.get('code') ?? '';
			if (!codes.delete(code)) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Invalid authorization code' });
		} else if (grant === 'refresh_token') {
			if (!refreshTokens.has(form.get('refresh_token') ?? '')) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Invalid refresh token' });
		} else if (grant !== 'client_credentials') {
			return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grant}` });
		}
		const accessToken = randomBytes(16).toString('hex');
		const refresh = grant === 'client_credentials' ? undefined : randomBytes(16).toString('hex');
		if (refresh) refreshTokens.add(refresh);
		tokens.set(accessToken, { expiresAt: now() + tokenTtl * 1000, refresh });
		state.tokensIssued++;
		sendJson(res, 200, { access_token: accessToken, token_type: 'bearer', expires_in: tokenTtl, scope: '*', ...(refresh ? { refresh_token: refresh } : {}) });
	}

	function handleAuthorize(url: URL, res: ServerResponse): void {
		const redirect = url.searchParams.get('redirect_uri');
		if (url.searchParams.get('client_id') !== clientId || !redirect) return sendJson(res, 400, { error: 'invalid_request', error_description: 'client_id and redirect_uri are required' });
		const code = randomBytes(12).toString('hex');
		codes.add(code);
		const target = new URL(redirect);
		target.searchParams.set('code', code);
		const stateParam = url.searchParams.get('state');
		if (stateParam) target.searchParams.set('state', stateParam);
		res.writeHead(302, { location: target.href }).end();
	}

	async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
		const method = req.method ?? 'GET';
		const path = url.pathname;
		const flavour = FLAVOURS.find((f) => path.startsWith(`${f.exportPrefix}/`) || path.startsWith(`${f.commonPrefix}/`));
		if (!flavour) throw new HttpError(404, `No such resource: ${path}`);
		if (req.headers['x-api-key'] !== apiKey) return sendJson(res, 403, { message: 'Forbidden' });
		const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
		const token = bearer ? tokens.get(bearer) : undefined;
		if (!token || token.expiresAt <= now()) return sendJson(res, 401, errorBody(401, 'Unauthorized: the access token is missing, invalid or expired'));
		const failure = failures.findIndex((f) => !f.pathPrefix || path.startsWith(f.pathPrefix));
		if (failure !== -1) {
			const [f] = failures.splice(failure, 1);
			return sendJson(res, f.status, errorBody(f.status, f.status === 429 ? 'Too many requests' : 'Service temporarily unavailable'), f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {});
		}
		const q = url.searchParams;
		const readJson = async () => {
			const text = (await readBody(req)).toString('utf8');
			try {
				return JSON.parse(text) as unknown;
			} catch {
				throw new HttpError(400, 'the body is not JSON');
			}
		};

		if (path.startsWith(`${flavour.exportPrefix}/`)) {
			const rest = path.slice(flavour.exportPrefix.length);
			let m: RegExpExecArray | null;
			if (rest === '/jobs' && method === 'GET') {
				const jobs = [...state.jobs.values()].filter((j) => matches(j.title, q.get('title')) && matches(j.type, q.get('type')) && matches(j.source, q.get('source')) && (q.get('suspend') === null || q.get('suspend') === '' || String(j.suspended) === q.get('suspend')));
				const paged = page(jobs, q, orderField(q));
				return sendJson(res, 200, { ...paged, items: paged.items.map(jobInfo) });
			}
			if (rest === '/jobs' && method === 'POST') {
				const job = jobFromBody(await readJson());
				state.jobs.set(job.id, job);
				if (job.schedulerParam.immediately && !job.suspended) startRun(job);
				return sendJson(res, 200, jobInfo(job));
			}
			if (rest === '/jobs' && method === 'DELETE') {
				const ids = (q.get('jobIDs') ?? '').split(',').filter(Boolean);
				for (const id of ids) getJob(id);
				for (const id of ids) state.jobs.delete(Number(id));
				return sendJson(res, 204, undefined);
			}
			if ((m = /^\/jobs\/(\d+)$/.exec(rest))) {
				const job = getJob(m[1]);
				if (method === 'GET') return sendJson(res, 200, jobInfo(job));
				if (method === 'PUT') {
					const updated = jobFromBody(await readJson(), job);
					state.jobs.set(job.id, updated);
					return sendJson(res, 200, jobInfo(updated));
				}
				if (method === 'DELETE') {
					state.jobs.delete(job.id);
					return sendJson(res, 204, undefined);
				}
			}
			if ((m = /^\/jobs\/(cancel|suspend|resume)\/(\d+)$/.exec(rest)) && method === 'POST') {
				const job = getJob(m[2]);
				if (m[1] === 'cancel') {
					job.cancelled = true;
					for (const run of state.runs.values()) if (run.jobId === job.id && settle(run)?.status === 'InProgress') run.status = 'Cancelled';
				} else job.suspended = m[1] === 'suspend';
				return sendJson(res, 204, undefined);
			}
			if (rest === '/history' && method === 'GET') {
				const runs = [...state.runs.values()].map((r) => settle(r) as SimRun).filter((r) => {
					const job = state.jobs.get(r.jobId);
					return (q.get('jobId') === null || q.get('jobId') === '' || String(r.jobId) === q.get('jobId')) && matches(r.status, q.get('status')) && matches(job?.title, q.get('title')) && matches(job?.type, q.get('type')) && matches(`${r.exportName}.zip.smime`, q.get('fileName'));
				});
				const paged = page(runs, q, orderField(q));
				return sendJson(res, 200, { ...paged, items: paged.items.map(runInfo) });
			}
			if (rest === '/history' && method === 'DELETE') {
				const ids = (q.get('jobIDs') ?? '').split(',').filter(Boolean);
				const runs = ids.map(getRun);
				for (const run of runs) deleteRun(run);
				return sendJson(res, 204, undefined);
			}
			if ((m = /^\/history\/(\d+)$/.exec(rest))) {
				const run = getRun(m[1]);
				if (method === 'GET') return sendJson(res, 200, runInfo(run));
				if (method === 'DELETE') {
					deleteRun(run);
					return sendJson(res, 204, undefined);
				}
			}
			if ((m = /^\/history\/(\d+)\/progress$/.exec(rest)) && method === 'GET') {
				const run = getRun(m[1]);
				return sendJson(res, 200, { progress: progressOf(run), status: run.status });
			}
			throw new HttpError(404, `No such resource: ${path}`);
		}

		const rest = path.slice(flavour.commonPrefix.length);
		let m: RegExpExecArray | null;
		if (rest === '/file-metadatas' && method === 'GET') {
			for (const run of state.runs.values()) settle(run);
			const startDate = q.get('startDate') ? Date.parse(q.get('startDate') ?? '') : undefined;
			const endDate = q.get('endDate') ? Date.parse(q.get('endDate') ?? '') : undefined;
			const files = [...state.files.values()].filter((f) => {
				const info = fileInfo(f);
				return (
					(q.get('historyId') === null || q.get('historyId') === '' || String(f.runId) === q.get('historyId')) &&
					matches(info.jobTitle, q.get('jobTitle')) &&
					matches(f.name, q.get('name')) &&
					matches(info.type, q.get('type')) &&
					matches(info.source, q.get('source')) &&
					(startDate === undefined || f.createdAt >= startDate) &&
					(endDate === undefined || f.createdAt <= endDate)
				);
			});
			// Parts in name order within a run, as the API lists them.
			const paged = page(files, q, (f) => (q.get('orderField') === 'name' ? f.name : `${String(f.createdAt).padStart(15, '0')}|${f.name}`));
			return sendJson(res, 200, { ...paged, items: paged.items.map(fileInfo) });
		}
		if (rest === '/files' && method === 'GET') {
			const name = q.get('filename') ?? '';
			if (!state.files.has(name)) throw new HttpError(404, `File ${name} not found`);
			return sendJson(res, 200, { path: presign(name) });
		}
		if (rest === '/files' && method === 'DELETE') {
			const names = (q.get('filename') ?? '').split(',').filter(Boolean);
			for (const name of names) if (!state.files.has(name)) throw new HttpError(404, `File ${name} not found`);
			for (const name of names) state.files.delete(name);
			return sendJson(res, 204, undefined);
		}
		if ((m = /^\/files\/([^/]+)$/.exec(rest))) {
			const name = decodeURIComponent(m[1]);
			if (!state.files.has(name)) throw new HttpError(404, `File ${name} not found`);
			if (method === 'GET') {
				res.writeHead(303, { location: presign(name), 'content-length': '0' }).end();
				return;
			}
			if (method === 'DELETE') {
				state.files.delete(name);
				return sendJson(res, 204, undefined);
			}
		}
		if (rest === '/cipher' && method === 'GET') {
			const cert = state.certificate;
			if (!cert) throw new HttpError(404, 'No certificate is uploaded');
			return sendJson(res, 200, { ccid: 'sim-ccid-1', name: cert.name, size: Buffer.byteLength(cert.pem), lastModified: new Date(cert.uploadedAt).toISOString() });
		}
		if ((m = /^\/cipher\/([^/]+)$/.exec(rest)) && method === 'POST') {
			const file = multipartFile(await readBody(req), req.headers['content-type']);
			const pem = file.content.toString('latin1');
			try {
				new X509Certificate(pem);
			} catch {
				throw new HttpError(400, 'The file is not a valid X.509 certificate');
			}
			state.certificate = { name: decodeURIComponent(m[1]), pem, uploadedAt: now() };
			return sendJson(res, 204, undefined);
		}
		if (rest === '/data/sources' && method === 'GET') return sendJson(res, 200, [{ label: 'UCS', value: 'UCS' }]);
		if (rest === '/data/types' && method === 'GET') {
			return sendJson(res, 200, [
				{ label: 'Interaction', value: 'Interaction' },
				{ label: 'Contact', value: 'Contact' },
			]);
		}
		if (rest === '/data/sub-types' && method === 'GET') {
			const dataType = q.get('dataType') ?? 'Interaction';
			if (dataType.toLowerCase() === 'contact') return sendJson(res, 200, []);
			return sendJson(
				res,
				200,
				['email', 'chat', 'voice'].map((name) => ({ name, displayName: name[0].toUpperCase() + name.slice(1), source: q.get('source') ?? 'UCS', dataType, enabled: true })),
			);
		}
		if (rest === '/data/job-statuses' && method === 'GET') {
			return sendJson(
				res,
				200,
				['Scheduled', 'InProgress', 'Completed', 'Failed', 'Cancelled', 'Suspended'].map((s) => ({ label: s, value: s })),
			);
		}
		if (rest === '/data/attributes' && method === 'GET' && flavour.v10) {
			return sendJson(res, 200, { Interaction: ['IXNID', 'STARTDATE', 'SUBJECT', 'ALLATTRIBUTES'], Contact: ['CONTACTID', 'STRATTRIBUTE1'] });
		}
		if (rest === '/resources/labels' && method === 'GET' && flavour.v10) return sendJson(res, 200, { 'export.title': 'Export', 'export.history': 'History' });
		if (rest === '/version' && method === 'GET') return sendJson(res, 200, { version: flavour.v10 ? '10.0.000.21' : '9.0.000.48', buildNumber: '21', changeset: 'sim', name: 'udm-simulator' });
		throw new HttpError(404, `No such resource: ${path}`);
	}

	const api: Server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://simulator');
		state.apiRequests.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}` });
		const done = (error: unknown) => {
			if (res.headersSent) return res.destroy();
			if (error instanceof HttpError) return sendJson(res, error.status, error.body ?? errorBody(error.status, error.message));
			sendJson(res, 500, errorBody(500, `Simulator error: ${(error as Error).message}`));
		};
		try {
			if (url.pathname === '/auth/v3/oauth/token' && req.method === 'POST') return void handleToken(req, res).catch(done);
			if (url.pathname === '/auth/v3/oauth/authorize' && req.method === 'GET') return handleAuthorize(url, res);
			void handleApi(req, res, url).catch(done);
		} catch (error) {
			done(error);
		}
	});

	// ---- the storage server ---------------------------------------------------------------------

	const storage: Server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://storage');
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
		state.storageRequests.push({ method: req.method ?? 'GET', path: url.pathname, headers });
		const xml = (status: number, code: string, message: string) => {
			const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
			res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
		};
		if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) {
			return xml(400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified');
		}
		const m = /^\/bucket\/([^/]+)$/.exec(url.pathname);
		const name = m ? decodeURIComponent(m[1]) : '';
		const expires = Number(url.searchParams.get('X-Amz-Expires'));
		const signature = url.searchParams.get('X-Amz-Signature') ?? '';
		const expected = createHmac('sha256', signingKey).update(`${name}\n${expires}`).digest('hex');
		if (!m || signature !== expected) return xml(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided');
		if (Math.floor(now() / 1000) > expires) return xml(403, 'AccessDenied', 'Request has expired');
		const file = state.files.get(name);
		if (!file) return xml(404, 'NoSuchKey', 'The specified key does not exist.');
		const failure = downloadFailures.shift();
		if (failure !== undefined) return xml(failure, failure === 503 ? 'SlowDown' : 'InternalError', 'Please reduce your request rate.');
		let start = 0;
		let end = file.bytes.length - 1;
		let status = 200;
		const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
		if (req.headers.range !== undefined) {
			if (!range || Number(range[1]) >= file.bytes.length) {
				res.writeHead(416, { 'content-range': `bytes */${file.bytes.length}` }).end();
				return;
			}
			start = Number(range[1]);
			if (range[2] !== '') end = Math.min(end, Number(range[2]));
			status = 206;
		}
		const body = file.bytes.subarray(start, end + 1);
		res.writeHead(status, {
			'content-type': 'application/octet-stream',
			'content-length': body.length,
			'accept-ranges': 'bytes',
			etag: `"${createHash('md5').update(file.bytes).digest('hex')}"`,
			...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${file.bytes.length}` } : {}),
		});
		if (req.method === 'HEAD') return void res.end();
		if (resetAfter !== undefined) {
			const cut = Math.min(resetAfter, body.length - 1);
			resetAfter = undefined;
			res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 10));
			return;
		}
		res.end(body);
	});

	const listen = (server: Server, port: number) =>
		new Promise<number>((resolve, reject) => {
			server.once('error', reject);
			server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
		});
	const apiPort = await listen(api, options.port ?? 0);
	const storagePort = await listen(storage, options.storagePort ?? 0);
	const hostInUrl = host.includes(':') ? `[${host}]` : host;
	storageUrl = `http://${hostInUrl}:${storagePort}`;

	const controls: SimulatorControls = {
		failNextRequests(count, status = 503, opts = {}) {
			for (let i = 0; i < count; i++) failures.push({ status, retryAfter: opts.retryAfterSeconds, pathPrefix: opts.pathPrefix });
		},
		failNextDownloads(count, status = 503) {
			for (let i = 0; i < count; i++) downloadFailures.push(status);
		},
		resetDownloadOnce(afterBytes) {
			resetAfter = afterBytes;
		},
		expireTokensNow() {
			for (const token of tokens.values()) token.expiresAt = 0;
		},
		failNextRun(reason = 'Export failed: the data source did not answer in time') {
			runFailures.push(reason);
		},
		setPresignedUrlTtl(seconds) {
			presignedTtl = seconds;
		},
		setRunDuration(ms) {
			runDuration = ms;
		},
		triggerSchedule(jobId) {
			const job = state.jobs.get(jobId);
			if (!job) throw new Error(`no job ${jobId}`);
			return startRun(job);
		},
	};

	return {
		baseUrl: `http://${hostInUrl}:${apiPort}`,
		storageUrl,
		state,
		controls,
		async close() {
			for (const server of [api, storage]) {
				server.closeAllConnections();
				await new Promise<void>((resolve) => server.close(() => resolve()));
			}
		},
	};
}
