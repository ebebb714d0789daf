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
	{ show: { resource: ['file'], operation: ['getMany'] } },
	[
		...paginationFields,
		{
			displayName: 'Filters',
			name: 'filters',
			type: 'collection',
			placeholder: 'Add Filter',
			default: {},
			options: [
				{ displayName: 'Created After', name: 'startDate', type: 'dateTime', default: '' },
				{ displayName: 'Created Before', name: 'endDate', type: 'dateTime', default: '' },
				{
					displayName: 'Descending',
					name: 'descAsc',
					type: 'boolean',
					default: true,
					description: 'Whether to sort in descending order',
				},
				{ displayName: 'Job Title Contains', name: 'jobTitle', type: 'string', default: '' },
				{ displayName: 'Name Contains', name: 'name', type: 'string', default: '' },
				{
					displayName: 'Order By',
					name: 'orderField',
					type: 'string',
					default: '',
					placeholder: 'createdDate',
				},
				{
					displayName: 'Run ID',
					name: 'historyId',
					type: 'string',
					default: '',
					description: 'Only the files of this export run',
				},
				{ displayName: 'Source', name: 'source', type: 'string', default: '' },
				{ displayName: 'Type', name: 'type', type: 'string', default: '' },
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
	return pagedItems(this, itemIndex, client, (q) => client.listFiles(q), filters);
}
