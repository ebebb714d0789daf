import {
	NodeConnectionTypes,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { mapLimited } from '../../src/pipeline/mapLimited';
import {
	exportFileKind,
	type ExportToFilesRequest,
	type ExportStreamRequest,
	type FilterEvents,
	type FilterState,
} from '../../src/genesys/contextServices';
import { contextServicesClient } from '../shared/clients';
import { eachItem } from '../shared/items';

const show = (operation: string[], extra: IDataObject = {}) => ({
	show: { resource: ['service'], operation, ...extra },
});

const windowFields = (operation: string[]): INodeProperties[] => [
	{
		displayName: 'From',
		name: 'timeFrom',
		type: 'dateTime',
		required: true,
		default: '',
		description: 'Start of the period (time_from): services with an event from this date/time',
		displayOptions: show(operation),
	},
	{
		displayName: 'To',
		name: 'timeTo',
		type: 'dateTime',
		default: '',
		description: 'End of the period (time_to); empty: now',
		displayOptions: show(operation),
	},
	{
		displayName: 'Events',
		name: 'filterEvents',
		type: 'options',
		options: [
			{ name: 'Any', value: 'any', description: 'Services with any event in the period' },
			{ name: 'Started', value: 'started', description: 'Services that started in the period' },
			{ name: 'Completed', value: 'completed', description: 'Services that ended in the period' },
		],
		default: 'any',
		displayOptions: show(operation),
	},
];

const stateOptions = [
	{ name: 'Any', value: 'any' },
	{ name: 'Active', value: 'active', description: 'Still active now' },
	{ name: 'Inactive', value: 'inactive', description: 'Completed' },
];

export class GenesysContextServices implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Genesys Context Services',
		name: 'genesysContextServices',
		icon: { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle:
			'={{$parameter["operation"] === "exportToFiles" ? "export services to files" : "export services as a stream"}}',
		description:
			'Export Genesys Context Services services by date: to files on the server, or as a stream of IDs or services',
		defaults: { name: 'Genesys Context Services' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'genesysContextServicesApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'Service', value: 'service' }],
				default: 'service',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['service'] } },
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
			...windowFields(['exportStream', 'exportToFiles']),
			{
				displayName: 'Export Content',
				name: 'exportContent',
				type: 'boolean',
				default: false,
				description:
					'Whether to get every service with its data (export_content); off: service IDs only, much faster',
				displayOptions: show(['exportStream']),
			},
			{
				displayName: 'State',
				name: 'filterState',
				type: 'options',
				options: stateOptions,
				default: 'any',
				description:
					'Only services in this state (filter_state; the API allows it only with Export Content)',
				displayOptions: show(['exportStream'], { exportContent: [true] }),
			},
			{
				displayName: 'State',
				name: 'filterState',
				type: 'options',
				options: stateOptions,
				default: 'any',
				description: 'Only services in this state (filter_state)',
				displayOptions: show(['exportToFiles']),
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
				displayOptions: show(['exportToFiles']),
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
				displayOptions: show(['exportToFiles']),
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
				displayOptions: show(['exportToFiles']),
			},
			{
				displayName: 'CSV Separator',
				name: 'separator',
				type: 'string',
				default: ',',
				displayOptions: show(['exportToFiles'], { format: ['csv'] }),
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				displayOptions: show(['exportStream']),
				options: [
					{
						displayName: 'Get Each Service',
						name: 'getEachService',
						type: 'boolean',
						default: false,
						description:
							'Whether to fetch every listed ID with Query Service by ID (what the API reference advises instead of Export Content for large periods)',
					},
					{
						displayName: 'Concurrency',
						name: 'concurrency',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 50 },
						default: 5,
						description: 'With Get Each Service: how many requests at a time',
					},
					{
						displayName: 'Max Services',
						name: 'maxServices',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 0,
						description:
							'Stop after this many services (0: all). n8n keeps output items in memory.',
					},
				],
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [
			await eachItem(this, async (itemIndex) => {
				const operation = this.getNodeParameter('operation', itemIndex) as string;
				const get = <T>(name: string, fallback: T) =>
					this.getNodeParameter(name, itemIndex, fallback) as T;
				const window = {
					timeFrom: get<string>('timeFrom', ''),
					timeTo: get<string>('timeTo', '') || undefined,
					filterEvents: get<FilterEvents>('filterEvents', 'any'),
				};
				const pairedItem = { item: itemIndex };
				if (operation === 'exportToFiles') {
					const request: ExportToFilesRequest = {
						...window,
						filterState: get<FilterState>('filterState', 'any'),
						filePrefix: get<string>('filePrefix', ''),
						format: get<'csv' | 'json'>('format', 'csv'),
						compression: get<ExportToFilesRequest['compression']>('compression', 'uncompressed'),
						separator:
							get<string>('format', 'csv') === 'csv' ? get<string>('separator', ',') : undefined,
					};
					const client = await contextServicesClient(this, itemIndex);
					const paths = await client.exportToFiles(request);
					return paths.map((path) => ({
						json: { path, kind: exportFileKind(path) ?? null },
						pairedItem,
					}));
				}
				const exportContent = get<boolean>('exportContent', false);
				const request: ExportStreamRequest = {
					...window,
					exportContent,
					filterState: exportContent ? get<FilterState>('filterState', 'any') : undefined,
				};
				const options = get<IDataObject>('options', {});
				const max = Number(options.maxServices ?? 0) > 0 ? Number(options.maxServices) : Infinity;
				const client = await contextServicesClient(this, itemIndex);
				const items: INodeExecutionData[] = [];
				let source: AsyncIterable<unknown> = client.exportStream(request);
				if (options.getEachService === true && !exportContent) {
					const ids = source;
					source = mapLimited(ids, Number(options.concurrency ?? 5), (id) =>
						client.getService(String(id)),
					);
				}
				for await (const value of source) {
					const json: IDataObject =
						value !== null && typeof value === 'object' && !Array.isArray(value)
							? (value as IDataObject)
							: { serviceId: value as string };
					items.push({ json, pairedItem });
					if (items.length >= max) break;
				}
				return items;
			}),
		];
	}
}
