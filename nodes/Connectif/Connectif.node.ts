import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import type {
	ConnectifClient,
	ConnectifExport,
	CreateExportRequest,
} from '../../src/connectif/client';
import { csvRows } from '../../src/csv/parse';
import { makeTempDir } from '../../src/pipeline/files';
import { zipEntries } from '../../src/zip';
import { connectifClient } from '../shared/clients';
import { binaryFromFile } from '../shared/exportOutput';
import { eachItem } from '../shared/items';

const show = (operation: string[], extra: IDataObject = {}) => ({
	show: { resource: ['export'], operation, ...extra },
});

const exportIdField: INodeProperties = {
	displayName: 'Export ID',
	name: 'exportId',
	type: 'string',
	required: true,
	default: '',
	displayOptions: show(['get', 'waitForCompletion', 'download']),
};

const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [{ name: 'Export', value: 'export' }],
		default: 'export',
	},
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
	{
		displayName: 'Export Type',
		name: 'exportType',
		type: 'options',
		options: [
			{ name: 'Activities', value: 'activities' },
			{ name: 'Contacts', value: 'contacts' },
			{ name: 'Data Explorer Report', value: 'dataExplorer' },
		],
		default: 'contacts',
		displayOptions: show(['create']),
	},
	{
		displayName: 'Report ID',
		name: 'reportId',
		type: 'string',
		required: true,
		default: '',
		displayOptions: show(['create'], { exportType: ['dataExplorer'] }),
	},
	{
		displayName: 'From',
		name: 'fromDate',
		type: 'dateTime',
		required: true,
		default: '',
		description: 'Start of the period (activities: at most 31 days before To)',
		displayOptions: show(['create'], { exportType: ['activities', 'dataExplorer'] }),
	},
	{
		displayName: 'To',
		name: 'toDate',
		type: 'dateTime',
		required: true,
		default: '',
		displayOptions: show(['create'], { exportType: ['activities', 'dataExplorer'] }),
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: show(['create']),
		options: [
			{
				displayName: 'Activity Types',
				name: 'activityTypes',
				type: 'string',
				default: '',
				placeholder: 'purchase, page-visit',
				description: 'Activities exports: only these types (comma-separated)',
			},
			{
				displayName: 'Date Format',
				name: 'dateFormat',
				type: 'string',
				default: '',
				description: 'How dates are written in the file (as Connectif names the formats)',
			},
			{
				displayName: 'Delimiter',
				name: 'delimiter',
				type: 'options',
				options: [
					{ name: 'Comma (,)', value: ',' },
					{ name: 'Semicolon (;)', value: ';' },
				],
				default: ',',
			},
			{
				displayName: 'Segment ID',
				name: 'segmentId',
				type: 'string',
				default: '',
				description: 'Contacts and activities exports: only contacts in this segment',
			},
		],
	},
	exportIdField,
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
		displayOptions: show(['getMany']),
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: show(['getMany'], { returnAll: [false] }),
	},
	{
		displayName: 'Options',
		name: 'waitOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(['waitForCompletion']),
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
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		options: [
			{
				name: 'Rows',
				value: 'rows',
				description: "One item per CSV row, read with the export's delimiter",
			},
			{ name: 'CSV File', value: 'csv', description: 'The CSV file inside the zip' },
			{ name: 'Zip File', value: 'zip', description: 'The file as Connectif serves it' },
		],
		default: 'rows',
		displayOptions: show(['download']),
	},
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		hint: 'The name of the output binary field to put the file in',
		displayOptions: show(['download'], { output: ['csv', 'zip'] }),
	},
	{
		displayName: 'Max Rows',
		name: 'maxRows',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Stop after this many rows (0: all). n8n keeps output items in memory.',
		displayOptions: show(['download'], { output: ['rows'] }),
	},
];

async function createExport(
	this: IExecuteFunctions,
	itemIndex: number,
	client: ConnectifClient,
): Promise<ConnectifExport> {
	const type = this.getNodeParameter('exportType', itemIndex) as string;
	const extra = this.getNodeParameter('additionalFields', itemIndex, {}) as IDataObject;
	const dateFormat =
		typeof extra.dateFormat === 'string' && extra.dateFormat !== '' ? extra.dateFormat : undefined;
	const delimiter =
		typeof extra.delimiter === 'string' && extra.delimiter !== '' ? extra.delimiter : undefined;
	if (type === 'dataExplorer') {
		return client.createDataExplorerExport({
			reportId: this.getNodeParameter('reportId', itemIndex) as string,
			fromDate: this.getNodeParameter('fromDate', itemIndex) as string,
			toDate: this.getNodeParameter('toDate', itemIndex) as string,
			dateFormat,
			delimiter,
		});
	}
	const filters: CreateExportRequest['filters'] = {};
	if (typeof extra.segmentId === 'string' && extra.segmentId.trim() !== '')
		filters.segmentId = extra.segmentId.trim();
	if (type === 'activities') {
		filters.fromDate = this.getNodeParameter('fromDate', itemIndex) as string;
		filters.toDate = this.getNodeParameter('toDate', itemIndex) as string;
		const types = String(extra.activityTypes ?? '')
			.split(',')
			.map((t) => t.trim())
			.filter(Boolean);
		if (types.length > 0) filters.activityTypes = types;
	}
	return client.createExport({
		exportType: type as CreateExportRequest['exportType'],
		dateFormat,
		delimiter,
		filters,
	});
}

async function download(
	this: IExecuteFunctions,
	itemIndex: number,
	client: ConnectifClient,
): Promise<INodeExecutionData[]> {
	const id = (this.getNodeParameter('exportId', itemIndex) as string).trim();
	const output = this.getNodeParameter('output', itemIndex, 'rows') as 'rows' | 'csv' | 'zip';
	const pairedItem = { item: itemIndex };
	// A fresh read: its fileUrl is good for 100 minutes.
	const exp = await client.getExport(id);
	const temp = await makeTempDir();
	try {
		const zipPath = join(temp.path, `${id}.zip`);
		await pipeline(
			Readable.from(client.downloadExport(exp, Date.now()).chunks),
			createWriteStream(zipPath, { flags: 'wx' }),
		);
		const info: IDataObject = { exportId: exp.id, exportType: exp.exportType ?? null };
		if (output === 'zip') {
			const field = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;
			const { binary, size } = await binaryFromFile(
				this,
				zipPath,
				exp.fileName ?? `${id}.zip`,
				'application/zip',
			);
			return [
				{
					json: { ...info, fileName: binary.fileName ?? `${id}.zip`, size },
					binary: { [field]: binary },
					pairedItem,
				},
			];
		}
		const items: INodeExecutionData[] = [];
		const max = Number(this.getNodeParameter('maxRows', itemIndex, 0)) || Infinity;
		for await (const entry of zipEntries(zipPath)) {
			if (entry.isDirectory) continue;
			if (!/\.(csv|txt)$/i.test(entry.name)) {
				await entry.check(); // a name that differs in the local header must not hide rows
				continue;
			}
			if (output === 'csv') {
				const field = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;
				const binary = await this.helpers.prepareBinaryData(
					await entry.open(),
					entry.name.split('/').pop() ?? entry.name,
					'text/csv',
				);
				items.push({
					json: { ...info, fileName: entry.name, size: entry.size },
					binary: { [field]: binary },
					pairedItem,
				});
				continue;
			}
			for await (const row of csvRows(await entry.open(), {
				delimiter: exp.delimiter === ';' ? ';' : ',',
				source: entry.name,
			})) {
				items.push({ json: row.values as IDataObject, pairedItem });
				if (items.length >= max) return items;
			}
		}
		if (items.length === 0 && output === 'csv')
			throw new NodeOperationError(this.getNode(), `The file of export ${id} holds no CSV`, {
				itemIndex,
			});
		return items;
	} finally {
		await temp.remove();
	}
}

export class Connectif implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Connectif',
		name: 'connectif',
		icon: { light: 'file:connectif.svg', dark: 'file:connectif.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			'Create, wait for and download Connectif exports (contacts, activities, data explorer reports)',
		defaults: { name: 'Connectif' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'connectifApi', required: true }],
		properties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		let client: ConnectifClient | undefined;
		return [
			await eachItem(this, async (itemIndex) => {
				const operation = this.getNodeParameter('operation', itemIndex) as string;
				client ??= await connectifClient(this, itemIndex);
				const pairedItem = { item: itemIndex };
				switch (operation) {
					case 'create':
						return [
							{
								json: (await createExport.call(this, itemIndex, client)) as IDataObject,
								pairedItem,
							},
						];
					case 'get':
						return [
							{
								json: (await client.getExport(
									this.getNodeParameter('exportId', itemIndex) as string,
								)) as IDataObject,
								pairedItem,
							},
						];
					case 'getMany': {
						const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
						const limit = returnAll
							? undefined
							: (this.getNodeParameter('limit', itemIndex, 50) as number);
						const items: INodeExecutionData[] = [];
						for await (const exp of client.listExports({ limit }))
							items.push({ json: exp as IDataObject, pairedItem });
						return items;
					}
					case 'waitForCompletion': {
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
						return [{ json: finished as IDataObject, pairedItem }];
					}
					case 'download':
						return download.call(this, itemIndex, client);
					default:
						throw new NodeOperationError(
							this.getNode(),
							`The operation "${operation}" is not known`,
							{ itemIndex },
						);
				}
			}),
		];
	}
}
