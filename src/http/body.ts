/**
 * Reading response bodies with a ceiling. An API answer is read into memory only up to a cap: a
 * JSON answer larger than its cap is an error that names the cap; an error answer is read up to
 * its cap and the rest is dropped unread (only its message is wanted), so a 300 MB error page
 * costs 64 KiB.
 */
import { CxError } from '../errors';

const KIB = 1024;
const MIB = 1024 * KIB;

/** The largest JSON answer read (a page of 100 jobs or files is a few hundred KiB). */
export const JSON_BODY_LIMIT = 32 * MIB;
/** What is read of an error answer: enough for any message. */
export const ERROR_BODY_LIMIT = 64 * KIB;

export function formatBytes(bytes: number): string {
	if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
	if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`;
	return `${bytes} bytes`;
}

/**
 * At most `limit` bytes of the body. `truncated` says there was more; the rest is cancelled,
 * never read.
 */
export async function readCapped(
	response: Response,
	limit: number,
): Promise<{ bytes: Buffer; truncated: boolean }> {
	if (!response.body) return { bytes: Buffer.alloc(0), truncated: false };
	const reader = response.body.getReader();
	const parts: Buffer[] = [];
	let size = 0;
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) return { bytes: Buffer.concat(parts, size), truncated: false };
			const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
			if (size + chunk.length > limit) {
				parts.push(chunk.subarray(0, limit - size));
				size = limit;
				await reader.cancel().catch(() => undefined);
				return { bytes: Buffer.concat(parts, size), truncated: true };
			}
			parts.push(chunk);
			size += chunk.length;
		}
	} finally {
		reader.releaseLock();
	}
}

/** The body as text, refused past `limit` bytes with an error naming the cap and `what`. */
export async function readTextLimited(
	response: Response,
	limit: number,
	what: string,
): Promise<string> {
	const { bytes, truncated } = await readCapped(response, limit);
	if (truncated)
		throw new CxError(
			'API_FORMAT',
			`${what}: the answer is larger than ${formatBytes(limit)}, more than this API ever sends; not reading it`,
		);
	return bytes.toString('utf8');
}

/** The start of an error answer (up to ERROR_BODY_LIMIT), for its message; never fails. */
export async function readErrorText(response: Response, limit = ERROR_BODY_LIMIT): Promise<string> {
	try {
		return (await readCapped(response, limit)).bytes.toString('utf8');
	} catch {
		return '';
	}
}

/** Drops a body unread (a response that is not used). */
export async function discard(response: Response | undefined): Promise<void> {
	await response?.body?.cancel().catch(() => undefined);
}
