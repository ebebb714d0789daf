/**
 * The Genesys simulator for the n8n benchmark (run with tsx): test/simulator's Genesys export API
 * with large exports on disk — jobs whose title contains --marker export --interactions interactions,
 * with attachments (one per inbound email, --attachment-bytes before base64) when the job asks for
 * them, one file per entity type; records made once into --cache and reused (they depend on the seed
 * and the job's shape only).
 *
 *   tsx bench/simulator.ts --cert cert.pem --interactions 750000 --cache DIR [--marker TEXT] [--attachment-bytes 3000]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGenesysSimulator } from '../test/simulator/genesys';

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			cert: { type: 'string' },
			interactions: { type: 'string' },
			cache: { type: 'string' },
			marker: { type: 'string', default: '[bench export]' },
			'attachment-bytes': { type: 'string', default: '3000' },
		},
	});
	if (!values.cert || !values.interactions || !values.cache)
		throw new Error(
			'usage: tsx bench/simulator.ts --cert cert.pem --interactions N --cache DIR [--marker TEXT] [--attachment-bytes B]',
		);
	const genesys = await startGenesysSimulator({
		certificate: readFileSync(values.cert, 'utf8'),
		seed: 'cx-export-bench',
		runDurationMs: 1000,
		// Long enough for a slow download of a large part.
		presignedUrlTtlSeconds: 3600,
		largeExports: {
			titleContains: values.marker,
			interactions: Number(values.interactions),
			attachmentBytes: Number(values['attachment-bytes']),
			interactionFiles: 'perEntityType',
			cacheDir: values.cache,
		},
	});
	console.log(`Genesys simulator: API ${genesys.baseUrl} storage ${genesys.storageUrl}`);
	const stop = () => {
		genesys.close().finally(() => process.exit(0));
	};
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
}

main().catch((error) => {
	console.error(error instanceof Error ? error.stack : error);
	process.exit(1);
});
