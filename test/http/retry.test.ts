import { describe, expect, it } from 'vitest';
import {
	backoffMs,
	DEFAULT_RETRY_POLICY,
	httpDecision,
	isTransientNetworkError,
	retryAfterMs,
	retrying,
	type ResponseLike,
} from '../../src/http/retry';

function response(status: number, headers: Record<string, string> = {}): ResponseLike {
	return { status, headers: { get: (name) => headers[name.toLowerCase()] ?? null } };
}

/** A fake clock: sleeping advances it. */
function clock() {
	let t = 1_000_000;
	const waits: number[] = [];
	return { waits, now: () => t, sleep: async (ms: number) => void (waits.push(ms), (t += ms)) };
}

function connectionReset(): Error {
	return Object.assign(new TypeError('fetch failed'), {
		cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
	});
}

describe('retrying HTTP calls', () => {
	it('retries 429/502/503/504 and returns the first good response', async () => {
		const c = clock();
		const statuses = [429, 502, 503, 504, 200];
		const calls: number[] = [];
		const result = await retrying(
			async (retry) => {
				calls.push(retry);
				return response(statuses[retry]);
			},
			httpDecision,
			{ ...c, random: () => 1 },
		);
		expect(result.status).toBe(200);
		expect(calls).toEqual([0, 1, 2, 3, 4]);
		// Full jitter with random() = 1: the ceilings 500, 1000, 2000, 4000 ms.
		expect(c.waits).toEqual([500, 1000, 2000, 4000]);
	});

	it('does not retry other statuses', async () => {
		for (const status of [200, 400, 401, 403, 404, 500]) {
			let calls = 0;
			const result = await retrying(async () => (calls++, response(status)), httpDecision, clock());
			expect(result.status).toBe(status);
			expect(calls).toBe(1);
		}
	});

	it('honours Retry-After in seconds and as an HTTP date, capped by the largest wait', async () => {
		const c = clock();
		const answers = [
			response(429, { 'retry-after': '7' }),
			response(503, { 'retry-after': new Date(c.now() + 7000 + 12_000).toUTCString() }),
			response(503, { 'retry-after': '3600' }),
			response(200),
		];
		await retrying(async (retry) => answers[retry], httpDecision, { ...c, random: () => 0 });
		expect(c.waits[0]).toBe(7000);
		expect(c.waits[1]).toBeGreaterThanOrEqual(11_000);
		expect(c.waits[1]).toBeLessThanOrEqual(12_000);
		expect(c.waits[2]).toBe(DEFAULT_RETRY_POLICY.maxDelayMs);
	});

	it('gives up after the retry count and returns the last response', async () => {
		const c = clock();
		let calls = 0;
		const result = await retrying(async () => (calls++, response(503)), httpDecision, {
			...c,
			policy: { retries: 3 },
		});
		expect(result.status).toBe(503);
		expect(calls).toBe(4);
	});

	it('gives up when the next wait would pass the time budget', async () => {
		const c = clock();
		let calls = 0;
		await retrying(async () => (calls++, response(429, { 'retry-after': '20' })), httpDecision, {
			...c,
			policy: { retries: 100, maxElapsedMs: 50_000 },
		});
		// Waits of 20 s at 0 and 20 s; a third would end at 60 s > 50 s.
		expect(c.waits).toEqual([20_000, 20_000]);
		expect(calls).toBe(3);
	});

	it('retries a dropped connection and rethrows the last error when it keeps dropping', async () => {
		const c = clock();
		let calls = 0;
		const ok = await retrying(
			async () => {
				if (calls++ < 2) throw connectionReset();
				return response(200);
			},
			httpDecision,
			c,
		);
		expect(ok.status).toBe(200);
		await expect(
			retrying(async () => Promise.reject(connectionReset()), httpDecision, {
				...clock(),
				policy: { retries: 2 },
			}),
		).rejects.toThrow('fetch failed');
	});

	it('does not retry other errors', async () => {
		let calls = 0;
		await expect(
			retrying(
				async () => {
					calls++;
					throw new Error('certificate has expired');
				},
				httpDecision,
				clock(),
			),
		).rejects.toThrow('certificate has expired');
		expect(calls).toBe(1);
	});

	it('reports each retry with its reason and wait', async () => {
		const seen: string[] = [];
		const answers = [response(503), response(200)];
		await retrying(async (r) => answers[r], httpDecision, {
			...clock(),
			random: () => 0.5,
			onRetry: (i) => seen.push(`${i.retry} ${i.reason} ${i.waitMs}`),
		});
		expect(seen).toEqual(['1 HTTP 503 250']);
	});
});

describe('retry helpers', () => {
	it('reads Retry-After', () => {
		expect(retryAfterMs('120', 0)).toBe(120_000);
		expect(
			retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')),
		).toBe(60_000);
		expect(retryAfterMs('yesterday-ish', 0)).toBeUndefined();
		expect(retryAfterMs(null, 0)).toBeUndefined();
	});

	it('spreads backoff between zero and a doubling, capped ceiling', () => {
		expect(backoffMs(0, DEFAULT_RETRY_POLICY, () => 0.999)).toBe(499);
		expect(backoffMs(3, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(2000);
		expect(backoffMs(20, DEFAULT_RETRY_POLICY, () => 0.999)).toBeLessThan(
			DEFAULT_RETRY_POLICY.maxDelayMs,
		);
		expect(backoffMs(2, DEFAULT_RETRY_POLICY, () => 0)).toBe(0);
	});

	it('recognises dropped connections, also wrapped by fetch', () => {
		expect(isTransientNetworkError(connectionReset())).toBe(true);
		expect(isTransientNetworkError(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }))).toBe(
			true,
		);
		expect(isTransientNetworkError(new Error('bad request'))).toBe(false);
		expect(isTransientNetworkError(undefined)).toBe(false);
	});
});
