import { describe, expect, it } from 'vitest';
import { isRecordsEntry } from '../../src/pipeline/export';

describe('which zip entries hold records', () => {
	it('takes the CDDS JSON Lines files and leaves out schema files and others', () => {
		expect(isRecordsEntry('Interaction-2b710a2c-0e7f-4918-983c-c02d108eaeb0.json')).toBe(true);
		expect(isRecordsEntry('export/EmailIn-Attachment-42.json')).toBe(true);
		expect(isRecordsEntry('data.JSONL')).toBe(true);
		expect(isRecordsEntry('interaction-schema.json')).toBe(false);
		expect(isRecordsEntry('schemas/Interaction.json')).toBe(true);
		expect(isRecordsEntry('Schema-Interaction-42.json')).toBe(false);
		expect(isRecordsEntry('readme.txt')).toBe(false);
		expect(isRecordsEntry('folder.json/')).toBe(false);
	});
});
