import type { INodeProperties } from 'n8n-workflow';
import type { GenesysDataExportMap, OperationExecute } from '../node.type';
import * as del from './delete.operation';
import * as download from './download.operation';
import * as getDownloadUrl from './getDownloadUrl.operation';
import * as getMany from './getMany.operation';

export const operations: Record<GenesysDataExportMap['file'], OperationExecute> = {
	delete: del.execute,
	download: download.execute,
	getDownloadUrl: getDownloadUrl.execute,
	getMany: getMany.execute,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['file'] } },
		options: [
			{
				name: 'Delete',
				value: 'delete',
				description: 'Delete an export file',
				action: 'Delete a file',
			},
			{
				name: 'Download',
				value: 'download',
				description: 'Download export files, decrypt, reassemble, extract or read their records',
				action: 'Download files',
			},
			{
				name: 'Get Download URL',
				value: 'getDownloadUrl',
				description: 'Get a pre-signed link to a file',
				action: 'Get a download URL',
			},
			{
				name: 'Get Many',
				value: 'getMany',
				description: 'List export files',
				action: 'Get many files',
			},
		],
		default: 'download',
	},
	...getMany.description,
	...getDownloadUrl.description,
	...download.description,
	...del.description,
];
