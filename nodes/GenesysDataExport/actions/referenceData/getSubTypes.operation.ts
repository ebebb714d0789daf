import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';

/** The source is Get Data Types' Source field, shown for both operations. */
export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['referenceData'], operation: ['getSubTypes'] } },
	[
		{
			displayName: 'Data Type',
			name: 'referenceDataType',
			type: 'string',
			default: 'Interaction',
			description: 'The data type whose media types to list',
		},
	],
);

/** The sub-types (media types) of a source's data type (one item each). */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const source = (this.getNodeParameter('referenceSource', itemIndex, '') as string) || undefined;
	const dataType =
		(this.getNodeParameter('referenceDataType', itemIndex, '') as string) || undefined;
	return toItems(itemIndex, await client.subTypes(source, dataType));
}
