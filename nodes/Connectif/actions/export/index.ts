import type { INodeProperties } from 'n8n-workflow';
import { forOperations } from '../common';
import type { ExportOperation, OperationExecute } from '../node.type';
import * as create from './create.operation';
import * as download from './download.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as waitForCompletion from './waitForCompletion.operation';

export const operations: Record<ExportOperation, OperationExecute> = {
	create: create.execute,
	download: download.execute,
	get: get.execute,
	getMany: getMany.execute,
	waitForCompletion: waitForCompletion.execute,
};

/** One field for the operations that work on an existing export. */
const exportIdField: INodeProperties[] = forOperations(
	'export',
	['get', 'waitForCompletion', 'download'],
	[
		{
			displayName: 'Export ID',
			name: 'exportId',
			type: 'string',
			required: true,
			default: '',
		},
	],
);

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['export'] } },
		options: [
			{
				name: 'Create',
				value: 'create',
				description: 'Start an export of contacts, activities or a data explorer report',
				action: 'Create an export',
			},
			{
				name: 'Download',
				value: 'download',
				description: 'Download the file of a finished export, as a file or as rows',
				action: 'Download an export',
			},
			{
				name: 'Get',
				value: 'get',
				description: 'Get an export and its status',
				action: 'Get an export',
			},
			{
				name: 'Get Many',
				value: 'getMany',
				description: 'List exports',
				action: 'Get many exports',
			},
			{
				name: 'Wait for Completion',
				value: 'waitForCompletion',
				description: 'Wait until an export is finished',
				action: 'Wait for an export to finish',
			},
		],
		default: 'create',
	},
	...create.description,
	...exportIdField,
	...get.description,
	...getMany.description,
	...waitForCompletion.description,
	...download.description,
];
