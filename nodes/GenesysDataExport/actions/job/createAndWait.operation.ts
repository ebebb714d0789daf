import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import {
	jobSettingFields,
	updateDisplayOptions,
	waitOptionsCollection,
} from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';
import { finishedRun, waitOptions } from '../run/waitForCompletion.operation';
import { jobRequestFromParameters } from './create.operation';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['job'], operation: ['createAndWait'] } },
	[
		...jobSettingFields(true).filter(
			(field) => !['run', 'startDate', 'cron', 'runs'].includes(field.name),
		),
		waitOptionsCollection,
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
