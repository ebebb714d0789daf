#!/usr/bin/env node
// `npm run lint`: `n8n-node lint` (@n8n/node-cli), n8n's own lint command for community packages, with
// n8n's config (eslint.config.mjs), then a Prettier check of the code with n8n's settings
// (.prettierrc.js, from @n8n/node-cli's template). Installs the tooling into tools/lint from its own
// lock file on first use; exits non-zero on any finding. `npm run format` (`--write`) formats the code.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, 'tools/lint');
const n8nNode = join(tools, 'node_modules/@n8n/node-cli/bin/n8n-node.mjs');
const prettier = join(tools, 'node_modules/prettier/bin/prettier.cjs');
/** The code Prettier keeps formatted (.prettierignore leaves out what is not ours). */
const CODE = [
	'nodes/**/*.ts',
	'credentials/**/*.ts',
	'src/**/*.ts',
	'test/**/*.{ts,mjs,js}',
	'bench/**/*.{ts,mjs}',
	'scripts/**/*.mjs',
	'bin/*.js',
	'gulpfile.js',
	'vitest.config.ts',
	'eslint.config.mjs',
	'.prettierrc.js',
];

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
	// npm's own output (warnings about engines of packages the linter never runs) goes to a log file.
	const logFile = join(root, '.cache', 'lint-install.log');
	mkdirSync(dirname(logFile), { recursive: true });
	console.error(
		`lint: installing n8n's lint tools into tools/lint (once, about a minute; npm's output in ${logFile})`,
	);
	const result = spawnSync(
		'npm',
		['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--legacy-peer-deps'],
		{
			cwd: tools,
			encoding: 'utf8',
			maxBuffer: 64 * 1024 * 1024,
		},
	);
	writeFileSync(logFile, `${result.stdout ?? ''}${result.stderr ?? ''}`);
	if (result.error) throw result.error;
	if (result.status !== 0) {
		console.error(`lint: installing the lint tools failed (exit ${result.status}); see ${logFile}`);
		process.exit(result.status ?? 1);
	}
}
if (process.argv.includes('--write'))
	process.exit(run(process.execPath, [prettier, '--write', '--log-level', 'warn', ...CODE]));
const linted = run(process.execPath, [n8nNode, 'lint', ...process.argv.slice(2)]);
const formatted = run(process.execPath, [prettier, '--check', '--log-level', 'warn', ...CODE]);
if (formatted !== 0)
	console.error(
		"lint: code not formatted as Prettier (n8n's settings) has it; `npm run format` formats it",
	);
process.exit(linted || formatted);
