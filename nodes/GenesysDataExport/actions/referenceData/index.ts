/**
 * Reference data: the lists Genesys offers for job settings. The same calls feed the node's
 * dropdowns (methods/loadOptions.ts).
 */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { forOperations, toItems, type OperationExecute } from '../common';

const list = (itemIndex: number, items: object[]) => toItems(itemIndex, items as IDataObject[]);

export const operations: Record<string, OperationExecute> = {
	async getSources(this: IExecuteFunctions, i: number, client: GenesysClient) {
		return list(i, await client.sources());
	},
	async getTypes(this: IExecuteFunctions, i: number, client: GenesysClient) {
		return list(
			i,
			await client.types((this.getNodeParameter('referenceSource', i, '') as string) || undefined),
		);
	},
	async getSubTypes(this: IExecuteFunctions, i: number, client: GenesysClient) {
		const source = (this.getNodeParameter('referenceSource', i, '') as string) || undefined;
		const dataType = (this.getNodeParameter('referenceDataType', i, '') as string) || undefined;
		return list(i, await client.subTypes(source, dataType));
	},
	async getAttributes(this: IExecuteFunctions, i: number, client: GenesysClient) {
		return toItems(
			i,
			(await client.attributes(
				(this.getNodeParameter('entities', i, '') as string) || undefined,
			)) as IDataObject,
		);
	},
	async getJobStatuses(this: IExecuteFunctions, i: number, client: GenesysClient) {
		return list(i, await client.jobStatuses());
	},
	async getLabels(this: IExecuteFunctions, i: number, client: GenesysClient) {
		return toItems(i, (await client.labels()) as IDataObject);
	},
	async getVersion(this: IExecuteFunctions, i: number, client: GenesysClient) {
		return toItems(i, (await client.version()) as IDataObject);
	},
} satisfies Record<
	string,
	(this: IExecuteFunctions, i: number, client: GenesysClient) => Promise<INodeExecutionData[]>
>;

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['referenceData'] } },
		options: [
			{
				name: 'Get Attributes',
				value: 'getAttributes',
				description: 'Interaction attributes to filter on (UDM v10)',
				action: 'Get attributes',
			},
			{ name: 'Get Data Sources', value: 'getSources', action: 'Get data sources' },
			{ name: 'Get Data Types', value: 'getTypes', action: 'Get data types' },
			{ name: 'Get Job Statuses', value: 'getJobStatuses', action: 'Get job statuses' },
			{
				name: 'Get Labels',
				value: 'getLabels',
				description: 'Labels and their values (UDM v10)',
				action: 'Get labels',
			},
			{
				name: 'Get Media Types',
				value: 'getSubTypes',
				description: 'The sub-types (media types) of a data type',
				action: 'Get media types',
			},
			{
				name: 'Get Version',
				value: 'getVersion',
				description: 'The version of the export service',
				action: 'Get the service version',
			},
		],
		default: 'getSources',
	},
	...forOperations(
		'referenceData',
		['getTypes', 'getSubTypes'],
		[
			{
				displayName: 'Source',
				name: 'referenceSource',
				type: 'string',
				default: 'UCS',
				description: 'The data source',
			},
		],
	),
	...forOperations(
		'referenceData',
		['getSubTypes'],
		[
			{
				displayName: 'Data Type',
				name: 'referenceDataType',
				type: 'string',
				default: 'Interaction',
				description: 'The data type whose media types to list',
			},
		],
	),
	...forOperations(
		'referenceData',
		['getAttributes'],
		[
			{
				displayName: 'Entities',
				name: 'entities',
				type: 'string',
				default: '',
				description: 'Which entities to list attributes of (as Genesys names them)',
			},
		],
	),
];
