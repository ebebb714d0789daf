// n8n's own lint configuration for community packages, as `n8n-node lint` (@n8n/node-cli) runs it:
// `configWithoutCloudSupport`, because the nodes use the file system, zlib and their own HTTP
// connections (README, Installing): a package for self-hosted n8n. The tooling lives in tools/lint
// (`node scripts/lint.mjs` installs it on first use): its peer n8n-workflow 2.x does not install on
// Node 20 beside our n8n-workflow 1.x.
//
// What n8n's config lints is what n8n loads: nodes/, credentials/ and package.json. The core (src/)
// is plain Node code shared with the CLI (its errors are CxError; the nodes turn them into
// NodeApiError / NodeOperationError), and tests, benchmarks and scripts are not shipped.
import { createRequire } from 'node:module';

const require = createRequire(new URL('./tools/lint/package.json', import.meta.url));
const { configWithoutCloudSupport } = require('@n8n/node-cli/eslint');

export default [
	{
		ignores: [
			'src/**',
			'test/**',
			'bench/**',
			'scripts/**',
			'tools/**',
			'bin/**',
			'workflows/**',
			'docs/**',
			'.cache/**',
			'.bench/**',
			'node_modules/**',
			'dist/**',
			'gulpfile.js',
			'vitest.config.ts',
			'eslint.config.mjs',
		],
	},
	...configWithoutCloudSupport,
];
