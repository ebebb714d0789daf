import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { toItems } from '../../../shared/items';

/** No fields: a tenant has one certificate. */
export const description: INodeProperties[] = [];

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const certificate = await client.getCertificate();
	return toItems(itemIndex, certificate ? { uploaded: true, ...certificate } : { uploaded: false });
}
