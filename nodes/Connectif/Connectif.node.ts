import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import * as exportResource from './actions/export';
import { router } from './actions/router';

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
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'Export', value: 'export' }],
				default: 'export',
			},
			...exportResource.description,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return router.call(this);
	}
}
