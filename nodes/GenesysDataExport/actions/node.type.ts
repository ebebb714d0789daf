/**
 * The node's resources and their operations, as types. Each resource's operations map and the
 * router are typed by them, so an operation missing from a map, or one misspelled, fails the type
 * check.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { GenesysClient } from '../../../src/genesys/client';

export type GenesysDataExportMap = {
	certificate: 'get' | 'upload';
	file: 'delete' | 'download' | 'getDownloadUrl' | 'getMany';
	job:
		| 'cancel'
		| 'clone'
		| 'create'
		| 'createAndWait'
		| 'delete'
		| 'get'
		| 'getMany'
		| 'resume'
		| 'suspend'
		| 'update';
	referenceData:
		| 'getAttributes'
		| 'getJobStatuses'
		| 'getLabels'
		| 'getSources'
		| 'getSubTypes'
		| 'getTypes'
		| 'getVersion';
	run: 'delete' | 'get' | 'getMany' | 'getProgress' | 'waitForCompletion';
};

/** A resource with one of its operations: `{ resource: 'run'; operation: 'get' | … } | …`. */
export type GenesysDataExportType = {
	[R in keyof GenesysDataExportMap]: { resource: R; operation: GenesysDataExportMap[R] };
}[keyof GenesysDataExportMap];

/** An operation: runs for one input item with the client all items share. */
export type OperationExecute = (
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
) => Promise<INodeExecutionData[]>;
