/**
 * `npm run simulator`: local stand-ins for trying the nodes and the CLI without a tenant — the
 * Genesys export API (and its storage host), Genesys Context Services and Connectif.
 *
 *   tsx test/simulator/main.ts [--port 8080] [--storage-port 8081] [--cert cert.pem]
 *                             [--host 127.0.0.1] [--run-seconds 5] [--seed text]
 *                             [--context-services-port 8082] [--connectif-port 8083]
 *                             [--large-export-title TEXT [--large-export-interactions 300000]
 *                              [--large-export-files merged|per-entity-type] [--large-export-cache DIR]]
 *
 * With --large-export-title, runs of jobs whose title contains TEXT are large exports: that many
 * interactions, made once into DIR (default .cache/simulator in this repository) and served from disk.
 *
 * Ctrl+C (SIGINT) or SIGTERM stops them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startConnectifSimulator } from './connectif';
import { startContextServicesSimulator } from './contextServices';
import { startGenesysSimulator } from './genesys';

const usage = `usage: tsx test/simulator/main.ts [--port 8080] [--storage-port 8081] [--cert cert.pem] [--host 127.0.0.1]
                                  [--run-seconds 5] [--seed text] [--context-services-port 8082] [--connectif-port 8083]
                                  [--large-export-title TEXT [--large-export-interactions 300000]
                                   [--large-export-files merged|per-entity-type] [--large-export-cache DIR]]`;

function port(name: string, text: string): number {
	const n = Number(text);
	if (!/^\d+$/.test(text) || n > 65535)
		throw new Error(`--${name} must be a port number (0-65535), not "${text}"`);
	return n;
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			port: { type: 'string', default: '8080' },
			'storage-port': { type: 'string', default: '8081' },
			host: { type: 'string', default: '127.0.0.1' },
			cert: { type: 'string' },
			'run-seconds': { type: 'string', default: '5' },
			seed: { type: 'string' },
			'context-services-port': { type: 'string', default: '8082' },
			'connectif-port': { type: 'string', default: '8083' },
			'large-export-title': { type: 'string' },
			'large-export-interactions': { type: 'string', default: '300000' },
			'large-export-files': { type: 'string', default: 'merged' },
			'large-export-cache': {
				type: 'string',
				default: join(__dirname, '..', '..', '.cache', 'simulator'),
			},
			help: { type: 'boolean', short: 'h' },
		},
	});
	if (values.help) {
		console.log(usage);
		return;
	}
	const runSeconds = Number(values['run-seconds']);
	if (!Number.isFinite(runSeconds) || runSeconds < 0)
		throw new Error(`--run-seconds must be a number of seconds, not "${values['run-seconds']}"`);
	const certificate = values.cert ? readFileSync(values.cert, 'utf8') : undefined;
	const largeInteractions = Number(values['large-export-interactions']);
	if (!Number.isSafeInteger(largeInteractions) || largeInteractions < 1)
		throw new Error(
			`--large-export-interactions must be a whole number, not "${values['large-export-interactions']}"`,
		);
	const largeFiles = values['large-export-files'];
	if (largeFiles !== 'merged' && largeFiles !== 'per-entity-type')
		throw new Error(`--large-export-files must be merged or per-entity-type, not "${largeFiles}"`);

	const genesys = await startGenesysSimulator({
		host: values.host,
		port: port('port', values.port),
		storagePort: port('storage-port', values['storage-port']),
		certificate,
		seed: values.seed,
		runDurationMs: runSeconds * 1000,
		interactions: 300,
		contacts: 60,
		largeExports:
			values['large-export-title'] === undefined
				? undefined
				: {
						titleContains: values['large-export-title'],
						interactions: largeInteractions,
						interactionFiles: largeFiles === 'merged' ? 'merged' : 'perEntityType',
						cacheDir: values['large-export-cache'],
					},
	});
	const stops: Array<() => Promise<void>> = [() => genesys.close()];
	try {
		const contextServices = await startContextServicesSimulator({
			host: values.host,
			port: port('context-services-port', values['context-services-port']),
			services: 2000,
		});
		stops.push(() => contextServices.close());
		const connectif = await startConnectifSimulator({
			host: values.host,
			port: port('connectif-port', values['connectif-port']),
			exportDurationMs: runSeconds * 1000,
		});
		stops.push(() => connectif.close());

		console.log(`Genesys simulator: API ${genesys.baseUrl}, storage ${genesys.storageUrl}
  User Data Management v10 at ${genesys.baseUrl}/udm/v10, v4 at /udm/v4/export + /udm/v3, CDDS at /data-download/v4/export + /data-download/v3

In n8n, create a "Genesys Multicloud CX API" credential:
  Region: Custom URL         Custom Base URL: ${genesys.baseUrl}
  API: any of the three      API Key: sim-api-key
  Client ID: sim-client      Client Secret: sim-secret
  Grant Type: Password       Username: SIMTENANT\\analyst   Password: sim-password
  (or Grant Type: Client Credentials)
${
	certificate
		? `The certificate in ${values.cert} is loaded: exports are encrypted to it.`
		: 'Upload your certificate first (Genesys Data Export > Certificate > Upload): without one, runs fail as they do on a tenant.'
}
Runs take ${runSeconds} s; a job created to run immediately starts one at once.${
			values['large-export-title'] === undefined
				? ''
				: `\nJobs whose title contains "${values['large-export-title']}" export ${largeInteractions.toLocaleString('en')} interactions (made once into ${values['large-export-cache']}).`
		}

Genesys Context Services: ${contextServices.baseUrl} (no authentication; services in October 2026)
Connectif: ${connectif.baseUrl} (API key: sim-connectif-key; set it as the credential's Base URL)

Ctrl+C stops them.`);
	} catch (error) {
		await Promise.all(stops.map((stop) => stop()));
		throw error;
	}

	let stopping = false;
	const stop = (signal: NodeJS.Signals) => {
		if (stopping) return;
		stopping = true;
		console.log(`\n${signal}: stopping the simulators`);
		Promise.all(stops.map((s) => s())).then(
			() => process.exit(0),
			(error: unknown) => {
				console.error(
					`error while stopping: ${error instanceof Error ? error.message : String(error)}`,
				);
				process.exit(1);
			},
		);
	};
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
	process.once('SIGHUP', stop);
	// Started through npm (npm → sh → node), a signal may reach only npm, or npm may be killed
	// outright while the shell between stays: when the process that started the simulators, or the
	// one that started it, is gone, they stop too, so nothing is left holding the ports.
	const ancestors = [process.ppid, parentOf(process.ppid)].filter(
		(pid): pid is number => pid !== undefined && pid > 1,
	);
	setInterval(() => {
		if (ancestors.some((pid) => !alive(pid))) stop('SIGHUP');
	}, 500).unref();
}

/** The parent of process `pid`, where /proc says (Linux). */
function parentOf(pid: number): number | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return Number(fields[1]);
	} catch {
		return undefined;
	}
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

main().catch((error: unknown) => {
	console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
});
