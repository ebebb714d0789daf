import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { CxError } from '../../../../src/errors';
import { updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';

export const fileNameField: INodeProperties = {
	displayName: 'File Name',
	name: 'fileName',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'export-2b710a2c-0e7f-4918-983c-c02d108eaeb0.z01.smime',
};

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['file'], operation: ['getDownloadUrl'] } },
	[
		{
			...fileNameField,
			displayName: 'File Names',
			description:
				'One file name, or several separated by commas (one item per file; Genesys is asked for up to 100 links at a time)',
		},
	],
);

/** Pre-signed links that work without credentials until they expire; treat them as secrets. */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const names = String(this.getNodeParameter('fileName', itemIndex))
		.split(',')
		.map((name) => name.trim())
		.filter(Boolean);
	if (names.length === 0) throw new CxError('USAGE', 'no file name given');
	return toItems(
		itemIndex,
		(await client.getDownloadUrls(names)).map(({ fileName, url }) => ({ fileName, url })),
	);
}
