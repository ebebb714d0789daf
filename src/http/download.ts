/**
 * A download that survives a broken connection: it picks up where it stopped with a `Range`
 * request, or — when the server ignores ranges — reads the file again from the start and skips what
 * was already delivered. The bytes come out once, in order, and the total is checked against what
 * the server declared. How a request is made (URL, headers, asking Genesys for a fresh pre-signed
 * URL when the old one expired) is the caller's `open`.
 */
import { CxError } from '../errors';

export interface DownloadOptions {
	/** Name for messages (a file name; never a URL with its signature). */
	name: string;
	/** New requests after a break (default 3). */
	resumes?: number;
	/** Told before each new request. */
	onResume?: (info: { attempt: number; offset: number; reason: string }) => void;
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

export async function* resumableDownload(open: OpenDownload, options: DownloadOptions): AsyncGenerator<Buffer> {
	const resumes = options.resumes ?? 3;
	let delivered = 0;
	let total: number | undefined;
	for (let attempt = 0; ; attempt++) {
		let reason: string;
		const response = await open(delivered, attempt);
		if (delivered > 0 && response.status !== 206 && response.status !== 200) {
			await response.body?.cancel();
			throw new CxError('DOWNLOAD', `${options.name}: resuming at byte ${delivered} failed with HTTP ${response.status}`);
		}
		if (delivered === 0 && response.status !== 200) {
			await response.body?.cancel();
			throw new CxError('DOWNLOAD', `${options.name}: HTTP ${response.status}`);
		}
		if (response.status === 206) {
			const m = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
			if (!m || Number(m[1]) !== delivered) {
				await response.body?.cancel();
				throw new CxError('DOWNLOAD', `${options.name}: asked to resume at byte ${delivered}, the server answered "${response.headers.get('content-range') ?? 'no Content-Range'}"`);
			}
		}
		const declared = declaredTotal(response, delivered);
		if (declared !== undefined) {
			if (total !== undefined && declared !== total) {
				await response.body?.cancel();
				throw new CxError('DOWNLOAD', `${options.name}: the file changed size between requests (${total} then ${declared} bytes); download it again`);
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
					throw new CxError('DOWNLOAD', `${options.name}: the server sent more than the ${total} bytes it declared`);
				}
				yield chunk;
			}
			if (total === undefined || delivered === total) return;
			reason = `the connection ended after ${delivered} of ${total} bytes`;
		} catch (error) {
			if (error instanceof CxError) throw error;
			reason = `the connection broke after ${delivered}${total === undefined ? '' : ` of ${total}`} bytes`;
		}
		if (attempt >= resumes) {
			throw new CxError('DOWNLOAD', `${options.name}: ${reason}, and ${resumes} attempts to resume did not finish it; try again later`);
		}
		options.onResume?.({ attempt: attempt + 1, offset: delivered, reason });
	}
}
