import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { jobRequestFrom, type GenesysClient, type JobRequest } from '../../../../src/genesys/client';
import { CxError } from '../../../../src/errors';
import { forOperations, jobIdField, toItems } from '../common';

export const changeFields: INodeProperties[] = [
	{ displayName: 'Title', name: 'title', type: 'string', default: '' },
	{ displayName: 'Description', name: 'description', type: 'string', default: '' },
	{ displayName: 'All Data', name: 'all', type: 'boolean', default: true, description: 'Whether to export all data (no time frame)' },
	{ displayName: 'From', name: 'dateFrom', type: 'dateTime', default: '', description: 'Start of the exported period (UTC)' },
	{ displayName: 'To', name: 'dateTo', type: 'dateTime', default: '', description: 'End of the exported period (UTC)' },
	{ displayName: 'Cron Expression', name: 'cron', type: 'string', default: '', placeholder: '0 2 * * *' },
	{ displayName: 'Start Date', name: 'startDate', type: 'dateTime', default: '' },
	{ displayName: 'Number of Runs', name: 'runs', type: 'number', default: 0 },
	{ displayName: 'Run Immediately', name: 'immediately', type: 'boolean', default: true, description: 'Whether to start a run now' },
	{ displayName: 'File Split Size', name: 'fileSplitSize', type: 'string', default: '', placeholder: '100MB' },
	{ displayName: 'Export Attachments', name: 'exportAttachments', type: 'boolean', default: false },
	{
		displayName: 'Media Types',
		name: 'media',
		type: 'string',
		default: '',
		placeholder: 'chat,email',
		description: 'Comma-separated media types; empty for all',
	},
	{ displayName: 'Suspended', name: 'suspended', type: 'boolean', default: false },
];

function date(value: unknown, field: string): string {
	const time = Date.parse(String(value));
	if (Number.isNaN(time)) throw new CxError('USAGE', `${field} "${String(value)}" is not a date`);
	return new Date(time).toISOString();
}

/** Applies the node's change fields to a job request. */
export function applyChanges(request: JobRequest, changes: IDataObject): JobRequest {
	const next: JobRequest = { ...request, timeFrame: { ...request.timeFrame }, schedulerParam: { ...request.schedulerParam }, jobParams: { ...request.jobParams } };
	if (changes.title) next.title = String(changes.title);
	if (changes.description !== undefined) next.description = String(changes.description);
	if (changes.dateFrom) next.timeFrame = { ...next.timeFrame, all: false, dateFrom: date(changes.dateFrom, 'From') };
	if (changes.dateTo) next.timeFrame = { ...next.timeFrame, all: false, dateTo: date(changes.dateTo, 'To') };
	if (changes.all === true) next.timeFrame = { all: true };
	if (changes.immediately !== undefined) next.schedulerParam = changes.immediately ? { immediately: true } : { ...next.schedulerParam, immediately: false };
	if (changes.cron) next.schedulerParam = { ...next.schedulerParam, immediately: false, cron: String(changes.cron) };
	if (changes.startDate) next.schedulerParam = { ...next.schedulerParam, immediately: false, startDate: date(changes.startDate, 'Start Date') };
	if (typeof changes.runs === 'number' && changes.runs > 0) next.schedulerParam = { ...next.schedulerParam, runs: String(changes.runs) };
	if (changes.fileSplitSize) next.jobParams.fileSplitSize = String(changes.fileSplitSize);
	if (changes.exportAttachments !== undefined) next.jobParams.exportAttachments = Boolean(changes.exportAttachments);
	if (changes.media !== undefined) {
		next.jobParams.media = String(changes.media)
			.split(',')
			.map((m) => m.trim())
			.filter(Boolean);
	}
	if (changes.suspended !== undefined) next.suspended = Boolean(changes.suspended);
	return next;
}

export const description: INodeProperties[] = forOperations('job', ['update'], [
	jobIdField,
	{
		displayName: 'Update Fields',
		name: 'updateFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: changeFields,
	},
]);

/** Genesys takes the whole job on update: the job is read, the changes applied, and sent back. */
export async function execute(this: IExecuteFunctions, itemIndex: number, client: GenesysClient): Promise<INodeExecutionData[]> {
	const id = this.getNodeParameter('jobId', itemIndex) as string;
	const changes = this.getNodeParameter('updateFields', itemIndex, {}) as IDataObject;
	const current = await client.getJob(id);
	const request = applyChanges(jobRequestFrom(current, {}, { copy: false }), changes);
	return toItems(itemIndex, await client.updateJob(id, request));
}
