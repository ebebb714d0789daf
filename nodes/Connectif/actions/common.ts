import type { IDisplayOptions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from '../../shared/descriptions';
import type { ConnectifMap } from './node.type';

/** Shows `properties` only for this resource and these of its operations. */
export function forOperations<R extends keyof ConnectifMap>(
	resource: R,
	operations: Array<ConnectifMap[R]>,
	properties: INodeProperties[],
): INodeProperties[] {
	const displayOptions: IDisplayOptions = { show: { resource: [resource], operation: operations } };
	return updateDisplayOptions(displayOptions, properties);
}
