import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';

/** Get Media Types lists by source too: one field for both keeps its value across the two. */
export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['referenceData'], operation: ['getTypes', 'getSubTypes'] } },
	[
		{
			displayName: 'Source',
			name: 'referenceSource',
			type: 'string',
			default: 'UCS',
			description: 'The data source',
		},
	],
);

/** The data types of a source (one item each). */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const source = (this.getNodeParameter('referenceSource', itemIndex, '') as string) || undefined;
	return toItems(itemIndex, await client.types(source));
}
