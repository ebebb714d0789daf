/**
 * The request that fetches URLs handed over by an API (storage downloads): Node's http/https with
 * `checkedLookup`, so the connection goes to an address the URL policy accepted, and the body as a
 * stream (gigabytes at constant memory). It uses the process's global agents: n8n replaces them
 * with its proxy agents when HTTP(S)_PROXY is set (n8n 2.x in every process, 1.x in the main
 * process), and Node does so for `NODE_USE_ENV_PROXY=1` (Node 24.5+, 22.21+), so a proxy applies
 * here as it does to n8n's own requests. Through a proxy, the proxy resolves the name; the URL is
 * then checked by its literal form (and the caller's pre-check) only.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { lookup as dnsLookup } from 'node:dns';
import { checkedLookup, type UrlPolicy } from './urlPolicy';

/** A connection that stays silent this long is dropped (and retried as a broken connection). */
const IDLE_TIMEOUT_MS = 120_000;

/** What the kernel asks of a transport: fetch's shape, no redirects followed. */
export type Fetch = (
	url: URL,
	init: {
		method?: string;
		headers?: Record<string, string>;
		body?: string | Buffer;
		signal?: AbortSignal;
		redirect?: 'manual';
	},
) => Promise<Response>;

function toHeaders(message: IncomingMessage): Headers {
	const headers = new Headers();
	for (const [name, value] of Object.entries(message.headers)) {
		if (value === undefined) continue;
		for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
	}
	return headers;
}

/** A fetch for API-supplied URLs: checked addresses only, never following redirects itself. */
export function checkedFetch(
	policy: UrlPolicy,
	options: { resolve?: typeof dnsLookup } = {},
): Fetch {
	const lookup = checkedLookup(policy, options.resolve);
	return (url, init) =>
		new Promise<Response>((resolve, reject) => {
			const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
			const req = send(
				url,
				{
					method: init.method ?? 'GET',
					headers: init.headers,
					lookup: lookup as never,
					signal: init.signal,
				},
				(message) => {
					const status = message.statusCode ?? 0;
					const nullBody = status === 204 || status === 304 || init.method === 'HEAD';
					if (nullBody) message.resume();
					// Response takes statuses 200-599 only (Node answers 1xx itself).
					const body = nullBody
						? null
						: (Readable.toWeb(message) as unknown as ReadableStream<Uint8Array>);
					try {
						resolve(
							new Response(body, {
								status: Math.min(599, Math.max(200, status)),
								statusText: message.statusMessage,
								headers: toHeaders(message),
							}),
						);
					} catch (error) {
						message.destroy();
						reject(error);
					}
				},
			);
			req.setTimeout(IDLE_TIMEOUT_MS, () =>
				req.destroy(
					Object.assign(new Error(`no answer from ${url.host} for ${IDLE_TIMEOUT_MS / 1000} s`), {
						code: 'ETIMEDOUT',
					}),
				),
			);
			req.on('error', reject);
			req.end(init.body);
		});
}
