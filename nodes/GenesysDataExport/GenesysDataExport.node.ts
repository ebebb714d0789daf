import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import * as certificate from './actions/certificate';
import * as file from './actions/file';
import * as job from './actions/job';
import * as referenceData from './actions/referenceData';
import { router } from './actions/router';
import * as run from './actions/run';
import * as listSearch from './methods/listSearch';
import * as loadOptions from './methods/loadOptions';
import { smimeKeyTest } from '../shared/smimeKey';
import { authenticationProperty } from '../shared/genesysAuthentication';

export class GenesysDataExport implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Genesys Data Export',
		name: 'genesysDataExport',
		icon: { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' },
		group: ['transform'],
		// 1.1: Job and Run are resource locators (From List / By ID); version 1's fields stay for its workflows.
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			'Create, schedule and download Genesys Multicloud CX contact history exports (User Data Management and CDDS APIs)',
		defaults: { name: 'Genesys Data Export' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		// Written out (the same as genesysCredentials): n8n's linter reads this list literally.
		credentials: [
			{
				name: 'genesysMulticloudApi',
				required: true,
				displayOptions: { show: { authentication: ['apiCredentials'] } },
			},
			{
				name: 'genesysMulticloudOAuth2Api',
				required: true,
				displayOptions: { show: { authentication: ['oAuth2'] } },
			},
			// Shown by resource, not by operation: n8n's editor hides every parameter that the fields a
			// credential depends on depend on (operation → resource would hide Resource).
			{
				name: 'smimeKeyApi',
				required: false,
				testedBy: 'smimeKeyTest',
				displayOptions: { show: { resource: ['file', 'certificate'] } },
			},
		],
		properties: [
			authenticationProperty,
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Certificate',
						value: 'certificate',
						description: 'The certificate exports are encrypted to',
					},
					{ name: 'File', value: 'file', description: 'Files of export runs' },
					{ name: 'Job', value: 'job', description: 'Export jobs' },
					{
						name: 'Reference Data',
						value: 'referenceData',
						description: 'Sources, types, media types, statuses',
					},
					{ name: 'Run', value: 'run', description: 'Runs of export jobs (the export history)' },
				],
				default: 'job',
			},
			...job.description,
			...run.description,
			...file.description,
			...certificate.description,
			...referenceData.description,
		],
	};

	methods = { loadOptions, listSearch, credentialTest: { smimeKeyTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return router.call(this);
	}
}
