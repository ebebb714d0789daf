/**
 * `npm run simulator`: local stand-ins for trying the nodes without a tenant — the Genesys export
 * API (and its storage host), Genesys Context Services and Connectif.
 *   tsx test/simulator/main.ts [--port 8080] [--storage-port 8081] [--context-services-port 8082]
 *                             [--connectif-port 8083] [--cert cert.pem] [--host 127.0.0.1]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startConnectifSimulator } from './connectif';
import { startContextServicesSimulator } from './contextServices';
import { startGenesysSimulator } from './genesys';

const { values } = parseArgs({
	options: {
		port: { type: 'string', default: '8080' },
		'storage-port': { type: 'string', default: '8081' },
		host: { type: 'string', default: '127.0.0.1' },
		cert: { type: 'string' },
		'run-seconds': { type: 'string', default: '5' },
		'context-services-port': { type: 'string', default: '8082' },
		'connectif-port': { type: 'string', default: '8083' },
	},
});

async function main(): Promise<void> {
	const sim = await startGenesysSimulator({
		host: values.host,
		port: Number(values.port),
		storagePort: Number(values['storage-port']),
		certificate: values.cert ? readFileSync(values.cert, 'utf8') : undefined,
		runDurationMs: Number(values['run-seconds']) * 1000,
		interactions: 300,
		contacts: 60,
	});

	const contextServices = await startContextServicesSimulator({ host: values.host, port: Number(values['context-services-port']), services: 2000 });
	const connectif = await startConnectifSimulator({ host: values.host, port: Number(values['connectif-port']), exportDurationMs: Number(values['run-seconds']) * 1000 });

	console.log(`Genesys simulator listening on ${sim.baseUrl} (storage ${sim.storageUrl})

In n8n, create a "Genesys Multicloud CX API" credential:
  Region: Custom URL    Custom Base URL: ${sim.baseUrl}
  API Key: sim-api-key   Client ID: sim-client   Client Secret: sim-secret
  Grant Type: Password   Username: SIMTENANT\\analyst   Password: sim-password
Upload your certificate (Certificate > Upload) before creating an export job${values.cert ? ' (one is loaded already)' : ''}.

Genesys Context Services: ${contextServices.baseUrl} (no authentication; services in October 2026)
Connectif: ${connectif.baseUrl} (API key: sim-connectif-key; set it as the credential's Base URL)

Ctrl+C stops them.`);

	const stop = () => {
		void Promise.all([sim.close(), contextServices.close(), connectif.close()]).then(() => process.exit(0));
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
	console.error(`error: ${error.message}`);
	process.exit(1);
});
