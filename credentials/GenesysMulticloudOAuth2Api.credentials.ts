import type { ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';
import { apiVersionField, BASE_URL_EXPRESSION, regionFields, VERSION_PATH_EXPRESSION } from './GenesysMulticloudApi.credentials';

/**
 * Authorization code sign-in with a Genesys user (`/auth/v3/oauth/authorize` and `/token`). n8n
 * signs requests with the bearer token; the node adds the API key header itself.
 */
export class GenesysMulticloudOAuth2Api implements ICredentialType {
	name = 'genesysMulticloudOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'Genesys Multicloud CX OAuth2 API';

	icon = { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' } as const;

	documentationUrl = 'https://all.docs.genesys.com/System/Current/API/Authentication';

	properties: INodeProperties[] = [
		{ displayName: 'Grant Type', name: 'grantType', type: 'hidden', default: 'authorizationCode' },
		...regionFields,
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'hidden',
			default: '={{$self.region === "custom" ? String($self.customBaseUrl).trim().replace(/\\/+$/, "") : "https://" + $self.region + ".genesyscloud.com"}}/auth/v3/oauth/authorize',
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'hidden',
			default: '={{$self.region === "custom" ? String($self.customBaseUrl).trim().replace(/\\/+$/, "") : "https://" + $self.region + ".genesyscloud.com"}}/auth/v3/oauth/token',
		},
		{ displayName: 'Scope', name: 'scope', type: 'hidden', default: '*' },
		{ displayName: 'Auth URI Query Parameters', name: 'authQueryParameters', type: 'hidden', default: '' },
		{ displayName: 'Authentication', name: 'authentication', type: 'hidden', default: 'header' },
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'Sent as x-api-key with every API request',
		},
		apiVersionField,
	];

	test: ICredentialTestRequest = {
		request: {
			baseURL: BASE_URL_EXPRESSION,
			url: VERSION_PATH_EXPRESSION,
			method: 'GET',
			headers: { 'x-api-key': '={{$credentials.apiKey}}' },
		},
	};
}
