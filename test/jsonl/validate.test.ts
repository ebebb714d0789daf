import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	COMPACT,
	INVALID,
	isCompactJson,
	jsonObjectProblem,
	scanJsonObject,
	SPACED,
} from '../../src/jsonl';

/** What JSON.parse says about a line: undefined when it is one JSON object. */
function byJsonParse(text: string): 'ok' | 'not-object' | 'invalid' {
	try {
		const v = JSON.parse(text);
		return v !== null && typeof v === 'object' && !Array.isArray(v) ? 'ok' : 'not-object';
	} catch {
		return 'invalid';
	}
}

/** Random JSON objects (compact or indented), and the same with a random piece of damage. */
const damaged = fc
	.tuple(
		fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: 'binary' })),
		fc.boolean(),
		fc.nat(),
		fc.constantFrom(
			'',
			',',
			'}',
			']',
			'"',
			'\\',
			' ',
			'0',
			'-',
			'e',
			'.',
			':',
			'\u0001',
			'tru',
			'{',
			'[',
		),
	)
	.map(([value, damage, at, insert]) => {
		const text = JSON.stringify({ v: value }, null, at % 3 === 0 ? 1 : undefined);
		if (!damage) return text;
		const p = at % (text.length + 1);
		return text.slice(0, p) + insert + text.slice(p + (at % 2));
	});

function byValidator(text: string): 'ok' | 'not-object' | 'invalid' {
	const problem = jsonObjectProblem(Buffer.from(text, 'utf8'));
	return problem === undefined
		? 'ok'
		: problem.startsWith('expected a JSON object')
			? 'not-object'
			: 'invalid';
}

describe('jsonObjectProblem (the byte validator for long lines)', () => {
	it('accepts what JSON.parse accepts', () => {
		for (const text of [
			'{}',
			' {"a":[]} ',
			'{"a":{"b":[1,-0.5e+3,true,false,null,"\\u00e9\\n\\"",[[]],{}]}}',
			'{"":0}',
			'{"a":1E9}',
		]) {
			expect(jsonObjectProblem(Buffer.from(text)), text).toBeUndefined();
		}
	});

	it('refuses what JSON.parse refuses, with the column', () => {
		const cases: Array<[string, RegExp]> = [
			['{"a":1,}', /column 8/],
			['{"a":01}', /column 7/],
			['{"a":"x\ty"}', /control character.*column 8/],
			['{"a":"\\x"}', /bad escape/],
			['{"a":"\\u12"}', /bad \\u escape/],
			['{"a":1} x', /after the value/],
			['{"a":[1,2}', /unexpected '}'/],
			['{"a":tru}', /unexpected 't'/],
			['{"a":1', /ends in the middle/],
			['{"a":"abc', /ends in the middle/],
			['[1]', /expected a JSON object, got an array/],
		];
		for (const [text, reason] of cases)
			expect(jsonObjectProblem(Buffer.from(text)), text).toMatch(reason);
		expect(jsonObjectProblem(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))).toBe(
			'not valid UTF-8',
		);
	});

	it('agrees with JSON.parse on random JSON and on random damage to it', () => {
		fc.assert(
			fc.property(damaged, (text) => {
				// Compared on the bytes both see: a cut through a surrogate pair becomes U+FFFD in UTF-8.
				expect(byValidator(text), text).toBe(
					byJsonParse(Buffer.from(text, 'utf8').toString('utf8')),
				);
			}),
			{ numRuns: 3000 },
		);
	});

	it('shows a byte that is not printable ASCII in hex, never as a character', () => {
		expect(jsonObjectProblem(Buffer.from('{"a":é}'))).toBe(
			'invalid JSON: unexpected byte 0xC3 at column 6',
		);
		expect(jsonObjectProblem(Buffer.from('{"a":1}\u0000'))).toBe(
			'invalid JSON: unexpected byte 0x00 after the value at column 8',
		);
	});

	it('counts columns in bytes, so they point into the file', () => {
		expect(jsonObjectProblem(Buffer.from('{"é😀":1,}'))).toBe(
			'invalid JSON: expected a property name at column 13',
		);
	});
});

describe('scanJsonObject (the fast check of every record line)', () => {
	const shape = (text: string) => scanJsonObject(Buffer.from(text, 'utf8'));

	it('tells compact objects from spaced ones, and refuses the rest', () => {
		expect(shape('{}')).toBe(COMPACT);
		expect(
			shape('{"a":[1,-0.5e+3,true,false,null,"\\u00e9\\n\\" ",[[]],{}],"b":{"c":"x y"}}'),
		).toBe(COMPACT);
		expect(shape(' {}')).toBe(SPACED);
		expect(shape('{} ')).toBe(SPACED);
		expect(shape('{"a": 1}')).toBe(SPACED);
		expect(shape('{"a":[1 ,2]}')).toBe(SPACED);
		expect(shape('{"a":{}\t}')).toBe(SPACED);
		for (const bad of [
			'',
			' ',
			'[]',
			'"a"',
			'1',
			'{',
			'{"a"}',
			'{"a":}',
			'{"a":1,}',
			'{"a":[1,]}',
			'{"a":[,1]}',
			'{"a":01}',
			'{"a":1.}',
			'{"a":.5}',
			'{"a":1e}',
			'{"a":-}',
			'{"a":+1}',
			'{"a":tru}',
			'{"a":nul}',
			'{"a":falsy}',
			'{"a":"x\ty"}',
			'{"a":"\\x"}',
			'{"a":"\\u12g4"}',
			'{"a":"\\u12"}',
			'{"a":1}}',
			'{"a":1} x',
			'{"a":[1}',
			'{"a":{]}',
			'{1:2}',
			'{"a":1 "b":2}',
			'{"a":"b',
		])
			expect(shape(bad), bad).toBe(INVALID);
		expect(scanJsonObject(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))).toBe(
			INVALID,
		);
	});

	it('takes any depth of nesting', () => {
		const deep = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
		expect(shape(deep)).toBe(COMPACT);
		expect(shape(`{"a":${'['.repeat(100_000)}${']'.repeat(99_999)}}`)).toBe(INVALID);
		expect(shape(`{"a":${'{"b":'.repeat(50_000)}1${'}'.repeat(50_000)}}`)).toBe(COMPACT);
	});

	/** `bytes` placed `offset` bytes into a fresh buffer, so the scan starts at every alignment. */
	const placed = (bytes: Uint8Array, offset: number) => {
		const at = Buffer.from(new ArrayBuffer(offset + bytes.length + 8), offset, bytes.length);
		at.set(bytes);
		return at;
	};
	const expectedShape = (bytes: Buffer) =>
		byJsonParse(bytes.toString('utf8')) === 'ok' && isUtf8(bytes) ? COMPACT : INVALID;

	it('finds every control byte, quote and backslash in long strings, at every place and alignment', () => {
		// Long strings are read four bytes at a time: put each byte that ends or breaks a string at
		// every position of strings around the word-wise threshold, in lines at every alignment,
		// among neighbours that must not trip the test (space, 0x21/0x23, 0x5b/0x5d, DEL, and
		// UTF-8 bytes whose low seven bits look like a control, a quote or a backslash). The text
		// around the byte is whole UTF-8 characters, so every line reaches the scanner.
		const characters = [...'a \u0085!#[]\u007f\u00a2\u00dc\u0710\u20ac\u{1f600}z'];
		/** Exactly `n` bytes of valid UTF-8, cycling through the characters from `from`. */
		const text = (n: number, from: number) => {
			const pieces: Buffer[] = [];
			let size = 0;
			for (let k = from; size < n; k++) {
				const next = Buffer.from(characters[k % characters.length], 'utf8');
				const piece = size + next.length <= n ? next : Buffer.from('a');
				pieces.push(piece);
				size += piece.length;
			}
			return Buffer.concat(pieces);
		};
		const line = (content: Buffer, offset: number) =>
			placed(Buffer.concat([Buffer.from('{"k":"'), content, Buffer.from('"}')]), offset);
		const stops = [0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f, 0x22, 0x5c];
		let checked = 0;
		for (const length of [20, 23, 24, 25, 28, 31, 40, 67]) {
			for (let offset = 0; offset < 4; offset++) {
				expect(scanJsonObject(line(text(length, offset), offset))).toBe(COMPACT);
				for (let pos = 0; pos < length; pos++)
					for (const stop of stops) {
						const content = Buffer.concat([
							text(pos, offset),
							Buffer.from([stop]),
							text(length - pos - 1, pos),
						]);
						const bytes = line(content, offset);
						expect(isUtf8(bytes)).toBe(true);
						expect(scanJsonObject(bytes), `${length}/${offset}/${pos}/${stop}`).toBe(
							expectedShape(bytes),
						);
						checked++;
					}
			}
		}
		expect(checked).toBeGreaterThan(8000);
		// A valid escape far into a long string, and one cut off at the very end.
		const long = 'x'.repeat(100);
		expect(shape(`{"k":"${long}\\n${long}\\u00e9${long}"}`)).toBe(COMPACT);
		expect(shape(`{"k":"${long}\\`)).toBe(INVALID);
		expect(shape(`{"k":"${long}`)).toBe(INVALID);
	});

	it('agrees with JSON.parse on random long strings at every alignment', () => {
		fc.assert(
			fc.property(
				fc.string({ unit: 'binary', minLength: 20, maxLength: 300 }),
				fc.nat(3),
				fc.nat(),
				fc.constantFrom(-1, 0x00, 0x1f, 0x20, 0x22, 0x5c, 0x7f),
				(text, offset, where, raw) => {
					const bytes = Buffer.from(JSON.stringify({ text }), 'utf8');
					// Optionally one raw byte written over the string's content (not its quotes).
					if (raw >= 0 && bytes.length > 12) bytes[9 + (where % (bytes.length - 11))] = raw;
					const line = placed(bytes, offset);
					expect(scanJsonObject(line)).toBe(expectedShape(line));
				},
			),
			{ numRuns: 3000 },
		);
	});

	it('agrees with JSON.parse, the detailed validator and isCompactJson on random JSON and damage', () => {
		fc.assert(
			fc.property(damaged, (text) => {
				const bytes = Buffer.from(text, 'utf8');
				const expected = byJsonParse(bytes.toString('utf8'));
				const got = scanJsonObject(bytes);
				expect(got === INVALID ? 'refused' : 'ok', text).toBe(expected === 'ok' ? 'ok' : 'refused');
				expect(got === INVALID, text).toBe(jsonObjectProblem(bytes) !== undefined);
				if (got !== INVALID) expect(got === COMPACT, text).toBe(isCompactJson(bytes));
			}),
			{ numRuns: 5000 },
		);
	});
});
