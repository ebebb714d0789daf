import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import {
	forOperations,
	jobRequestFromParameters,
	jobSettingFields,
	toItems,
	waitOptionFields,
	waitOptions,
} from '../common';
import { finishedRun } from '../run/waitForCompletion.operation';

export const description: INodeProperties[] = forOperations(
	'job',
	['createAndWait'],
	[
		...jobSettingFields(true).filter(
			(field) => !['run', 'startDate', 'cron', 'runs'].includes(field.name),
		),
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: waitOptionFields,
		},
	],
);

/** Creates a job that runs at once, waits for its run to end, and returns the run with its files. */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const options = waitOptions(this, itemIndex);
	const since = Date.now();
	const job = await client.createJob(
		jobRequestFromParameters(this, itemIndex, { forceImmediate: true }),
	);
	const run = await client.waitForJobRun(job.id, since, options);
	return toItems(
		itemIndex,
		await finishedRun.call(this, itemIndex, client, run, options, job.title ?? undefined),
	);
}
