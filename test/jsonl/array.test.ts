import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonArrayElements } from '../../src/jsonl/array';

async function all(chunks: Array<string | Buffer>, options = {}): Promise<unknown[]> {
	const out: unknown[] = [];
	async function* input() {
		for (const c of chunks) yield Buffer.isBuffer(c) ? c : Buffer.from(c, 'utf8');
	}
	for await (const value of jsonArrayElements(input(), options)) out.push(value);
	return out;
}

function chop(text: string, sizes: number[]): Buffer[] {
	const bytes = Buffer.from(text, 'utf8');
	const out: Buffer[] = [];
	let at = 0;
	for (let i = 0; at < bytes.length; i++) {
		const n = Math.max(1, sizes[i % sizes.length]);
		out.push(bytes.subarray(at, at + n));
		at += n;
	}
	return out;
}

describe('jsonArrayElements', () => {
	it('yields the elements of the seed example, ids only', async () => {
		const text =
			'[\n  "361-93ae6d6b-8ea6-476a-bc2f-235ddc029994",\n  "361-b552fb93-4b10-4761-9d50-850890bcab02"\n]';
		expect(await all([text])).toEqual([
			'361-93ae6d6b-8ea6-476a-bc2f-235ddc029994',
			'361-b552fb93-4b10-4761-9d50-850890bcab02',
		]);
	});

	it('gives the same as JSON.parse for any array, however the bytes are chunked', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(fc.jsonValue()),
				fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
				fc.boolean(),
				async (values, sizes, pretty) => {
					const text = pretty ? JSON.stringify(values, null, 2) : JSON.stringify(values);
					expect(await all(chop(text, sizes))).toEqual(JSON.parse(text));
				},
			),
			{ numRuns: 300 },
		);
	});

	it('handles a BOM, empty arrays, strings with brackets, commas and escaped quotes', async () => {
		expect(await all(['\uFEFF[]'])).toEqual([]);
		expect(await all([' [ ] \n'])).toEqual([]);
		expect(await all(['["a]\\",b", {"x": "}"}, [1,[2]], null, 3.5e2]'])).toEqual([
			'a]",b',
			{ x: '}' },
			[1, [2]],
			null,
			350,
		]);
	});

	it('says what is wrong and where', async () => {
		await expect(all(['{"a":1}'], { source: 'the service stream' })).rejects.toThrow(
			'the service stream: "{" at byte 0; expected a JSON array',
		);
		await expect(all(['[1,2'])).rejects.toThrow(/end of the data before "\]"/);
		await expect(all(['[1,]'])).rejects.toThrow(/"\]" where an element belongs at byte 3/);
		await expect(all(['[1] x'])).rejects.toThrow(/data after the end of the array at byte 4/);
		await expect(all(['[tru]'])).rejects.toThrow(/not JSON/);
		await expect(all([''])).rejects.toThrow(/no data/);
		await expect(all(['["', 'x'.repeat(100), '"]'], { maxElementBytes: 50 })).rejects.toThrow(
			/larger than 50 bytes/,
		);
	});

	it('streams: elements come out before the input ends', async () => {
		let released = false;
		async function* input() {
			yield Buffer.from('["first",');
			await new Promise((r) => setTimeout(r, 20));
			released = true;
			yield Buffer.from('"second"]');
		}
		const it = jsonArrayElements(input());
		expect((await it.next()).value).toBe('first');
		expect(released).toBe(false);
		expect((await it.next()).value).toBe('second');
	});
});
