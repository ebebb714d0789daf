import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { ConnectifClient } from '../../../../src/connectif/client';
import { forOperations } from '../common';

/** Export ID is a field shared with other operations (see ./index.ts). */
export const description: INodeProperties[] = forOperations(
	'export',
	['waitForCompletion'],
	[
		{
			displayName: 'Options',
			name: 'waitOptions',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Poll Interval (Seconds)',
					name: 'pollInterval',
					type: 'number',
					typeOptions: { minValue: 1 },
					default: 10,
				},
				{
					displayName: 'Timeout (Minutes)',
					name: 'timeout',
					type: 'number',
					typeOptions: { minValue: 1 },
					default: 60,
				},
			],
		},
	],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: ConnectifClient,
): Promise<INodeExecutionData[]> {
	const options = this.getNodeParameter('waitOptions', itemIndex, {}) as IDataObject;
	const finished = await client.waitForExport(
		this.getNodeParameter('exportId', itemIndex) as string,
		{
			pollIntervalMs: Number(options.pollInterval ?? 10) * 1000,
			timeoutMs: Number(options.timeout ?? 60) * 60_000,
			signal:
				typeof this.getExecutionCancelSignal === 'function'
					? this.getExecutionCancelSignal()
					: undefined,
		},
	);
	return [{ json: finished as IDataObject, pairedItem: { item: itemIndex } }];
}
