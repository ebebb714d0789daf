#!/usr/bin/env node
// End-to-end: this package inside a real n8n, installed the way users install it, running the
// example workflows against the simulators.
//
//   node test/e2e/run.mjs [--n8n 1|2|all] [--keep]
//
// For each n8n line (1.123 on this Node 20, 2.41 on Node 24): pack this package; install n8n from
// test/e2e/n8n<line>/ (its own lock file); make a throw-away n8n user folder and `npm install <tgz>
// --legacy-peer-deps` into .n8n/nodes; start the simulators (Genesys, Context Services, Connectif)
// and a throw-away PostgreSQL; import the credentials and the workflows of workflows/; `n8n execute`
// the nightly export; check every row PostgreSQL got against the export read through the API.
// Prints "[e2e] N passed, M failed" and exits non-zero, naming what differed, on any failure.
import { parseArgs } from 'node:util';
import { log, pack, runNightly, setUp, stopAll } from './lib.mjs';

const { values } = parseArgs({ options: { n8n: { type: 'string', default: '1' }, keep: { type: 'boolean', default: false } } });

async function main() {
	const lines = values.n8n === 'all' ? ['1', '2'] : [values.n8n];
	const tgz = pack();
	log(`packed ${tgz}`);
	const results = { passed: 0, failed: 0 };
	for (const line of lines) {
		try {
			await runNightly(await setUp(line, tgz, { keep: values.keep }));
			results.passed++;
		} catch (error) {
			results.failed++;
			console.error(`[e2e] n8n ${line}.x FAILED: ${error.message}`);
		} finally {
			stopAll();
		}
	}
	log(`${results.passed} passed, ${results.failed} failed`);
	if (results.failed > 0) process.exitCode = 1;
}

main()
	.catch((error) => {
		console.error(`[e2e] FAILED: ${error.message}`);
		process.exitCode = 1;
	})
	.finally(stopAll);
