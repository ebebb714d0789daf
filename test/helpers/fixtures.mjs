// @ts-check
/**
 * Key pairs and Genesys-style encrypted exports made by the real tools (OpenSSL, Info-ZIP), for the
 * tests, the benchmark, the e2e run and the CLI demo alike. Plain JavaScript with JSDoc types, so
 * that `node` runs it without a build (bench/, test/e2e/, scripts/) and tsc checks it with the
 * tests (tsconfig.test.json: allowJs).
 *
 * A Genesys export: JSON Lines files → Info-ZIP `zip -s <size>` split parts (`<name>.z01` …
 * `<name>.zip`) → each part encrypted with `openssl smime -encrypt -binary -aes256` to
 * `<part>.smime`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * Runs the OpenSSL command line and returns what it writes to standard output.
 * @param {string[]} args
 * @param {{ input?: Buffer | string; cwd?: string }} [options]
 * @returns {Buffer}
 */
export function openssl(args, options = {}) {
	return execFileSync('openssl', args, {
		input: options.input,
		cwd: options.cwd,
		maxBuffer: 1 << 30,
		stdio: ['pipe', 'pipe', 'pipe'],
	});
}

/**
 * A new empty directory under the system's temporary directory.
 * @param {string} [prefix]
 * @returns {{ path: string; remove(): void }}
 */
export function tempDir(prefix = 'cx-export-test-') {
	const path = mkdtempSync(join(tmpdir(), prefix));
	return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Writes `data` to `dir/name` and returns the path.
 * @param {string} dir
 * @param {string} name
 * @param {Buffer | string} data
 * @returns {string}
 */
export function writeFile(dir, name, data) {
	const path = join(dir, name);
	writeFileSync(path, data);
	return path;
}

/**
 * An RSA key (PEM, no passphrase) and a self-signed certificate, the way a Genesys admin makes
 * them: `openssl req -x509 -newkey rsa:<bits> -nodes`.
 * @param {{ keyPath: string; certPath: string; subject: string; bits?: number; days?: number }} options
 * @returns {{ keyPath: string; certPath: string }}
 */
export function makeKeyPair({ keyPath, certPath, subject, bits = 2048, days = 30 }) {
	openssl([
		'req',
		'-x509',
		'-newkey',
		`rsa:${bits}`,
		'-nodes',
		'-keyout',
		keyPath,
		'-out',
		certPath,
		'-subj',
		subject,
		'-days',
		String(days),
	]);
	return { keyPath, certPath };
}

/**
 * @typedef {object} Recipient A key pair of the tests, on disk and read.
 * @property {string} name
 * @property {string} keyPath
 * @property {string} certPath
 * @property {Buffer} key
 * @property {Buffer} cert
 */

/**
 * A key pair in `dir` (`<name>.key.pem`, `<name>.cert.pem`, subject `/CN=<name>/O=CX Export Tests`).
 * @param {string} dir
 * @param {string} name
 * @param {number} [bits]
 * @returns {Recipient}
 */
export function makeRecipient(dir, name, bits = 2048) {
	const { keyPath, certPath } = makeKeyPair({
		keyPath: join(dir, `${name}.key.pem`),
		certPath: join(dir, `${name}.cert.pem`),
		subject: `/CN=${name}/O=CX Export Tests`,
		bits,
	});
	return { name, keyPath, certPath, key: readFileSync(keyPath), cert: readFileSync(certPath) };
}

/**
 * Encrypts the file `input` to `output` (returned) for the certificate at `certPath`, as Genesys
 * encrypts each part of an export: `openssl smime -encrypt -binary -aes256` (S/MIME, base64). With
 * `outform`, `openssl cms` writing that form instead (the other forms users hand a decryptor).
 * @param {string} input
 * @param {string} output
 * @param {string} certPath
 * @param {{ outform?: 'PEM' | 'DER' }} [options]
 * @returns {string}
 */
export function encryptFile(input, output, certPath, { outform } = {}) {
	openssl([
		outform ? 'cms' : 'smime',
		'-encrypt',
		'-binary',
		'-aes256',
		'-in',
		input,
		...(outform ? ['-outform', outform] : []),
		'-out',
		output,
		certPath,
	]);
	return output;
}

/**
 * Encrypts each file of `parts` (encryptFile) into `dir` as `<its name>.smime`; the encrypted
 * files' paths, in the same order.
 * @param {string[]} parts
 * @param {string} dir
 * @param {string} certPath
 * @returns {string[]}
 */
export function encryptParts(parts, dir, certPath) {
	mkdirSync(dir, { recursive: true });
	return parts.map((part) => encryptFile(part, join(dir, `${basename(part)}.smime`), certPath));
}

/**
 * The parts of split archive `<base>.zip` in `dir`, in disk order (`.z01` … then `.zip`); only
 * `<base>.zip` when it is not split.
 * @param {string} dir
 * @param {string} base
 * @returns {string[]}
 */
export function splitPartNames(dir, base) {
	const numbered = readdirSync(dir)
		.filter((n) => n.startsWith(`${base}.z`) && /\.z\d\d+$/.test(n))
		.sort(
			(a, b) => Number(a.slice(a.lastIndexOf('.z') + 2)) - Number(b.slice(b.lastIndexOf('.z') + 2)),
		);
	return [...numbered, `${base}.zip`];
}

/**
 * Info-ZIP `zip -q [flags] [-s <size>] <zipPath> <entries…>`, run in `dir`: the files `entries`
 * (relative to `dir`) zipped into `zipPath`, split into parts of `size` ('100m', '64k') when given.
 * With `stdin`, the names go to zip on its standard input (`-@`), for more than a command line
 * holds. Returns the parts' paths in disk order.
 * @param {string} dir
 * @param {string} zipPath
 * @param {string[]} entries
 * @param {{ size?: string; flags?: string[]; stdin?: boolean }} [options]
 * @returns {string[]}
 */
export function zipParts(dir, zipPath, entries, { size, flags = [], stdin = false } = {}) {
	execFileSync(
		'zip',
		['-q', ...flags, ...(size ? ['-s', size] : []), zipPath, ...(stdin ? ['-@'] : entries)],
		{
			cwd: dir,
			input: stdin ? entries.join('\n') : undefined,
			maxBuffer: 1 << 26,
			stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
		},
	);
	const folder = dirname(zipPath);
	return splitPartNames(folder, basename(zipPath, '.zip')).map((name) => join(folder, name));
}

/**
 * A Genesys export of the files `names` in `sourceDir`: zipped into `<plainDir>/<exportName>.zip`
 * in parts of `size` (one zip without it), each part encrypted into `encDir` (encryptParts).
 * @param {{ sourceDir: string; names: string[]; exportName: string; plainDir: string; encDir: string; certPath: string; size?: string }} options
 * @returns {{ plainParts: string[]; encryptedParts: string[] }}
 */
export function encryptedExport({
	sourceDir,
	names,
	exportName,
	plainDir,
	encDir,
	certPath,
	size,
}) {
	const plainParts = zipParts(sourceDir, join(plainDir, `${exportName}.zip`), names, { size });
	return { plainParts, encryptedParts: encryptParts(plainParts, encDir, certPath) };
}

/**
 * `count` CDDS-like interaction records (a little poorly compressible text each, so that split
 * parts fill up) and their JSON Lines.
 * @param {number} count
 * @param {string} [seed] part of each IXNID
 * @returns {{ lines: string; records: Record<string, unknown>[] }}
 */
export function makeRecords(count, seed = 'x') {
	/** @type {Record<string, unknown>[]} */
	const records = [];
	for (let i = 0; i < count; i++) {
		records.push({
			IXNID: `000${seed}${i.toString(36).padStart(8, '0')}`,
			STATUS: 3,
			MEDIATYPEID: ['email', 'chat', 'voice'][i % 3],
			STARTDATE: '2026-10-01 08:31:20.78',
			SUBJECT: `Request ${i} — ünïcode ✓`,
			// Poorly compressible, so that split parts fill up.
			TEXT: randomBytes(200 + (i % 7) * 50).toString('base64'),
			ALLATTRIBUTES: JSON.stringify({ k: i }),
			TENANTID: 101,
		});
	}
	return { lines: records.map((r) => `${JSON.stringify(r)}\n`).join(''), records };
}

/**
 * @typedef {object} ExportFixture A Genesys-style export made by makeExport.
 * @property {string} exportName
 * @property {Record<string, Buffer>} files Source JSON Lines files: name → content.
 * @property {unknown[]} records Every record, in the order the files were zipped.
 * @property {string[]} plainParts
 * @property {string[]} encryptedParts
 */

/**
 * A Genesys-style export in `dir` for `recipient`: an Interaction file of `records` records (2000)
 * and a Contact file of a quarter as many (makeRecords), zipped in parts of `split` (one zip
 * without it) and encrypted (encryptedExport).
 * @param {string} dir
 * @param {Pick<Recipient, 'certPath'>} recipient
 * @param {{ records?: number; split?: string; name?: string }} [options]
 * @returns {ExportFixture}
 */
export function makeExport(dir, recipient, options = {}) {
	const exportName = options.name ?? 'export-2b710a2c-0e7f-4918-983c-c02d108eaeb0';
	const jobId = '2b710a2c-0e7f-4918-983c-c02d108eaeb0';
	const src = join(dir, `${exportName}-src`);
	const plain = join(dir, `${exportName}-plain`);
	const enc = join(dir, `${exportName}-enc`);
	for (const d of [src, plain, enc]) mkdirSync(d, { recursive: true });
	const n = options.records ?? 2000;
	const interactions = makeRecords(n, 'a');
	const contacts = makeRecords(Math.ceil(n / 4), 'c');
	/** @type {Record<string, Buffer>} */
	const files = {
		[`Interaction-${jobId}.json`]: Buffer.from(interactions.lines),
		[`Contact-${jobId}.json`]: Buffer.from(contacts.lines),
	};
	for (const [name, data] of Object.entries(files)) writeFileSync(join(src, name), data);
	const { plainParts, encryptedParts } = encryptedExport({
		sourceDir: src,
		names: Object.keys(files),
		exportName,
		plainDir: plain,
		encDir: enc,
		certPath: recipient.certPath,
		size: options.split,
	});
	return {
		exportName,
		files,
		records: [...interactions.records, ...contacts.records],
		plainParts,
		encryptedParts,
	};
}
