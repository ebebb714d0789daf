/**
 * Export to Files: the server writes the services of a period to files on its host; one item per
 * file it wrote, with the kind of data the file holds.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import {
	exportFileKind,
	type ExportToFilesRequest,
	type FilterState,
} from '../../../../src/genesys/contextServices';
import { contextServicesClient } from '../../../shared/clients';
import { updateDisplayOptions } from '../../../shared/descriptions';
import { parameterReader, readWindow, stateOptions } from '../common';
import type { ServiceOperation } from '../node.type';

export const description = updateDisplayOptions(
	{ show: { resource: ['service'], operation: ['exportToFiles'] satisfies ServiceOperation[] } },
	[
		{
			displayName: 'State',
			name: 'filterState',
			type: 'options',
			options: stateOptions,
			default: 'any',
			description: 'Only services in this state (filter_state)',
		},
		{
			displayName: 'File Prefix',
			name: 'filePrefix',
			type: 'string',
			required: true,
			default: '',
			placeholder: '/var/exports/cs-',
			description:
				'Path and file name prefix on the Context Services host (file_prefix); the server adds a timestamp and the data type',
		},
		{
			displayName: 'Format',
			name: 'format',
			type: 'options',
			options: [
				{ name: 'CSV', value: 'csv' },
				{ name: 'JSON', value: 'json' },
			],
			default: 'csv',
		},
		{
			displayName: 'Compression',
			name: 'compression',
			type: 'options',
			options: [
				{ name: 'None', value: 'uncompressed' },
				{ name: 'Zip', value: 'zip' },
				{ name: 'Gzip', value: 'gzip' },
			],
			default: 'uncompressed',
		},
		{
			displayName: 'CSV Separator',
			name: 'separator',
			type: 'string',
			default: ',',
			displayOptions: { show: { format: ['csv'] } },
		},
	],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const get = parameterReader(this, itemIndex);
	const request: ExportToFilesRequest = {
		...readWindow(get),
		filterState: get<FilterState>('filterState', 'any'),
		filePrefix: get<string>('filePrefix', ''),
		format: get<'csv' | 'json'>('format', 'csv'),
		compression: get<ExportToFilesRequest['compression']>('compression', 'uncompressed'),
		separator: get<string>('format', 'csv') === 'csv' ? get<string>('separator', ',') : undefined,
	};
	const client = await contextServicesClient(this, itemIndex);
	const paths = await client.exportToFiles(request);
	const pairedItem = { item: itemIndex };
	return paths.map((path) => ({ json: { path, kind: exportFileKind(path) ?? null }, pairedItem }));
}
