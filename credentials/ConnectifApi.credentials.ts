import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';
import { allowedDownloadHostsField } from './GenesysMulticloudApi.credentials';

/** A Connectif API key (Connectif → Settings → API keys), sent as `Authorization: apiKey <key>`. */
export class ConnectifApi implements ICredentialType {
	name = 'connectifApi';

	displayName = 'Connectif API';

	icon = { light: 'file:connectif.svg', dark: 'file:connectif.dark.svg' } as const;

	documentationUrl = 'https://api-docs.connectif.cloud/';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.connectif.cloud',
			description: 'Change only for a proxy or the local simulator',
		},
		allowedDownloadHostsField(),
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=apiKey {{$credentials.apiKey}}' } },
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL:
				'={{String($credentials.baseUrl || "https://api.connectif.cloud").trim().replace(/\\/+$/, "")}}',
			url: '/exports',
			qs: { limit: 1 },
			method: 'GET',
		},
	};
}
