import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { failure } from '../helpers/failure';
import {
	compactJson,
	isCompactJson,
	parseJsonLineBlocks,
	parseJsonLines,
	type BlockOptions,
	type JsonLinesOptions,
	type RecordBlock,
	type JsonLinesStats,
	type JsonRecord,
} from '../../src/jsonl';

type Chunk = Buffer | Uint8Array | string;

function newStats(): JsonLinesStats {
	return { records: 0, skipped: 0, lines: 0 };
}

/** Yields the chunks asynchronously, as a stream would. */
async function* streamOf(chunks: Iterable<Chunk>): AsyncGenerator<Chunk> {
	for (const chunk of chunks) yield chunk;
}

/** `data` cut at the given offsets. */
function cutAt(data: Buffer, offsets: number[]): Buffer[] {
	const chunks: Buffer[] = [];
	let from = 0;
	for (const to of [...offsets, data.length]) {
		chunks.push(data.subarray(from, to));
		from = to;
	}
	return chunks;
}

/** `data` in chunks of the given sizes, cycled. */
function chunked(data: Buffer, sizes: number[]): Buffer[] {
	const chunks: Buffer[] = [];
	for (let i = 0, k = 0; i < data.length; k++) {
		const n = Math.max(1, sizes[k % sizes.length]);
		chunks.push(data.subarray(i, i + n));
		i += n;
	}
	return chunks;
}

async function parse(
	input: string | Buffer | Chunk[],
	options: Partial<JsonLinesOptions> = {},
	stats = newStats(),
) {
	const chunks = Array.isArray(input)
		? input
		: [typeof input === 'string' ? Buffer.from(input, 'utf8') : input];
	const records: JsonRecord[] = [];
	for await (const record of parseJsonLines(
		streamOf(chunks),
		{ source: 'Interaction-1.json', ...options },
		stats,
	))
		records.push(record);
	return { records, stats };
}

/** What a test compares: [line, value] per record. */
function lined(records: JsonRecord[]): Array<[number, unknown]> {
	return records.map((r) => [r.line, r.value]);
}

describe('parseJsonLines: line structure', () => {
	it('reads LF and CRLF lines alike, and a last line without a line break', async () => {
		const { records, stats } = await parse('{"a":1}\r\n{"b":2}\n{"c":"x y"}');
		expect(lined(records)).toEqual([
			[1, { a: 1 }],
			[2, { b: 2 }],
			[3, { c: 'x y' }],
		]);
		expect(records.map((r) => r.raw.toString())).toEqual(['{"a":1}', '{"b":2}', '{"c":"x y"}']);
		expect(records.every((r) => r.source === 'Interaction-1.json')).toBe(true);
		expect(stats).toEqual({ records: 3, skipped: 0, lines: 3 });
	});

	it('does not count a line after the final line break', async () => {
		const { stats } = await parse('{"a":1}\n{"b":2}\n');
		expect(stats.lines).toBe(2);
	});

	it('skips blank and whitespace-only lines but counts them in line numbers', async () => {
		const { records, stats } = await parse('\n{"a":1}\n   \n\t\r\n\r\n{"b":2}\n \t \n');
		expect(lined(records)).toEqual([
			[2, { a: 1 }],
			[6, { b: 2 }],
		]);
		expect(stats).toEqual({ records: 2, skipped: 0, lines: 7 });
	});

	it('removes a UTF-8 BOM at the very start, even on a blank first line', async () => {
		expect(lined((await parse('\ufeff{"a":1}\n{"b":2}')).records)).toEqual([
			[1, { a: 1 }],
			[2, { b: 2 }],
		]);
		expect((await parse('\ufeff{"a":1}')).records[0].raw.toString()).toBe('{"a":1}');
		expect(lined((await parse('\ufeff\r\n{"a":1}\n')).records)).toEqual([[2, { a: 1 }]]);
	});

	it('treats a BOM anywhere but the start as data, so the line is malformed', async () => {
		const error = await failure(parse('{"a":1}\n\ufeff{"b":2}\n'));
		expect(error.message).toBe(
			'Interaction-1.json:2: invalid JSON: unexpected byte 0xEF at column 1',
		);
	});

	it('keeps a CR that is not followed by LF inside the line (JSON whitespace)', async () => {
		expect(lined((await parse('{"a":\r1}\n')).records)).toEqual([[1, { a: 1 }]]);
	});

	it('accepts Buffers, Uint8Array views with an offset, strings, and a plain array of chunks', async () => {
		const backing = new Uint8Array(Buffer.from('xxxx{"b":2}\n{"c"yyyy'));
		const view = backing.subarray(4, backing.length - 4);
		const { records } = await parse([Buffer.from('{"a":1}\n'), view, ':3}\n', '{"d":"é"}']);
		expect(lined(records)).toEqual([
			[1, { a: 1 }],
			[2, { b: 2 }],
			[3, { c: 3 }],
			[4, { d: 'é' }],
		]);
		const synchronous: JsonRecord[] = [];
		for await (const r of parseJsonLines([Buffer.from('{"e":5}\n')], { source: 's' }))
			synchronous.push(r);
		expect(lined(synchronous)).toEqual([[1, { e: 5 }]]);
	});

	it('adds to a stats object shared by the entries of an export; line numbers restart per source', async () => {
		const stats = newStats();
		const first = await parse('{"a":1}\n\n{"b":2}\n', {}, stats);
		const second = await parse(
			'{"c":3}\nnot json\n',
			{ source: 'Contact-1.json', onError: 'skip' },
			stats,
		);
		expect(lined(first.records)).toEqual([
			[1, { a: 1 }],
			[3, { b: 2 }],
		]);
		expect(lined(second.records)).toEqual([[1, { c: 3 }]]);
		expect(stats).toEqual({
			records: 3,
			skipped: 1,
			lines: 5,
			firstSkipped: "Contact-1.json:2: invalid JSON: unexpected 'n' at column 1",
		});
	});

	it('stops reading the input when the consumer stops', async () => {
		let closed = false;
		let pulled = 0;
		async function* source() {
			try {
				for (;;) {
					pulled++;
					yield Buffer.from('{"a":1}\n');
				}
			} finally {
				closed = true;
			}
		}
		for await (const record of parseJsonLines(source(), { source: 's' })) {
			expect(record.value).toEqual({ a: 1 });
			break;
		}
		expect(closed).toBe(true);
		expect(pulled).toBe(1);
	});

	it('passes an error of the input through unchanged', async () => {
		async function* broken() {
			yield Buffer.from('{"a":1}\n');
			throw new Error('disk on fire');
		}
		const seen: JsonRecord[] = [];
		await expect(
			(async () => {
				for await (const r of parseJsonLines(broken(), { source: 's' })) seen.push(r);
			})(),
		).rejects.toThrow('disk on fire');
		expect(seen).toHaveLength(1);
	});
});

describe('parseJsonLines: chunk boundaries', () => {
	// BOM, 2-, 3- and 4-byte characters, CRLF, a blank and a whitespace line, no final line break.
	const sample = Buffer.from(
		'\ufeff{"name":"Zoë ✓ 😀"}\r\n{"n":2}\r\n\r\n {"s":"\\u00e9\\n"} \n  \n{"last":["é",true,null]}',
		'utf8',
	);
	const expected: Array<[number, unknown]> = [
		[1, { name: 'Zoë ✓ 😀' }],
		[2, { n: 2 }],
		[4, { s: 'é\n' }],
		[6, { last: ['é', true, null] }],
	];

	it('parses the sample whole', async () => {
		const { records, stats } = await parse(sample);
		expect(lined(records)).toEqual(expected);
		expect(stats).toEqual({ records: 4, skipped: 0, lines: 6 });
	});

	it('gives the same records for a cut at every offset, and for every pair of cuts', async () => {
		for (let i = 0; i <= sample.length; i++) {
			expect(lined((await parse(cutAt(sample, [i]))).records), `cut at ${i}`).toEqual(expected);
		}
		for (let i = 1; i < sample.length; i++) {
			for (let j = i + 1; j < sample.length; j++) {
				const { records, stats } = await parse(cutAt(sample, [i, j]));
				expect(lined(records), `cuts at ${i}, ${j}`).toEqual(expected);
				expect(stats.lines).toBe(6);
			}
		}
	});

	it('gives the same records from 1-byte chunks', async () => {
		const { records } = await parse(chunked(sample, [1]));
		expect(lined(records)).toEqual(expected);
		expect(records[0].raw.toString()).toBe('{"name":"Zoë ✓ 😀"}');
	});

	it('joins a multi-byte character split between chunks, and a \\r\\n split between chunks', async () => {
		const emoji = Buffer.from('{"e":"😀"}\r\n{"f":1}\n');
		const insideEmoji = emoji.indexOf(Buffer.from('😀')) + 2;
		expect(lined((await parse(cutAt(emoji, [insideEmoji]))).records)).toEqual([
			[1, { e: '😀' }],
			[2, { f: 1 }],
		]);
		const betweenCrAndLf = emoji.indexOf('\r\n') + 1;
		const { records } = await parse(cutAt(emoji, [betweenCrAndLf]));
		expect(lined(records)).toEqual([
			[1, { e: '😀' }],
			[2, { f: 1 }],
		]);
		expect(records[0].raw.toString()).toBe('{"e":"😀"}');
	});

	it('returns exactly the objects written, with their line numbers, whatever the line endings, blank lines and chunking', async () => {
		const object = fc.dictionary(
			fc.string({ unit: 'binary', maxLength: 6 }),
			fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }),
			{ maxKeys: 5 },
		);
		const blank = fc.constantFrom('', ' ', '\t', '  \t ');
		const lineEnd = fc.constantFrom('\n', '\r\n');
		await fc.assert(
			fc.asyncProperty(
				fc.array(
					fc.record({
						value: object,
						end: lineEnd,
						blanksAfter: fc.array(fc.tuple(blank, lineEnd), { maxLength: 2 }),
					}),
					{ maxLength: 25 },
				),
				fc.boolean(),
				fc.boolean(),
				fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
				async (lines, bom, finalBreak, sizes) => {
					let text = bom ? '\ufeff' : '';
					const want: Array<[number, unknown]> = [];
					let line = 0;
					for (const [k, { value, end, blanksAfter }] of lines.entries()) {
						line++;
						const json = JSON.stringify(value);
						want.push([line, JSON.parse(json)]);
						const last = k === lines.length - 1 && blanksAfter.length === 0;
						text += json + (last && !finalBreak ? '' : end);
						for (const [b, [spaces, blankEnd]] of blanksAfter.entries()) {
							line++;
							text +=
								spaces +
								(k === lines.length - 1 && b === blanksAfter.length - 1 && !finalBreak
									? ''
									: blankEnd);
						}
					}
					const { records, stats } = await parse(chunked(Buffer.from(text, 'utf8'), sizes));
					expect(lined(records)).toEqual(want);
					expect(stats.records).toBe(want.length);
					// Every line break ends a line, and so does the end of the input after anything but a line break.
					const tail = text.slice(text.lastIndexOf('\n') + 1);
					expect(stats.lines).toBe(text.split('\n').length - 1 + (tail.length > 0 ? 1 : 0));
				},
			),
			{ numRuns: 300 },
		);
	});
});

describe('parseJsonLines: long lines', () => {
	it('reads a single 30 MB line (base64 attachment content) among short ones, in linear time', async () => {
		const size = 30 * 1024 * 1024;
		const data = Buffer.concat([
			Buffer.from('{"ID":"1"}\n{"ID":"2","CONTENT":"'),
			Buffer.alloc(size, 'QUJD'),
			Buffer.from('"}\r\n{"ID":"3"}\n'),
		]);
		const started = Date.now();
		// 4 KiB chunks: 7,680 pieces for the long line; copying the line once per piece would take minutes.
		const { records } = await parse(chunked(data, [4096]));
		expect(Date.now() - started).toBeLessThan(15_000);
		expect(records.map((r) => [r.line, r.value.ID])).toEqual([
			[1, '1'],
			[2, '2'],
			[3, '3'],
		]);
		expect(records[1].raw.length).toBe(size + '{"ID":"2","CONTENT":""}'.length);
		const content = records[1].value.CONTENT as string;
		expect(content.length).toBe(size);
		expect(content.slice(0, 8)).toBe('QUJDQUJD');
		// The value of a long line is parsed on access, and it is still an own, enumerable property.
		expect({ ...records[1] }.value.ID).toBe('2');
		expect(Object.keys(records[1])).toContain('value');
	});

	it('builds the value of a line of 1 MiB or more only when it is read (the CLI passes such lines through)', async () => {
		const big = 'A'.repeat(1024 * 1024);
		const spy = vi.spyOn(JSON, 'parse');
		try {
			const { records } = await parse(`{"ID":"1"}\n{"ID":"2","CONTENT":"${big}"}\n`);
			const longParses = () => spy.mock.calls.filter(([text]) => text.length >= big.length).length;
			expect(records.map((r) => r.line)).toEqual([1, 2]);
			expect(longParses()).toBe(0);
			expect(records[1].value.ID).toBe('2');
			expect(records[1].value.CONTENT).toBe(big);
			expect(longParses()).toBe(1);
		} finally {
			spy.mockRestore();
		}
	});

	it('applies the same checks to a long line as to a short one', async () => {
		const big = 'A'.repeat(2 * 1024 * 1024);
		const skip = { onError: 'skip' as const };
		const cases: Array<[string | Buffer, string]> = [
			[
				`{"ID":"2","CONTENT":"${big}",}`,
				`invalid JSON: expected a property name at column ${22 + big.length + 2}`,
			],
			[`["${big}"]`, 'expected a JSON object, got an array'],
			[
				Buffer.concat([Buffer.from(`{"C":"${big}`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
				'not valid UTF-8',
			],
		];
		for (const [line, reason] of cases) {
			const data = Buffer.concat([
				Buffer.from('{"ID":"1"}\n'),
				Buffer.from(line),
				Buffer.from('\n{"ID":"3"}\n'),
			]);
			const { records, stats } = await parse(chunked(data, [65536]), skip);
			expect(records.map((r) => r.value.ID)).toEqual(['1', '3']);
			expect(stats.firstSkipped).toBe(`Interaction-1.json:2: ${reason}`);
		}
	});
});

describe('parseJsonLines: lazyValues', () => {
	const lines = [
		'\ufeff{"ID":"1","n":12345678901234567890,"s":"caf\\u00e9"}',
		'',
		'  {"ID": "2", "nested": {"a": [1, 2.5e3, true, null]}}  \r',
		'{"ID":"3",}',
		'[1,2]',
		'42',
		'"text"',
		'{"ID":"4","t":"Søren"}',
		'{"ID":"5"',
		'{"ID":"6","x":tru}',
		'{"ID":"7"} {"ID":"8"}',
		'{"ID":"9","e":"\\x"}',
		'\t',
		'{}',
	];
	const data = Buffer.concat([
		Buffer.from(lines.join('\n')),
		Buffer.from([0x0a, 0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x0a]),
	]);

	it('yields the same records (line, raw bytes, value) and skips the same lines with the same reasons as eager parsing', async () => {
		const run = async (lazyValues: boolean) => {
			const skipped: string[] = [];
			const { records, stats } = await parse(chunked(data, [7, 3, 64]), {
				onError: 'skip',
				lazyValues,
				onSkip: (bad) => skipped.push(bad.message),
			});
			return {
				records: records.map((r) => ({
					line: r.line,
					raw: r.raw.toString('latin1'),
					value: r.value,
				})),
				skipped,
				stats,
			};
		};
		const eager = await run(false);
		const lazy = await run(true);
		expect(lazy).toEqual(eager);
		expect(eager.records.map((r) => r.line)).toEqual([1, 3, 8, 14]);
		expect(eager.skipped.map((m) => Number(m.split(':')[1]))).toEqual([
			4, 5, 6, 7, 9, 10, 11, 12, 15,
		]);
	});

	it('builds no value until it is read, and fails at the same line as eager parsing', async () => {
		const spy = vi.spyOn(JSON, 'parse');
		try {
			const { records } = await parse('{"ID":"1"}\n{"ID":"2"}\n', { lazyValues: true });
			expect(spy).not.toHaveBeenCalled();
			expect(records[1].value).toEqual({ ID: '2' });
			expect(spy).toHaveBeenCalledTimes(1);
		} finally {
			spy.mockRestore();
		}
		const eager = await failure(parse(data));
		const lazy = await failure(parse(data, { lazyValues: true }));
		expect(lazy.message).toBe(eager.message);
		expect(lazy.message).toBe(
			'Interaction-1.json:4: invalid JSON: expected a property name at column 11',
		);
	});
});

describe('parseJsonLines: malformed lines', () => {
	it('stops at a malformed line with <source>:<line>: <reason>, without echoing the data', async () => {
		const error = await failure(parse('{"a":1}\n{"secret":"p4ssw0rd",}\n{"b":2}\n'));
		expect(error.code).toBe('JSONL_MALFORMED');
		expect(error.message).toBe(
			'Interaction-1.json:2: invalid JSON: expected a property name at column 22',
		);
		expect(error.where).toBe('Interaction-1.json:2');
	});

	it('gives a short reason with the column for common damage', async () => {
		const cases: Array<[string, string]> = [
			['{"a":1', 'invalid JSON: the line ends in the middle of a value'],
			['{"a":1}}', "invalid JSON: unexpected '}' after the value at column 8"],
			['{"a":01}', "invalid JSON: unexpected '1' at column 7"],
			["{'a':1}", 'invalid JSON: expected a property name at column 2'],
			['{"a":tru}', "invalid JSON: unexpected 't' at column 6"],
			['{"a":"x\ty"}', 'invalid JSON: control character in a string at column 8'],
			['{"a" 1}', "invalid JSON: expected ':' at column 6"],
			['{"é":ü}', 'invalid JSON: unexpected byte 0xC3 at column 7'],
		];
		for (const [line, reason] of cases) {
			const error = await failure(parse(`{"ok":true}\n${line}\n`));
			expect(error.message, line).toBe(`Interaction-1.json:2: ${reason}`);
		}
	});

	it('never puts more of the line than one character into the message', async () => {
		const secret = 'Jane Doe, 4111 1111 1111 1111, jane@example.com';
		for (const line of [
			`{"n":"${secret}"`,
			`{"n":"${secret}" "x":1}`,
			`{"n":"${secret}"}x`,
			`{"n":${secret}}`,
		]) {
			const error = await failure(parse(`${line}\n`));
			expect(error.message.length, line).toBeLessThan(100);
			for (const word of ['Jane', '4111', 'example']) expect(error.message).not.toContain(word);
		}
	});

	it('refuses a line that is valid JSON but not an object', async () => {
		const cases: Array<[string, string]> = [
			['[1,2]', 'an array'],
			['42', 'a number'],
			['"x"', 'a string'],
			['null', 'null'],
			['true', 'a boolean'],
		];
		for (const [line, what] of cases) {
			const error = await failure(parse(`{"a":1}\n${line}\n`));
			expect(error.code).toBe('JSONL_MALFORMED');
			expect(error.message).toBe(`Interaction-1.json:2: expected a JSON object, got ${what}`);
		}
	});

	it('refuses invalid UTF-8 instead of replacing it', async () => {
		const sequences = [
			[0xc3, 0x28], // a lead byte without its continuation
			[0x80], // a lone continuation byte
			[0xc0, 0xaf], // an overlong '/'
			[0xed, 0xa0, 0x80], // an encoded surrogate
			[0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
			[0xe2, 0x9c], // a character cut short by the end of the line
		];
		for (const bytes of sequences) {
			const data = Buffer.concat([
				Buffer.from('{"a":1}\n{"a":"'),
				Buffer.from(bytes),
				Buffer.from('"}\n'),
			]);
			for (const chunks of [[data], chunked(data, [1])]) {
				const error = await failure(parse(chunks));
				expect(error.message, bytes.join(' ')).toBe('Interaction-1.json:2: not valid UTF-8');
			}
		}
	});

	it('with onError skip: counts skipped lines, keeps the first reason, and goes on', async () => {
		const data = Buffer.concat([
			Buffer.from('{"a":1}\nnot json\n[1]\n{"a":2}\n{"a":"'),
			Buffer.from([0xff]),
			Buffer.from('"}\n{"a":3}'),
		]);
		const { records, stats } = await parse(data, { onError: 'skip' });
		expect(lined(records)).toEqual([
			[1, { a: 1 }],
			[4, { a: 2 }],
			[6, { a: 3 }],
		]);
		expect(stats).toEqual({
			records: 3,
			skipped: 3,
			lines: 6,
			firstSkipped: "Interaction-1.json:2: invalid JSON: unexpected 'n' at column 1",
		});
	});
});

describe('parseJsonLines: line size limit', () => {
	// 20 bytes: {"a":"xxxxxxxxxxxx"}
	const twenty = `{"a":"${'x'.repeat(12)}"}`;
	const options = { source: 'x.json', maxLineBytes: 20 };

	it('accepts a line of exactly the limit, with LF or CRLF, whole or byte by byte', async () => {
		for (const [between, end] of [
			['\n', '\n'],
			['\r\n', '\r\n'],
			['\n', ''],
			['\r\n', ''],
		]) {
			const data = Buffer.from(`${twenty}${between}${twenty}${end}`);
			for (const chunks of [[data], chunked(data, [1]), chunked(data, [7, 3])]) {
				expect((await parse(chunks, options)).records, JSON.stringify([between, end])).toHaveLength(
					2,
				);
			}
		}
	});

	it('refuses a line one byte over the limit, whole or byte by byte, whatever the policy', async () => {
		const data = Buffer.from(`${twenty}\r\n${twenty.replace('{', '{ ')}\r\n`);
		for (const chunks of [[data], chunked(data, [1]), chunked(data, [7, 3])]) {
			for (const onError of ['fail', 'skip'] as const) {
				const error = await failure(parse(chunks, { ...options, onError }));
				expect(error.code).toBe('JSONL_LIMIT');
				expect(error.message).toBe(
					'x.json:2: the line is longer than 20 bytes, the most a record may have; if the export really holds records this long, raise the line size limit (--max-line-size in the CLI, Max Line Size (MiB) in the nodes)',
				);
				expect(error.limit).toBe('maxLineBytes');
			}
		}
	});

	it('refuses a long line before holding more than the limit in memory', async () => {
		let fed = 0;
		async function* endless() {
			yield Buffer.from('{"a":1}\n{"a":"');
			for (;;) {
				fed += 1024;
				if (fed > 1024 * 1024) throw new Error('read far past the limit');
				yield Buffer.alloc(1024, 0x61);
			}
		}
		const error = await failure(
			(async () => {
				for await (const record of parseJsonLines(endless(), {
					source: 'x.json',
					maxLineBytes: 10_000,
					onError: 'skip',
				}))
					void record;
			})(),
		);
		expect(error.code).toBe('JSONL_LIMIT');
		expect(error.message).toMatch(/^x\.json:2: the line is longer than 10000 bytes/);
		expect(fed).toBeLessThanOrEqual(10_000 + 1024);
	});

	it('refuses a limit that is not a positive integer before reading anything', async () => {
		for (const maxLineBytes of [0, -1, 1.5, Number.NaN]) {
			await expect(parse('{"a":1}\n', { maxLineBytes })).rejects.toThrow(RangeError);
		}
	});

	it('refuses a line without any line break that is longer than the limit', async () => {
		const error = await failure(
			parse([Buffer.alloc(64, 0x20), Buffer.alloc(64, 0x20)], { ...options, onError: 'skip' }),
		);
		expect(error.message).toMatch(/^x\.json:1: the line is longer than 20 bytes/);
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

describe('compactJson', () => {
	it('removes only the whitespace outside strings: numbers, escapes and key order stay as written', () => {
		const spaced = Buffer.from(
			'{ "n" : 12345678901234567890 ,\t"s" : "a\\u00e9 b\\" }" ,\r\n "e" : [ 1.50 , 2E+3 , { } ] }',
		);
		expect(compactJson(spaced).toString()).toBe(
			'{"n":12345678901234567890,"s":"a\\u00e9 b\\" }","e":[1.50,2E+3,{}]}',
		);
		const compact = Buffer.from('{"a":"x y"}');
		expect(compactJson(compact)).toBe(compact);
	});

	it('agrees with JSON.stringify on random values written with indentation', () => {
		fc.assert(
			fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 4 }), (value, indent) => {
				const text = JSON.stringify({ v: value }, null, indent);
				expect(compactJson(Buffer.from(text)).toString()).toBe(JSON.stringify({ v: value }));
			}),
			{ numRuns: 500 },
		);
	});

	it('compacts a record nested 20,000 levels deep (JSON.stringify overflows the stack on it)', () => {
		const depth = 20_000;
		const line = Buffer.from(`{"a": ${'{"b": '.repeat(depth)}1${'}'.repeat(depth)}}`);
		const out = compactJson(line).toString();
		expect(out).toBe(`{"a":${'{"b":'.repeat(depth)}1${'}'.repeat(depth)}}`);
		expect(() => JSON.stringify(JSON.parse(line.toString()))).toThrow(RangeError);
	});
});

describe('parseJsonLineBlocks: the same records as bytes', () => {
	/** What parseJsonLines (lazyValues) gives for `chunks`: the output bytes, stats and failure. */
	async function byRecords(chunks: Buffer[], options: Partial<BlockOptions>) {
		const stats = newStats();
		const out: Buffer[] = [];
		const lines: number[] = [];
		let error: string | undefined;
		try {
			for await (const r of parseJsonLines(
				streamOf(chunks),
				{ source: 's.jsonl', lazyValues: true, ...options },
				stats,
			)) {
				out.push(options.compact ? compactJson(r.raw) : r.raw, Buffer.from('\n'));
				lines.push(r.line);
			}
		} catch (e) {
			error = (e as Error).message;
		}
		return { bytes: Buffer.concat(out).toString('latin1'), lines, stats, error };
	}

	async function byBlocks(chunks: Buffer[], options: Partial<BlockOptions>) {
		const stats = newStats();
		const out: Buffer[] = [];
		const lines: number[] = [];
		let error: string | undefined;
		try {
			for await (const b of parseJsonLineBlocks(
				streamOf(chunks),
				{ source: 's.jsonl', ...options },
				stats,
			)) {
				expect(b.records).toBeGreaterThan(0);
				// One line break per record, the last byte among them.
				expect(b.bytes.filter((c) => c === 0x0a).length).toBe(b.records);
				expect(b.bytes[b.bytes.length - 1]).toBe(0x0a);
				out.push(b.bytes);
				for (let k = 0; k < b.records; k++) lines.push(b.firstLine + k);
			}
		} catch (e) {
			error = (e as Error).message;
		}
		return { bytes: Buffer.concat(out).toString('latin1'), lines, stats, error };
	}

	it('agrees with parseJsonLines on any lines, damage, line ends, BOM, limits and chunking', async () => {
		const line = fc.oneof(
			{ weight: 6, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify({ v })) },
			{
				weight: 2,
				arbitrary: fc
					.jsonValue({ maxDepth: 2, stringUnit: 'binary' })
					.map((v) => JSON.stringify({ v }, null, 1).replace(/\n/g, ' ')),
			},
			{
				weight: 1,
				arbitrary: fc.constantFrom('', ' ', '\t', '[1]', '{"a":1,}', '{"a":"\u0001"}', 'x'),
			},
			{ weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
		);
		await fc.assert(
			fc.asyncProperty(
				fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n')), { maxLength: 20 }),
				fc.boolean(),
				fc.boolean(),
				fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 6 }),
				fc.constantFrom<'fail' | 'skip'>('fail', 'skip'),
				fc.boolean(),
				fc.constantFrom(undefined, 12, 40),
				fc.boolean(),
				async (lines, bom, finalBreak, sizes, onError, compact, maxLineBytes, rawBytes) => {
					let text = (bom ? '\ufeff' : '') + lines.map(([l, e]) => l + e).join('');
					if (!finalBreak) text = text.replace(/\r?\n$/, '');
					// Some inputs as bytes that are not UTF-8 (a lone continuation byte).
					const data = rawBytes
						? Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0x80, 0x0a, 0x7b, 0x7d])])
						: Buffer.from(text, 'utf8');
					const options = { onError, compact, maxLineBytes };
					const want = await byRecords(chunked(data, sizes), options);
					const got = await byBlocks(chunked(data, sizes), options);
					expect(got).toEqual(want);
				},
			),
			{ numRuns: 1500 },
		);
	});

	it('gives the lines of one read as one view of it', async () => {
		const data = Buffer.from('{"a":1}\n{"b":2}\n{"c":3}\n');
		const blocks: RecordBlock[] = [];
		for await (const b of parseJsonLineBlocks(streamOf([data]), { source: 's' })) blocks.push(b);
		expect(blocks).toHaveLength(1);
		expect(blocks[0].bytes.buffer).toBe(data.buffer);
		expect(blocks[0]).toMatchObject({ firstLine: 1, records: 3 });
	});

	it('ends a run at a line it skips, and numbers the next run from the line after it', async () => {
		const data = Buffer.from('{"a":1}\n{"a":2}\nnot json\n\n{"a":3}\n{ "a": 4 }\n');
		const blocks: RecordBlock[] = [];
		const stats = newStats();
		for await (const b of parseJsonLineBlocks(
			streamOf([data]),
			{ source: 's', onError: 'skip', compact: true },
			stats,
		))
			blocks.push(b);
		expect(blocks.map((b) => [b.firstLine, b.records, b.bytes.toString()])).toEqual([
			[1, 2, '{"a":1}\n{"a":2}\n'],
			[5, 1, '{"a":3}\n'],
			[6, 1, '{"a":4}\n'],
		]);
		expect(stats).toMatchObject({ records: 4, skipped: 1, lines: 6 });
	});
});
