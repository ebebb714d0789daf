/**
 * The per-item loop every action node runs: each input item handled on its own; a failure becomes
 * an error item (paired with its input) when the node is set to continue on fail, else the
 * execution stops with an error naming the item. And toItems: an API answer as output items.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';
import { toNodeError } from './errors';

export function errorItem(
	error: NodeApiError | NodeOperationError,
	itemIndex: number | number[],
): INodeExecutionData {
	const pairedItem = Array.isArray(itemIndex)
		? itemIndex.map((item) => ({ item }))
		: { item: itemIndex };
	return {
		json: {
			error: error.message,
			...(error.description ? { errorDescription: error.description } : {}),
		},
		pairedItem,
	};
}

export async function eachItem(
	context: IExecuteFunctions,
	handle: (itemIndex: number) => Promise<INodeExecutionData[]>,
): Promise<INodeExecutionData[]> {
	const items = context.getInputData();
	const output: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			// One by one: an item may produce hundreds of thousands (push(...list) overflows the call stack).
			for (const item of await handle(itemIndex)) output.push(item);
		} catch (error) {
			const nodeError = toNodeError(context.getNode(), error, itemIndex);
			if (!context.continueOnFail()) throw nodeError;
			output.push(errorItem(nodeError, itemIndex));
		}
	}
	return output;
}

/** API answers as items paired with the input item (zod keeps them plain JSON objects). */
export function toItems(itemIndex: number, data: object | object[]): INodeExecutionData[] {
	return (Array.isArray(data) ? data : [data]).map((json) => ({
		json: json as IDataObject,
		pairedItem: { item: itemIndex },
	}));
}
