/**
 * Runs fuzz cases in this process against the core operations, as a long-lived process (n8n, a
 * server running the CLI's functions) would: decrypt, reassemble, extract, records, key loading.
 *
 * A case fails when:
 * - crash: anything reaches `uncaughtException` or `unhandledRejection` while it runs;
 * - hang: it does not settle within the timeout;
 * - not-cx / stack / multiline / secret / unclear: it rejects with something other than a CxError,
 *   or with a message that holds a stack trace, more than one line, the key's passphrase or
 *   material, or an internal error text (ERR_*, "Maximum call stack", "undefined", …), or a
 *   JSON Lines error without its `source:line:`;
 * - leftover / escape: it leaves files in the temporary directory, partial or refused output, or
 *   anything outside the extraction target;
 * - wrong-output: it succeeds with other data than the format's checksums protect (see Expectation).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { loadDecryptionKey } from '../../src/cms';
import { CxError } from '../../src/errors';
import type { JsonLinesStats } from '../../src/jsonl';
import {
	decryptTo,
	exportRecords,
	extractExport,
	reassembleToFile,
} from '../../src/pipeline/export';
import { writeAtomically } from '../../src/pipeline/files';
import { fileSource, type ByteSource } from '../../src/pipeline/sources';
import type { ExtractedFile } from '../../src/zip';
import { CLASSES, OPERATIONS, type FuzzCase, type MutationClass, type Operation } from './mutate';
import type { Seeds } from './seeds';

export const FAILURE_KINDS = [
	'crash',
	'hang',
	'not-cx',
	'stack',
	'multiline',
	'secret',
	'unclear',
	'leftover',
	'escape',
	'wrong-output',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface Failure {
	kind: FailureKind;
	detail: string;
}

export interface CaseResult {
	index: number;
	cls: MutationClass;
	op: Operation;
	what: string;
	outcome: 'ok' | 'refused' | 'failed';
	/** The CxError code of a refusal. */
	code?: string;
	message?: string;
	failures: Failure[];
	ms: number;
}

export interface RunnerOptions {
	/** An empty directory for the cases' files (the runner owns everything below it). */
	root: string;
	timeoutMs: number;
}

/** The layout below the root: a case's directory sits a few levels down, so `../` escapes land in view. */
const LEVELS = ['a', 'b', 'cases'];

export class FuzzRunner {
	private readonly escaped: unknown[] = [];
	private readonly abandoned = new Set<string>();
	private readonly secrets: string[];
	private readonly onEscape = (error: unknown) => {
		this.escaped.push(error);
	};

	constructor(
		readonly seeds: Seeds,
		readonly options: RunnerOptions,
	) {
		// The passphrase and pieces of the key file's base64: none may ever appear in a message.
		const body = seeds.keyFiles.pem
			.toString('latin1')
			.replace(/-----[^-]+-----/g, '')
			.replace(/\s+/g, '');
		this.secrets = [seeds.passphrase];
		for (let i = 0; i + 24 <= body.length; i += 97) this.secrets.push(body.slice(i, i + 24));
		mkdirSync(join(options.root, ...LEVELS), { recursive: true });
	}

	/** Listens for what escapes the operations (call before the first case). */
	start(): void {
		process.on('uncaughtException', this.onEscape);
		process.on('unhandledRejection', this.onEscape);
	}

	stop(): void {
		process.off('uncaughtException', this.onEscape);
		process.off('unhandledRejection', this.onEscape);
	}

	/**
	 * Runs one case and checks everything listed at the top. `operate` replaces the operation (the
	 * harness's own tests use it to plant each kind of failure).
	 */
	async run(c: FuzzCase, operate?: (paths: CasePaths) => Promise<Output>): Promise<CaseResult> {
		const dir = join(this.options.root, ...LEVELS, `c${c.index}`);
		const paths: CasePaths = {
			dir,
			in: join(dir, 'in'),
			tmp: join(dir, 'tmp'),
			out: join(dir, 'out'),
			zip: join(dir, 'out.zip'),
			bin: join(dir, 'out.bin'),
		};
		mkdirSync(paths.in, { recursive: true });
		mkdirSync(paths.tmp);
		const failures: Failure[] = [];
		const started = performance.now();
		const sources = await this.sources(c, paths.in);
		const work = operate ? operate(paths) : this.operate(c, sources, paths);
		let timer: NodeJS.Timeout | undefined;
		const settled = await Promise.race([
			work.then(
				(value) => ({ ok: true as const, value }),
				(error: unknown) => ({ ok: false as const, error }),
			),
			new Promise<'hang'>((resolveTimeout) => {
				timer = setTimeout(() => resolveTimeout('hang'), this.options.timeoutMs);
			}),
		]);
		clearTimeout(timer);
		const ms = performance.now() - started;
		// Errors thrown from callbacks arrive a tick or two after the promise settles.
		await new Promise((r) => setImmediate(r));
		await new Promise((r) => setImmediate(r));
		for (const error of this.escaped.splice(0))
			failures.push({ kind: 'crash', detail: describeThrown(error) });
		const base = { index: c.index, cls: c.cls, op: c.op, what: c.what, ms };
		if (settled === 'hang') {
			failures.push({ kind: 'hang', detail: `no answer within ${this.options.timeoutMs} ms` });
			this.abandoned.add(`c${c.index}`);
			work.catch(() => undefined);
			return { ...base, outcome: 'failed', failures };
		}
		let code: string | undefined;
		let message: string | undefined;
		if (settled.ok) {
			failures.push(...this.checkOutput(c, settled.value, paths.out));
		} else if (settled.error instanceof CxError) {
			code = settled.error.code;
			message = settled.error.message;
			failures.push(...this.checkMessage(settled.error));
			// A file whose first lines are records is JSON Lines, whatever a later line holds.
			if (
				c.expect?.kind === 'around' &&
				c.expect.before.length > 0 &&
				c.onError === 'skip' &&
				code === 'JSONL_MALFORMED'
			) {
				failures.push({
					kind: 'wrong-output',
					detail: `with onError skip, one bad line stopped the whole input: ${JSON.stringify(message.slice(0, 200))}`,
				});
			}
		} else {
			failures.push({ kind: 'not-cx', detail: describeThrown(settled.error) });
		}
		failures.push(...this.checkFiles(c, settled.ok, paths));
		await removeTree(dir);
		return {
			...base,
			outcome: failures.length > 0 ? 'failed' : settled.ok ? 'ok' : 'refused',
			code,
			message,
			failures,
		};
	}

	private async sources(c: FuzzCase, dir: string): Promise<ByteSource[]> {
		return Promise.all(
			c.inputs.map(async (input, i) => {
				if (c.delivery === 'file') {
					const path = join(dir, String(i));
					writeFileSync(path, input.data);
					return fileSource(path, input.name);
				}
				const chunk = c.delivery;
				return {
					name: input.name,
					size: input.data.length,
					open: async function* () {
						for (let p = 0; p < input.data.length; p += chunk)
							yield input.data.subarray(p, p + chunk);
					},
				};
			}),
		);
	}

	private async operate(c: FuzzCase, sources: ByteSource[], paths: CasePaths): Promise<Output> {
		const options = { key: this.seeds.key, tempDir: paths.tmp };
		switch (c.op) {
			case 'decrypt':
				await writeAtomically(paths.bin, (out) => decryptTo(sources[0], out, options));
				return { data: c.expect?.kind === 'plaintext' ? readFileSync(paths.bin) : undefined };
			case 'reassemble':
				await reassembleToFile(sources, paths.zip, options);
				return {};
			case 'extract':
				return { files: await extractExport(sources, paths.out, options) };
			case 'records': {
				const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
				const keep = c.expect !== undefined;
				const lines: Buffer[] = [];
				const newline = Buffer.from('\n');
				for await (const record of exportRecords(
					sources,
					{ ...options, onError: c.onError, lazyValues: true },
					stats,
				)) {
					if (keep) lines.push(record.raw, newline);
				}
				return { data: keep ? Buffer.concat(lines) : undefined };
			}
			case 'key':
				loadDecryptionKey({
					key: c.inputs[0].data,
					passphrase: this.seeds.passphrase,
					certificate: this.seeds.keyFiles.cert,
					label: c.inputs[0].name,
				});
				return {};
		}
	}

	private checkMessage(error: CxError): Failure[] {
		const m = error.message;
		const failures: Failure[] = [];
		const quote = JSON.stringify(m.length > 300 ? `${m.slice(0, 300)}…` : m);
		// A stack trace, also as CxError writes line breaks (an escaped `\n`, so a message stays one line).
		if (/(\n|\\n)\s+at |^\s*at \S.*:\d+:\d+\)?$/m.test(m))
			failures.push({ kind: 'stack', detail: quote });
		else if (/[\r\n]/.test(m)) failures.push({ kind: 'multiline', detail: quote });
		if (this.secrets.some((s) => m.includes(s)))
			failures.push({
				kind: 'secret',
				detail: `${error.code} message holds the passphrase or key material`,
			});
		const internal =
			/\bERR_[A-Z0-9_]{3,}\b|Maximum call stack|Cannot read propert|is not a function|is not defined|\[object \w+\]|\bNaN\b|\bundefined\b|Invalid (array|string) length|Cannot create a string/.exec(
				m,
			);
		if (m.trim() === '')
			failures.push({ kind: 'unclear', detail: `${error.code} with an empty message` });
		else if (internal)
			failures.push({
				kind: 'unclear',
				detail: `${error.code}: internal text "${internal[0]}": ${quote}`,
			});
		else if (m.length > 2000)
			failures.push({
				kind: 'unclear',
				detail: `${error.code}: a message of ${m.length} characters: ${quote}`,
			});
		// A line's error names source and line; a file refused whole says what it is instead.
		if (error.code === 'JSONL_MALFORMED' && !/:\d+: |: not JSON Lines/.test(m))
			failures.push({ kind: 'unclear', detail: `JSONL_MALFORMED without source:line: ${quote}` });
		return failures;
	}

	private checkOutput(c: FuzzCase, output: Output, out: string): Failure[] {
		const failures: Failure[] = [];
		for (const file of output.files ?? []) {
			const inside = relative(out, resolve(file.path));
			if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..')
				failures.push({
					kind: 'escape',
					detail: `${JSON.stringify(file.name)} was written to ${file.path}`,
				});
		}
		const expect = c.expect;
		if (!expect) return failures;
		const wrong = (detail: string) => failures.push({ kind: 'wrong-output', detail });
		if (expect.kind === 'files' && c.op === 'extract') {
			const expected = [...expect.files.keys()].filter((n) => !n.endsWith('/')).sort();
			const got = (output.files ?? []).map((f) => f.name).sort();
			if (JSON.stringify(expected) !== JSON.stringify(got))
				wrong(`extracted ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
			else
				for (const file of output.files ?? [])
					if (!readFileSync(file.path).equals(expect.files.get(file.name)!))
						wrong(`${file.name} came out different without an error`);
		} else if (expect.kind === 'records' && c.op === 'records') {
			// Entries come in central directory order, which a reordered directory changes: compare the lines.
			const lines = (data: Buffer) => data.toString('latin1').split('\n').sort().join('\n');
			if (
				!output.data ||
				(!output.data.equals(expect.records) && lines(output.data) !== lines(expect.records))
			) {
				wrong(
					`records differ from the original without an error (${output.data?.length} bytes, expected ${expect.records.length})`,
				);
			}
		} else if (expect.kind === 'plaintext' && c.op === 'decrypt') {
			if (!output.data?.equals(expect.data))
				wrong(
					`decrypted to other data without an error (${output.data?.length} bytes, expected ${expect.data.length})`,
				);
		} else if (expect.kind === 'around' && c.op === 'records') {
			const data = output.data ?? Buffer.alloc(0);
			if (
				!data.subarray(0, expect.before.length).equals(expect.before) ||
				!data.subarray(data.length - expect.after.length).equals(expect.after)
			) {
				wrong(
					`the good records around the bad line did not all come through (${data.length} bytes of records)`,
				);
			}
		}
		return failures;
	}

	/** What may exist after the case: the inputs, an empty temp dir, and the output of a success. */
	private checkFiles(
		c: FuzzCase,
		ok: boolean,
		paths: { dir: string; tmp: string; out: string },
	): Failure[] {
		const failures: Failure[] = [];
		const strays: string[] = [];
		const unexpected = (path: string) => {
			const name = relative(this.options.root, path);
			failures.push({
				kind: /escape|abs-/.test(name) ? 'escape' : 'leftover',
				detail: `${name} ${ok ? 'after a success' : 'after a failure'}`,
			});
			if (!path.startsWith(paths.dir + sep)) strays.push(path);
		};
		let at = this.options.root;
		for (const level of LEVELS) {
			for (const name of readdirSync(at)) if (name !== level) unexpected(join(at, name));
			at = join(at, level);
		}
		for (const name of readdirSync(at))
			if (name !== `c${c.index}` && !this.abandoned.has(name)) unexpected(join(at, name));
		const output = ok
			? {
					extract: 'out',
					reassemble: 'out.zip',
					decrypt: 'out.bin',
					records: undefined,
					key: undefined,
				}[c.op]
			: undefined;
		for (const name of readdirSync(paths.dir))
			if (name !== 'in' && name !== 'tmp' && name !== output) unexpected(join(paths.dir, name));
		for (const name of readdirSync(paths.tmp)) unexpected(join(paths.tmp, name));
		if (ok && c.op === 'extract' && existsSync(paths.out)) {
			const walk = (dir: string): void => {
				for (const name of readdirSync(dir)) {
					const path = join(dir, name);
					if (statSync(path).isDirectory()) walk(path);
					else if (/\.partial$|^\.cx-export-/.test(name)) unexpected(path);
				}
			};
			walk(paths.out);
		}
		// Reported once: what landed outside the case's directory goes, so the next case starts clean.
		for (const path of strays) execFileSync('rm', ['-rf', '--', path]);
		return failures;
	}
}

export interface Output {
	files?: ExtractedFile[];
	data?: Buffer;
}

export interface CasePaths {
	dir: string;
	/** The inputs, as files. */
	in: string;
	/** The pipeline's temporary directory: empty again after every case. */
	tmp: string;
	/** extract's target. */
	out: string;
	/** reassemble's output. */
	zip: string;
	/** decrypt's output. */
	bin: string;
}

/** rmSync recurses once per level: a 2,000-level tree (a legitimate extraction) overflows its stack. */
async function removeTree(dir: string): Promise<void> {
	try {
		await rm(dir, { recursive: true, force: true });
	} catch {
		execFileSync('rm', ['-rf', '--', dir]);
	}
}

function describeThrown(error: unknown): string {
	if (error instanceof Error) {
		const frames = (error.stack ?? '')
			.split('\n')
			.slice(1, 4)
			.map((l) => l.trim())
			.join(' | ');
		return `${error.constructor.name}${(error as NodeJS.ErrnoException).code ? ` ${(error as NodeJS.ErrnoException).code}` : ''}: ${error.message.split('\n')[0].slice(0, 300)}${frames ? ` [${frames}]` : ''}`;
	}
	return `a thrown ${typeof error}: ${String(error).slice(0, 200)}`;
}

/** Counts of a run, per class and operation, and the failures with what it takes to replay them. */
export class Summary {
	readonly started = new Date();
	cases = 0;
	readonly byClass = new Map<
		MutationClass,
		{ cases: number; ok: number; refused: number; failed: number; ms: number }
	>(CLASSES.map((c) => [c, { cases: 0, ok: 0, refused: 0, failed: 0, ms: 0 }]));
	readonly byOp = new Map<Operation, number>(OPERATIONS.map((o) => [o, 0]));
	readonly byKind = new Map<FailureKind, number>(FAILURE_KINDS.map((k) => [k, 0]));
	readonly codes = new Map<string, number>();
	readonly failures: CaseResult[] = [];
	slowest?: CaseResult;

	add(result: CaseResult): void {
		this.cases++;
		const cls = this.byClass.get(result.cls)!;
		cls.cases++;
		cls[result.outcome]++;
		cls.ms += result.ms;
		this.byOp.set(result.op, (this.byOp.get(result.op) ?? 0) + 1);
		if (result.code) this.codes.set(result.code, (this.codes.get(result.code) ?? 0) + 1);
		for (const f of result.failures) this.byKind.set(f.kind, (this.byKind.get(f.kind) ?? 0) + 1);
		if (result.failures.length > 0 && this.failures.length < 500) this.failures.push(result);
		if (!this.slowest || result.ms > this.slowest.ms) this.slowest = result;
	}

	get failed(): number {
		return [...this.byClass.values()].reduce((sum, c) => sum + c.failed, 0);
	}

	/** A Markdown report; `replay(index)` says how to run one case again. */
	format(replay: (index: number) => string, extra: string[] = []): string {
		const lines = [
			`Cases: ${this.cases}, failed: ${this.failed}. ${FAILURE_KINDS.map((k) => `${k} ${this.byKind.get(k)}`).join(', ')}.`,
			...extra,
			'',
			'| class | cases | ok | refused (CxError) | failed | mean time |',
			'| --- | ---: | ---: | ---: | ---: | ---: |',
			...[...this.byClass].map(
				([cls, c]) =>
					`| ${cls} | ${c.cases} | ${c.ok} | ${c.refused} | ${c.failed} | ${c.cases ? `${(c.ms / c.cases).toFixed(1)} ms` : '-'} |`,
			),
			'',
			`Operations: ${[...this.byOp].map(([op, n]) => `${op} ${n}`).join(', ')}.`,
			`Refusals by code: ${
				[...this.codes]
					.sort((a, b) => b[1] - a[1])
					.map(([code, n]) => `${code} ${n}`)
					.join(', ') || 'none'
			}.`,
			this.slowest
				? `Slowest case: #${this.slowest.index} (${this.slowest.cls}, ${this.slowest.op}, ${Math.round(this.slowest.ms)} ms): ${this.slowest.what.slice(0, 160)}.`
				: '',
		];
		if (this.failures.length > 0) {
			lines.push('', 'Failures:');
			for (const f of this.failures) {
				lines.push(`- #${f.index} ${f.cls} ${f.op}: ${f.what.slice(0, 200)}`);
				for (const x of f.failures) lines.push(`  - ${x.kind}: ${x.detail.slice(0, 600)}`);
				lines.push(`  - replay: \`${replay(f.index)}\``);
			}
		}
		return lines.join('\n');
	}
}
