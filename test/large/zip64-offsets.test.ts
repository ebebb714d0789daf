/**
 * Offsets past 4 GiB need more than 4 GiB of data: about a minute and 9 GB of temporary disk.
 * `npm test` runs this once, in its main pass (test/large is not part of the Node 24 core pass).
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reassemble, zipEntries } from '../../src/zip';
import { fileParts, makeTempDir, splitPartNames, unzipTest } from '../helpers/zipTools';

const tmp = makeTempDir();
afterAll(() => tmp.remove());

describe('reassemble: offsets past 4 GiB', () => {
	it('adds Zip64 offsets to entries that land past 0xFFFFFFFF', async () => {
		const dir = join(tmp.path, 'large');
		mkdirSync(dir);
		writeFileSync(join(dir, 'small.txt'), 'after the big one\n');
		// 4.5 GiB of stored zeros from stdin, then a small file whose local header is past 4 GiB.
		const made = spawnSync(
			'sh',
			['-c', 'head -c 4800000000 /dev/zero | zip -q -0 -s 1g large.zip - small.txt'],
			{ cwd: dir },
		);
		expect(made.status, made.stderr?.toString()).toBe(0);
		const path = join(dir, 'merged.zip');
		const summary = await reassemble(
			fileParts(dir, splitPartNames(dir, 'large'), 1 << 20),
			createWriteStream(path),
		);
		expect(summary).toMatchObject({ entries: 2, zip64: true, verifiedEntries: 2 });
		let small: Buffer | undefined;
		for await (const entry of zipEntries(path)) {
			if (entry.name !== 'small.txt') continue;
			const chunks: Buffer[] = [];
			for await (const chunk of await entry.open()) chunks.push(chunk as Buffer);
			small = Buffer.concat(chunks);
		}
		expect(small?.toString()).toBe('after the big one\n');
		const check = unzipTest(path);
		expect(check.ok, check.output).toBe(true);
	}, 900_000);
});
