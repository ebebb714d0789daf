/**
 * Watching export runs finish, poll after poll, with a cursor small enough for an n8n workflow's
 * static data. Runs have a creation date and a status but no end date, so the cursor remembers:
 * - `scanFrom`: runs created before it were all seen (finished or pending) — listing stops there;
 * - `pending`: runs seen unfinished; each is looked at again until it ends, even when it has
 *   scrolled out of the listing;
 * - `done`: finished runs already handled near `scanFrom`, so a run listed again is not emitted twice.
 * The first poll only records what exists (nothing is replayed) unless `replaySince` is given.
 */
import { runState, type RunState } from './client';
import type { JobInfo, PagedResponse } from './models';

export interface RunCursor {
	/** Epoch ms. */
	scanFrom: number;
	pending: number[];
	/** run id → creation epoch ms. */
	done: Record<string, number>;
}

export interface RunSource {
	listRuns(query: {
		from: number;
		size: number;
		orderField: string;
		descAsc: boolean;
	}): Promise<PagedResponse<JobInfo>>;
	getRun(id: number): Promise<JobInfo>;
}

export type FinishedFilter = 'completed' | 'failed' | 'any';

export interface WatchOptions {
	/** Which endings to report: completed, failed (failed or cancelled), or any. */
	status?: FinishedFilter;
	/** Only runs of these job ids (a run's `parentId`). */
	jobIds?: number[];
	/** Only runs whose title matches (case-insensitive, `*` wildcard). */
	jobTitle?: string;
	/** First poll: report runs created since this epoch ms instead of none. */
	replaySince?: number;
	now?: number;
	/** Runs may appear in the listing late or with a skewed clock: look this far behind (default 15 min). */
	marginMs?: number;
	pageSize?: number;
	/** Never list more than this many pages in one poll (default 20). */
	maxPages?: number;
	/** First poll: how far back to look for runs still going, which are then followed (default 3 days). */
	firstLookbackMs?: number;
}

export interface WatchResult {
	runs: JobInfo[];
	cursor: RunCursor;
}

function createdAt(run: JobInfo): number | undefined {
	const t = run.createdDate ? Date.parse(run.createdDate) : Number.NaN;
	return Number.isNaN(t) ? undefined : t;
}

function titleMatcher(pattern: string | undefined): (title: string | null | undefined) => boolean {
	const p = (pattern ?? '').trim();
	if (p === '') return () => true;
	const re = new RegExp(
		`^${p
			.split('*')
			.map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
			.join('.*')}$`,
		'i',
	);
	return (title) => re.test(title ?? '');
}

export function runMatches(run: JobInfo, state: RunState, options: WatchOptions): boolean {
	const status = options.status ?? 'any';
	if (state === 'running') return false;
	if (status === 'completed' && state !== 'completed') return false;
	if (status === 'failed' && state !== 'failed' && state !== 'cancelled') return false;
	if (
		options.jobIds &&
		options.jobIds.length > 0 &&
		!options.jobIds.includes(Number(run.parentId ?? run.id))
	)
		return false;
	return titleMatcher(options.jobTitle)(run.title);
}

/** One poll: the runs that finished since the cursor (oldest first), and the next cursor. */
export async function pollFinishedRuns(
	source: RunSource,
	cursor: RunCursor | undefined,
	options: WatchOptions = {},
): Promise<WatchResult> {
	const now = options.now ?? Date.now();
	const margin = options.marginMs ?? 15 * 60_000;
	const pageSize = options.pageSize ?? 100;
	const maxPages = options.maxPages ?? 20;
	const first = cursor === undefined;
	const scanFrom = cursor?.scanFrom ?? (options.replaySince ?? now) - margin;
	const pending = new Set(cursor?.pending ?? []);
	const done: Record<string, number> = { ...(cursor?.done ?? {}) };

	// Newest first, down to the scan limit; the first poll looks further back for runs still going.
	const listFrom = first
		? Math.min(scanFrom - margin, now - (options.firstLookbackMs ?? 3 * 24 * 3_600_000))
		: scanFrom - margin;
	const listed = new Map<number, JobInfo>();
	let newest = scanFrom;
	for (let page = 0; page < maxPages; page++) {
		const answer = await source.listRuns({
			from: page * pageSize,
			size: pageSize,
			orderField: 'createdDate',
			descAsc: true,
		});
		let older = false;
		for (const run of answer.items) {
			const t = createdAt(run);
			if (t !== undefined && t < listFrom) {
				older = true;
				continue;
			}
			listed.set(run.id, run);
			if (t !== undefined && t > newest) newest = t;
		}
		if (older || answer.items.length < pageSize) break;
	}
	// Pending runs that scrolled out of the listing are asked for one by one.
	for (const id of pending) {
		if (listed.has(id)) continue;
		try {
			listed.set(id, await source.getRun(id));
		} catch {
			// Deleted meanwhile (or past retention): nothing to report.
			pending.delete(id);
		}
	}

	const runs: JobInfo[] = [];
	for (const run of [...listed.values()].sort(
		(a, b) => (createdAt(a) ?? 0) - (createdAt(b) ?? 0) || a.id - b.id,
	)) {
		const key = String(run.id);
		if (done[key] !== undefined) continue;
		const state = runState(run.status);
		if (state === 'running') {
			pending.add(run.id);
			continue;
		}
		const t = createdAt(run) ?? now;
		done[key] = t;
		const wasPending = pending.delete(run.id);
		const isNew = first
			? options.replaySince !== undefined && t >= options.replaySince
			: wasPending || t >= scanFrom - margin;
		if (isNew && runMatches(run, state, options)) runs.push(run);
	}

	const nextScanFrom = Math.max(scanFrom, Math.min(newest, now));
	for (const [id, t] of Object.entries(done)) if (t < nextScanFrom - 2 * margin) delete done[id];
	return {
		runs,
		cursor: { scanFrom: nextScanFrom, pending: [...pending].sort((a, b) => a - b), done },
	};
}

// ---- the files of a run ---------------------------------------------------------------------------

/** A split export's part or its last part: `<name>.z01` … `<name>.zip`, S/MIME-wrapped or not. */
const EXPORT_FILE = /\.(zip|z\d{2,})(\.smime)?$/i;

/**
 * The name every file of a run starts with, from the export file the history gives it
 * (`fileName`, `export-<uuid>.zip.smime` → `export-<uuid>`); undefined when it gives none.
 */
export function exportNameOf(
	run: Partial<Pick<JobInfo, 'fileName' | 'filename'>>,
): string | undefined {
	const name = (run.fileName ?? run.filename ?? '').trim();
	if (name === '') return undefined;
	const base = EXPORT_FILE.test(name)
		? name.replace(EXPORT_FILE, '')
		: name.replace(/\.smime$/i, '');
	return base === '' ? undefined : base;
}

/**
 * Whether a listed file belongs to run `runId`: by its `historyId` when it carries one, else by
 * its name being a part of the run's export (`exportName`). With neither, only a file listed
 * under v10's `historyId` filter (no export name known) is kept.
 */
export function isFileOfRun(
	file: { name: string; historyId?: number | null },
	runId: number | string,
	exportName: string | undefined,
): boolean {
	if (file.historyId !== undefined && file.historyId !== null)
		return String(file.historyId) === String(runId);
	if (exportName === undefined) return true;
	return (
		file.name.length > exportName.length &&
		file.name.startsWith(exportName) &&
		EXPORT_FILE.test(file.name) &&
		file.name.slice(exportName.length).replace(EXPORT_FILE, '') === ''
	);
}
