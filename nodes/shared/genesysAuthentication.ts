/**
 * Description parts every Genesys API node shares: the Authentication choice and the credentials
 * it shows.
 */
import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';

export const genesysCredentials: INodeCredentialDescription[] = [
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
];

export const authenticationProperty: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{ name: 'API Key and Client Credentials', value: 'apiCredentials' },
		{ name: 'OAuth2 (Authorization Code)', value: 'oAuth2' },
	],
	default: 'apiCredentials',
};
