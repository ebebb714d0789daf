import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The app secret Genesys Digital Channels signs Interactions Webhook requests with
 * (`X-Hub-Signature: sha1=<HMAC of the body>`). It is never sent anywhere: the trigger only uses it
 * to check signatures, so there is no request to test it with.
 */
export class GenesysInteractionsWebhookApi implements ICredentialType {
	name = 'genesysInteractionsWebhookApi';

	displayName = 'Genesys Interactions Webhook API';

	icon = { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' } as const;

	documentationUrl =
		'https://all.docs.genesys.com/DIG/Current/DigitalChannelsAPI/InteractionsWebhookOverview';

	properties: INodeProperties[] = [
		{
			displayName: 'App Secret',
			name: 'appSecret',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description:
				'The secret configured for the webhook in Genesys Digital Channels (your Genesys representative sets it up)',
		},
	];
}
