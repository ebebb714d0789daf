import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { forOperations, jobRequestFromParameters, jobSettingFields, toItems } from '../common';

export const description: INodeProperties[] = forOperations(
	'job',
	['create'],
	jobSettingFields(true),
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const job = await client.createJob(jobRequestFromParameters(this, itemIndex));
	return toItems(itemIndex, job);
}
