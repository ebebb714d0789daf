import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';
import { fileNameField } from './getDownloadUrl.operation';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['file'], operation: ['delete'] } },
	[fileNameField],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const fileName = (this.getNodeParameter('fileName', itemIndex) as string).trim();
	await client.deleteFile(fileName);
	return toItems(itemIndex, { fileName, deleted: true });
}
