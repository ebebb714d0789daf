import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

/**
 * Genesys Context Services (Context Management Service) REST API: its base URL, and whatever the
 * deployment asks for — an API key header, basic authentication, a ContactCenterId header.
 */
export class GenesysContextServicesApi implements ICredentialType {
	name = 'genesysContextServicesApi';

	displayName = 'Genesys Context Services API';

	icon = { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' } as const;

	documentationUrl = 'https://docs.genesys.com/Documentation/CS/latest/API/APIOverview';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'http://cs-host:8080/genesys/1/cs',
			description: 'The Context Services API root, ending with /genesys/1/cs',
		},
		{
			displayName: 'API Key Header',
			name: 'keyHeaderName',
			type: 'string',
			default: 'x-api-key',
			description:
				'The header your deployment reads the API key from (only sent when an API key is set)',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Username',
			name: 'username',
			type: 'string',
			default: '',
			description: 'For basic authentication; leave empty when the API has none',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Contact Center ID',
			name: 'contactCenterId',
			type: 'string',
			default: '',
			description: 'Sent as the ContactCenterId header in multi-tenant deployments',
		},
	];

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const text = (name: string) =>
			typeof credentials[name] === 'string' ? (credentials[name] as string).trim() : '';
		const headers: Record<string, string> = {
			...((requestOptions.headers as Record<string, string>) ?? {}),
		};
		if (text('apiKey') !== '') headers[text('keyHeaderName') || 'x-api-key'] = text('apiKey');
		if (text('contactCenterId') !== '') headers.ContactCenterId = text('contactCenterId');
		const options: IHttpRequestOptions = { ...requestOptions, headers };
		if (text('username') !== '')
			options.auth = {
				username: text('username'),
				password: typeof credentials.password === 'string' ? credentials.password : '',
			};
		return options;
	}

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{String($credentials.baseUrl).trim().replace(/\\/+$/, "")}}',
			// A window in the future: the API answers an empty list, proving the URL and the access.
			url: '/maintenance/services/stream',
			qs: { time_from: '2999-01-01T00:00:00.000Z', export_content: 'false' },
			method: 'GET',
		},
	};
}
