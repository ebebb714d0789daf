/** What the pipeline worker (./pipelineWorker.ts) and its parent (./inWorker.ts) send each other. */
import type { MessagePort, Worker } from 'node:worker_threads';
import { CxError } from '../errors';
import type { LimitName } from '../limits';

export interface SerializedError {
	name: string;
	message: string;
	code?: string;
	where?: string;
	limit?: string;
}

export type ToParent =
	/** Open source `i` as stream `s` (a source may be opened more than once: each opening is a stream of its own). */
	| { t: 'open'; i: number; s: number }
	| { t: 'took'; s: number; bytes: number }
	/** Stream `s` is not read any further. */
	| { t: 'close'; s: number }
	/** An output begins (`header`: what is known before its first byte, e.g. a ChunkStart). */
	| { t: 'start'; header: unknown }
	| { t: 'data'; bytes: Uint8Array }
	/** The output is complete (`info`: what it holds, e.g. a ChunkInfo). */
	| { t: 'end'; info: unknown }
	/** The job is done (`result`: the job's answer, e.g. the records' stats). */
	| { t: 'done'; result: unknown }
	| { t: 'failed'; error: SerializedError };

export type FromParent =
	| { t: 'data'; s: number; bytes: Uint8Array }
	| { t: 'end'; s: number }
	| { t: 'failed'; s: number; error: SerializedError }
	| { t: 'ack'; bytes: number }
	/** Slabs of an output `consume` has finished with, sent back for the next outputs' bytes. */
	| { t: 'slabs'; buffers: ArrayBuffer[] };

export function serializeError(error: unknown): SerializedError {
	if (error instanceof CxError)
		return {
			name: error.name,
			message: error.message,
			code: error.code,
			where: error.where,
			limit: error.limit,
		};
	if (error instanceof Error) return { name: error.name, message: error.message };
	return { name: 'Error', message: String(error) };
}

export function deserializeError(error: SerializedError): Error {
	if (error.name === 'CxError' && error.code) {
		return new CxError(error.code as CxError['code'], error.message, {
			where: error.where,
			limit: error.limit as LimitName | undefined,
		});
	}
	const revived = new Error(error.message);
	revived.name = error.name;
	return revived;
}

/** A Uint8Array that came through structured cloning, as a Buffer over the same memory. */
export function toBuffer(bytes: Uint8Array): Buffer {
	return Buffer.isBuffer(bytes)
		? bytes
		: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Posts bytes to the other thread with one copy. Cloning a view copies its whole ArrayBuffer (a
 * line of a 1 MiB batch would take the megabyte along), so a partial view goes as an exact copy,
 * transferred; a whole one is cloned (it may be shared with other views, so it is not transferred).
 */
export function postBytes(
	target: MessagePort | Worker,
	message: { bytes: Uint8Array } & Record<string, unknown>,
): void {
	const bytes = message.bytes;
	if (bytes.byteLength === bytes.buffer.byteLength) {
		target.postMessage(message);
		return;
	}
	// Uint8Array's slice copies (Buffer's `slice` is a view: transferring its memory would detach the original).
	const copy = Uint8Array.prototype.slice.call(bytes);
	target.postMessage({ ...message, bytes: copy }, [copy.buffer]);
}

/**
 * Bytes that arrive from the other thread, for one reader: pushed as they come, read in order.
 * `taken` is told of each piece once the reader has asked for the next one (it has used it), so the
 * sender's window follows what is consumed, not what is queued.
 */
export class ByteQueue {
	private queue: Buffer[] = [];
	private ended = false;
	private failure: Error | undefined;
	private wake: (() => void) | undefined;

	/** Ended or failed: nothing more comes. */
	get settled(): boolean {
		return this.ended || this.failure !== undefined;
	}

	push(bytes: Buffer): void {
		this.queue.push(bytes);
		this.wake?.();
	}

	end(): void {
		this.ended = true;
		this.wake?.();
	}

	/** The reader gets `error` at its next read (what is queued is dropped). */
	fail(error: Error): void {
		this.failure ??= error;
		this.queue = [];
		this.wake?.();
	}

	async *read(taken: (bytes: number) => void): AsyncGenerator<Buffer> {
		for (;;) {
			if (this.failure) throw this.failure;
			const next = this.queue.shift();
			if (next) {
				yield next;
				taken(next.length);
				continue;
			}
			if (this.ended) return;
			await new Promise<void>((resolve) => (this.wake = resolve));
			this.wake = undefined;
		}
	}
}

/**
 * Bytes in flight between two threads, bounded: `take` waits while `limit` bytes are sent and not
 * yet released by the other side. One piece larger than the limit still goes (alone).
 */
export class Window {
	private inFlight = 0;
	private waiting: (() => void) | undefined;

	constructor(private readonly limit: number) {}

	async take(bytes: number): Promise<void> {
		while (this.inFlight > 0 && this.inFlight + bytes > this.limit)
			await new Promise<void>((resolve) => (this.waiting = resolve));
		this.inFlight += bytes;
	}

	release(bytes: number): void {
		this.inFlight = Math.max(0, this.inFlight - bytes);
		const wake = this.waiting;
		this.waiting = undefined;
		wake?.();
	}
}

/** Size of the slabs an output's bytes are sent in. */
export const SLAB_BYTES = 256 * 1024;
/** Slabs kept for reuse on either side, at most: 32 MiB, a chunk of the default 16 MiB and the window. */
export const KEPT_SLABS = Math.ceil((32 * 1024 * 1024) / SLAB_BYTES);

/**
 * The slabs an output's bytes travel in, kept for reuse. Each is transferred to the parent and,
 * once the parent's consumer has finished with the output it carried, transferred back: the
 * parent then gains no memory per byte it passes on. In n8n's thread each new buffer counts
 * towards V8's external memory, and every ~64 MB of it starts a full collection of n8n's heap.
 */
export class SlabPool {
	private free: ArrayBuffer[] = [];

	constructor(private readonly keep: number) {}

	take(): ArrayBuffer {
		return this.free.pop() ?? new ArrayBuffer(SLAB_BYTES);
	}

	/** Slabs back from the parent (detached ones and any beyond `keep` are dropped). */
	give(buffers: ArrayBuffer[]): void {
		for (const buffer of buffers)
			if (buffer.byteLength === SLAB_BYTES && this.free.length < this.keep) this.free.push(buffer);
	}
}

/**
 * Sends an output's bytes in full slabs (the last one partly filled), each transferred once the
 * window has room for it.
 */
export async function sendInSlabs(
	port: MessagePort,
	window: Window,
	pool: SlabPool,
	bytes: AsyncIterable<Buffer>,
): Promise<void> {
	// Taken when there are bytes for it: a slab taken after the last one would be dropped unused.
	let slab: Uint8Array<ArrayBuffer> | undefined;
	let used = 0;
	const flush = async () => {
		if (!slab) return;
		await window.take(used);
		const view = new Uint8Array(slab.buffer, 0, used);
		port.postMessage({ t: 'data', bytes: view } satisfies ToParent, [slab.buffer]);
		slab = undefined;
		used = 0;
	};
	for await (const piece of bytes) {
		let offset = 0;
		while (offset < piece.length) {
			slab ??= new Uint8Array(pool.take());
			const n = Math.min(SLAB_BYTES - used, piece.length - offset);
			slab.set(piece.subarray(offset, offset + n), used);
			used += n;
			offset += n;
			if (used === SLAB_BYTES) await flush();
		}
	}
	if (used > 0) await flush();
}
