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
	{ show: { resource: ['run'], operation: ['getMany'] } },
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
				{ displayName: 'File Name Contains', name: 'fileName', type: 'string', default: '' },
				{
					displayName: 'Job ID',
					name: 'jobId',
					type: 'string',
					default: '',
					description: 'Only runs of this job',
				},
				{
					displayName: 'Order By',
					name: 'orderField',
					type: 'string',
					default: '',
					placeholder: 'createdDate',
				},
				{
					displayName: 'Status Name or ID',
					name: 'status',
					type: 'options',
					typeOptions: { loadOptionsMethod: 'getJobStatuses' },
					default: '',
					description:
						'Only runs with this status. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
				},
				{ displayName: 'Title Contains', name: 'title', type: 'string', default: '' },
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
	return pagedItems(this, itemIndex, client, (q) => client.listRuns(q), filters);
}
