import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src/genesys/models';
import {
	pollFinishedRuns,
	type RunCursor,
	type RunSource,
	type WatchOptions,
} from '../../src/genesys/runWatch';

const MIN = 60_000;
const T0 = Date.parse('2026-11-20T10:00:00Z');

/** Export history as the API lists it: newest first, paged. */
class History implements RunSource {
	runs: JobInfo[] = [];
	private next = 100;
	listCalls = 0;

	add(at: number, fields: Partial<JobInfo> = {}): JobInfo {
		const run: JobInfo = {
			id: this.next++,
			parentId: 7,
			title: 'Nightly',
			status: 'IN_PROGRESS',
			createdDate: new Date(at).toISOString(),
			...fields,
		};
		this.runs.push(run);
		return run;
	}

	finish(run: JobInfo, status = 'COMPLETED'): void {
		run.status = status;
	}

	async listRuns(query: { from: number; size: number }) {
		this.listCalls++;
		const sorted = [...this.runs].sort(
			(a, b) => Date.parse(b.createdDate ?? '') - Date.parse(a.createdDate ?? '') || b.id - a.id,
		);
		return {
			count: sorted.length,
			items: sorted.slice(query.from, query.from + query.size).map((r) => ({ ...r })),
		};
	}

	async getRun(id: number) {
		const run = this.runs.find((r) => r.id === id);
		if (!run) throw new Error('404');
		return { ...run };
	}
}

async function poll(
	history: History,
	cursor: RunCursor | undefined,
	now: number,
	options: WatchOptions = {},
) {
	return pollFinishedRuns(history, cursor, { pageSize: 3, ...options, now });
}

describe('pollFinishedRuns', () => {
	it('does not replay history on the first poll, then reports each finished run exactly once', async () => {
		const h = new History();
		const old = h.add(T0 - 120 * MIN, { status: 'COMPLETED' });
		const going = h.add(T0 - 90 * MIN);
		let r = await poll(h, undefined, T0);
		expect(r.runs).toEqual([]);
		expect(r.cursor.pending).toEqual([going.id]);

		const a = h.add(T0 + 1 * MIN);
		h.finish(going);
		r = await poll(h, r.cursor, T0 + 5 * MIN);
		expect(r.runs.map((x) => x.id)).toEqual([going.id]);
		expect(r.cursor.pending).toEqual([a.id]);

		h.finish(a, 'FAILED');
		const b = h.add(T0 + 6 * MIN, { status: 'COMPLETED' });
		r = await poll(h, r.cursor, T0 + 10 * MIN);
		expect(r.runs.map((x) => x.id)).toEqual([a.id, b.id]);
		r = await poll(h, r.cursor, T0 + 15 * MIN);
		expect(r.runs).toEqual([]);
		expect(old.id).toBeLessThan(going.id);
	});

	it('misses nothing when many runs finish between polls (more than one page)', async () => {
		const h = new History();
		let r = await poll(h, undefined, T0);
		const made = Array.from({ length: 11 }, (_, i) =>
			h.add(T0 + i * 1000, { status: i % 2 ? 'COMPLETED' : 'FAILED' }),
		);
		r = await poll(h, r.cursor, T0 + 2 * MIN);
		expect(r.runs.map((x) => x.id)).toEqual(made.map((x) => x.id));
		r = await poll(h, r.cursor, T0 + 3 * MIN);
		expect(r.runs).toEqual([]);
	});

	it('follows a pending run that scrolled out of the listing', async () => {
		const h = new History();
		let r = await poll(h, undefined, T0);
		const long = h.add(T0 + 1000);
		r = await poll(h, r.cursor, T0 + MIN);
		expect(r.cursor.pending).toEqual([long.id]);
		// Two days of other runs later, the long one ends.
		for (let i = 0; i < 10; i++) h.add(T0 + 2 * 24 * 60 * MIN + i * 1000, { status: 'COMPLETED' });
		r = await poll(h, r.cursor, T0 + 2 * 24 * 60 * MIN + MIN);
		h.finish(long);
		r = await poll(h, r.cursor, T0 + 2 * 24 * 60 * MIN + 2 * MIN);
		expect(r.runs.map((x) => x.id)).toEqual([long.id]);
		expect(r.cursor.pending).toEqual([]);
	});

	it('drops a pending run that was deleted', async () => {
		const h = new History();
		let r = await poll(h, undefined, T0);
		const run = h.add(T0 + 1000);
		r = await poll(h, r.cursor, T0 + MIN);
		h.runs = h.runs.filter((x) => x !== run);
		r = await poll(h, r.cursor, T0 + 2 * MIN);
		expect(r.cursor.pending).toEqual([]);
		expect(r.runs).toEqual([]);
	});

	it('filters by ending, job id and job title, without reporting the filtered ones later', async () => {
		const h = new History();
		let r = await poll(h, undefined, T0, { status: 'completed' });
		const ok = h.add(T0 + 1000, { status: 'COMPLETED' });
		h.add(T0 + 2000, { status: 'FAILED' });
		h.add(T0 + 3000, { status: 'COMPLETED', parentId: 8, title: 'Other' });
		r = await poll(h, r.cursor, T0 + MIN, { status: 'completed', jobIds: [7] });
		expect(r.runs.map((x) => x.id)).toEqual([ok.id]);
		r = await poll(h, r.cursor, T0 + 2 * MIN, { status: 'any' });
		expect(r.runs).toEqual([]);

		const h2 = new History();
		let c = (await poll(h2, undefined, T0)).cursor;
		h2.add(T0 + 1000, { status: 'COMPLETED', title: 'Nightly contacts' });
		h2.add(T0 + 2000, { status: 'CANCELLED', title: 'weekly' });
		const res = await poll(h2, c, T0 + MIN, { jobTitle: 'nightly*' });
		expect(res.runs.map((x) => x.title)).toEqual(['Nightly contacts']);
		// Runs that existed at the first poll are history, whatever the filter.
		expect(
			(
				await poll(h2, (await poll(h2, undefined, T0 + MIN)).cursor, T0 + 2 * MIN, {
					status: 'failed',
				})
			).runs,
		).toEqual([]);
		const h3 = new History();
		c = (await poll(h3, undefined, T0)).cursor;
		h3.add(T0 + 1000, { status: 'COMPLETED', title: 'Nightly contacts' });
		h3.add(T0 + 2000, { status: 'CANCELLED', title: 'weekly' });
		expect((await poll(h3, c, T0 + MIN, { status: 'failed' })).runs.map((x) => x.title)).toEqual([
			'weekly',
		]);
	});

	it('replays runs since a date on the first poll when asked', async () => {
		const h = new History();
		h.add(T0 - 3 * 60 * MIN, { status: 'COMPLETED' });
		const recent = h.add(T0 - 30 * MIN, { status: 'COMPLETED' });
		const r = await poll(h, undefined, T0, { replaySince: T0 - 60 * MIN });
		expect(r.runs.map((x) => x.id)).toEqual([recent.id]);
	});

	it('keeps the cursor small: handled runs are forgotten once they cannot be listed again', async () => {
		const h = new History();
		let r = await poll(h, undefined, T0);
		for (let day = 0; day < 5; day++) {
			h.add(T0 + day * 24 * 60 * MIN, { status: 'COMPLETED' });
			r = await poll(h, r.cursor, T0 + day * 24 * 60 * MIN + MIN);
			expect(r.runs).toHaveLength(1);
		}
		expect(Object.keys(r.cursor.done).length).toBeLessThanOrEqual(2);
		expect(JSON.stringify(r.cursor).length).toBeLessThan(200);
	});
});
