import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { runState, type GenesysClient } from '../../../../src/genesys/client';
import { runIdFields, updateDisplayOptions } from '../../../shared/descriptions';
import { chosenId } from '../ids';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['run'], operation: ['getProgress'] } },
	runIdFields(),
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const id = chosenId(this, 'runId', itemIndex);
	const progress = await client.getRunProgress(id);
	return toItems(itemIndex, { runId: Number(id), ...progress, state: runState(progress.status) });
}
