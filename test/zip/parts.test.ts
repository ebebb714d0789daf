import { describe, expect, it } from 'vitest';
import { CxError } from '../../src/errors';
import { groupParts, orderParts, parsePartName } from '../../src/zip';

const id = 'export-7f3c0b2e-1d4a-4c55-9a51-0c3b8f1e2d77';

function caught(run: () => unknown): CxError {
	try {
		run();
	} catch (error) {
		if (error instanceof CxError) return error;
		throw error;
	}
	throw new Error('expected a CxError');
}

function names(...list: string[]) {
	return list.map((name) => ({ name }));
}

describe('parsePartName', () => {
	it('reads the disk number of .zNN parts and marks .zip as the last part', () => {
		expect(parsePartName(`${id}.z01.smime`)).toEqual({
			exportName: id,
			index: 1,
			isLast: false,
			encrypted: true,
		});
		expect(parsePartName(`${id}.z99`)).toEqual({
			exportName: id,
			index: 99,
			isLast: false,
			encrypted: false,
		});
		expect(parsePartName(`${id}.z100.smime`).index).toBe(100);
		expect(parsePartName(`${id}.zip.smime`)).toEqual({
			exportName: id,
			index: Infinity,
			isLast: true,
			encrypted: true,
		});
		expect(parsePartName(`${id}.zip`)).toEqual({
			exportName: id,
			index: Infinity,
			isLast: true,
			encrypted: false,
		});
	});

	it('ignores directories (either separator) and the case of the extensions', () => {
		expect(parsePartName(`/data/in/${id}.Z07.SMIME`)).toMatchObject({
			exportName: id,
			index: 7,
			encrypted: true,
		});
		expect(parsePartName(`C:\\exports\\${id}.ZIP`)).toMatchObject({ exportName: id, isLast: true });
	});

	it.each([
		'notes.txt',
		`${id}.z1`,
		`${id}.z00`,
		`${id}.zip.001`,
		`${id}.smime`,
		'.zip',
		`${id}.z01.p7m`,
	])('refuses %s with PART_NAME', (name) => {
		const error = caught(() => parsePartName(name));
		expect(error.code).toBe('PART_NAME');
		expect(error.message).toContain(name.replace(/^.*[\\/]/, ''));
	});
});

describe('orderParts', () => {
	it('orders parts given in any order, the .zip last', () => {
		const given = names(
			`${id}.zip.smime`,
			`${id}.z10.smime`,
			`${id}.z02.smime`,
			`${id}.z01.smime`,
			...Array.from({ length: 7 }, (_, i) => `${id}.z0${i + 3}.smime`),
		);
		const { exportName, parts } = orderParts(given);
		expect(exportName).toBe(id);
		expect(parts.map((p) => p.name)).toEqual([
			...Array.from({ length: 10 }, (_, i) => `${id}.z${String(i + 1).padStart(2, '0')}.smime`),
			`${id}.zip.smime`,
		]);
	});

	it('orders past .z99 numerically', () => {
		const given = names(
			...Array.from({ length: 101 }, (_, i) => `x.z${String(i + 1).padStart(2, '0')}`).reverse(),
			'x.zip',
		);
		const { parts } = orderParts(given);
		expect(parts.slice(97).map((p) => p.name)).toEqual([
			'x.z98',
			'x.z99',
			'x.z100',
			'x.z101',
			'x.zip',
		]);
	});

	it('accepts a single .zip as a set of one, and keeps the caller’s objects', () => {
		const one = { name: '/tmp/report.zip', size: 12 };
		expect(orderParts([one])).toEqual({ exportName: 'report', parts: [one] });
	});

	it('names the missing part and the parts present', () => {
		const given = names(
			`export-7f3c.z01.smime`,
			...Array.from(
				{ length: 15 },
				(_, i) => `export-7f3c.z${String(i + 3).padStart(2, '0')}.smime`,
			),
			'export-7f3c.zip.smime',
		);
		const error = caught(() => orderParts(given));
		expect(error.code).toBe('PART_MISSING');
		expect(error.message).toContain(
			'export-7f3c.z02.smime is missing (parts 1, 3-17 and the final .zip present)',
		);
		expect(error.where).toBe('export-7f3c.z02.smime');
	});

	it('names several missing parts', () => {
		const error = caught(() => orderParts(names('x.z01', 'x.z04', 'x.zip')));
		expect(error.code).toBe('PART_MISSING');
		expect(error.message).toContain(
			'x.z02 and x.z03 are missing (parts 1, 4 and the final .zip present)',
		);
	});

	it('refuses a set without its final .zip part', () => {
		const error = caught(() => orderParts(names('x.z01.smime', 'x.z02.smime')));
		expect(error.code).toBe('PART_MISSING');
		expect(error.message).toContain('x.zip.smime (the final part');
		expect(error.message).toContain('parts 1-2 present');
	});

	it('refuses the same part twice, encrypted and decrypted', () => {
		const error = caught(() => orderParts(names('x.z01', 'x.z02', 'x.z02.smime', 'x.zip')));
		expect(error.code).toBe('PART_DUPLICATE');
		expect(error.message).toBe(
			'x.z02 and x.z02.smime are the same part (part 2 of x); give each part once',
		);
	});

	it('refuses two final parts', () => {
		const error = caught(() => orderParts(names('x.z01', 'x.zip', 'dir/x.ZIP')));
		expect(error.code).toBe('PART_DUPLICATE');
		expect(error.message).toContain('the final part of x');
	});

	it('names a foreign part and the export the set is', () => {
		const error = caught(() =>
			orderParts(names('export-aaaa.z01', 'export-bbbb.z02', 'export-aaaa.z02', 'export-aaaa.zip')),
		);
		expect(error.code).toBe('PART_FOREIGN');
		expect(error.message).toBe(
			'export-bbbb.z02 is not part of export-aaaa: it belongs to export-bbbb; give the parts of one export at a time',
		);
		expect(error.where).toBe('export-bbbb.z02');
	});

	it('takes the export of the final part as the set, even when outnumbered', () => {
		const error = caught(() => orderParts(names('b.z01', 'b.z02', 'b.z03', 'a.zip')));
		expect(error.code).toBe('PART_FOREIGN');
		expect(error.message).toContain('not part of a:');
	});

	it('refuses an empty list and names that are not parts', () => {
		expect(caught(() => orderParts([])).code).toBe('PART_MISSING');
		expect(caught(() => orderParts(names('x.z01', 'readme.txt'))).code).toBe('PART_NAME');
	});
});

describe('groupParts', () => {
	it('groups a mixed list by export, in order of first appearance, each group ordered', () => {
		const groups = groupParts(names('b.zip', 'a.z02', 'b.z01', 'a.zip', 'single.zip', 'a.z01'));
		expect(groups.map((g) => [g.exportName, g.parts.map((p) => p.name)])).toEqual([
			['b', ['b.z01', 'b.zip']],
			['a', ['a.z01', 'a.z02', 'a.zip']],
			['single', ['single.zip']],
		]);
	});

	it('refuses a group with a missing part', () => {
		const error = caught(() => groupParts(names('a.z01', 'a.zip', 'b.z02', 'b.zip')));
		expect(error.code).toBe('PART_MISSING');
		expect(error.message).toContain('b.z01 is missing');
	});
});
