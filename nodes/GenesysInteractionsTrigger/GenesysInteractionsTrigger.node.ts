import {
	NodeConnectionTypes,
	type ICredentialsDecrypted,
	type ICredentialTestFunctions,
	type IDataObject,
	type IHookFunctions,
	type INodeCredentialTestResult,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';
import { eventsResponse, isRedelivery, parseEventsPayload, verifyHubSignature } from '../../src/genesys/webhook';

interface WebhookState {
	/** operationId → epoch ms first received. */
	operations?: Record<string, number>;
}

type RawRequest = ReturnType<IWebhookFunctions['getRequestObject']> & { rawBody?: Buffer; readRawBody?: () => Promise<void> };

/** The request body exactly as received. */
async function rawBodyOf(request: RawRequest): Promise<Buffer | undefined> {
	if (request.rawBody === undefined && typeof request.readRawBody === 'function') await request.readRawBody();
	const raw: unknown = request.rawBody;
	if (Buffer.isBuffer(raw)) return raw;
	if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
	return undefined;
}

function reject(context: IWebhookFunctions, status: number, message: string): IWebhookResponseData {
	const response = context.getResponseObject();
	response.status(status).json({ status: { code: status, message } });
	return { noWebhookResponse: true };
}

/**
 * 200 with the EventsResponse Genesys expects, sent by the node itself: n8n answers an
 * "onReceived" webhook that starts an execution with the description's responseData, not with the
 * node's webhookResponse.
 */
function acknowledge(context: IWebhookFunctions, body: IDataObject, workflowData?: INodeExecutionData[][]): IWebhookResponseData {
	context.getResponseObject().status(200).json(body);
	return workflowData ? { noWebhookResponse: true, workflowData } : { noWebhookResponse: true };
}

export class GenesysInteractionsTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Genesys Interactions Trigger',
		name: 'genesysInteractionsTrigger',
		icon: { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{($parameter["events"] || []).join(", ") || "all events"}}',
		description: 'Starts the workflow when a Genesys chat or email interaction starts or finishes (signed Interactions Webhook)',
		defaults: { name: 'Genesys Interactions Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'genesysInteractionsWebhookApi', required: true, testedBy: 'appSecretTest' }],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: 'genesys-interactions',
			},
		],
		properties: [
			{
				displayName: 'Give Genesys this node\'s Production URL (your Genesys representative configures the webhook) and set the same app secret in the credential',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				options: [
					{ name: 'Interaction Started', value: 'STARTED', description: 'Created and submitted to the interaction queue' },
					{ name: 'Interaction Finished', value: 'FINISHED', description: 'Processing stopped by Agent Desktop or a workflow' },
				],
				default: ['STARTED', 'FINISHED'],
				description: 'Which events start the workflow (others are acknowledged and dropped)',
			},
			{
				displayName: 'Media Types',
				name: 'mediaTypes',
				type: 'multiOptions',
				options: [
					{ name: 'Chat', value: 'chat' },
					{ name: 'Email', value: 'email' },
				],
				default: [],
				description: 'Only interactions of these media types; none selected: all',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Redelivery Window (Minutes)',
						name: 'redeliveryWindow',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 60,
						description: 'A request with an operation ID already received within this many minutes is acknowledged but does not start the workflow again (0: never deduplicate)',
					},
				],
			},
		],
	};

	methods = {
		credentialTest: {
			/** Nothing to call: the secret is only used to check signatures. It must be there and usable. */
			async appSecretTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
				const secret = typeof credential.data?.appSecret === 'string' ? credential.data.appSecret : '';
				if (secret === '') return { status: 'Error', message: 'The app secret is empty' };
				if (secret.trim() !== secret) return { status: 'Error', message: 'The app secret starts or ends with spaces: copy it again without them' };
				return { status: 'OK', message: `The app secret is set (${secret.length} characters)` };
			},
		},
	};

	/**
	 * Genesys has no API to register Interactions Webhooks (a Genesys representative configures
	 * the URL), so there is nothing to create or delete remotely; activation starts with a clean
	 * redelivery memory and deactivation drops it.
	 */
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return false;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as WebhookState;
				state.operations = {};
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as WebhookState;
				delete state.operations;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject() as RawRequest;
		const raw = await rawBodyOf(request);
		if (raw === undefined) return reject(this, 400, 'The request has no body');

		const credentials = await this.getCredentials('genesysInteractionsWebhookApi');
		const secret = typeof credentials.appSecret === 'string' ? credentials.appSecret : '';
		const signature = verifyHubSignature(raw, secret, request.headers);
		if (!signature.ok) return reject(this, 401, `Signature check failed: ${signature.reason}`);

		const parsed = parseEventsPayload(raw);
		if (!parsed.ok) return reject(this, 400, `Not an Interactions Webhook body: ${parsed.reason}`);
		const { payload } = parsed;
		const ids = payload.data.entities.map((event) => event.entity?.id).filter((id): id is string => typeof id === 'string' && id !== '');

		const options = this.getNodeParameter('options', {}) as IDataObject;
		const windowMinutes = typeof options.redeliveryWindow === 'number' ? options.redeliveryWindow : 60;
		if (payload.operationId && windowMinutes > 0) {
			const state = this.getWorkflowStaticData('node') as WebhookState;
			state.operations ??= {};
			if (isRedelivery(state.operations, payload.operationId, Date.now(), windowMinutes * 60_000)) {
				return acknowledge(this, eventsResponse(ids, 'Already received'));
			}
		}

		const events = (this.getNodeParameter('events', ['STARTED', 'FINISHED']) as string[]).map((e) => e.toUpperCase());
		const mediaTypes = (this.getNodeParameter('mediaTypes', []) as string[]).map((m) => m.toLowerCase());
		const traceHeader = request.headers['x-b3-traceid'];
		const traceId = Array.isArray(traceHeader) ? traceHeader[0] : traceHeader;
		const items: INodeExecutionData[] = [];
		for (const event of payload.data.entities) {
			const name = (event.event ?? '').toUpperCase();
			const mediaType = event.entity?.mediaType ?? null;
			if (events.length > 0 && !events.includes(name)) continue;
			if (mediaTypes.length > 0 && !mediaTypes.includes((mediaType ?? '').toLowerCase())) continue;
			items.push({
				json: {
					event: event.event ?? null,
					entity: { ...(event.entity ?? {}) } as IDataObject,
					id: event.entity?.id ?? null,
					mediaType,
					interactionSubtype: event.entity?.interactionSubtype ?? null,
					selfUri: event.entity?.selfUri ?? null,
					operationId: payload.operationId ?? null,
					traceId: traceId ?? null,
				},
			});
		}
		return acknowledge(this, eventsResponse(ids), items.length > 0 ? [items] : undefined);
	}
}
