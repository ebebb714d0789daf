/**
 * Core errors in n8n's terms: a Genesys API failure becomes a NodeApiError with the HTTP status,
 * anything else a NodeOperationError; both carry the item index and say what to do.
 */
import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { CxError } from '../../src/errors';
import { GenesysApiError } from '../../src/genesys/errors';

export function toNodeError(node: INode, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (error.context) error.context.itemIndex ??= itemIndex;
		return error;
	}
	if (error instanceof GenesysApiError) {
		return new NodeApiError(
			node,
			{ message: error.message, httpCode: String(error.httpStatus), genesysCode: error.genesysCode ?? null, genesysMessage: error.genesysMessage ?? null } as JsonObject,
			{
				itemIndex,
				httpCode: String(error.httpStatus),
				message: error.message,
				description: error.hint,
			},
		);
	}
	if (error instanceof CxError) {
		return new NodeOperationError(node, error.message, { itemIndex, description: error.where ? `Where: ${error.where} (${error.code})` : `Code: ${error.code}` });
	}
	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(node, message, { itemIndex });
}
