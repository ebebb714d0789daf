/**
 * Runs our nodes the way n8n runs them, without an n8n instance. What the nodes depend on is
 * modelled on n8n-core 1.122 (the n8n 1.123 line):
 * - parameters: the node's stored parameters completed with defaults by n8n-workflow's own
 *   `NodeHelpers.getNodeParameters` (what `Workflow` does), read with a dotted path and a fallback;
 *   `={{ … }}` expressions see `$json` of the current item;
 * - credentials: defaults applied from the credential type, `preAuthentication` called when the
 *   expirable field is empty and again once after a 401, the new token kept for later executions
 *   (n8n saves it), generic `authenticate` headers resolved from `$credentials`; OAuth2 types get
 *   `Authorization: Bearer` from `oauthTokenData` and no `authenticate`, as in n8n;
 * - `httpRequest`: axios semantics n8n exposes — `returnFullResponse`, `encoding: 'arraybuffer'`,
 *   `disableFollowRedirect`, `ignoreHttpStatusErrors`; any other non-2xx status throws an error
 *   named AxiosError carrying `response` (status, headers, data), which n8n wraps in NodeApiError;
 * - binary data: filesystem mode — `prepareBinaryData` consumes the stream into a file and returns
 *   an id; `fileSize` is n8n's human-readable string; `getBinaryStream` reads the file back.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
	NodeApiError,
	NodeHelpers,
	NodeOperationError,
	type IBinaryData,
	type ICredentialDataDecryptedObject,
	type ICredentialType,
	type IDataObject,
	type IHttpRequestOptions,
	type INode,
	type INodeExecutionData,
	type INodeListSearchResult,
	type INodeParameters,
	type INodeType,
	type IWebhookResponseData,
	type NodeExecutionHint,
} from 'n8n-workflow';

export interface RecordedRequest {
	method: string;
	url: string;
	headers: Record<string, string>;
}

export interface CredentialEntry {
	type: ICredentialType;
	data: ICredentialDataDecryptedObject;
}

export interface HarnessOptions {
	nodeType: INodeType;
	parameters: INodeParameters;
	credentials?: Record<string, CredentialEntry>;
	continueOnFail?: boolean;
	/** Where binary data lives (made and removed by the harness when not given). */
	binaryDir?: string;
	/**
	 * Whether `getBinaryPath` gives the file of a binary, as n8n's filesystem mode does (default true).
	 * False: as the database and S3 modes, where a binary is read as a stream only.
	 */
	binaryPaths?: boolean;
	/**
	 * Whether `nodeHelpers.copyBinaryFile` is there, as in n8n 1.x and 2.x (default true): it copies
	 * a file into binary data and, as n8n does, takes the extension from the MIME type.
	 */
	copyBinaryFile?: boolean;
	typeVersion?: number;
}

/** Named like axios's error: n8n's NodeApiError takes the HTTP code from errors of that name. */
export class AxiosError extends Error {
	constructor(
		message: string,
		readonly response: {
			status: number;
			statusText: string;
			headers: Record<string, string>;
			data: unknown;
		},
		readonly code?: string,
	) {
		super(message);
		this.name = 'AxiosError';
	}
}

function prettyBytes(n: number): string {
	if (n < 1000) return `${n} B`;
	const units = ['kB', 'MB', 'GB', 'TB'];
	let value = n;
	let unit = -1;
	while (value >= 1000 && unit < units.length - 1) {
		value /= 1000;
		unit++;
	}
	return `${Number(value.toPrecision(3))} ${units[unit]}`;
}

/** A sub-set of n8n's `httpRequest` over fetch, with axios's behaviour where n8n exposes it. */
export async function httpRequest(
	options: IHttpRequestOptions,
	log?: RecordedRequest[],
): Promise<unknown> {
	const url = new URL(options.url, options.baseURL);
	for (const [name, value] of Object.entries((options.qs ?? {}) as IDataObject)) {
		if (value !== undefined && value !== null) url.searchParams.append(name, String(value));
	}
	const headers: Record<string, string> = {};
	for (const [name, value] of Object.entries(options.headers ?? {}))
		if (value !== undefined) headers[name.toLowerCase()] = String(value);
	let body: string | Uint8Array | undefined;
	const given = options.body as unknown;
	if (given !== undefined && given !== null && options.method !== 'GET') {
		if (Buffer.isBuffer(given)) body = new Uint8Array(given);
		else if (typeof given === 'string') body = given;
		else if (given instanceof URLSearchParams) {
			body = given.toString();
			headers['content-type'] ??= 'application/x-www-form-urlencoded';
		} else if (typeof given === 'object' && Object.keys(given).length > 0) {
			body = JSON.stringify(given);
			headers['content-type'] ??= 'application/json';
		}
	}
	if (options.json) headers.accept ??= 'application/json';
	if (options.auth)
		headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
	log?.push({ method: options.method ?? 'GET', url: url.href, headers: { ...headers } });
	let response: Response;
	try {
		response = await fetch(url, {
			method: options.method ?? 'GET',
			headers,
			body,
			redirect: options.disableFollowRedirect ? 'manual' : 'follow',
			signal: options.abortSignal as AbortSignal | undefined,
		});
	} catch (error) {
		// axios reports a dropped connection with the socket's code (ECONNRESET, ECONNREFUSED).
		const cause = (error as { cause?: { code?: string } }).cause;
		const wrapped = new Error(cause?.code ?? (error as Error).message) as Error & { code?: string };
		wrapped.code = cause?.code;
		throw wrapped;
	}
	const responseHeaders: Record<string, string> = {};
	response.headers.forEach((value, name) => (responseHeaders[name] = value));
	const ok = response.status >= 200 && response.status < 300;
	if (options.encoding === 'stream' && (ok || options.ignoreHttpStatusErrors)) {
		// axios with responseType 'stream': the body as a Node stream, unread.
		const stream = response.body ? Readable.fromWeb(response.body as never) : Readable.from([]);
		if (options.returnFullResponse)
			return {
				body: stream,
				headers: responseHeaders,
				statusCode: response.status,
				statusMessage: response.statusText,
			};
		return stream;
	}
	const bytes = Buffer.from(await response.arrayBuffer());
	let data: unknown = bytes;
	if (options.encoding !== 'arraybuffer' && options.encoding !== 'stream') {
		const text = bytes.toString('utf8');
		data = text;
		if (options.json || (responseHeaders['content-type'] ?? '').includes('json')) {
			try {
				data = JSON.parse(text);
			} catch {
				data = text;
			}
		}
	}
	if (!ok && !options.ignoreHttpStatusErrors) {
		throw new AxiosError(`Request failed with status code ${response.status}`, {
			status: response.status,
			statusText: response.statusText,
			headers: responseHeaders,
			data,
		});
	}
	if (options.returnFullResponse)
		return {
			body: data,
			headers: responseHeaders,
			statusCode: response.status,
			statusMessage: response.statusText,
		};
	return data;
}

/** Replaces `{{$credentials.name}}` in an n8n expression string (`=` prefix). */
function resolveCredentialExpression(
	value: unknown,
	credentials: ICredentialDataDecryptedObject,
): unknown {
	if (typeof value !== 'string' || !value.startsWith('=')) return value;
	return value
		.slice(1)
		.replace(/\{\{\s*\$credentials\.([A-Za-z0-9_]+)\s*\}\}/g, (_, name: string) =>
			String(credentials[name] ?? ''),
		);
}

/** Evaluates `={{ … }}` parameters with `$json` of the item (enough for tests' expressions). */
function resolveParameter(value: unknown, json: IDataObject): unknown {
	if (typeof value === 'string' && value.startsWith('=')) {
		const text = value.slice(1);
		const whole = /^\{\{([\s\S]*)\}\}$/.exec(text.trim());
		const evaluate = (code: string) => new Function('$json', `return (${code});`)(json) as unknown;
		if (whole) return evaluate(whole[1]);
		return text.replace(/\{\{([\s\S]*?)\}\}/g, (_, code: string) => String(evaluate(code)));
	}
	if (Array.isArray(value)) return value.map((v) => resolveParameter(v, json));
	if (value && typeof value === 'object')
		return Object.fromEntries(
			Object.entries(value).map(([k, v]) => [k, resolveParameter(v, json)]),
		);
	return value;
}

/** A resource locator's value as n8n stores it: `{ __rl: true, mode, value }`. */
function isLocator(value: unknown): value is { __rl: true; mode: string; value: unknown } {
	return value !== null && typeof value === 'object' && (value as { __rl?: unknown }).__rl === true;
}

function getPath(object: unknown, path: string): unknown {
	let current: unknown = object;
	for (const part of path.split('.')) {
		if (current === null || typeof current !== 'object') return undefined;
		current = (current as Record<string, unknown>)[part];
	}
	return current;
}

export class BinaryStore {
	private constructor(readonly dir: string) {}

	static async create(dir?: string): Promise<BinaryStore> {
		return new BinaryStore(dir ?? (await mkdtemp(join(tmpdir(), 'cx-n8n-binary-'))));
	}

	async prepare(
		data: Buffer | Readable,
		fileName?: string,
		mimeType?: string,
	): Promise<IBinaryData> {
		const id = randomUUID();
		const path = join(this.dir, id);
		if (Buffer.isBuffer(data)) await writeFile(path, data);
		else await pipeline(data, createWriteStream(path));
		const { size } = await stat(path);
		const dot = fileName?.lastIndexOf('.') ?? -1;
		const binary: IBinaryData = {
			data: 'filesystem-v2',
			id: `filesystem-v2:${id}`,
			mimeType: mimeType ?? 'application/octet-stream',
			fileSize: prettyBytes(size),
		};
		if (fileName) binary.fileName = fileName;
		if (fileName && dot > 0) binary.fileExtension = fileName.slice(dot + 1);
		await writeFile(`${path}.metadata`, JSON.stringify({ fileName, mimeType, fileSize: size }));
		return binary;
	}

	/** n8n's `nodeHelpers.copyBinaryFile` in filesystem mode: the file copied, the extension from the MIME type. */
	async copy(filePath: string, fileName?: string, mimeType?: string): Promise<IBinaryData> {
		const id = randomUUID();
		const path = join(this.dir, id);
		await copyFile(filePath, path);
		const { size } = await stat(path);
		const type = mimeType ?? 'application/octet-stream';
		const binary: IBinaryData = {
			data: 'filesystem-v2',
			id: `filesystem-v2:${id}`,
			mimeType: type,
			fileSize: prettyBytes(size),
			fileName: fileName ?? basename(filePath),
		};
		const extension = { 'application/zip': 'zip', 'application/json': 'json' }[type] ?? 'bin';
		binary.fileExtension = extension;
		await writeFile(`${path}.metadata`, JSON.stringify({ fileName, mimeType, fileSize: size }));
		return binary;
	}

	/** A binary made from bytes, for input items. */
	async fromBuffer(
		bytes: Buffer,
		fileName: string,
		mimeType = 'application/octet-stream',
	): Promise<IBinaryData> {
		return this.prepare(bytes, fileName, mimeType);
	}

	stream(id: string): Readable {
		return createReadStream(this.pathOf(id));
	}

	async metadata(id: string): Promise<{ fileName?: string; mimeType?: string; fileSize: number }> {
		return JSON.parse(await readFile(`${this.pathOf(id)}.metadata`, 'utf8')) as {
			fileName?: string;
			mimeType?: string;
			fileSize: number;
		};
	}

	async buffer(binary: IBinaryData): Promise<Buffer> {
		if (binary.id) return readFile(this.pathOf(binary.id));
		return Buffer.from(binary.data, 'base64');
	}

	pathOf(id: string): string {
		const [mode, fileId] = id.split(':');
		if (mode !== 'filesystem-v2' || !fileId || fileId.includes('/'))
			throw new Error(`not a binary id of this harness: ${id}`);
		return join(this.dir, fileId);
	}

	async remove(): Promise<void> {
		await rm(this.dir, { recursive: true, force: true });
	}
}

export interface Harness {
	node: INode;
	binary: BinaryStore;
	/** Every request made through n8n's request helpers (not the core's own fetch to storage). */
	requests: RecordedRequest[];
	/** How many times each credential's preAuthentication ran. */
	preAuthentications: Record<string, number>;
	credentials: Record<string, CredentialEntry>;
	/** The node's workflow static data (`getWorkflowStaticData('node')`), kept between calls as n8n saves it. */
	staticData: IDataObject;
	/** The execution hints (`addExecutionHints`) of the last `execute`. */
	hints: NodeExecutionHint[];
	execute(items?: INodeExecutionData[]): Promise<INodeExecutionData[][]>;
	/** One poll of a polling trigger, in `trigger` mode (active workflow) or `manual` mode (test step). */
	poll(mode?: 'trigger' | 'manual'): Promise<INodeExecutionData[][] | null>;
	/**
	 * One webhook request; the answer is what n8n would send back. `mode`: 'webhook' (an active
	 * workflow, the default) or 'manual' (the editor's test URL). `startFails`: starting the execution
	 * fails, as when n8n cannot save or queue it (n8n 2.x then answers 500 if the node has not answered).
	 */
	webhook(request: {
		body: Buffer | string;
		headers?: Record<string, string>;
		mode?: 'webhook' | 'manual';
		startFails?: boolean;
	}): Promise<WebhookCall>;
	loadOptions(
		method: string,
		currentParameters?: INodeParameters,
	): Promise<Array<{ name: string; value: string | number }>>;
	/** A resource locator's list (`methods.listSearch`), as the editor asks for it: a filter and a page token. */
	listSearch(
		method: string,
		filter?: string,
		paginationToken?: string,
	): Promise<INodeListSearchResult>;
	close(): Promise<void>;
}

export interface WebhookCall {
	status: number;
	body: unknown;
	/** The items that would start an execution, if any. */
	workflowData?: INodeExecutionData[][];
}

export async function createHarness(options: HarnessOptions): Promise<Harness> {
	const description = options.nodeType.description;
	const typeVersion =
		options.typeVersion ??
		(Array.isArray(description.version) ? Math.max(...description.version) : description.version);
	const node: INode = {
		id: randomUUID(),
		name: description.defaults.name ?? description.displayName,
		type: `n8n-nodes-cx-export.${description.name}`,
		typeVersion,
		position: [0, 0],
		parameters: {},
		credentials: Object.fromEntries(
			Object.keys(options.credentials ?? {}).map((type) => [type, { id: type, name: type }]),
		),
	};
	const resolved = NodeHelpers.getNodeParameters(
		description.properties,
		options.parameters,
		true,
		false,
		node,
		description,
	);
	node.parameters = resolved ?? {};
	const binary = await BinaryStore.create(options.binaryDir);
	const requests: RecordedRequest[] = [];
	const preAuthentications: Record<string, number> = {};
	const credentials = options.credentials ?? {};

	const credentialData = (type: string): ICredentialDataDecryptedObject => {
		const entry = credentials[type];
		if (!entry)
			throw new NodeOperationError(
				node,
				`Node "${node.name}" does not have any credentials of type "${type}" set`,
			);
		// n8n applies the credential type's defaults when it decrypts credentials.
		const withDefaults =
			NodeHelpers.getNodeParameters(
				entry.type.properties,
				entry.data as INodeParameters,
				true,
				false,
				null,
				null,
			) ?? {};
		return { ...(withDefaults as ICredentialDataDecryptedObject), ...entry.data };
	};

	const isOAuth2 = (type: string) => (credentials[type]?.type.extends ?? []).includes('oAuth2Api');

	const preAuthenticate = async (
		type: string,
		data: ICredentialDataDecryptedObject,
		expired: boolean,
	) => {
		const credentialType = credentials[type].type;
		const expirable = credentialType.properties.find(
			(p) => p.type === 'hidden' && p.typeOptions?.expirable === true,
		);
		if (!expirable || typeof credentialType.preAuthentication !== 'function') return;
		if (data[expirable.name] !== '' && data[expirable.name] !== undefined && !expired) return;
		preAuthentications[type] = (preAuthentications[type] ?? 0) + 1;
		const output = await credentialType.preAuthentication.call(
			{ helpers: { httpRequest: (o: IHttpRequestOptions) => httpRequest(o, requests) } } as never,
			data,
		);
		if (output[expirable.name] === undefined)
			throw new Error(
				'The property returned by preAuthentication does not match the expirable property',
			);
		Object.assign(data, output);
		// n8n saves the refreshed credential for later executions.
		Object.assign(credentials[type].data, output);
	};

	const authenticate = async (
		type: string,
		data: ICredentialDataDecryptedObject,
		request: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => {
		const auth = credentials[type].type.authenticate;
		if (!auth) return request;
		if (typeof auth === 'function') return auth(data, request);
		const out: IHttpRequestOptions = {
			...request,
			headers: { ...(request.headers ?? {}) },
			qs: { ...((request.qs as IDataObject) ?? {}) },
		};
		for (const [name, value] of Object.entries(auth.properties.headers ?? {}))
			(out.headers as IDataObject)[name] = resolveCredentialExpression(value, data) as string;
		for (const [name, value] of Object.entries(auth.properties.qs ?? {}))
			(out.qs as IDataObject)[name] = resolveCredentialExpression(value, data) as string;
		return out;
	};

	const httpRequestWithAuthentication = async (
		type: string,
		request: IHttpRequestOptions,
	): Promise<unknown> => {
		const data = credentialData(type);
		if (isOAuth2(type)) {
			const token = (data.oauthTokenData as IDataObject | undefined)?.access_token;
			if (!token) throw new Error('OAuth credentials not connected');
			return httpRequest(
				{
					...request,
					headers: { ...(request.headers ?? {}), Authorization: `Bearer ${String(token)}` },
				},
				requests,
			);
		}
		let signed = request;
		try {
			await preAuthenticate(type, data, false);
			signed = await authenticate(type, data, request);
			return await httpRequest(signed, requests);
		} catch (error) {
			if (
				(error as AxiosError).response?.status === 401 &&
				credentials[type]?.type.preAuthentication
			) {
				try {
					await preAuthenticate(type, data, true);
					signed = await authenticate(type, data, request);
					return await httpRequest(signed, requests);
				} catch (second) {
					throw new NodeApiError(node, second as never);
				}
			}
			throw new NodeApiError(node, error as never);
		}
	};

	const staticData: IDataObject = {};
	const hints: NodeExecutionHint[] = [];
	const workflowId = randomUUID();
	const baseContext = (items: INodeExecutionData[]) => {
		const parameter = (
			name: string,
			itemIndex: number,
			fallback?: unknown,
			parameterOptions?: { extractValue?: boolean },
		) => {
			const raw = getPath(node.parameters, name);
			let value = resolveParameter(raw, items[itemIndex]?.json ?? {});
			if (value === undefined) {
				if (fallback !== undefined) return fallback;
				throw new Error(`Could not get parameter "${name}"`);
			}
			// As n8n: a resource locator's value (its mode's regex is not modelled: none of ours has one).
			if (parameterOptions?.extractValue === true && isLocator(value)) value = value.value;
			return value;
		};
		return {
			getNode: () => node,
			addExecutionHints: (...added: NodeExecutionHint[]) => {
				hints.push(...added);
			},
			getWorkflow: () => ({ id: workflowId, name: 'Harness workflow', active: true }),
			getInputData: () => items,
			continueOnFail: () => options.continueOnFail === true,
			getNodeParameter: parameter,
			getCredentials: async (type: string) => credentialData(type),
			getExecutionCancelSignal: () => undefined,
			getMode: () => 'manual',
			getWorkflowStaticData: (type: string) => {
				if (type !== 'node') throw new Error('only node static data is modelled');
				return staticData;
			},
			logger: {
				debug: () => undefined,
				info: () => undefined,
				warn: () => undefined,
				error: () => undefined,
			},
			...(options.copyBinaryFile === false
				? {}
				: {
						nodeHelpers: {
							copyBinaryFile: (filePath: string, fileName: string, mimeType?: string) =>
								binary.copy(filePath, fileName, mimeType),
						},
					}),
			helpers: {
				httpRequest: (o: IHttpRequestOptions) => httpRequest(o, requests),
				prepareBinaryData: (data: Buffer | Readable, fileName?: string, mimeType?: string) =>
					binary.prepare(data, fileName, mimeType),
				getBinaryStream: async (id: string) => binary.stream(id),
				...(options.binaryPaths === false
					? {}
					: { getBinaryPath: (id: string) => binary.pathOf(id) }),
				getBinaryMetadata: async (id: string) => binary.metadata(id),
				binaryToBuffer: async (stream: Readable) => Buffer.concat(await stream.toArray()),
				assertBinaryData: (itemIndex: number, propertyName: string) => {
					const data = items[itemIndex]?.binary?.[propertyName];
					if (!data)
						throw new NodeOperationError(
							node,
							`This operation expects the node's input data to contain a binary file '${propertyName}', but none was found [item ${itemIndex}]`,
							{ itemIndex },
						);
					return data;
				},
				getBinaryDataBuffer: async (itemIndex: number, propertyName: string) => {
					const data = items[itemIndex]?.binary?.[propertyName];
					if (!data)
						throw new NodeOperationError(
							node,
							`No binary data '${propertyName}' on item ${itemIndex}`,
							{ itemIndex },
						);
					return binary.buffer(data);
				},
				returnJsonArray: (data: IDataObject | IDataObject[]) =>
					(Array.isArray(data) ? data : [data]).map((json) => ({ json })),
			},
		};
	};

	return {
		node,
		binary,
		requests,
		preAuthentications,
		credentials,
		async execute(items = [{ json: {} }]) {
			hints.length = 0;
			const context = baseContext(items);
			const helpers = {
				...context.helpers,
				httpRequestWithAuthentication: (type: string, request: IHttpRequestOptions) =>
					httpRequestWithAuthentication.call(context, type, request),
			};
			const execute = options.nodeType.execute;
			if (!execute) throw new Error(`${description.name} has no execute()`);
			return (await execute.call({ ...context, helpers } as never)) as INodeExecutionData[][];
		},
		async loadOptions(method, currentParameters = {}) {
			const fn = options.nodeType.methods?.loadOptions?.[method];
			if (!fn) throw new Error(`${description.name} has no loadOptions method ${method}`);
			const context = baseContext([{ json: {} }]);
			const helpers = {
				...context.helpers,
				httpRequestWithAuthentication: (type: string, request: IHttpRequestOptions) =>
					httpRequestWithAuthentication.call(context, type, request),
			};
			const current = { ...node.parameters, ...currentParameters };
			return (await fn.call({
				...context,
				helpers,
				getNodeParameter: (name: string, fallback?: unknown) => getPath(current, name) ?? fallback,
				getCurrentNodeParameter: (name: string) => getPath(current, name),
			} as never)) as Array<{ name: string; value: string | number }>;
		},
		async listSearch(method, filter, paginationToken) {
			const fn = options.nodeType.methods?.listSearch?.[method];
			if (!fn) throw new Error(`${description.name} has no listSearch method ${method}`);
			const context = baseContext([{ json: {} }]);
			const helpers = {
				...context.helpers,
				httpRequestWithAuthentication: (type: string, request: IHttpRequestOptions) =>
					httpRequestWithAuthentication.call(context, type, request),
			};
			return fn.call(
				{
					...context,
					helpers,
					getNodeParameter: (name: string, fallback?: unknown) =>
						getPath(node.parameters, name) ?? fallback,
					getCurrentNodeParameter: (name: string) => getPath(node.parameters, name),
				} as never,
				filter,
				paginationToken,
			);
		},
		staticData,
		hints,
		async poll(mode = 'trigger') {
			const poll = options.nodeType.poll;
			if (!poll) throw new Error(`${description.name} has no poll()`);
			const context = baseContext([]);
			const helpers = {
				...context.helpers,
				httpRequestWithAuthentication: (type: string, request: IHttpRequestOptions) =>
					httpRequestWithAuthentication.call(context, type, request),
			};
			const parameter = (name: string, fallback?: unknown) =>
				context.getNodeParameter(name, 0, fallback);
			// n8n hands the poll a copy and saves it when the poll returns without an error.
			const copy = JSON.parse(JSON.stringify(staticData)) as IDataObject;
			const result = (await poll.call({
				...context,
				helpers,
				getNodeParameter: parameter,
				getMode: () => mode,
				getWorkflowStaticData: () => copy,
			} as never)) as INodeExecutionData[][] | null;
			for (const key of Object.keys(staticData)) delete staticData[key];
			Object.assign(staticData, copy);
			return result;
		},
		async webhook(request) {
			const webhook = options.nodeType.webhook;
			if (!webhook) throw new Error(`${description.name} has no webhook()`);
			const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, 'utf8');
			const headers: Record<string, string> = {};
			for (const [name, value] of Object.entries(request.headers ?? {}))
				headers[name.toLowerCase()] = value;
			let parsed: unknown;
			try {
				parsed = JSON.parse(raw.toString('utf8'));
			} catch {
				parsed = {};
			}
			let sent: { status: number; body: unknown } | undefined;
			// Express's response is an EventEmitter; 'finish' is emitted once the answer is sent.
			const response = Object.assign(new EventEmitter(), {
				statusCode: 200,
				status(code: number) {
					this.statusCode = code;
					return this;
				},
				json(body: unknown) {
					sent = { status: this.statusCode, body };
					return this;
				},
				send(body: unknown) {
					sent = { status: this.statusCode, body };
					return this;
				},
				end() {
					sent ??= { status: this.statusCode, body: undefined };
					return this;
				},
			});
			// n8n loads the workflow (static data included) from its database for each webhook request and
			// saves the static data once the answer goes out without an error: concurrent requests each
			// work on their own copy, and the last one saved wins.
			const copy = JSON.parse(JSON.stringify(staticData)) as IDataObject;
			const context = baseContext([]);
			const result = (await webhook.call({
				...context,
				getMode: () => request.mode ?? 'webhook',
				getWorkflowStaticData: () => copy,
				getNodeParameter: (name: string, fallback?: unknown) =>
					context.getNodeParameter(name, 0, fallback),
				getRequestObject: () => ({ headers, body: parsed, rawBody: raw, method: 'POST' }),
				getResponseObject: () => response,
				getHeaderData: () => headers,
				getBodyData: () => parsed,
				getWebhookName: () => 'default',
			} as never)) as IWebhookResponseData;
			let answer: WebhookCall;
			let answeredByNode = false;
			if (result.noWebhookResponse) {
				if (!sent) throw new Error('noWebhookResponse but nothing was sent');
				answer = { ...sent, workflowData: result.workflowData };
				answeredByNode = true;
			} else if (result.workflowData === undefined) {
				// As n8n's webhook helpers answer: without workflow data, the node's webhookResponse; with
				// it, in "onReceived" mode, the description's responseData (evaluated; its default is the literal
				// string "firstEntryJson"), or the node's webhookResponse when that evaluates to nothing.
				answer = {
					status: 200,
					body: result.webhookResponse ?? { message: 'Webhook call received' },
				};
			} else {
				const described = description.webhooks?.find((w) => w.name === 'default');
				const responseData =
					described?.responseData === undefined
						? 'firstEntryJson'
						: resolveParameter(described.responseData, {});
				const body =
					responseData === 'noData'
						? undefined
						: responseData || (result.webhookResponse ?? { message: 'Workflow was started' });
				answer = { status: 200, body, workflowData: result.workflowData };
			}
			if (request.startFails && answer.workflowData !== undefined) {
				// n8n 2.x answers "onReceived" after the execution started; when starting fails it answers 500
				// (unless the node answered already) and, the callback getting an error, saves no static data.
				answer = answeredByNode
					? { status: answer.status, body: answer.body }
					: {
							status: 500,
							body: { code: 0, message: 'There was a problem executing the workflow' },
						};
			} else {
				for (const key of Object.keys(staticData)) delete staticData[key];
				Object.assign(staticData, copy);
			}
			response.statusCode = answer.status;
			response.emit('finish');
			return answer;
		},
		close: () => binary.remove(),
	};
}

export type { IWebhookResponseData };
