#!/usr/bin/env node
// `npm run lint`: `n8n-node lint` (@n8n/node-cli), n8n's own lint command for community packages, with
// n8n's config (eslint.config.mjs). Installs the tooling into tools/lint from its own lock file on
// first use, then lints; exits non-zero on any error.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, 'tools/lint');
const n8nNode = join(tools, 'node_modules/@n8n/node-cli/bin/n8n-node.mjs');

function run(command, args, cwd = root) {
	const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
	if (result.error) throw result.error;
	return result.status ?? 1;
}

// One rule of the plugin (node-connection-type-literal) loads n8n-workflow's NodeConnectionTypes at
// runtime. tools/lint installs without its peers (.npmrc: legacy-peer-deps, because n8n-workflow 2.x
// does not install on Node 20), so it resolves to the repository's own n8n-workflow devDependency.
if (!existsSync(join(root, 'node_modules/n8n-workflow/package.json'))) {
	console.error('lint: node_modules/n8n-workflow is missing; run `npm ci` in the repository first');
	process.exit(2);
}
if (!existsSync(n8nNode)) {
	const status = run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--legacy-peer-deps'], tools);
	if (status !== 0) process.exit(status);
}
process.exit(run(process.execPath, [n8nNode, 'lint', ...process.argv.slice(2)]));
