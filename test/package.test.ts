/**
 * What n8n loads: every node and credential listed in package.json's `n8n` field exists in
 * dist/, exports a class of the file's name with the internal name users' workflows depend on,
 * and brings its icons and codex file; nothing in nodes/ or credentials/ is left unlisted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeExport, makeRecipient, openssl, tempDir } from './helpers/fixtures.mjs';

const root = join(__dirname, '..');
const pkg = require(join(root, 'package.json')) as {
	name: string;
	n8n: { nodes: string[]; credentials: string[] };
	files: string[];
	peerDependencies?: Record<string, string>;
};

const NODES: Record<string, string> = {
	GenesysDataExport: 'genesysDataExport',
	SmimeDecrypt: 'smimeDecrypt',
	ReassembleExport: 'reassembleExport',
	ParseJsonLines: 'parseJsonLines',
	GenesysExportTrigger: 'genesysExportTrigger',
	GenesysInteractionsTrigger: 'genesysInteractionsTrigger',
	GenesysContextServices: 'genesysContextServices',
	Connectif: 'connectif',
};
const CREDENTIALS: Record<string, string> = {
	GenesysMulticloudApi: 'genesysMulticloudApi',
	GenesysMulticloudOAuth2Api: 'genesysMulticloudOAuth2Api',
	SmimeKeyApi: 'smimeKeyApi',
	GenesysInteractionsWebhookApi: 'genesysInteractionsWebhookApi',
	GenesysContextServicesApi: 'genesysContextServicesApi',
	ConnectifApi: 'connectifApi',
};

function iconFiles(icon: unknown): string[] {
	if (typeof icon === 'string') return [icon];
	if (icon && typeof icon === 'object') return Object.values(icon as Record<string, string>);
	return [];
}

describe('the package as n8n loads it', () => {
	it('lists every node, with the internal name, icons and codex', () => {
		expect(pkg.n8n.nodes.map((p) => p.split('/').pop()?.replace('.node.js', '')).sort()).toEqual(
			Object.keys(NODES).sort(),
		);
		for (const path of pkg.n8n.nodes) {
			const file = join(root, path);
			expect(existsSync(file), path).toBe(true);
			const className = path.split('/').pop()?.replace('.node.js', '') ?? '';
			const NodeClass = (
				require(file) as Record<
					string,
					new () => {
						description: { name: string; icon?: unknown; usableAsTool?: boolean; version: number };
					}
				>
			)[className];
			expect(NodeClass, `${path} exports ${className}`).toBeTypeOf('function');
			const { description } = new NodeClass();
			expect(description.name).toBe(NODES[className]);
			for (const icon of iconFiles(description.icon))
				expect(
					existsSync(join(file, '..', icon.replace(/^file:/, ''))),
					`${className} icon ${icon}`,
				).toBe(true);
			expect(existsSync(file.replace(/\.js$/, '.json')), `${className} codex`).toBe(true);
		}
	});

	it('lists every credential, with the internal name and icons', () => {
		expect(
			pkg.n8n.credentials.map((p) => p.split('/').pop()?.replace('.credentials.js', '')).sort(),
		).toEqual(Object.keys(CREDENTIALS).sort());
		for (const path of pkg.n8n.credentials) {
			const file = join(root, path);
			expect(existsSync(file), path).toBe(true);
			const className = path.split('/').pop()?.replace('.credentials.js', '') ?? '';
			const CredentialClass = (
				require(file) as Record<string, new () => { name: string; icon?: unknown }>
			)[className];
			const credential = new CredentialClass();
			expect(credential.name).toBe(CREDENTIALS[className]);
			for (const icon of iconFiles(credential.icon))
				expect(
					existsSync(join(file, '..', icon.replace(/^file:/, ''))),
					`${className} icon ${icon}`,
				).toBe(true);
		}
	});

	it('leaves no node or credential source unlisted', () => {
		const nodeSources = readdirSync(join(root, 'nodes'), { withFileTypes: true })
			.filter((d) => d.isDirectory() && d.name !== 'shared')
			.map((d) => d.name);
		expect(nodeSources.sort()).toEqual(Object.keys(NODES).sort());
		const credentialSources = readdirSync(join(root, 'credentials')).filter((f) =>
			f.endsWith('.credentials.ts'),
		);
		expect(credentialSources.map((f) => f.replace('.credentials.ts', '')).sort()).toEqual(
			Object.keys(CREDENTIALS).sort(),
		);
	});

	it('keeps n8n-workflow a peer dependency and ships dist', () => {
		expect(pkg.peerDependencies?.['n8n-workflow']).toBeDefined();
		expect(pkg.files).toContain('dist');
	});

	it('installs nothing but itself (its libraries are bundled in dist/vendor, with their licences), and the installed CLI reads an encrypted split export with a PKCS#12 key', () => {
		expect(pkg).not.toHaveProperty('dependencies');
		const dir = tempDir('cx-package-install-');
		try {
			const tarball =
				execFileSync(
					'npm',
					['pack', '--ignore-scripts', '--silent', '--pack-destination', dir.path],
					{ cwd: root, encoding: 'utf8' },
				)
					.trim()
					.split('\n')
					.pop() ?? '';
			const app = join(dir.path, 'app');
			execFileSync('npm', ['init', '-y'], {
				cwd: dir.path,
				stdio: 'ignore',
				env: { ...process.env, npm_config_init_module: '' },
			});
			execFileSync(
				'npm',
				[
					'install',
					'--prefix',
					app,
					'--omit=dev',
					'--omit=peer',
					'--legacy-peer-deps',
					'--no-audit',
					'--no-fund',
					'--ignore-scripts',
					join(dir.path, tarball),
				],
				{ cwd: dir.path, stdio: 'ignore' },
			);
			const installed = readdirSync(join(app, 'node_modules')).filter(
				(name) => !name.startsWith('.'),
			);
			expect(installed).toEqual([pkg.name]);
			const notices = readFileSync(
				join(app, 'node_modules', pkg.name, 'dist', 'vendor', 'THIRD-PARTY-NOTICES.md'),
				'utf8',
			);
			for (const library of ['zod', 'yauzl', 'node-forge'])
				expect(notices).toContain(`## ${library} `);

			// zod (loaded with the core), yauzl (reading the zip) and node-forge (the .p12 key) all run from the bundle.
			const recipient = makeRecipient(dir.path, 'installed');
			const exported = makeExport(dir.path, recipient, { records: 1500, split: '128k' });
			const p12 = join(dir.path, 'key.p12');
			openssl([
				'pkcs12',
				'-export',
				'-inkey',
				recipient.keyPath,
				'-in',
				recipient.certPath,
				'-out',
				p12,
				'-passout',
				'pass:secret',
			]);
			const cli = join(app, 'node_modules', pkg.name, 'bin', 'cx-export.js');
			const lines = execFileSync(
				process.execPath,
				[cli, 'records', '--key', p12, '--passphrase', 'secret', ...exported.encryptedParts],
				{ encoding: 'utf8', maxBuffer: 1 << 28 },
			)
				.trim()
				.split('\n');
			expect(lines.map((line) => JSON.parse(line))).toEqual(exported.records);
		} finally {
			dir.remove();
		}
	}, 120_000);

	it('packs its licence and readme, and no source maps (they would point at .ts files it does not ship)', () => {
		const [packed] = JSON.parse(
			execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
				cwd: root,
				encoding: 'utf8',
			}),
		) as Array<{ files: Array<{ path: string }> }>;
		const paths = packed.files.map((f) => f.path);
		expect(paths).toEqual(
			expect.arrayContaining([
				'LICENSE',
				'README.md',
				'package.json',
				'bin/cx-export.js',
				'dist/src/index.js',
			]),
		);
		expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
		expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
	});
});
