/**
 * Damaged split sets never crash the zip code, never hang it, and never get through as different
 * data: whatever bytes are cut or flipped, reassembly + reading either gives the original entries
 * or stops with a CxError.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CxError } from '../../src/errors';
import { extractTo } from '../../src/zip';
import {
	bufferParts,
	makeTempDir,
	randomText,
	readEntries,
	readParts,
	reassembleToBuffer,
	splitPartNames,
	writeFiles,
	zip,
} from '../helpers/zipTools';

const tmp = makeTempDir();
const originals: Record<string, Buffer> = {};
const sets: Record<string, Array<{ name: string; data: Buffer }>> = {};
let runs = 0;

beforeAll(() => {
	originals['x.txt'] = randomText(250_000);
	originals['y.txt'] = Buffer.from('a small one\n');
	originals['z.json'] = Buffer.from('{"id":7,"channel":"voice"}\n'.repeat(3000));
	writeFiles(tmp.path, originals);
	zip(tmp.path, ['-s', '64k', join(tmp.path, 'deflated.zip'), 'x.txt', 'y.txt', 'z.json']);
	zip(tmp.path, ['-0', '-s', '64k', join(tmp.path, 'stored.zip'), 'x.txt', 'y.txt', 'z.json']);
	sets.deflated = readParts(tmp.path, splitPartNames(tmp.path, 'deflated'));
	sets.stored = readParts(tmp.path, splitPartNames(tmp.path, 'stored'));
});
afterAll(() => tmp.remove());

type Damage =
	| { kind: 'truncate'; part: number; keep: number }
	| { kind: 'flip'; part: number; flips: Array<{ at: number; bit: number }> };

function damage(parts: Array<{ name: string; data: Buffer }>, d: Damage) {
	return parts.map((p, i) => {
		if (i !== d.part % parts.length) return p;
		if (d.kind === 'truncate')
			return { name: p.name, data: p.data.subarray(0, Math.floor(d.keep * p.data.length)) };
		const data = Buffer.from(p.data);
		for (const { at, bit } of d.flips) data[Math.floor(at * data.length)] ^= 1 << bit;
		return { name: p.name, data };
	});
}

/**
 * 'ok' when every entry came out identical, through zipEntries and through extractTo; 'refused'
 * on a CxError (and then extractTo must leave nothing behind); throws on anything else.
 */
async function attempt(
	parts: Array<{ name: string; data: Buffer }>,
	chunk: number,
): Promise<'ok' | 'refused'> {
	const run = ++runs;
	let path: string;
	try {
		const { data } = await reassembleToBuffer(bufferParts(parts, chunk));
		path = join(tmp.path, `run-${run}.zip`);
		writeFileSync(path, data);
	} catch (error) {
		if (error instanceof CxError) return 'refused';
		throw error;
	}
	const same = (name: string, content: Buffer) => {
		if (!(name in originals))
			throw new Error(`an entry that was never zipped came out: ${JSON.stringify(name)}`);
		if (!content.equals(originals[name]))
			throw new Error(`${name} came out different without an error`);
	};
	let read: 'ok' | 'refused' = 'ok';
	try {
		for (const [name, content] of await readEntries(path)) same(name, content);
	} catch (error) {
		if (!(error instanceof CxError)) throw error;
		read = 'refused';
	}
	const dir = join(tmp.path, `out-${run}`);
	try {
		for (const file of await extractTo(path, dir)) same(file.name, readFileSync(file.path));
		if (read === 'refused') throw new Error('extractTo accepted what zipEntries refused');
	} catch (error) {
		if (!(error instanceof CxError)) throw error;
		if (read === 'ok')
			throw new Error(`extractTo refused what zipEntries accepted: ${error.message}`);
		if (existsSync(dir))
			throw new Error(`extractTo failed (${error.code}) but left ${readdirSync(dir).join(', ')}`);
	}
	rmSync(dir, { recursive: true, force: true });
	rmSync(path, { force: true });
	return read;
}

function withinSeconds<T>(seconds: number, work: Promise<T>): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(
			() => reject(new Error(`no answer within ${seconds} s: a hang`)),
			seconds * 1000,
		);
	});
	return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const damages: fc.Arbitrary<Damage> = fc.oneof(
	fc.record({
		kind: fc.constant('truncate' as const),
		part: fc.nat(),
		keep: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
	}),
	fc.record({
		kind: fc.constant('flip' as const),
		part: fc.nat(),
		flips: fc.array(
			fc.record({
				at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
				bit: fc.integer({ min: 0, max: 7 }),
			}),
			{ minLength: 1, maxLength: 3 },
		),
	}),
);

describe('damaged split sets', () => {
	it('the undamaged sets come out whole (the property below is not vacuous)', async () => {
		expect(sets.deflated.length).toBeGreaterThanOrEqual(3);
		expect(await attempt(sets.deflated, 4096)).toBe('ok');
		expect(await attempt(sets.stored, 4096)).toBe('ok');
	});

	it('never crash, never hang, never yield different data without an error', async () => {
		const outcomes = { ok: 0, refused: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom('deflated', 'stored'),
				damages,
				fc.constantFrom(7, 4096, 65536),
				async (set, d, chunk) => {
					outcomes[await withinSeconds(10, attempt(damage(sets[set], d), chunk))]++;
				},
			),
			{ numRuns: 300 },
		);
		// Most damage must be caught; some (a flip in a timestamp or an unused field) is harmless.
		expect(outcomes.refused).toBeGreaterThan(outcomes.ok);
	}, 120_000);

	it('flipping any byte of the central directory or end record is refused, unless nobody reads that field', async () => {
		const parts = sets.deflated;
		const last = parts[parts.length - 1].data;
		// Fields no reader relies on for the data: version made by / needed, the flag byte of bits
		// 8-15, time and date, internal and external attributes (the file type bits that matter are
		// checked), the UT and ux extra fields (ID and payload; not their size, which frames the
		// rest), and "entries on this disk".
		const ignored = new Set<number>();
		let cd = last.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
		const firstCd = cd;
		while (last.readUInt32LE(cd) === 0x02014b50) {
			for (const o of [4, 5, 6, 7, 9, 12, 13, 14, 15, 36, 37, 38, 39, 40, 41]) ignored.add(cd + o);
			const nameLength = last.readUInt16LE(cd + 28);
			const extraLength = last.readUInt16LE(cd + 30);
			for (let x = cd + 46 + nameLength; x < cd + 46 + nameLength + extraLength; ) {
				const size = last.readUInt16LE(x + 2);
				// Their ID too: an unknown subfield is skipped like theirs.
				if ([0x5455, 0x7875].includes(last.readUInt16LE(x)))
					for (const i of [0, 1, ...Array.from({ length: size }, (_, k) => 4 + k)])
						ignored.add(x + i);
				x += 4 + size;
			}
			cd += 46 + nameLength + extraLength + last.readUInt16LE(cd + 32);
		}
		expect(last.readUInt32LE(cd)).toBe(0x06054b50);
		ignored.add(cd + 8).add(cd + 9);
		const passed: number[] = [];
		for (let at = firstCd; at < last.length; at++) {
			const data = Buffer.from(last);
			data[at] ^= 0xff;
			if (
				(await attempt(
					[...parts.slice(0, -1), { name: parts[parts.length - 1].name, data }],
					65536,
				)) === 'ok'
			)
				passed.push(at);
		}
		expect(passed.filter((at) => !ignored.has(at))).toEqual([]);
		expect(passed.length).toBeGreaterThan(0);
	}, 120_000);
});
