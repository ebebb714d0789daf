import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { jobChangesFromFields } from '../../../../src/genesys/jobs';
import { jobIdFields, updateDisplayOptions } from '../../../shared/descriptions';
import { chosenId } from '../ids';
import { toItems } from '../../../shared/items';
import { changeFields } from './update.operation';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['job'], operation: ['clone'] } },
	[
		...jobIdFields,
		{
			displayName: 'Changes',
			name: 'cloneFields',
			type: 'collection',
			placeholder: 'Add Change',
			default: {},
			description:
				'Settings of the new job that differ from the original (the title gets " (copy)" unless set here). The clone keeps the original\'s schedule and suspended state unless changed.',
			options: changeFields,
		},
	],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const id = chosenId(this, 'jobId', itemIndex);
	const changes = jobChangesFromFields(
		this.getNodeParameter('cloneFields', itemIndex, {}) as IDataObject,
	);
	const created = await client.cloneJob(id, changes);
	return toItems(itemIndex, { ...created, clonedFrom: Number(id) });
}
