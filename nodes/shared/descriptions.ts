/**
 * The description library the nodes share: how an operation's properties are shown, and the fields
 * several operations have in common.
 */
import type { IDisplayOptions, INodeProperties } from 'n8n-workflow';

/**
 * `properties` shown only where `displayOptions` says (typically one resource and operation), on top
 * of each property's own conditions: `show` and `hide` are merged key by key, the property's own
 * values kept for keys the caller does not name. The same contract as n8n's own helper of this
 * name, written here so that every n8n 1.x the package supports has it.
 */
export function updateDisplayOptions(
	displayOptions: IDisplayOptions,
	properties: INodeProperties[],
): INodeProperties[] {
	return properties.map((property) => {
		const own = property.displayOptions ?? {};
		const merged: IDisplayOptions = { ...own };
		if (displayOptions.show) merged.show = { ...own.show, ...displayOptions.show };
		if (displayOptions.hide) merged.hide = { ...own.hide, ...displayOptions.hide };
		return { ...property, displayOptions: merged };
	});
}

/** Return All, and Limit when not all: the fields of every list operation (read by pagedItems). */
export const paginationFields: INodeProperties[] = [
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

/** The Options of an operation that waits for an export run to end (read by waitOptions). */
export const waitOptionsCollection: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [
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
	],
};

// ---- Genesys Data Export: the job or run an operation works on ---------------------------------

/**
 * Version 1 of Genesys Data Export chose the job from a dropdown (loadOptions: getJobs) and took the
 * run as a plain ID; version 1.1 has resource locators for both (From List / By ID). Version 1's
 * fields stay, shown for workflows saved with it, so their values keep working unchanged.
 */
const IN_VERSION_1: IDisplayOptions = { show: { '@version': [1] } };
const FROM_VERSION_1_1: IDisplayOptions = { hide: { '@version': [1] } };

/** The job of the Job operations in version 1: a dropdown of the tenant's jobs. */
const jobIdDropdown: INodeProperties = {
	displayName: 'Job Name or ID',
	name: 'jobId',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getJobs' },
	required: true,
	default: '',
	description:
		'The export job. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

/** The run of the Run operations in version 1: its ID. */
const runIdText: INodeProperties = {
	displayName: 'Run ID',
	name: 'runId',
	type: 'string',
	required: true,
	default: '',
	placeholder: '1234',
	description: 'The ID of an export run (an entry of the export history)',
};

/** Genesys numbers jobs and runs; an ID typed by hand is checked in the editor (expressions are not). */
const numericId = (what: string) => [
	{
		type: 'regex' as const,
		properties: { regex: '^\\s*\\d+\\s*$', errorMessage: `A ${what} ID is a number, e.g. 1234` },
	},
];

/** The job, from a searchable list of the tenant's jobs (newest first) or by ID (listSearch: searchJobs). */
export const jobLocator: INodeProperties = {
	displayName: 'Job',
	name: 'jobId',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	description: 'The export job',
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			placeholder: 'Select a job…',
			typeOptions: { searchListMethod: 'searchJobs', searchable: true },
		},
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: 'e.g. 1234',
			validation: numericId('job'),
		},
	],
};

/** The run, from a searchable list of the export history (newest first) or by ID (listSearch: searchRuns). */
export const runLocator: INodeProperties = {
	displayName: 'Run',
	name: 'runId',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	description: 'An export run (an entry of the export history)',
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			placeholder: 'Select a run…',
			typeOptions: { searchListMethod: 'searchRuns', searchable: true },
		},
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: 'e.g. 1234',
			validation: numericId('run'),
		},
	],
};

/** The job of the Job operations: version 1's dropdown, the resource locator from version 1.1. */
export const jobIdFields: INodeProperties[] = [
	...updateDisplayOptions(IN_VERSION_1, [jobIdDropdown]),
	...updateDisplayOptions(FROM_VERSION_1_1, [jobLocator]),
];

/**
 * The run of the Run operations (and of File → Download): version 1's ID, the resource locator from
 * version 1.1. `v1` changes version 1's field (as it was written for that operation), `description`
 * both.
 */
export function runIdFields(
	options: { v1?: Partial<INodeProperties>; description?: string } = {},
): INodeProperties[] {
	const description = options.description ? { description: options.description } : {};
	return [
		...updateDisplayOptions(IN_VERSION_1, [{ ...runIdText, ...description, ...options.v1 }]),
		...updateDisplayOptions(FROM_VERSION_1_1, [{ ...runLocator, ...description }]),
	];
}

// ---- Genesys Data Export: job settings (Create, Create and Wait; the hints also Update, Clone) -

/** The reference types the cron expression as a plain string; it is sent as written. */
export const CRON_HINT =
	'When runs repeat. Sent to Genesys as written: the API reference types it as a plain string and gives no format. Example (Quartz style, seconds first): 0 0 2 * * ? for 02:00 UTC every day; check the schedule in Genesys after saving. Times are UTC: Genesys does not follow daylight-saving changes.';

/** The reference types the split size as a plain string; it is sent as written. */
export const SPLIT_SIZE_HINT =
	'Size of each part of a split export. Sent to Genesys as written: the API reference types it as a plain string and gives no format, so write it as the File Split Size setting of the Genesys job editor shows it (e.g. 100MB). Empty for a single file.';

/** The settings of a new job, read by jobRequestFromParameters (job/create.operation.ts). */
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
