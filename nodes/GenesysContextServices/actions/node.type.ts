/**
 * The node's operation names as types: the router, the operations map and the operations' display
 * conditions use them, so that a misspelled operation fails the type check instead of an execution.
 */

/** Every resource of the node, with the names of its operations. */
export type ContextServicesMap = {
	service: 'exportStream' | 'exportToFiles';
};

/** A resource and one of its operations, as the node's parameters name them. */
export type ContextServicesType = {
	[R in keyof ContextServicesMap]: { resource: R; operation: ContextServicesMap[R] };
}[keyof ContextServicesMap];

/** The name of any operation of the node. */
export type ContextServicesOperation = ContextServicesType['operation'];

/** The operations of the Service resource. */
export type ServiceOperation = ContextServicesMap['service'];
