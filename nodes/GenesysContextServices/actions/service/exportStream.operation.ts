/**
 * Export Stream: the services of a period as items, read as the answer streams in: service IDs, the
 * services with their data, or each listed ID fetched by ID a few at a time (in the listed order).
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { ExportStreamRequest, FilterState } from '../../../../src/genesys/contextServices';
import { mapLimited } from '../../../../src/pipeline/mapLimited';
import { contextServicesClient } from '../../../shared/clients';
import { updateDisplayOptions } from '../../../shared/descriptions';
import { parameterReader, readWindow, stateOptions } from '../common';
import type { ServiceOperation } from '../node.type';

const displayOptions = {
	show: { resource: ['service'], operation: ['exportStream'] satisfies ServiceOperation[] },
};

export const description = updateDisplayOptions(displayOptions, [
	{
		displayName: 'Export Content',
		name: 'exportContent',
		type: 'boolean',
		default: false,
		description:
			'Whether to get every service with its data (export_content); off: service IDs only, much faster',
	},
	{
		displayName: 'State',
		name: 'filterState',
		type: 'options',
		options: stateOptions,
		default: 'any',
		description:
			'Only services in this state (filter_state; the API allows it only with Export Content)',
		displayOptions: { show: { exportContent: [true] } },
	},
]);

/** The Options collection: the node lists it last, after the fields of Export to Files. */
export const optionsDescription = updateDisplayOptions(displayOptions, [
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Get Each Service',
				name: 'getEachService',
				type: 'boolean',
				default: false,
				description:
					'Whether to fetch every listed ID with Query Service by ID (what the API reference advises instead of Export Content for large periods)',
			},
			{
				displayName: 'Concurrency',
				name: 'concurrency',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 50 },
				default: 5,
				description: 'With Get Each Service: how many requests at a time',
			},
			{
				displayName: 'Max Services',
				name: 'maxServices',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description: 'Stop after this many services (0: all). n8n keeps output items in memory.',
			},
		],
	},
]);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const get = parameterReader(this, itemIndex);
	const window = readWindow(get);
	const exportContent = get<boolean>('exportContent', false);
	const request: ExportStreamRequest = {
		...window,
		exportContent,
		filterState: exportContent ? get<FilterState>('filterState', 'any') : undefined,
	};
	const options = get<IDataObject>('options', {});
	const max = Number(options.maxServices ?? 0) > 0 ? Number(options.maxServices) : Infinity;
	const client = await contextServicesClient(this, itemIndex);
	const pairedItem = { item: itemIndex };
	const items: INodeExecutionData[] = [];
	let source: AsyncIterable<unknown> = client.exportStream(request);
	if (options.getEachService === true && !exportContent) {
		const ids = source;
		source = mapLimited(ids, Number(options.concurrency ?? 5), (id) =>
			client.getService(String(id)),
		);
	}
	for await (const value of source) {
		const json: IDataObject =
			value !== null && typeof value === 'object' && !Array.isArray(value)
				? (value as IDataObject)
				: { serviceId: value as string };
		items.push({ json, pairedItem });
		if (items.length >= max) break;
	}
	return items;
}
