import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The private key S/MIME exports are decrypted with. It never leaves n8n: nodes load it locally,
 * and the nodes that use it check it with `smimeKeyTest` (there is no service to ask).
 */
export class SmimeKeyApi implements ICredentialType {
	name = 'smimeKeyApi';

	displayName = 'S/MIME Decryption Key API';

	icon = { light: 'file:smimeKey.svg', dark: 'file:smimeKey.dark.svg' } as const;

	documentationUrl = 'https://github.com/n8n-nodes-cx-export/n8n-nodes-cx-export#the-s-mime-key';

	properties: INodeProperties[] = [
		{
			displayName: 'Private Key',
			name: 'privateKey',
			type: 'string',
			typeOptions: { password: true, rows: 6 },
			required: true,
			default: '',
			placeholder: '-----BEGIN PRIVATE KEY-----',
			description:
				'PEM (PKCS#1 "BEGIN RSA PRIVATE KEY", PKCS#8 "BEGIN PRIVATE KEY" or encrypted "BEGIN ENCRYPTED PRIVATE KEY"), or a PKCS#12 / .pfx file as base64',
		},
		{
			displayName: 'Passphrase',
			name: 'passphrase',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'For an encrypted key or a PKCS#12 file',
		},
		{
			displayName: 'Certificate',
			name: 'certificate',
			type: 'string',
			// Not secret, but long: kept folded like the key.
			typeOptions: { password: true, rows: 4 },
			default: '',
			placeholder: '-----BEGIN CERTIFICATE-----',
			description:
				'Optional: the certificate of this key (PEM). Picks the right recipient when a file has several, and is what Certificate → Upload sends to Genesys.',
		},
	];
}
