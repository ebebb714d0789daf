import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { jobIdField, updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['job'], operation: ['get'] } },
	[jobIdField],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	return toItems(
		itemIndex,
		await client.getJob(this.getNodeParameter('jobId', itemIndex) as string),
	);
}
