import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IAuthenticateGeneric,
	IHttpRequestHelper,
	INodeProperties,
} from 'n8n-workflow';
import { authorizationCodeToken } from '../src/genesys/authorizationCode';
import { fetchOverHttpRequest } from '../nodes/shared/transport';
import {
	apiVersionField,
	BASE_URL_EXPRESSION,
	regionFields,
	VERSION_PATH_EXPRESSION,
} from './GenesysMulticloudApi.credentials';

/**
 * Authorization code sign-in with a Genesys user. Not an n8n OAuth2 credential on purpose: n8n's
 * code exchange and token refresh cannot send `x-api-key`, which the Genesys gateway demands on
 * every request, `/auth/v3/oauth/token` included. The credential exchanges the pasted code itself
 * (once), keeps the refresh token, and refreshes the access token with the API key, through n8n's
 * request helper.
 */
export class GenesysMulticloudOAuth2Api implements ICredentialType {
	name = 'genesysMulticloudOAuth2Api';

	displayName = 'Genesys Multicloud CX Authorization Code OAuth2 API';

	icon = { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' } as const;

	documentationUrl = 'https://all.docs.genesys.com/System/Current/API/Authentication';

	properties: INodeProperties[] = [
		{
			displayName:
				'To sign in, open <code>https://&lt;region&gt;.genesyscloud.com/auth/v3/oauth/authorize?response_type=code&amp;scope=*&amp;client_id=&lt;Client ID&gt;&amp;redirect_uri=&lt;Redirect URI&gt;</code> in a browser (the Redirect URI URL-encoded), sign in, copy the <code>code</code> parameter of the address you land on into Authorization Code and save within a minute. The credential exchanges it once and stays signed in with the refresh token.',
			name: 'signInNotice',
			type: 'notice',
			default: '',
		},
		...regionFields,
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'Sent as x-api-key with every request, token requests included',
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
			displayName: 'Redirect URI',
			name: 'redirectUri',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'https://n8n.example.com/rest/oauth2-credential/callback',
			description:
				'A redirect URI Genesys allows for this client (Genesys Customer Care registers it); the same one as in the sign-in address',
		},
		// Until it is exchanged, the code is a credential: whoever has it can sign in as the user.
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password
		{
			displayName: 'Authorization Code',
			name: 'authorizationCode',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'The code parameter of the address the sign-in sent the browser to. It is good once and for a short time; paste a new one to sign in again.',
		},
		apiVersionField,
		{
			displayName: 'Refresh Token',
			name: 'refreshToken',
			type: 'hidden',
			typeOptions: { password: true },
			default: '',
		},
		{
			// A SHA-256 digest of the code already exchanged, not the code.
			displayName: 'Exchanged Code',
			name: 'exchangedCode',
			type: 'hidden',
			default: '',
		},
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
	];

	/**
	 * Exchanges a new authorization code, or refreshes with the kept refresh token, when the access
	 * token is empty or refused. n8n saves what this returns: the access token, the (possibly new)
	 * refresh token and which code was used.
	 */
	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const session = await authorizationCodeToken(credentials, {
			fetch: fetchOverHttpRequest((options) => this.helpers.httpRequest(options)),
		});
		return {
			accessToken: session.accessToken,
			refreshToken: session.refreshToken,
			exchangedCode: session.exchangedCode,
		};
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
