/**
 * A local stand-in for Connectif's export API: `POST /exports/` (contacts, activities),
 * `POST /exports/type/data-explorer`, `GET /exports/{id}` (status queued → inProgress → finished,
 * progress and total, a `fileUrl` made anew on every read and valid 100 minutes), `GET /exports`
 * (pages linked by `links.next`). The file is a zip holding one CSV with the export's delimiter,
 * served by the same server under a signed path that refuses API credentials and expired links.
 * `Authorization: apiKey <key>` on every API call; 429 bursts and failing exports on demand.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildZip } from './zipWriter';

export interface ConnectifSimulatorOptions {
	host?: string;
	port?: number;
	apiKey?: string;
	/** How long an export takes to finish (default 1000 ms of the simulator's clock). */
	exportDurationMs?: number;
	/** Rows per export (default 250). */
	rows?: number;
	/** Default page size of the list (default 5). */
	pageSize?: number;
	now?: () => number;
	/**
	 * The words used for the statuses (the reference leaves its list of values empty; default
	 * queued, inProgress, finished, error as seen in practice).
	 */
	statusNames?: Partial<Record<'queued' | 'inProgress' | 'finished' | 'error', string>>;
}

export interface SimConnectifExport {
	id: string;
	exportType: string;
	createdAt: number;
	dateFormat: string;
	delimiter: string;
	filters: Record<string, unknown>;
	failWith?: string;
	rows: Array<Record<string, string>>;
}

export interface ConnectifSimulator {
	baseUrl: string;
	exports: Map<string, SimConnectifExport>;
	requests: Array<{ method: string; path: string; headers: Record<string, string> }>;
	controls: {
		failNextRequests(count: number, status?: number, retryAfterSeconds?: number): void;
		/** The next export created ends in error with this message. */
		failNextExport(message: string): void;
		setFileUrlTtl(ms: number): void;
	};
	close(): Promise<void>;
}

const MAX_PERIOD_MS = 31 * 24 * 3_600_000;
const ACTIVITY_TYPES = ['purchase', 'page-visit', 'email-open', 'email-click', 'cart-abandon'];
const NAMES = [
	'Ana García',
	'Luis "Lucho" Pérez',
	'Marta, la de ventas',
	'Zoë Müller',
	'Jean-Luc\nPicard',
];

function rowsFor(exportType: string, count: number, id: string): Array<Record<string, string>> {
	const rows: Array<Record<string, string>> = [];
	for (let i = 0; i < count; i++) {
		if (exportType === 'contacts') {
			rows.push({
				email: `contact${i}@example.com`,
				name: NAMES[i % NAMES.length],
				points: String(i * 7),
				createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
			});
		} else if (exportType === 'activities') {
			rows.push({
				contactId: `${id.slice(0, 6)}-${i}`,
				activityType: ACTIVITY_TYPES[i % ACTIVITY_TYPES.length],
				date: new Date(Date.UTC(2026, 9, 1) + i * 3_600_000).toISOString(),
				value: (i * 1.5).toFixed(2),
			});
		} else {
			rows.push({
				dimension: `segment ${i % 7}`,
				metric: String(i),
				note: i % 11 === 0 ? 'has "quotes"; and; delimiters' : '',
			});
		}
	}
	return rows;
}

function csv(rows: Array<Record<string, string>>, delimiter: string): Buffer {
	const quote = (v: string) =>
		v.includes(delimiter) || v.includes('"') || v.includes('\n') || v.includes('\r')
			? `"${v.replace(/"/g, '""')}"`
			: v;
	const header = Object.keys(rows[0] ?? { empty: '' });
	const lines = [
		header.map(quote).join(delimiter),
		...rows.map((r) => header.map((h) => quote(r[h] ?? '')).join(delimiter)),
	];
	return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	try {
		const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
		if (value && typeof value === 'object' && !Array.isArray(value))
			return value as Record<string, unknown>;
	} catch {
		// fall through
	}
	throw new HttpError(400, 'the body must be a JSON object');
}

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

export async function startConnectifSimulator(
	options: ConnectifSimulatorOptions = {},
): Promise<ConnectifSimulator> {
	const apiKey = options.apiKey ?? 'sim-connectif-key';
	const now = options.now ?? Date.now;
	const duration = options.exportDurationMs ?? 1000;
	const signing = randomBytes(32);
	const exports = new Map<string, SimConnectifExport>();
	const requests: ConnectifSimulator['requests'] = [];
	const failures: Array<{ status: number; retryAfter?: number }> = [];
	const exportFailures: string[] = [];
	let fileUrlTtl = 100 * 60_000;
	let base = '';

	function view(exp: SimConnectifExport) {
		const elapsed = now() - exp.createdAt;
		const total = exp.rows.length;
		const failed = exp.failWith !== undefined && elapsed >= duration / 2;
		const finished = !exp.failWith && elapsed >= duration;
		const state = failed
			? 'error'
			: finished
				? 'finished'
				: elapsed < duration / 5
					? 'queued'
					: 'inProgress';
		const status = options.statusNames?.[state] ?? state;
		const progress = finished
			? total
			: state === 'queued'
				? 0
				: Math.min(total - 1, Math.floor((elapsed / duration) * total));
		let fileUrl: string | undefined;
		if (finished) {
			const expires = now() + fileUrlTtl;
			const sig = createHmac('sha256', signing).update(`${exp.id}:${expires}`).digest('hex');
			fileUrl = `${base}/files/${exp.id}.zip?expires=${expires}&signature=${sig}`;
		}
		return {
			id: exp.id,
			status,
			exportType: exp.exportType,
			createdAt: new Date(exp.createdAt).toISOString(),
			...(finished
				? {
						finishedAt: new Date(exp.createdAt + duration).toISOString(),
						fileName: `${exp.id}.zip`,
						fileExtension: 'zip',
						fileUrl,
					}
				: {}),
			dateFormat: exp.dateFormat,
			delimiter: exp.delimiter,
			filters: exp.filters,
			origin: 'api',
			progress,
			total,
			version: 'v2',
			...(failed ? { errorMessage: exp.failWith } : {}),
		};
	}

	function create(
		body: Record<string, unknown>,
		kind: 'standard' | 'data-explorer',
	): SimConnectifExport {
		const exportType = kind === 'data-explorer' ? 'data-explorer' : String(body.exportType ?? '');
		if (!['contacts', 'activities', 'data-explorer'].includes(exportType))
			throw new HttpError(400, 'exportType must be contacts or activities');
		const delimiter = String(body.delimiter ?? ',');
		if (delimiter !== ',' && delimiter !== ';')
			throw new HttpError(400, 'delimiter must be "," or ";"');
		const filters = (body.filters ?? {}) as Record<string, unknown>;
		if (exportType !== 'contacts') {
			const from = Date.parse(String(filters.fromDate ?? ''));
			const to = Date.parse(String(filters.toDate ?? ''));
			if (Number.isNaN(from) || Number.isNaN(to))
				throw new HttpError(400, 'filters.fromDate and filters.toDate are required');
			// The 31-day limit is known for activities; nothing documents one for data-explorer exports.
			if (exportType === 'activities' && to - from > MAX_PERIOD_MS)
				throw new HttpError(400, 'The date range cannot exceed 31 days');
		}
		if (exportType === 'data-explorer' && !filters.reportId)
			throw new HttpError(400, 'filters.reportId is required');
		const id = randomBytes(12).toString('hex');
		const exp: SimConnectifExport = {
			id,
			exportType,
			createdAt: now(),
			dateFormat: String(body.dateFormat ?? 'ISO'),
			delimiter,
			filters,
			failWith: exportFailures.shift(),
			rows: rowsFor(exportType, options.rows ?? 250, id),
		};
		exports.set(id, exp);
		return exp;
	}

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://connectif');
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(req.headers))
			if (typeof value === 'string') headers[name] = value;
		requests.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, headers });

		const file = /^\/files\/([0-9a-f]+)\.zip$/.exec(url.pathname);
		if (file) {
			if (req.headers.authorization !== undefined)
				throw new HttpError(
					400,
					'The file link carries its own signature: send no Authorization header',
				);
			const expires = Number(url.searchParams.get('expires'));
			const expected = createHmac('sha256', signing).update(`${file[1]}:${expires}`).digest('hex');
			if (url.searchParams.get('signature') !== expected)
				throw new HttpError(403, 'Invalid signature');
			if (now() > expires) throw new HttpError(403, 'The link has expired');
			const exp = exports.get(file[1]);
			if (!exp) throw new HttpError(404, 'No such file');
			const [zip] = buildZip([
				{ name: `${exp.exportType}-${exp.id}.csv`, data: csv(exp.rows, exp.delimiter) },
			]);
			res
				.writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length })
				.end(zip);
			return;
		}

		if (req.headers.authorization !== `apiKey ${apiKey}`)
			throw new HttpError(401, 'Invalid API key');
		const failure = failures.shift();
		if (failure)
			return send(
				res,
				failure.status,
				{ message: 'Too Many Requests' },
				failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {},
			);

		if ((url.pathname === '/exports/' || url.pathname === '/exports') && req.method === 'POST')
			return send(res, 201, view(create(await readJson(req), 'standard')));
		if (url.pathname === '/exports/type/data-explorer' && req.method === 'POST')
			return send(res, 201, view(create(await readJson(req), 'data-explorer')));
		if ((url.pathname === '/exports' || url.pathname === '/exports/') && req.method === 'GET') {
			const limit = Math.max(
				1,
				Number(url.searchParams.get('limit') ?? options.pageSize ?? 5) || 5,
			);
			const page = Math.max(0, Number(url.searchParams.get('page') ?? 0) || 0);
			const all = [...exports.values()].sort(
				(a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id),
			);
			const results = all.slice(page * limit, page * limit + limit).map(view);
			const links: Record<string, string> = {};
			if ((page + 1) * limit < all.length)
				links.next = `${base}/exports?limit=${limit}&page=${page + 1}`;
			if (page > 0) links.prev = `${base}/exports?limit=${limit}&page=${page - 1}`;
			return send(res, 200, { links, results });
		}
		const one = /^\/exports\/([0-9a-f]+)$/.exec(url.pathname);
		if (one && req.method === 'GET') {
			const exp = exports.get(one[1]);
			if (!exp) throw new HttpError(404, `Export ${one[1]} not found`);
			return send(res, 200, view(exp));
		}
		throw new HttpError(404, `No such resource: ${url.pathname}`);
	}

	const server: Server = createServer((req, res) => {
		handle(req, res).catch((error: unknown) => {
			if (res.headersSent) return res.destroy();
			if (error instanceof HttpError) return send(res, error.status, { message: error.message });
			send(res, 500, { message: (error as Error).message });
		});
	});
	await new Promise<void>((resolve) =>
		server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
	);
	base = `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
	return {
		baseUrl: base,
		exports,
		requests,
		controls: {
			failNextRequests(count, status = 429, retryAfterSeconds) {
				for (let i = 0; i < count; i++) failures.push({ status, retryAfter: retryAfterSeconds });
			},
			failNextExport(message) {
				exportFailures.push(message);
			},
			setFileUrlTtl(ms) {
				fileUrlTtl = ms;
			},
		},
		async close() {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
