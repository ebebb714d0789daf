import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['referenceData'], operation: ['getAttributes'] } },
	[
		{
			displayName: 'Entities',
			name: 'entities',
			type: 'string',
			default: '',
			description: 'Which entities to list attributes of (as Genesys names them)',
		},
	],
);

/** The interaction attributes to filter on, as one item. */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const entities = (this.getNodeParameter('entities', itemIndex, '') as string) || undefined;
	return toItems(itemIndex, await client.attributes(entities));
}
