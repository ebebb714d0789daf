import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { runState, type GenesysClient } from '../../../../src/genesys/client';
import { runIdField, updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['run'], operation: ['getProgress'] } },
	[runIdField],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const id = this.getNodeParameter('runId', itemIndex) as string;
	const progress = await client.getRunProgress(id);
	return toItems(itemIndex, { runId: Number(id), ...progress, state: runState(progress.status) });
}
