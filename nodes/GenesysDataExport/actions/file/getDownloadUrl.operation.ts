import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { forOperations, toItems } from '../common';

export const fileNameField: INodeProperties = {
	displayName: 'File Name',
	name: 'fileName',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'export-2b710a2c-0e7f-4918-983c-c02d108eaeb0.z01.smime',
};

export const description: INodeProperties[] = forOperations('file', ['getDownloadUrl'], [fileNameField]);

/** A pre-signed link that works without credentials until it expires; treat it as a secret. */
export async function execute(this: IExecuteFunctions, itemIndex: number, client: GenesysClient): Promise<INodeExecutionData[]> {
	const fileName = (this.getNodeParameter('fileName', itemIndex) as string).trim();
	return toItems(itemIndex, { fileName, url: await client.getDownloadUrl(fileName) });
}
