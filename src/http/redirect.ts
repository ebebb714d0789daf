/**
 * Following redirects by hand, so that credentials never leave the host they were meant for.
 * Genesys answers a file download with 303 to a pre-signed storage URL; a storage service that
 * receives `Authorization` answers 400, and it must never see the API key either. fetch's own
 * redirect handling drops `Authorization` across origins but not `x-api-key`. Every hop is handed
 * to the caller's `check` (the URL policy) before a request is made to it.
 */
import { CxError } from '../errors';
import type { Fetch } from './transport';

/** Headers that carry credentials: removed once a redirect leaves the first origin. */
export const CREDENTIAL_HEADERS: readonly string[] = [
	'authorization',
	'x-api-key',
	'cookie',
	'proxy-authorization',
];

export interface RedirectOptions {
	/** Most redirects followed (default 5). */
	maxRedirects?: number;
	fetch?: Fetch | typeof fetch;
	/** Checks each URL before it is requested (the first and every hop); throws to refuse it. */
	check?: (url: URL) => URL;
}

export interface FollowedResponse {
	response: Response;
	/** Where the response came from. */
	url: URL;
	/** True once a redirect left the first origin (credentials were removed). */
	leftOrigin: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The URL without its query (pre-signed URLs carry signatures there), for messages. */
export function describeUrl(url: URL): string {
	return `${url.origin}${url.pathname}`;
}

export async function fetchFollowingRedirects(
	url: string | URL,
	init: {
		method?: string;
		headers?: Record<string, string>;
		body?: string | Buffer;
		signal?: AbortSignal;
	} = {},
	options: RedirectOptions = {},
): Promise<FollowedResponse> {
	const doFetch = (options.fetch ?? fetch) as Fetch;
	const maxRedirects = options.maxRedirects ?? 5;
	const check = options.check ?? ((u: URL) => u);
	const first = check(new URL(url));
	let current = first;
	let headers: Record<string, string> = { ...init.headers };
	let method = (init.method ?? 'GET').toUpperCase();
	let body = init.body;
	let leftOrigin = false;
	for (let hops = 0; ; hops++) {
		const response = await doFetch(current, { ...init, method, body, headers, redirect: 'manual' });
		const location = response.headers.get('location');
		if (!REDIRECTS.has(response.status) || !location) return { response, url: current, leftOrigin };
		await response.body?.cancel();
		if (hops >= maxRedirects)
			throw new CxError(
				'DOWNLOAD',
				`more than ${maxRedirects} redirects, last to ${describeUrl(current)}`,
			);
		let next: URL;
		try {
			next = new URL(location, current);
		} catch {
			throw new CxError(
				'URL_REFUSED',
				`${describeUrl(current)} redirected to something that is not a URL`,
			);
		}
		if (next.protocol !== 'https:' && next.protocol !== 'http:')
			throw new CxError('URL_REFUSED', `refusing a redirect to a ${next.protocol} URL`);
		if (current.protocol === 'https:' && next.protocol === 'http:') {
			throw new CxError(
				'URL_REFUSED',
				`refusing a redirect from https to plain http (${describeUrl(next)})`,
			);
		}
		next = check(next);
		if (!leftOrigin && next.origin !== first.origin) {
			leftOrigin = true;
			headers = Object.fromEntries(
				Object.entries(headers).filter(
					([name]) => !CREDENTIAL_HEADERS.includes(name.toLowerCase()),
				),
			);
		}
		// 303 (and 301/302 after a POST, as browsers do) continue as a GET without the body.
		if (
			response.status === 303 ||
			((response.status === 301 || response.status === 302) && method === 'POST')
		) {
			if (method !== 'HEAD') method = 'GET';
			body = undefined;
			headers = Object.fromEntries(
				Object.entries(headers).filter(([name]) => !/^content-(type|length|encoding)$/i.test(name)),
			);
		}
		current = next;
	}
}
