import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { forOperations, jobIdField, toItems } from '../common';

export const description: INodeProperties[] = forOperations('job', ['get'], [jobIdField]);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	return toItems(
		itemIndex,
		await client.getJob(this.getNodeParameter('jobId', itemIndex) as string),
	);
}
