import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvFields, csvRows } from '../../src/csv/parse';

async function* chunks(text: string, sizes: number[]): AsyncGenerator<Buffer> {
	const bytes = Buffer.from(text, 'utf8');
	let at = 0;
	for (let i = 0; at < bytes.length; i++) {
		const n = Math.max(1, sizes[i % sizes.length]);
		yield bytes.subarray(at, at + n);
		at += n;
	}
}

async function fields(text: string, delimiter = ',', sizes = [1 << 20]): Promise<string[][]> {
	const out: string[][] = [];
	for await (const row of csvFields(chunks(text, sizes), { delimiter })) out.push(row.fields);
	return out;
}

function write(rows: string[][], delimiter: string, eol: string): string {
	const quote = (v: string) =>
		v === '' || /["\r\n]/.test(v) || v.includes(delimiter) ? `"${v.replace(/"/g, '""')}"` : v;
	return rows.map((r) => r.map(quote).join(delimiter)).join(eol) + eol;
}

describe('CSV', () => {
	it('reads back any table written with RFC 4180 quoting, whatever the delimiter, line ends and chunking (multi-byte characters split too)', async () => {
		const cell = fc.string({
			unit: fc.constantFrom('a', 'é', '😀', ',', ';', '"', '\n', '\r', ' ', 'x'),
			maxLength: 8,
		});
		await fc.assert(
			fc.asyncProperty(
				fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
				fc.constantFrom(',', ';'),
				fc.constantFrom('\n', '\r\n'),
				fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
				async (rows, delimiter, eol, sizes) => {
					expect(await fields(write(rows, delimiter, eol), delimiter, sizes)).toEqual(rows);
				},
			),
			{ numRuns: 400 },
		);
	});

	it('keys rows by the header, skips a BOM and blank lines, and takes a last line without a break', async () => {
		const rows = [];
		for await (const row of csvRows(
			chunks('\uFEFFemail;name\r\na@x.com;"Pérez; Luis"\r\n\r\nb@x.com;Ana', [3]),
			{ delimiter: ';' },
		))
			rows.push(row);
		expect(rows).toEqual([
			{ line: 2, values: { email: 'a@x.com', name: 'Pérez; Luis' } },
			{ line: 4, values: { email: 'b@x.com', name: 'Ana' } },
		]);
	});

	it('names empty and repeated header columns, and fills short rows', async () => {
		const rows = [];
		for await (const row of csvRows(chunks('a,,a\n1\n', [64]))) rows.push(row.values);
		expect(rows).toEqual([{ a: '1', column2: '', a_2: '' }]);
	});

	it('says what is wrong and on which line', async () => {
		await expect(fields('a,b\n"x"y,z\n')).rejects.toThrow('line 2: text after a closing quote');
		await expect(fields('a,b\nx"y,z\n')).rejects.toThrow(
			'line 2: a quote inside an unquoted field',
		);
		await expect(fields('a,b\n"open,z\n')).rejects.toThrow(
			'the quoted field that starts on line 2 never ends',
		);
		const wide = async () => {
			for await (const _ of csvRows(chunks('a,b\n1,2,3\n', [64]))) void _;
		};
		await expect(wide()).rejects.toThrow(
			'line 2 has 3 fields, the header 2: is the delimiter right?',
		);
		await expect(fields('a', '"')).rejects.toThrow(/delimiter must be one character/);
	});
});
