import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = [];

/** The version of the export service, as one item. */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	return toItems(itemIndex, await client.version());
}
