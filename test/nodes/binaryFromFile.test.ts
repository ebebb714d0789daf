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

	it("streams the file in 256 KiB pieces, even where n8n's copy helper is there (it reads 64 KiB at a time in n8n 2.x)", async () => {
		const big = join(dir, 'big.zip');
		const bytes = Buffer.alloc(600 * 1024 + 5, 7);
		writeFileSync(big, bytes);
		const pieces: number[] = [];
		const context = {
			nodeHelpers: {
				copyBinaryFile: async (): Promise<IBinaryData> => {
					throw new Error('the copy helper is not used');
				},
			},
			helpers: {
				prepareBinaryData: async (data: Readable, fileName?: string, mimeType?: string) => {
					for await (const piece of data) pieces.push((piece as Buffer).length);
					return { data: '', mimeType, fileName, fileExtension: 'zip' } as IBinaryData;
				},
			},
		} as unknown as IExecuteFunctions;
		const { binary, size } = await binaryFromFile(context, big, 'export.zip');
		expect(pieces).toEqual([256 * 1024, 256 * 1024, 88 * 1024 + 5]);
		expect(binary).toMatchObject({ fileName: 'export.zip', mimeType: 'application/zip' });
		expect(size).toBe(bytes.length);
	});

	it('streams the file when n8n has no copy helper, with the MIME type from the name', async () => {
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
