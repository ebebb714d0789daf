import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { jobIdFields, updateDisplayOptions } from '../../../shared/descriptions';
import { chosenId } from '../ids';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['job'], operation: ['suspend'] } },
	jobIdFields,
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const id = chosenId(this, 'jobId', itemIndex);
	await client.suspendJob(id);
	return toItems(itemIndex, { jobId: Number(id), suspended: true });
}
