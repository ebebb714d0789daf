import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { jobRequestFrom, type GenesysClient } from '../../../../src/genesys/client';
import { forOperations, jobIdField, toItems } from '../common';
import { applyChanges, changeFields } from './update.operation';

export const description: INodeProperties[] = forOperations('job', ['clone'], [
	jobIdField,
	{
		displayName: 'Changes',
		name: 'cloneFields',
		type: 'collection',
		placeholder: 'Add Change',
		default: {},
		description: 'Settings of the new job that differ from the original (the title gets " (copy)" unless set here)',
		options: changeFields,
	},
]);

export async function execute(this: IExecuteFunctions, itemIndex: number, client: GenesysClient): Promise<INodeExecutionData[]> {
	const id = this.getNodeParameter('jobId', itemIndex) as string;
	const changes = this.getNodeParameter('cloneFields', itemIndex, {}) as IDataObject;
	const original = await client.getJob(id);
	const request = applyChanges(jobRequestFrom(original), changes);
	const created = await client.createJob(request);
	return toItems(itemIndex, { ...created, clonedFrom: original.id });
}
