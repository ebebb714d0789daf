/**
 * Runs the chosen operation for every input item. A failing item becomes an error item when the
 * node is set to continue on fail; every output item is paired with the input item it came from.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { ConnectifClient } from '../../../src/connectif/client';
import { connectifClient } from '../../shared/clients';
import { eachItem } from '../../shared/items';
import * as exportResource from './export';
import type { ConnectifMap, ConnectifType, OperationExecute } from './node.type';

const resources: { [R in keyof ConnectifMap]: Record<ConnectifMap[R], OperationExecute> } = {
	export: exportResource.operations,
};

/** The operation's code, or undefined for a resource or operation the node does not have. */
function operationOf({ resource, operation }: ConnectifType): OperationExecute | undefined {
	if (!Object.hasOwn(resources, resource)) return undefined;
	const operations: Record<string, OperationExecute> = resources[resource];
	return Object.hasOwn(operations, operation) ? operations[operation] : undefined;
}

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	// One client for all items.
	let client: ConnectifClient | undefined;
	return [
		await eachItem(this, async (itemIndex) => {
			const connectif = {
				resource: this.getNodeParameter('resource', itemIndex),
				operation: this.getNodeParameter('operation', itemIndex),
			} as ConnectifType;
			client ??= await connectifClient(this, itemIndex);
			const execute = operationOf(connectif);
			if (!execute)
				throw new NodeOperationError(
					this.getNode(),
					`The operation "${connectif.operation}" is not known`,
					{ itemIndex },
				);
			return execute.call(this, itemIndex, client);
		}),
	];
}
