import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isCxError } from '../../src/errors';
import fc from 'fast-check';
import {
	blockChunks,
	chunkFileName,
	recordChunks,
	sliceBlocks,
	type ChunkStart,
} from '../../src/jsonl/chunks';
import {
	parseJsonLineBlocks,
	parseJsonLines,
	type JsonRecord,
	type RecordBlock,
} from '../../src/jsonl/records';
import { sliceRecords } from '../../src/pipeline/slice';

async function bytesOf(stream: Readable): Promise<Buffer> {
	return Buffer.concat(await stream.toArray());
}

async function* recordsOf(
	files: Array<{ source: string; text: string }>,
): AsyncGenerator<JsonRecord> {
	for (const file of files)
		yield* parseJsonLines([Buffer.from(file.text)], { source: file.source });
}

function lines(count: number, from = 0): string[] {
	return Array.from(
		{ length: count },
		(_, i) => `{"ID":${from + i},"BIG":12345678901234567890,"S":"a\\u00e9\\n${i}"}`,
	);
}

async function collect(
	records: AsyncIterable<JsonRecord>,
	options: Parameters<typeof recordChunks>[1],
) {
	const out: Array<{ start: ChunkStart; bytes: Buffer }> = [];
	const infos = [];
	for await (const { chunk, result } of recordChunks(records, options, async (stream, start) => ({
		start,
		bytes: await bytesOf(stream),
	}))) {
		out.push(result);
		infos.push(chunk);
	}
	return { out, infos };
}

describe('recordChunks', () => {
	it('cuts records into chunks of N, never across sources, with lines byte for byte as the source wrote them', async () => {
		const a = lines(25_001);
		const b = lines(3, 100_000);
		const files = [
			{ source: 'Interaction-1.json', text: `${a.join('\n')}\n` },
			// A blank line and CRLF: line numbers count the blank line, the \r is not part of the record.
			{ source: 'dir/Contact-1.json', text: `${b[0]}\r\n\n${b[1]}\n${b[2]}` },
		];
		const { out, infos } = await collect(recordsOf(files), {
			recordsPerChunk: 10_000,
			batchBytes: 4096,
		});
		expect(infos.map((c) => [c.index, c.source, c.firstLine, c.lastLine, c.records])).toEqual([
			[1, 'Interaction-1.json', 1, 10_000, 10_000],
			[2, 'Interaction-1.json', 10_001, 20_000, 10_000],
			[3, 'Interaction-1.json', 20_001, 25_001, 5_001],
			// The blank line 2 ends a chunk: a chunk's records are consecutive lines.
			[4, 'dir/Contact-1.json', 1, 1, 1],
			[5, 'dir/Contact-1.json', 3, 4, 2],
		]);
		for (const c of infos) expect(c.lastLine - c.firstLine + 1).toBe(c.records);
		const text = out.map((c) => c.bytes.toString()).join('');
		expect(text).toBe(`${[...a, ...b].join('\n')}\n`);
		for (let i = 0; i < out.length; i++) expect(out[i].bytes.length).toBe(infos[i].bytes);
		expect(out[0].start).toEqual({
			index: 1,
			source: 'Interaction-1.json',
			firstLine: 1,
			gzip: false,
		});
		expect(chunkFileName(out[3].start)).toBe('Contact-1.0004.jsonl');
	});

	it('reads back as the same records', async () => {
		const a = lines(1234);
		const { out } = await collect(recordsOf([{ source: 'x.jsonl', text: a.join('\n') }]), {
			recordsPerChunk: 500,
		});
		const back: string[] = [];
		for (const chunk of out)
			for await (const record of parseJsonLines([chunk.bytes], { source: 'chunk' }))
				back.push(record.raw.toString());
		expect(back).toEqual(a);
	});

	it('gzips each chunk when asked', async () => {
		const a = lines(2500);
		const { out, infos } = await collect(
			recordsOf([{ source: 'Interaction-9.jsonl', text: a.join('\n') }]),
			{ recordsPerChunk: 1000, gzip: true },
		);
		expect(out).toHaveLength(3);
		expect(chunkFileName(out[2].start)).toBe('Interaction-9.0003.jsonl.gz');
		expect(out.map((c) => gunzipSync(c.bytes).toString()).join('')).toBe(`${a.join('\n')}\n`);
		expect(infos.every((c) => c.gzip)).toBe(true);
	});

	it('passes a record longer than a batch as it is', async () => {
		const long = `{"CONTENT":"${'x'.repeat(3 * 1024 * 1024)}"}`;
		const text = [lines(1)[0], long, lines(1, 1)[0]].join('\n');
		const { out } = await collect(recordsOf([{ source: 'a.json', text }]), { recordsPerChunk: 10 });
		expect(out[0].bytes.toString()).toBe(`${text}\n`);
	});

	it('rejects with the parser error (entry and line) when a line is bad mid-chunk, after the complete chunks', async () => {
		const a = lines(30);
		a[24] = '{"ID": oops}';
		const seen: number[] = [];
		const run = (async () => {
			for await (const { chunk } of recordChunks(
				recordsOf([{ source: 'Interaction-2.json', text: a.join('\n') }]),
				{ recordsPerChunk: 10 },
				async (stream) => bytesOf(stream),
			))
				seen.push(chunk.records);
		})();
		const error = await run.catch((e: unknown) => e);
		expect(isCxError(error, 'JSONL_MALFORMED')).toBe(true);
		expect((error as Error).message).toMatch(/^Interaction-2\.json:25: /);
		expect(seen).toEqual([10, 10]);
	});

	it('reports the parser error, not the consumer’s, when the consumer fails because the stream broke (gzip too)', async () => {
		for (const gzip of [false, true]) {
			const a = lines(30);
			a[3] = '[1,2]';
			const chunks = recordChunks(
				recordsOf([{ source: 'c.json', text: a.join('\n') }]),
				{ recordsPerChunk: 10, gzip },
				async (stream) => {
					try {
						return await bytesOf(stream);
					} catch {
						throw new Error('the consumer gave up');
					}
				},
			);
			const error = await (async () => {
				for await (const _ of chunks) void _;
			})().catch((e: unknown) => e);
			expect((error as Error).message).toMatch(/^c\.json:4: expected a JSON object, got an array/);
		}
	});

	it('refuses a chunk its consumer did not read to the end', async () => {
		const chunks = recordChunks(
			recordsOf([{ source: 'd.json', text: lines(3_000).join('\n') }]),
			{ recordsPerChunk: 2_000, batchBytes: 1024 },
			async (stream) => {
				for await (const _ of stream) break;
				return 1;
			},
		);
		await expect(
			(async () => {
				for await (const _ of chunks) void _;
			})(),
		).rejects.toThrow(/chunk 1 \(d\.json from line 1\) was not read to its end/);
	});

	it('closes the records when stopped early, and yields nothing for no records', async () => {
		let closed = false;
		async function* source(): AsyncGenerator<JsonRecord> {
			try {
				yield* recordsOf([{ source: 'e.json', text: lines(100).join('\n') }]);
			} finally {
				closed = true;
			}
		}
		for await (const _ of recordChunks(source(), { recordsPerChunk: 10 }, async (stream) =>
			bytesOf(stream),
		))
			break;
		expect(closed).toBe(true);
		const { infos } = await collect(recordsOf([{ source: 'empty.json', text: '\n\n' }]), {});
		expect(infos).toEqual([]);
	});

	it('refuses a chunk size that is not a whole number of at least 1', async () => {
		for (const recordsPerChunk of [0, -1, 1.5, Number.NaN]) {
			await expect(collect(recordsOf([]), { recordsPerChunk })).rejects.toThrow(
				/records per chunk must be a whole number of at least 1/,
			);
		}
		for (const maxChunkBytes of [0, -5, 2.5, Number.POSITIVE_INFINITY]) {
			await expect(collect(recordsOf([]), { maxChunkBytes })).rejects.toThrow(
				/the chunk size limit must be a whole number of bytes, at least 1/,
			);
		}
	});

	it('ends a chunk before it passes maxChunkBytes; a record bigger than that is a chunk of its own', async () => {
		const small = (i: number) => `{"ID":${i},"T":"${'s'.repeat(84)}"}`; // 100 bytes with its line break
		const huge = `{"ID":"big","CONTENT":"${'A'.repeat(5000)}"}`;
		const text = [small(1), small(2), small(3), small(4), small(5), huge, small(7), small(8)].join(
			'\n',
		);
		const { out, infos } = await collect(
			recordsOf([{ source: 'Interaction-Attachment-1.json', text }]),
			{ recordsPerChunk: 1000, maxChunkBytes: 300 },
		);
		expect(infos.map((c) => [c.firstLine, c.lastLine, c.records, c.bytes])).toEqual([
			[1, 3, 3, 300],
			[4, 5, 2, 200],
			[6, 6, 1, huge.length + 1],
			[7, 8, 2, 200],
		]);
		expect(Buffer.concat(out.map((o) => o.bytes)).toString()).toBe(`${text}\n`);
		// By default, 16 MiB: 10,000 records of 2 KiB become chunks of 8,192 and the rest.
		const wide = Array.from(
			{ length: 10_000 },
			(_, i) => `{"ID":"${String(i).padStart(5, '0')}","T":"${'w'.repeat(2026)}"}`,
		);
		expect(wide[0].length + 1).toBe(2048);
		const byDefault = await collect(
			recordsOf([{ source: 'Interaction-1.json', text: wide.join('\n') }]),
			{},
		);
		expect(byDefault.infos.map((c) => c.records)).toEqual([8192, 1808]);
		expect(byDefault.infos[0].bytes).toBe(16 * 1024 * 1024);
	});
});

describe('blockChunks (chunks from runs of lines, as the worker cuts them)', () => {
	/** The same files as runs of lines, the bytes read `readSize` at a time. */
	async function* blocksOf(
		files: Array<{ source: string; text: string }>,
		readSize: number,
		onError: 'fail' | 'skip',
	): AsyncGenerator<RecordBlock> {
		for (const file of files) {
			const data = Buffer.from(file.text);
			const reads: Buffer[] = [];
			for (let i = 0; i < data.length; i += readSize) reads.push(data.subarray(i, i + readSize));
			yield* parseJsonLineBlocks(reads, { source: file.source, onError });
		}
	}

	async function run<T>(chunks: AsyncIterable<{ chunk: T; result: Buffer }>) {
		const out: Array<{ chunk: T; bytes: string }> = [];
		let error: string | undefined;
		try {
			for await (const { chunk, result } of chunks) out.push({ chunk, bytes: result.toString() });
		} catch (e) {
			error = (e as Error).message;
		}
		return { out, error };
	}

	it('makes the same chunks, bytes and errors as recordChunks over records, whatever the reads, sizes and slice', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(
					fc.record({
						count: fc.integer({ min: 0, max: 40 }),
						damage: fc.constantFrom('', 'blank', 'bad', 'spaced', 'crlf'),
						at: fc.nat(),
					}),
					{ minLength: 1, maxLength: 3 },
				),
				fc.integer({ min: 1, max: 300 }),
				fc.integer({ min: 1, max: 12 }),
				fc.oneof(fc.integer({ min: 40, max: 400 }), fc.constant(1 << 20)),
				fc.nat({ max: 30 }),
				fc.constantFrom(5, 50, Infinity),
				fc.constantFrom<'fail' | 'skip'>('fail', 'skip'),
				async (specs, readSize, perChunk, maxChunkBytes, skip, max, onError) => {
					const files = specs.map(({ count, damage, at }, f) => {
						const rows = lines(count, f * 1000);
						const p = rows.length > 0 ? at % rows.length : 0;
						if (damage === 'blank') rows.splice(p, 0, '  ');
						if (damage === 'bad') rows.splice(p, 0, '{"x":');
						if (damage === 'spaced') rows.splice(p, 0, '{ "x" : 1 }');
						const text = rows.join(damage === 'crlf' ? '\r\n' : '\n');
						return { source: `f${f}.json`, text };
					});
					const options = { recordsPerChunk: perChunk, maxChunkBytes, batchBytes: 64 };
					const consume = async (stream: Readable) => bytesOf(stream);
					async function* records(): AsyncGenerator<JsonRecord> {
						for (const file of files)
							yield* parseJsonLines([Buffer.from(file.text)], {
								source: file.source,
								onError,
								lazyValues: true,
							});
					}
					const want = await run(
						recordChunks(sliceRecords(records(), skip, max), options, consume),
					);
					const got = await run(
						blockChunks(
							sliceBlocks(blocksOf(files, readSize, onError), skip, max),
							options,
							consume,
						),
					);
					expect(got).toEqual(want);
				},
			),
			{ numRuns: 400 },
		);
	});

	it('fills a chunk to exactly maxChunkBytes, and not one byte past it', async () => {
		const row = '{"a":"0123456789"}\n'; // 19 bytes with its line break
		const data = Buffer.from(row.repeat(7));
		for (const [maxChunkBytes, sizes] of [
			[38, [2, 2, 2, 1]],
			[37, [1, 1, 1, 1, 1, 1, 1]],
			[39, [2, 2, 2, 1]],
			[57, [3, 3, 1]],
		] as const) {
			const got: number[] = [];
			for await (const { chunk } of blockChunks(
				parseJsonLineBlocks([data], { source: 'a.json' }),
				{ maxChunkBytes },
				async (stream) => bytesOf(stream),
			))
				got.push(chunk.records);
			expect(got, `maxChunkBytes ${maxChunkBytes}`).toEqual(sizes);
		}
	});

	it('passes a whole read on as one write when it fits the chunk', async () => {
		const data = Buffer.from(`${lines(100).join('\n')}\n`);
		const writes: Buffer[] = [];
		for await (const _ of blockChunks(
			parseJsonLineBlocks([data], { source: 'a.json' }),
			{ recordsPerChunk: 1000, batchBytes: 1024 },
			async (stream) => {
				for await (const piece of stream) writes.push(piece as Buffer);
			},
		))
			void _;
		expect(writes).toHaveLength(1);
		expect(writes[0].buffer).toBe(data.buffer);
	});
});
