// n8n's community-node lint rules over the nodes, the credentials and package.json.
// The tooling lives in tools/lint (its own install: `node scripts/lint.mjs` sets it up), because
// the plugin's peer n8n-workflow 2.x does not install on Node 20 beside our n8n-workflow 1.x.
import { createRequire } from 'node:module';

const require = createRequire(new URL('./tools/lint/package.json', import.meta.url));
const { default: plugin } = await import(require.resolve('@n8n/eslint-plugin-community-nodes'));
const tseslint = (await import(require.resolve('typescript-eslint'))).default;

const rules = {
	...plugin.configs.recommendedWithoutN8nCloudSupport.rules,
	// The nodes use the file system, zlib and their own HTTP connections (see README, Installing): this
	// package is for self-hosted n8n, not n8n Cloud. Its libraries are bundled (scripts/vendor.mjs), so
	// the rule against runtime dependencies applies.
	'@n8n/community-nodes/no-restricted-imports': 'off',
};

export default [
	{ ignores: ['dist/**', 'node_modules/**', 'tools/**', 'test/**', 'bench/**', 'scripts/**', '.cache/**', '.bench/**'] },
	{
		files: ['nodes/**/*.ts', 'credentials/**/*.ts'],
		languageOptions: { parser: tseslint.parser, parserOptions: { ecmaVersion: 2022, sourceType: 'module' } },
		plugins: { '@n8n/community-nodes': plugin },
		rules,
	},
	{
		files: ['package.json'],
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
		plugins: { '@n8n/community-nodes': plugin },
		rules,
	},
];
