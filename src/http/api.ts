/**
 * The one HTTP kernel under the Genesys (UDM/CDDS), Context Services and Connectif clients:
 * - `ApiCaller`: a request through the client's `send` (its auth hook: credentials, token
 *   refresh), retried on 429/5xx and broken connections (Retry-After, full jitter), answers read
 *   with a cap, JSON validated by a zod schema, error statuses turned into `ApiError`;
 * - `pollUntil`: the wait loop of "wait for the run/export to finish";
 * - downloads: `refreshingDownload` (download.ts).
 * Every one stops when the caller's AbortSignal fires (the n8n execution's cancel signal).
 */
import type { z } from 'zod';
import { ApiError, CxError } from '../errors';
import { discard, JSON_BODY_LIMIT, readErrorText, readTextLimited } from './body';
import { httpDecision, retrying, type RetryOptions } from './retry';
import { sleep as realSleep, throwIfAborted, type Sleep } from './sleep';
import type { Fetch } from './transport';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRequest {
	method: HttpMethod;
	url: URL;
	headers: Record<string, string>;
	body?: string | Buffer;
	/** The caller reads the body as a stream (a large answer): do not buffer it. */
	stream?: boolean;
	/** Cancels the request (the execution was cancelled). */
	signal?: AbortSignal;
}

/**
 * Sends one request to the API host with the API's credentials and returns its response as is:
 * no redirects followed, no retries, any status. A 401 should already have been given one token
 * refresh. This is the auth hook: the only place credentials are added.
 */
export type Send = (request: ApiRequest) => Promise<Response>;

/** What every client on the kernel takes (Genesys, Context Services, Connectif). */
export interface ClientOptions {
	/** The auth hook: sends a request with the API's credentials. */
	send: Send;
	/** The transport for storage/file hosts (never given credentials); default: checkedFetch. */
	fetch?: Fetch | typeof fetch;
	/** Hosts a download link may point at beyond the URL policy's rules (see urlPolicy.ts). */
	allowedHosts?: readonly string[];
	/** Cancels every request, retry wait, poll and download (the n8n execution's cancel signal). */
	signal?: AbortSignal;
	retry?: RetryOptions;
	now?: () => number;
	sleep?: Sleep;
	/** Told about retries and resumes (never given URLs with signatures or secrets). */
	log?: (message: string) => void;
}

/** Builds the error for an error answer from its status and (capped, possibly non-JSON) text. */
export type ErrorReader<C extends string = string> = (
	status: number,
	bodyText: string,
	operation: string,
	context: C,
) => ApiError;

export interface ApiCallerOptions<C extends string = string> {
	/** For messages: "Genesys", "Connectif", "Context Services". */
	service: string;
	send: Send;
	errorFor: ErrorReader<C>;
	/** What to check when an answer is not what the API documents. */
	unexpectedHint: (what: string) => string;
	retry?: RetryOptions;
	sleep?: Sleep;
	now?: () => number;
	signal?: AbortSignal;
	log?: (message: string) => void;
	/** The largest JSON answer read (default JSON_BODY_LIMIT). */
	jsonLimit?: number;
}

export interface CallOptions<C extends string = string> {
	body?: { text: string | Buffer; contentType: string };
	/** What the error hints are about ('api', 'file', …: the client's error reader knows). */
	context?: C;
	stream?: boolean;
}

export class ApiCaller<C extends string = string> {
	constructor(private readonly options: ApiCallerOptions<C>) {}

	get signal(): AbortSignal | undefined {
		return this.options.signal;
	}

	/** The retry options with the client's clock, sleep and signal. */
	retryOptions(): RetryOptions {
		const retry = this.options.retry;
		return {
			...retry,
			sleep: retry?.sleep ?? this.options.sleep,
			now: retry?.now ?? this.options.now,
			signal: this.options.signal,
		};
	}

	/** Sends with retries on 429/5xx and dropped connections; returns the final response, any status. */
	async call(method: HttpMethod, url: URL, options: CallOptions<C> = {}): Promise<Response> {
		let previous: Response | undefined;
		const retry = this.retryOptions();
		return retrying(
			async () => {
				await discard(previous);
				const headers: Record<string, string> = { accept: 'application/json' };
				if (options.body) headers['content-type'] = options.body.contentType;
				previous = await this.options.send({
					method,
					url,
					headers,
					body: options.body?.text,
					stream: options.stream,
					signal: this.options.signal,
				});
				return previous;
			},
			httpDecision,
			{
				...retry,
				onRetry: (info) => {
					this.options.log?.(
						`${method} ${url.pathname}: ${info.reason}, retry ${info.retry} in ${info.waitMs} ms`,
					);
					retry.onRetry?.(info);
				},
			},
		);
	}

	/** The ApiError for an error answer; reads at most ERROR_BODY_LIMIT of its body. */
	async failure(response: Response, operation: string, context?: C): Promise<ApiError> {
		return this.options.errorFor(
			response.status,
			await readErrorText(response),
			operation,
			context as C,
		);
	}

	/** An answer that is not what the API documents. */
	unexpected(operation: string, status: number, what: string, cause?: unknown): ApiError {
		return new ApiError({
			httpStatus: status,
			operation,
			service: this.options.service,
			hint: this.options.unexpectedHint(what),
			cause,
		});
	}

	/** The body of a successful answer as text, refused past the JSON cap. */
	async text(response: Response, operation: string): Promise<string> {
		try {
			return await readTextLimited(response, this.options.jsonLimit ?? JSON_BODY_LIMIT, operation);
		} catch (error) {
			throw error instanceof CxError
				? this.unexpected(
						operation,
						response.status,
						error.message.replace(`${operation}: `, ''),
						error,
					)
				: error;
		}
	}

	/** Calls and reads a JSON answer validated by `schema` (an empty body is `undefined`). */
	async json<T>(
		operation: string,
		method: HttpMethod,
		url: URL,
		schema: z.ZodType<T>,
		options: CallOptions<C> & { json?: unknown } = {},
	): Promise<T> {
		const body =
			options.json === undefined
				? options.body
				: { text: JSON.stringify(options.json), contentType: 'application/json' };
		const response = await this.call(method, url, { ...options, body });
		return this.read(response, operation, schema, options.context);
	}

	/** Reads a response already had: error status → ApiError, else JSON validated by `schema`. */
	async read<T>(
		response: Response,
		operation: string,
		schema: z.ZodType<T>,
		context?: C,
	): Promise<T> {
		if (!response.ok) throw await this.failure(response, operation, context);
		const text = await this.text(response, operation);
		let data: unknown;
		try {
			data = text.trim() === '' ? undefined : JSON.parse(text);
		} catch {
			throw this.unexpected(operation, response.status, 'the answer is not JSON');
		}
		const parsed = schema.safeParse(data);
		if (!parsed.success) {
			const issue = parsed.error.issues[0];
			throw this.unexpected(
				operation,
				response.status,
				`${issue.path.join('.') || 'the answer'}: ${issue.message}`,
			);
		}
		return parsed.data;
	}

	/** Calls where success has no body worth reading (204, 201 with a string). */
	async noContent(
		operation: string,
		method: HttpMethod,
		url: URL,
		options: CallOptions<C> = {},
	): Promise<void> {
		const response = await this.call(method, url, options);
		if (!response.ok) throw await this.failure(response, operation, options.context);
		await discard(response);
	}
}

export interface PollOptions<T> {
	/** Between polls (ms). */
	intervalMs: number;
	/** Give up after this long (ms). */
	timeoutMs: number;
	signal?: AbortSignal;
	now?: () => number;
	sleep?: Sleep;
	/** What is waited for, for the cancellation message: "waiting for export run 7". */
	what: string;
	/** The error when the time is up, from the last value seen. */
	timedOut: (last: T) => Error;
}

/**
 * Polls until `done` says so and returns that value. The next poll is not started when it would
 * begin past the deadline (then `timedOut`); the signal stops the wait at once.
 */
export async function pollUntil<T>(
	poll: () => Promise<T>,
	done: (value: T) => boolean,
	options: PollOptions<T>,
): Promise<T> {
	const now = options.now ?? Date.now;
	const sleep = options.sleep ?? realSleep;
	const interval = Math.max(0, options.intervalMs);
	const deadline = now() + Math.max(0, options.timeoutMs);
	for (;;) {
		throwIfAborted(options.signal, options.what);
		const value = await poll();
		if (done(value)) return value;
		if (now() + interval > deadline) throw options.timedOut(value);
		try {
			await sleep(interval, options.signal);
		} finally {
			throwIfAborted(options.signal, options.what);
		}
	}
}
