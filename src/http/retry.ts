/**
 * Retries for HTTP calls to Genesys and storage hosts: jittered exponential backoff on 429, 502,
 * 503, 504 and on dropped connections, `Retry-After` honoured, bounded both in attempts and in
 * total time. Plain functions over an injectable clock, so the policy is tested without waiting.
 * A wait between attempts ends at once when the caller's AbortSignal fires.
 */
import { sleep as realSleep, throwIfAborted, type Sleep } from './sleep';

export interface RetryPolicy {
	/** Retries after the first attempt (default 5). */
	retries: number;
	/** First backoff ceiling in ms; doubles per retry (default 500). */
	baseDelayMs: number;
	/** Largest single wait, including one asked for by Retry-After (default 30 s). */
	maxDelayMs: number;
	/** No retry starts once this much time has passed since the first attempt (default 2 min). */
	maxElapsedMs: number;
	/** HTTP statuses worth retrying (default 429, 502, 503, 504). */
	statuses: readonly number[];
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
	retries: 5,
	baseDelayMs: 500,
	maxDelayMs: 30_000,
	maxElapsedMs: 120_000,
	statuses: Object.freeze([429, 502, 503, 504]),
});

/** Error codes of a connection that broke (Node's net layer and undici, which backs fetch). */
const TRANSIENT_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ETIMEDOUT',
	'EPIPE',
	'EAI_AGAIN',
	'UND_ERR_SOCKET',
	'UND_ERR_CONNECT_TIMEOUT',
	'UND_ERR_HEADERS_TIMEOUT',
	'UND_ERR_BODY_TIMEOUT',
]);

/** True for errors of a dropped or refused connection, also when wrapped (fetch's `cause`). */
export function isTransientNetworkError(error: unknown): boolean {
	for (
		let e: unknown = error, depth = 0;
		e && typeof e === 'object' && depth < 5;
		e = (e as { cause?: unknown }).cause, depth++
	) {
		const code = (e as { code?: unknown }).code;
		if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
	}
	return false;
}

/**
 * The wait a `Retry-After` header asks for, in ms: delta-seconds or an HTTP date. Undefined when
 * absent or unreadable (then the backoff applies).
 */
export function retryAfterMs(value: string | null | undefined, now: number): number | undefined {
	if (!value) return undefined;
	const text = value.trim();
	if (/^\d+$/.test(text)) return Number(text) * 1000;
	const date = Date.parse(text);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** "Full jitter" backoff: a random wait up to base × 2^retry, capped. */
export function backoffMs(
	retry: number,
	policy: RetryPolicy,
	random: () => number = Math.random,
): number {
	const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
	return Math.floor(random() * ceiling);
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export type RetryDecision = { retry: false } | { retry: true; reason: string; afterMs?: number };

export interface RetryOptions {
	policy?: Partial<RetryPolicy>;
	now?: () => number;
	sleep?: Sleep;
	random?: () => number;
	/** Stops retrying (and any wait) when it fires: the operation ends with a CANCELLED error. */
	signal?: AbortSignal;
	/** Told about each retry before its wait (for logs; never given request secrets). */
	onRetry?: (info: { retry: number; reason: string; waitMs: number }) => void;
}

export interface ResponseLike {
	status: number;
	headers: { get(name: string): string | null };
}

/** The decision for an HTTP call: retry the policy's statuses and broken connections. */
export function httpDecision(
	outcome: Outcome<ResponseLike>,
	policy: RetryPolicy,
	now: number,
): RetryDecision {
	if (!outcome.ok) {
		return isTransientNetworkError(outcome.error)
			? { retry: true, reason: 'connection lost' }
			: { retry: false };
	}
	const { status, headers } = outcome.value;
	if (!policy.statuses.includes(status)) return { retry: false };
	return {
		retry: true,
		reason: `HTTP ${status}`,
		afterMs: retryAfterMs(headers.get('retry-after'), now),
	};
}

/**
 * Runs `attempt` until `decide` says stop, the retries are used up, or the time budget would be
 * exceeded by the next wait. Returns the last value (a final 503 is the caller's to report) or
 * throws the last error.
 */
export async function retrying<T>(
	attempt: (retry: number) => Promise<T>,
	decide: (outcome: Outcome<T>, policy: RetryPolicy, now: number) => RetryDecision,
	options: RetryOptions = {},
): Promise<T> {
	const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
	const now = options.now ?? Date.now;
	const sleep = options.sleep ?? realSleep;
	const started = now();
	const { signal } = options;
	for (let retry = 0; ; retry++) {
		throwIfAborted(signal, 'the request');
		let outcome: Outcome<T>;
		try {
			outcome = { ok: true, value: await attempt(retry) };
		} catch (error) {
			throwIfAborted(signal, 'the request');
			outcome = { ok: false, error };
		}
		const decision = decide(outcome, policy, now());
		const finish = (): T => {
			if (outcome.ok) return outcome.value;
			throw outcome.error;
		};
		if (!decision.retry || retry >= policy.retries) return finish();
		const waitMs = Math.min(
			policy.maxDelayMs,
			decision.afterMs ?? backoffMs(retry, policy, options.random),
		);
		if (now() + waitMs - started > policy.maxElapsedMs) return finish();
		options.onRetry?.({ retry: retry + 1, reason: decision.reason, waitMs });
		await sleep(waitMs, signal);
	}
}
