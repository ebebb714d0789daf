import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { runIdField, updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['run'], operation: ['get'] } },
	[runIdField],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	return toItems(
		itemIndex,
		await client.getRun(this.getNodeParameter('runId', itemIndex) as string),
	);
}
