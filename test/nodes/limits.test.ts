/**
 * The core's limits as node options (nodes/shared/limits.ts), one node per limit, and inputs
 * recognised by content in the nodes (issue 12, items 5 and 7). Exports made by the real tools.
 */
import { readFileSync } from 'node:fs';
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
let split: ExportFixture;
let whole: ExportFixture;
const harnesses: Harness[] = [];

beforeAll(() => {
	dir = tempDir('cx-nodes-limits-');
	alice = makeRecipient(dir.path, 'alice');
	split = makeExport(dir.path, alice, { records: 600, split: '64k' });
	whole = makeExport(dir.path, alice, {
		records: 100,
		name: 'export-ffffffff-1111-2222-3333-444444444444',
	});
}, 120_000);

afterAll(async () => {
	for (const h of harnesses) await h.close();
	dir.remove();
});

const credentials = () => ({
	smimeKeyApi: { type: new SmimeKeyApi(), data: { privateKey: alice.key.toString('utf8') } },
});
/** 105 bytes, in the nodes' unit. */
const TINY_MIB = 0.0001;

async function run(
	options: HarnessOptions,
	files: Array<{ path: string; name?: string }>,
): Promise<INodeExecutionData[][]> {
	const h = await createHarness(options);
	harnesses.push(h);
	const items = await Promise.all(
		files.map(async ({ path, name }) => ({
			json: {},
			binary: {
				data: await h.binary.fromBuffer(readFileSync(path), name ?? path.split('/').pop()!),
			},
		})),
	);
	return h.execute(items);
}

/** The node error a run ends with: its message and description. */
async function nodeError(
	promise: Promise<unknown>,
): Promise<{ message: string; description: string }> {
	try {
		await promise;
	} catch (error) {
		const e = error as { message: string; description?: string | null };
		return { message: e.message, description: e.description ?? '' };
	}
	throw new Error('expected the node to fail');
}

describe('limit options', () => {
	it('Parse JSON Lines: Max Line Size (MiB) lowers and raises the line limit; the error names the option', async () => {
		const error = await nodeError(
			run({ nodeType: new ParseJsonLines(), parameters: { options: { maxLineMiB: TINY_MIB } } }, [
				{ path: whole.plainParts[0] },
			]),
		);
		expect(error.message).toMatch(
			/the line is longer than 105 bytes.*Max Line Size \(MiB\) in the nodes/,
		);
		expect(error.description).toContain('raise "Max Line Size (MiB)" under Options');
		const [records] = await run(
			{ nodeType: new ParseJsonLines(), parameters: { options: { maxLineMiB: 1 } } },
			[{ path: whole.plainParts[0] }],
		);
		expect(records.map((item) => item.json)).toEqual(whole.records);
	});

	it('Parse JSON Lines: Max Entries (a zip-bomb limit) is named in its error; out-of-bounds values are refused', async () => {
		const error = await nodeError(
			run({ nodeType: new ParseJsonLines(), parameters: { options: { maxEntries: 1 } } }, [
				{ path: whole.plainParts[0] },
			]),
		);
		expect(error.message).toContain('more than the entry count limit (1)');
		expect(error.description).toContain('raise "Max Entries" under Options');
		const bad = await nodeError(
			run({ nodeType: new ParseJsonLines(), parameters: { options: { maxLineMiB: 2048 } } }, [
				{ path: whole.plainParts[0] },
			]),
		);
		expect(bad.message).toBe('Max Line Size (MiB): must be at most 1 GiB, got 2 GiB');
	});

	it('Decrypt S/MIME: Max CMS Header Size (MiB) lowers and raises the header limit; the error names the option', async () => {
		const error = await nodeError(
			run(
				{
					nodeType: new SmimeDecrypt(),
					parameters: { options: { maxCmsHeaderMiB: TINY_MIB } },
					credentials: credentials(),
				},
				[{ path: whole.encryptedParts[0] }],
			),
		);
		expect(error.message).toMatch(
			/larger than the CMS header limit, 105 bytes.*Max CMS Header Size \(MiB\) in the nodes/,
		);
		const [out] = await run(
			{
				nodeType: new SmimeDecrypt(),
				parameters: { options: { maxCmsHeaderMiB: 1 } },
				credentials: credentials(),
			},
			[{ path: whole.encryptedParts[0] }],
		);
		expect(out[0].binary?.data.fileName).toBe(`${whole.exportName}.zip`);
	});

	it('Reassemble Export: Max Central Directory Size (MiB) lowers and raises the limit; the error names the option', async () => {
		const parts = split.encryptedParts.map((path) => ({ path }));
		const error = await nodeError(
			run(
				{
					nodeType: new ReassembleExport(),
					parameters: { options: { maxCentralDirectoryMiB: TINY_MIB } },
					credentials: credentials(),
				},
				parts,
			),
		);
		expect(error.message).toMatch(
			/more than the central directory size limit, 105 bytes.*Max Central Directory Size \(MiB\) in the nodes/,
		);
		expect(error.description).toContain('raise "Max Central Directory Size (MiB)" under Options');
		const [out] = await run(
			{
				nodeType: new ReassembleExport(),
				parameters: { options: { maxCentralDirectoryMiB: 1 } },
				credentials: credentials(),
			},
			parts,
		);
		expect(out[0].json).toMatchObject({
			exportName: split.exportName,
			parts: split.encryptedParts.length,
		});
	});
});

describe('inputs recognised by content in the nodes', () => {
	it('Reassemble Export: a whole encrypted zip named x.p7m comes out as the zip', async () => {
		const [out] = await run(
			{ nodeType: new ReassembleExport(), parameters: {}, credentials: credentials() },
			[{ path: whole.encryptedParts[0], name: 'x.p7m' }],
		);
		expect(out).toHaveLength(1);
		const h = harnesses[harnesses.length - 1];
		expect(
			(await h.binary.buffer(out[0].binary!.data)).equals(readFileSync(whole.plainParts[0])),
		).toBe(true);
	});

	it('Parse JSON Lines: the final part of a split export alone names the parts that are missing', async () => {
		const last = split.plainParts[split.plainParts.length - 1];
		const error = await nodeError(
			run({ nodeType: new ParseJsonLines(), parameters: {} }, [{ path: last }]),
		);
		expect(error.message).toMatch(
			new RegExp(
				`^${split.exportName}\\.zip is the last part of a split export of ${split.plainParts.length} parts, but only it was given: ${split.exportName}\\.z01 .*missing`,
			),
		);
	});
});
