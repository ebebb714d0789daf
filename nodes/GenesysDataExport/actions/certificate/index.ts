import type { INodeProperties } from 'n8n-workflow';
import type { GenesysDataExportMap, OperationExecute } from '../node.type';
import * as get from './get.operation';
import * as upload from './upload.operation';

export const operations: Record<GenesysDataExportMap['certificate'], OperationExecute> = {
	get: get.execute,
	upload: upload.execute,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['certificate'] } },
		options: [
			{
				name: 'Get',
				value: 'get',
				description: 'Get the certificate exports are encrypted to',
				action: 'Get the certificate',
			},
			{
				name: 'Upload',
				value: 'upload',
				description: 'Upload the certificate exports are encrypted to',
				action: 'Upload a certificate',
			},
		],
		default: 'get',
	},
	...get.description,
	...upload.description,
];
