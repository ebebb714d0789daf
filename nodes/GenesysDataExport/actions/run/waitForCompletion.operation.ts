import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';
import { runState, type GenesysClient } from '../../../../src/genesys/client';
import type { JobInfo } from '../../../../src/genesys/models';
import {
	runIdFields,
	updateDisplayOptions,
	waitOptionsCollection,
} from '../../../shared/descriptions';
import { chosenId } from '../ids';
import { toItems } from '../../../shared/items';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['run'], operation: ['waitForCompletion'] } },
	[...runIdFields(), waitOptionsCollection],
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

/** The wait options of an item (waitOptionsCollection), as the client's waits take them. */
export function waitOptions(context: IExecuteFunctions, itemIndex: number) {
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	return {
		pollIntervalMs: Number(options.pollInterval ?? 10) * 1000,
		timeoutMs: Number(options.timeout ?? 60) * 60_000,
		failOnRunFailure: options.failOnRunFailure !== false,
		includeFiles: options.includeFiles !== false,
		signal:
			typeof context.getExecutionCancelSignal === 'function'
				? context.getExecutionCancelSignal()
				: undefined,
	};
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const id = chosenId(this, 'runId', itemIndex);
	const options = waitOptions(this, itemIndex);
	const run = await client.waitForRun(id, options);
	return toItems(itemIndex, await finishedRun.call(this, itemIndex, client, run, options));
}
