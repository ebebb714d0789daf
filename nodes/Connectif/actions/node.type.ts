/**
 * The node's resources and their operations, as types: the router, the resource indexes and the
 * descriptions name operations through these, so a misspelled operation name fails the type check.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { ConnectifClient } from '../../../src/connectif/client';

export type ConnectifMap = {
	export: 'create' | 'download' | 'get' | 'getMany' | 'waitForCompletion';
};

/** A resource with one of its operations, as the node's parameters name them. */
export type ConnectifType = {
	[R in keyof ConnectifMap]: { resource: R; operation: ConnectifMap[R] };
}[keyof ConnectifMap];

export type ExportOperation = ConnectifMap['export'];

/** Runs one operation for one input item. */
export type OperationExecute = (
	this: IExecuteFunctions,
	itemIndex: number,
	client: ConnectifClient,
) => Promise<INodeExecutionData[]>;
