import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { ConnectifClient } from '../../../../src/connectif/client';

/** Export ID only, a field shared with other operations (see ./index.ts). */
export const description: INodeProperties[] = [];

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: ConnectifClient,
): Promise<INodeExecutionData[]> {
	return [
		{
			json: (await client.getExport(
				this.getNodeParameter('exportId', itemIndex) as string,
			)) as IDataObject,
			pairedItem: { item: itemIndex },
		},
	];
}
