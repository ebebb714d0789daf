import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IAuthenticateGeneric,
	IHttpRequestHelper,
	INodeProperties,
} from 'n8n-workflow';
import { requestToken } from '../src/genesys/auth';
import { genesysCredentialsFrom, GENESYS_REGIONS } from '../src/genesys/credentials';
import { fetchOverHttpRequest } from '../nodes/shared/transport';

/** The base URL of the credential, as an n8n expression (region or custom URL). */
export const BASE_URL_EXPRESSION =
	'={{$credentials.region === "custom" ? String($credentials.customBaseUrl).trim().replace(/\\/+$/, "") : "https://" + $credentials.region + ".genesyscloud.com"}}';

/** GET …/version of the chosen API: it needs the API key and a valid token. */
export const VERSION_PATH_EXPRESSION =
	'={{ {"udm-v10": "/udm/v10/version", "udm-v4": "/udm/v3/version", "cdds": "/data-download/v3/version"}[$credentials.apiVersion] || "/udm/v10/version" }}';

/**
 * Hosts a download link may point at beyond the rules (https only; no loopback or private address
 * unless the API base is one; never link-local or metadata addresses): see src/http/urlPolicy.ts.
 */
export function allowedDownloadHostsField(): INodeProperties {
	return {
		displayName: 'Allowed Download Hosts',
		name: 'allowedDownloadHosts',
		type: 'string',
		default: '',
		placeholder: 'files.corp.example, *.storage.corp.example',
		description:
			'Download links on a private or loopback address, or over plain http, are refused unless the API itself is on one. List here (comma-separated) the hosts that may serve files anyway. Link-local and cloud metadata addresses are always refused.',
	};
}

export const regionFields: INodeProperties[] = [
	{
		displayName: 'Region',
		name: 'region',
		type: 'options',
		options: [...GENESYS_REGIONS, { name: 'Custom URL', value: 'custom' }],
		default: 'gapi-use1',
		description: 'The Genesys Multicloud CX API host of your tenant',
	},
	{
		displayName: 'Custom Base URL',
		name: 'customBaseUrl',
		type: 'string',
		default: '',
		placeholder: 'https://gapi-use1.genesyscloud.com',
		hint: 'The local simulator (npm run simulator) listens on http://127.0.0.1:8080',
		displayOptions: { show: { region: ['custom'] } },
	},
	{
		...allowedDownloadHostsField(),
		displayOptions: { show: { region: ['custom'] } },
	},
];

export const apiVersionField: INodeProperties = {
	displayName: 'API',
	name: 'apiVersion',
	type: 'options',
	options: [
		{ name: 'User Data Management v10', value: 'udm-v10' },
		{ name: 'User Data Management v4 (Deprecated)', value: 'udm-v4' },
		{ name: 'Cloud Data Download Service (Deprecated)', value: 'cdds' },
	],
	default: 'udm-v10',
	description: 'Which export API your tenant offers; v10 unless Genesys says otherwise',
};

export class GenesysMulticloudApi implements ICredentialType {
	name = 'genesysMulticloudApi';

	displayName = 'Genesys Multicloud CX API';

	icon = { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' } as const;

	documentationUrl = 'https://all.docs.genesys.com/System/Current/API/Authentication';

	properties: INodeProperties[] = [
		...regionFields,
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'Sent as x-api-key with every request (Genesys gives it with your API access)',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			required: true,
			default: '',
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
		},
		{
			displayName: 'Grant Type',
			name: 'grantType',
			type: 'options',
			options: [
				{
					name: 'Password (Tenant User)',
					value: 'password',
					description: 'A user of the tenant: TENANT\\user and password',
				},
				{
					name: 'Client Credentials',
					value: 'clientCredentials',
					description: 'The client alone, when Genesys enabled it for your client',
				},
			],
			default: 'password',
		},
		{
			displayName: 'Username',
			name: 'username',
			type: 'string',
			default: '',
			placeholder: 'TENANT\\user',
			description: 'The tenant name, a backslash and the user name',
			displayOptions: { show: { grantType: ['password'] } },
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { grantType: ['password'] } },
		},
		apiVersionField,
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
	];

	/** Gets a token (through n8n's request helper, so proxies apply) when the stored one is empty or refused. */
	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const token = await requestToken(genesysCredentialsFrom(credentials), {
			fetch: fetchOverHttpRequest((options) => this.helpers.httpRequest(options)),
		});
		return { accessToken: token.accessToken };
	}

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.accessToken}}',
				'x-api-key': '={{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: BASE_URL_EXPRESSION,
			url: VERSION_PATH_EXPRESSION,
			method: 'GET',
		},
	};
}
