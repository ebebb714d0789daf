/**
 * Real-size outputs through the n8n harness: Parse JSON Lines with 300,000 records as items (no
 * item-count limit) and as Record Chunks, chunks read back as records, gzip; Reassemble Export's
 * chunks on a split export made by `zip -s` and `openssl smime`.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { INodeExecutionData } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { SmimeKeyApi } from '../../credentials/SmimeKeyApi.credentials';
import { ParseJsonLines } from '../../nodes/ParseJsonLines/ParseJsonLines.node';
import { ReassembleExport } from '../../nodes/ReassembleExport/ReassembleExport.node';
import {
	makeExport,
	makeRecipient,
	tempDir,
	type ExportFixture,
	type Recipient,
} from '../helpers/fixtures.mjs';
import { createHarness, type Harness, type HarnessOptions } from './harness';

const RECORDS = 300_000;
let big: Buffer;
let dir: ReturnType<typeof tempDir>;
let alice: Recipient;
let split: ExportFixture;
let plain: ExportFixture;
const harnesses: Harness[] = [];

/** Line i of the big file: a 64-bit number and escapes that must survive byte for byte. */
function line(i: number): string {
	return `{"IXNID":"ix-${i}","N":${i},"BIG":9007199254740993${i % 10},"SUBJECT":"R\\u00e9 ${i} \\"q\\"","STATUS":${i % 4}}`;
}

beforeAll(() => {
	const lines: string[] = [];
	for (let i = 0; i < RECORDS; i++) lines.push(line(i));
	big = Buffer.from(`${lines.join('\n')}\n`);
	dir = tempDir('cx-nodes-chunks-');
	alice = makeRecipient(dir.path, 'alice');
	split = makeExport(dir.path, alice, { records: 2400, split: '64k' });
	plain = makeExport(dir.path, alice, {
		records: 3000,
		name: 'export-5f0c2a8e-1d3b-4c6a-9e7f-2b8d4a6c0e1f',
	});
}, 120_000);

afterAll(async () => {
	for (const h of harnesses) await h.close();
	dir.remove();
});

async function harness(options: HarnessOptions): Promise<Harness> {
	const h = await createHarness(options);
	harnesses.push(h);
	return h;
}

async function fileItem(h: Harness, bytes: Buffer, fileName: string): Promise<INodeExecutionData> {
	return { json: {}, binary: { data: await h.binary.fromBuffer(bytes, fileName) } };
}

async function chunkText(h: Harness, item: INodeExecutionData, field = 'data'): Promise<string> {
	const binary = item.binary?.[field];
	if (!binary) throw new Error(`no binary field ${field}`);
	const bytes = await h.binary.buffer(binary);
	return (binary.fileName?.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

describe('Parse JSON Lines at real size', () => {
	it('gives 300,000 records as 300,000 items, every one in order and paired', async () => {
		const h = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { options: { includeSource: true } },
		});
		const [out] = await h.execute([await fileItem(h, big, 'Interaction-1.json')]);
		expect(out).toHaveLength(RECORDS);
		for (let i = 0; i < RECORDS; i++) {
			const { json, pairedItem } = out[i];
			if (
				json.N !== i ||
				json.IXNID !== `ix-${i}` ||
				json._line !== i + 1 ||
				json._source !== 'Interaction-1.json' ||
				(pairedItem as { item: number }).item !== 0
			) {
				throw new Error(`record ${i} is wrong: ${JSON.stringify(json)}`);
			}
		}
	}, 120_000);

	it('writes 300,000 records as 30 chunks of 10,000 whose lines are the file’s bytes, and reads them back as the same records', async () => {
		const h = await harness({ nodeType: new ParseJsonLines(), parameters: { output: 'chunks' } });
		const [chunks] = await h.execute([
			await fileItem(h, big, 'Interaction-1.json'),
			await fileItem(h, Buffer.from(`${line(7)}\n`), 'Contact-1.jsonl'),
		]);
		expect(chunks).toHaveLength(31);
		expect(chunks.map((c) => c.json.records)).toEqual([...Array(30).fill(10_000), 1]);
		expect(chunks[0].json).toMatchObject({
			fileName: 'Interaction-1.0001.jsonl',
			chunk: 1,
			source: 'Interaction-1.json',
			firstLine: 1,
			lastLine: 10_000,
			gzip: false,
		});
		expect(chunks[29].json).toMatchObject({ chunk: 30, firstLine: 290_001, lastLine: 300_000 });
		expect(chunks[30].json).toMatchObject({
			fileName: 'Contact-1.0001.jsonl',
			source: 'Contact-1.jsonl',
			records: 1,
		});
		expect(chunks.slice(0, 30).every((c) => JSON.stringify(c.pairedItem) === '{"item":0}')).toBe(
			true,
		);
		expect(chunks[30].pairedItem).toEqual({ item: 1 });
		expect(chunks[0].binary?.data.mimeType).toBe('application/x-ndjson');
		let text = '';
		for (const chunk of chunks.slice(0, 30)) text += await chunkText(h, chunk);
		expect(createHash('sha256').update(text).digest('hex')).toBe(
			createHash('sha256').update(big).digest('hex'),
		);

		// A chunk in, its records out: 30 items in, 300,000 records out.
		const back = await harness({
			nodeType: new ParseJsonLines(),
			parameters: {},
			binaryDir: h.binary.dir,
		});
		const [records] = await back.execute(chunks.slice(0, 30));
		expect(records).toHaveLength(RECORDS);
		for (let i = 0; i < RECORDS; i += 997) expect(records[i].json).toEqual(JSON.parse(line(i)));
		expect(records[RECORDS - 1].pairedItem).toEqual({ item: 29 });
	}, 120_000);

	it('gzips chunks when asked; Parse JSON Lines reads the .jsonl.gz back', async () => {
		const h = await harness({
			nodeType: new ParseJsonLines(),
			parameters: {
				output: 'chunks',
				recordsPerChunk: 40_000,
				gzipChunks: true,
				outputBinaryPropertyName: 'chunk',
				options: { maxRecords: 100_000, skipRecords: 5 },
			},
		});
		const [chunks] = await h.execute([await fileItem(h, big, 'Interaction-1.json')]);
		expect(chunks.map((c) => [c.json.fileName, c.json.firstLine, c.json.records])).toEqual([
			['Interaction-1.0001.jsonl.gz', 6, 40_000],
			['Interaction-1.0002.jsonl.gz', 40_006, 40_000],
			['Interaction-1.0003.jsonl.gz', 80_006, 20_000],
		]);
		expect(chunks[0].binary?.chunk.mimeType).toBe('application/gzip');
		const back = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { binaryPropertyName: 'chunk' },
			binaryDir: h.binary.dir,
		});
		const [records] = await back.execute(chunks);
		expect(records).toHaveLength(100_000);
		expect(records[0].json).toEqual(JSON.parse(line(5)));
		expect(records[99_999].json).toEqual(JSON.parse(line(100_004)));
	}, 120_000);

	it("turns each gzipped chunk into JSON Lines text (the chunk's plain bytes), keeping the chunk's fields, for a one-statement load", async () => {
		const h = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { output: 'chunks', gzipChunks: true, outputBinaryPropertyName: 'chunk' },
		});
		const [chunks] = await h.execute([await fileItem(h, big, 'Interaction-1.json')]);
		expect(chunks).toHaveLength(30);
		const text = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { binaryPropertyName: 'chunk', output: 'text' },
			binaryDir: h.binary.dir,
		});
		const [out] = await text.execute(chunks);
		expect(out).toHaveLength(30);
		let joined = '';
		for (let i = 0; i < 30; i++) {
			expect(out[i].binary).toBeUndefined();
			expect(out[i].pairedItem).toEqual({ item: i });
			const { lines, ...fields } = out[i].json;
			expect(fields).toEqual(chunks[i].json);
			expect(lines).toBe(await chunkText(h, chunks[i], 'chunk'));
			joined += lines as string;
		}
		expect(joined).toBe(big.toString('utf8'));

		const lines = Array.from({ length: 5 }, (_, i) => line(i));
		lines[3] = '{"IXNID": "x", oops}';
		const broken = Buffer.from(`${lines.join('\r\n')}\r\n`);
		const named = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { output: 'text', textField: 'body' },
		});
		await expect(named.execute([await fileItem(named, broken, 'Contact-1.jsonl')])).rejects.toThrow(
			/Contact-1\.jsonl:4: /,
		);
		const skipping = await harness({
			nodeType: new ParseJsonLines(),
			parameters: {
				output: 'text',
				textField: 'body',
				options: { onError: 'skip', skippedOnLastItem: true },
			},
		});
		const [skipped] = await skipping.execute([
			{ ...(await fileItem(skipping, broken, 'Contact-1.jsonl')), json: { batch: 7 } },
		]);
		expect(skipped).toHaveLength(1);
		expect(skipped[0].json).toMatchObject({
			batch: 7,
			body: `${[0, 1, 2, 4].map(line).join('\n')}\n`,
			skippedLines: 1,
		});
		// Skip and Max Records count records, bad lines go to the error output.
		const sliced = await harness({
			nodeType: new ParseJsonLines(),
			parameters: {
				output: 'text',
				options: { onError: 'output', skipRecords: 1, maxRecords: 2 },
			},
		});
		const [head, headErrors] = await sliced.execute([
			await fileItem(sliced, broken, 'Contact-1.jsonl'),
		]);
		expect(head).toHaveLength(1);
		expect(head[0].json.lines).toBe(`${[1, 2].map(line).join('\n')}\n`);
		expect(headErrors).toEqual([]);
		const [lf, none] = await sliced.execute([
			await fileItem(sliced, Buffer.from(`${lines.join('\n')}\n`), 'Contact-2.jsonl'),
		]);
		expect(lf[0].json.lines).toBe(`${[1, 2].map(line).join('\n')}\n`);
		expect(none).toEqual([]);
		const tail = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { output: 'text', options: { onError: 'output', skipRecords: 2 } },
		});
		const [late, lateErrors] = await tail.execute([
			await fileItem(tail, broken, 'Contact-1.jsonl'),
		]);
		expect(late[0].json.lines).toBe(`${[2, 4].map(line).join('\n')}\n`);
		expect(lateErrors).toHaveLength(1);
		expect(lateErrors[0].json).toMatchObject({ source: 'Contact-1.jsonl', line: 4 });
	}, 120_000);

	it('ends chunks at Max Chunk Size (MiB) too, and refuses a size that is not positive', async () => {
		const text = Buffer.from(`${Array.from({ length: 50 }, (_, i) => line(i)).join('\n')}\n`);
		const h = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { output: 'chunks', maxChunkMiB: 1024 / (1024 * 1024) },
		});
		const [chunks] = await h.execute([await fileItem(h, text, 'Interaction-1.json')]);
		expect(chunks.length).toBeGreaterThan(3);
		expect(chunks.every((c) => Number(c.json.bytes) <= 1024)).toBe(true);
		expect(chunks.reduce((sum, c) => sum + Number(c.json.records), 0)).toBe(50);
		for (const maxChunkMiB of [0, -1]) {
			const bad = await harness({
				nodeType: new ParseJsonLines(),
				parameters: { output: 'chunks', maxChunkMiB },
			});
			await expect(bad.execute([await fileItem(bad, text, 'Interaction-1.json')])).rejects.toThrow(
				`Max Chunk Size (MiB): must be a positive number, got ${maxChunkMiB}`,
			);
		}
	});

	it('refuses a damaged .jsonl.gz chunk with a message naming it, and passes no record of it on', async () => {
		const whole = gzipSync(Buffer.from(`${line(0)}\n${line(1)}\n${line(2)}\n`));
		const cut = whole.subarray(0, whole.length - 12);
		const garbled = Buffer.from(whole);
		garbled.fill(0x41, 20, 60);
		for (const [bytes, reason] of [
			[
				cut,
				/Interaction-1\.0001\.jsonl\.gz: not a readable gzip file: it ends before its end \(cut short\)/,
			],
			[garbled, /Interaction-1\.0001\.jsonl\.gz: not a readable gzip file: /],
		] as const) {
			const h = await harness({ nodeType: new ParseJsonLines(), parameters: {} });
			await expect(
				h.execute([await fileItem(h, bytes, 'Interaction-1.0001.jsonl.gz')]),
			).rejects.toThrow(reason);
			const soft = await harness({
				nodeType: new ParseJsonLines(),
				parameters: {},
				continueOnFail: true,
			});
			const [out] = await soft.execute([
				await fileItem(soft, bytes, 'Interaction-1.0001.jsonl.gz'),
			]);
			expect(out).toHaveLength(1);
			expect(out[0].json).toEqual({
				error: expect.stringMatching(reason),
				errorDescription: 'Where: Interaction-1.0001.jsonl.gz (IO)',
			});
		}
	});

	it('fails naming the line, and passes no chunk on, when a line is malformed; skips it when told', async () => {
		const lines = big.toString('utf8').split('\n');
		lines[150_000] = '{"IXNID": "x", oops}';
		const broken = Buffer.from(lines.join('\n'));
		const failing = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { output: 'chunks' },
		});
		await expect(
			failing.execute([await fileItem(failing, broken, 'Interaction-1.json')]),
		).rejects.toThrow(/Interaction-1\.json:150001: /);

		const continuing = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { output: 'chunks' },
			continueOnFail: true,
		});
		const [out] = await continuing.execute([
			await fileItem(continuing, broken, 'Interaction-1.json'),
		]);
		expect(out).toHaveLength(1);
		expect(out[0].json.error).toMatch(/Interaction-1\.json:150001: /);

		const skipping = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { output: 'chunks', options: { onError: 'skip' } },
		});
		const [chunks] = await skipping.execute([
			await fileItem(skipping, broken, 'Interaction-1.json'),
		]);
		expect(chunks.map((c) => c.json.records)).toEqual([...Array(29).fill(10_000), 9_999]);
		expect(chunks[15].json).toMatchObject({
			firstLine: 150_002,
			lastLine: 160_001,
			records: 10_000,
		});
		expect(chunks[29].json.skippedLines).toBeUndefined();
		expect(skipping.hints).toEqual([
			{ type: 'info', location: 'outputPane', message: '299,999 records in 30 chunks' },
			{
				type: 'warning',
				location: 'outputPane',
				message: expect.stringMatching(
					/^1 malformed line was skipped; the first: Interaction-1\.json:150001: /,
				),
			},
		]);
		const marking = await harness({
			nodeType: new ParseJsonLines(),
			parameters: { output: 'chunks', options: { onError: 'skip', skippedOnLastItem: true } },
		});
		const [marked] = await marking.execute([await fileItem(marking, broken, 'Interaction-1.json')]);
		expect(marked[29].json).toMatchObject({
			skippedLines: 1,
			firstSkipped: expect.stringMatching(/^Interaction-1\.json:150001: /),
		});
	}, 120_000);
});

describe('Parse JSON Lines chunks and records agree', () => {
	it('gives the same records as chunks (made in a worker thread) as as items, with Skip, Max Records and Entries; and with bad lines as items (made here)', async () => {
		const zip = readFileSync(plain.plainParts[0]);
		const names = Object.keys(plain.files);
		for (const options of [
			{ skipRecords: 1500, maxRecords: 1200 },
			{ entries: 'Contact-*' },
			{ onError: 'output', maxRecords: 2500 },
		]) {
			const chunker = await harness({
				nodeType: new ParseJsonLines(),
				parameters: { output: 'chunks', recordsPerChunk: 500, options },
			});
			const [chunks] = await chunker.execute([
				await fileItem(chunker, zip, `${plain.exportName}.zip`),
			]);
			const lines: string[] = [];
			for (const chunk of chunks)
				lines.push(...(await chunkText(chunker, chunk)).split('\n').filter(Boolean));
			const reader = await harness({
				nodeType: new ParseJsonLines(),
				parameters: { output: 'records', options },
			});
			const [records] = await reader.execute([
				await fileItem(reader, zip, `${plain.exportName}.zip`),
			]);
			expect(records.length).toBeGreaterThan(0);
			expect(lines.map((l) => JSON.parse(l))).toEqual(records.map((r) => r.json));
			if ('entries' in options) expect(chunks.every((c) => c.json.source === names[1])).toBe(true);
		}
	}, 120_000);
});

describe('Reassemble Export as Record Chunks', () => {
	it('turns encrypted split parts (zip -s, openssl smime) into chunks of each entry’s records, in archive order', async () => {
		const h = await harness({
			nodeType: new ReassembleExport(),
			parameters: { output: 'chunks', recordsPerChunk: 1000 },
			credentials: {
				smimeKeyApi: { type: new SmimeKeyApi(), data: { privateKey: alice.key.toString('utf8') } },
			},
		});
		const items = await Promise.all(
			split.encryptedParts.map(async (p) => fileItem(h, readFileSync(p), p.split('/').pop() ?? p)),
		);
		expect(items.length).toBeGreaterThanOrEqual(4);
		const [chunks] = await h.execute(items);
		const names = Object.keys(split.files);
		expect(chunks.map((c) => [c.json.source, c.json.firstLine, c.json.records])).toEqual([
			[names[0], 1, 1000],
			[names[0], 1001, 1000],
			[names[0], 2001, 400],
			[names[1], 1, 600],
		]);
		expect(chunks.every((c) => c.json.exportName === split.exportName)).toBe(true);
		expect(chunks[0].pairedItem).toEqual(items.map((_, item) => ({ item })));
		const bySource = new Map<string, string>();
		for (const chunk of chunks)
			bySource.set(
				String(chunk.json.source),
				(bySource.get(String(chunk.json.source)) ?? '') + (await chunkText(h, chunk)),
			);
		for (const name of names) expect(bySource.get(name)).toBe(split.files[name].toString('utf8'));
	}, 120_000);
});
