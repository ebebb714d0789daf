/**
 * Pipeline work in a worker thread (./pipelineWorker.ts): the same outputs, bytes and errors as the
 * same work in this thread, with the decrypting, inflating, checking and cutting done in an isolate
 * of its own. This thread only feeds sources that are not files (n8n binary data streams) and hands
 * each output's bytes to `consume`. Used by the nodes: inside n8n this thread's heap holds n8n, and
 * the pipeline's garbage would bring on full collections of all of it.
 *
 * Memory stays bounded on both sides: a source is sent at most SOURCE_WINDOW bytes ahead of what
 * the worker has read, and an output at most OUTPUT_WINDOW bytes ahead of what `consume` has read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { CxError } from '../errors';
import type { ChunkInfo, ChunkOptions, ChunkStart } from '../jsonl/chunks';
import type { JsonLinesStats } from '../jsonl/records';
import type { ReassembleSummary } from '../zip/reassemble';
import type { Kind, ByteSource } from './sources';
import type { PipelineOptions } from './export';
import type { WorkerData, WorkerJob } from './pipelineWorker';
import {
	ByteQueue,
	KEPT_SLABS,
	Window,
	deserializeError,
	postBytes,
	serializeError,
	toBuffer,
	type FromParent,
	type ToParent,
} from './workerProtocol';

const SOURCE_WINDOW = 8 * 1024 * 1024;
const OUTPUT_WINDOW = 8 * 1024 * 1024;
/**
 * Outputs `consume` may still be storing once their bytes are all handed over, while the next one
 * streams. With binary data in PostgreSQL (n8n's default in queue mode) n8n buffers a chunk and
 * then inserts it as `bytea`: two inserts at a time use both cores, and *Download in chunks* of a
 * 1,000,000-record export took 29–34 s instead of 35–41 s with one (docs/benchmarks.md), the
 * worker's peak unchanged (922–1002 MiB).
 */
const STORES = 2;

export interface WorkerChunkOptions extends Pick<PipelineOptions, 'key' | 'limits' | 'tempDir'> {
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

/**
 * The worker's young generation, in MiB (V8 sizes it from the machine's memory otherwise: up to
 * 16 MiB per half on a large host). The pipeline's short-lived objects are small (stream
 * bookkeeping, the base64 text of each slice): collecting them more often costs nothing
 * measurable, and the node's peak is 12–30 MiB lower (Record Chunks of a 1 GiB export in the
 * harness: 295–313 MiB for the whole process instead of 319–329; docs/benchmarks.md). The CLI gets
 * the same through `--max-semi-space-size=1` in bin/cx-export.js.
 */
const WORKER_YOUNG_GENERATION_MB = 3;

/** The worker, from the built file next to this one, or from the TypeScript sources (tests) through tsx. */
function startWorker(data: WorkerData): Worker {
	const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
	const built = join(__dirname, 'pipelineWorker.js');
	if (existsSync(built)) return new Worker(built, { workerData: data, resourceLimits });
	const source = join(__dirname, 'pipelineWorker.ts');
	const loader = 'tsx/cjs';
	return new Worker(`require(${JSON.stringify(loader)}); require(${JSON.stringify(source)});`, {
		eval: true,
		workerData: data,
		resourceLimits,
	});
}

type Event =
	| { kind: 'message'; message: ToParent }
	| { kind: 'error'; error: unknown }
	| { kind: 'exit'; code: number }
	| { kind: 'consumeFailed'; error: unknown }
	| { kind: 'aborted' };

interface JobOptions extends Pick<PipelineOptions, 'key' | 'limits' | 'tempDir'> {
	/** Stops the work (the worker is ended) with a CANCELLED error. */
	signal?: AbortSignal;
}

/**
 * Runs `job` on `sources` in a worker thread: each output the job makes is handed to `consume` as a
 * stream and yielded with its info once `consume` has read it all; `onDone` gets the job's result.
 * Stopping the iteration ends the worker.
 */
async function* runJob<T>(
	job: WorkerJob,
	sources: ByteSource[],
	options: JobOptions,
	consume: (stream: Readable, header: unknown) => Promise<T>,
	onDone: (result: unknown) => void,
): AsyncGenerator<{ info: unknown; result: T }> {
	if (options.signal?.aborted) throw new CxError('CANCELLED', 'cancelled before the work started');
	const data: WorkerData = {
		job,
		sources: sources.map(({ name, size, path }) => ({ name, size, path })),
		key: options.key,
		limits: options.limits,
		tempDir: options.tempDir,
		windowBytes: OUTPUT_WINDOW,
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
			if (!stopped)
				worker.postMessage({ t: 'failed', s, error: serializeError(error) } satisfies FromParent);
		} finally {
			windows.delete(s);
			feeding.delete(s);
			if (closed.has(s)) await iterator.return?.(undefined)?.catch(() => undefined);
		}
	};

	/** The current output's bytes, as they arrive. */
	let feed: ByteQueue | undefined;
	// Outputs that come one after another (chunks) send their slabs back for the next ones, once
	// `consume` has finished with them: n8n's thread then allocates nothing per byte passed on.
	const recycle = job.kind === 'chunks';
	let slabs: ArrayBuffer[] = [];
	let pending: Promise<T> | undefined;
	/**
	 * Outputs whose bytes have all been handed over and whose `consume` has not resolved yet (n8n
	 * storing a chunk), oldest first: at most STORES, yielded in order. The next output streams
	 * meanwhile, and is ended only once fewer than STORES are left.
	 */
	const storing: Array<{ info: unknown; result: Promise<T>; slabs: ArrayBuffer[] }> = [];
	const stored = async () => {
		const done = storing.shift() as (typeof storing)[number];
		const result = await done.result;
		if (done.slabs.length > 0) {
			// `consume` has resolved: whatever it did with the bytes is done.
			worker.postMessage({ t: 'slabs', buffers: done.slabs } satisfies FromParent, done.slabs);
		}
		return { info: done.info, result };
	};
	let finished = false;
	try {
		for (;;) {
			const event = events.shift();
			if (!event) {
				await new Promise<void>((resolve) => (wake = resolve));
				wake = undefined;
				continue;
			}
			if (event.kind === 'aborted') throw new CxError('CANCELLED', 'cancelled while the work ran');
			if (event.kind === 'consumeFailed') throw event.error;
			if (event.kind === 'error')
				throw event.error instanceof Error ? event.error : new Error(String(event.error));
			if (event.kind === 'exit')
				throw new CxError('IO', `the worker thread stopped unexpectedly (exit code ${event.code})`);
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
					feed = new ByteQueue();
					const bytes = feed.read((taken) =>
						worker.postMessage({ t: 'ack', bytes: taken } satisfies FromParent),
					);
					pending = consume(Readable.from(bytes, { objectMode: false }), message.header);
					pending.catch((error: unknown) => push({ kind: 'consumeFailed', error }));
					break;
				}
				case 'data':
					feed?.push(toBuffer(message.bytes));
					if (recycle && slabs.length < KEPT_SLABS) slabs.push(message.bytes.buffer as ArrayBuffer);
					break;
				case 'end': {
					// Each store holds its chunk several times over (n8n's buffer, the SQL parameter):
					// at most STORES of them at once.
					while (storing.length >= STORES) yield await stored();
					feed?.end();
					storing.push({ info: message.info, result: pending as Promise<T>, slabs });
					feed = undefined;
					pending = undefined;
					slabs = [];
					break;
				}
				case 'done':
					while (storing.length > 0) yield await stored();
					onDone(message.result);
					finished = true;
					return;
				case 'failed':
					throw deserializeError(message.error);
			}
		}
	} finally {
		stopped = true;
		// Nothing of this job goes on after it: a store still running is waited for (its output
		// is complete; n8n removes an execution's binary data with the execution).
		await Promise.allSettled(storing.map((output) => output.result));
		options.signal?.removeEventListener('abort', onAbort);
		for (const window of windows.values()) window.release(Number.MAX_SAFE_INTEGER);
		worker.removeAllListeners('exit');
		await worker.terminate();
		for (const iterator of feeding.values())
			await iterator.return?.(undefined)?.catch(() => undefined);
		// An output cut short fails its consumer (it is not ended: that would store a partial file as whole).
		if (!finished)
			feed?.fail(new CxError('CANCELLED', 'the work stopped before this output was complete'));
	}
}

/**
 * The chunks of `sources`' records (export → records → chunks), made in a worker thread: each handed
 * to `consume` as a stream of JSON Lines (gzip when asked) and yielded with what it holds once
 * `consume` has read it all. `stats` is filled in when the records are all read.
 */
export async function* exportChunksInWorker<T>(
	sources: ByteSource[],
	options: WorkerChunkOptions,
	stats: JsonLinesStats,
	consume: (stream: Readable, start: ChunkStart) => Promise<T>,
): AsyncGenerator<{ chunk: ChunkInfo; result: T }> {
	const job: WorkerJob = {
		kind: 'chunks',
		onError: options.onError,
		entries: options.entries,
		eachSourceAlone: options.eachSourceAlone,
		skipRecords: Math.max(0, options.skipRecords ?? 0),
		maxRecords: options.maxRecords && options.maxRecords > 0 ? options.maxRecords : Infinity,
		chunks: options.chunks,
	};
	const outputs = runJob(
		job,
		sources,
		options,
		(stream, header) => consume(stream, header as ChunkStart),
		(result) => Object.assign(stats, (result as { stats: JsonLinesStats }).stats),
	);
	for await (const { info, result } of outputs) yield { chunk: info as ChunkInfo, result };
}

/**
 * Decrypts one message in a worker thread: its plaintext handed to `consume` as a stream (the
 * result is `consume`'s). A source that is not encrypted is not read further: the answer says
 * what it is instead.
 */
export async function decryptInWorker<T>(
	source: ByteSource,
	options: JobOptions,
	consume: (stream: Readable) => Promise<T>,
): Promise<{ encrypted: true; result: T } | { encrypted: false; kind: Kind }> {
	let kind: Kind = 'other';
	let output: { result: T } | undefined;
	for await (const { result } of runJob(
		{ kind: 'decrypt' },
		[source],
		options,
		(stream) => consume(stream),
		(done) => (kind = (done as { kind: Kind }).kind),
	))
		output = { result };
	return output ? { encrypted: true, result: output.result } : { encrypted: false, kind };
}

/** Reassembles one export's parts into the file `path` in a worker thread (complete, or not there at all). */
export async function reassembleInWorker(
	sources: ByteSource[],
	path: string,
	options: JobOptions & { verify?: boolean },
): Promise<ReassembleSummary> {
	let summary: ReassembleSummary | undefined;
	const none = async () => undefined;
	for await (const _ of runJob(
		{ kind: 'reassemble', path, verify: options.verify },
		sources,
		options,
		none,
		(done) => (summary = (done as { summary: ReassembleSummary }).summary),
	));
	if (!summary)
		throw new CxError('IO', `${path}: the worker thread ended without reassembling the export`);
	return summary;
}
