import type { INodeProperties } from 'n8n-workflow';
import type { GenesysDataExportMap, OperationExecute } from '../node.type';
import * as cancel from './cancel.operation';
import * as clone from './clone.operation';
import * as create from './create.operation';
import * as createAndWait from './createAndWait.operation';
import * as del from './delete.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as resume from './resume.operation';
import * as suspend from './suspend.operation';
import * as update from './update.operation';

export const operations: Record<GenesysDataExportMap['job'], OperationExecute> = {
	cancel: cancel.execute,
	clone: clone.execute,
	create: create.execute,
	createAndWait: createAndWait.execute,
	delete: del.execute,
	get: get.execute,
	getMany: getMany.execute,
	resume: resume.execute,
	suspend: suspend.execute,
	update: update.execute,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['job'] } },
		options: [
			{
				name: 'Cancel',
				value: 'cancel',
				description: 'Cancel an unfinished run of a job',
				action: 'Cancel a job',
			},
			{
				name: 'Clone',
				value: 'clone',
				description: 'Create a new job with the settings of an existing one',
				action: 'Clone a job',
			},
			{
				name: 'Create',
				value: 'create',
				description: 'Create an export job, run now or on a schedule',
				action: 'Create a job',
			},
			{
				name: 'Create and Wait',
				value: 'createAndWait',
				description: 'Create a job that runs now and wait until its run has finished',
				action: 'Create a job and wait for its run',
			},
			{ name: 'Delete', value: 'delete', description: 'Delete a job', action: 'Delete a job' },
			{ name: 'Get', value: 'get', description: 'Get a job', action: 'Get a job' },
			{ name: 'Get Many', value: 'getMany', description: 'Get many jobs', action: 'Get many jobs' },
			{
				name: 'Resume',
				value: 'resume',
				description: 'Resume a suspended job',
				action: 'Resume a job',
			},
			{
				name: 'Suspend',
				value: 'suspend',
				description: 'Suspend a scheduled job',
				action: 'Suspend a job',
			},
			{
				name: 'Update',
				value: 'update',
				description: 'Update a job that has not started',
				action: 'Update a job',
			},
		],
		default: 'createAndWait',
	},
	...create.description,
	...createAndWait.description,
	...get.description,
	...getMany.description,
	...update.description,
	...del.description,
	...cancel.description,
	...suspend.description,
	...resume.description,
	...clone.description,
];
