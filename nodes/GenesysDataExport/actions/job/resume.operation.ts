import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { jobIdField, updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['job'], operation: ['resume'] } },
	[jobIdField],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const id = this.getNodeParameter('jobId', itemIndex) as string;
	await client.resumeJob(id);
	return toItems(itemIndex, { jobId: Number(id), resumed: true });
}
