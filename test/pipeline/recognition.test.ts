/**
 * Inputs are recognised by their bytes, not their names (issue 12, item 7), and every limit of
 * the pipeline can be set and is named in its errors (item 5). Fixtures from the real tools:
 * `zip` / `zip -s` and `openssl smime` / `openssl cms`.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDecryptionKey, type DecryptionKey } from '../../src/cms';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/jsonl/records';
import { LIMITS, limitProblem, raiseAdvice } from '../../src/limits';
import {
	decryptTo,
	exportRecords,
	extractExport,
	reassembleToFile,
	type RecordsOptions,
} from '../../src/pipeline/export';
import { fileSource, type ByteSource } from '../../src/pipeline/sources';
import { LARGEST_CENTRAL_DIRECTORY_BYTES } from '../../src/zip';
import { missingPartsMessage } from '../../src/zip/parts';
import {
	encryptFile,
	makeExport,
	makeRecipient,
	tempDir,
	type ExportFixture,
	type Recipient,
} from '../helpers/fixtures.mjs';
import { failure } from '../helpers/failure';
import { listCentralDirectory } from '../helpers/zipTools';

const dir = tempDir('cx-recognition-');
let alice: Recipient;
let key: DecryptionKey;
let whole: ExportFixture;
let split: ExportFixture;
/** The whole encrypted zip under names that do not say what it is. */
const renamed: Record<string, string> = {};

beforeAll(() => {
	alice = makeRecipient(dir.path, 'alice');
	key = loadDecryptionKey({ key: alice.key });
	whole = makeExport(dir.path, alice, {
		records: 200,
		name: 'export-aaaaaaaa-1111-2222-3333-444444444444',
	});
	split = makeExport(dir.path, alice, {
		records: 1500,
		split: '64k',
		name: 'export-bbbbbbbb-1111-2222-3333-444444444444',
	});
	const odd = join(dir.path, 'odd');
	mkdirSync(odd);
	for (const name of ['x.p7m', 'aes256.smime']) {
		renamed[name] = join(odd, name);
		copyFileSync(whole.encryptedParts[0], renamed[name]);
	}
	// PEM armour (BEGIN CMS), as `openssl cms -outform PEM` writes it.
	renamed['cms.pem'] = join(odd, 'cms.pem');
	encryptFile(whole.plainParts[0], renamed['cms.pem'], alice.certPath, { outform: 'PEM' });
	// DER, as `openssl cms -outform DER` writes it.
	renamed['message.der'] = join(odd, 'message.der');
	encryptFile(whole.plainParts[0], renamed['message.der'], alice.certPath, { outform: 'DER' });
}, 120_000);
afterAll(() => dir.remove());

async function records(sources: ByteSource[], options: RecordsOptions = {}): Promise<unknown[]> {
	const out: unknown[] = [];
	for await (const record of exportRecords(
		sources,
		{ key, ...options },
		{ records: 0, skipped: 0, lines: 0 },
	))
		out.push(record.value);
	return out;
}

/** A source without a path: its bytes are only a stream, as n8n binary data is. */
function streamSource(path: string, name: string): ByteSource {
	const data = readFileSync(path);
	return {
		name,
		open: async function* () {
			for (let i = 0; i < data.length; i += 4096) yield data.subarray(i, i + 4096);
		},
	};
}

const partsOf = (fixture: ExportFixture, encrypted: boolean) =>
	encrypted ? fixture.encryptedParts : fixture.plainParts;

describe('inputs are what their bytes say', () => {
	it.each(['x.p7m', 'aes256.smime', 'cms.pem', 'message.der'])(
		'reads the records of a whole encrypted zip named %s',
		async (name) => {
			expect(await records([await fileSource(renamed[name])])).toEqual(whole.records);
		},
	);

	it('refuses a zip whose central directory names a records entry differently than its local header (no records lost without a word)', async () => {
		const data = readFileSync(whole.plainParts[0]);
		const entry = listCentralDirectory(data).find((e) => e.name.startsWith('Contact-'))!;
		const hidden = Buffer.from(data);
		hidden.write('k', entry.centralAt + 46 + entry.nameLength - 4); // ".json" → ".kson" in the central directory only
		const path = join(dir.path, 'hidden-entry.zip');
		writeFileSync(path, hidden);
		const error = await failure(records([await fileSource(path)], { onError: 'skip' }));
		expect(error.code).toBe('ZIP_FORMAT');
		expect(error.message).toContain(
			`entry "${entry.name.replace(/json$/, 'kson')}" is named "${entry.name}" in its local header`,
		);
	});

	it('extracts a whole encrypted zip whatever its name', async () => {
		const target = join(dir.path, 'extract-p7m');
		const files = await extractExport([await fileSource(renamed['x.p7m'])], target, { key });
		expect(files.map((f) => f.name).sort()).toEqual(Object.keys(whole.files).sort());
		for (const [name, content] of Object.entries(whole.files))
			expect(readFileSync(join(target, name)).equals(content)).toBe(true);
	});

	it('reassembles a whole encrypted zip whatever its name', async () => {
		const out = join(dir.path, 'from-pem.zip');
		await reassembleToFile([await fileSource(renamed['cms.pem'])], out, { key });
		expect(readFileSync(out).equals(readFileSync(whole.plainParts[0]))).toBe(true);
	});

	it.each([
		['plain, on disk', false, true],
		['encrypted, on disk', true, true],
		['plain, a stream', false, false],
		['encrypted, a stream', true, false],
	])(
		'names the missing parts when given only the final part (%s)',
		async (_, encrypted, onDisk) => {
			const parts = partsOf(split, encrypted);
			expect(parts.length).toBeGreaterThanOrEqual(4);
			const last = parts[parts.length - 1];
			const name = last.split('/').pop()!;
			const source = onDisk ? await fileSource(last) : streamSource(last, name);
			const error = await failure(records([source]));
			expect(error.code).toBe('PART_MISSING');
			const suffix = encrypted ? '.smime' : '';
			const lastNumbered = String(parts.length - 1).padStart(2, '0');
			expect(error.message).toBe(
				`${name} is the last part of a split export of ${parts.length} parts, but only it was given: ` +
					`${split.exportName}.z01${suffix} … ${split.exportName}.z${lastNumbered}${suffix} are missing; every part of a split export is needed`,
			);
		},
	);

	it('names a missing part the names cannot reveal (the highest numbered one), from the disk count', async () => {
		const parts = split.encryptedParts;
		const given = [...parts.slice(0, -2), parts[parts.length - 1]];
		const error = await failure(records(await Promise.all(given.map((p) => fileSource(p)))));
		expect(error.code).toBe('PART_MISSING');
		expect(error.message).toContain(
			`${split.exportName}.z${String(parts.length - 1).padStart(2, '0')}.smime is missing`,
		);
	});

	it('refuses a binary file that is neither a zip, gzip, CMS nor JSON Lines, whatever the error policy', async () => {
		const path = join(dir.path, 'noise.jsonl');
		writeFileSync(path, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 73 + 11) % 256)));
		for (const onError of ['fail', 'skip'] as const) {
			const error = await failure(records([await fileSource(path)], { onError }));
			expect(error.code).toBe('JSONL_MALFORMED');
			expect(error.message).toBe(
				'noise.jsonl: not JSON Lines, a zip, gzip or an encrypted (S/MIME, PEM or DER CMS) file: it starts with the bytes 0b 54 9d e6 2f 78 c1 0a',
			);
		}
	});

	it('refuses a text file none of whose lines is a record, even when told to skip bad lines (junk before PEM armour)', async () => {
		const path = join(dir.path, 'junk-then-pem.smime');
		writeFileSync(path, Buffer.concat([Buffer.from('abc'), readFileSync(renamed['cms.pem'])]));
		const error = await failure(records([await fileSource(path)], { onError: 'skip' }));
		expect(error.code).toBe('JSONL_MALFORMED');
		expect(error.message).toMatch(
			/^junk-then-pem\.smime: not JSON Lines: none of its \d+ non-blank lines is a JSON record \(the first: junk-then-pem\.smime:1: /,
		);
	});

	it('still reads JSON Lines whose first line is malformed, skipping it when asked', async () => {
		const path = join(dir.path, 'first-bad.jsonl');
		writeFileSync(path, 'not json\n{"a":1}\n');
		expect(await records([await fileSource(path)], { onError: 'skip' })).toEqual([{ a: 1 }]);
	});

	it('keeps the good records of JSON Lines with a control byte in its first lines (a file and a stream)', async () => {
		const path = join(dir.path, 'nul-early.jsonl');
		writeFileSync(path, '{"a":1}\n{"b":"\u0000"}\n{"c":3}\n');
		for (const source of [await fileSource(path), streamSource(path, 'nul-early.jsonl')]) {
			expect(await records([source], { onError: 'skip' })).toEqual([{ a: 1 }, { c: 3 }]);
			const seen: unknown[] = [];
			const stats = { records: 0, skipped: 0, lines: 0 };
			const error = await failure(
				(async () => {
					for await (const record of exportRecords([source], { key, onError: 'fail' }, stats))
						seen.push(record.value);
				})(),
			);
			// The error is the line's, after the record before it.
			expect(seen).toEqual([{ a: 1 }]);
			expect(error.message).toMatch(/^nul-early\.jsonl:2: /);
		}
		// A first line with the control byte: nothing before it, so the file's bytes are described.
		const first = join(dir.path, 'nul-first.jsonl');
		writeFileSync(first, '{"b":"\u0000"}\n{"c":3}\n');
		expect(await records([await fileSource(first)], { onError: 'skip' })).toEqual([{ c: 3 }]);
	});
	it('lists missing parts in runs', () => {
		expect(missingPartsMessage('e.zip.smime', 4, ['e.zip.smime'])).toContain(
			'e.z01.smime … e.z03.smime are missing',
		);
		expect(missingPartsMessage('e.zip', 6, ['e.z02', 'e.zip'])).toContain(
			'but only 2 parts were given: e.z01 and e.z03 … e.z05 are missing',
		);
		expect(missingPartsMessage('e.zip', 3, ['e.z02', 'e.zip'])).toContain('e.z01 is missing');
		expect(missingPartsMessage('renamed.bin', 3, ['renamed.bin'])).toContain(
			'give every part (.z01 … .z02 and the final .zip)',
		);
		expect(
			missingPartsMessage('e.zip', 9, ['e.z01', 'e.z04', 'e.z06', 'e.z07', 'e.zip']),
		).toContain('e.z02, e.z03, e.z05 and e.z08 are missing');
	});

	it('names the missing parts of an end record that claims 2^31 parts in no time, without listing them one by one (found by fuzzing: it crashed the process)', () => {
		const started = performance.now();
		const message = missingPartsMessage('e.zip', 2 ** 31, ['e.z03', 'e.zip']);
		expect(performance.now() - started).toBeLessThan(1000);
		expect(message).toBe(
			'e.zip is the last part of a split export of 2147483648 parts, but only 2 parts were given: e.z01, e.z02 and e.z04 … e.z2147483647 are missing; every part of a split export is needed',
		);
	});
});

describe('every limit can be set, and its error names the flag and the node option', () => {
	it('bounds the central directory limit by what reassembly can hold', () => {
		expect(LIMITS.maxCentralDirectoryBytes.max).toBe(LARGEST_CENTRAL_DIRECTORY_BYTES);
		expect(limitProblem('maxCentralDirectoryBytes', LARGEST_CENTRAL_DIRECTORY_BYTES + 1)).toBe(
			'must be at most 128 MiB, got 134217729 bytes',
		);
		expect(limitProblem('maxLineBytes', 0)).toBe('must be at least 1 byte, got 0 bytes');
		expect(limitProblem('maxEntries', 1.5)).toBe('must be a whole number, got 1.5');
		expect(limitProblem('maxLineBytes', DEFAULT_MAX_LINE_BYTES)).toBeUndefined();
	});

	it('the README lists every limit with its flag, node option and default', () => {
		const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
		const section = readme.slice(
			readme.indexOf('### Limits'),
			readme.indexOf('## What is supported'),
		);
		for (const spec of Object.values(LIMITS)) {
			expect(section).toMatch(
				new RegExp(
					`\\| \`${spec.flag}\`[^|]*\\| ${spec.option.replace(/[()]/g, '\\$&')} \\| [\\d,]+( [MG]iB)? \\|`,
				),
			);
		}
	});

	it('line size: a lower limit refuses a line, the default reads it', async () => {
		const source = await fileSource(whole.encryptedParts[0]);
		const error = await failure(records([source], { limits: { maxLineBytes: 100 } }));
		expect(error.code).toBe('JSONL_LIMIT');
		expect(error.limit).toBe('maxLineBytes');
		expect(error.message).toContain(
			'raise the line size limit (--max-line-size in the CLI, Max Line Size (MiB) in the nodes)',
		);
		expect(await records([source], { limits: { maxLineBytes: 4096 } })).toEqual(whole.records);
	});

	it('CMS header size: a lower limit refuses the recipients, a higher one decrypts', async () => {
		const source = await fileSource(whole.encryptedParts[0]);
		const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
		const error = await failure(
			decryptTo(source, sink(), { key, limits: { maxCmsHeaderBytes: 100 } }),
		);
		expect(error.code).toBe('CMS_LIMIT');
		expect(error.limit).toBe('maxCmsHeaderBytes');
		expect(error.message).toMatch(
			/RecipientInfos at byte \d+ is larger than the CMS header limit, 100 bytes/,
		);
		expect(error.message).toContain(raiseAdvice('maxCmsHeaderBytes'));
		await decryptTo(await fileSource(whole.encryptedParts[0]), sink(), {
			key,
			limits: { maxCmsHeaderBytes: 4096 },
		});
		expect(
			await records([await fileSource(whole.encryptedParts[0])], {
				limits: { maxCmsHeaderBytes: 100 },
			}).catch((e: Error) => e.message),
		).toContain('--max-cms-header-size');
	});

	it('central directory size: exact, named, and bounded; a higher limit reassembles', async () => {
		const sources = await Promise.all(split.plainParts.map((p) => fileSource(p)));
		const error = await failure(
			reassembleToFile(sources, join(dir.path, 'cd-small.zip'), {
				limits: { maxCentralDirectoryBytes: 100 },
			}),
		);
		expect(error.code).toBe('ZIP_LIMIT');
		expect(error.limit).toBe('maxCentralDirectoryBytes');
		expect(error.message).toMatch(
			/needs \d+ bytes in memory, more than the central directory size limit, 100 bytes; if you trust this export, raise the central directory size limit \(--max-central-directory-size in the CLI, Max Central Directory Size \(MiB\) in the nodes\) to at least \d+ bytes/,
		);
		const needed = Number(/to at least (\d+) bytes/.exec(error.message)![1]);
		const summary = await reassembleToFile(sources, join(dir.path, 'cd-exact.zip'), {
			limits: { maxCentralDirectoryBytes: needed },
		});
		expect(summary.entries).toBe(2);
		const usage = await failure(
			reassembleToFile(sources, join(dir.path, 'cd-huge.zip'), {
				limits: { maxCentralDirectoryBytes: LARGEST_CENTRAL_DIRECTORY_BYTES + 1 },
			}),
		);
		expect(usage.code).toBe('USAGE');
	});

	it('zip limits name their flag and option', async () => {
		const error = await failure(
			records([await fileSource(whole.plainParts[0])], { limits: { maxEntries: 1 } }),
		);
		expect(error.limit).toBe('maxEntries');
		expect(error.message).toContain(
			'raise the entry count limit (--max-entries in the CLI, Max Entries in the nodes)',
		);
	});
});
