/**
 * What the Context Services operations share: how an operation runs, the period both exports take,
 * and the choices of the State filter.
 */
import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	INodePropertyOptions,
} from 'n8n-workflow';
import type { FilterEvents } from '../../../src/genesys/contextServices';

export type OperationExecute = (
	this: IExecuteFunctions,
	itemIndex: number,
) => Promise<INodeExecutionData[]>;

/** Reads a parameter of the item, with `fallback` when it is not set. */
export type ParameterReader = <T>(name: string, fallback: T) => T;

export function parameterReader(context: IExecuteFunctions, itemIndex: number): ParameterReader {
	return <T>(name: string, fallback: T) => context.getNodeParameter(name, itemIndex, fallback) as T;
}

/** The period of both exports: From, To and the events that count. */
export const windowFields: INodeProperties[] = [
	{
		displayName: 'From',
		name: 'timeFrom',
		type: 'dateTime',
		required: true,
		default: '',
		description: 'Start of the period (time_from): services with an event from this date/time',
	},
	{
		displayName: 'To',
		name: 'timeTo',
		type: 'dateTime',
		default: '',
		description: 'End of the period (time_to); empty: now',
	},
	{
		displayName: 'Events',
		name: 'filterEvents',
		type: 'options',
		options: [
			{ name: 'Any', value: 'any', description: 'Services with any event in the period' },
			{ name: 'Started', value: 'started', description: 'Services that started in the period' },
			{ name: 'Completed', value: 'completed', description: 'Services that ended in the period' },
		],
		default: 'any',
	},
];

/** The period the window fields give, as both export requests take it. */
export function readWindow(get: ParameterReader) {
	return {
		timeFrom: get<string>('timeFrom', ''),
		timeTo: get<string>('timeTo', '') || undefined,
		filterEvents: get<FilterEvents>('filterEvents', 'any'),
	};
}

export const stateOptions: INodePropertyOptions[] = [
	{ name: 'Any', value: 'any' },
	{ name: 'Active', value: 'active', description: 'Still active now' },
	{ name: 'Inactive', value: 'inactive', description: 'Completed' },
];
