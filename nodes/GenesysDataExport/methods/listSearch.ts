/**
 * The searchable lists of the Job and Run resource locators: newest first, a page at a time, searched
 * by title (the API's "title contains" filter, checked here too, since not every API version applies
 * it) or by ID (a number typed into the search box finds that job or run first).
 */
import type {
	ILoadOptionsFunctions,
	INodeListSearchItems,
	INodeListSearchResult,
} from 'n8n-workflow';
import { ApiError } from '../../../src/errors';
import type { GenesysClient, ListQuery } from '../../../src/genesys/client';
import type { JobInfo, PagedResponse } from '../../../src/genesys/models';
import { toNodeError } from '../../shared/errors';
import { genesysClient } from '../../shared/transport';
import { jobEntry } from './jobEntry';

/** Entries asked for per page of the list. */
const PAGE = 50;
/** When a search matches little, pages are read on until this many entries were looked at. */
const MAX_SCANNED = 500;

/** `2026-11-29T02:00:13.000Z` → `2026-11-29 02:00 UTC`; other shapes as they are. */
function shortDate(value: string | null | undefined): string | undefined {
	if (!value) return undefined;
	const time = Date.parse(value);
	if (Number.isNaN(time)) return value;
	return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function runEntry(run: JobInfo): INodeListSearchItems {
	const when = shortDate(run.createdDate ?? run.dateTo);
	return {
		name: `${run.title || 'Untitled'} · ${run.status ?? 'status unknown'}${when ? ` · ${when}` : ''} (run ${run.id})`,
		value: String(run.id),
	};
}

async function search(
	context: ILoadOptionsFunctions,
	filter: string | undefined,
	paginationToken: string | undefined,
	list: (client: GenesysClient, query: ListQuery) => Promise<PagedResponse<JobInfo>>,
	get: (client: GenesysClient, id: string) => Promise<JobInfo>,
	entry: (item: JobInfo) => INodeListSearchItems,
): Promise<INodeListSearchResult> {
	const client = await genesysClient(context);
	const text = (filter ?? '').trim();
	const wanted = text.toLowerCase();
	const results: INodeListSearchItems[] = [];
	let from = Math.max(0, Number(paginationToken ?? 0) || 0);
	const byId = /^\d+$/.test(text);
	if (from === 0 && byId) {
		try {
			results.push(entry(await get(client, text)));
		} catch (error) {
			// No such ID: the titles may still match.
			if (!(error instanceof ApiError && [400, 404].includes(error.httpStatus)))
				throw toNodeError(context.getNode(), error, 0);
		}
	}
	let scanned = 0;
	for (;;) {
		const page = await list(client, {
			from,
			size: PAGE,
			orderField: 'createdDate',
			descAsc: true,
			...(text && !byId ? { title: text } : {}),
		});
		for (const item of page.items) {
			const value = String(item.id);
			if (results.some((r) => r.value === value)) continue;
			if (wanted && !(item.title ?? '').toLowerCase().includes(wanted) && value !== text) continue;
			results.push(entry(item));
		}
		const listed = page.scanned ?? page.items.length;
		from += listed;
		scanned += listed;
		const more = listed >= PAGE && (typeof page.count !== 'number' || from < page.count);
		if (!more) return { results };
		if (results.length >= PAGE / 2 || scanned >= MAX_SCANNED)
			return { results, paginationToken: String(from) };
	}
}

/** A list search method (n8n calls it with the node's context, the search text and the page token). */
function lister(
	list: (client: GenesysClient, query: ListQuery) => Promise<PagedResponse<JobInfo>>,
	get: (client: GenesysClient, id: string) => Promise<JobInfo>,
	entry: (item: JobInfo) => INodeListSearchItems,
) {
	return async function (
		this: ILoadOptionsFunctions,
		filter?: string,
		paginationToken?: string,
	): Promise<INodeListSearchResult> {
		return search(this, filter, paginationToken, list, get, entry);
	};
}

export const searchJobs = lister(
	(client, query) => client.listJobs(query),
	(client, id) => client.getJob(id),
	jobEntry,
);

export const searchRuns = lister(
	(client, query) => client.listRuns(query),
	(client, id) => client.getRun(id),
	runEntry,
);
