/**
 * A download that survives a broken connection: it picks up where it stopped with a `Range`
 * request, or — when the server ignores ranges — reads the file again from the start and skips what
 * was already delivered. The bytes come out once, in order, and the total is checked against what
 * the server declared. How a request is made (URL, headers, asking Genesys for a fresh pre-signed
 * URL when the old one expired) is the caller's `open`.
 */
import { CxError } from '../errors';
import { discard, readErrorText } from './body';
import { describeUrl, fetchFollowingRedirects } from './redirect';
import { httpDecision, retrying, type RetryOptions } from './retry';
import { throwIfAborted } from './sleep';
import type { Fetch } from './transport';

export interface DownloadOptions {
	/** Name for messages (a file name; never a URL with its signature). */
	name: string;
	/** New requests after a break (default 3). */
	resumes?: number;
	/** Told before each new request. */
	onResume?: (info: { attempt: number; offset: number; reason: string }) => void;
	/** Stops the download between chunks and before any new request. */
	signal?: AbortSignal;
}

/**
 * Opens the download from `offset` (0: the whole file; more: ask for `Range: bytes=<offset>-`).
 * `attempt` counts the new requests made after breaks.
 */
export type OpenDownload = (offset: number, attempt: number) => Promise<Response>;

function declaredTotal(response: Response, offset: number): number | undefined {
	if (response.status === 206) {
		const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
		if (!m || Number(m[1]) !== offset) return undefined;
		return m[3] === '*' ? undefined : Number(m[3]);
	}
	const length = response.headers.get('content-length');
	return length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
}

export async function* resumableDownload(
	open: OpenDownload,
	options: DownloadOptions,
): AsyncGenerator<Buffer> {
	const resumes = options.resumes ?? 3;
	let delivered = 0;
	let total: number | undefined;
	for (let attempt = 0; ; attempt++) {
		let reason: string;
		throwIfAborted(options.signal, options.name);
		const response = await open(delivered, attempt);
		if (delivered > 0 && response.status !== 206 && response.status !== 200) {
			await response.body?.cancel();
			throw new CxError(
				'DOWNLOAD',
				`${options.name}: resuming at byte ${delivered} failed with HTTP ${response.status}`,
			);
		}
		if (delivered === 0 && response.status !== 200) {
			await response.body?.cancel();
			throw new CxError('DOWNLOAD', `${options.name}: HTTP ${response.status}`);
		}
		if (response.status === 206) {
			const m = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
			if (!m || Number(m[1]) !== delivered) {
				await response.body?.cancel();
				throw new CxError(
					'DOWNLOAD',
					`${options.name}: asked to resume at byte ${delivered}, the server answered "${response.headers.get('content-range') ?? 'no Content-Range'}"`,
				);
			}
		}
		const declared = declaredTotal(response, delivered);
		if (declared !== undefined) {
			if (total !== undefined && declared !== total) {
				await response.body?.cancel();
				throw new CxError(
					'DOWNLOAD',
					`${options.name}: the file changed size between requests (${total} then ${declared} bytes); download it again`,
				);
			}
			total = declared;
		}
		// A 200 after a break: the server ignored the range, so skip what was already delivered.
		let skip = response.status === 200 ? delivered : 0;
		try {
			if (!response.body) throw new Error('no body');
			for await (const value of response.body) {
				let chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
				if (skip > 0) {
					const n = Math.min(skip, chunk.length);
					skip -= n;
					chunk = chunk.subarray(n);
					if (chunk.length === 0) continue;
				}
				delivered += chunk.length;
				if (total !== undefined && delivered > total) {
					throw new CxError(
						'DOWNLOAD',
						`${options.name}: the server sent more than the ${total} bytes it declared`,
					);
				}
				yield chunk;
			}
			if (total === undefined || delivered === total) return;
			reason = `the connection ended after ${delivered} of ${total} bytes`;
		} catch (error) {
			if (error instanceof CxError) throw error;
			throwIfAborted(options.signal, options.name);
			reason = `the connection broke after ${delivered}${total === undefined ? '' : ` of ${total}`} bytes`;
		}
		if (attempt >= resumes) {
			throw new CxError(
				'DOWNLOAD',
				`${options.name}: ${reason}, and ${resumes} attempts to resume did not finish it; try again later`,
			);
		}
		options.onResume?.({ attempt: attempt + 1, offset: delivered, reason });
	}
}

export interface RefreshingDownloadOptions {
	/** For messages: a file name or "Connectif export 42" (never a URL with its signature). */
	name: string;
	/** Who hands out the links, for messages: "Genesys", "Connectif". */
	source: string;
	/** The current download link; `refresh` after the host refused the last one (ask anew). */
	locate: (refresh: boolean) => Promise<URL>;
	/** The URL policy: applied to the link and to every redirect hop before a request is made. */
	check: (url: URL) => URL;
	/** The transport for the storage host: it is never given credentials. */
	fetch: Fetch | typeof fetch;
	retry?: RetryOptions;
	signal?: AbortSignal;
	/** Fresh links asked for when the host refuses one (default 2). */
	refreshes?: number;
	/** New requests after a break (default 3). */
	resumes?: number;
	/** What to say when the host keeps refusing fresh links. */
	refusedHint: string;
	log?: (message: string) => void;
}

/**
 * A download from a link an API hands out (a pre-signed storage URL): checked by the URL policy,
 * redirects followed without credentials, 429/5xx and broken connections retried, breaks resumed
 * (resumableDownload), and a link the host refuses (expired: 400, 401, 403) replaced by a fresh one.
 */
export function refreshingDownload(options: RefreshingDownloadOptions): AsyncGenerator<Buffer> {
	const maxRefreshes = options.refreshes ?? 2;
	let refreshes = 0;
	let refresh = false;
	const open = async (offset: number): Promise<Response> => {
		for (;;) {
			const target = await options.locate(refresh);
			refresh = false;
			const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
			let previous: Response | undefined;
			const response = await retrying(
				async () => {
					await discard(previous);
					previous = (
						await fetchFollowingRedirects(
							target,
							{ headers, signal: options.signal },
							{ fetch: options.fetch, check: options.check },
						)
					).response;
					return previous;
				},
				httpDecision,
				{ ...options.retry, signal: options.signal },
			);
			if (response.ok) return response;
			if (response.status === 416 && offset > 0) return response;
			const refused = response.status === 403 || response.status === 400 || response.status === 401;
			if (refused && refreshes < maxRefreshes) {
				await discard(response);
				refreshes++;
				refresh = true;
				options.log?.(
					`${options.name}: the storage host refused the download link (HTTP ${response.status}); asking ${options.source} for a new one`,
				);
				continue;
			}
			const text = await readErrorText(response);
			throw new CxError(
				'DOWNLOAD',
				`${options.name}: the storage host ${describeUrl(target)} answered HTTP ${response.status}${storageMessage(text)}; ${refused ? options.refusedHint : 'try again later'}`,
			);
		}
	};
	return resumableDownload(open, {
		name: options.name,
		resumes: options.resumes,
		signal: options.signal,
		onResume: (info) =>
			options.log?.(`${options.name}: ${info.reason}; resuming at byte ${info.offset}`),
	});
}

/** The message of an S3-style XML error, short, for the user. */
export function storageMessage(text: string): string {
	const m = /<Message>([^<]{1,200})<\/Message>/.exec(text);
	if (m) return ` (${m[1]})`;
	const plain = text.replace(/\s+/g, ' ').trim();
	return plain && plain.length <= 200 && !/https?:\/\//.test(plain) ? ` (${plain})` : '';
}
