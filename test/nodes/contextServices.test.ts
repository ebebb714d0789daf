/**
 * The Genesys Context Services node and client against the Context Services simulator over
 * loopback: both exports, the checks made before sending, retries, authentication headers, and a
 * 100,000-ID stream read without buffering the answer.
 */
import type { INodeParameters } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenesysContextServicesApi } from '../../credentials/GenesysContextServicesApi.credentials';
import { ContextServicesClient } from '../../src/genesys/contextServices';
import { GenesysContextServices } from '../../nodes/GenesysContextServices/GenesysContextServices.node';
import {
	startContextServicesSimulator,
	type ContextServicesSimulator,
} from '../simulator/contextServices';
import { createHarness, type Harness } from './harness';

let sim: ContextServicesSimulator;
const harnesses: Harness[] = [];
const credential = () => ({
	genesysContextServicesApi: {
		type: new GenesysContextServicesApi(),
		data: {
			baseUrl: sim.baseUrl,
			keyHeaderName: 'X-CS-Key',
			apiKey: 'cs-key',
			username: 'csuser',
			password: 'cs-pass',
			contactCenterId: 'cc-42',
		},
	},
});

async function run(parameters: INodeParameters, continueOnFail = false) {
	const h = await createHarness({
		nodeType: new GenesysContextServices(),
		parameters,
		credentials: credential(),
		continueOnFail,
	});
	harnesses.push(h);
	return (await h.execute())[0];
}

const OCTOBER = { timeFrom: '2026-10-05T00:00:00Z', timeTo: '2026-10-12T12:30:00+02:00' };

beforeAll(async () => {
	sim = await startContextServicesSimulator({
		services: 800,
		apiKeyHeader: 'X-CS-Key',
		apiKey: 'cs-key',
		username: 'csuser',
		password: 'cs-pass',
		contactCenterId: 'cc-42',
	});
});

afterAll(async () => {
	for (const h of harnesses) await h.close();
	await sim.close();
});

describe('Genesys Context Services node', () => {
	it('exports to files: every parameter sent as the reference writes it, one item per file the server wrote', async () => {
		const before = sim.requests.length;
		const items = await run({
			operation: 'exportToFiles',
			...OCTOBER,
			filterEvents: 'completed',
			filterState: 'inactive',
			filePrefix: '/var/exports/cs-',
			format: 'csv',
			compression: 'gzip',
			separator: ';',
		});
		const [request] = sim.requests.slice(before);
		expect(request).toMatchObject({
			method: 'POST',
			path: '/genesys/1/cs/maintenance/services/files',
			query: {
				time_from: '2026-10-05T00:00:00.000Z',
				time_to: '2026-10-12T10:30:00.000Z',
				filter_events: 'completed',
				filter_state: 'inactive',
				file_prefix: '/var/exports/cs-',
				format: 'csv',
				compression: 'gzip',
				separator: ';',
			},
		});
		expect(request.headers).toMatchObject({
			'x-cs-key': 'cs-key',
			contactcenterid: 'cc-42',
			authorization: `Basic ${Buffer.from('csuser:cs-pass').toString('base64')}`,
		});
		expect(items.map((i) => i.json)).toEqual([
			{ path: '/var/exports/cs-20261120_101500_042_services.csv.gz', kind: 'services' },
			{ path: '/var/exports/cs-20261120_101500_042_states.csv.gz', kind: 'states' },
			{ path: '/var/exports/cs-20261120_101500_042_tasks.csv.gz', kind: 'tasks' },
		]);
	});

	it("names the kind of each file when the server writes the reference's _se/_st/_ta names", async () => {
		const short = await startContextServicesSimulator({ services: 50, fileNames: 'short' });
		try {
			const h = await createHarness({
				nodeType: new GenesysContextServices(),
				parameters: { operation: 'exportToFiles', ...OCTOBER, filePrefix: 'C:/export' },
				credentials: {
					genesysContextServicesApi: {
						type: new GenesysContextServicesApi(),
						data: { baseUrl: short.baseUrl },
					},
				},
			});
			harnesses.push(h);
			const [items] = await h.execute();
			expect(items.map((i) => i.json)).toEqual([
				{ path: 'C:/export20261120_101500_042_se', kind: 'services' },
				{ path: 'C:/export20261120_101500_042_st', kind: 'states' },
				{ path: 'C:/export20261120_101500_042_ta', kind: 'tasks' },
			]);
		} finally {
			await short.close();
		}
	});

	it('streams service IDs, or whole services filtered by state', async () => {
		const ids = await run({ operation: 'exportStream', ...OCTOBER });
		const expected = sim.select({
			time_from: '2026-10-05T00:00:00.000Z',
			time_to: '2026-10-12T10:30:00.000Z',
		});
		expect(expected.length).toBeGreaterThan(100);
		expect(ids.map((i) => i.json.serviceId)).toEqual(expected.map((s) => s.service_id));

		const active = await run({
			operation: 'exportStream',
			...OCTOBER,
			exportContent: true,
			filterState: 'active',
		});
		const expectedActive = sim.select({
			time_from: '2026-10-05T00:00:00.000Z',
			time_to: '2026-10-12T10:30:00.000Z',
			export_content: 'true',
			filter_state: 'active',
		});
		expect(active.map((i) => i.json)).toEqual(expectedActive);
		expect(active.every((i) => i.json.active === true)).toBe(true);
	});

	it('gets each listed service with a concurrency limit, keeping the order', async () => {
		const items = await run({
			operation: 'exportStream',
			...OCTOBER,
			options: { getEachService: true, concurrency: 4, maxServices: 60 },
		});
		const expected = sim
			.select({ time_from: '2026-10-05T00:00:00.000Z', time_to: '2026-10-12T10:30:00.000Z' })
			.slice(0, 60);
		expect(items.map((i) => i.json)).toEqual(expected);
		expect(sim.maxConcurrentServiceReads()).toBeGreaterThan(1);
		expect(sim.maxConcurrentServiceReads()).toBeLessThanOrEqual(4);
	});

	it('refuses bad parameters before sending anything', async () => {
		const before = sim.requests.length;
		for (const [parameters, message] of [
			[
				{ operation: 'exportStream', timeFrom: 'last tuesday' },
				/time_from "last tuesday" is not a date/,
			],
			[{ operation: 'exportStream', timeFrom: '' }, /time_from is required/],
			[
				{
					operation: 'exportStream',
					timeFrom: '2026-10-05T00:00:00Z',
					timeTo: '2026-10-01T00:00:00Z',
				},
				/time_to .* is before time_from/,
			],
			[
				{ operation: 'exportToFiles', timeFrom: '2026-10-05T00:00:00Z', filePrefix: '' },
				/file_prefix is required/,
			],
			[
				{
					operation: 'exportToFiles',
					timeFrom: '2026-10-05T00:00:00Z',
					filePrefix: '/x',
					separator: '\n',
				},
				/separator cannot be a line break/,
			],
		] as const) {
			const [item] = await run(parameters as unknown as INodeParameters, true);
			expect(String(item.json.error)).toMatch(message);
		}
		// The node shows the state filter only with Export Content; the client refuses the combination too.
		const client = new ContextServicesClient({
			baseUrl: sim.baseUrl,
			send: () => Promise.reject(new Error('nothing may be sent')),
		});
		await expect(
			client.exportStream({ timeFrom: '2026-10-05T00:00:00Z', filterState: 'active' }).next(),
		).rejects.toThrow(/filter_state can only be used when export_content is true/);
		expect(sim.requests.length).toBe(before);
	});

	it('retries a 429 burst, and says what to check on 403', async () => {
		sim.controls.failNextRequests(2, 429, 0);
		expect(
			(await run({ operation: 'exportStream', ...OCTOBER, options: { maxServices: 3 } })).length,
		).toBe(3);
		const h = await createHarness({
			nodeType: new GenesysContextServices(),
			parameters: { operation: 'exportStream', ...OCTOBER },
			credentials: {
				genesysContextServicesApi: {
					type: new GenesysContextServicesApi(),
					data: { ...credential().genesysContextServicesApi.data, apiKey: 'wrong-key' },
				},
			},
		});
		harnesses.push(h);
		const error = await h.execute().then(
			() => undefined,
			(e: Error) => e,
		);
		expect(error?.message).toMatch(/HTTP 403.*check the API key/);
		expect(error?.message).not.toContain('wrong-key');
	});
});

describe('Context Services client: a large stream', () => {
	it('reads 100,000 service IDs as they arrive, without waiting for (or holding) the whole answer', async () => {
		const big = await startContextServicesSimulator({ services: 100_000, seed: 'big' });
		try {
			let received = 0;
			let total = 0;
			const client = new ContextServicesClient({
				baseUrl: big.baseUrl,
				send: async (request) => {
					const response = await fetch(request.url, {
						method: request.method,
						headers: request.headers,
					});
					// Count the bytes as the parser pulls them.
					const counted = (response.body as ReadableStream<Uint8Array>).pipeThrough(
						new TransformStream<Uint8Array, Uint8Array>({
							transform(chunk, controller) {
								received += chunk.length;
								controller.enqueue(chunk);
							},
						}),
					);
					return new Response(counted, { status: response.status, headers: response.headers });
				},
			});
			let count = 0;
			let receivedAtFirst = 0;
			for await (const id of client.exportStream({ timeFrom: '2000-01-01T00:00:00Z' })) {
				if (count === 0) receivedAtFirst = received;
				expect(typeof id).toBe('string');
				count++;
			}
			total = received;
			expect(count).toBe(100_000);
			expect(total).toBeGreaterThan(4_000_000);
			// The first ID came out after the first chunks, not after the 4+ MB answer.
			expect(receivedAtFirst).toBeLessThan(total / 10);
		} finally {
			await big.close();
		}
	});
});
