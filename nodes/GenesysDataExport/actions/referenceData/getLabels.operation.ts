import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = [];

/** The labels and their values, as one item. */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	return toItems(itemIndex, await client.labels());
}
