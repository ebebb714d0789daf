/**
 * The Genesys Export Trigger polling the simulator: runs finishing between polls are reported
 * once each, none lost, nothing replayed on activation; manual mode shows the latest run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenesysMulticloudApi } from '../../credentials/GenesysMulticloudApi.credentials';
import { GenesysExportTrigger } from '../../nodes/GenesysExportTrigger/GenesysExportTrigger.node';
import { makeRecipient, tempDir } from '../helpers/fixtures.mjs';
import { startGenesysSimulator, type GenesysSimulator, type SimJob } from '../simulator/genesys';
import { createHarness, type Harness } from './harness';

let sim: GenesysSimulator;
let dir: ReturnType<typeof tempDir>;
const harnesses: Harness[] = [];
let clock = Date.now();

beforeAll(async () => {
	dir = tempDir('cx-trigger-');
	const recipient = makeRecipient(dir.path, 'trigger');
	// The simulator's clock is driven by the test: runs finish when the test says so.
	sim = await startGenesysSimulator({
		runDurationMs: 60_000,
		now: () => clock,
		certificate: recipient.cert.toString('utf8'),
	});
});

afterAll(async () => {
	for (const h of harnesses) await h.close();
	await sim.close();
	dir.remove();
});

async function trigger(parameters: Record<string, unknown> = {}): Promise<Harness> {
	const h = await createHarness({
		nodeType: new GenesysExportTrigger(),
		parameters: parameters as never,
		credentials: {
			genesysMulticloudApi: {
				type: new GenesysMulticloudApi(),
				data: {
					region: 'custom',
					customBaseUrl: sim.baseUrl,
					apiKey: 'sim-api-key',
					clientId: 'sim-client',
					clientSecret: 'sim-secret',
					grantType: 'clientCredentials',
				},
			},
		},
	});
	harnesses.push(h);
	return h;
}

let jobs = 0;
function job(title: string): SimJob {
	const created: SimJob = {
		id: 9000 + jobs++,
		title,
		type: 'UCS',
		source: 'UCS',
		dataType: 'Contact',
		media: [],
		fileSplitSize: '1MB',
		exportAttachments: false,
		timeFrame: { all: true },
		schedulerParam: { immediately: false, cron: '0 0 2 * * ?' },
		suspended: false,
		cancelled: false,
		createdAt: clock,
	};
	sim.state.jobs.set(created.id, created);
	return created;
}

const ids = (items: Array<{ json: { id?: unknown } }> | undefined) =>
	(items ?? []).map((i) => i.json.id);

describe('Genesys Export Trigger', () => {
	it('reports each run that finishes once, across polls, never the history before activation', async () => {
		const nightly = job('Nightly contacts');
		const before = sim.controls.triggerSchedule(nightly.id);
		clock += 61_000; // `before` completes before the trigger is activated
		const h = await trigger({ status: 'any' });
		expect(await h.poll()).toBeNull();

		const a = sim.controls.triggerSchedule(nightly.id);
		clock += 1000;
		const b = sim.controls.triggerSchedule(nightly.id);
		expect(await h.poll()).toBeNull(); // both still running
		clock += 59_500; // a completes (60.5 s), b not yet (59.5 s)
		const first = await h.poll();
		expect(ids(first?.[0])).toEqual([a.id]);
		expect(first?.[0][0].json).toMatchObject({
			state: 'completed',
			parentId: nightly.id,
			fileNames: [expect.stringMatching(/\.zip\.smime$/)],
		});

		sim.controls.failNextRun('Export failed: quota');
		clock += 2000; // b fails
		const c = sim.controls.triggerSchedule(nightly.id);
		clock += 61_000; // c completes too
		const second = await h.poll();
		expect(ids(second?.[0])).toEqual([b.id, c.id]);
		expect(second?.[0][0].json).toMatchObject({
			state: 'failed',
			description: 'Export failed: quota',
		});
		expect(await h.poll()).toBeNull();
		expect(ids(first?.[0])).not.toContain(before.id);
	});

	it('filters by ending and by job, and shows the latest run in manual mode', async () => {
		const wanted = job('Weekly EU');
		const other = job('Daily US');
		const h = await trigger({ status: 'completed', filters: { jobIds: [String(wanted.id)] } });
		expect(await h.poll()).toBeNull();
		sim.controls.triggerSchedule(other.id);
		const mine = sim.controls.triggerSchedule(wanted.id);
		clock += 61_000;
		expect(ids((await h.poll())?.[0])).toEqual([mine.id]);
		sim.controls.failNextRun('nope');
		const failed = sim.controls.triggerSchedule(wanted.id);
		clock += 61_000;
		expect(await h.poll()).toBeNull();
		expect(failed.status).toBe('Failed');

		const titled = await trigger({ status: 'any', filters: { jobTitle: 'weekly*' } });
		const sample = await titled.poll('manual');
		expect(sample?.[0]).toHaveLength(1);
		expect(sample?.[0][0].json).toMatchObject({ title: 'Weekly EU' });
		// Manual mode does not move the cursor.
		expect(titled.staticData).toEqual({});
	});

	it('replays runs since a date when asked, on the first poll only', async () => {
		const replayed = job('Replay');
		const since = new Date(clock).toISOString();
		const run = sim.controls.triggerSchedule(replayed.id);
		clock += 61_000;
		const h = await trigger({
			status: 'completed',
			filters: { jobIds: [String(replayed.id)] },
			options: { replaySince: since },
		});
		expect(ids((await h.poll())?.[0])).toEqual([run.id]);
		expect(await h.poll()).toBeNull();
	});

	it('keeps its cursor when a poll fails, so the next poll reports what the failed one missed', async () => {
		const flaky = job('Flaky');
		const h = await trigger({ status: 'completed', filters: { jobIds: [String(flaky.id)] } });
		expect(await h.poll()).toBeNull();
		const run = sim.controls.triggerSchedule(flaky.id);
		clock += 61_000;
		// 500 is not retried: the poll fails at once.
		sim.controls.failNextRequests(1, 500);
		await expect(h.poll()).rejects.toThrow(/HTTP 500/);
		expect(ids((await h.poll())?.[0])).toEqual([run.id]);
	});
});
