import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { GenesysClient, JobRequest, ListQuery } from '../../../src/genesys/client';
import { jobRequestFromParameters as jobRequestFromNodeParameters } from '../../../src/genesys/jobs';
import type { PagedResponse } from '../../../src/genesys/models';

export type OperationExecute = (
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
) => Promise<INodeExecutionData[]>;

/** Shows `properties` only for this resource and these operations. */
export function forOperations(
	resource: string,
	operations: string[],
	properties: INodeProperties[],
): INodeProperties[] {
	return properties.map((property) => ({
		...property,
		displayOptions: {
			...property.displayOptions,
			show: { ...property.displayOptions?.show, resource: [resource], operation: operations },
		},
	}));
}

/** API answers as items paired with the input item (zod keeps them plain JSON objects). */
export function toItems(itemIndex: number, data: object | object[]): INodeExecutionData[] {
	return (Array.isArray(data) ? data : [data]).map((json) => ({
		json: json as IDataObject,
		pairedItem: { item: itemIndex },
	}));
}

export const jobIdField: INodeProperties = {
	displayName: 'Job Name or ID',
	name: 'jobId',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getJobs' },
	required: true,
	default: '',
	description:
		'The export job. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

export const runIdField: INodeProperties = {
	displayName: 'Run ID',
	name: 'runId',
	type: 'string',
	required: true,
	default: '',
	placeholder: '1234',
	description: 'The ID of an export run (an entry of the export history)',
};

export function paginationFields(): INodeProperties[] {
	return [
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 50,
			description: 'Max number of results to return',
			displayOptions: { show: { returnAll: [false] } },
		},
	];
}

/** Every item of a paged Genesys list, honouring Return All / Limit. */
export async function pagedItems<T extends object>(
	context: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
	page: (query: ListQuery) => Promise<PagedResponse<T>>,
	filters: ListQuery,
): Promise<INodeExecutionData[]> {
	const returnAll = context.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll
		? undefined
		: (context.getNodeParameter('limit', itemIndex, 50) as number);
	const results: IDataObject[] = [];
	for await (const item of client.all((q) => page({ ...filters, ...q }), { limit }))
		results.push(item as IDataObject);
	return toItems(itemIndex, results);
}

/** Drops empty filter values so they are not sent. */
export function cleanFilters(filters: IDataObject): ListQuery {
	const query: ListQuery = {};
	for (const [name, value] of Object.entries(filters)) {
		if (value === '' || value === undefined || value === null) continue;
		if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
			query[name] = value;
	}
	return query;
}

export const waitOptionFields: INodeProperties[] = [
	{
		displayName: 'Poll Interval (Seconds)',
		name: 'pollInterval',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 10,
		description: 'How often to ask Genesys for the progress of the run',
	},
	{
		displayName: 'Timeout (Minutes)',
		name: 'timeout',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 60,
		description: 'Give up (with an error) when the run has not finished after this long',
	},
	{
		displayName: 'Fail When the Run Fails',
		name: 'failOnRunFailure',
		type: 'boolean',
		default: true,
		description:
			'Whether a run that ends failed or cancelled is an error; when off, the run is returned with its status',
	},
	{
		displayName: 'Include Files',
		name: 'includeFiles',
		type: 'boolean',
		default: true,
		description: 'Whether to add the list of the files the run produced (names and sizes)',
	},
];

export function waitOptions(context: IExecuteFunctions, itemIndex: number) {
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	return {
		pollIntervalMs: Number(options.pollInterval ?? 10) * 1000,
		timeoutMs: Number(options.timeout ?? 60) * 60_000,
		failOnRunFailure: options.failOnRunFailure !== false,
		includeFiles: options.includeFiles !== false,
		signal:
			typeof context.getExecutionCancelSignal === 'function'
				? context.getExecutionCancelSignal()
				: undefined,
	};
}

// ---- job settings (create, update, clone) ----------------------------------------------------

/** The reference types the cron expression as a plain string; it is sent as written. */
export const CRON_HINT =
	'When runs repeat. Sent to Genesys as written: the API reference types it as a plain string and gives no format. Example (Quartz style, seconds first): 0 0 2 * * ? for 02:00 UTC every day; check the schedule in Genesys after saving. Times are UTC: Genesys does not follow daylight-saving changes.';

/** The reference types the split size as a plain string; it is sent as written. */
export const SPLIT_SIZE_HINT =
	'Size of each part of a split export. Sent to Genesys as written: the API reference types it as a plain string and gives no format, so write it as the File Split Size setting of the Genesys job editor shows it (e.g. 100MB). Empty for a single file.';

export function jobSettingFields(required: boolean): INodeProperties[] {
	return [
		{
			displayName: 'Title',
			name: 'title',
			type: 'string',
			required,
			default: '',
			placeholder: 'Nightly contact history',
			description: 'A name for the job, shown in the Genesys export pages',
		},
		{
			displayName: 'Data Source Name or ID',
			name: 'source',
			type: 'options',
			typeOptions: { loadOptionsMethod: 'getSources' },
			required: true,
			default: '',
			description:
				'Where the data comes from: Contact History (Info Mart exports are not supported, so it is not listed). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
		},
		{
			displayName: 'Data Type Name or ID',
			name: 'dataType',
			type: 'options',
			typeOptions: { loadOptionsMethod: 'getTypes', loadOptionsDependsOn: ['source'] },
			default: 'Interaction',
			description:
				'What to export: interactions or contacts. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
		},
		{
			displayName: 'All Media Types',
			name: 'allMedia',
			type: 'boolean',
			default: true,
			description:
				'Whether to export every media type the tenant lists (sent as that full list); when off, choose at least one below',
		},
		{
			displayName: 'Media Type Names or IDs',
			name: 'media',
			type: 'multiOptions',
			typeOptions: {
				loadOptionsMethod: 'getSubTypes',
				loadOptionsDependsOn: ['source', 'dataType'],
			},
			default: [],
			displayOptions: { show: { allMedia: [false] } },
			description:
				'The media types to export (chat, email, voice …). Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
		},
		{
			displayName: 'Run',
			name: 'run',
			type: 'options',
			options: [
				{ name: 'Immediately', value: 'immediately', description: 'Start one run now' },
				{
					name: 'On a Schedule',
					value: 'schedule',
					description: 'Runs start at the given date and repeat by cron expression',
				},
			],
			default: 'immediately',
		},
		{
			displayName: 'Start Date',
			name: 'startDate',
			type: 'dateTime',
			default: '',
			displayOptions: { show: { run: ['schedule'] } },
			description: 'When the first run starts (UTC)',
		},
		{
			displayName: 'Cron Expression',
			name: 'cron',
			type: 'string',
			default: '',
			placeholder: '0 0 2 * * ?',
			displayOptions: { show: { run: ['schedule'] } },
			description: CRON_HINT,
		},
		{
			displayName: 'Number of Runs',
			name: 'runs',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			displayOptions: { show: { run: ['schedule'] } },
			description: 'How many times to run; 0 means no limit',
		},
		{
			displayName: 'Time Frame',
			name: 'timeFrame',
			type: 'options',
			options: [
				{ name: 'All Data', value: 'all' },
				{ name: 'Between Dates', value: 'range' },
			],
			default: 'all',
			description: 'Which period of data to export',
		},
		{
			displayName: 'From',
			name: 'dateFrom',
			type: 'dateTime',
			default: '',
			displayOptions: { show: { timeFrame: ['range'] } },
			description: 'Start of the exported period (UTC)',
		},
		{
			displayName: 'To',
			name: 'dateTo',
			type: 'dateTime',
			default: '',
			displayOptions: { show: { timeFrame: ['range'] } },
			description: 'End of the exported period (UTC)',
		},
		{
			displayName: 'Additional Fields',
			name: 'additionalFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			options: [
				{
					displayName: 'Description',
					name: 'description',
					type: 'string',
					default: '',
				},
				{
					displayName: 'Export Attachments',
					name: 'exportAttachments',
					type: 'boolean',
					default: false,
					description:
						'Whether to export the attachments of interactions too (a separate attachments file)',
				},
				{
					displayName: 'File Split Size',
					name: 'fileSplitSize',
					type: 'string',
					default: '',
					placeholder: '100MB',
					description: SPLIT_SIZE_HINT,
				},
				{
					displayName: 'Job Type',
					name: 'jobType',
					type: 'options',
					options: [
						{ name: 'UCS', value: 'UCS' },
						{ name: 'DataSync', value: 'DataSync' },
					],
					default: 'UCS',
					description: 'The kind of export job, as the API names it',
				},
				{
					displayName: 'Suspended',
					name: 'suspended',
					type: 'boolean',
					default: false,
					description: 'Whether to create the job suspended (resume it later)',
				},
			],
		},
	];
}

/** The create request from the node's job settings (see src/genesys/jobs.ts). */
export function jobRequestFromParameters(
	context: IExecuteFunctions,
	itemIndex: number,
	options: { forceImmediate?: boolean } = {},
): JobRequest {
	return jobRequestFromNodeParameters(
		<T>(name: string, fallback: T) =>
			context.getNodeParameter(name, itemIndex, fallback as never) as T,
		options,
	);
}
