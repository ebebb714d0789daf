import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

/**
 * The job or run an item names, as an ID: from version 1's field or from the resource locator of
 * version 1.1 (From List / By ID), trimmed. An empty choice is an error naming the field.
 */
export function chosenId(
	context: IExecuteFunctions,
	name: 'jobId' | 'runId',
	itemIndex: number,
): string {
	let value = context.getNodeParameter(name, itemIndex, '', { extractValue: true }) as unknown;
	// A locator's whole value, where an expression gave one.
	if (value !== null && typeof value === 'object' && 'value' in value)
		value = (value as { value: unknown }).value;
	const id = typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
	if (id === '') {
		const what = name === 'jobId' ? 'job' : 'run';
		throw new NodeOperationError(context.getNode(), `No ${what} chosen`, {
			itemIndex,
			description: `Choose the ${what} from the list, or give its ID (a number, e.g. 1234)`,
		});
	}
	return id;
}
