/**
 * Runs the chosen operation for every input item. A failing item becomes an error item when the
 * node is set to continue on fail; every output item is paired with the input item it came from.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { GenesysClient } from '../../../src/genesys/client';
import { eachItem } from '../../shared/items';
import { genesysClient } from '../../shared/transport';
import * as certificate from './certificate';
import * as file from './file';
import * as job from './job';
import type { GenesysDataExportMap, GenesysDataExportType, OperationExecute } from './node.type';
import * as referenceData from './referenceData';
import * as run from './run';

/** Every operation by resource: one missing here, or not in the map, fails the type check. */
const resources: {
	[R in GenesysDataExportType['resource']]: Record<GenesysDataExportMap[R], OperationExecute>;
} = {
	certificate: certificate.operations,
	file: file.operations,
	job: job.operations,
	referenceData: referenceData.operations,
	run: run.operations,
};

/** The operation a workflow's parameters name, if the node has it (a workflow may name any). */
function operationOf(resource: string, operation: string): OperationExecute | undefined {
	if (!Object.hasOwn(resources, resource)) return undefined;
	const operations: Partial<Record<string, OperationExecute>> =
		resources[resource as GenesysDataExportType['resource']];
	return Object.hasOwn(operations, operation) ? operations[operation] : undefined;
}

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	// One client for all items: its token and retry state are shared.
	let client: GenesysClient | undefined;
	return [
		await eachItem(this, async (itemIndex) => {
			const resource = this.getNodeParameter('resource', itemIndex) as string;
			const operation = this.getNodeParameter('operation', itemIndex) as string;
			const execute = operationOf(resource, operation);
			if (!execute)
				throw new NodeOperationError(
					this.getNode(),
					`The operation "${operation}" of "${resource}" is not known`,
					{ itemIndex },
				);
			client ??= await genesysClient(this, itemIndex);
			return execute.call(this, itemIndex, client);
		}),
	];
}
