/**
 * The hostile-input classes of `npm run fuzz`, as fast property tests with a fixed seed: every case
 * runs in this process against decrypt, reassemble, extract, records or key loading, and must end
 * in a result or a CxError with a clear one-line message — never an uncaught exception, a hang, a
 * stack trace, a secret, a leftover file or an escape from the target directory (engine.ts). The
 * seeds are made here by Info-ZIP `zip` and `openssl`, fresh for each run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CxError } from '../../src/errors';
import { FuzzRunner, Summary, type CaseResult } from './engine';
import { CLASSES, generateCase, type FuzzCase } from './mutate';
import { loadSeeds, type Seeds } from './seeds';

/** Fixed: the same cases on every run. */
const SEED = 20_261_201;
const CASES_PER_CLASS = 150;

const work = mkdtempSync(join(tmpdir(), 'cx-fuzz-test-'));
let seeds: Seeds;
let runner: FuzzRunner;

beforeAll(() => {
	seeds = loadSeeds(join(work, 'seeds'), { fresh: true });
	runner = new FuzzRunner(seeds, { root: join(work, 'root'), timeoutMs: 15_000 });
	runner.start();
}, 120_000);
afterAll(() => {
	runner?.stop();
	rmSync(work, { recursive: true, force: true });
});

function report(results: CaseResult[]): string {
	const summary = new Summary();
	for (const r of results) summary.add(r);
	return summary.format((index) => `npm run fuzz -- --seed ${SEED} --case ${index} --small`);
}

let planted = 1_000_000;
/** A case around a planted operation, to show the checks see what they are meant to see. */
function plantedCase(): FuzzCase {
	return {
		index: planted++,
		cls: 'flip',
		op: 'records',
		inputs: [{ name: 'x.jsonl', data: Buffer.from('{"a":1}\n') }],
		delivery: 'file',
		onError: 'fail',
		what: 'planted',
	};
}

describe('the fuzz harness', () => {
	it('sees each kind of failure it reports (the properties below are not vacuous)', async () => {
		const kinds = async (operate: Parameters<FuzzRunner['run']>[1], on = runner) =>
			(await on.run(plantedCase(), operate)).failures.map((f) => f.kind);
		expect(await kinds(async () => ({}))).toEqual([]);
		expect(
			await kinds(async () => Promise.reject(new CxError('ZIP_FORMAT', 'x.zip: no end record'))),
		).toEqual([]);
		expect(
			await kinds(async () => Promise.reject(new RangeError('Maximum call stack size exceeded'))),
		).toEqual(['not-cx']);
		expect(
			await kinds(async () =>
				Promise.reject(
					new CxError('ZIP_FORMAT', `x.zip: bad\n    at read (/src/zip/format.ts:1:2)`),
				),
			),
		).toEqual(['stack']);
		// CxError writes line breaks escaped; a message changed afterwards (or another error type's) can still hold one.
		const twoLines = new CxError('ZIP_FORMAT', 'x.zip: bad');
		twoLines.message = 'x.zip: bad\nsecond line';
		expect(await kinds(async () => Promise.reject(twoLines))).toEqual(['multiline']);
		expect(
			await kinds(async () =>
				Promise.reject(new CxError('KEY_INVALID', `the passphrase ${seeds.passphrase} is wrong`)),
			),
		).toEqual(['secret']);
		expect(
			await kinds(async () =>
				Promise.reject(new CxError('IO', 'x.zip: cannot read it (ERR_OUT_OF_RANGE)')),
			),
		).toEqual(['unclear']);
		expect(
			await kinds(async () =>
				Promise.reject(new CxError('JSONL_MALFORMED', 'x.jsonl: not valid JSON')),
			),
		).toEqual(['unclear']);
		expect(
			await kinds(async () => {
				// As yauzl did: a callback that throws after the promise has settled.
				setImmediate(() => {
					throw new RangeError('The value of "position" is out of range');
				});
				throw new CxError('ZIP_FORMAT', 'x.zip: bad');
			}),
		).toEqual(['crash']);
		expect(
			await kinds(async (paths) => {
				writeFileSync(join(paths.tmp, 'export.zip'), 'left behind');
				throw new CxError('ZIP_FORMAT', 'x.zip: bad');
			}),
		).toEqual(['leftover']);
		expect(
			await kinds(async (paths) => {
				writeFileSync(join(paths.dir, '..', '..', '..', 'escape-1.json'), 'outside');
				return {};
			}),
		).toEqual(['escape']);
		const impatient = new FuzzRunner(seeds, { root: join(work, 'root-hang'), timeoutMs: 200 });
		expect(await kinds(() => new Promise(() => undefined), impatient)).toEqual(['hang']);
	});

	it('the seeds go through every operation unchanged and as they were made', async () => {
		const files = { kind: 'files' as const, files: seeds.files };
		const records = { kind: 'records' as const, records: seeds.records };
		const cases: Array<Omit<FuzzCase, 'index' | 'cls' | 'what' | 'onError'>> = [
			{
				op: 'extract',
				inputs: [{ name: `${seeds.exportName}.zip`, data: seeds.zips.zip64 }],
				delivery: 'file',
				expect: files,
			},
			{ op: 'extract', inputs: seeds.splitEncrypted, delivery: 4096, expect: files },
			{ op: 'records', inputs: seeds.split, delivery: 'file', expect: records },
			{
				op: 'records',
				inputs: [{ name: `${seeds.exportName}.zip.smime`, data: seeds.messages.pemGcm }],
				delivery: 7,
				expect: records,
			},
			{
				op: 'records',
				inputs: [{ name: 'records.jsonl.smime', data: seeds.jsonlEncrypted }],
				delivery: 'file',
				expect: { kind: 'records', records: seeds.jsonlRecords },
			},
			{
				op: 'decrypt',
				inputs: [{ name: `${seeds.exportName}.zip.smime`, data: seeds.messages.berStream }],
				delivery: 1000,
				expect: { kind: 'plaintext', data: seeds.zips.deflated },
			},
			{ op: 'reassemble', inputs: seeds.splitEncrypted, delivery: 'file' },
			{ op: 'key', inputs: [{ name: 'key.p12', data: seeds.keyFiles.p12 }], delivery: 'file' },
		];
		for (const c of cases) {
			const result = await runner.run({
				...c,
				index: planted++,
				cls: 'flip',
				what: 'unchanged seed',
				onError: 'fail',
			});
			expect(result.failures, `${c.op} of ${c.inputs[0].name}`).toEqual([]);
			expect(result.outcome, `${c.op} of ${c.inputs[0].name}: ${result.message}`).toBe('ok');
		}
	});
});

describe('hostile inputs, by mutation class', () => {
	it.each(CLASSES.map((cls, k) => [cls, k] as const))(
		'%s: no crash, hang, stack trace, unclear message, secret, leftover or wrong output',
		async (_cls, k) => {
			const results: CaseResult[] = [];
			for (let i = 0; i < CASES_PER_CLASS; i++) {
				const c = generateCase(seeds, SEED, i * CLASSES.length + k, {
					big: false,
					root: join(work, 'root'),
				});
				results.push(await runner.run(c));
			}
			const failed = results.filter((r) => r.failures.length > 0);
			expect(failed.length, report(failed)).toBe(0);
			// Hostile, not harmless: most cases of every class are refused or meet a limit somewhere.
			expect(results.filter((r) => r.outcome === 'refused').length).toBeGreaterThan(
				CASES_PER_CLASS / 10,
			);
		},
		120_000,
	);
});
