/**
 * Clients for the Context Services and Connectif nodes, over n8n's authenticated requests (the
 * credential's headers and auth are applied by n8n; proxies apply).
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { ConnectifClient, CONNECTIF_API } from '../../src/connectif/client';
import { ContextServicesClient } from '../../src/genesys/contextServices';
import { allowedDownloadHosts, cancelSignal, n8nSend } from './transport';

export async function contextServicesClient(
	context: IExecuteFunctions,
	itemIndex: number,
): Promise<ContextServicesClient> {
	const credentials = (await context.getCredentials(
		'genesysContextServicesApi',
		itemIndex,
	)) as IDataObject;
	return new ContextServicesClient({
		baseUrl: String(credentials.baseUrl ?? '').trim(),
		send: n8nSend(context, 'genesysContextServicesApi'),
		signal: cancelSignal(context),
		log: (message) => context.logger?.debug(message),
	});
}

export async function connectifClient(
	context: IExecuteFunctions,
	itemIndex: number,
): Promise<ConnectifClient> {
	const credentials = (await context.getCredentials('connectifApi', itemIndex)) as IDataObject;
	const baseUrl =
		typeof credentials.baseUrl === 'string' && credentials.baseUrl.trim() !== ''
			? credentials.baseUrl.trim()
			: CONNECTIF_API;
	return new ConnectifClient({
		baseUrl,
		send: n8nSend(context, 'connectifApi'),
		allowedHosts: allowedDownloadHosts(credentials),
		signal: cancelSignal(context),
		log: (message) => context.logger?.debug(message),
	});
}
