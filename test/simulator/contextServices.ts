/**
 * A local stand-in for Genesys Context Services' maintenance exports under `/genesys/1/cs`:
 * `POST maintenance/services/files` (answers the paths of the files it "wrote"),
 * `GET maintenance/services/stream` (a JSON array of service IDs, or whole services with
 * `export_content=true`, sent in chunks as a large answer is), and `GET services/{id}`.
 * Optional API key header, basic authentication and ContactCenterId header, as a deployment may
 * require them. Services are generated from a seed.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ContextServicesSimulatorOptions {
	host?: string;
	port?: number;
	/** How many services exist (default 500). */
	services?: number;
	/** Required header name/value when set. */
	apiKeyHeader?: string;
	apiKey?: string;
	username?: string;
	password?: string;
	contactCenterId?: string;
	seed?: string;
	/**
	 * How exported files are named; the reference shows both: `<prefix><date>_services.csv` …
	 * (its example answer, default 'long') and `<prefix><date>_se` / `_st` / `_ta` (its `file_prefix` description, 'short').
	 */
	fileNames?: 'long' | 'short';
}

export interface SimService {
	service_id: string;
	service_type: number;
	contact_key: string;
	customer_id: string | null;
	started_anonymous: boolean;
	est_duration: number;
	disposition: number;
	disposition_desc: string;
	start_ts: string;
	end_ts: string | null;
	active: boolean;
	states: Array<{ state_id: string; state_type: number; start_ts: string }>;
}

export interface ContextServicesSimulator {
	baseUrl: string;
	services: SimService[];
	requests: Array<{
		method: string;
		path: string;
		query: Record<string, string>;
		headers: Record<string, string>;
	}>;
	/** The most `GET services/{id}` requests answered at the same time. */
	maxConcurrentServiceReads(): number;
	controls: { failNextRequests(count: number, status?: number, retryAfterSeconds?: number): void };
	/** The services a stream request with these parameters answers. */
	select(query: Record<string, string>): SimService[];
	close(): Promise<void>;
}

const BASE = '/genesys/1/cs';
const DAY = 24 * 3_600_000;

function uuid(seed: string): string {
	const h = createHash('sha256').update(seed).digest('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function makeServices(count: number, seed: string): SimService[] {
	const start = Date.UTC(2026, 9, 1);
	const services: SimService[] = [];
	for (let i = 0; i < count; i++) {
		const h = createHash('sha256').update(`${seed}:${i}`).digest();
		const started = start + (h.readUInt32BE(0) % (30 * DAY));
		const active = h[4] % 5 === 0;
		const ended = active ? null : started + (h.readUInt16BE(5) % 7200) * 1000;
		services.push({
			service_id: `361-${uuid(`${seed}:svc:${i}`)}`,
			service_type: 1 + (h[7] % 9),
			contact_key: String(111000000000 + (h.readUInt32BE(8) % 1_000_000_000)),
			customer_id: h[12] % 3 === 0 ? null : `C${h.readUInt16BE(12)}`,
			started_anonymous: h[14] % 2 === 0,
			est_duration: h[15] % 1000,
			disposition: h[16] % 10,
			disposition_desc: ['resolved', 'escalated', 'abandoned', 'callback'][h[17] % 4],
			start_ts: new Date(started).toISOString(),
			end_ts: ended === null ? null : new Date(ended).toISOString(),
			active,
			states: [
				{
					state_id: `377-${uuid(`${seed}:state:${i}`)}`,
					state_type: 1 + (h[18] % 5),
					start_ts: new Date(started + 1000).toISOString(),
				},
			],
		});
	}
	return services.sort((a, b) => a.start_ts.localeCompare(b.start_ts));
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

class HttpError extends Error {
	constructor(
		readonly status: number,
		message: string,
	) {
		super(message);
	}
}

function send(
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
): void {
	const text = JSON.stringify(body);
	res
		.writeHead(status, {
			'content-type': 'application/json',
			'content-length': Buffer.byteLength(text),
			...headers,
		})
		.end(text);
}

export async function startContextServicesSimulator(
	options: ContextServicesSimulatorOptions = {},
): Promise<ContextServicesSimulator> {
	const services = makeServices(options.services ?? 500, options.seed ?? 'cs-simulator');
	const byId = new Map(services.map((s) => [s.service_id, s]));
	const requests: ContextServicesSimulator['requests'] = [];
	const failures: Array<{ status: number; retryAfter?: number }> = [];
	let inFlight = 0;
	let maxInFlight = 0;

	function select(query: Record<string, string>): SimService[] {
		const from = Date.parse(query.time_from);
		const to = query.time_to ? Date.parse(query.time_to) : Date.now();
		const events = query.filter_events ?? 'any';
		const state = query.export_content === 'true' ? (query.filter_state ?? 'any') : 'any';
		return services.filter((s) => {
			const started = Date.parse(s.start_ts);
			const ended = s.end_ts ? Date.parse(s.end_ts) : undefined;
			const startIn = started >= from && started <= to;
			const endIn = ended !== undefined && ended >= from && ended <= to;
			const eventOk =
				events === 'started' ? startIn : events === 'completed' ? endIn : startIn || endIn;
			const stateOk = state === 'active' ? s.active : state === 'inactive' ? !s.active : true;
			return eventOk && stateOk;
		});
	}

	function checkWindow(query: Record<string, string>): void {
		if (!query.time_from) throw new HttpError(400, 'time_from is mandatory');
		for (const name of ['time_from', 'time_to']) {
			if (query[name] !== undefined && !ISO_MS.test(query[name]))
				throw new HttpError(
					400,
					`${name} must be an ISO 8601 date with milliseconds, e.g. 2014-09-02T08:00:00.000Z`,
				);
		}
		if (
			query.filter_events !== undefined &&
			!['any', 'started', 'completed'].includes(query.filter_events)
		)
			throw new HttpError(400, 'filter_events must be any, started or completed');
	}

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://cs');
		const query = Object.fromEntries(url.searchParams);
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(req.headers))
			if (typeof value === 'string') headers[name] = value;
		requests.push({ method: req.method ?? 'GET', path: url.pathname, query, headers });
		if (options.apiKeyHeader && req.headers[options.apiKeyHeader.toLowerCase()] !== options.apiKey)
			throw new HttpError(403, 'Forbidden: API key missing or wrong');
		if (options.username) {
			const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
			if (
				!basic ||
				Buffer.from(basic, 'base64').toString('utf8') !==
					`${options.username}:${options.password ?? ''}`
			)
				throw new HttpError(401, 'Unauthorized');
		}
		if (options.contactCenterId && req.headers.contactcenterid !== options.contactCenterId)
			throw new HttpError(400, 'ContactCenterId header is missing or unknown');
		const failure = failures.shift();
		if (failure) {
			return send(
				res,
				failure.status,
				{ message: failure.status === 429 ? 'Too many requests' : 'Service unavailable' },
				failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {},
			);
		}
		const path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) : '';
		if (path === '/maintenance/services/files' && req.method === 'POST') {
			checkWindow(query);
			if (!query.file_prefix) throw new HttpError(400, 'file_prefix is mandatory');
			if (
				query.filter_state !== undefined &&
				!['any', 'active', 'inactive'].includes(query.filter_state)
			)
				throw new HttpError(400, 'filter_state must be any, active or inactive');
			const format = (query.format ?? 'csv').toLowerCase();
			const extension = format === 'json' ? 'json' : 'csv';
			const compressed =
				query.compression === 'zip' ? '.zip' : query.compression === 'gzip' ? '.gz' : '';
			const stamp = '20261120_101500_042';
			const kinds =
				select({ ...query, export_content: 'true' }).length > 0
					? ['services', 'states', 'tasks']
					: ['services'];
			if (options.fileNames === 'short')
				return send(
					res,
					200,
					kinds.map((kind) => `${query.file_prefix}${stamp}_${kind.slice(0, 2)}`),
				);
			return send(
				res,
				200,
				kinds.map((kind) => `${query.file_prefix}${stamp}_${kind}.${extension}${compressed}`),
			);
		}
		if (path === '/maintenance/services/stream' && req.method === 'GET') {
			checkWindow(query);
			if (query.filter_state !== undefined && query.export_content !== 'true')
				throw new HttpError(400, 'filter_state can only be used with export_content=true');
			const selected = select(query);
			const content = query.export_content === 'true';
			// A large answer arrives in pieces: chunked, a few hundred elements per write.
			res.writeHead(200, { 'content-type': 'application/json' });
			res.write('[\n');
			for (let i = 0; i < selected.length; i += 500) {
				const slice = selected
					.slice(i, i + 500)
					.map((s) => (content ? JSON.stringify(s) : JSON.stringify(s.service_id)));
				const text = `${i > 0 ? ',\n' : ''}  ${slice.join(',\n  ')}`;
				if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
			}
			res.end('\n]');
			return;
		}
		const m = /^\/services\/([^/]+)$/.exec(path);
		if (m && req.method === 'GET') {
			const service = byId.get(decodeURIComponent(m[1]));
			if (!service) throw new HttpError(404, `Service ${m[1]} not found`);
			inFlight++;
			maxInFlight = Math.max(maxInFlight, inFlight);
			// A little latency, so that concurrent reads overlap as they would on a real host.
			await new Promise((resolve) => setTimeout(resolve, 3));
			inFlight--;
			return send(res, 200, service);
		}
		throw new HttpError(404, `No such resource: ${url.pathname}`);
	}

	const server: Server = createServer((req, res) => {
		handle(req, res).catch((error: unknown) => {
			if (res.headersSent) return res.destroy();
			if (error instanceof HttpError)
				return send(res, error.status, { message: error.message, code: error.status });
			send(res, 500, { message: (error as Error).message });
		});
	});
	await new Promise<void>((resolve) =>
		server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
	);
	const { port } = server.address() as AddressInfo;
	return {
		baseUrl: `http://${options.host ?? '127.0.0.1'}:${port}${BASE}`,
		services,
		requests,
		select,
		maxConcurrentServiceReads: () => maxInFlight,
		controls: {
			failNextRequests(count, status = 503, retryAfterSeconds) {
				for (let i = 0; i < count; i++) failures.push({ status, retryAfter: retryAfterSeconds });
			},
		},
		async close() {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
