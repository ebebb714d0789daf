/**
 * The seed inputs of the fuzz run, made by the real tools as Genesys and users make them: Info-ZIP
 * `zip` (deflated, stored, forced Zip64) and `zip -s 64k` split sets, each part encrypted by
 * `openssl smime -encrypt -binary -aes256`; the whole zip encrypted by `openssl smime` and
 * `openssl cms` in every form the reader takes (DER, BER `-stream`, PEM, AES-GCM, RSA-OAEP,
 * `-keyid`); JSON Lines alone and encrypted; the key as passphrase-protected PKCS#8 PEM and as
 * PKCS#12.
 *
 * OpenSSL's output is random (content keys, IVs), so `npm run fuzz` keeps its seeds in a cache
 * directory: a failure found with `--seed S` is replayed on the very same bytes.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDecryptionKey, type DecryptionKey } from '../../src/cms';
import { encryptFile, encryptParts, makeRecords, splitPartNames } from '../helpers/fixtures.mjs';

export interface Input {
	name: string;
	data: Buffer;
}

export const CMS_VARIANTS = [
	'smimeCbc',
	'derCbc',
	'berStream',
	'derGcm',
	'pemGcm',
	'oaep',
	'keyid',
] as const;
export type CmsVariant = (typeof CMS_VARIANTS)[number];
/** Variants that authenticate their content: a change that gets through must change nothing. */
export const AUTHENTICATED: ReadonlySet<CmsVariant> = new Set(['derGcm', 'pemGcm']);
export const ZIP_VARIANTS = ['deflated', 'stored', 'zip64'] as const;
export type ZipVariant = (typeof ZIP_VARIANTS)[number];

export interface Seeds {
	dir: string;
	passphrase: string;
	key: DecryptionKey;
	certificate: X509Certificate;
	keyFiles: { pem: Buffer; p12: Buffer; cert: Buffer };
	exportName: string;
	/** Entries of every zip seed: name → content. */
	files: Map<string, Buffer>;
	/** What `records` yields for the zip seeds: each record's raw line and a line break, in archive order. */
	records: Buffer;
	/** The records of the lone JSON Lines seed, the same way. */
	jsonlRecords: Buffer;
	zips: Record<ZipVariant, Buffer>;
	/** `zip -s 64k` of the same entries: .z01, .z02, … and the final .zip. */
	split: Input[];
	/** Each part of `split` encrypted on its own (`<part>.smime`). */
	splitEncrypted: Input[];
	/** Another export with the same name and different content, split the same way. */
	foreign: Input[];
	/** The deflated zip, encrypted whole. */
	messages: Record<CmsVariant, Buffer>;
	jsonl: Buffer;
	jsonlEncrypted: Buffer;
}

const VERSION = 1;
const JOB = '2b710a2c-0e7f-4918-983c-c02d108eaeb0';
const EXPORT_NAME = `export-${JOB}`;
const PASSPHRASE = 'fuzz-Passphrase-9f3c1e77';

function run(command: string, args: string[], cwd?: string, input?: Buffer): Buffer {
	return execFileSync(command, args, {
		cwd,
		input,
		maxBuffer: 1 << 28,
		stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
	});
}

/** `openssl` with the passphrase given as `pass:` (a test key). */
function openssl(args: string[], cwd?: string): Buffer {
	return run('openssl', args, cwd);
}

/** Writes the seeds into `dir` (which must be empty or missing). */
function build(dir: string): void {
	mkdirSync(dir, { recursive: true });
	const pass = `pass:${PASSPHRASE}`;
	// The key: RSA 2048, passphrase-protected PKCS#8 PEM; a self-signed certificate; PKCS#12 of both.
	openssl(
		[
			'genpkey',
			'-algorithm',
			'RSA',
			'-pkeyopt',
			'rsa_keygen_bits:2048',
			'-aes-256-cbc',
			'-pass',
			pass,
			'-out',
			'key.pem',
		],
		dir,
	);
	openssl(
		[
			'req',
			'-x509',
			'-new',
			'-key',
			'key.pem',
			'-passin',
			pass,
			'-subj',
			'/CN=cx-export fuzz/O=CX Export Tests',
			'-days',
			'3650',
			'-out',
			'cert.pem',
		],
		dir,
	);
	openssl(
		[
			'pkcs12',
			'-export',
			'-inkey',
			'key.pem',
			'-passin',
			pass,
			'-in',
			'cert.pem',
			'-passout',
			pass,
			'-out',
			'key.p12',
		],
		dir,
	);

	// The entries: two records files (poorly compressible, so the split set has several parts), a
	// directory and a file that holds no records.
	const content = (name: string, seed: string, count: number) => ({
		name,
		data: Buffer.from(makeRecords(count, seed).lines),
	});
	const makeSource = (at: string, interactions: number) => {
		const src = join(dir, at);
		mkdirSync(join(src, 'attachments'), { recursive: true });
		const entries = [
			content(`Interaction-${JOB}.json`, 'a', interactions),
			content(`Contact-${JOB}.json`, 'c', Math.ceil(interactions / 4)),
			{ name: 'attachments/readme.txt', data: Buffer.from('no records here\n') },
		];
		const time = new Date(Date.UTC(2026, 9, 1, 8, 30));
		for (const e of entries) {
			writeFileSync(join(src, e.name), e.data);
			utimesSync(join(src, e.name), time, time);
		}
		utimesSync(join(src, 'attachments'), time, time);
		return { src, names: [entries[0].name, entries[1].name, 'attachments/', entries[2].name] };
	};
	const main = makeSource('src', 240);
	const zip = (cwd: string, args: string[]) => run('zip', ['-q', '-X', ...args], cwd);
	zip(main.src, [join(dir, 'deflated.zip'), ...main.names]);
	zip(main.src, ['-0', join(dir, 'stored.zip'), ...main.names]);
	zip(main.src, ['-fz', join(dir, 'zip64.zip'), ...main.names]);
	mkdirSync(join(dir, 'split'));
	zip(main.src, ['-s', '64k', join(dir, 'split', `${EXPORT_NAME}.zip`), ...main.names]);
	const foreign = makeSource('src-foreign', 240);
	mkdirSync(join(dir, 'foreign'));
	zip(foreign.src, ['-s', '64k', join(dir, 'foreign', `${EXPORT_NAME}.zip`), ...foreign.names]);

	const splitParts = splitPartNames(join(dir, 'split'), EXPORT_NAME);
	encryptParts(
		splitParts.map((part) => join(dir, 'split', part)),
		join(dir, 'split-enc'),
		join(dir, 'cert.pem'),
	);
	const whole = join(dir, 'deflated.zip');
	const cert = join(dir, 'cert.pem');
	const cms: Record<CmsVariant, string[]> = {
		smimeCbc: ['smime', '-encrypt', '-binary', '-aes256', '-in', whole, cert],
		derCbc: [
			'cms',
			'-encrypt',
			'-binary',
			'-aes128',
			'-outform',
			'DER',
			'-in',
			whole,
			'-recip',
			cert,
		],
		berStream: [
			'cms',
			'-encrypt',
			'-binary',
			'-aes256',
			'-stream',
			'-outform',
			'DER',
			'-in',
			whole,
			'-recip',
			cert,
		],
		derGcm: [
			'cms',
			'-encrypt',
			'-binary',
			'-aes-256-gcm',
			'-outform',
			'DER',
			'-in',
			whole,
			'-recip',
			cert,
		],
		pemGcm: [
			'cms',
			'-encrypt',
			'-binary',
			'-aes-128-gcm',
			'-stream',
			'-outform',
			'PEM',
			'-in',
			whole,
			'-recip',
			cert,
		],
		oaep: [
			'cms',
			'-encrypt',
			'-binary',
			'-aes256',
			'-outform',
			'DER',
			'-in',
			whole,
			'-recip',
			cert,
			'-keyopt',
			'rsa_padding_mode:oaep',
		],
		keyid: [
			'cms',
			'-encrypt',
			'-binary',
			'-aes256',
			'-outform',
			'DER',
			'-keyid',
			'-in',
			whole,
			'-recip',
			cert,
		],
	};
	for (const variant of CMS_VARIANTS)
		writeFileSync(join(dir, `cms-${variant}`), openssl(cms[variant]));
	const lines = readFileSync(join(main.src, `Interaction-${JOB}.json`));
	writeFileSync(join(dir, 'records.jsonl'), lines.subarray(0, lines.lastIndexOf(0x0a, 40_000) + 1));
	encryptFile(join(dir, 'records.jsonl'), join(dir, 'records.jsonl.smime'), cert);
	writeFileSync(
		join(dir, 'manifest.json'),
		JSON.stringify({
			version: VERSION,
			entries: main.names,
			split: splitParts,
		}),
	);
}

/** Each record's line and a line break: what a reader of `lines` yields, joined. */
function recordLines(data: Buffer): Buffer {
	const text = data.toString('utf8');
	const lines = text.split('\n').filter((line) => line.trim() !== '');
	return Buffer.from(lines.map((l) => `${l}\n`).join(''));
}

/**
 * The seeds in `dir`: made there first when `dir` holds none (or an older version). With
 * `fresh`, made again whatever is there.
 */
export function loadSeeds(dir: string, options: { fresh?: boolean } = {}): Seeds {
	const manifestPath = join(dir, 'manifest.json');
	let manifest: { version: number; entries: string[]; split: string[] } | undefined;
	if (!options.fresh && existsSync(manifestPath))
		manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
	if (manifest?.version !== VERSION) {
		rmSync(dir, { recursive: true, force: true });
		build(dir);
		manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
	}
	const read = (...path: string[]) => readFileSync(join(dir, ...path));
	const files = new Map<string, Buffer>();
	for (const name of manifest!.entries)
		files.set(name, name.endsWith('/') ? Buffer.alloc(0) : read('src', name));
	const records = Buffer.concat(
		manifest!.entries.filter((n) => /\.json$/.test(n)).map((n) => recordLines(files.get(n)!)),
	);
	const jsonl = read('records.jsonl');
	const keyFiles = { pem: read('key.pem'), p12: read('key.p12'), cert: read('cert.pem') };
	const parts = (sub: string, suffix = '') =>
		manifest!.split.map((name) => ({
			name: `${name}${suffix}`,
			data: read(sub, `${name}${suffix}`),
		}));
	return {
		dir,
		passphrase: PASSPHRASE,
		key: loadDecryptionKey({
			key: keyFiles.pem,
			passphrase: PASSPHRASE,
			certificate: keyFiles.cert,
			label: 'key.pem',
		}),
		certificate: new X509Certificate(keyFiles.cert),
		keyFiles,
		exportName: EXPORT_NAME,
		files,
		records,
		jsonlRecords: recordLines(jsonl),
		zips: { deflated: read('deflated.zip'), stored: read('stored.zip'), zip64: read('zip64.zip') },
		split: parts('split'),
		splitEncrypted: parts('split-enc', '.smime'),
		foreign: parts('foreign'),
		messages: Object.fromEntries(CMS_VARIANTS.map((v) => [v, read(`cms-${v}`)])) as Record<
			CmsVariant,
			Buffer
		>,
		jsonl,
		jsonlEncrypted: read('records.jsonl.smime'),
	};
}
