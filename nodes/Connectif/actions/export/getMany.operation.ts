import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { ConnectifClient } from '../../../../src/connectif/client';
import { paginationFields } from '../../../shared/descriptions';
import { forOperations } from '../common';

export const description: INodeProperties[] = forOperations(
	'export',
	['getMany'],
	paginationFields,
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
