/**
 * Core errors in n8n's terms: an API failure (Genesys, Context Services, Connectif: ApiError)
 * becomes a NodeApiError with the HTTP status,
 * anything else a NodeOperationError; both carry the item index and say what to do.
 */
import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { ApiError, CxError } from '../../src/errors';
import { LIMITS } from '../../src/limits';

export function toNodeError(
	node: INode,
	error: unknown,
	itemIndex: number,
): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (error.context) error.context.itemIndex ??= itemIndex;
		return error;
	}
	if (error instanceof ApiError) {
		return new NodeApiError(
			node,
			{
				message: error.message,
				httpCode: String(error.httpStatus),
				service: error.service,
				remoteCode: error.remoteCode ?? null,
				remoteMessage: error.remoteMessage ?? null,
			} as JsonObject,
			{
				itemIndex,
				httpCode: String(error.httpStatus),
				message: error.message,
				description: error.hint,
			},
		);
	}
	if (error instanceof CxError) {
		const where = error.where ? `Where: ${error.where} (${error.code})` : `Code: ${error.code}`;
		// A limit stopped it: say which option of this node raises it.
		const description = error.limit
			? `${where}. If you trust this file, raise "${LIMITS[error.limit].option}" under Options (Add Option).`
			: where;
		return new NodeOperationError(node, error.message, { itemIndex, description });
	}
	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(node, message, { itemIndex });
}
