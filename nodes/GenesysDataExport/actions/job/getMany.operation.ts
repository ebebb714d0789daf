import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { paginationFields, updateDisplayOptions } from '../../../shared/descriptions';
import { cleanFilters, pagedItems } from '../../../shared/pagedItems';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['job'], operation: ['getMany'] } },
	[
		...paginationFields,
		{
			displayName: 'Filters',
			name: 'filters',
			type: 'collection',
			placeholder: 'Add Filter',
			default: {},
			options: [
				{
					displayName: 'Descending',
					name: 'descAsc',
					type: 'boolean',
					default: true,
					description: 'Whether to sort in descending order',
				},
				{
					displayName: 'Order By',
					name: 'orderField',
					type: 'string',
					default: '',
					placeholder: 'createdDate',
				},
				{
					displayName: 'Schedule Type',
					name: 'scheduleType',
					type: 'string',
					default: '',
					description: 'Only jobs with this schedule type, as Genesys names it',
				},
				{ displayName: 'Source', name: 'source', type: 'string', default: '', placeholder: 'UCS' },
				{
					displayName: 'Suspended',
					name: 'suspend',
					type: 'options',
					options: [
						{ name: 'Any', value: '' },
						{ name: 'Only Suspended', value: 'true' },
						{ name: 'Only Active', value: 'false' },
					],
					default: '',
				},
				{ displayName: 'Title Contains', name: 'title', type: 'string', default: '' },
				{
					displayName: 'Type',
					name: 'type',
					type: 'string',
					default: '',
					placeholder: 'Interaction',
				},
			],
		},
	],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const filters = cleanFilters(this.getNodeParameter('filters', itemIndex, {}) as IDataObject);
	return pagedItems(this, itemIndex, client, (q) => client.listJobs(q), filters);
}
