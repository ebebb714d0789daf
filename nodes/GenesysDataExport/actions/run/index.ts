import type { INodeProperties } from 'n8n-workflow';
import type { GenesysDataExportMap, OperationExecute } from '../node.type';
import * as del from './delete.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as getProgress from './getProgress.operation';
import * as waitForCompletion from './waitForCompletion.operation';

export const operations: Record<GenesysDataExportMap['run'], OperationExecute> = {
	delete: del.execute,
	get: get.execute,
	getMany: getMany.execute,
	getProgress: getProgress.execute,
	waitForCompletion: waitForCompletion.execute,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['run'] } },
		options: [
			{
				name: 'Delete',
				value: 'delete',
				description: 'Delete a run from the export history',
				action: 'Delete a run',
			},
			{
				name: 'Get',
				value: 'get',
				description: 'Get a run of the export history',
				action: 'Get a run',
			},
			{
				name: 'Get Many',
				value: 'getMany',
				description: 'Get many runs of the export history',
				action: 'Get many runs',
			},
			{
				name: 'Get Progress',
				value: 'getProgress',
				description: 'Get how far a run has come',
				action: 'Get the progress of a run',
			},
			{
				name: 'Wait for Completion',
				value: 'waitForCompletion',
				description: 'Wait until a run has finished',
				action: 'Wait for a run to finish',
			},
		],
		default: 'getMany',
	},
	...get.description,
	...getMany.description,
	...getProgress.description,
	...del.description,
	...waitForCompletion.description,
];
