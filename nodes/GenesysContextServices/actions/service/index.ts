import type { INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from '../../../shared/descriptions';
import { windowFields, type OperationExecute } from '../common';
import type { ServiceOperation } from '../node.type';
import * as exportStream from './exportStream.operation';
import * as exportToFiles from './exportToFiles.operation';

export const operations: Record<ServiceOperation, OperationExecute> = {
	exportStream: exportStream.execute,
	exportToFiles: exportToFiles.execute,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['service'] } },
		// Plain literals, as n8n's linter reads them; `operations` above checks the names.
		options: [
			{
				name: 'Export Stream',
				value: 'exportStream',
				description: 'Get the services of a period as items (IDs, or full data)',
				action: 'Export services as a stream',
			},
			{
				name: 'Export to Files',
				value: 'exportToFiles',
				description: 'Have the server write the services of a period to files',
				action: 'Export services to files',
			},
		],
		default: 'exportStream',
	},
	// The period is one set of fields for both exports.
	...updateDisplayOptions(
		{
			show: {
				resource: ['service'],
				operation: ['exportStream', 'exportToFiles'] satisfies ServiceOperation[],
			},
		},
		windowFields,
	),
	...exportStream.description,
	...exportToFiles.description,
	...exportStream.optionsDescription,
];
