import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { router } from './actions/router';
import * as service from './actions/service';

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
			...service.description,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return router.call(this);
	}
}
