import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { IBinaryData, IExecuteFunctions } from 'n8n-workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { binaryFromFile } from '../../nodes/shared/exportOutput';

const dir = mkdtempSync(join(tmpdir(), 'cx-binary-from-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('binaryFromFile', () => {
	const path = join(dir, 'records.jsonl');
	writeFileSync(path, '{"a":1}\n{"a":2}\n');

	it('lets n8n copy the file where it can, with the metadata prepareBinaryData would give', async () => {
		const calls: unknown[][] = [];
		const context = {
			nodeHelpers: {
				// As n8n does: the extension from the MIME type (none known for this one).
				copyBinaryFile: async (...args: unknown[]): Promise<IBinaryData> => {
					calls.push(args);
					return {
						data: 'filesystem-v2',
						id: 'filesystem-v2:x',
						mimeType: 'application/x-ndjson',
						fileExtension: 'bin',
					};
				},
			},
			helpers: {
				prepareBinaryData: async () => {
					throw new Error('not streamed when n8n can copy the file');
				},
			},
		} as unknown as IExecuteFunctions;
		const { binary, size } = await binaryFromFile(context, path, 'export.jsonl');
		expect(calls).toEqual([[path, 'export.jsonl', 'application/x-ndjson']]);
		expect(binary.fileExtension).toBe('jsonl');
		expect(size).toBe(16);

		const { binary: bare } = await binaryFromFile(context, path, 'README');
		expect(bare.fileExtension).toBeUndefined();
	});

	it('streams the file when n8n has no copy helper', async () => {
		const streamed: string[] = [];
		const context = {
			helpers: {
				prepareBinaryData: async (data: Readable, fileName?: string, mimeType?: string) => {
					for await (const piece of data) streamed.push(String(piece));
					return { data: '', mimeType, fileName, fileExtension: 'jsonl' } as IBinaryData;
				},
			},
		} as unknown as IExecuteFunctions;
		const { binary, size } = await binaryFromFile(context, path, 'export.jsonl');
		expect(streamed.join('')).toBe('{"a":1}\n{"a":2}\n');
		expect(binary).toMatchObject({ fileName: 'export.jsonl', mimeType: 'application/x-ndjson' });
		expect(size).toBe(16);
	});
});
