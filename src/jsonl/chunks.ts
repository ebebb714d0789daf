/**
 * Records in chunks: a stream of records cut into JSON Lines files of at most N records each, so a
 * million-record export travels as a hundred files instead of a million objects.
 *
 * What it promises:
 * - One pass: the records are read once, in order, and each chunk is streamed to its consumer as it
 *   is written (pulled, so a slow consumer slows the reader down). Memory is one batch of lines
 *   (about 1 MiB, or one record when a record is longer), whatever the chunk or export size.
 * - A chunk holds records of consecutive lines of one source (one file or zip entry) only, so it can
 *   say exactly where its records come from: record k of a chunk is line `firstLine + k - 1` of its
 *   source. A blank or skipped line starts a new chunk (`lastLine - firstLine + 1 === records`).
 * - Lines are the records' bytes as the source wrote them (no BOM, no `\r`), each followed by `\n`:
 *   numbers beyond 2^53 and escapes are untouched, and reading a chunk back gives the same records.
 * - A failure while a chunk is written (a malformed line, a broken file) rejects with that error, not
 *   with whatever the consumer makes of the interrupted stream; no chunk is reported unless complete.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { JsonRecord } from './records';

export const DEFAULT_RECORDS_PER_CHUNK = 10_000;

/**
 * A chunk also ends before it passes this many bytes of JSON Lines (before compression): 16 MiB.
 * Records differ a hundredfold in size (an attachment line holds megabytes of base64), and what
 * loads a chunk holds it whole, several times over (as a string in a sub-workflow, copied into
 * n8n 2.x's expression isolate and back, as the SQL text, as its wire buffer): bounding the bytes
 * bounds that memory. A record bigger than this is a chunk of its own.
 */
export const DEFAULT_MAX_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * gzip level of compressed chunks: 1, the fastest. On export records it writes ~240 MB/s of JSON
 * Lines into files ~5.3× smaller; the default level (6) is 3× slower for files 15 % smaller, and
 * chunks are working files that are read once.
 */
export const CHUNK_GZIP_LEVEL = 1;

export interface ChunkOptions {
	/** Records per chunk (default 10,000). */
	recordsPerChunk?: number;
	/** Bytes of JSON Lines a chunk may hold (default 16 MiB); a longer record is a chunk of its own. */
	maxChunkBytes?: number;
	/** Compress each chunk with gzip. */
	gzip?: boolean;
	/** Lines are collected into writes of about this many bytes (default 1 MiB). */
	batchBytes?: number;
}

/** Where a chunk starts: what is known before its first byte is written. */
export interface ChunkStart {
	/** 1-based, counted over the whole call. */
	index: number;
	/** The file or zip entry its records come from. */
	source: string;
	/** The line of its first record in `source` (1-based). */
	firstLine: number;
	gzip: boolean;
}

export interface ChunkInfo extends ChunkStart {
	/** The line of its last record in `source`. */
	lastLine: number;
	records: number;
	/** Bytes of JSON Lines (before compression). */
	bytes: number;
}

const NL = Buffer.from('\n');

/** The chunk's file name: the source's base name, its number and `.jsonl` (`.jsonl.gz`). */
export function chunkFileName(start: ChunkStart): string {
	const base = start.source.split(/[\\/]/).pop() || 'records';
	const stem = base.replace(/\.(jsonl|ndjson|json)(\.gz)?$/i, '') || 'records';
	return `${stem}.${String(start.index).padStart(4, '0')}.jsonl${start.gzip ? '.gz' : ''}`;
}

export function checkRecordsPerChunk(value: number): string | undefined {
	if (!Number.isSafeInteger(value) || value < 1)
		return `records per chunk must be a whole number of at least 1, got ${String(value)}`;
	return undefined;
}

export function checkMaxChunkBytes(value: number): string | undefined {
	if (!Number.isSafeInteger(value) || value < 1)
		return `the chunk size limit must be a whole number of bytes, at least 1, got ${String(value)}`;
	return undefined;
}

/**
 * Cuts `records` into chunks — at most `recordsPerChunk` records and `maxChunkBytes` bytes, of
 * consecutive lines of one source — and hands each to `consume` as a readable stream of JSON Lines
 * (gzip when asked); yields each chunk once `consume` has read it all, with what it holds and what
 * `consume` returned. Stopping the iteration early closes `records`.
 */
export async function* recordChunks<T>(
	records: AsyncIterable<JsonRecord>,
	options: ChunkOptions,
	consume: (stream: Readable, start: ChunkStart) => Promise<T>,
): AsyncGenerator<{ chunk: ChunkInfo; result: T }> {
	const perChunk = options.recordsPerChunk ?? DEFAULT_RECORDS_PER_CHUNK;
	const maxBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
	const problem = checkRecordsPerChunk(perChunk) ?? checkMaxChunkBytes(maxBytes);
	if (problem) throw new RangeError(problem);
	const batchBytes = options.batchBytes ?? 1024 * 1024;
	const gzip = options.gzip === true;
	const iterator = records[Symbol.asyncIterator]();
	/** A record read but not yet written: the first of the next chunk. */
	let held: JsonRecord | undefined;
	let exhausted = false;
	let index = 0;
	try {
		for (;;) {
			if (!held) {
				const next = await iterator.next();
				if (next.done) {
					exhausted = true;
					return;
				}
				held = next.value;
			}
			const start: ChunkStart = { index: ++index, source: held.source, firstLine: held.line, gzip };
			const info: ChunkInfo = { ...start, lastLine: held.line, records: 0, bytes: 0 };
			let failure: { error: unknown } | undefined;
			let complete = false;
			async function* lines(): AsyncGenerator<Buffer> {
				let batch: Buffer[] = [];
				let pending = 0;
				try {
					while (info.records < perChunk) {
						let record = held;
						held = undefined;
						if (!record) {
							const next = await iterator.next();
							if (next.done) {
								exhausted = true;
								break;
							}
							record = next.value;
						}
						if (
							record.source !== info.source ||
							(info.records > 0 &&
								(record.line !== info.lastLine + 1 ||
									info.bytes + record.raw.length + 1 > maxBytes))
						) {
							held = record;
							break;
						}
						info.records++;
						info.lastLine = record.line;
						info.bytes += record.raw.length + 1;
						if (record.raw.length >= batchBytes) {
							// A long record goes out as it is, not copied into a batch.
							if (pending > 0) yield Buffer.concat(batch, pending);
							batch = [];
							pending = 0;
							yield record.raw;
							yield NL;
							continue;
						}
						batch.push(record.raw, NL);
						pending += record.raw.length + 1;
						if (pending >= batchBytes) {
							yield Buffer.concat(batch, pending);
							batch = [];
							pending = 0;
						}
					}
					if (pending > 0) yield Buffer.concat(batch, pending);
					complete = true;
				} catch (error) {
					failure = { error };
					throw error;
				}
			}
			const plain = Readable.from(lines(), { objectMode: false, highWaterMark: batchBytes });
			let stream: Readable = plain;
			let feeding: Promise<void> | undefined;
			if (gzip) {
				const zip = createGzip({ level: CHUNK_GZIP_LEVEL });
				feeding = pipeline(plain, zip);
				// Its failure reaches the consumer through the gzip stream; it is reported below.
				feeding.catch(() => undefined);
				stream = zip;
			}
			let result: T;
			try {
				result = await consume(stream, start);
				if (feeding) await feeding;
			} catch (error) {
				if (failure) throw failure.error;
				throw error;
			}
			if (failure) throw failure.error;
			if (!complete)
				throw new Error(
					`chunk ${index} (${info.source} from line ${info.firstLine}) was not read to its end by its consumer`,
				);
			yield { chunk: info, result };
			if (exhausted && !held) return;
		}
	} finally {
		if (!exhausted) await iterator.return?.(undefined);
	}
}
