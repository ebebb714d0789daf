#!/usr/bin/env node
// The n8n part of `npm run bench`: large exports through real n8n, measured (a benchmark, not a test).
// Figures and what they mean: docs/benchmarks.md, "Large exports in n8n".
//
//  items  the plain one-item-per-record path: Webhook → Read/Write Files from Disk (an export of
//         bench/generate.mjs as one plain zip) → Parse JSON Lines (Records), in n8n 2.41 (Node 24,
//         one process, SQLite, N8N_DEFAULT_BINARY_DATA_MODE=filesystem); 174,000 and 500,000 records.
//         Item modes: default (n8n as shipped; records checked from the saved run data), nosave
//         (EXECUTIONS_DATA_SAVE_ON_SUCCESS=none), nosave-count (the same + a Summarize node counting
//         the records per kind, answered to the webhook).
//  cli    the CLI + COPY route: `cx-export records <encrypted parts> | psql -c "\copy …"` into a
//         throw-away PostgreSQL; 200,000 and 1,000,000 records.
//  chunks the workflow route: workflows/big-export-to-postgres.json (export → download as Record
//         Chunks → Execute Workflow per chunk → one PostgreSQL statement per chunk) against the
//         simulator (bench/simulator.ts) serving the same encrypted parts. Modes: 1-single (n8n
//         1.123, one process), 2-single, 2-queue (n8n 2.41, Redis, main + one worker), each with
//         variants after `+`: heap<MiB> (NODE_OPTIONS=--max-old-space-size), chunk<N> (records per
//         chunk), cap<MiB> (Max Chunk Size), fs (queue mode with binary data in files), gz (chunks
//         gzipped, read back by Parse JSON Lines' JSON Lines Text instead of Extract from File), lz4
//         (queue mode: n8n's PostgreSQL database with default_toast_compression = lz4), mem<MiB>
//         (each n8n process in a memory cgroup of that size, as in a container; needs root and a
//         cgroup memory controller), legacyexpr (N8N_EXPRESSION_ENGINE=legacy).
//  nodes  Decrypt S/MIME, Reassemble Export (merged zip) and Reassemble Export (Record Chunks) in
//         n8n 2.41 (one process, binary data in files), each against its `cx-export` command on the
//         same files (the simulator's export of --nodes records), --node-rounds times side by side;
//         each round runs the workflow twice in one n8n (the second run is the one compared, the
//         first, right after n8n started, is reported beside it).
// Every PostgreSQL row is checked against the export (count and an order-independent digest of
// the records as canonical JSON). Wall time, and the peak RSS of every n8n process (VmHWM, reset
// when the run starts, read from /proc while it runs) and of each process tree (sampled).
// Data: .bench/n8n/ (kept; delete to regenerate). Results: .bench/n8n-results.md and .json.
//
//   node bench/n8n.mjs [--only items,cli,chunks,nodes] [--items 174000,500000] [--chunks 200000,1000000]
//                      [--modes 1-single,1-single+heap512,2-queue,…] [--item-modes default,nosave,nosave-count]
//                      [--nodes 200000] [--node-cases decrypt,reassemble,chunks] [--node-rounds 2] [--timeout-min 60]
// (each also as an environment variable: CX_BENCH_ONLY, CX_BENCH_ITEMS, CX_BENCH_CHUNKS,
// CX_BENCH_MODES, CX_BENCH_ITEM_MODES, CX_BENCH_NODES, CX_BENCH_NODE_CASES, CX_BENCH_NODE_ROUNDS,
// CX_BENCH_TIMEOUT_MIN). CX_BENCH_N8N_NODE_ARGS adds Node flags to the n8n processes (--cpu-prof,
// --trace-gc …); CX_BENCH_LOG_TAIL how much of each n8n process's output is kept in its n8n.log
// (characters, default 20,000). Through npm: npm run bench -- --n8n-only …
// A quick run: node bench/n8n.mjs --items 20000 --chunks 20000,50000 --modes 1-single,2-queue
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
	cpSync,
	createWriteStream,
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	rmSync,
	statSync,
	writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { freePort, installN8n, pack, sh, workflowCredentials } from '../test/e2e/lib.mjs';
import { data, key, plainZip, root, work } from './n8n-data.mjs';
import { memoryCage, memoryLimitUnavailable } from './cgroup.mjs';
import { ProcessWatch } from './procs.mjs';
import { compareDigests, digestFiles, digestTable } from './rows.mjs';

const MiB = 1024 * 1024;
const runs = join(data, 'run');
const q = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
const fmtS = (s) => (s === undefined ? '–' : `${s.toFixed(1)} s`);
const fmtM = (b) => (b === undefined ? '–' : `${Math.round(b / MiB)} MiB`);
const log = (message) => console.error(`[bench] ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const USAGE = `node bench/n8n.mjs [options]   (or: npm run bench -- --n8n-only [options])
  --only items,cli,chunks,nodes   which parts to run (all by default)
  --items 174000,500000           record counts of the plain item path
  --item-modes default,nosave,nosave-count
  --chunks 200000,1000000         record counts of the CLI + COPY and workflow routes
  --modes 1-single,2-single,2-queue[+fs|+gz|+lz4|+mem<MiB>|+heap<MiB>|+arena<N>|+chunk<N>|+cap<MiB>|+legacyexpr],…
  --nodes 200000                  records of the export the nodes are measured on
  --node-cases decrypt,reassemble,chunks
  --node-rounds 2                 side-by-side rounds of each node against its command
  --timeout-min 60                per workflow run
Each also as an environment variable (CX_BENCH_ONLY, CX_BENCH_ITEMS, …). Results: .bench/n8n-results.md`;

export function options(argv = process.argv.slice(2)) {
	const { values } = parseArgs({
		args: argv,
		strict: true,
		options: {
			help: { type: 'boolean', short: 'h', default: false },
			only: { type: 'string', default: process.env.CX_BENCH_ONLY ?? 'items,cli,chunks,nodes' },
			nodes: { type: 'string', default: process.env.CX_BENCH_NODES ?? '200000' },
			'node-cases': {
				type: 'string',
				default: process.env.CX_BENCH_NODE_CASES ?? 'decrypt,reassemble,chunks',
			},
			'node-rounds': { type: 'string', default: process.env.CX_BENCH_NODE_ROUNDS ?? '2' },
			'nodes-n8n': { type: 'string', default: process.env.CX_BENCH_NODES_N8N ?? '2' },
			items: { type: 'string', default: process.env.CX_BENCH_ITEMS ?? '174000,500000' },
			chunks: { type: 'string', default: process.env.CX_BENCH_CHUNKS ?? '200000,1000000' },
			modes: {
				type: 'string',
				default:
					process.env.CX_BENCH_MODES ??
					'1-single,1-single+mem1024,1-single+heap512+arena2,2-single,2-single+mem1536,2-single+heap512+arena2,2-queue,2-queue+fs',
			},
			'item-modes': {
				type: 'string',
				default: process.env.CX_BENCH_ITEM_MODES ?? 'default,nosave,nosave-count',
			},
			'timeout-min': { type: 'string', default: process.env.CX_BENCH_TIMEOUT_MIN ?? '60' },
		},
	});
	if (values.help) {
		console.log(USAGE);
		process.exit(0);
	}
	const list = (text) =>
		String(text)
			.split(',')
			.map((s) => s.trim())
			.filter(Boolean);
	const sizes = (text) => list(text).map((s) => Number(s.replace(/_/g, '')));
	return {
		only: new Set(list(values.only)),
		items: sizes(values.items),
		chunks: sizes(values.chunks),
		modes: list(values.modes),
		itemModes: list(values['item-modes']),
		nodesSize: sizes(values.nodes)[0],
		nodeCases: new Set(list(values['node-cases'])),
		nodeRounds: Number(values['node-rounds']),
		nodeLines: list(values['nodes-n8n']).map((line) => {
			if (line !== '1' && line !== '2')
				throw new Error(`--nodes-n8n takes 1, 2 or 1,2 (got ${line})`);
			return line;
		}),
		timeoutMs: Number(values['timeout-min']) * 60_000,
	};
}

// ---------------------------------------------------------------------------------------------
// n8n: a user folder with the package installed as users install it, a server, its processes.

let nodesTemplate;
/** `npm pack` of a fresh build, installed once into a nodes folder that each user folder copies. */
function installedNodes() {
	if (nodesTemplate) return nodesTemplate;
	const tgz = pack();
	nodesTemplate = join(runs, 'nodes-template');
	rmSync(nodesTemplate, { recursive: true, force: true });
	mkdirSync(nodesTemplate, { recursive: true });
	writeFileSync(
		join(nodesTemplate, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2),
	);
	sh('npm', ['install', tgz, '--legacy-peer-deps', '--no-audit', '--no-fund'], {
		cwd: nodesTemplate,
	});
	return nodesTemplate;
}

/** A fresh user folder for one scenario. */
function userFolder(name) {
	const folder = join(runs, name);
	rmSync(folder, { recursive: true, force: true });
	mkdirSync(join(folder, '.n8n'), { recursive: true });
	cpSync(installedNodes(), join(folder, '.n8n', 'nodes'), { recursive: true });
	return folder;
}

async function n8nEnv(line, folder, extra = {}) {
	return {
		...process.env,
		N8N_USER_FOLDER: folder,
		N8N_ENCRYPTION_KEY: 'cx-export-bench-encryption-key',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_RESTRICT_FILE_ACCESS_TO: data,
		N8N_SECURE_COOKIE: 'false',
		N8N_LOG_LEVEL: 'info',
		N8N_PORT: String(await freePort()),
		N8N_RUNNERS_BROKER_PORT: String(await freePort()),
		// As in test/e2e/lib.mjs: n8n 1.123's new expression engine needs isolated-vm 6 (Node 22+).
		...(line === '1' ? { N8N_EXPRESSION_ENGINE: 'legacy', N8N_RUNNERS_ENABLED: 'false' } : {}),
		GENERIC_TIMEZONE: 'UTC',
		TZ: 'UTC',
		// n8n 2.x starts its task runner with the `node` on the PATH: the same Node 24 as n8n.
		...(line === '2' ? { PATH: `${dirname(node24())}:${process.env.PATH}` } : {}),
		...extra,
	};
}

function n8nCli(n8n, env, args) {
	return sh(n8n.node, [n8n.bin, ...args], { env, cwd: env.N8N_USER_FOLDER }).toString();
}

function importWorkflow(n8n, env, workflow) {
	const path = join(env.N8N_USER_FOLDER, `workflow-${workflow.id}.json`);
	writeFileSync(path, JSON.stringify(workflow, null, 1));
	n8nCli(n8n, env, ['import:workflow', `--input=${path}`]);
}

function activate(line, n8n, env, id) {
	n8nCli(
		n8n,
		env,
		line === '1'
			? ['update:workflow', `--id=${id}`, '--active=true']
			: ['publish:workflow', `--id=${id}`],
	);
}

/** A long-running process whose output is kept (the tail) and whose exit is noticed. */
const launched = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.on(signal, () => {
		for (const child of launched) child.kill('SIGKILL');
		process.exit(130);
	});
}

function launch(command, args, options, ready, name) {
	const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
	launched.add(child);
	child.once('exit', () => launched.delete(child));
	let output = '';
	const keep = (d) => {
		output += d;
		if (output.length > 400_000) output = output.slice(-200_000);
	};
	child.stdout.on('data', keep);
	child.stderr.on('data', keep);
	const exited = new Promise((resolve) =>
		child.once('exit', (code, signal) => resolve({ code, signal })),
	);
	const started = new Promise((resolve, reject) => {
		const timer = setInterval(() => {
			if (ready.test(output)) {
				clearInterval(timer);
				resolve();
			}
		}, 100);
		exited.then(({ code, signal }) => {
			clearInterval(timer);
			reject(
				new Error(
					`${name} exited (${code ?? signal}) before it was ready:\n${output.slice(-3000)}`,
				),
			);
		});
	});
	return { child, name, started, exited, output: () => output };
}

async function stop(proc) {
	if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
	proc.child.kill('SIGTERM');
	const timer = setTimeout(() => proc.child.kill('SIGKILL'), 30_000);
	await proc.exited;
	clearTimeout(timer);
}

/** Executions of a workflow as n8n recorded them (SQLite through Node 24's node:sqlite, or PostgreSQL). */
function executions(ctx, workflowId) {
	if (ctx.pg && ctx.env.DB_TYPE === 'postgresdb') {
		const out = ctx.pg.psql(
			'n8n',
			`SELECT json_agg(json_build_object('id', id, 'status', status, 'startedAt', "startedAt", 'stoppedAt', "stoppedAt") ORDER BY id) FROM execution_entity WHERE "workflowId" = '${workflowId}' AND "deletedAt" IS NULL`,
		);
		return JSON.parse(out || 'null') ?? [];
	}
	const db = join(ctx.env.N8N_USER_FOLDER, '.n8n', 'database.sqlite');
	const script = `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(process.argv[1], { readOnly: true });
console.log(JSON.stringify(db.prepare('SELECT id, status, startedAt, stoppedAt FROM execution_entity WHERE workflowId = ? AND deletedAt IS NULL ORDER BY id').all(process.argv[2])));`;
	try {
		return JSON.parse(sh(node24(), ['-e', script, db, workflowId]).toString());
	} catch (error) {
		if (/no such table|database is locked|SQLITE_BUSY/.test(error.message)) return [];
		throw error;
	}
}

function node24() {
	return installN8n('2').node;
}

/**
 * Starts n8n (one process, or queue mode: main + worker), POSTs to the workflow's webhook, waits
 * until n8n records the execution as finished (or a process dies), and measures it all.
 */
/** The end of each process's output (CX_BENCH_LOG_TAIL characters, 20,000 by default). */
function logTails(procs) {
	const tail = Number(process.env.CX_BENCH_LOG_TAIL ?? 20_000);
	return Object.fromEntries(procs.map((p) => [p.name, p.output().slice(-tail)]));
}

async function runServer(
	ctx,
	{ workflowId, webhookPath, queue = false, timeoutMs, memoryLimitMiB, runs = 1 },
) {
	const { n8n, env } = ctx;
	const watch = new ProcessWatch(200);
	const procs = [];
	// Each n8n process in its own memory cgroup, as each would be in its own container.
	const cages = [];
	// CX_BENCH_N8N_NODE_ARGS: Node flags for the n8n processes (e.g. `--cpu-prof --cpu-prof-dir=DIR`).
	const nodeArgs = (process.env.CX_BENCH_N8N_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
	const caged = (name, args) => {
		if (!memoryLimitMiB) return [n8n.node, [...nodeArgs, ...args]];
		const cage = memoryCage(name, memoryLimitMiB);
		cages.push({ name, cage });
		return cage.wrap(n8n.node, [...nodeArgs, ...args]);
	};
	let result;
	try {
		const main = launch(
			...caged('main', [n8n.bin, 'start']),
			{ env, cwd: env.N8N_USER_FOLDER },
			/Editor is now accessible/,
			'n8n main',
		);
		procs.push(main);
		watch.add('main', main.child.pid);
		await main.started;
		if (queue) {
			const worker = launch(
				...caged('worker', [n8n.bin, 'worker', '--concurrency=2']),
				{
					env: {
						...env,
						QUEUE_HEALTH_CHECK_ACTIVE: 'false',
						N8N_RUNNERS_BROKER_PORT: String(await freePort()),
					},
					cwd: env.N8N_USER_FOLDER,
				},
				/n8n worker is now ready/,
				'n8n worker',
			);
			procs.push(worker);
			watch.add('worker', worker.child.pid);
			await worker.started;
		}
		// n8n registers the active workflows' webhooks shortly after it says it is ready.
		const url = `http://127.0.0.1:${env.N8N_PORT}/webhook/${webhookPath}`;
		let started;
		let startedMs;
		let answer;
		let final;
		let died;
		let response;
		for (const p of procs) p.exited.then((how) => (died ??= { name: p.name, ...how }));
		await sleep(2000);
		// `runs` > 1 (workflows that do not save successful executions): the workflow runs again once
		// it succeeded, in the same n8n; what is measured is the last run, the others warm n8n up.
		for (let run = 1; run <= runs; run++) {
			final = undefined;
			watch.resetPeaks();
			for (let i = 0; ; i++) {
				started = process.hrtime.bigint();
				startedMs = Date.now();
				answer = await fetch(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: '{}',
				});
				if (answer.status !== 404 || i > 120) break;
				await sleep(500);
			}
			response = await answer.text();
			if (answer.status !== 200)
				throw new Error(`the webhook answered ${answer.status}: ${response.slice(0, 500)}`);
			const deadline = Date.now() + timeoutMs;
			let failedAt;
			for (;;) {
				await sleep(500);
				const list = executions(ctx, workflowId);
				final = list.find((e) => !['new', 'running', 'waiting', 'unknown'].includes(e.status));
				if (final) break;
				if (died) break;
				const events = workflowEvents(env.N8N_USER_FOLDER, workflowId);
				// Told not to save successful executions, n8n deletes the execution once it succeeded.
				const succeeded = events.filter((e) => e.eventName === 'n8n.workflow.success')[run - 1];
				if (succeeded && list.length === 0) {
					final = { status: 'success', saved: false, event: succeeded };
					break;
				}
				// n8n that cannot save an execution says so in its event log and leaves it "running".
				const failed = events.find((e) => e.eventName === 'n8n.workflow.failed');
				if (failed) {
					failedAt ??= Date.now();
					if (Date.now() - failedAt > 15_000) {
						final = {
							...list[0],
							status: `error: ${failed.payload.errorMessage} (in n8n's event log; the execution stays "${list[0]?.status ?? 'unsaved'}" in its database)`,
							event: failed,
							failedAfter: (Date.parse(failed.ts) - startedMs) / 1000,
						};
						break;
					}
				}
				if (Date.now() > deadline) {
					final = { status: `timed out after ${Math.round(timeoutMs / 60000)} min`, ...list[0] };
					break;
				}
			}
			if (died || final.status !== 'success') break;
		}
		// A failure is timed when n8n logged it (not when this loop gave up waiting for the database).
		const seconds = final?.failedAfter ?? Number(process.hrtime.bigint() - started) / 1e9;
		// A moment for a failing save or a late crash to show.
		await sleep(1500);
		const measured = watch.stop();
		result = {
			seconds,
			status: died ? `${died.name} died (${died.code ?? died.signal})` : final.status,
			execution: final,
			response: response.slice(0, 2000),
			peaks: measured.trees,
			processes: measured.processes,
			nodes: peaksPerNode(nodeSpans(env.N8N_USER_FOLDER, workflowId), measured.timelines),
			subWorkflow: subWorkflowTimes(env.N8N_USER_FOLDER, SUB_WORKFLOW_ID),
			timelines: measured.timelines,
			logs: logTails(procs),
			...(memoryLimitMiB
				? {
						memoryLimitMiB,
						oomKills: Object.fromEntries(cages.map(({ name, cage }) => [name, cage.oomKills()])),
					}
				: {}),
		};
	} catch (error) {
		error.logs = logTails(procs);
		throw error;
	} finally {
		watch.stop();
		for (const p of procs.reverse()) await stop(p);
		for (const { cage } of cages) cage.remove();
	}
	return result;
}

/** The node events n8n logged (started, finished) for one workflow: [{ node, started, finished }]. */
function nodeSpans(folder, workflowId) {
	const dir = join(folder, '.n8n');
	const spans = [];
	const open = new Map();
	for (const file of readdirSync(dir).filter((f) => /^n8nEventLog.*\.log$/.test(f))) {
		for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
			if (!line.includes('"n8n.node.') || !line.includes(workflowId)) continue;
			let event;
			try {
				event = JSON.parse(line);
			} catch {
				continue;
			}
			const { workflowId: id, nodeName, executionId } = event.payload ?? {};
			if (id !== workflowId) continue;
			const key = `${executionId}:${nodeName}`;
			if (event.eventName === 'n8n.node.started') open.set(key, Date.parse(event.ts));
			else if (event.eventName === 'n8n.node.finished' && open.has(key)) {
				spans.push({ node: nodeName, started: open.get(key), finished: Date.parse(event.ts) });
				open.delete(key);
			}
		}
	}
	return spans.sort((a, b) => a.started - b.started);
}

const SUB_WORKFLOW_ID = 'cxLoadChunk00001';

/**
 * Where a sub-workflow's time went, from n8n's event log: its executions (count, seconds from
 * workflow started to success) and, per node, the summed seconds. Undefined if it never ran.
 */
function subWorkflowTimes(folder, workflowId) {
	const spans = nodeSpans(folder, workflowId);
	if (spans.length === 0) return undefined;
	const perNode = {};
	for (const span of spans) {
		const entry = (perNode[span.node] ??= { runs: 0, seconds: 0 });
		entry.runs += 1;
		entry.seconds += (span.finished - span.started) / 1000;
	}
	const events = workflowEvents(folder, workflowId).sort(
		(a, b) => Date.parse(a.ts) - Date.parse(b.ts),
	);
	const started = new Map();
	let executions = 0;
	let seconds = 0;
	for (const event of events) {
		const id = event.payload?.executionId;
		if (event.eventName === 'n8n.workflow.started') started.set(id, Date.parse(event.ts));
		else if (event.eventName === 'n8n.workflow.success' && started.has(id)) {
			executions += 1;
			seconds += (Date.parse(event.ts) - started.get(id)) / 1000;
		}
	}
	return { executions, seconds, perNode };
}

/** The highest RSS of each tree's root process while each node ran (from the timelines). */
function peaksPerNode(spans, timelines) {
	return spans.map((span) => {
		const peaks = {};
		for (const [tree, timeline] of Object.entries(timelines)) {
			const inside = timeline.filter(([t]) => t >= span.started - 500 && t <= span.finished + 500);
			if (inside.length) peaks[tree] = Math.max(...inside.map(([, root]) => root));
		}
		return { node: span.node, seconds: (span.finished - span.started) / 1000, peaks };
	});
}

/** The workflow events n8n logged (n8nEventLog*.log in the user folder) for one workflow. */
function workflowEvents(folder, workflowId) {
	const dir = join(folder, '.n8n');
	const events = [];
	for (const file of readdirSync(dir).filter((f) => /^n8nEventLog.*\.log$/.test(f))) {
		for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
			if (!line.includes('"n8n.workflow.') || !line.includes(workflowId)) continue;
			try {
				const event = JSON.parse(line);
				if (event.payload?.workflowId === workflowId) events.push(event);
			} catch {}
		}
	}
	return events;
}

/** The interesting lines of n8n's output after a failure. */
function failureLines(logs) {
	const lines = Object.values(logs).join('\n').split('\n');
	const wanted = lines.filter(
		(l) =>
			/error|invalid string|heap|memory|fatal|failed|crash|RangeError/i.test(l) &&
			!/deprecat/i.test(l),
	);
	return [...new Set(wanted)].slice(-12).map((l) => l.slice(0, 400));
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL, throw-away (as test/e2e/lib.mjs starts it).

function pgBin(name) {
	const versions = existsSync('/usr/lib/postgresql')
		? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
		: [];
	for (const candidate of [
		...versions.map((v) => `/usr/lib/postgresql/${v}/bin/${name}`),
		`/usr/local/bin/${name}`,
		`/usr/bin/${name}`,
	])
		if (existsSync(candidate)) return candidate;
	return name;
}

async function startPostgres(dir) {
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(join(dir, 'sock'), { recursive: true });
	const port = await freePort();
	const asPostgres = process.getuid?.() === 0;
	if (asPostgres) sh('chown', ['-R', 'postgres:postgres', dir]);
	const run = (cmd, args) =>
		asPostgres ? sh('runuser', ['-u', 'postgres', '--', cmd, ...args]) : sh(cmd, args);
	run(pgBin('initdb'), ['-D', join(dir, 'data'), '-U', 'n8n', '--auth=trust', '-E', 'UTF8']);
	run(pgBin('pg_ctl'), [
		'-D',
		join(dir, 'data'),
		'-l',
		join(dir, 'pg.log'),
		'-o',
		`-p ${port} -k ${join(dir, 'sock')} -c listen_addresses=127.0.0.1`,
		'-w',
		'start',
	]);
	const psql = (database, sql) =>
		sh('psql', [
			'-h',
			'127.0.0.1',
			'-p',
			String(port),
			'-U',
			'n8n',
			'-d',
			database,
			'-v',
			'ON_ERROR_STOP=1',
			'-At',
			'-c',
			sql,
		])
			.toString()
			.trim();
	psql('postgres', 'CREATE DATABASE warehouse');
	psql('postgres', 'CREATE DATABASE n8n');
	const stopPg = () => run(pgBin('pg_ctl'), ['-D', join(dir, 'data'), '-m', 'fast', 'stop']);
	return { port, psql, stop: stopPg, dir };
}

/** The warehouse table, as test/e2e/lib.mjs makes it; the workflow's first node makes the load log. */
function resetWarehouse(pg) {
	pg.psql('warehouse', 'DROP TABLE IF EXISTS contact_history, contact_history_loads');
	pg.psql(
		'warehouse',
		'CREATE TABLE contact_history (id serial primary key, kind text, record_id text, source text, line integer, record jsonb)',
	);
}

// ---------------------------------------------------------------------------------------------
// items: the plain one-item-per-record path.

function itemsWorkflow(zip, { count = false } = {}) {
	const id = 'cxBenchItems0001';
	const workflow = {
		id,
		name: 'Bench: export zip → one item per record',
		nodes: [
			{
				parameters: {
					httpMethod: 'POST',
					path: 'cx-bench-items',
					responseMode: count ? 'lastNode' : 'onReceived',
					options: {},
				},
				id: randomUUID(),
				name: 'Start',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: randomUUID(),
			},
			{
				parameters: { operation: 'read', fileSelector: zip, options: {} },
				id: randomUUID(),
				name: 'Read the export',
				type: 'n8n-nodes-base.readWriteFile',
				typeVersion: 1,
				position: [240, 0],
			},
			{
				parameters: { binaryPropertyName: 'data', output: 'records', options: {} },
				id: randomUUID(),
				name: 'Records',
				type: 'n8n-nodes-cx-export.parseJsonLines',
				typeVersion: 1,
				position: [480, 0],
			},
		],
		connections: {
			Start: { main: [[{ node: 'Read the export', type: 'main', index: 0 }]] },
			'Read the export': { main: [[{ node: 'Records', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		active: false,
		tags: [],
	};
	if (count) {
		// The records counted per kind (n8n's Summarize node), answered to the webhook call: the
		// check when n8n does not save the run data.
		const field = (name) => ({ aggregation: 'count', field: name, includeEmpty: false });
		workflow.nodes.push({
			parameters: {
				fieldsToSummarize: { values: [field('IXNID'), field('MIMETYPE'), field('ContactId')] },
				options: {},
			},
			id: randomUUID(),
			name: 'Count',
			type: 'n8n-nodes-base.summarize',
			typeVersion: 1.1,
			position: [720, 0],
		});
		workflow.connections.Records = { main: [[{ node: 'Count', type: 'main', index: 0 }]] };
	}
	return workflow;
}

/** What each item-path variant changes in n8n's configuration. */
const ITEM_MODES = {
	default: { label: 'n8n as shipped', env: {} },
	nosave: {
		label: 'EXECUTIONS_DATA_SAVE_ON_SUCCESS=none',
		env: { EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'none' },
	},
	'nosave-count': {
		label:
			'EXECUTIONS_DATA_SAVE_ON_SUCCESS=none, + Summarize (count per kind) answering the webhook',
		env: { EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'none' },
		count: true,
	},
};

/** The records n8n saved for the Records node, digested in a separate Node (outside the measurement). */
function savedItemsDigest(ctx, executionId) {
	const db = join(ctx.env.N8N_USER_FOLDER, '.n8n', 'database.sqlite');
	const out = sh(node24(), [
		'--max-old-space-size=16000',
		join(root, 'bench', 'n8n-saved-items.mjs'),
		db,
		String(executionId),
		'Records',
		ctx.n8n.dir,
	]).toString();
	return JSON.parse(out);
}

async function benchItems(opts) {
	const rows = [];
	const n8n = installN8n('2');
	for (const n of opts.items) {
		const zip = await plainZip(n);
		for (const mode of opts.itemModes) {
			const variant = ITEM_MODES[mode];
			if (!variant)
				throw new Error(`unknown item mode ${mode} (${Object.keys(ITEM_MODES).join(', ')})`);
			log(`items: ${n} records, n8n 2.x, ${variant.label}`);
			const folder = userFolder(`items-${n}-${mode}`);
			const env = await n8nEnv('2', folder, variant.env);
			const workflow = itemsWorkflow(zip.zip, { count: variant.count });
			importWorkflow(n8n, env, workflow);
			activate('2', n8n, env, workflow.id);
			const ctx = { n8n, env };
			const r = await runServer(ctx, {
				workflowId: workflow.id,
				webhookPath: 'cx-bench-items',
				timeoutMs: opts.timeoutMs,
			});
			let check;
			if (r.status === 'success' && !variant.env.EXECUTIONS_DATA_SAVE_ON_SUCCESS) {
				try {
					const saved = savedItemsDigest(ctx, r.execution.id);
					const problem = compareDigests(zip.source.truth, saved);
					check = problem
						? `**differs**: ${problem}`
						: `all ${saved.count} records equal to the export's`;
				} catch (error) {
					check = `not checked: ${error.message.split('\n')[0]}`;
				}
			} else if (r.status === 'success' && variant.count) {
				let counted;
				try {
					counted = JSON.parse(r.response);
				} catch {}
				const truth = zip.source.truth.kinds;
				const got = {
					Interaction: counted?.count_IXNID,
					'Interaction-Attachment': counted?.count_MIMETYPE,
					Contact: counted?.count_ContactId,
				};
				const same = Object.keys(got).every((k) => got[k] === (truth[k] ?? 0));
				const total = Object.values(got).reduce((a, b) => a + (b ?? 0), 0);
				check = same
					? `counted ${total} records (${Object.entries(got)
							.map(([k, v]) => `${k} ${v}`)
							.join(', ')}), as the export holds`
					: `**counts differ**: ${JSON.stringify(got)} vs ${JSON.stringify(truth)}`;
			} else if (r.status === 'success') check = 'not checked (n8n saved no run data)';
			const row = {
				n,
				mode,
				label: variant.label,
				zipBytes: zip.zipBytes,
				jsonBytes: zip.source.jsonBytes,
				...r,
				check,
				failure: r.status === 'success' ? undefined : failureLines(r.logs),
			};
			delete row.logs;
			rows.push(row);
			writeFileSync(
				join(folder, 'n8n.log'),
				Object.entries(r.logs)
					.map(([k, v]) => `==== ${k}\n${v}`)
					.join('\n'),
			);
			log(
				`items ${n} ${mode}: ${r.status} in ${fmtS(r.seconds)}, peak ${fmtM(r.peaks.main)}${check ? `; ${check}` : ''}`,
			);
			if (r.status !== 'success') for (const l of row.failure) log(`  ${l}`);
			rmSync(join(folder, '.n8n', 'binaryData'), { recursive: true, force: true });
			rmSync(join(folder, '.n8n', 'storage'), { recursive: true, force: true });
			rmSync(join(folder, '.n8n', 'database.sqlite'), { force: true });
		}
	}
	return rows;
}

export {
	benchItems,
	runServer,
	userFolder,
	n8nEnv,
	importWorkflow,
	activate,
	startPostgres,
	resetWarehouse,
	launch,
	stop,
	executions,
	failureLines,
};

// ---------------------------------------------------------------------------------------------
// cli: cx-export records | psql \copy, into the same table the workflow fills.

/**
 * The `cx-export` command of the package as installed for this run (not dist/, which another build
 * may be replacing), run as users run it: through npm's link, so its shebang applies.
 */
const cxExport = () => join(installedNodes(), 'node_modules', '.bin', 'cx-export');

/** COPY in CSV with a quote and a delimiter that JSON text never holds: each line is one jsonb value as it is. */
const COPY =
	"\\copy contact_history(record) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')";

/** Runs a shell pipeline, measured: wall seconds, peak RSS of the tree and of each process. */
function measurePipeline(commandLine) {
	return new Promise((resolve, reject) => {
		const watch = new ProcessWatch(100);
		const started = process.hrtime.bigint();
		const child = spawn('bash', ['-o', 'pipefail', '-c', commandLine], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		watch.add('pipeline', child.pid);
		let output = '';
		child.stdout.on('data', (d) => (output += d));
		child.stderr.on('data', (d) => (output = (output + d).slice(-5000)));
		child.on('exit', (code) => {
			const seconds = Number(process.hrtime.bigint() - started) / 1e9;
			const measured = watch.stop();
			if (code !== 0) reject(new Error(`failed (${code}): ${commandLine}\n${output}`));
			else
				resolve({
					seconds,
					peak: measured.trees.pipeline,
					processes: measured.processes,
					output: output.trim(),
				});
		});
	});
}

/** `cx-export records <parts> | psql \copy` into an empty contact_history; every row checked. */
async function cliCopy(pg, { parts, keyPath, truth, label }) {
	resetWarehouse(pg);
	const psql = `psql -h 127.0.0.1 -p ${pg.port} -U n8n -d warehouse -v ON_ERROR_STOP=1 -c ${q(COPY)}`;
	log(`cli: ${label}: cx-export records | psql \\copy`);
	const m = await measurePipeline(
		`${q(cxExport())} records --key ${q(keyPath)} ${parts.map(q).join(' ')} | ${psql}`,
	);
	const rows = await digestTable(pg, 'SELECT record::text FROM contact_history');
	const problem = compareDigests(truth, rows);
	const byRole = {};
	for (const p of m.processes) byRole[p.role] = Math.max(byRole[p.role] ?? 0, p.peak);
	const row = {
		label,
		records: truth.count,
		seconds: m.seconds,
		peak: m.peak,
		byRole,
		copy: m.output,
		check: problem
			? `**differs**: ${problem}`
			: `all ${rows.count} rows equal to the export's records`,
		ok: !problem,
	};
	log(
		`cli ${label}: ${fmtS(m.seconds)}, peak ${fmtM(m.peak)} (${Object.entries(byRole)
			.map(([k, v]) => `${k} ${fmtM(v)}`)
			.join(', ')}); ${row.check}`,
	);
	return row;
}

// ---------------------------------------------------------------------------------------------
// chunks: the workflow route, against the simulator's large export.

const MARKER = '[bench export]';
const ATTACHMENT_BYTES = 3000;
const simulatorCache = join(data, 'simulator-cache');

/**
 * Interactions for an export of `n` records: with attachments on, every third interaction (the
 * inbound emails) brings one attachment record, so n = i + ceil(i / 3).
 */
function interactionsFor(n) {
	let i = Math.round((n * 3) / 4);
	while (i + Math.ceil(i / 3) > n) i--;
	while (i + Math.ceil(i / 3) < n) i++;
	return i;
}

async function startSimulator(n) {
	const { certPath } = key();
	const tsx = join(root, 'node_modules', '.bin', 'tsx');
	const sim = launch(
		tsx,
		[
			join(root, 'bench', 'simulator.ts'),
			'--cert',
			certPath,
			'--interactions',
			String(interactionsFor(n)),
			'--cache',
			simulatorCache,
			'--marker',
			MARKER,
			'--attachment-bytes',
			String(ATTACHMENT_BYTES),
		],
		{ cwd: root },
		/Genesys simulator: API/,
		'simulator',
	);
	await sim.started;
	const url = /API (http:\/\/\S+)/.exec(sim.output())[1];
	return { ...sim, url };
}

function core() {
	return createRequire(import.meta.url)(
		join(installedNodes(), 'node_modules', 'n8n-nodes-cx-export', 'dist', 'src', 'index.js'),
	);
}

function genesysClient(url) {
	const { GenesysClient, fetchSender } = core();
	return new GenesysClient({
		baseUrl: url,
		send: fetchSender({
			baseUrl: url,
			apiKey: 'sim-api-key',
			clientId: 'sim-client',
			clientSecret: 'sim-secret',
			grantType: 'password',
			username: 'SIMTENANT\\analyst',
			password: 'sim-password',
		}),
	});
}

/** The job the workflow asks for (all data, attachments, 100 MB parts), made once through the API. */
const JOB = {
	source: 'UCS',
	type: 'UCS',
	timeFrame: { all: true },
	schedulerParam: { immediately: true },
	jobParams: { type: 'Interaction', media: [], fileSplitSize: '100MB', exportAttachments: true },
	suspended: false,
};

/**
 * The simulator's export of `n` records, made once (that also fills its record cache, so that the
 * measured runs do not generate records) and downloaded to .bench/n8n/sim-<n>/: the encrypted parts,
 * and the truth (the digest of its records, read by `cx-export extract`).
 */
async function simulatorExport(n, sim) {
	const dir = join(data, `sim-${n}`);
	const doneFile = join(dir, 'DONE');
	if (existsSync(doneFile)) {
		const known = JSON.parse(readFileSync(doneFile, 'utf8'));
		if (known.attachmentBytes === ATTACHMENT_BYTES && known.parts.every((p) => existsSync(p)))
			return known;
	}
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(join(dir, 'parts'), { recursive: true });
	const client = genesysClient(sim.url);
	log(`simulator: making its export of ${n} records (once; cached in ${simulatorCache})…`);
	const since = Date.now();
	const job = await client.createJob({ ...JOB, title: `${MARKER} warm-up` });
	const run = await client.waitForJobRun(job.id, since, {
		pollIntervalMs: 2000,
		timeoutMs: 3 * 3_600_000,
	});
	if (run.status !== 'Completed' && !/complete/i.test(String(run.status)))
		throw new Error(`the simulator's export ended ${run.status}`);
	const files = await client.runFiles(run.id);
	const parts = [];
	for (const file of files) {
		const path = join(dir, 'parts', file.name);
		await pipeline(Readable.from(client.downloadFile(file.name).chunks), createWriteStream(path));
		parts.push(path);
	}
	const extracted = join(dir, 'extracted');
	sh(cxExport(), ['extract', '--key', key().keyPath, ...parts, '-d', extracted]);
	const files2 = readdirSync(extracted)
		.sort()
		.map((f) => join(extracted, f));
	const jsonBytes = files2.reduce((sum, f) => sum + statSync(f).size, 0);
	log(`simulator: ${parts.length} encrypted parts; digest of their records…`);
	const truth = await digestFiles(files2);
	rmSync(extracted, { recursive: true, force: true });
	const info = {
		n,
		attachmentBytes: ATTACHMENT_BYTES,
		parts,
		partBytes: parts.reduce((sum, p) => sum + statSync(p).size, 0),
		jsonBytes,
		truth,
		sources: files2.map((f) => f.split('/').pop()),
	};
	if (truth.count !== n) log(`simulator: the export holds ${truth.count} records (asked for ${n})`);
	writeFileSync(doneFile, JSON.stringify(info, null, 1));
	return info;
}

function credentialsFor(simUrl, pg) {
	const { keyPath, certPath } = key();
	return workflowCredentials({ genesysUrl: simUrl, keyPath, certPath, pgPort: pg.port });
}

const CHUNKS_PATH = 'cx-bench-chunks';

/**
 * workflows/big-export-to-postgres.json as the benchmark runs it: started by a webhook (so that a
 * server, or its worker, runs it), the job's title carrying the simulator's large-export marker, all
 * data (a fixed time frame: the simulator's cached records are reused), attachments, a 2 s poll.
 */
function benchBigExport() {
	const workflow = JSON.parse(
		readFileSync(join(root, 'workflows', 'big-export-to-postgres.json'), 'utf8'),
	);
	const job = workflow.nodes.find((node) => node.parameters?.operation === 'createAndWait');
	job.parameters.title = `${MARKER} contact history`;
	job.parameters.timeFrame = 'all';
	delete job.parameters.dateFrom;
	delete job.parameters.dateTo;
	job.parameters.additionalFields = { ...job.parameters.additionalFields, exportAttachments: true };
	job.parameters.options = { ...job.parameters.options, pollInterval: 2, timeout: 120 };
	const trigger = workflow.nodes.find((node) => node.type === 'n8n-nodes-base.manualTrigger');
	workflow.connections['Start by webhook'] = workflow.connections[trigger.name];
	delete workflow.connections[trigger.name];
	Object.assign(trigger, {
		name: 'Start by webhook',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		parameters: { httpMethod: 'POST', path: CHUNKS_PATH, responseMode: 'onReceived', options: {} },
		webhookId: randomUUID(),
	});
	return workflow;
}

/** The run data n8n saved for an execution (n8n may write it just after the status). */
async function savedRun(ctx, executionId) {
	for (let i = 0; i < 20; i++) {
		const run = savedRunNow(ctx, executionId);
		if (run?.resultData?.runData) return run;
		await sleep(500);
	}
	return undefined;
}

function savedRunNow(ctx, executionId) {
	const flatted = createRequire(join(ctx.n8n.dir, 'node_modules', 'n8n', 'package.json'))(
		'flatted',
	);
	let text;
	if (ctx.env.DB_TYPE === 'postgresdb')
		text = ctx.pg.psql(
			'n8n',
			`SELECT data FROM execution_data WHERE "executionId" = ${Number(executionId)}`,
		);
	else {
		const db = join(ctx.env.N8N_USER_FOLDER, '.n8n', 'database.sqlite');
		const script = `const { DatabaseSync } = require('node:sqlite'); const row = new DatabaseSync(process.argv[1], { readOnly: true }).prepare('SELECT data FROM execution_data WHERE executionId = ?').get(Number(process.argv[2])); process.stdout.write(row ? row.data : '');`;
		text = sh(node24(), ['-e', script, db, String(executionId)]).toString();
	}
	return text ? flatted.parse(text) : undefined;
}

const CHUNK_MODES = {
	'1-single': {
		line: '1',
		queue: false,
		label: 'n8n 1.123, one process (SQLite, binary data in files)',
	},
	'2-single': {
		line: '2',
		queue: false,
		label: 'n8n 2.41, one process (SQLite, binary data in files)',
	},
	'2-queue': {
		line: '2',
		queue: true,
		label: 'n8n 2.41, queue mode: main + 1 worker (Redis, PostgreSQL)',
	},
};

/**
 * A mode, with variants after `+`: `heap<MiB>` runs n8n with NODE_OPTIONS=--max-old-space-size=<MiB>,
 * `arena<N>` with MALLOC_ARENA_MAX=<N> (glibc's malloc arenas; what n8n holds besides V8's heap),
 * `chunk<N>` sets the workflow's Records per Chunk, `cap<MiB>` its Max Chunk Size, `legacyexpr`
 * runs n8n 2.x's expressions outside the isolate, `fs` keeps binary data in files in queue mode
 * (n8n's default there is the database), `mem<MiB>` starts each n8n process in a memory cgroup of
 * that size (e.g. `2-queue+heap640`, `1-single+chunk2000`, `2-queue+fs`, `1-single+mem1024`).
 */
function chunkMode(modeName) {
	const [base, ...variants] = modeName.split('+');
	const mode = CHUNK_MODES[base];
	if (!mode) throw new Error(`unknown mode ${base} (${Object.keys(CHUNK_MODES).join(', ')})`);
	const env = {};
	let recordsPerChunk;
	let maxChunkMiB;
	let memoryLimitMiB;
	let gzipChunks = false;
	let lz4 = false;
	const labels = [];
	for (const v of variants) {
		const heap = /^heap(\d+)$/.exec(v);
		const chunk = /^chunk(\d+)$/.exec(v);
		if (heap) {
			env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${heap[1]}`.trim();
			labels.push(`NODE_OPTIONS=--max-old-space-size=${heap[1]}`);
		} else if (chunk) {
			recordsPerChunk = Number(chunk[1]);
			labels.push(`${recordsPerChunk.toLocaleString('en')} records per chunk`);
		} else if (/^arena\d+$/.test(v)) {
			env.MALLOC_ARENA_MAX = v.slice(5);
			labels.push(`MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX}`);
		} else if (v === 'fs') {
			env.N8N_DEFAULT_BINARY_DATA_MODE = 'filesystem';
			labels.push('binary data in files (one disk for main and worker)');
		} else if (/^cap\d+$/.test(v)) {
			maxChunkMiB = Number(v.slice(3));
			labels.push(`chunks of at most ${maxChunkMiB} MiB`);
		} else if (v === 'lz4') {
			lz4 = true;
			labels.push("n8n's database with default_toast_compression = lz4");
		} else if (v === 'gz') {
			gzipChunks = true;
			labels.push('chunks gzipped, read back by Parse JSON Lines (JSON Lines Text)');
		} else if (v === 'legacyexpr') {
			env.N8N_EXPRESSION_ENGINE = 'legacy';
			labels.push('N8N_EXPRESSION_ENGINE=legacy (expressions outside the isolate)');
		} else if (/^mem\d+$/.test(v)) {
			memoryLimitMiB = Number(v.slice(3));
			labels.push(
				`each n8n process in a ${memoryLimitMiB} MiB memory cgroup, as in a container with \`-m ${memoryLimitMiB}m\` (no flags: Node sizes its heap from the limit)`,
			);
		} else
			throw new Error(
				`unknown variant ${v} of ${modeName} (heap<MiB>, arena<N>, chunk<N>, cap<MiB>, fs, gz, lz4, mem<MiB>, legacyexpr)`,
			);
	}
	if (mode.queue && !env.N8N_DEFAULT_BINARY_DATA_MODE)
		labels.unshift("binary data in the database (n8n's default in queue mode)");
	return {
		...mode,
		env,
		recordsPerChunk,
		maxChunkMiB,
		memoryLimitMiB,
		gzipChunks,
		lz4,
		label: labels.length ? `${mode.label}, ${labels.join(', ')}` : mode.label,
	};
}

async function chunkWorkflow(pg, sim, exp, modeName, timeoutMs) {
	const mode = chunkMode(modeName);
	if (mode.memoryLimitMiB && memoryLimitUnavailable()) {
		log(`chunks ${exp.n} ${modeName}: skipped, ${memoryLimitUnavailable()}`);
		return {
			n: exp.n,
			mode: modeName,
			label: mode.label,
			status: `not run: ${memoryLimitUnavailable()}`,
		};
	}
	const n8n = installN8n(mode.line);
	log(`chunks: ${exp.n} records, ${mode.label}`);
	resetWarehouse(pg);
	const folder = userFolder(`chunks-${exp.n}-${modeName}`);
	const extra = { ...mode.env };
	let redis;
	if (mode.queue) {
		pg.psql('postgres', 'DROP DATABASE IF EXISTS n8n');
		pg.psql('postgres', 'CREATE DATABASE n8n');
		if (mode.lz4) pg.psql('postgres', "ALTER DATABASE n8n SET default_toast_compression = 'lz4'");
		const redisPort = await freePort();
		redis = launch(
			'redis-server',
			['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
			{},
			/Ready to accept connections/,
			'redis-server',
		);
		await redis.started;
		Object.assign(extra, {
			N8N_DEFAULT_BINARY_DATA_MODE: 'database',
			...mode.env,
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(pg.port),
			DB_POSTGRESDB_DATABASE: 'n8n',
			DB_POSTGRESDB_USER: 'n8n',
			DB_POSTGRESDB_PASSWORD: '',
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redisPort),
		});
	}
	try {
		const env = await n8nEnv(mode.line, folder, extra);
		writeFileSync(join(folder, 'credentials.json'), JSON.stringify(credentialsFor(sim.url, pg)));
		n8nCli(n8n, env, ['import:credentials', `--input=${join(folder, 'credentials.json')}`]);
		const sub = JSON.parse(
			readFileSync(join(root, 'workflows', 'load-chunk-to-postgres.json'), 'utf8'),
		);
		if (mode.gzipChunks) {
			// Extract from File cannot read gzip: the chunk's text comes from Parse JSON Lines.
			const asText = sub.nodes.find((node) => node.name === 'Chunk as text');
			asText.type = 'n8n-nodes-cx-export.parseJsonLines';
			asText.typeVersion = 1;
			asText.parameters = { binaryPropertyName: 'data', output: 'text', textField: 'lines' };
		}
		importWorkflow(n8n, env, sub);
		const big = benchBigExport();
		const download = big.nodes.find((node) => node.name === 'Download in chunks');
		if (mode.recordsPerChunk) download.parameters.recordsPerChunk = mode.recordsPerChunk;
		if (mode.maxChunkMiB) download.parameters.maxChunkMiB = mode.maxChunkMiB;
		if (mode.gzipChunks) download.parameters.gzipChunks = true;
		importWorkflow(n8n, env, big);
		activate(mode.line, n8n, env, big.id);
		// n8n 2.x runs the published version of a sub-workflow when a trigger started the parent.
		if (mode.line === '2') activate(mode.line, n8n, env, sub.id);
		const ctx = { n8n, env, pg };
		const r = await runServer(ctx, {
			workflowId: big.id,
			webhookPath: CHUNKS_PATH,
			queue: mode.queue,
			timeoutMs,
			memoryLimitMiB: mode.memoryLimitMiB,
		});
		writeFileSync(
			join(folder, 'n8n.log'),
			Object.entries(r.logs)
				.map(([k, v]) => `==== ${k}\n${v}`)
				.join('\n'),
		);
		const row = {
			n: exp.n,
			mode: modeName,
			label: mode.label,
			seconds: r.seconds,
			status: r.status,
			peaks: r.peaks,
			processes: r.processes,
			nodes: r.nodes,
			subWorkflow: r.subWorkflow,
			timelines: r.timelines,
			memoryLimitMiB: r.memoryLimitMiB,
			oomKills: r.oomKills,
		};
		if (r.status === 'success') {
			const run = await savedRun(ctx, r.execution.id);
			const node = (name) => run?.resultData?.runData?.[name]?.[0];
			const items = (name) =>
				(run?.resultData?.runData?.[name] ?? [])
					.flatMap((t) => t.data?.main?.[0] ?? [])
					.map((i) => i.json);
			const exportNode = node('Export yesterday');
			row.exportSeconds = exportNode ? exportNode.executionTime / 1000 : undefined;
			row.afterExportSeconds =
				row.exportSeconds === undefined ? undefined : r.seconds - row.exportSeconds;
			const chunks = items('Download in chunks');
			row.chunks = chunks.length;
			row.chunkRecords = chunks.reduce((sum, c) => sum + (c.records ?? 0), 0);
			row.summary = items('Summary')[0];
			row.nodeSeconds = Object.fromEntries(
				Object.entries(run?.resultData?.runData ?? {}).map(([name, tasks]) => [
					name,
					tasks.reduce((sum, t) => sum + (t.executionTime ?? 0), 0) / 1000,
				]),
			);
			if (mode.queue)
				row.ranOnWorker =
					/Worker finished execution/.test(r.logs['n8n worker'] ?? '') &&
					!/Worker (started|finished) execution/.test(r.logs['n8n main'] ?? '');
			log(`chunks ${exp.n} ${modeName}: checking every row…`);
			const rows = await digestTable(pg, 'SELECT record::text FROM contact_history');
			const problem = compareDigests(exp.truth, rows);
			row.ok = !problem;
			row.check = problem
				? `**differs**: ${problem}`
				: `all ${rows.count} rows equal to the export's records`;
		} else row.failure = failureLines(r.logs);
		const perProcess = r.processes
			.filter((p) => p.peak > 50 * MiB)
			.map((p) => `${p.tree}/${p.role} ${fmtM(p.peak)}`)
			.join(', ');
		log(
			`chunks ${exp.n} ${modeName}: ${r.status} in ${fmtS(r.seconds)}${row.exportSeconds !== undefined ? ` (${fmtS(row.exportSeconds)} waiting for the export)` : ''}; peak ${perProcess}${row.check ? `; ${row.check}` : ''}`,
		);
		if (row.failure) for (const l of row.failure) log(`  ${l}`);
		return row;
	} finally {
		if (redis) await stop(redis);
		rmSync(join(folder, '.n8n', 'binaryData'), { recursive: true, force: true });
	}
}

async function benchChunks(opts) {
	const rows = { cli: [], workflow: [], exports: [] };
	const pg = await startPostgres(join(runs, 'pg'));
	try {
		for (const n of opts.chunks) {
			const sim = await startSimulator(n);
			try {
				const exp = await simulatorExport(n, sim);
				rows.exports.push({
					n,
					records: exp.truth.count,
					kinds: exp.truth.kinds,
					parts: exp.parts.length,
					partBytes: exp.partBytes,
					jsonBytes: exp.jsonBytes,
				});
				if (opts.only.has('cli'))
					rows.cli.push(
						await cliCopy(pg, {
							parts: exp.parts,
							keyPath: key().keyPath,
							truth: exp.truth,
							label: `${n}`,
						}),
					);
				if (opts.only.has('chunks'))
					for (const mode of opts.modes)
						rows.workflow.push(await chunkWorkflow(pg, sim, exp, mode, opts.timeoutMs));
			} finally {
				await stop(sim);
			}
		}
	} finally {
		pg.stop();
	}
	return rows;
}

// ---------------------------------------------------------------------------------------------
// nodes: Decrypt S/MIME, Reassemble Export (merged zip) and Reassemble Export (Record Chunks) in n8n
// 2.41 (one process, binary data in files) against `cx-export decrypt / reassemble / records` on the
// same files, side by side. The node's own time comes from n8n's event log (its started and finished
// events); reading the files into n8n (Read/Write Files from Disk) is not counted.

const NODE_CASES = {
	decrypt: {
		label: 'Decrypt S/MIME',
		type: 'n8n-nodes-cx-export.smimeDecrypt',
		parameters: {},
		files: (exp) => [exp.parts[0]],
		cli: (k, files, out) =>
			`${q(cxExport())} decrypt --key ${q(k)} ${q(files[0])} -o ${q(join(out, 'decrypted'))}`,
	},
	reassemble: {
		label: 'Reassemble Export (merged zip)',
		type: 'n8n-nodes-cx-export.reassembleExport',
		parameters: { output: 'zip' },
		files: (exp) => exp.parts,
		cli: (k, files, out) =>
			`${q(cxExport())} reassemble --key ${q(k)} ${files.map(q).join(' ')} -o ${q(join(out, 'merged.zip'))}`,
	},
	chunks: {
		label: 'Reassemble Export (Record Chunks)',
		type: 'n8n-nodes-cx-export.reassembleExport',
		parameters: { output: 'chunks' },
		files: (exp) => exp.parts,
		cli: (k, files, out) =>
			`${q(cxExport())} records --key ${q(k)} ${files.map(q).join(' ')} > ${q(join(out, 'records.jsonl'))}`,
	},
};

function nodeWorkflow(id, nodeCase, files) {
	const selector = files.length === 1 ? files[0] : join(dirname(files[0]), '*.smime');
	return {
		id,
		name: `Bench: ${nodeCase.label}`,
		nodes: [
			{
				parameters: {
					httpMethod: 'POST',
					path: `cx-bench-${id}`,
					responseMode: 'onReceived',
					options: {},
				},
				id: randomUUID(),
				name: 'Start',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: randomUUID(),
			},
			{
				parameters: { operation: 'read', fileSelector: selector, options: {} },
				id: randomUUID(),
				name: 'Read the files',
				type: 'n8n-nodes-base.readWriteFile',
				typeVersion: 1,
				position: [240, 0],
			},
			{
				parameters: nodeCase.parameters,
				id: randomUUID(),
				name: 'Node',
				type: nodeCase.type,
				typeVersion: 1,
				position: [480, 0],
				credentials: { smimeKeyApi: { id: 'cxSmimeKey0001', name: 'Export key' } },
			},
		],
		connections: {
			Start: { main: [[{ node: 'Read the files', type: 'main', index: 0 }]] },
			'Read the files': { main: [[{ node: 'Node', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1', saveDataSuccessExecution: 'none' },
		active: false,
		tags: [],
	};
}

async function benchNodes(opts) {
	const rows = [];
	const n = opts.nodesSize;
	const sim = await startSimulator(n);
	let exp;
	try {
		exp = await simulatorExport(n, sim);
	} finally {
		await stop(sim);
	}
	const out = join(runs, 'nodes-cli');
	for (const line of opts.nodeLines) {
		const n8n = installN8n(line);
		const version = line === '2' ? 'n8n 2.41' : 'n8n 1.123';
		for (const [name, nodeCase] of Object.entries(NODE_CASES)) {
			if (!opts.nodeCases.has(name)) continue;
			const files = nodeCase.files(exp);
			const inputBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
			for (let round = 1; round <= opts.nodeRounds; round++) {
				rmSync(out, { recursive: true, force: true });
				mkdirSync(out, { recursive: true });
				log(`nodes: ${nodeCase.label}, round ${round}: cx-export`);
				const cli = await measurePipeline(nodeCase.cli(key().keyPath, files, out));
				rmSync(out, { recursive: true, force: true });
				log(`nodes: ${nodeCase.label}, round ${round}: ${version}`);
				const folder = userFolder(`nodes-${line}-${name}`);
				const env = await n8nEnv(line, folder, {});
				writeFileSync(
					join(folder, 'credentials.json'),
					JSON.stringify(credentialsFor('http://127.0.0.1:9', { port: 5432 })),
				);
				n8nCli(n8n, env, ['import:credentials', `--input=${join(folder, 'credentials.json')}`]);
				const id = `cxBenchNode${name.padEnd(5, '0').slice(0, 5)}`;
				const workflow = nodeWorkflow(id, nodeCase, files);
				importWorkflow(n8n, env, workflow);
				activate(line, n8n, env, workflow.id);
				const r = await runServer(
					{ n8n, env },
					{
						workflowId: workflow.id,
						webhookPath: `cx-bench-${id}`,
						timeoutMs: opts.timeoutMs,
						runs: 2,
					},
				);
				// The second execution is the node as a running n8n runs it, its modules loaded; the
				// first is reported beside it (the CLI is a new process each time).
				const spans = (r.nodes ?? []).filter((x) => x.node === 'Node');
				const span = spans.length === 2 ? spans[1] : undefined;
				const row = {
					case: name,
					label: nodeCase.label,
					n8n: version,
					round,
					files: files.length,
					inputBytes,
					cliSeconds: cli.seconds,
					cliPeak: cli.peak,
					status: r.status,
					nodeSeconds: span?.seconds,
					nodeFirstSeconds: spans[0]?.seconds,
					mainPeak: r.peaks?.main,
					failure: r.status === 'success' ? undefined : failureLines(r.logs),
				};
				rows.push(row);
				log(
					`nodes: ${nodeCase.label}, round ${round}: cx-export ${fmtS(cli.seconds)}, node in ${version} ${span ? fmtS(span.seconds) : '–'} (${r.status}; first run after n8n started ${fmtS(spans[0]?.seconds)})${span ? `, ${(span.seconds / cli.seconds).toFixed(2)}×` : ''}`,
				);
				if (row.failure) for (const l of row.failure) log(`  ${l}`);
				writeFileSync(
					join(folder, 'n8n.log'),
					Object.entries(r.logs)
						.map(([k, v]) => `==== ${k}\n${v}`)
						.join('\n'),
				);
				rmSync(join(folder, '.n8n', 'binaryData'), { recursive: true, force: true });
			}
		}
	}
	return {
		nodeRows: rows,
		nodeExport: {
			n,
			records: exp.truth.count,
			parts: exp.parts.length,
			partBytes: exp.partBytes,
			jsonBytes: exp.jsonBytes,
		},
	};
}

// ---------------------------------------------------------------------------------------------
// The report.

/** The n8n processes of a run, each with its peak: "main 812 MiB, task runner 140 MiB, …". */
function processPeaks(processes, { idle = false } = {}) {
	const named = processes.filter((p) =>
		['main', 'worker', 'task runner', 'n8n execute'].includes(p.role),
	);
	return named
		.sort((a, b) =>
			a.tree === b.tree
				? (a.role === 'task runner') - (b.role === 'task runner')
				: a.tree < b.tree
					? -1
					: 1,
		)
		.map((p) => {
			const name = p.role === 'task runner' ? `${p.tree}'s task runner` : p.role;
			return `${name} ${fmtM(p.peak)}${idle && p.idle ? ` (idle ${fmtM(p.idle)})` : ''}`;
		})
		.join(', ');
}

function n8nPeak(processes) {
	return Math.max(
		0,
		...processes.filter((p) => ['main', 'worker'].includes(p.role)).map((p) => p.peak),
	);
}

export function report(results) {
	const lines = [];
	const cpu = cpus()[0]?.model ?? 'unknown CPU';
	lines.push(
		`Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, Linux ${release()}; n8n 1.123 on Node ${process.version}, n8n 2.41 on Node 24 (${sh(node24(), ['--version']).toString().trim()}); PostgreSQL ${/\d+\.\d+/.exec(sh('psql', ['--version']).toString())?.[0] ?? '?'}.`,
	);
	lines.push(`Run: ${results.started} to ${new Date().toISOString()}`);
	if (results.items?.length) {
		lines.push('');
		lines.push(
			'(d) The plain path, one item per record: Webhook → Read/Write Files from Disk (the export as one plain zip) → Parse JSON Lines (Records), in n8n 2.41, one process (SQLite), `N8N_DEFAULT_BINARY_DATA_MODE=filesystem`. Wall: from the webhook call until n8n has recorded the execution as finished (saving included). Peak RSS of each n8n process during the run (its RSS before the run in brackets).',
		);
		lines.push('');
		lines.push('| records | JSON | n8n setting | result | wall | peak RSS | records checked |');
		lines.push('|---|---|---|---|---|---|---|');
		for (const r of results.items) {
			lines.push(
				`| ${r.n.toLocaleString('en')} | ${fmtM(r.jsonBytes)} (zip ${fmtM(r.zipBytes)}) | ${r.label} | ${r.status === 'success' ? 'success' : `**${r.status}**`} | ${fmtS(r.seconds)} | ${processPeaks(r.processes, { idle: true })} | ${r.check ?? '–'} |`,
			);
		}
	}
	if (results.exports?.length) {
		lines.push('');
		lines.push(
			`(e) The large export into PostgreSQL, two routes on the same export: the simulator's (test/simulator, large exports on disk: CDDS interactions of four entity types, every inbound email with a ${ATTACHMENT_BYTES.toLocaleString('en')}-byte attachment, one file per entity type, \`zip -s\`-style 100 MB parts, each S/MIME-encrypted).`,
		);
		lines.push('');
		lines.push('| records | per kind | JSON | encrypted parts |');
		lines.push('|---|---|---|---|');
		for (const e of results.exports)
			lines.push(
				`| ${e.records.toLocaleString('en')} | ${Object.entries(e.kinds)
					.map(([k, v]) => `${k} ${v.toLocaleString('en')}`)
					.join(', ')} | ${fmtM(e.jsonBytes)} | ${e.parts} (${fmtM(e.partBytes)}) |`,
			);
		lines.push('');
		lines.push(
			"- **CLI + COPY**: `cx-export records --key … <parts> | psql -c \"\\copy contact_history(record) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')\"`, from the parts on disk. Peak RSS of the pipeline (cx-export + psql).",
		);
		lines.push(
			"- **n8n workflow**: `workflows/big-export-to-postgres.json` (Genesys Data Export: Job → Create and Wait; File → Download, decrypted, *Record Chunks* of 10,000 records or 16 MiB; Execute Workflow per chunk → `load-chunk-to-postgres.json`: the chunk as text, inserted as one row of the load log, whose trigger inserts its records: one PostgreSQL statement) started by a webhook, against the simulator. Wall: from the webhook call until n8n recorded the execution as finished; *after the export was ready* subtracts the time Create and Wait spent waiting for the simulator to make the export (Genesys' time, not n8n's), and is what the ratio uses. Peak RSS of each n8n process during the run (idle RSS before the run in brackets).",
		);
		lines.push(
			"- Every row of `contact_history` is checked after each route: the count and an order-independent digest (sum of SHA-256 of each record as canonical JSON) against the export's records as `cx-export extract` writes them.",
		);
		lines.push('');
		lines.push(
			'| records | route | result | wall | after the export was ready | × CLI + COPY | peak RSS | rows |',
		);
		lines.push('|---|---|---|---|---|---|---|---|');
		for (const e of results.exports) {
			const cli = results.cli?.find((c) => c.records === e.records || c.label === String(e.n));
			if (cli)
				lines.push(
					`| ${e.records.toLocaleString('en')} | CLI + COPY | success | ${fmtS(cli.seconds)} | ${fmtS(cli.seconds)} | 1.0 | pipeline ${fmtM(cli.peak)} (${Object.entries(
						cli.byRole,
					)
						.filter(([, v]) => v > 5 * MiB)
						.map(([k, v]) => `${k} ${fmtM(v)}`)
						.join(', ')}) | ${cli.check} |`,
				);
			for (const w of (results.workflow ?? []).filter((x) => x.n === e.n)) {
				const ratio =
					cli && w.afterExportSeconds !== undefined
						? `${(w.afterExportSeconds / cli.seconds).toFixed(1)} (total ${(w.seconds / cli.seconds).toFixed(1)})`
						: '–';
				const kills = Object.entries(w.oomKills ?? {}).filter(([, k]) => k > 0);
				const killed = kills.length
					? ` (killed for memory: ${kills.map(([k, v]) => `${k} ×${v}`).join(', ')})`
					: '';
				lines.push(
					`| ${e.records.toLocaleString('en')} | ${w.label}${w.ranOnWorker === false ? ' ⚠ not on the worker' : ''} | ${w.status === 'success' ? `success, ${w.chunks} chunks` : `**${w.status}**`}${killed} | ${fmtS(w.seconds)} | ${fmtS(w.afterExportSeconds)} | ${ratio} | ${processPeaks(w.processes, { idle: true })} | ${w.check ?? (w.failure ?? []).join(' / ')} |`,
				);
			}
		}
		lines.push('');
		lines.push(
			"Where the time goes (seconds; from n8n's event log): the two big nodes of the parent, and in the sub-workflow the sum over its executions of each node.",
		);
		lines.push('');
		lines.push(
			'| records | route | Download in chunks | Load each chunk | sub-executions (their sum) | What the load log keeps | Chunk as text | Load the chunk |',
		);
		lines.push('|---|---|---|---|---|---|---|---|');
		for (const w of results.workflow ?? []) {
			if (w.status !== 'success') continue;
			// A node that runs once per chunk (the loop's Load each chunk) has a span per run: their sum.
			const parent = (name) => {
				const spans = (w.nodes ?? []).filter((x) => x.node === name);
				return spans.length ? spans.reduce((sum, x) => sum + x.seconds, 0) : undefined;
			};
			const sub = (name) =>
				w.subWorkflow?.perNode?.[Object.keys(w.subWorkflow.perNode).find((k) => k.startsWith(name))]
					?.seconds;
			lines.push(
				`| ${w.n.toLocaleString('en')} | ${w.label} | ${fmtS(parent('Download in chunks'))} | ${fmtS(parent('Load each chunk'))} | ${w.subWorkflow ? `${w.subWorkflow.executions} (${fmtS(w.subWorkflow.seconds)})` : '–'} | ${fmtS(sub('What the load log keeps'))} | ${fmtS(sub('Chunk as text'))} | ${fmtS(sub('Load the chunk'))} |`,
			);
		}
		lines.push('');
		lines.push(
			'Against the targets (peak RSS of each n8n process ≤ 1 GiB at both sizes, flat; wall after the export was ready ≤ 3× CLI + COPY):',
		);
		lines.push('');
		lines.push(
			'| route | ' +
				results.exports
					.map((e) => `${e.records.toLocaleString('en')}: n8n peak, × CLI + COPY`)
					.join(' | ') +
				' | targets |',
		);
		lines.push('|---|' + results.exports.map(() => '---|').join('') + '---|');
		for (const mode of [...new Set((results.workflow ?? []).map((w) => w.mode))]) {
			const cells = [];
			let ok = true;
			let label = mode;
			for (const e of results.exports) {
				const w = results.workflow.find((x) => x.mode === mode && x.n === e.n);
				const cli = results.cli?.find((c) => c.label === String(e.n));
				if (!w) {
					cells.push('–');
					continue;
				}
				label = w.label;
				const peak = n8nPeak(w.processes);
				const ratio =
					cli && w.afterExportSeconds !== undefined
						? w.afterExportSeconds / cli.seconds
						: undefined;
				ok &&=
					w.status === 'success' && w.ok && peak <= 1024 * MiB && ratio !== undefined && ratio <= 3;
				cells.push(`${fmtM(peak)}, ${ratio === undefined ? '–' : `${ratio.toFixed(1)}×`}`);
			}
			lines.push(`| ${label} | ${cells.join(' | ')} | ${ok ? 'met' : '**not met**'} |`);
		}
	}
	return lines.join('\n');
}

function nodesReport(results) {
	const lines = [];
	const e = results.nodeExport;
	lines.push('');
	lines.push(
		`(f) The nodes in n8n (2.41 unless the table says 1.123: \`--nodes-n8n 1,2\`) against the CLI on the same files: the simulator's export of ${e.records.toLocaleString('en')} records (${e.parts} encrypted parts, ${fmtM(e.partBytes)}; ${fmtM(e.jsonBytes)} of JSON). n8n in one process, binary data in files, successful executions not saved; the node's time from n8n's event log (reading the files into n8n not counted); the CLI writes to a file on the same disk. Each round runs the workflow twice in one n8n: *node in n8n* is the second run (n8n as it runs, its modules loaded), *first run* the one right after n8n started.`,
	);
	lines.push('');
	lines.push('| node | n8n | input | round | cx-export | node in n8n | × CLI | first run, × CLI |');
	lines.push('|---|---|---|---|---|---|---|---|');
	for (const r of results.nodeRows)
		lines.push(
			`| ${r.label} | ${r.n8n ?? 'n8n 2.41'} | ${r.files} file${r.files === 1 ? '' : 's'}, ${fmtM(r.inputBytes)} | ${r.round} | ${fmtS(r.cliSeconds)} | ${r.nodeSeconds === undefined ? `**${r.status}**` : fmtS(r.nodeSeconds)} | ${r.nodeSeconds === undefined ? '–' : `${(r.nodeSeconds / r.cliSeconds).toFixed(2)}×`} | ${r.nodeFirstSeconds === undefined ? '–' : `${fmtS(r.nodeFirstSeconds)}, ${(r.nodeFirstSeconds / r.cliSeconds).toFixed(2)}×`} |`,
		);
	return lines.join('\n');
}

export async function main(argv) {
	const opts = options(argv);
	mkdirSync(runs, { recursive: true });
	key();
	const results = { started: new Date().toISOString() };
	if (opts.only.has('items')) results.items = await benchItems(opts);
	if (opts.only.has('cli') || opts.only.has('chunks'))
		Object.assign(results, await benchChunks(opts));
	if (opts.only.has('nodes')) Object.assign(results, await benchNodes(opts));
	writeFileSync(join(work, 'n8n-results.json'), JSON.stringify(results, null, 1));
	const text = `${report(results)}${results.nodeRows ? nodesReport(results) : ''}`;
	writeFileSync(join(work, 'n8n-results.md'), `${text}\n`);
	console.log(text);
	const wrong = [
		...(results.items ?? []),
		...(results.cli ?? []),
		...(results.workflow ?? []),
	].filter((r) => /\*\*differ|\*\*counts differ/.test(r.check ?? ''));
	if (wrong.length > 0) {
		console.error(
			`\nrows or records differ from the export: ${wrong.map((r) => `${r.n ?? r.label} ${r.mode ?? 'cli'}`).join(', ')}`,
		);
		process.exitCode = 1;
	}
	return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
	main().catch((error) => {
		console.error(error.stack ?? error.message);
		process.exit(1);
	});
}
