/**
 * The bridge from n8n to the core's Genesys client. Requests to the Genesys API go through n8n's
 * own authenticated request helper, so the credential's token (fetched in `preAuthentication`
 * into its expirable field, kept between executions) and n8n's proxy settings apply; everything
 * else (retries, errors, paging, downloads from the storage host without credentials) is the core's.
 */
import { Readable } from 'node:stream';
import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IPollFunctions,
} from 'n8n-workflow';
import {
	GenesysClient,
	type ApiFlavour,
	type ApiRequest,
	type Send,
} from '../../src/genesys/client';
import { genesysBaseUrl } from '../../src/genesys/credentials';
import { parseAllowedHosts } from '../../src/http/urlPolicy';

export type GenesysContext = IExecuteFunctions | ILoadOptionsFunctions | IPollFunctions;

/** The execution's cancel signal, where n8n gives one (execute contexts): requests, waits and downloads stop with it. */
export function cancelSignal(context: GenesysContext): AbortSignal | undefined {
	const get = (context as Partial<IExecuteFunctions>).getExecutionCancelSignal;
	return typeof get === 'function' ? get.call(context) : undefined;
}

/** The credential's "Allowed Download Hosts" (hosts a download link may point at beyond the rules). */
export function allowedDownloadHosts(credentials: IDataObject): string[] {
	return parseAllowedHosts(credentials.allowedDownloadHosts);
}

export type GenesysAuthentication = 'apiCredentials' | 'oAuth2';

/** The credential type behind the node's Authentication choice. */
export function credentialTypeFor(authentication: string): string {
	return authentication === 'oAuth2' ? 'genesysMulticloudOAuth2Api' : 'genesysMulticloudApi';
}

interface FullResponse {
	body: unknown;
	headers: Record<string, string | string[] | undefined>;
	statusCode: number;
}

function toResponse(status: number, headers: FullResponse['headers'], body: unknown): Response {
	const h = new Headers();
	for (const [name, value] of Object.entries(headers ?? {})) {
		if (value === undefined) continue;
		for (const v of Array.isArray(value) ? value : [value]) h.append(name, String(v));
	}
	if (body instanceof Readable) {
		// A streamed answer stays a stream.
		const nullBody = status === 204 || status === 304;
		if (nullBody) body.destroy();
		return new Response(nullBody ? null : (Readable.toWeb(body) as ReadableStream<Uint8Array>), {
			status: Math.min(599, Math.max(200, status)),
			headers: h,
		});
	}
	const bytes =
		body === undefined || body === null
			? null
			: Buffer.isBuffer(body)
				? body
				: typeof body === 'string'
					? Buffer.from(body)
					: Buffer.from(JSON.stringify(body));
	// Response refuses a body on 204/304 and statuses outside 200-599.
	const nullBody = status === 204 || status === 304 || status === 101;
	return new Response(nullBody || !bytes ? null : new Uint8Array(bytes), {
		status: Math.min(599, Math.max(200, status)),
		headers: h,
	});
}

/**
 * The HTTP response inside an error n8n's request helper threw (an axios error, possibly wrapped
 * in a NodeApiError), so a status n8n treats as an error (a 303 after a refresh, a 404) still
 * reaches the core with its headers and body.
 */
function responseOf(error: unknown): FullResponse | undefined {
	for (
		let e: unknown = error, depth = 0;
		e && typeof e === 'object' && depth < 4;
		e = (e as { cause?: unknown }).cause, depth++
	) {
		const response = (e as { response?: { status?: unknown; headers?: unknown; data?: unknown } })
			.response;
		const status = Number(response?.status);
		if (response && Number.isInteger(status) && status >= 100 && status <= 599) {
			const headers =
				response.headers && typeof response.headers === 'object'
					? (response.headers as FullResponse['headers'])
					: {};
			return { statusCode: status, headers, body: response.data };
		}
		const code = Number((e as { httpCode?: unknown }).httpCode);
		if (Number.isInteger(code) && code >= 100 && code <= 599)
			return { statusCode: code, headers: {}, body: undefined };
	}
	return undefined;
}

/**
 * A fetch over n8n's `httpRequest`, for core code that takes a fetch (the token request in the
 * credential's preAuthentication): n8n's proxy and TLS settings then apply.
 */
export function fetchOverHttpRequest(
	httpRequest: (options: IHttpRequestOptions) => Promise<unknown>,
): typeof fetch {
	return (async (input: string | URL | Request, init: RequestInit = {}) => {
		const url = input instanceof Request ? input.url : String(input);
		const headers: Record<string, string> = {};
		new Headers(init.headers).forEach((value, name) => (headers[name] = value));
		const response = (await httpRequest({
			method: (init.method ?? 'GET') as IHttpRequestOptions['method'],
			url,
			headers,
			body: typeof init.body === 'string' ? init.body : undefined,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			disableFollowRedirect: true,
			// A stream, so that the caller's capped read decides how much of the answer is read.
			encoding: 'stream',
			json: false,
		})) as FullResponse;
		return toResponse(response.statusCode, response.headers, response.body);
	}) as typeof fetch;
}

/** The error underneath n8n's wrapping, so the core can tell a dropped connection (ECONNRESET). */
function rootCause(error: unknown): unknown {
	let e: unknown = error;
	for (
		let depth = 0;
		depth < 4 && e && typeof e === 'object' && (e as { cause?: unknown }).cause;
		depth++
	)
		e = (e as { cause?: unknown }).cause;
	return e;
}

/**
 * A `Send` over `httpRequestWithAuthentication`. Statuses come back as they are (the core decides
 * about retries and messages). A 401 is sent once more through n8n's refresh path: n8n then asks
 * the credential for a new token (its expirable field) and repeats the request.
 */
export function n8nSend(
	context: GenesysContext,
	credentialType: string,
	extraHeaders: Record<string, string> = {},
): Send {
	const request = async (
		req: ApiRequest,
		ignoreHttpStatusErrors: boolean,
	): Promise<FullResponse> => {
		const options: IHttpRequestOptions = {
			method: req.method,
			url: req.url.href,
			headers: { ...req.headers, ...extraHeaders },
			returnFullResponse: true,
			disableFollowRedirect: true,
			ignoreHttpStatusErrors,
			// Always a stream: the core reads answers with a cap (an error page of 300 MB costs 64 KiB).
			encoding: 'stream',
			json: false,
		};
		if (req.signal) options.abortSignal = req.signal;
		if (req.body !== undefined) options.body = req.body as unknown as IDataObject;
		return (await context.helpers.httpRequestWithAuthentication.call(
			context,
			credentialType,
			options,
		)) as FullResponse;
	};
	return async (req) => {
		let first: FullResponse;
		try {
			first = await request(req, true);
		} catch (error) {
			throw rootCause(error);
		}
		if (first.statusCode !== 401) return toResponse(first.statusCode, first.headers, first.body);
		try {
			const second = await request(req, false);
			return toResponse(second.statusCode, second.headers, second.body);
		} catch (error) {
			const response = responseOf(error);
			if (response) return toResponse(response.statusCode, response.headers, response.body);
			throw rootCause(error);
		}
	};
}

export async function genesysClient(
	context: GenesysContext,
	itemIndex = 0,
): Promise<GenesysClient> {
	const authentication = getParameter<GenesysAuthentication>(
		context,
		'authentication',
		itemIndex,
		'apiCredentials',
	);
	const credentialType = credentialTypeFor(authentication);
	const credentials = (await context.getCredentials(credentialType, itemIndex)) as IDataObject;
	const flavour = (credentials.apiVersion as ApiFlavour | undefined) ?? 'udm-v10';
	return new GenesysClient({
		baseUrl: genesysBaseUrl(credentials),
		flavour,
		// n8n signs OAuth2 requests with the bearer token only; the API key goes in as a header.
		send: n8nSend(
			context,
			credentialType,
			authentication === 'oAuth2' && typeof credentials.apiKey === 'string'
				? { 'x-api-key': credentials.apiKey }
				: {},
		),
		allowedHosts: allowedDownloadHosts(credentials),
		signal: cancelSignal(context),
		log: (message) => context.logger?.debug(message),
	});
}

function getParameter<T>(context: GenesysContext, name: string, itemIndex: number, fallback: T): T {
	try {
		// Load-options and poll contexts take no item index.
		const value =
			'getInputData' in context
				? (context as IExecuteFunctions).getNodeParameter(name, itemIndex, fallback)
				: (context as ILoadOptionsFunctions).getNodeParameter(name, fallback);
		return (value ?? fallback) as T;
	} catch {
		return fallback;
	}
}
