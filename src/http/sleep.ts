/**
 * Waiting that stops when the caller gives up: every wait of the HTTP kernel (retry backoff,
 * polling) takes the execution's AbortSignal and ends at once, with a CANCELLED error, when it
 * fires.
 */
import { CxError } from '../errors';

/** A wait; `signal` ends it early (with the error `cancelled` makes). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The error for a cancelled operation, naming what was stopped. */
export function cancelled(what: string, signal?: AbortSignal): CxError {
	return new CxError('CANCELLED', `${what}: cancelled`, { cause: signal?.reason });
}

/** Throws the CANCELLED error when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
	if (signal?.aborted) throw cancelled(what, signal);
}

export const sleep: Sleep = (ms, signal) =>
	new Promise<void>((resolve, reject) => {
		if (signal?.aborted) return reject(cancelled('waiting', signal));
		const onAbort = () => {
			clearTimeout(timer);
			reject(cancelled('waiting', signal));
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
