/**
 * `npm run simulator`: a local Genesys export API for trying the nodes without a tenant.
 *   tsx test/simulator/main.ts [--port 8080] [--storage-port 8081] [--cert cert.pem] [--host 127.0.0.1]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGenesysSimulator } from './genesys';

const { values } = parseArgs({
	options: {
		port: { type: 'string', default: '8080' },
		'storage-port': { type: 'string', default: '8081' },
		host: { type: 'string', default: '127.0.0.1' },
		cert: { type: 'string' },
		'run-seconds': { type: 'string', default: '5' },
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

	console.log(`Genesys simulator listening on ${sim.baseUrl} (storage ${sim.storageUrl})

In n8n, create a "Genesys Multicloud CX API" credential:
  Region: Custom URL    Custom Base URL: ${sim.baseUrl}
  API Key: sim-api-key   Client ID: sim-client   Client Secret: sim-secret
  Grant Type: Password   Username: SIMTENANT\\analyst   Password: sim-password
Upload your certificate (Certificate > Upload) before creating an export job${values.cert ? ' (one is loaded already)' : ''}.
Ctrl+C stops it.`);

	const stop = () => {
		void sim.close().then(() => process.exit(0));
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
	console.error(`error: ${error.message}`);
	process.exit(1);
});
