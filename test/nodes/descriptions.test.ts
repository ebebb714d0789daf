import type { INodeProperties } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { updateDisplayOptions } from '../../nodes/shared/descriptions';

describe('updateDisplayOptions', () => {
	const own: INodeProperties = {
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		default: 50,
		displayOptions: { show: { returnAll: [false] }, hide: { mode: ['raw'] } },
	};
	const plain: INodeProperties = { displayName: 'Name', name: 'name', type: 'string', default: '' };

	it('adds the operation to every property and keeps each property’s own conditions', () => {
		const [limit, name] = updateDisplayOptions(
			{ show: { resource: ['job'], operation: ['getAll'] } },
			[own, plain],
		);
		expect(limit.displayOptions).toEqual({
			show: { returnAll: [false], resource: ['job'], operation: ['getAll'] },
			hide: { mode: ['raw'] },
		});
		expect(name.displayOptions).toEqual({ show: { resource: ['job'], operation: ['getAll'] } });
	});

	it('lets the caller’s values win for the keys it names, and merges hide too', () => {
		const [limit] = updateDisplayOptions(
			{ show: { returnAll: [true] }, hide: { '@version': [1] } },
			[own],
		);
		expect(limit.displayOptions).toEqual({
			show: { returnAll: [true] },
			hide: { mode: ['raw'], '@version': [1] },
		});
	});

	it('leaves the properties it was given untouched', () => {
		const before = structuredClone(own);
		updateDisplayOptions({ show: { resource: ['run'] } }, [own]);
		expect(own).toEqual(before);
	});
});
