/**
 * Nodes that give one item per service, row or file, at the size users have: 300,000 items and
 * more from one execution (issue 10: `push(...items)` overflowed the call stack past ~120,000).
 * Every item is checked — its content, its place in the order and the input item it pairs with —
 * not just the count:
 * - Genesys Context Services, Export Stream: 300,000 service IDs from the simulator over loopback;
 * - Connectif, Download as rows: a CSV of 300,000 rows (quotes, commas, line breaks inside values);
 * - Extracted Files of a 300,000-file export (`zip -s` split parts made by Info-ZIP), through
 *   Reassemble Export (plain parts as input items) and File → Download (the parts S/MIME-encrypted
 *   by openssl, served by the Genesys simulator), with n8n's binary data in memory (see
 *   inMemoryBinaryData) so that every file's bytes are checked too.
 * Each test takes 5–35 s on a 2-core machine; the 300,000-file fixture about 15 s.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	statSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { IBinaryData, IDataObject, INodeExecutionData, IPairedItemData } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectifApi } from '../../credentials/ConnectifApi.credentials';
import { GenesysContextServicesApi } from '../../credentials/GenesysContextServicesApi.credentials';
import { GenesysMulticloudApi } from '../../credentials/GenesysMulticloudApi.credentials';
import { SmimeKeyApi } from '../../credentials/SmimeKeyApi.credentials';
import { Connectif } from '../../nodes/Connectif/Connectif.node';
import { GenesysContextServices } from '../../nodes/GenesysContextServices/GenesysContextServices.node';
import { GenesysDataExport } from '../../nodes/GenesysDataExport/GenesysDataExport.node';
import { ReassembleExport } from '../../nodes/ReassembleExport/ReassembleExport.node';
import { encryptParts, makeRecipient, zipParts, type Recipient } from '../helpers/fixtures.mjs';
import { startConnectifSimulator } from '../simulator/connectif';
import { startContextServicesSimulator } from '../simulator/contextServices';
import { startGenesysSimulator } from '../simulator/genesys';
import { createHarness, type Harness } from './harness';

const COUNT = 300_000;
const harnesses: Harness[] = [];

afterAll(async () => {
	for (const h of harnesses) await h.close();
});

async function harness(options: Parameters<typeof createHarness>[0]): Promise<Harness> {
	const h = await createHarness(options);
	harnesses.push(h);
	return h;
}

/**
 * n8n's default binary data mode ("default": in memory) for this harness: `prepareBinaryData`
 * reads the stream and keeps the bytes in the item, base64 (as n8n-core's binary data service does
 * in that mode), instead of the harness's filesystem mode. 300,000 files in filesystem mode are
 * 600,000 files written (data and metadata) — about a minute on tmpfs and two on this machine's
 * disk for the harness alone, whatever the node does — so the node's own cost is measured here.
 */
function inMemoryBinaryData(h: Harness): void {
	h.binary.prepare = async (
		data: Buffer | Readable,
		fileName?: string,
		mimeType?: string,
	): Promise<IBinaryData> => {
		const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(await data.toArray());
		const dot = fileName?.lastIndexOf('.') ?? -1;
		return {
			data: bytes.toString('base64'),
			mimeType: mimeType ?? 'application/octet-stream',
			fileSize: `${bytes.length} B`,
			...(fileName ? { fileName } : {}),
			...(fileName && dot > 0 ? { fileExtension: fileName.slice(dot + 1) } : {}),
		};
	};
}

/**
 * The first item that is not what `check` expects, described (or undefined when all are right):
 * one readable failure instead of a 300,000-element diff.
 */
function firstWrong(
	items: INodeExecutionData[],
	check: (item: INodeExecutionData, index: number) => string | undefined,
): string | undefined {
	for (let i = 0; i < items.length; i++) {
		const problem = check(items[i], i);
		if (problem !== undefined)
			return `item ${i}: ${problem}; the item: ${JSON.stringify(items[i]).slice(0, 400)}`;
	}
	return undefined;
}

const pairing = (item: INodeExecutionData) => JSON.stringify(item.pairedItem);
const pairedWith = (...inputs: number[]): string =>
	JSON.stringify(
		inputs.length === 1 ? { item: inputs[0] } : inputs.map((item): IPairedItemData => ({ item })),
	);

describe('Genesys Context Services: Export Stream of 300,000 services', () => {
	it('gives every service ID as an item, in the order served, each paired with the input item that asked for it', async () => {
		const sim = await startContextServicesSimulator({ services: COUNT, seed: 'scale' });
		try {
			const h = await harness({
				nodeType: new GenesysContextServices(),
				parameters: {
					operation: 'exportStream',
					timeFrom: '={{ $json.from }}',
					timeTo: '2026-12-01T00:00:00Z',
				},
				credentials: {
					genesysContextServicesApi: {
						type: new GenesysContextServicesApi(),
						data: { baseUrl: sim.baseUrl },
					},
				},
			});
			// Two input items: the last days of the month (a few thousand services), then the whole month.
			const [items] = await h.execute([
				{ json: { from: '2026-10-30T00:00:00Z' } },
				{ json: { from: '2026-09-01T00:00:00Z' } },
			]);
			const lastDays = sim
				.select({ time_from: '2026-10-30T00:00:00.000Z', time_to: '2026-12-01T00:00:00.000Z' })
				.map((s) => s.service_id);
			const all = sim
				.select({ time_from: '2026-09-01T00:00:00.000Z', time_to: '2026-12-01T00:00:00.000Z' })
				.map((s) => s.service_id);
			expect(all.length).toBe(COUNT);
			expect(lastDays.length).toBeGreaterThan(1000);
			expect(items.length).toBe(lastDays.length + COUNT);
			const wrong = firstWrong(items, (item, i) => {
				const fromFirst = i < lastDays.length;
				const expected = fromFirst ? lastDays[i] : all[i - lastDays.length];
				if (item.json.serviceId !== expected)
					return `serviceId ${String(item.json.serviceId)}, expected ${expected}`;
				if (Object.keys(item.json).length !== 1) return 'more than the service ID';
				if (pairing(item) !== pairedWith(fromFirst ? 0 : 1))
					return `paired with ${pairing(item)}, expected input item ${fromFirst ? 0 : 1}`;
				return undefined;
			});
			expect(wrong).toBeUndefined();
		} finally {
			await sim.close();
		}
	}, 60_000);
});

describe('Connectif: Download as rows, 300,000 rows', () => {
	it('gives every CSV row as an item with exactly its values, in file order, paired with its input item', async () => {
		const sim = await startConnectifSimulator({ rows: COUNT, exportDurationMs: 0 });
		try {
			const credentials = {
				connectifApi: {
					type: new ConnectifApi(),
					data: { apiKey: 'sim-connectif-key', baseUrl: sim.baseUrl },
				},
			};
			const [[created]] = await (
				await harness({
					nodeType: new Connectif(),
					parameters: { operation: 'create', exportType: 'contacts' },
					credentials,
				})
			).execute();
			expect(created.json.status).toBe('finished');
			const id = String(created.json.id);
			const rows = sim.exports.get(id)?.rows ?? [];
			expect(rows.length).toBe(COUNT);
			// Values that need quoting made it into the CSV: a row check below is a real CSV read.
			expect(rows.some((r) => r.name.includes('\n'))).toBe(true);
			expect(rows.some((r) => r.name.includes('"'))).toBe(true);

			const h = await harness({
				nodeType: new Connectif(),
				parameters: {
					operation: 'download',
					exportId: id,
					output: 'rows',
					maxRows: '={{ $json.max }}',
				},
				credentials,
			});
			// Input item 0 wants 3 rows, input item 1 all of them.
			const [items] = await h.execute([{ json: { max: 3 } }, { json: { max: 0 } }]);
			expect(items.length).toBe(3 + COUNT);
			const columns = Object.keys(rows[0]);
			const wrong = firstWrong(items, (item, i) => {
				const input = i < 3 ? 0 : 1;
				const row = rows[i < 3 ? i : i - 3];
				const json = item.json as IDataObject;
				if (Object.keys(json).length !== columns.length)
					return `columns ${Object.keys(json).join(',')}, expected ${columns.join(',')}`;
				for (const column of columns)
					if (json[column] !== row[column])
						return `${column} is ${JSON.stringify(json[column])}, expected ${JSON.stringify(row[column])}`;
				if (pairing(item) !== pairedWith(input))
					return `paired with ${pairing(item)}, expected input item ${input}`;
				return undefined;
			});
			expect(wrong).toBeUndefined();
		} finally {
			await sim.close();
		}
	}, 60_000);
});

describe('Extracted Files of an export holding 300,000 files', () => {
	const exportName = 'export-5c0f3a52-9d1e-4b7a-8f00-3a1b2c3d4e5f';
	/** The fixture's files: the i-th holds line(i) and a line break. */
	const line = (i: number) =>
		JSON.stringify({
			file: i,
			digest: createHash('md5')
				.update(String(i))
				.digest('hex')
				.slice(0, i % 33),
			pad: 'x'.repeat(i % 41),
		});
	const entryName = (i: number) => `attachments/f${String(i).padStart(6, '0')}.json`;
	let work: string;
	/** The split parts (`.z01` … `.zip`), plain and encrypted. */
	let parts: Array<{ name: string; path: string }>;
	let encrypted: Array<{ name: string; path: string }>;
	let recipient: Recipient;

	beforeAll(() => {
		// 300,000 small files are made for Info-ZIP to read: in memory-backed /dev/shm where there is one.
		work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cx-scale-extract-'));
		const src = join(work, 'src');
		mkdirSync(join(src, 'attachments'), { recursive: true });
		const lines: string[] = [];
		for (let i = 0; i < COUNT; i++) lines.push(line(i));
		writeFileSync(join(work, 'all.txt'), `${lines.join('\n')}\n`);
		// GNU split: one file per line, attachments/f000000.json … (in C: seconds, not a minute of writeFileSync).
		execFileSync(
			'split',
			[
				'-a',
				'6',
				'-d',
				'-l',
				'1',
				'--additional-suffix=.json',
				join(work, 'all.txt'),
				'attachments/f',
			],
			{ cwd: src },
		);
		const plain = join(work, 'plain');
		mkdirSync(plain);
		const names = Array.from({ length: COUNT }, (_, i) => entryName(i));
		const plainParts = zipParts(src, join(plain, `${exportName}.zip`), names, {
			size: '16m',
			stdin: true,
		});
		rmSync(src, { recursive: true, force: true });
		const named = (path: string) => ({ name: basename(path), path });
		parts = plainParts.map(named);
		expect(parts.length).toBeGreaterThanOrEqual(3);
		recipient = makeRecipient(work, 'scale-recipient');
		encrypted = encryptParts(plainParts, join(work, 'enc'), recipient.certPath).map(named);
	}, 120_000);

	afterAll(() => {
		if (work) rmSync(work, { recursive: true, force: true });
	});

	/**
	 * Every item is the i-th file: path, size, CRC-32 and export name; its binary named and placed
	 * like it, holding exactly its bytes; paired as given.
	 */
	function checkFiles(items: INodeExecutionData[], paired: string): void {
		expect(items.length).toBe(COUNT);
		const wrong = firstWrong(items, (item, i) => {
			const content = Buffer.from(`${line(i)}\n`);
			const expected: IDataObject = {
				exportName,
				path: entryName(i),
				size: content.length,
				crc32: crc32(content).toString(16).padStart(8, '0'),
			};
			const keys = Object.keys(expected);
			if (Object.keys(item.json).length !== keys.length)
				return `fields ${Object.keys(item.json).join(',')}, expected ${keys.join(',')}`;
			for (const key of keys)
				if (item.json[key] !== expected[key])
					return `${key} is ${JSON.stringify(item.json[key])}, expected ${JSON.stringify(expected[key])}`;
			const binary = item.binary?.data;
			if (!binary) return 'no binary data';
			if (
				binary.fileName !== entryName(i).slice('attachments/'.length) ||
				binary.directory !== 'attachments'
			)
				return `binary named ${binary.directory}/${binary.fileName}`;
			if (binary.mimeType !== 'application/json') return `binary of type ${binary.mimeType}`;
			if (!Buffer.from(binary.data, 'base64').equals(content)) return 'binary data is not the file';
			if (pairing(item) !== paired) return `paired with ${pairing(item)}, expected ${paired}`;
			return undefined;
		});
		expect(wrong).toBeUndefined();
	}

	it('Reassemble Export → Extracted Files: one item per file, from the plain parts given one per input item', async () => {
		const h = await harness({
			nodeType: new ReassembleExport(),
			parameters: { output: 'extracted', decrypt: false },
		});
		inMemoryBinaryData(h);
		const inputs: INodeExecutionData[] = [];
		for (const part of parts)
			inputs.push({
				json: {},
				binary: {
					data: await h.binary.fromBuffer(readFileSync(part.path), part.name, 'application/zip'),
				},
			});
		const [items] = await h.execute(inputs);
		checkFiles(items, pairedWith(...parts.map((_, i) => i)));
	}, 90_000);

	it('Genesys Data Export File → Download → Extracted Files: the encrypted parts downloaded, decrypted, reassembled, one item per file', async () => {
		const sim = await startGenesysSimulator();
		try {
			const createdAt = Date.now();
			for (const part of encrypted) {
				const path = part.path;
				sim.state.files.set(part.name, {
					name: part.name,
					runId: 999,
					jobId: 999,
					jobTitle: 'Attachments',
					dataType: 'Interaction',
					source: 'UCS',
					get bytes() {
						return readFileSync(path);
					},
					path,
					size: statSync(path).size,
					md5: createHash('md5').update(readFileSync(path)).digest('hex'),
					createdAt,
				});
			}
			const h = await harness({
				nodeType: new GenesysDataExport(),
				parameters: {
					resource: 'file',
					operation: 'download',
					filesOf: 'names',
					fileNames: encrypted.map((p) => p.name).join(', '),
					output: 'extracted',
				},
				credentials: {
					genesysMulticloudApi: {
						type: new GenesysMulticloudApi(),
						data: {
							region: 'custom',
							customBaseUrl: sim.baseUrl,
							apiKey: 'sim-api-key',
							clientId: 'sim-client',
							clientSecret: 'sim-secret',
							grantType: 'password',
							username: 'SIMTENANT\\analyst',
							password: 'sim-password',
						},
					},
					smimeKeyApi: {
						type: new SmimeKeyApi(),
						data: {
							privateKey: recipient.key.toString('utf8'),
							certificate: recipient.cert.toString('utf8'),
						},
					},
				},
			});
			inMemoryBinaryData(h);
			const [items] = await h.execute();
			checkFiles(items, pairedWith(0));
			expect(sim.state.storageRequests.filter((r) => r.method === 'GET').length).toBe(
				encrypted.length,
			);
		} finally {
			await sim.close();
		}
	}, 90_000);
});
