#!/usr/bin/env node
// Part of `npm run build`, after tsc: bundles the libraries the package runs on (zod, yauzl,
// node-forge) into dist/vendor/ and points dist's requires at them, so the package has no runtime
// dependencies. n8n installs community packages into its own node_modules, where a dependency can
// clash with another package's or n8n's own; n8n's linter refuses runtime dependencies for that.
// The libraries' licences go to dist/vendor/THIRD-PARTY-NOTICES.md.
//
// What is bundled: zod's `z` (tree-shaken to what it reaches), yauzl whole (small), and of
// node-forge only what PKCS#12 needs (src/cms/keys.ts: reading .p12/.pfx keys).
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const dist = join(root, 'dist');
const vendor = join(dist, 'vendor');

const LIBRARIES = [
	{ name: 'zod', entry: "export { z } from 'zod';" },
	{ name: 'yauzl', entry: "module.exports = require('yauzl');" },
	{
		name: 'node-forge',
		// forge's index loads every algorithm it has; PKCS#12 (with its PBE ciphers and MACs), ASN.1,
		// PKI and its utilities are what src/cms/keys.ts calls.
		entry:
			"require('node-forge/lib/pkcs12'); require('node-forge/lib/pki'); require('node-forge/lib/asn1'); require('node-forge/lib/util'); module.exports = require('node-forge/lib/forge');",
	},
];

function licenceOf(name) {
	const dir = join(root, 'node_modules', name);
	const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
	const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
	if (!file) throw new Error(`${name}: no licence file in node_modules/${name}`);
	return {
		version: pkg.version,
		license: pkg.license ?? '',
		homepage: pkg.homepage ?? pkg.repository?.url ?? '',
		text: readFileSync(join(dir, file), 'utf8').trim(),
	};
}

function jsFiles(dir) {
	const out = [];
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) {
			if (path !== vendor) out.push(...jsFiles(path));
		} else if (entry.name.endsWith('.js')) out.push(path);
	}
	return out;
}

async function main() {
	if (!existsSync(dist)) throw new Error('dist/ is missing: run tsc first');
	mkdirSync(vendor, { recursive: true });
	const notices = [
		'# Third-party notices',
		'',
		'dist/vendor/ holds these libraries, bundled into this package at build time.',
		'',
	];
	const packages = new Set();
	for (const library of LIBRARIES) {
		const result = await build({
			stdin: {
				contents: library.entry,
				resolveDir: root,
				loader: 'js',
				sourcefile: `${library.name}.vendor.js`,
			},
			bundle: true,
			platform: 'node',
			format: 'cjs',
			target: 'node20',
			outfile: join(vendor, `${library.name}.js`),
			// Minified (the readable sources are on npm under the versions below); licence comments kept.
			minify: true,
			legalComments: 'eof',
			logLevel: 'warning',
			metafile: true,
		});
		// The library and every package it brought along (yauzl's buffer-crc32 and pend, …).
		for (const input of Object.keys(result.metafile.inputs)) {
			const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
			if (m) packages.add(m[1]);
		}
	}
	for (const name of [...packages].sort()) {
		const l = licenceOf(name);
		notices.push(
			`## ${name} ${l.version} (${l.license})`,
			'',
			l.homepage,
			'',
			'```',
			l.text,
			'```',
			'',
		);
	}
	writeFileSync(join(vendor, 'THIRD-PARTY-NOTICES.md'), `${notices.join('\n')}\n`);

	// Every require of a bundled library in dist/ now points at its bundle.
	const names = LIBRARIES.map((l) => l.name.replace(/[-/]/g, (c) => `\\${c}`)).join('|');
	const pattern = new RegExp(`require\\((["'])(${names})\\1\\)`, 'g');
	let rewritten = 0;
	for (const file of jsFiles(dist)) {
		const text = readFileSync(file, 'utf8');
		const next = text.replace(pattern, (_, _quote, name) => {
			rewritten++;
			let path = relative(dirname(file), join(vendor, `${name}.js`))
				.split(sep)
				.join('/');
			if (!path.startsWith('.')) path = `./${path}`;
			return `require(${JSON.stringify(path)})`;
		});
		if (next !== text) writeFileSync(file, next);
	}
	// Anything else that still requires a package (not node: builtins, not relative, not n8n-workflow,
	// which n8n provides) would be a dependency the package does not have.
	const stray = [];
	for (const file of jsFiles(dist)) {
		for (const m of readFileSync(file, 'utf8').matchAll(/require\((["'])([^"']+)\1\)/g)) {
			const spec = m[2];
			if (
				spec.startsWith('.') ||
				spec.startsWith('node:') ||
				spec === 'n8n-workflow' ||
				isBuiltin(spec)
			)
				continue;
			stray.push(`${relative(root, file)}: ${spec}`);
		}
	}
	if (stray.length > 0)
		throw new Error(`dist requires packages it does not bundle:\n${stray.join('\n')}`);
	console.log(
		`vendor: ${LIBRARIES.map((l) => l.name).join(', ')} bundled into dist/vendor; ${rewritten} requires rewritten`,
	);
}

const BUILTINS = new Set((await import('node:module')).builtinModules);
function isBuiltin(spec) {
	return BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0]);
}

main().catch((error) => {
	console.error(error.message);
	process.exit(1);
});
