import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { forOperations, runIdField, toItems } from '../common';

export const description: INodeProperties[] = forOperations('run', ['get'], [runIdField]);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	return toItems(
		itemIndex,
		await client.getRun(this.getNodeParameter('runId', itemIndex) as string),
	);
}
