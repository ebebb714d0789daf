/**
 * Reference data: the lists Genesys offers for job settings. The same calls feed the node's
 * dropdowns (methods/loadOptions.ts).
 */
import type { INodeProperties } from 'n8n-workflow';
import type { GenesysDataExportMap, OperationExecute } from '../node.type';
import * as getAttributes from './getAttributes.operation';
import * as getJobStatuses from './getJobStatuses.operation';
import * as getLabels from './getLabels.operation';
import * as getSources from './getSources.operation';
import * as getSubTypes from './getSubTypes.operation';
import * as getTypes from './getTypes.operation';
import * as getVersion from './getVersion.operation';

export const operations: Record<GenesysDataExportMap['referenceData'], OperationExecute> = {
	getAttributes: getAttributes.execute,
	getJobStatuses: getJobStatuses.execute,
	getLabels: getLabels.execute,
	getSources: getSources.execute,
	getSubTypes: getSubTypes.execute,
	getTypes: getTypes.execute,
	getVersion: getVersion.execute,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['referenceData'] } },
		options: [
			{
				name: 'Get Attributes',
				value: 'getAttributes',
				description: 'Interaction attributes to filter on (UDM v10)',
				action: 'Get attributes',
			},
			{ name: 'Get Data Sources', value: 'getSources', action: 'Get data sources' },
			{ name: 'Get Data Types', value: 'getTypes', action: 'Get data types' },
			{ name: 'Get Job Statuses', value: 'getJobStatuses', action: 'Get job statuses' },
			{
				name: 'Get Labels',
				value: 'getLabels',
				description: 'Labels and their values (UDM v10)',
				action: 'Get labels',
			},
			{
				name: 'Get Media Types',
				value: 'getSubTypes',
				description: 'The sub-types (media types) of a data type',
				action: 'Get media types',
			},
			{
				name: 'Get Version',
				value: 'getVersion',
				description: 'The version of the export service',
				action: 'Get the service version',
			},
		],
		default: 'getSources',
	},
	...getSources.description,
	...getTypes.description,
	...getSubTypes.description,
	...getAttributes.description,
	...getJobStatuses.description,
	...getLabels.description,
	...getVersion.description,
];
