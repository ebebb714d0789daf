/**
 * The pipeline nodes (Decrypt S/MIME, Reassemble Export, Parse JSON Lines) run through the n8n
 * harness on exports made by the real tools: `zip -s` split parts encrypted with `openssl smime`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { INodeExecutionData } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmimeKeyApi } from '../../credentials/SmimeKeyApi.credentials';
import { ParseJsonLines } from '../../nodes/ParseJsonLines/ParseJsonLines.node';
import { ReassembleExport } from '../../nodes/ReassembleExport/ReassembleExport.node';
import { SmimeDecrypt } from '../../nodes/SmimeDecrypt/SmimeDecrypt.node';
import {
	makeExport,
	makeRecipient,
	tempDir,
	type ExportFixture,
	type Recipient,
} from '../helpers/fixtures.mjs';
import { createHarness, type Harness, type HarnessOptions } from './harness';

let dir: ReturnType<typeof tempDir>;
let alice: Recipient;
let bob: Recipient;
let split: ExportFixture;
let second: ExportFixture;
let whole: ExportFixture;
const harnesses: Harness[] = [];

beforeAll(() => {
	dir = tempDir('cx-nodes-pipeline-');
	alice = makeRecipient(dir.path, 'alice');
	bob = makeRecipient(dir.path, 'bob');
	split = makeExport(dir.path, alice, { records: 2400, split: '256k' });
	second = makeExport(dir.path, alice, {
		records: 300,
		split: '64k',
		name: 'export-0a0a0a0a-1111-2222-3333-444444444444',
	});
	whole = makeExport(dir.path, alice, {
		records: 500,
		name: 'export-ffffffff-1111-2222-3333-444444444444',
	});
}, 120_000);

afterAll(async () => {
	for (const h of harnesses) await h.close();
	dir.remove();
});

function keyCredential(recipient: Recipient) {
	return {
		smimeKeyApi: { type: new SmimeKeyApi(), data: { privateKey: recipient.key.toString('utf8') } },
	};
}

async function harness(options: HarnessOptions): Promise<Harness> {
	const h = await createHarness(options);
	harnesses.push(h);
	return h;
}

const base = (path: string) => path.split('/').pop() ?? path;

/** Items holding files, one per item under `data` (or all on one item when `onOneItem`). */
async function fileItems(
	h: Harness,
	paths: string[],
	onOneItem = false,
): Promise<INodeExecutionData[]> {
	const binaries = await Promise.all(
		paths.map((p) => h.binary.fromBuffer(readFileSync(p), base(p))),
	);
	if (onOneItem)
		return [
			{
				json: { source: 'one' },
				binary: Object.fromEntries(binaries.map((b, i) => [`part${i}`, b])),
			},
		];
	return binaries.map((binary, i) => ({ json: { i }, binary: { data: binary } }));
}

async function bytesOf(h: Harness, item: INodeExecutionData, field = 'data'): Promise<Buffer> {
	const binary = item.binary?.[field];
	if (!binary) throw new Error(`no binary ${field}`);
	return h.binary.buffer(binary);
}

function shuffled<T>(list: T[]): T[] {
	return list
		.map((v, i) => ({ v, k: (i * 7919) % 13 }))
		.sort((a, b) => a.k - b.k)
		.map(({ v }) => v);
}

describe('Decrypt S/MIME node', () => {
	// Binary data as files (n8n's filesystem mode: the worker thread reads them itself) and as streams
	// only (database and S3 modes: this thread feeds the worker).
	it.each([true, false])(
		'decrypts every part byte for byte, names it without .smime and keeps the item JSON (binary data as files: %s)',
		async (binaryPaths) => {
			const h = await harness({
				nodeType: new SmimeDecrypt(),
				parameters: {},
				credentials: keyCredential(alice),
				binaryPaths,
			});
			expect(split.encryptedParts.length).toBeGreaterThanOrEqual(4);
			const [out] = await h.execute(await fileItems(h, split.encryptedParts));
			expect(out).toHaveLength(split.encryptedParts.length);
			for (let i = 0; i < out.length; i++) {
				expect(out[i].pairedItem).toEqual({ item: i });
				expect(out[i].json).toEqual({ i });
				expect(out[i].binary?.data.fileName).toBe(base(split.plainParts[i]));
				expect(out[i].binary?.data.mimeType).toBe('application/zip');
				expect((await bytesOf(h, out[i])).equals(readFileSync(split.plainParts[i]))).toBe(true);
			}
		},
	);

	it('decrypts several binary fields of one item, into prefixed fields when asked', async () => {
		const h = await harness({
			nodeType: new SmimeDecrypt(),
			parameters: { binaryPropertyName: '', options: { outputBinaryPropertyName: 'plain_' } },
			credentials: keyCredential(alice),
		});
		const [out] = await h.execute(await fileItems(h, second.encryptedParts.slice(0, 2), true));
		expect(out).toHaveLength(1);
		expect(Object.keys(out[0].binary ?? {}).sort()).toEqual([
			'part0',
			'part1',
			'plain_part0',
			'plain_part1',
		]);
		expect(
			(await bytesOf(h, out[0], 'plain_part1')).equals(readFileSync(second.plainParts[1])),
		).toBe(true);
	});

	it('names the recipients the file was encrypted for when the key does not match', async () => {
		const h = await harness({
			nodeType: new SmimeDecrypt(),
			parameters: {},
			credentials: keyCredential(bob),
		});
		const error = await h.execute(await fileItems(h, [whole.encryptedParts[0]])).then(
			() => undefined,
			(e: Error) => e,
		);
		expect(error?.message).toMatch(/alice/i);
		expect(error?.message).not.toContain('PRIVATE KEY');
	});

	it('refuses a file that is not encrypted; with continue on fail the other items go on', async () => {
		const h = await harness({
			nodeType: new SmimeDecrypt(),
			parameters: {},
			credentials: keyCredential(alice),
			continueOnFail: true,
		});
		const [out] = await h.execute(
			await fileItems(h, [whole.plainParts[0], whole.encryptedParts[0]]),
		);
		expect(out).toHaveLength(2);
		expect(out[0].json.error).toMatch(/is not an S\/MIME encrypted file/);
		expect(out[0].pairedItem).toEqual({ item: 0 });
		expect((await bytesOf(h, out[1])).equals(readFileSync(whole.plainParts[0]))).toBe(true);

		const strict = await harness({
			nodeType: new SmimeDecrypt(),
			parameters: {},
			credentials: keyCredential(alice),
		});
		await expect(strict.execute(await fileItems(strict, [whole.plainParts[0]]))).rejects.toThrow(
			/not an S\/MIME/,
		);

		const lenient = await harness({
			nodeType: new SmimeDecrypt(),
			parameters: { options: { passThroughPlain: true } },
			credentials: keyCredential(alice),
		});
		const [passed] = await lenient.execute(await fileItems(lenient, [whole.plainParts[0]]));
		expect(passed[0].binary?.data.fileName).toBe(base(whole.plainParts[0]));
	});

	it('says which item lacks the binary field', async () => {
		const h = await harness({
			nodeType: new SmimeDecrypt(),
			parameters: { binaryPropertyName: 'file' },
			credentials: keyCredential(alice),
		});
		await expect(h.execute(await fileItems(h, [whole.encryptedParts[0]]))).rejects.toThrow(
			'Item 0 has no binary field "file"',
		);
	});
});

describe('Reassemble Export node', () => {
	it.each([
		[true, true],
		[false, true],
		[true, false],
	])(
		'puts encrypted parts given in any order back together as one zip that unzip accepts (binary data as files: %s; n8n copies the file: %s)',
		async (binaryPaths, copyBinaryFile) => {
			const h = await harness({
				nodeType: new ReassembleExport(),
				parameters: {},
				credentials: keyCredential(alice),
				binaryPaths,
				copyBinaryFile,
			});
			const [out] = await h.execute(await fileItems(h, shuffled(split.encryptedParts)));
			expect(out).toHaveLength(1);
			expect(out[0].json).toMatchObject({
				exportName: split.exportName,
				fileName: `${split.exportName}.zip`,
				parts: split.encryptedParts.length,
			});
			expect(out[0].pairedItem).toHaveLength(split.encryptedParts.length);
			// The same metadata either way: the extension from the file name, as prepareBinaryData gives it.
			expect(out[0].binary?.data).toMatchObject({
				fileName: `${split.exportName}.zip`,
				fileExtension: 'zip',
				mimeType: 'application/zip',
			});
			const zipPath = join(dir.path, 'node-merged.zip');
			const bytes = await bytesOf(h, out[0]);
			expect(out[0].json.size).toBe(bytes.length);
			writeFileSync(zipPath, bytes);
			execFileSync('unzip', ['-tq', zipPath]);
			for (const [name, content] of Object.entries(split.files))
				expect(
					execFileSync('unzip', ['-p', zipPath, name], { maxBuffer: 1 << 28 }).equals(content),
				).toBe(true);
			expect(h.hints).toEqual([
				{
					type: 'info',
					location: 'outputPane',
					message: `${split.exportName}.zip: ${split.encryptedParts.length} parts merged, ${bytes.length.toLocaleString('en-US')} bytes, every entry's CRC-32 checked`,
				},
			]);
		},
	);

	it('groups parts of several exports from several fields and items; extracted files carry path, size and CRC', async () => {
		const h = await harness({
			nodeType: new ReassembleExport(),
			parameters: { output: 'extracted' },
			credentials: keyCredential(alice),
		});
		const items = [
			...(await fileItems(h, second.encryptedParts, true)),
			...(await fileItems(h, split.plainParts)),
		];
		const [out] = await h.execute(items);
		const byExport = (name: string) => out.filter((item) => item.json.exportName === name);
		expect(
			byExport(second.exportName)
				.map((i) => i.json.path)
				.sort(),
		).toEqual(Object.keys(second.files).sort());
		expect(
			byExport(split.exportName)
				.map((i) => i.json.path)
				.sort(),
		).toEqual(Object.keys(split.files).sort());
		for (const item of out) {
			const fixture = item.json.exportName === second.exportName ? second : split;
			const content = fixture.files[String(item.json.path)];
			expect((await bytesOf(h, item)).equals(content)).toBe(true);
			expect(item.json.size).toBe(content.length);
			expect(item.json.crc32).toBe(crc32(content).toString(16).padStart(8, '0'));
		}
		expect(byExport(second.exportName)[0].pairedItem).toEqual([{ item: 0 }]);
		expect(h.hints.map((hint) => hint.message).sort()).toEqual(
			[
				`${second.exportName}: ${Object.keys(second.files).length} files from ${second.encryptedParts.length === 1 ? '1 file' : `${second.encryptedParts.length} parts`}, each checked (size, CRC-32)`,
				`${split.exportName}: ${Object.keys(split.files).length} files from ${split.plainParts.length} parts, each checked (size, CRC-32)`,
			].sort(),
		);
	});

	it('names a missing part; with continue on fail that export becomes an error item and the others still come out', async () => {
		const missing = split.encryptedParts.filter((_, i) => i !== 1);
		const strict = await harness({
			nodeType: new ReassembleExport(),
			parameters: {},
			credentials: keyCredential(alice),
		});
		await expect(strict.execute(await fileItems(strict, missing))).rejects.toThrow(/\.z02/);

		const h = await harness({
			nodeType: new ReassembleExport(),
			parameters: {},
			credentials: keyCredential(alice),
			continueOnFail: true,
		});
		const [out] = await h.execute([
			...(await fileItems(h, missing)),
			...(await fileItems(h, second.encryptedParts)),
		]);
		expect(out).toHaveLength(2);
		expect(out[0].json).toMatchObject({
			exportName: split.exportName,
			error: expect.stringMatching(/z02/),
		});
		expect(out[0].pairedItem).toHaveLength(missing.length);
		expect(out[1].json).toMatchObject({
			exportName: second.exportName,
			parts: second.encryptedParts.length,
		});
	});

	it('passes a single ordinary zip through unchanged, and needs no key for decrypted parts', async () => {
		const h = await harness({ nodeType: new ReassembleExport(), parameters: { decrypt: false } });
		const [out] = await h.execute(await fileItems(h, whole.plainParts));
		expect((await bytesOf(h, out[0])).equals(readFileSync(whole.plainParts[0]))).toBe(true);
		const [parts] = await h.execute(await fileItems(h, second.plainParts));
		expect(parts[0].json.parts).toBe(second.plainParts.length);
	});

	it('with Decrypt Parts on and no key credential: reassembles plain parts, and says the key is missing for encrypted ones', async () => {
		const h = await harness({ nodeType: new ReassembleExport(), parameters: {} });
		const [plain] = await h.execute(await fileItems(h, second.plainParts));
		expect(plain[0].json.parts).toBe(second.plainParts.length);
		const failing = await harness({ nodeType: new ReassembleExport(), parameters: {} });
		await expect(
			failing.execute(await fileItems(failing, second.encryptedParts, true)),
		).rejects.toThrow('No S/MIME Decryption Key API credential is selected');
	});

	it('refuses parts of the same size swapped under each other’s names (Verify Entries, on by default); off, hands the zip on', async () => {
		const parts = split.plainParts.map((path) => ({ name: base(path), data: readFileSync(path) }));
		expect(parts.length).toBeGreaterThan(3);
		expect(parts[1].data.length).toBe(parts[2].data.length);
		[parts[1].data, parts[2].data] = [parts[2].data, parts[1].data];
		const items = async (h: Harness) =>
			Promise.all(
				parts.map(async (p, i) => ({
					json: { i },
					binary: { data: await h.binary.fromBuffer(p.data, p.name) },
				})),
			);
		const strict = await harness({
			nodeType: new ReassembleExport(),
			parameters: { decrypt: false },
		});
		await expect(strict.execute(await items(strict))).rejects.toThrow(
			/^entry "[^"]+" \(parts \S+\.z01–\S+\): .*the parts may be out of order or swapped/,
		);
		const h = await harness({
			nodeType: new ReassembleExport(),
			parameters: { decrypt: false, verifyEntries: false },
		});
		const [out] = await h.execute(await items(h));
		const zipPath = join(dir.path, 'node-swapped.zip');
		writeFileSync(zipPath, await bytesOf(h, out[0]));
		expect(() => execFileSync('unzip', ['-tq', zipPath], { stdio: 'pipe' })).toThrow();
	});
});

describe('Parse JSON Lines node', () => {
	async function parse(
		parameters: Record<string, unknown>,
		items: (h: Harness) => Promise<INodeExecutionData[]>,
		continueOnFail = false,
	) {
		const h = await harness({
			nodeType: new ParseJsonLines(),
			parameters: parameters as never,
			continueOnFail,
		});
		return { h, out: await h.execute(await items(h)) };
	}

	it('gives every record of a zip of JSON Lines, in archive order, paired with its item', async () => {
		const { out } = await parse({}, (h) => fileItems(h, whole.plainParts));
		expect(out).toHaveLength(1);
		expect(out[0].map((i) => i.json)).toEqual(whole.records);
		expect(out[0].every((i) => JSON.stringify(i.pairedItem) === '{"item":0}')).toBe(true);
	});

	it('reads a JSON Lines file; adds source and line; limits and skips records for batches', async () => {
		const name = Object.keys(whole.files)[0];
		const path = join(dir.path, name);
		writeFileSync(path, whole.files[name]);
		const { out } = await parse(
			{ options: { includeSource: true, skipRecords: 10, maxRecords: 5 } },
			(h) => fileItems(h, [path]),
		);
		expect(out[0]).toHaveLength(5);
		expect(out[0][0].json).toMatchObject({
			_source: name,
			_line: 11,
			IXNID: (whole.records[10] as { IXNID: string }).IXNID,
		});
	});

	it('picks zip entries by pattern', async () => {
		const { out } = await parse({ options: { entries: 'Contact-*.json' } }, (h) =>
			fileItems(h, whole.plainParts),
		);
		const contacts = whole.records.slice(500);
		expect(out[0].map((i) => i.json)).toEqual(contacts);
	});

	it('fails on a malformed line naming file and line; skips and counts; or sends it to the errors output', async () => {
		const path = join(dir.path, 'bad.jsonl');
		writeFileSync(path, '{"a":1}\n{"a":\n\n{"a":3}\n[1]\n');
		await expect(parse({}, (h) => fileItems(h, [path]))).rejects.toThrow(/bad\.jsonl:2: /);

		const skipped = await parse({ options: { onError: 'skip' } }, (h) => fileItems(h, [path]));
		expect(skipped.out).toHaveLength(1);
		expect(skipped.out[0].map((i) => i.json)).toEqual([{ a: 1 }, { a: 3 }]);
		expect(skipped.h.hints).toEqual([
			{ type: 'info', location: 'outputPane', message: '2 records' },
			{
				type: 'warning',
				location: 'outputPane',
				message: expect.stringMatching(
					/^2 malformed lines were skipped; the first: bad\.jsonl:2: /,
				),
			},
		]);
		const marked = await parse({ options: { onError: 'skip', skippedOnLastItem: true } }, (h) =>
			fileItems(h, [path]),
		);
		expect(marked.out[0][0].json).toEqual({ a: 1 });
		expect(marked.out[0][1].json).toMatchObject({
			a: 3,
			_skippedLines: 2,
			_firstSkipped: expect.stringMatching(/^bad\.jsonl:2: /),
		});

		const routed = await parse({ options: { onError: 'output' } }, (h) => fileItems(h, [path]));
		expect(routed.out).toHaveLength(2);
		expect(routed.out[0].map((i) => i.json)).toEqual([{ a: 1 }, { a: 3 }]);
		expect(routed.out[1].map((i) => [i.json.source, i.json.line])).toEqual([
			['bad.jsonl', 2],
			['bad.jsonl', 5],
		]);
		expect(String(routed.out[1][0].json.reason)).not.toContain('{"a":');
	});

	it('validates CDDS records when asked and flattens ALLATTRIBUTES', async () => {
		const path = join(dir.path, 'Interaction-123.json');
		const good = {
			IXNID: 'a1',
			STATUS: 3,
			ALLATTRIBUTES: { LastName: 'WALLACE', STATUS: 'x', Nested: { k: 1 } },
		};
		writeFileSync(
			path,
			`${JSON.stringify(good)}\n${JSON.stringify({ IXNID: 'a2', STATUS: 'three' })}\n`,
		);
		const routed = await parse(
			{ options: { validate: true, onError: 'output', flattenAllAttributes: true } },
			(h) => fileItems(h, [path]),
		);
		expect(routed.out[0].map((i) => i.json)).toEqual([
			{ IXNID: 'a1', STATUS: 3, LastName: 'WALLACE', ALLATTRIBUTES_STATUS: 'x', Nested: { k: 1 } },
		]);
		expect(routed.out[1][0].json).toMatchObject({
			source: 'Interaction-123.json',
			line: 2,
			reason: expect.stringMatching(/^STATUS: /),
		});
		await expect(
			parse({ options: { validate: true } }, (h) => fileItems(h, [path])),
		).rejects.toThrow(/Interaction-123\.json:2: STATUS/);
	});

	it('turns a failing item into an error item with continue on fail', async () => {
		const path = join(dir.path, 'bad2.jsonl');
		writeFileSync(path, '{"a":1}\nnope\n');
		const { out } = await parse(
			{},
			async (h) => [{ json: {} }, ...(await fileItems(h, [path]))],
			true,
		);
		expect(out[0].map((i) => i.json.error ?? i.json.a)).toEqual([
			expect.stringMatching(/Item 0 has no binary field "data"/),
			expect.stringMatching(/bad2\.jsonl:2/),
		]);
		expect(out[0].map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
	});
});
