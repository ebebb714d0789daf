import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type {
	ConnectifClient,
	ConnectifExport,
	CreateExportRequest,
} from '../../../../src/connectif/client';
import { forOperations } from '../common';

export const description: INodeProperties[] = forOperations(
	'export',
	['create'],
	[
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
		},
		{
			displayName: 'Report ID',
			name: 'reportId',
			type: 'string',
			required: true,
			default: '',
			displayOptions: { show: { exportType: ['dataExplorer'] } },
		},
		{
			displayName: 'From',
			name: 'fromDate',
			type: 'dateTime',
			required: true,
			default: '',
			description: 'Start of the period (activities: at most 31 days before To)',
			displayOptions: { show: { exportType: ['activities', 'dataExplorer'] } },
		},
		{
			displayName: 'To',
			name: 'toDate',
			type: 'dateTime',
			required: true,
			default: '',
			displayOptions: { show: { exportType: ['activities', 'dataExplorer'] } },
		},
		{
			displayName: 'Additional Fields',
			name: 'additionalFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
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
	],
);

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

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: ConnectifClient,
): Promise<INodeExecutionData[]> {
	return [
		{
			json: (await createExport.call(this, itemIndex, client)) as IDataObject,
			pairedItem: { item: itemIndex },
		},
	];
}
