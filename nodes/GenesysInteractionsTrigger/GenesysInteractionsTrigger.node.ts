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
import {
	dropProcessRedeliveryMemory,
	eventsOf,
	eventsResponse,
	parseEventsPayload,
	processRedeliveryMemory,
	RedeliveryMemory,
	verifyHubSignature,
	type RedeliveryClaim,
} from '../../src/genesys/webhook';

interface WebhookState {
	/**
	 * `[operationId, epoch ms first received]`, oldest first (RedeliveryMemory.toJSON). Earlier
	 * versions kept `{ operationId: ms }`, which RedeliveryMemory.fromJSON still reads.
	 */
	operations?: unknown;
}

/** This trigger's key in the process-wide redelivery memory: its workflow and node. */
function memoryKey(context: IWebhookFunctions | IHookFunctions): string {
	const node = context.getNode();
	return `${context.getWorkflow().id ?? ''}\u0000${node.id ?? node.name}`;
}

type RawRequest = ReturnType<IWebhookFunctions['getRequestObject']> & {
	rawBody?: Buffer;
	readRawBody?: () => Promise<void>;
};

/** The request body exactly as received. */
async function rawBodyOf(request: RawRequest): Promise<Buffer | undefined> {
	if (request.rawBody === undefined && typeof request.readRawBody === 'function')
		await request.readRawBody();
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
 * Gives the claim back when Genesys does not get 200 for this delivery: n8n 2.x answers an
 * "onReceived" webhook only once the execution is started (or queued), and 500 when that fails;
 * Genesys then sends the delivery again, and that redelivery must start the workflow. A connection
 * closed before any answer keeps the claim: the execution is most likely under way.
 */
function releaseUnlessAcknowledged(context: IWebhookFunctions, claim: RedeliveryClaim): void {
	const response = context.getResponseObject();
	if (typeof response.once !== 'function') return;
	response.once('finish', () => {
		if (response.statusCode !== 200) claim.release();
	});
}

export class GenesysInteractionsTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Genesys Interactions Trigger',
		name: 'genesysInteractionsTrigger',
		icon: { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{($parameter["events"] || []).join(", ") || "all events"}}',
		description:
			'Starts the workflow when a Genesys chat or email interaction starts or finishes (signed Interactions Webhook)',
		defaults: { name: 'Genesys Interactions Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'genesysInteractionsWebhookApi', required: true, testedBy: 'appSecretTest' },
		],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				// Evaluates to undefined, so n8n answers with the node's webhookResponse (the EventsResponse),
				// in n8n 2.x once the execution has started.
				responseData: '={{ undefined }}',
				path: 'genesys-interactions',
			},
		],
		properties: [
			{
				displayName:
					"Give Genesys this node's Production URL (your Genesys representative configures the webhook) and set the same app secret in the credential. Each event of a delivery becomes one item; a signed delivery without events (no data.entities) or with none that pass the filters is answered 200 and starts nothing.",
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				options: [
					{
						name: 'Interaction Started',
						value: 'STARTED',
						description: 'Created and submitted to the interaction queue',
					},
					{
						name: 'Interaction Finished',
						value: 'FINISHED',
						description: 'Processing stopped by Agent Desktop or a workflow',
					},
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
						description:
							'A delivery with an operation ID that already started the workflow within this many minutes is answered 200 but does not start it again (0: never deduplicate). Remembered per n8n process; test runs in the editor are not deduplicated.',
					},
				],
			},
		],
	};

	methods = {
		credentialTest: {
			/** Nothing to call: the secret is only used to check signatures. It must be there and usable. */
			async appSecretTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				const secret =
					typeof credential.data?.appSecret === 'string' ? credential.data.appSecret : '';
				if (secret === '') return { status: 'Error', message: 'The app secret is empty' };
				if (secret.trim() !== secret)
					return {
						status: 'Error',
						message: 'The app secret starts or ends with spaces: copy it again without them',
					};
				return { status: 'OK', message: `The app secret is set (${secret.length} characters)` };
			},
		},
	};

	/**
	 * Genesys has no API to register Interactions Webhooks (a Genesys representative configures
	 * the URL), so there is nothing to create or delete remotely. Activating the workflow starts with
	 * a clean redelivery memory and deactivating drops it; an n8n restart (or a new leader) keeps the
	 * stored one, and the editor's test URL (never deduplicated) touches neither.
	 */
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return false;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				const activation = this.getActivationMode();
				if (
					this.getMode() === 'manual' ||
					activation === 'init' ||
					activation === 'leadershipChange'
				)
					return true;
				const state = this.getWorkflowStaticData('node') as WebhookState;
				state.operations = [];
				dropProcessRedeliveryMemory(memoryKey(this));
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				if (this.getMode() === 'manual') return true;
				const state = this.getWorkflowStaticData('node') as WebhookState;
				delete state.operations;
				dropProcessRedeliveryMemory(memoryKey(this));
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
		const delivered = eventsOf(payload);
		const ids = delivered
			.map((event) => event.entity?.id)
			.filter((id): id is string => typeof id === 'string' && id !== '');

		const events = (this.getNodeParameter('events', ['STARTED', 'FINISHED']) as string[]).map((e) =>
			e.toUpperCase(),
		);
		const mediaTypes = (this.getNodeParameter('mediaTypes', []) as string[]).map((m) =>
			m.toLowerCase(),
		);
		const traceHeader = request.headers['x-b3-traceid'];
		const traceId = Array.isArray(traceHeader) ? traceHeader[0] : traceHeader;
		const items: INodeExecutionData[] = [];
		for (const event of delivered) {
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
		// No events (the reference makes data.entities optional), or none wanted: 200, nothing starts.
		if (items.length === 0) return { webhookResponse: eventsResponse(ids) };

		const options = this.getNodeParameter('options', {}) as IDataObject;
		const windowMinutes =
			typeof options.redeliveryWindow === 'number' ? options.redeliveryWindow : 60;
		if (payload.operationId && windowMinutes > 0 && this.getMode() !== 'manual') {
			// From here to the return nothing is awaited: checking and marking the id is one step, so of
			// several deliveries of one operation handled by this process exactly one starts the workflow.
			const now = Date.now();
			const windowMs = windowMinutes * 60_000;
			const state = this.getWorkflowStaticData('node') as WebhookState;
			// The stored memory (n8n's database) also catches redeliveries another n8n process answered,
			// once that process has saved it; this process's memory catches the ones still being answered.
			const stored = RedeliveryMemory.fromJSON(state.operations);
			const claim = stored.has(payload.operationId, now, windowMs)
				? undefined
				: processRedeliveryMemory(memoryKey(this)).claim(payload.operationId, now, windowMs);
			if (claim === undefined) return { webhookResponse: eventsResponse(ids, 'Already received') };
			stored.claim(payload.operationId, now, windowMs);
			state.operations = stored.toJSON();
			releaseUnlessAcknowledged(this, claim);
		}
		return { workflowData: [items], webhookResponse: eventsResponse(ids) };
	}
}
