import { describe, expect, it } from 'vitest';
import { globMatcher } from '../../src/pipeline/glob';

describe('globMatcher', () => {
	it('matches base names when the pattern has no folder', () => {
		const m = globMatcher('*.json');
		expect(m('Interaction-7.json')).toBe(true);
		expect(m('a/b/Contact-7.JSON')).toBe(true);
		expect(m('Contact-7.jsonl')).toBe(false);
	});
	it('takes lists, ? and **', () => {
		const m = globMatcher('Interaction-*.json, *.jsonl\nexports/**/x?.csv');
		expect(m('Interaction-Attachment-1.json')).toBe(true);
		expect(m('Contact-1.json')).toBe(false);
		expect(m('deep/dir/z.jsonl')).toBe(true);
		expect(m('exports/x1.csv')).toBe(true);
		expect(m('exports/a/b/x2.csv')).toBe(true);
		expect(m('other/x1.csv')).toBe(false);
		expect(m('exports/x12.csv')).toBe(false);
	});
	it('treats regex characters literally and matches nothing when empty', () => {
		expect(globMatcher('a+b(1).json')('a+b(1).json')).toBe(true);
		expect(globMatcher('a+b(1).json')('aab1.json')).toBe(false);
		expect(globMatcher(' , ')('x.json')).toBe(false);
	});
});
