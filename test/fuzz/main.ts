/**
 * `npm run fuzz`: the long hostile-input run (100,000 cases by default).
 *
 *   npm run fuzz -- [--cases N] [--seed S] [--jobs J] [--timeout MS] [--class NAME] [--small] [--record]
 *   npm run fuzz -- --seed S --case I      replays one case and says what happened
 *
 * Cases run in worker processes (`--jobs`, default 1), each one in-process against the core
 * operations (engine.ts). The parent watches them: a worker that stops answering (a blocked event
 * loop) or dies (an abort, running out of memory) is a hang or a crash of the case it was running,
 * and a new worker carries on after it. Seeds are made once by the real tools and kept in
 * .cache/fuzz/seeds, so a case replays on the same bytes; the inputs of every failing case are saved
 * in .cache/fuzz/failures/. The summary goes to stdout and .cache/fuzz/last-result.md; with
 * `--record` it also becomes the "Last result" section of docs/fuzz.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuzzRunner, Summary, type CaseResult } from './engine';
import { CLASSES, generateCase, type FuzzCase, type MutationClass } from './mutate';
import { loadSeeds } from './seeds';

const repo = join(__dirname, '..', '..');
const cache = join(repo, '.cache', 'fuzz');
const seedsDir = join(cache, 'seeds');
const failuresDir = join(cache, 'failures');

interface Settings {
	cases: number;
	seed: number;
	jobs: number;
	timeoutMs: number;
	cls?: MutationClass;
	big: boolean;
	record: boolean;
	only?: number;
}

function usage(message: string): never {
	console.error(
		`fuzz: ${message}\nusage: npm run fuzz -- [--cases N] [--seed S] [--jobs J] [--timeout MS] [--class ${CLASSES.join('|')}] [--small] [--record] | --seed S --case I`,
	);
	process.exit(2);
}

function parseArgs(argv: string[]): Settings {
	const settings: Settings = {
		cases: 100_000,
		seed: Math.floor(Math.random() * 0x7fffffff),
		jobs: 1,
		timeoutMs: 20_000,
		big: true,
		record: false,
	};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const value = () => {
			const v = argv[++i];
			if (v === undefined) usage(`${arg} needs a value`);
			return v;
		};
		const count = (v: string, min: number) => {
			const n = Number(v);
			if (!Number.isSafeInteger(n) || n < min)
				usage(`${arg} takes a whole number of at least ${min}`);
			return n;
		};
		if (arg === '--cases') settings.cases = count(value(), 1);
		else if (arg === '--seed') settings.seed = count(value(), 0);
		else if (arg === '--jobs') settings.jobs = Math.min(count(value(), 1), cpus().length * 2);
		else if (arg === '--timeout') settings.timeoutMs = count(value(), 100);
		else if (arg === '--case') settings.only = count(value(), 0);
		else if (arg === '--class') {
			const cls = value() as MutationClass;
			if (!CLASSES.includes(cls)) usage(`unknown class ${cls}`);
			settings.cls = cls;
		} else if (arg === '--small') settings.big = false;
		else if (arg === '--record') settings.record = true;
		else usage(`unknown option ${arg}`);
	}
	return settings;
}

/** The case numbers of a run: all of 0…N-1, or the first N of one class. */
function indices(settings: Settings): number[] {
	if (!settings.cls) return Array.from({ length: settings.cases }, (_, i) => i);
	const k = CLASSES.indexOf(settings.cls);
	return Array.from({ length: settings.cases }, (_, i) => i * CLASSES.length + k);
}

function replayCommand(settings: Settings, index: number): string {
	return `npm run fuzz -- --seed ${settings.seed} --case ${index}${settings.big ? '' : ' --small'}`;
}

function saveFailure(c: FuzzCase, result: CaseResult): void {
	const dir = join(failuresDir, `seed-${process.env.CX_FUZZ_SEED}-case-${c.index}`);
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	c.inputs.forEach((input, i) => writeFileSync(join(dir, `input-${i}`), input.data));
	const inputs = c.inputs.map((input, i) => ({
		file: `input-${i}`,
		name: input.name,
		bytes: input.data.length,
	}));
	writeFileSync(
		join(dir, 'case.json'),
		`${JSON.stringify({ ...result, inputs, delivery: c.delivery, onError: c.onError }, null, '\t')}\n`,
	);
}

type FromWorker =
	| { type: 'start'; index: number }
	| { type: 'result'; result: CaseResult; rss: number }
	| { type: 'done' };
type ToWorker = { type: 'work'; indices: number[] };

/** Worker: runs the cases it is sent, one at a time, reporting each. */
async function worker(settings: Settings): Promise<void> {
	const seeds = loadSeeds(seedsDir);
	const root = mkdtempSync(join(tmpdir(), 'cx-fuzz-'));
	const runner = new FuzzRunner(seeds, { root, timeoutMs: settings.timeoutMs });
	const send = (message: FromWorker) =>
		new Promise<void>((resolve) => process.send!(message, () => resolve()));
	const work = await new Promise<ToWorker>((resolve) =>
		process.once('message', (m) => resolve(m as ToWorker)),
	);
	runner.start();
	try {
		for (const index of work.indices) {
			await send({ type: 'start', index });
			const c = generateCase(seeds, settings.seed, index, { big: settings.big, root });
			const result = await runner.run(c);
			if (result.failures.length > 0) saveFailure(c, result);
			await send({ type: 'result', result, rss: process.memoryUsage.rss() });
		}
	} finally {
		runner.stop();
		await rm(root, { recursive: true, force: true });
	}
	await send({ type: 'done' });
	process.exit(0);
}

/** Replays one case in this process and prints everything about it. */
async function replay(settings: Settings, index: number): Promise<void> {
	const seeds = loadSeeds(seedsDir);
	const root = mkdtempSync(join(tmpdir(), 'cx-fuzz-'));
	const runner = new FuzzRunner(seeds, { root, timeoutMs: settings.timeoutMs });
	runner.start();
	try {
		const c = generateCase(seeds, settings.seed, index, { big: settings.big, root });
		console.log(
			`case #${index} (seed ${settings.seed}): ${c.cls}, ${c.op}, ${c.delivery === 'file' ? 'from files' : `in chunks of ${c.delivery} bytes`}, onError ${c.onError}`,
		);
		console.log(`  ${c.what}`);
		for (const input of c.inputs)
			console.log(
				`  input ${JSON.stringify(input.name.slice(0, 200))}: ${input.data.length} bytes`,
			);
		const result = await runner.run(c);
		saveFailure(c, result);
		console.log(
			`outcome: ${result.outcome}${result.code ? ` (${result.code})` : ''} in ${Math.round(result.ms)} ms`,
		);
		if (result.message !== undefined) console.log(`message: ${result.message.slice(0, 2000)}`);
		for (const f of result.failures) console.log(`FAILURE ${f.kind}: ${f.detail}`);
		console.log(`inputs saved in ${join(failuresDir, `seed-${settings.seed}-case-${index}`)}`);
		process.exitCode = result.failures.length > 0 ? 1 : 0;
	} finally {
		runner.stop();
		await rm(root, { recursive: true, force: true });
	}
}

async function parent(settings: Settings): Promise<void> {
	const t0 = Date.now();
	console.log(
		`fuzz: seed ${settings.seed}, ${settings.cases} cases${settings.cls ? ` of class ${settings.cls}` : ''}, ${settings.jobs} job(s), timeout ${settings.timeoutMs} ms${settings.big ? '' : ', small inputs only'}`,
	);
	console.log(`fuzz: seeds in ${seedsDir} (made by zip and openssl on first use)`);
	loadSeeds(seedsDir);
	const all = indices(settings);
	const summary = new Summary();
	let peakRss = 0;
	let lastReport = Date.now();
	const progress = () => {
		const seconds = (Date.now() - t0) / 1000;
		console.log(
			`fuzz: ${summary.cases}/${all.length} cases, ${summary.failed} failed, ${Math.round(summary.cases / seconds)} cases/s, worker RSS up to ${Math.round(peakRss / 2 ** 20)} MiB`,
		);
		lastReport = Date.now();
	};
	const stallMs = settings.timeoutMs * 3 + 30_000;

	await new Promise<void>((resolveAll) => {
		let running = 0;
		const launch = (list: number[]) => {
			if (list.length === 0) return;
			running++;
			const child: ChildProcess = fork(__filename, process.argv.slice(2), {
				env: { ...process.env, CX_FUZZ_WORKER: '1', CX_FUZZ_SEED: String(settings.seed) },
				stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
			});
			let stderr = '';
			child.stderr!.on('data', (d: Buffer) => {
				stderr = (stderr + d.toString()).slice(-4000);
			});
			let current: number | undefined;
			let since = Date.now();
			let done = false;
			const remaining = () => list.slice(list.indexOf(current!) + 1);
			const lost = (kind: 'crash' | 'hang', detail: string) => {
				if (current === undefined) return;
				summary.add({
					index: current,
					cls: CLASSES[current % CLASSES.length],
					op: 'records',
					what: '(see replay)',
					outcome: 'failed',
					failures: [{ kind, detail }],
					ms: Date.now() - since,
				});
			};
			const watchdog = setInterval(() => {
				if (current !== undefined && Date.now() - since > stallMs) {
					lost('hang', `the worker stopped answering for ${stallMs} ms (blocked event loop?)`);
					done = true;
					child.kill('SIGKILL');
				}
			}, 1000);
			child.on('message', (m: FromWorker) => {
				if (m.type === 'start') {
					current = m.index;
					since = Date.now();
				} else if (m.type === 'result') {
					summary.add(m.result);
					peakRss = Math.max(peakRss, m.rss);
					if (m.result.failures.length > 0)
						console.log(
							`fuzz: case #${m.result.index} failed (${m.result.failures.map((f) => f.kind).join(', ')}): ${m.result.what.slice(0, 160)} — ${replayCommand(settings, m.result.index)}`,
						);
					if (Date.now() - lastReport > 30_000) progress();
				} else if (m.type === 'done') {
					current = undefined;
					done = true;
				}
			});
			child.on('exit', (code, signal) => {
				clearInterval(watchdog);
				running--;
				if (!done)
					lost(
						'crash',
						`the worker died (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 600)}`,
					);
				// A worker lost in the middle: a new one carries on after the case it was running.
				if (current !== undefined) launch(remaining());
				if (running === 0) resolveAll();
			});
			child.send({ type: 'work', indices: list } satisfies ToWorker);
		};
		for (let w = 0; w < settings.jobs; w++) launch(all.filter((_, i) => i % settings.jobs === w));
		if (running === 0) resolveAll();
	});

	const seconds = Math.round((Date.now() - t0) / 1000);
	const extra = [
		`Seed ${settings.seed}; ${new Date(t0).toISOString().slice(0, 10)}; ${seconds} s with ${settings.jobs} job(s) (${Math.round(summary.cases / Math.max(1, seconds))} cases/s); Node ${process.versions.node}; per-case timeout ${settings.timeoutMs} ms; worker RSS up to ${Math.round(peakRss / 2 ** 20)} MiB.`,
	];
	const report = summary.format((index) => replayCommand(settings, index), extra);
	console.log(`\n${report}`);
	mkdirSync(cache, { recursive: true });
	writeFileSync(join(cache, 'last-result.md'), `${report}\n`);
	if (settings.record) record(report, settings);
	process.exitCode = summary.failed > 0 ? 1 : 0;
}

/** Replaces the "Last result" section of docs/fuzz.md. */
function record(report: string, settings: Settings): void {
	const path = join(repo, 'docs', 'fuzz.md');
	const text = readFileSync(path, 'utf8');
	const start = '<!-- fuzz-result:start -->';
	const end = '<!-- fuzz-result:end -->';
	const from = text.indexOf(start);
	const to = text.indexOf(end);
	if (from < 0 || to < from) throw new Error(`${path} has no ${start} … ${end} section`);
	const command = `npm run fuzz -- --seed ${settings.seed} --cases ${settings.cases}${settings.jobs > 1 ? ` --jobs ${settings.jobs}` : ''}${settings.cls ? ` --class ${settings.cls}` : ''}${settings.big ? '' : ' --small'}`;
	writeFileSync(
		path,
		`${text.slice(0, from + start.length)}\n\`${command}\`\n\n${report}\n${text.slice(to)}`,
	);
	console.log(`fuzz: recorded in ${path}`);
}

const settings = parseArgs(process.argv.slice(2));
const main = process.env.CX_FUZZ_WORKER
	? worker(settings)
	: settings.only !== undefined
		? replay(settings, settings.only)
		: parent(settings);
main.catch((error: unknown) => {
	console.error(error);
	process.exit(2);
});
