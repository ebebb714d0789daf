import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';
import { runState, type GenesysClient } from '../../../../src/genesys/client';
import type { JobInfo } from '../../../../src/genesys/models';
import { forOperations, runIdField, toItems, waitOptionFields, waitOptions } from '../common';

export const description: INodeProperties[] = forOperations(
	'run',
	['waitForCompletion'],
	[
		runIdField,
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

/** The finished run as an item: its state, and its files when asked; an error for a failed run unless told otherwise. */
export async function finishedRun(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
	run: JobInfo,
	options: { failOnRunFailure: boolean; includeFiles: boolean },
	title?: string,
): Promise<IDataObject> {
	const state = runState(run.status);
	if (state !== 'completed' && options.failOnRunFailure) {
		throw new NodeOperationError(
			this.getNode(),
			`Export run ${run.id}${title ? ` of "${title}"` : ''} ended ${run.status ?? state}${run.description ? `: ${run.description}` : ''}`,
			{
				itemIndex,
				description:
					'Check the job in Genesys (its history page shows why), or switch off "Fail When the Run Fails" to get the run as an item',
			},
		);
	}
	const result: IDataObject = { ...(run as IDataObject), state };
	if (options.includeFiles && state === 'completed') {
		const files = await client.runFiles(run);
		result.files = files as IDataObject[];
		result.fileNames = files.map((f) => f.name);
	}
	return result;
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const id = this.getNodeParameter('runId', itemIndex) as string;
	const options = waitOptions(this, itemIndex);
	const run = await client.waitForRun(id, options);
	return toItems(itemIndex, await finishedRun.call(this, itemIndex, client, run, options));
}
