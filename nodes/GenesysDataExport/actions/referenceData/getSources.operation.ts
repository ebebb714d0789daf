import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = [];

/** The data sources (one item each), as the Data Source dropdown lists them. */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	return toItems(itemIndex, await client.sources());
}
