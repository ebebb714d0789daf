/**
 * Record chunks made in a worker thread (src/pipeline/inWorker.ts) against the same work done in
 * this thread: same chunks, same bytes, same errors; sources given as files or as streams; the
 * worker ended whatever way the caller stops.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDecryptionKey, type DecryptionKey } from '../../src/cms';
import { CxError, isCxError } from '../../src/errors';
import {
	recordChunks,
	type ChunkInfo,
	type ChunkOptions,
	type ChunkStart,
} from '../../src/jsonl/chunks';
import type { JsonLinesStats } from '../../src/jsonl/records';
import { exportRecords } from '../../src/pipeline/export';
import { fileSource, type ByteSource } from '../../src/pipeline/sources';
import { exportChunksInWorker } from '../../src/pipeline/inWorker';
import { Window } from '../../src/pipeline/workerProtocol';
import { makeExport, makeRecipient, tempDir, type ExportFixture } from '../helpers/fixtures.mjs';

let dir: ReturnType<typeof tempDir>;
let fixture: ExportFixture;
let whole: ExportFixture;
let key: DecryptionKey;

beforeAll(() => {
	dir = tempDir('cx-worker-chunks-');
	const recipient = makeRecipient(dir.path, 'worker');
	key = loadDecryptionKey({ key: recipient.key });
	fixture = makeExport(dir.path, recipient, { records: 6000, split: '1m' });
	whole = makeExport(dir.path, recipient, {
		records: 3000,
		name: 'export-7c1e9b2a-4f3d-4e8a-b5c6-0d9f8e7a6b5c',
	});
}, 120_000);

afterAll(() => dir?.remove());

/** A source that is not a file: its bytes come as a stream (as n8n binary data does), 64 KiB at a time. */
function streamed(source: ByteSource): ByteSource {
	return {
		name: source.name,
		open: () => createReadStream(source.path as string, { highWaterMark: 64 * 1024 }),
	};
}

async function files(paths: string[]): Promise<ByteSource[]> {
	return Promise.all(paths.map((p) => fileSource(p)));
}

const read = async (stream: Readable) => Buffer.concat(await stream.toArray());

async function inThread(
	sources: ByteSource[],
	chunks: ChunkOptions,
	onError: 'fail' | 'skip' = 'fail',
) {
	const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
	const out: Array<{ chunk: ChunkInfo; bytes: Buffer }> = [];
	for await (const { chunk, result } of recordChunks(
		exportRecords(sources, { key, onError, tempDir: dir.path, lazyValues: true }, stats),
		chunks,
		read,
	))
		out.push({ chunk, bytes: result });
	return { out, stats };
}

async function inWorker(
	sources: ByteSource[],
	chunks: ChunkOptions,
	more: { onError?: 'fail' | 'skip'; maxRecords?: number; signal?: AbortSignal } = {},
) {
	const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
	const out: Array<{ chunk: ChunkInfo; bytes: Buffer }> = [];
	for await (const { chunk, result } of exportChunksInWorker(
		sources,
		{ key, tempDir: dir.path, chunks, ...more },
		stats,
		read,
	))
		out.push({ chunk, bytes: result });
	return { out, stats };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
	try {
		await promise;
	} catch (error) {
		return error as Error;
	}
	throw new Error('expected a failure');
}

describe('exportChunksInWorker', () => {
	it('makes the chunks of an encrypted split export exactly as this thread does, from files and from streams', async () => {
		expect(fixture.encryptedParts.length).toBeGreaterThan(1);
		const options = { recordsPerChunk: 1000, maxChunkBytes: 256 * 1024 };
		const expected = await inThread(await files(fixture.encryptedParts), options);
		expect(expected.out.length).toBeGreaterThan(8);
		for (const sources of [
			await files(fixture.encryptedParts),
			(await files(fixture.encryptedParts)).map(streamed),
		]) {
			const got = await inWorker(sources, options);
			expect(got.out.map((c) => c.chunk)).toEqual(expected.out.map((c) => c.chunk));
			expect(
				Buffer.concat(got.out.map((c) => c.bytes)).equals(
					Buffer.concat(expected.out.map((c) => c.bytes)),
				),
			).toBe(true);
			expect(got.stats).toEqual(expected.stats);
		}
		const all = Buffer.concat(expected.out.map((c) => c.bytes)).toString();
		expect(all.split('\n').filter(Boolean)).toHaveLength(fixture.records.length);
	}, 60_000);

	it('reads a plain zip given as a stream, which the pipeline opens twice (what it is, then its entries)', async () => {
		expect(whole.plainParts).toHaveLength(1);
		const source = streamed(await fileSource(whole.plainParts[0]));
		const expected = await inThread([source], { recordsPerChunk: 2500 });
		const got = await inWorker([source], { recordsPerChunk: 2500 });
		expect(got.out.map((c) => c.chunk)).toEqual(expected.out.map((c) => c.chunk));
		expect(
			Buffer.concat(got.out.map((c) => c.bytes)).equals(
				Buffer.concat(expected.out.map((c) => c.bytes)),
			),
		).toBe(true);
		expect(got.stats.records).toBe(whole.records.length);
	}, 60_000);

	it('gzips when asked and stops after maxRecords', async () => {
		const got = await inWorker(
			await files(fixture.encryptedParts),
			{ recordsPerChunk: 700, gzip: true },
			{ maxRecords: 1500 },
		);
		expect(got.out.map((c) => c.chunk.records)).toEqual([700, 700, 100]);
		const lines = got.out.flatMap((c) =>
			gunzipSync(c.bytes).toString().split('\n').filter(Boolean),
		);
		expect(lines.map((l) => JSON.parse(l))).toEqual(fixture.records.slice(0, 1500));
	}, 60_000);

	it('fails as this thread fails: a malformed line names its file and line; with skip, the stats say what was skipped', async () => {
		const good = '{"ID":1}\n'.repeat(50);
		const path = join(dir.path, 'Interaction-bad.json');
		writeFileSync(path, `${good}{"ID":2,oops}\n${good}`);
		const expected = await failure(inThread([await fileSource(path)], { recordsPerChunk: 10 }));
		const got = await failure(inWorker([await fileSource(path)], { recordsPerChunk: 10 }));
		expect(isCxError(got)).toBe(true);
		expect((got as CxError).code).toBe('JSONL_MALFORMED');
		expect(got.message).toBe(expected.message);
		expect(got.message).toContain('Interaction-bad.json:51');

		// The chunk the bad line cuts short is never handed over as complete: its stream fails.
		const outcomes: string[] = [];
		const watching = async (stream: Readable) => {
			try {
				await read(stream);
				outcomes.push('ended');
			} catch {
				outcomes.push('failed');
			}
		};
		const stopped = await failure(
			(async () => {
				for await (const _ of exportChunksInWorker(
					[await fileSource(path)],
					{ chunks: { recordsPerChunk: 100 } },
					{ records: 0, skipped: 0, lines: 0 },
					watching,
				));
			})(),
		);
		expect((stopped as CxError).code).toBe('JSONL_MALFORMED');
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(outcomes).toEqual(['failed']);

		const skipped = await inWorker(
			[await fileSource(path)],
			{ recordsPerChunk: 10 },
			{ onError: 'skip' },
		);
		expect(skipped.stats.skipped).toBe(1);
		expect(skipped.stats.firstSkipped).toContain('Interaction-bad.json:51');
		expect(skipped.out.reduce((n, c) => n + c.chunk.records, 0)).toBe(100);
	}, 60_000);

	it('passes on the failure of a source stream, and of the consumer', async () => {
		const [first, ...rest] = await files(fixture.encryptedParts);
		const broken: ByteSource = {
			name: first.name,
			open: async function* () {
				yield Buffer.from('MIME-Version: 1.0\r\n');
				throw new CxError('DOWNLOAD', `${first.name}: the connection broke`);
			},
		};
		const error = await failure(inWorker([broken, ...rest], { recordsPerChunk: 1000 }));
		expect((error as CxError).code).toBe('DOWNLOAD');
		expect(error.message).toContain('the connection broke');

		const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
		const consumer = async (stream: Readable) => {
			for await (const _ of stream) throw new Error('the binary data store is full');
		};
		const thrown = await failure(
			(async () => {
				for await (const _ of exportChunksInWorker(
					await files(fixture.encryptedParts),
					{ key, tempDir: dir.path, chunks: { recordsPerChunk: 1000 } },
					stats,
					consumer,
				));
			})(),
		);
		expect(thrown.message).toBe('the binary data store is full');
	}, 60_000);

	it('cuts the next chunk while the one before is still being stored, and yields them in order', async () => {
		const sources = await files(fixture.encryptedParts);
		const options = { recordsPerChunk: 500 };
		const expected = await inThread(sources, options);
		// As n8n stores into the database: the whole chunk read first, then a slow insert.
		const events: string[] = [];
		let started = 0;
		let secondRead = () => {};
		const second = new Promise<void>((resolve) => (secondRead = resolve));
		const store = async (stream: Readable, start: ChunkStart) => {
			started++;
			events.push(`start ${start.index}`);
			const bytes = await read(stream);
			events.push(`read ${start.index}`);
			if (start.index === 2) secondRead();
			// Chunk 1 is stored only once chunk 2 is read whole (or after 5 s, failing below).
			if (start.index === 1)
				await Promise.race([second, new Promise((resolve) => setTimeout(resolve, 5000))]);
			await new Promise((resolve) => setTimeout(resolve, 30));
			events.push(`stored ${start.index}`);
			return bytes;
		};
		const out: Array<{ chunk: ChunkInfo; bytes: Buffer }> = [];
		for await (const { chunk, result } of exportChunksInWorker(
			sources,
			{ key, tempDir: dir.path, chunks: options },
			{ records: 0, skipped: 0, lines: 0 },
			store,
		))
			out.push({ chunk, bytes: result });
		expect(out.map((c) => c.chunk)).toEqual(expected.out.map((c) => c.chunk));
		expect(
			Buffer.concat(out.map((c) => c.bytes)).equals(
				Buffer.concat(expected.out.map((c) => c.bytes)),
			),
		).toBe(true);
		expect(started).toBe(expected.out.length);
		// Chunk k + 1 streams while chunk k is stored; chunk k + 2 ends only once chunk k is stored:
		// at most two stores at once.
		for (let k = 1; k < out.length; k++) {
			expect(events.indexOf(`start ${k + 1}`)).toBeLessThan(events.indexOf(`stored ${k}`));
			if (k + 2 <= out.length)
				expect(events.indexOf(`read ${k + 2}`)).toBeGreaterThan(events.indexOf(`stored ${k}`));
		}
		expect(events.some((e, i) => e === 'read 2' && i < events.indexOf('stored 1'))).toBe(true);

		// A store that fails after its chunk was read fails the whole, and nothing runs on after.
		let after = 0;
		const failing = async (stream: Readable, start: ChunkStart) => {
			const bytes = await read(stream);
			await new Promise((resolve) => setTimeout(resolve, 20));
			if (start.index === 3) throw new Error('the database refused chunk 3');
			after++;
			return bytes;
		};
		const yielded: number[] = [];
		const error = await failure(
			(async () => {
				for await (const { chunk } of exportChunksInWorker(
					sources,
					{ key, tempDir: dir.path, chunks: options },
					{ records: 0, skipped: 0, lines: 0 },
					failing,
				))
					yielded.push(chunk.index);
			})(),
		);
		expect(error.message).toBe('the database refused chunk 3');
		expect(yielded).toEqual([1, 2]);
		const settled = after;
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(after).toBe(settled);
	}, 60_000);

	it('ends the worker when the caller stops early or cancels', async () => {
		let taken = 0;
		for await (const { chunk } of exportChunksInWorker(
			await files(fixture.encryptedParts),
			{ key, tempDir: dir.path, chunks: { recordsPerChunk: 100 } },
			{ records: 0, skipped: 0, lines: 0 },
			read,
		)) {
			taken += chunk.records;
			if (taken >= 300) break;
		}
		expect(taken).toBe(300);

		const controller = new AbortController();
		const slow = async (stream: Readable) => {
			controller.abort();
			return read(stream);
		};
		const error = await failure(
			(async () => {
				for await (const _ of exportChunksInWorker(
					await files(fixture.encryptedParts),
					{ key, tempDir: dir.path, chunks: { recordsPerChunk: 100 }, signal: controller.signal },
					{ records: 0, skipped: 0, lines: 0 },
					slow,
				));
			})(),
		);
		expect((error as CxError).code).toBe('CANCELLED');
	}, 60_000);
});

describe('Window', () => {
	it('lets at most its limit be in flight, and one piece larger than the limit alone', async () => {
		const window = new Window(100);
		await window.take(60);
		let second = false;
		const waiting = window.take(60).then(() => (second = true));
		await new Promise((resolve) => setTimeout(resolve, 10));
		expect(second).toBe(false);
		window.release(60);
		await waiting;
		expect(second).toBe(true);
		window.release(60);
		await window.take(500);
		window.release(500);
	});
});
