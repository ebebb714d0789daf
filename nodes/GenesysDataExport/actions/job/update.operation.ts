import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { jobChangesFromFields } from '../../../../src/genesys/jobs';
import {
	CRON_HINT,
	jobIdFields,
	SPLIT_SIZE_HINT,
	updateDisplayOptions,
} from '../../../shared/descriptions';
import { chosenId } from '../ids';
import { toItems } from '../../../shared/items';

/**
 * Changes for Update and Clone. Genesys takes the whole job, so the job is read and every field it
 * returned is sent back with only these changes; a setting Genesys did not return (the schedule,
 * the data type, whether it is suspended) must be given here, and is never guessed.
 */
export const changeFields: INodeProperties[] = [
	{ displayName: 'Title', name: 'title', type: 'string', default: '' },
	{ displayName: 'Description', name: 'description', type: 'string', default: '' },
	{
		displayName: 'All Data',
		name: 'all',
		type: 'boolean',
		default: true,
		description: 'Whether to export all data (no time frame)',
	},
	{
		displayName: 'From',
		name: 'dateFrom',
		type: 'dateTime',
		default: '',
		description: 'Start of the exported period (UTC)',
	},
	{
		displayName: 'To',
		name: 'dateTo',
		type: 'dateTime',
		default: '',
		description: 'End of the exported period (UTC)',
	},
	{
		displayName: 'Cron Expression',
		name: 'cron',
		type: 'string',
		default: '',
		placeholder: '0 0 2 * * ?',
		description: CRON_HINT,
	},
	{ displayName: 'Start Date', name: 'startDate', type: 'dateTime', default: '' },
	{ displayName: 'Number of Runs', name: 'runs', type: 'number', default: 0 },
	{
		displayName: 'Run Immediately',
		name: 'immediately',
		type: 'boolean',
		default: true,
		description: 'Whether to start a run now; off keeps the job on its schedule',
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
		displayName: 'Export Attachments',
		name: 'exportAttachments',
		type: 'boolean',
		default: false,
		description: 'Whether to export attachments too (User Data Management v10 only)',
	},
	{
		displayName: 'Data Type',
		name: 'dataType',
		type: 'string',
		default: '',
		placeholder: 'Interaction',
		description: 'What the job exports: Interaction or Contact',
	},
	{
		displayName: 'Media Types',
		name: 'media',
		type: 'string',
		default: '',
		placeholder: 'chat,email',
		description:
			'Comma-separated media types; empty for all (sent as the full list the tenant offers)',
	},
	{ displayName: 'Suspended', name: 'suspended', type: 'boolean', default: false },
];

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['job'], operation: ['update'] } },
	[
		...jobIdFields,
		{
			displayName: 'Update Fields',
			name: 'updateFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			options: changeFields,
		},
	],
);

/** Genesys takes the whole job on update: the job is read, the changes applied, and sent back. */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const id = chosenId(this, 'jobId', itemIndex);
	const changes = jobChangesFromFields(
		this.getNodeParameter('updateFields', itemIndex, {}) as IDataObject,
	);
	return toItems(itemIndex, await client.updateJob(id, changes));
}
