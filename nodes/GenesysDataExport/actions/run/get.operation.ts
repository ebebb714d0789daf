import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { runIdFields, updateDisplayOptions } from '../../../shared/descriptions';
import { chosenId } from '../ids';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['run'], operation: ['get'] } },
	runIdFields(),
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	return toItems(itemIndex, await client.getRun(chosenId(this, 'runId', itemIndex)));
}
