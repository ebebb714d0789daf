import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient, JobRequest } from '../../../../src/genesys/client';
import { jobRequestFromParameters as jobRequestFromNodeParameters } from '../../../../src/genesys/jobs';
import { jobSettingFields, updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['job'], operation: ['create'] } },
	jobSettingFields(true),
);

/** The create request from the job settings (see src/genesys/jobs.ts), for Create and Wait too. */
export function jobRequestFromParameters(
	context: IExecuteFunctions,
	itemIndex: number,
	options: { forceImmediate?: boolean } = {},
): JobRequest {
	return jobRequestFromNodeParameters(
		<T>(name: string, fallback: T) =>
			context.getNodeParameter(name, itemIndex, fallback as never) as T,
		options,
	);
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const job = await client.createJob(jobRequestFromParameters(this, itemIndex));
	return toItems(itemIndex, job);
}
