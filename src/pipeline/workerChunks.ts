/**
 * Export → records → chunks in a worker thread (./chunkWorker.ts): the same chunks, bytes and
 * errors as `recordChunks(exportRecords(…))` in this thread, with the decrypting, inflating,
 * checking and cutting done in an isolate of its own. This thread only feeds sources that are not
 * files (n8n binary data streams) and hands each chunk's bytes to `consume`.
 *
 * Memory stays bounded on both sides: a source is sent at most SOURCE_WINDOW bytes ahead of what
 * the worker has read, and a chunk at most CHUNK_WINDOW bytes ahead of what `consume` has read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { CxError } from '../errors';
import type { ChunkInfo, ChunkOptions, ChunkStart } from '../jsonl/chunks';
import type { JsonLinesStats } from '../jsonl/records';
import type { ChunkWorkerData } from './chunkWorker';
import type { PipelineOptions } from './export';
import type { ByteSource } from './sources';
import { Window, deserializeError, postBytes, serializeError, toBuffer, type FromParent, type ToParent } from './workerProtocol';

const SOURCE_WINDOW = 8 * 1024 * 1024;
const CHUNK_WINDOW = 8 * 1024 * 1024;

export interface WorkerChunkOptions extends Omit<PipelineOptions, 'onRead'> {
	onError?: 'fail' | 'skip';
	/** Which zip entries hold records, as glob patterns (src/pipeline/glob.ts); the default test when absent. */
	entries?: string;
	/** Read each source on its own (not grouped with the parts of its export). */
	eachSourceAlone?: boolean;
	/** Leave out this many records first. */
	skipRecords?: number;
	/** Stop after this many records (0 or absent: all). */
	maxRecords?: number;
	chunks: ChunkOptions;
	/** Stops the work (the worker is ended) with a CANCELLED error. */
	signal?: AbortSignal;
}

/** The worker, from the built file next to this one, or from the TypeScript sources (tests) through tsx. */
function startWorker(data: ChunkWorkerData): Worker {
	const built = join(__dirname, 'chunkWorker.js');
	if (existsSync(built)) return new Worker(built, { workerData: data });
	const source = join(__dirname, 'chunkWorker.ts');
	return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData: data });
}

type Event = { kind: 'message'; message: ToParent } | { kind: 'error'; error: unknown } | { kind: 'exit'; code: number } | { kind: 'consumeFailed'; error: unknown } | { kind: 'aborted' };

/** A chunk's bytes as they arrive; each piece is acknowledged once `consume` has asked for the next. */
class Feed {
	private queue: Buffer[] = [];
	private ended = false;
	private wake: (() => void) | undefined;

	constructor(private readonly ack: (bytes: number) => void) {}

	push(bytes: Buffer): void {
		this.queue.push(bytes);
		this.wake?.();
	}

	end(): void {
		this.ended = true;
		this.wake?.();
	}

	async *read(): AsyncGenerator<Buffer> {
		for (;;) {
			const next = this.queue.shift();
			if (next) {
				yield next;
				this.ack(next.length);
				continue;
			}
			if (this.ended) return;
			await new Promise<void>((resolve) => (this.wake = resolve));
			this.wake = undefined;
		}
	}
}

/**
 * The chunks of `sources`' records, made in a worker thread: each handed to `consume` as a stream
 * of JSON Lines (gzip when asked) and yielded with what it holds once `consume` has read it all.
 * `stats` is filled in when the records are all read. Stopping the iteration ends the worker.
 */
export async function* exportChunksInWorker<T>(
	sources: ByteSource[],
	options: WorkerChunkOptions,
	stats: JsonLinesStats,
	consume: (stream: Readable, start: ChunkStart) => Promise<T>,
): AsyncGenerator<{ chunk: ChunkInfo; result: T }> {
	if (options.signal?.aborted) throw new CxError('CANCELLED', 'cancelled before the export was read');
	const data: ChunkWorkerData = {
		sources: sources.map(({ name, size, path }) => ({ name, size, path })),
		key: options.key,
		limits: options.limits,
		onError: options.onError,
		tempDir: options.tempDir,
		entries: options.entries,
		eachSourceAlone: options.eachSourceAlone,
		skipRecords: Math.max(0, options.skipRecords ?? 0),
		maxRecords: options.maxRecords && options.maxRecords > 0 ? options.maxRecords : Infinity,
		chunks: options.chunks,
		windowBytes: CHUNK_WINDOW,
	};
	const worker = startWorker(data);
	const events: Event[] = [];
	let wake: (() => void) | undefined;
	const push = (event: Event) => {
		events.push(event);
		wake?.();
	};
	worker.on('message', (message: ToParent) => push({ kind: 'message', message }));
	worker.on('error', (error) => push({ kind: 'error', error }));
	worker.on('exit', (code) => push({ kind: 'exit', code }));
	const onAbort = () => push({ kind: 'aborted' });
	options.signal?.addEventListener('abort', onAbort, { once: true });

	const windows = new Map<number, Window>();
	const feeding = new Map<number, AsyncIterator<Buffer>>();
	const closed = new Set<number>();
	let stopped = false;
	/** Sends source `i` to the worker as stream `s`, a window at a time. */
	const pump = async (i: number, s: number) => {
		const window = new Window(SOURCE_WINDOW);
		windows.set(s, window);
		const iterator = sources[i].open()[Symbol.asyncIterator]();
		feeding.set(s, iterator);
		try {
			for (;;) {
				const r = await iterator.next();
				if (stopped || closed.has(s)) return;
				if (r.done) break;
				await window.take(r.value.length);
				if (stopped || closed.has(s)) return;
				postBytes(worker, { t: 'data', s, bytes: r.value } satisfies FromParent);
			}
			worker.postMessage({ t: 'end', s } satisfies FromParent);
		} catch (error) {
			if (!stopped) worker.postMessage({ t: 'failed', s, error: serializeError(error) } satisfies FromParent);
		} finally {
			windows.delete(s);
			feeding.delete(s);
			if (closed.has(s)) await iterator.return?.(undefined)?.catch(() => undefined);
		}
	};

	let feed: Feed | undefined;
	let pending: Promise<T> | undefined;
	let finished = false;
	try {
		for (;;) {
			const event = events.shift();
			if (!event) {
				await new Promise<void>((resolve) => (wake = resolve));
				wake = undefined;
				continue;
			}
			if (event.kind === 'aborted') throw new CxError('CANCELLED', 'cancelled while the export was read');
			if (event.kind === 'consumeFailed') throw event.error;
			if (event.kind === 'error') throw event.error instanceof Error ? event.error : new Error(String(event.error));
			if (event.kind === 'exit') throw new CxError('IO', `the worker thread reading the export stopped unexpectedly (exit code ${event.code})`);
			const message = event.message;
			switch (message.t) {
				case 'open':
					void pump(message.i, message.s);
					break;
				case 'took':
					windows.get(message.s)?.release(message.bytes);
					break;
				case 'close':
					closed.add(message.s);
					windows.get(message.s)?.release(Number.MAX_SAFE_INTEGER);
					break;
				case 'start': {
					const current = new Feed((bytes) => worker.postMessage({ t: 'ack', bytes } satisfies FromParent));
					feed = current;
					pending = consume(Readable.from(current.read(), { objectMode: false }), message.start);
					pending.catch((error: unknown) => push({ kind: 'consumeFailed', error }));
					break;
				}
				case 'data':
					feed?.push(toBuffer(message.bytes));
					break;
				case 'end': {
					feed?.end();
					const result = await (pending as Promise<T>);
					feed = undefined;
					pending = undefined;
					yield { chunk: message.info, result };
					break;
				}
				case 'done':
					Object.assign(stats, message.stats);
					finished = true;
					return;
				case 'failed':
					throw deserializeError(message.error);
			}
		}
	} finally {
		stopped = true;
		options.signal?.removeEventListener('abort', onAbort);
		for (const window of windows.values()) window.release(Number.MAX_SAFE_INTEGER);
		worker.removeAllListeners('exit');
		await worker.terminate();
		for (const iterator of feeding.values()) await iterator.return?.(undefined)?.catch(() => undefined);
		if (!finished) feed?.end();
	}
}
