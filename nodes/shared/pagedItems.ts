/**
 * The Get Many operations of Genesys Data Export: a paged Genesys list (jobs, runs, files) read page
 * by page up to Return All / Limit (paginationFields in descriptions.ts), with the filters given.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { GenesysClient, ListQuery } from '../../src/genesys/client';
import type { PagedResponse } from '../../src/genesys/models';
import { toItems } from './items';

/** Every item of a paged Genesys list, honouring Return All / Limit. */
export async function pagedItems<T extends object>(
	context: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
	page: (query: ListQuery) => Promise<PagedResponse<T>>,
	filters: ListQuery,
): Promise<INodeExecutionData[]> {
	const returnAll = context.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll
		? undefined
		: (context.getNodeParameter('limit', itemIndex, 50) as number);
	const results: IDataObject[] = [];
	for await (const item of client.all((q) => page({ ...filters, ...q }), { limit }))
		results.push(item as IDataObject);
	return toItems(itemIndex, results);
}

/** Drops empty filter values so they are not sent. */
export function cleanFilters(filters: IDataObject): ListQuery {
	const query: ListQuery = {};
	for (const [name, value] of Object.entries(filters)) {
		if (value === '' || value === undefined || value === null) continue;
		if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
			query[name] = value;
	}
	return query;
}
