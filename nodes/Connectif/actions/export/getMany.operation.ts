import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { ConnectifClient } from '../../../../src/connectif/client';
import { forOperations } from '../common';

export const description: INodeProperties[] = forOperations(
	'export',
	['getMany'],
	[
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 50,
			description: 'Max number of results to return',
			displayOptions: { show: { returnAll: [false] } },
		},
	],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: ConnectifClient,
): Promise<INodeExecutionData[]> {
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? undefined : (this.getNodeParameter('limit', itemIndex, 50) as number);
	const pairedItem = { item: itemIndex };
	const items: INodeExecutionData[] = [];
	for await (const exp of client.listExports({ limit }))
		items.push({ json: exp as IDataObject, pairedItem });
	return items;
}
