/**
 * Runs the chosen operation for every input item. A failing item becomes an error item when the
 * node is set to continue on fail; every output item is paired with the input item it came from.
 * The node has one resource (Service), so the operation alone names what to run.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { eachItem } from '../../shared/items';
import type { OperationExecute } from './common';
import type { ContextServicesOperation } from './node.type';
import * as service from './service';

const operations: Record<ContextServicesOperation, OperationExecute> = service.operations;

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return [
		await eachItem(this, async (itemIndex) => {
			const operation = this.getNodeParameter('operation', itemIndex) as ContextServicesOperation;
			const execute = operations[operation] as OperationExecute | undefined;
			if (!execute)
				throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not known`, {
					itemIndex,
				});
			return execute.call(this, itemIndex);
		}),
	];
}
