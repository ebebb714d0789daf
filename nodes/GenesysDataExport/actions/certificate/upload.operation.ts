import {
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { updateDisplayOptions } from '../../../shared/descriptions';
import { toItems } from '../../../shared/items';
import { credentialCertificate } from '../../../shared/smimeKey';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['certificate'], operation: ['upload'] } },
	[
		{
			displayName: 'Certificate From',
			name: 'certificateSource',
			type: 'options',
			options: [
				{
					name: 'S/MIME Key Credential',
					value: 'credential',
					description: 'The certificate stored with the S/MIME Decryption Key API credential',
				},
				{
					name: 'Binary Field',
					value: 'binary',
					description: 'A PEM certificate file from the input item',
				},
			],
			default: 'credential',
		},
		{
			displayName: 'Input Binary Field',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			required: true,
			displayOptions: { show: { certificateSource: ['binary'] } },
			hint: 'The name of the input binary field holding the certificate (PEM)',
		},
		{
			displayName: 'Certificate File Name',
			name: 'certificateFileName',
			type: 'string',
			default: 'exports.pem',
			description: 'The name Genesys stores the certificate under',
		},
	],
);

/** Genesys encrypts later exports to this certificate; only its public part is ever sent. */
export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const from = this.getNodeParameter('certificateSource', itemIndex) as string;
	const fileName = (
		(this.getNodeParameter('certificateFileName', itemIndex, 'exports.pem') as string) ||
		'exports.pem'
	).trim();
	let pem: string | undefined;
	if (from === 'binary') {
		const field = this.getNodeParameter('binaryPropertyName', itemIndex) as string;
		this.helpers.assertBinaryData(itemIndex, field);
		// A certificate is a few KB: reading it whole is fine.
		pem = (await this.helpers.getBinaryDataBuffer(itemIndex, field)).toString('latin1');
	} else {
		pem = await credentialCertificate(this, itemIndex);
		if (!pem) {
			throw new NodeOperationError(
				this.getNode(),
				'The S/MIME Decryption Key API credential holds no certificate',
				{
					itemIndex,
					description:
						'Add the certificate (PEM) to the credential, or upload it from a binary field',
				},
			);
		}
	}
	await client.uploadCertificate(fileName, pem);
	const uploaded = await client.getCertificate();
	return toItems(itemIndex, { uploaded: true, fileName, ...(uploaded ?? {}) });
}
