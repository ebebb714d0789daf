/**
 * The worker-thread side of ./inWorker.ts: runs one pipeline job — export → records → chunks,
 * decrypting one message, or reassembling one export into a file — in its own V8 isolate, and sends
 * its outputs' bytes to the thread that started it.
 *
 * Why a thread: inside n8n the nodes run in a process whose heap holds n8n (300–800 MB). Every
 * buffer and object the pipeline makes counts towards that heap's next full collection, and a full
 * collection marks all of n8n: the same work took twice as long inside n8n as in the CLI. Here the
 * heap holds the pipeline only, so collections are small, and the thread that runs n8n is left with
 * moving finished bytes into its binary data.
 *
 * Messages (all plain data; Buffers arrive as Uint8Array copies):
 * - to the parent: `open` (start sending source i as stream s), `took` (bytes of stream s consumed,
 *   for its window), `close` (stream s is not read further), `start`/`data`/`end` (an output and its
 *   bytes), `done` (with the job's result), `failed` (an error).
 * - from the parent: `data`/`end`/`failed` for a stream it sends, `ack` (output bytes written).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DecryptionKey } from '../cms/keys';
import type { CertificateInfo } from '../cms/x509';
import { blockChunks, sliceBlocks, type ChunkOptions } from '../jsonl/chunks';
import type { JsonLinesStats, RecordBlock } from '../jsonl/records';
import { decryptCms } from '../cms';
import { CxError } from '../errors';
import {
	exportRecordBlocks,
	reassembleToFile,
	type PipelineLimits,
	type RecordsOptions,
} from './export';
import { globMatcher } from './glob';
import { fileSource, peek, type ByteSource } from './sources';
import {
	ByteQueue,
	Window,
	deserializeError,
	KEPT_SLABS,
	SlabPool,
	sendInSlabs,
	serializeError,
	toBuffer,
	type FromParent,
	type ToParent,
} from './workerProtocol';

/** Export → records → chunks: an output per chunk (its ChunkStart, then its ChunkInfo); done with the stats. */
export interface ChunksJob {
	kind: 'chunks';
	onError?: 'fail' | 'skip';
	/** Which zip entries hold records, as glob patterns (src/pipeline/glob.ts); the default test when absent. */
	entries?: string;
	/** Read each source on its own (not grouped with the parts of its export). */
	eachSourceAlone?: boolean;
	skipRecords: number;
	maxRecords: number;
	chunks: ChunkOptions;
}

/** One message decrypted: done with what the source is; one output (its plaintext) when it is encrypted. */
export interface DecryptJob {
	kind: 'decrypt';
}

/** One export's parts reassembled into the file `path` (complete, or not there): done with the summary. */
export interface ReassembleJob {
	kind: 'reassemble';
	path: string;
	verify?: boolean;
}

export type WorkerJob = ChunksJob | DecryptJob | ReassembleJob;

export interface WorkerData {
	job: WorkerJob;
	sources: Array<{ name: string; size?: number; path?: string }>;
	key?: DecryptionKey;
	limits?: Partial<PipelineLimits>;
	tempDir?: string;
	/** Output bytes sent but not yet written by the parent, at most. */
	windowBytes: number;
}

/** Buffers come through structured cloning as plain Uint8Arrays: the key's fields made Buffers again. */
function reviveKey(key: DecryptionKey): DecryptionKey {
	const certificate = (c: CertificateInfo): CertificateInfo => ({
		...c,
		der: toBuffer(c.der),
		issuerDer: toBuffer(c.issuerDer),
		serial: toBuffer(c.serial),
		subjectKeyIdentifier: c.subjectKeyIdentifier ? toBuffer(c.subjectKeyIdentifier) : undefined,
	});
	return {
		...key,
		keyIdentifier: toBuffer(key.keyIdentifier),
		certificates: key.certificates.map(certificate),
	};
}

/** Sends one output: `start` with its header, its bytes a window at a time, then `end` with what it was. */
async function send(
	port: NonNullable<typeof parentPort>,
	window: Window,
	header: unknown,
	bytes: AsyncIterable<Buffer>,
): Promise<void> {
	port.postMessage({ t: 'start', header } satisfies ToParent);
	await sendInSlabs(port, window, slabs, bytes);
}

/** Slabs for the outputs' bytes: enough for a chunk and the window, reused (see SlabPool). */
const slabs = new SlabPool(KEPT_SLABS);

async function run(port: NonNullable<typeof parentPort>, data: WorkerData): Promise<void> {
	const window = new Window(data.windowBytes);
	/** The sources the parent sends, by stream: bytes arrive as messages, at most a window's worth ahead. */
	const inboxes = new Map<number, ByteQueue>();
	port.on('message', (message: FromParent) => {
		if (message.t === 'ack') return window.release(message.bytes);
		if (message.t === 'slabs') return slabs.give(message.buffers);
		const inbox = inboxes.get(message.s);
		if (message.t === 'data') inbox?.push(toBuffer(message.bytes));
		else if (message.t === 'end') inbox?.end();
		else inbox?.fail(deserializeError(message.error));
	});
	const sources: ByteSource[] = [];
	let opened = 0;
	for (let i = 0; i < data.sources.length; i++) {
		const { name, size, path } = data.sources[i];
		if (path) {
			sources.push(await fileSource(path, name));
		} else {
			sources.push({
				name,
				size,
				// Each opening is a stream of its own; one the pipeline stops reading is closed.
				open: async function* () {
					const stream = ++opened;
					const inbox = new ByteQueue();
					inboxes.set(stream, inbox);
					port.postMessage({ t: 'open', i, s: stream } satisfies ToParent);
					try {
						yield* inbox.read((bytes) =>
							port.postMessage({ t: 'took', s: stream, bytes } satisfies ToParent),
						);
					} finally {
						inboxes.delete(stream);
						if (!inbox.settled) port.postMessage({ t: 'close', s: stream } satisfies ToParent);
					}
				},
			});
		}
	}
	const key = data.key ? reviveKey(data.key) : undefined;
	const job = data.job;
	if (job.kind === 'chunks') {
		const each = job.eachSourceAlone === true;
		const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
		const options: RecordsOptions = {
			key,
			limits: data.limits,
			onError: job.onError,
			tempDir: data.tempDir,
		};
		if (job.entries) options.entryFilter = globMatcher(job.entries);
		// Runs of lines as the bytes read, not one object per record: a chunk's bytes are the lines.
		async function* blocks(): AsyncGenerator<RecordBlock> {
			if (each) for (const source of sources) yield* exportRecordBlocks([source], options, stats);
			else yield* exportRecordBlocks(sources, options, stats);
		}
		const chunks = blockChunks(
			sliceBlocks(blocks(), job.skipRecords, job.maxRecords),
			job.chunks,
			async (stream, start) => send(port, window, start, stream as AsyncIterable<Buffer>),
		);
		for await (const { chunk } of chunks)
			port.postMessage({ t: 'end', info: chunk } satisfies ToParent);
		port.postMessage({ t: 'done', result: { stats } } satisfies ToParent);
	} else if (job.kind === 'decrypt') {
		if (!key) throw new CxError('USAGE', 'decrypting needs the private key');
		const [source] = sources;
		const { kind, stream } = await peek(source);
		if (kind !== 'encrypted') {
			await stream[Symbol.asyncIterator]().return?.(undefined);
			port.postMessage({ t: 'done', result: { kind } } satisfies ToParent);
			return;
		}
		await send(
			port,
			window,
			{},
			decryptCms(stream, {
				key,
				source: source.name,
				maxHeaderBytes: data.limits?.maxCmsHeaderBytes,
			}),
		);
		port.postMessage({ t: 'end', info: {} } satisfies ToParent);
		port.postMessage({ t: 'done', result: { kind } } satisfies ToParent);
	} else {
		const summary = await reassembleToFile(sources, job.path, {
			key,
			limits: data.limits,
			tempDir: data.tempDir,
			verify: job.verify,
		});
		port.postMessage({ t: 'done', result: { summary } } satisfies ToParent);
	}
}

if (parentPort) {
	const port = parentPort;
	run(port, workerData as WorkerData).catch((error: unknown) => {
		port.postMessage({ t: 'failed', error: serializeError(error) } satisfies ToParent);
	});
}
