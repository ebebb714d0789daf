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
import type { JsonRecord, RecordBlock } from './records';

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

const LF = 0x0a;

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

/** The first `records` records of `block` (at least 1) and what is left, if anything. */
export function splitBlock(
	block: RecordBlock,
	records: number,
): [RecordBlock, RecordBlock | undefined] {
	if (records >= block.records) return [block, undefined];
	let cut = 0;
	for (let k = 0; k < records; k++) cut = block.bytes.indexOf(LF, cut) + 1;
	return [
		{ ...block, bytes: block.bytes.subarray(0, cut), records },
		{
			bytes: block.bytes.subarray(cut),
			source: block.source,
			firstLine: block.firstLine + records,
			records: block.records - records,
		},
	];
}

/**
 * How many of `block`'s first records fit in `maxRecords` records and `maxBytes` bytes; at least
 * one when `atLeastOne` (the first record of a chunk goes in whatever its size).
 */
function fitting(
	block: RecordBlock,
	maxRecords: number,
	maxBytes: number,
	atLeastOne: boolean,
): number {
	if (block.records <= maxRecords && block.bytes.length <= maxBytes) return block.records;
	let k = 0;
	let end = 0;
	while (k < maxRecords && k < block.records) {
		const next = block.bytes.indexOf(LF, end) + 1;
		if (next > maxBytes && !(atLeastOne && k === 0)) break;
		end = next;
		k++;
	}
	return k;
}

/** Blocks after the first `skip` records, with at most `max` records in all. */
export async function* sliceBlocks(
	blocks: AsyncIterable<RecordBlock>,
	skip: number,
	max: number,
): AsyncGenerator<RecordBlock> {
	if (max <= 0) return;
	let toSkip = skip;
	let left = max;
	for await (let block of blocks) {
		if (toSkip > 0) {
			if (block.records <= toSkip) {
				toSkip -= block.records;
				continue;
			}
			block = splitBlock(block, toSkip)[1] as RecordBlock;
			toSkip = 0;
		}
		const [head] = splitBlock(block, left);
		yield head;
		left -= head.records;
		if (left <= 0) return;
	}
}

/**
 * Records as blocks of one line each, for recordChunks over records that were read one by one
 * (blockChunks batches them into its writes). One record at a time: nothing is read ahead of
 * the chunk being written, so a chunk is whole before a later bad line is met.
 */
export async function* blocksOfRecords(
	records: AsyncIterable<JsonRecord>,
): AsyncGenerator<RecordBlock> {
	for await (const record of records) {
		const bytes = Buffer.allocUnsafe(record.raw.length + 1);
		record.raw.copy(bytes);
		bytes[record.raw.length] = LF;
		yield { bytes, source: record.source, firstLine: record.line, records: 1 };
	}
}

/**
 * Cuts `records` into chunks — at most `recordsPerChunk` records and `maxChunkBytes` bytes, of
 * consecutive lines of one source — and hands each to `consume` as a readable stream of JSON Lines
 * (gzip when asked); yields each chunk once `consume` has read it all, with what it holds and what
 * `consume` returned. Stopping the iteration early closes `records`.
 */
export function recordChunks<T>(
	records: AsyncIterable<JsonRecord>,
	options: ChunkOptions,
	consume: (stream: Readable, start: ChunkStart) => Promise<T>,
): AsyncGenerator<{ chunk: ChunkInfo; result: T }> {
	return blockChunks(blocksOfRecords(records), options, consume);
}

/**
 * recordChunks over blocks of lines (exportRecordBlocks): a block's bytes go into its chunk as
 * they are, cut only where a chunk ends. Stopping the iteration early closes `blocks`.
 */
export async function* blockChunks<T>(
	blocks: AsyncIterable<RecordBlock>,
	options: ChunkOptions,
	consume: (stream: Readable, start: ChunkStart) => Promise<T>,
): AsyncGenerator<{ chunk: ChunkInfo; result: T }> {
	const perChunk = options.recordsPerChunk ?? DEFAULT_RECORDS_PER_CHUNK;
	const maxBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
	const problem = checkRecordsPerChunk(perChunk) ?? checkMaxChunkBytes(maxBytes);
	if (problem) throw new RangeError(problem);
	const batchBytes = options.batchBytes ?? 1024 * 1024;
	const gzip = options.gzip === true;
	const iterator = blocks[Symbol.asyncIterator]();
	/** Records read but not yet written: the first of the next chunk. */
	let held: RecordBlock | undefined;
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
			const start: ChunkStart = {
				index: ++index,
				source: held.source,
				firstLine: held.firstLine,
				gzip,
			};
			const info: ChunkInfo = { ...start, lastLine: held.firstLine, records: 0, bytes: 0 };
			let failure: { error: unknown } | undefined;
			let complete = false;
			async function* lines(): AsyncGenerator<Buffer> {
				let batch: Buffer[] = [];
				let pending = 0;
				try {
					while (info.records < perChunk) {
						let block = held;
						held = undefined;
						if (!block) {
							const next = await iterator.next();
							if (next.done) {
								exhausted = true;
								break;
							}
							block = next.value;
						}
						if (
							block.source !== info.source ||
							(info.records > 0 && block.firstLine !== info.lastLine + 1)
						) {
							held = block;
							break;
						}
						const k = fitting(
							block,
							perChunk - info.records,
							maxBytes - info.bytes,
							info.records === 0,
						);
						if (k === 0) {
							held = block;
							break;
						}
						const [take, rest] = splitBlock(block, k);
						info.records += take.records;
						info.lastLine = take.firstLine + take.records - 1;
						info.bytes += take.bytes.length;
						if (take.bytes.length >= batchBytes) {
							// A large block goes out as it is, not copied into a batch.
							if (pending > 0) yield Buffer.concat(batch, pending);
							batch = [];
							pending = 0;
							yield take.bytes;
						} else {
							batch.push(take.bytes);
							pending += take.bytes.length;
							if (pending >= batchBytes) {
								yield Buffer.concat(batch, pending);
								batch = [];
								pending = 0;
							}
						}
						if (rest) {
							held = rest;
							break;
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
