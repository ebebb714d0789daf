import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure } from '../helpers/failure';
import { isCompactJson, parseJsonLines, type JsonLinesOptions, type JsonLinesStats } from '../../src/jsonl';

/** Splits `data` into chunks at the given sizes (cycled). */
function* chunked(data: Buffer, sizes: number[]): Generator<Buffer> {
	let i = 0;
	let k = 0;
	while (i < data.length) {
		const n = Math.max(1, sizes[k++ % sizes.length]);
		yield data.subarray(i, i + n);
		i += n;
	}
}

async function parse(data: Buffer | string, options: Partial<JsonLinesOptions> = {}, sizes = [64 * 1024]) {
	const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
	const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
	const records = [];
	for await (const r of parseJsonLines(
		(async function* () {
			yield* chunked(buf, sizes);
		})(),
		{ source: 'Interaction-1.json', ...options },
		stats,
	)) {
		records.push(r);
	}
	return { records, stats };
}


describe('parseJsonLines', () => {
	it('reads LF and CRLF lines, skips blank lines but counts them, keeps a last line without newline', async () => {
		const { records, stats } = await parse('\ufeff{"a":1}\r\n\r\n  \n{"b":2}\n{"c":"x y"}');
		expect(records.map((r) => [r.value, r.line])).toEqual([
			[{ a: 1 }, 1],
			[{ b: 2 }, 4],
			[{ c: 'x y' }, 5],
		]);
		expect(records[0].raw.toString()).toBe('{"a":1}');
		expect(stats).toMatchObject({ records: 3, skipped: 0, lines: 5 });
	});

	it('gives the same records whatever the chunking: 1-byte chunks, a split \\r\\n, a split multi-byte character, a split BOM', async () => {
		const text = '\ufeff{"name":"Zoë ✓ 😀"}\r\n{"n":2}\r\n\r\n{"s":"\\u00e9"}\n';
		const expected = (await parse(text)).records.map((r) => [r.value, r.line]);
		expect(expected).toHaveLength(3);
		for (const sizes of [[1], [2], [3], [1, 2, 5], [7, 1]]) {
			expect((await parse(text, {}, sizes)).records.map((r) => [r.value, r.line])).toEqual(expected);
		}
	});

	it('reads a single 30 MB line (base64 attachment content)', async () => {
		const content = Buffer.alloc(30 * 1024 * 1024, 0x41).toString();
		const { records } = await parse(`{"ID":"1"}\n{"ID":"2","CONTENT":"${content}"}\n{"ID":"3"}\n`, {}, [65536]);
		expect(records.map((r) => r.value.ID)).toEqual(['1', '2', '3']);
		expect((records[1].value.CONTENT as string).length).toBe(content.length);
	});

	it('stops at a malformed line with <source>:<line>: <reason>, without echoing the data', async () => {
		const error = await failure(parse('{"a":1}\n{"secret":"p4ssw0rd",}\n{"b":2}\n'));
		expect(error.code).toBe('JSONL_MALFORMED');
		expect(error.message).toMatch(/^Interaction-1\.json:2: invalid JSON/);
		expect(error.message).not.toContain('p4ssw0rd');
	});

	it('says when a line ends in the middle of a value', async () => {
		const error = await failure(parse('{"a":1}\n{"a":\n'));
		expect(error.message).toBe('Interaction-1.json:2: invalid JSON: the line ends in the middle of a value');
	});

	it('refuses a line that is valid JSON but not an object', async () => {
		for (const [line, what] of [['[1,2]', 'an array'], ['42', 'a number'], ['"x"', 'a string'], ['null', 'null']]) {
			const error = await failure(parse(`{"a":1}\n${line}\n`));
			expect(error.message).toBe(`Interaction-1.json:2: expected a JSON object, got ${what}`);
		}
	});

	it('refuses invalid UTF-8 instead of replacing it', async () => {
		const data = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
		const error = await failure(parse(data));
		expect(error.message).toBe('Interaction-1.json:1: not valid UTF-8');
	});

	it('with onError skip: counts skipped lines, keeps the first reason, and goes on', async () => {
		const { records, stats } = await parse('{"a":1}\nnot json\n[1]\n{"a":2}\n', { onError: 'skip' });
		expect(records.map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
		expect(stats.skipped).toBe(2);
		expect(stats.firstSkipped).toMatch(/^Interaction-1\.json:2: invalid JSON/);
	});

	it('refuses a line over the limit before holding more than the limit, whatever the policy', async () => {
		let fed = 0;
		async function* endless() {
			yield Buffer.from('{"a":1}\n');
			for (;;) {
				fed += 1024;
				if (fed > 1024 * 1024) throw new Error('read far past the limit');
				yield Buffer.alloc(1024, 0x61);
			}
		}
		const error = await failure(
			(async () => {
				for await (const _ of parseJsonLines(endless(), { source: 'x.json', maxLineBytes: 10_000, onError: 'skip' })) void _;
			})(),
		);
		expect(error.code).toBe('JSONL_LIMIT');
		expect(error.message).toMatch(/^x\.json:2: the line is longer than 10000 bytes/);
		expect(fed).toBeLessThan(12_000);
	});

	it('returns exactly the objects written, with their line numbers, for any chunking and line endings', async () => {
		const value = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true })), { maxKeys: 6 });
		await fc.assert(
			fc.asyncProperty(
				fc.array(fc.tuple(value, fc.constantFrom('\n', '\r\n'), fc.nat({ max: 2 })), { maxLength: 30 }),
				fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
				fc.boolean(),
				async (lines, sizes, bom) => {
					let text = bom ? '\ufeff' : '';
					const expected: Array<[unknown, number]> = [];
					let line = 0;
					for (const [obj, eol, blanks] of lines) {
						line++;
						expected.push([JSON.parse(JSON.stringify(obj)), line]);
						text += JSON.stringify(obj) + eol;
						for (let b = 0; b < blanks; b++) {
							text += eol;
							line++;
						}
					}
					const { records } = await parse(text, {}, sizes);
					expect(records.map((r) => [r.value, r.line])).toEqual(expected);
				},
			),
			{ numRuns: 200 },
		);
	});
});

describe('isCompactJson', () => {
	it('is true only when there is no whitespace outside strings', () => {
		expect(isCompactJson(Buffer.from('{"a":"x y","b":[1,2],"c":{"d":"\\" }"}}'))).toBe(true);
		expect(isCompactJson(Buffer.from('{"a": 1}'))).toBe(false);
		expect(isCompactJson(Buffer.from('{"a":"\\\\" ,"b":1}'))).toBe(false);
		expect(isCompactJson(Buffer.from('{"a":"\\\\","b":"c d"}'))).toBe(true);
	});

	it('agrees with JSON.stringify on random compact and spaced objects', () => {
		fc.assert(
			fc.property(fc.jsonValue(), fc.boolean(), (value, spaced) => {
				const text = JSON.stringify({ v: value }, null, spaced ? 1 : undefined);
				const compact = isCompactJson(Buffer.from(text));
				expect(compact).toBe(text === JSON.stringify({ v: value }));
			}),
			{ numRuns: 500 },
		);
	});
});
