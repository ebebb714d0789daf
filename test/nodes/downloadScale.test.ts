/**
 * File → Download at the size users have: a 300,000-interaction export from the simulator (S/MIME
 * encrypted split parts), downloaded as 300,000+ record items and as Record Chunks whose lines are
 * exactly the export's.
 */
import type { INodeParameters } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenesysMulticloudApi } from '../../credentials/GenesysMulticloudApi.credentials';
import { SmimeKeyApi } from '../../credentials/SmimeKeyApi.credentials';
import { GenesysDataExport } from '../../nodes/GenesysDataExport/GenesysDataExport.node';
import { jsonLines } from '../simulator/records';
import { makeRecipient, tempDir, type Recipient } from '../helpers/fixtures.mjs';
import { startGenesysSimulator, type GenesysSimulator } from '../simulator/genesys';
import { createHarness, type Harness } from './harness';

const INTERACTIONS = 300_000;
let sim: GenesysSimulator;
let dir: ReturnType<typeof tempDir>;
let recipient: Recipient;
let runId: number;
const harnesses: Harness[] = [];

async function node(parameters: INodeParameters): Promise<Harness> {
	const h = await createHarness({
		nodeType: new GenesysDataExport(),
		parameters,
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
	harnesses.push(h);
	return h;
}

beforeAll(async () => {
	dir = tempDir('cx-node-download-scale-');
	recipient = makeRecipient(dir.path, 'scale-recipient');
	sim = await startGenesysSimulator({
		runDurationMs: 50,
		interactions: INTERACTIONS,
		contacts: 50,
	});
	await (
		await node({ resource: 'certificate', operation: 'upload', certificateSource: 'credential' })
	).execute();
	const [[finished]] = await (
		await node({
			resource: 'job',
			operation: 'createAndWait',
			source: 'UCS',
			title: 'Big night',
			additionalFields: { fileSplitSize: '32MB', exportAttachments: false },
			options: { pollInterval: 0.05, timeout: 120 },
		})
	).execute();
	expect(finished.json.state).toBe('completed');
	expect((finished.json.fileNames as string[]).length).toBeGreaterThanOrEqual(2);
	runId = Number(finished.json.id);
}, 300_000);

afterAll(async () => {
	for (const h of harnesses) await h.close();
	await sim?.close();
	dir?.remove();
});

describe('File → Download at real size', () => {
	it('gives every record of a 300,000-interaction export as an item, in order', async () => {
		const expected = sim.state.exportContent(runId).entries.flatMap((e) => e.records);
		expect(expected.length).toBeGreaterThanOrEqual(INTERACTIONS);
		const h = await node({
			resource: 'file',
			operation: 'download',
			filesOf: 'run',
			runId: String(runId),
			output: 'records',
		});
		const [records] = await h.execute();
		expect(records).toHaveLength(expected.length);
		for (let i = 0; i < expected.length; i++) {
			const { runId: run, ...record } = records[i].json;
			if (run !== runId || JSON.stringify(record) !== JSON.stringify(expected[i]))
				throw new Error(`record ${i} differs from the export's`);
		}
	}, 300_000);

	it('gives the export as Record Chunks whose lines are the export’s, entry by entry', async () => {
		const content = sim.state.exportContent(runId);
		const h = await node({
			resource: 'file',
			operation: 'download',
			filesOf: 'run',
			runId: String(runId),
			output: 'chunks',
			recordsPerChunk: 25_000,
			gzipChunks: true,
		});
		const [chunks] = await h.execute();
		const bySource = new Map<string, Buffer[]>();
		let records = 0;
		for (const chunk of chunks) {
			expect(chunk.json.runId).toBe(runId);
			expect(chunk.json.records).toBeLessThanOrEqual(25_000);
			records += Number(chunk.json.records);
			const { gunzipSync } = await import('node:zlib');
			const bytes = gunzipSync(
				await h.binary.buffer(chunk.binary?.data ?? { data: '', mimeType: '' }),
			);
			const list = bySource.get(String(chunk.json.source)) ?? [];
			list.push(bytes);
			bySource.set(String(chunk.json.source), list);
		}
		expect(records).toBe(content.entries.reduce((n, e) => n + e.records.length, 0));
		expect([...bySource.keys()]).toEqual(
			content.entries.filter((e) => e.records.length > 0).map((e) => e.name),
		);
		for (const entry of content.entries)
			if (entry.records.length > 0)
				expect(Buffer.concat(bySource.get(entry.name) ?? []).equals(jsonLines(entry.records))).toBe(
					true,
				);
	}, 300_000);
});
