#!/usr/bin/env node
// `npm run demo`: the main job, in a real n8n, on a fresh machine. Installs n8n 1.123 on first use
// (test/e2e/n8n1, a few minutes), packs this package and installs it into a throw-away n8n user
// folder as users install community nodes, starts the Genesys simulator and a throw-away
// PostgreSQL, imports the example workflows, and runs "Genesys nightly contact history →
// PostgreSQL": create an export job and wait for it, download the encrypted parts, decrypt,
// reassemble, read the records, insert them. Prints what happened and checks every row.
//   --open   then leave n8n running at http://localhost:5678 with the workflows imported (Ctrl+C stops)
// Everything it starts, it stops.
import { spawn } from 'node:child_process';
import { log, pack, runNightly, setUp, stopAll } from '../test/e2e/lib.mjs';

const open = process.argv.includes('--open');

async function main() {
	const started = Date.now();
	const tgz = pack();
	const context = await setUp('1', tgz, { split: true });
	const summary = await runNightly(context);
	console.log(`
Genesys nightly contact history → PostgreSQL, in n8n 1.123 with n8n-nodes-cx-export:
  export run ${summary.run}: ${summary.parts} encrypted part(s) downloaded, decrypted and reassembled
  records per kind: ${summary.perKind.join(', ')}
  rows in PostgreSQL: ${summary.rows} (every one checked against the export)
  the workflow took ${summary.seconds} s; the whole demo ${((Date.now() - started) / 1000).toFixed(0)} s
`);
	if (!open) return;
	const n8n = spawn(context.n8n.node, [context.n8n.bin, 'start'], {
		env: { ...context.env, N8N_PORT: '5678', N8N_SECURE_COOKIE: 'false' },
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	await new Promise((resolve, reject) => {
		let output = '';
		n8n.stdout.on('data', (data) => {
			output += data;
			if (/Editor is now accessible/.test(output)) resolve();
		});
		n8n.once('exit', (code) => reject(new Error(`n8n stopped (${code})`)));
	});
	log(
		`n8n is running at http://localhost:5678 with the workflows imported (credentials "Genesys (simulator)", "Export key", "Warehouse"); Ctrl+C stops everything`,
	);
	await new Promise((resolve) => {
		process.once('SIGINT', resolve);
		process.once('SIGTERM', resolve);
	});
	n8n.kill('SIGTERM');
	await new Promise((resolve) => n8n.once('exit', resolve));
}

main()
	.catch((error) => {
		console.error(`demo failed: ${error.message}`);
		process.exitCode = 1;
	})
	.finally(stopAll);
