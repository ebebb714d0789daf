#!/usr/bin/env node
// End-to-end: this package inside a real n8n, installed the way users install it, running the
// example workflows of workflows/ against the simulators.
//
//   node test/e2e/run.mjs [--n8n 1|2|all] [--keep]
//
// For each n8n line (1.123 on this Node 20, 2.41 on Node 24): pack this package; install n8n from
// test/e2e/n8n<line>/ (its own lock file); make a throw-away n8n user folder and `npm install <tgz>
// --legacy-peer-deps` into .n8n/nodes; start the simulators (Genesys, Context Services, Connectif)
// and a throw-away PostgreSQL; import the credentials and the workflows. Then:
//   - `n8n execute` the nightly export (rows in PostgreSQL = the export's records), the Connectif
//     workflow (rows = the CSV's) and the Context Services workflow (services = the export stream's);
//   - start n8n as a server with the event-driven workflows active: the export-run trigger (its
//     first poll reports the nightly run; records = the run's), and the interactions workflow, sent
//     signed webhook calls
//     (forged → 401; each event's interaction fetched through selfUri lands in PostgreSQL; a
//     redelivery is not run again). n8n 1.x: one process on SQLite. n8n 2.x: queue mode — Redis,
//     main + one worker, PostgreSQL as n8n's database, binary data in the database — where the
//     nightly export is also started by webhook and must run on the worker;
//   - n8n 1.x: the editor in headless Chromium (test/e2e/browser.mjs): adding Genesys Data Export
//     shows its credential, Resource and Operation;
//   - the big export (≥300,000 records, made by the simulator on disk): export → download as record
//     chunks → a sub-workflow per chunk loading it into PostgreSQL with one statement; every row
//     checked against the export, peak RSS of n8n printed (and failed above 1.5 GiB). n8n 1.x with
//     `n8n execute` (last: no server running); n8n 2.x in queue mode, on the worker.
// Prints "[e2e] N passed, M failed" and exits non-zero, naming what differed, on any failure.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { editorScreenshot } from './browser.mjs';
import {
	checkLoadedTypes,
	log,
	pack,
	root,
	runBigExport,
	runConnectif,
	runContextServices,
	runExportTrigger,
	runInteractions,
	runNightly,
	runQueueNightly,
	setUp,
	startServer,
	stopAll,
} from './lib.mjs';

const { values } = parseArgs({
	options: { n8n: { type: 'string', default: '1' }, keep: { type: 'boolean', default: false } },
});

const results = { passed: 0, failed: 0 };
async function check(name, fn) {
	const started = Date.now();
	try {
		const value = await fn();
		results.passed++;
		log(`ok ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
		return value;
	} catch (error) {
		results.failed++;
		console.error(`[e2e] FAILED ${name}: ${error.message}`);
		return undefined;
	}
}

async function main() {
	const lines = values.n8n === 'all' ? ['1', '2'] : [values.n8n];
	const tgz = pack();
	log(`packed ${tgz}`);
	for (const line of lines) {
		const queue = line === '2';
		try {
			const context = await check(
				`n8n ${line}.x: set up (package installed, simulators, PostgreSQL, workflows imported)`,
				() => setUp(line, tgz, { keep: values.keep, queue, split: line === '1' }),
			);
			if (!context) continue;
			const nightly = await check(`n8n ${line}.x: nightly export → PostgreSQL`, () =>
				runNightly(context),
			);
			await check(`n8n ${line}.x: Connectif activities → rows`, () => runConnectif(context));
			await check(`n8n ${line}.x: Context Services services of a day, each in full`, () =>
				runContextServices(context),
			);
			const server = await check(
				`n8n ${line}.x: ${queue ? 'queue mode (main + worker + Redis)' : 'server'} starts with the webhook workflows active`,
				() => startServer(context),
			);
			if (server) {
				await check(`n8n ${line}.x: every node and credential of the package is loaded`, () =>
					checkLoadedTypes(context),
				);
				if (nightly)
					await check(`n8n ${line}.x: export run finished (polling trigger) → records`, () =>
						runExportTrigger(context, nightly.truth),
					);
				await check(
					`n8n ${line}.x: interaction events → selfUri → PostgreSQL${queue ? ' (on the worker)' : ''}`,
					() => runInteractions(context, server),
				);
				if (queue)
					await check(
						`n8n ${line}.x: queue mode: the nightly export runs on the worker, binary data in n8n's database`,
						() => runQueueNightly(context, server),
					);
				if (queue)
					await check(
						`n8n ${line}.x: big export (≥300,000 records) → chunks → sub-workflow per chunk → PostgreSQL (queue mode, on the worker)`,
						() => runBigExport(context, server),
					);
				await server.stop();
			}
			// The editor, in a browser: n8n 1.x (its own server on the same user folder, so after the one above stopped).
			if (line === '1') {
				await check(
					`n8n ${line}.x: the editor adds Genesys Data Export and shows its parameters (headless Chromium)`,
					() =>
						editorScreenshot(context, {
							out: join(root, '.cache', 'e2e', 'editor-genesys-data-export.png'),
							workflowOut: join(root, '.cache', 'e2e', 'workflow-nightly-export.png'),
						}),
				);
				await check(
					`n8n ${line}.x: big export (≥300,000 records) → chunks → sub-workflow per chunk → PostgreSQL`,
					() => runBigExport(context),
				);
			}
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
		results.failed++;
		log(`${results.passed} passed, ${results.failed} failed`);
		process.exitCode = 1;
	})
	.finally(stopAll);
