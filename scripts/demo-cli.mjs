#!/usr/bin/env node
// `npm run demo:cli`: the whole job with the cx-export command alone, on a fresh machine. Makes a Genesys-style export the way Genesys
// does (CDDS JSON Lines → Info-ZIP split parts → each part S/MIME-encrypted with openssl to a new
// key pair), shuffles the parts, then lets `cx-export` decrypt, reassemble, extract and read every
// record in one streaming pass, and checks the result against the source.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKey, generateRecords, makeEncryptedExport } from '../bench/generate.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin/cx-export.js');
const work = mkdtempSync(join(tmpdir(), 'cx-export-demo-'));
const MiB = 1024 * 1024;

function cx(args, options = {}) {
	return execFileSync(process.execPath, [cli, ...args], {
		maxBuffer: 1 << 30,
		stdio: ['ignore', 'pipe', 'inherit'],
		...options,
	});
}

try {
	const started = Date.now();
	const { keyPath, certPath } = ensureKey(work);
	const recordsDir = join(work, 'records');
	const { files } = await generateRecords(recordsDir, 24 * MiB, 7);
	const sourceLines = Object.keys(files).reduce(
		(n, f) => n + readFileSync(join(recordsDir, f), 'utf8').split('\n').filter(Boolean).length,
		0,
	);
	const exportDir = join(work, 'download');
	const made = makeEncryptedExport(recordsDir, exportDir, certPath, '2m');
	const parts = [...made.parts].sort(() => Math.random() - 0.5);
	console.log(
		`made an export like Genesys does: ${Object.keys(files).length} JSON Lines files, ${sourceLines} records,`,
	);
	console.log(
		`  zipped into ${parts.length} split parts, each encrypted with openssl smime -aes256:`,
	);
	console.log(
		`  ${parts
			.map((p) => p.split('/').pop())
			.slice(0, 3)
			.join(', ')}, … (given to cx-export in shuffled order)\n`,
	);

	const t1 = Date.now();
	const out = cx(['records', '--key', keyPath, ...parts]).toString('utf8');
	const records = out
		.split('\n')
		.filter(Boolean)
		.map((line) => JSON.parse(line));
	const kinds = {};
	for (const r of records) {
		const kind =
			'IXNID' in r
				? 'Interaction'
				: 'CONTENT' in r
					? 'Attachment'
					: 'ContactId' in r
						? 'Contact'
						: 'other';
		kinds[kind] = (kinds[kind] ?? 0) + 1;
	}
	console.log(
		`$ cx-export records --key bench.key.pem <${parts.length} parts>   (${Date.now() - t1} ms)`,
	);
	for (const [kind, n] of Object.entries(kinds)) console.log(`  ${kind.padEnd(12)} ${n} records`);

	const t2 = Date.now();
	const dir = join(work, 'extracted');
	cx(['extract', '--key', keyPath, ...parts, '-d', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
	console.log(
		`\n$ cx-export extract --key bench.key.pem <${parts.length} parts> -d extracted/   (${Date.now() - t2} ms)`,
	);
	let identical = true;
	for (const name of readdirSync(dir)) {
		const same = readFileSync(join(dir, name)).equals(readFileSync(join(recordsDir, name)));
		identical &&= same;
		console.log(
			`  ${name.padEnd(66)} ${String(statSync(join(dir, name)).size).padStart(10)} bytes ${same ? 'identical to the source' : 'DIFFERENT'}`,
		);
	}
	const ok = identical && records.length === sourceLines;
	console.log(
		`\n${ok ? 'OK' : 'FAILED'}: ${records.length} of ${sourceLines} records, files ${identical ? 'byte-identical' : 'differ'}; ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
	);
	process.exitCode = ok ? 0 : 1;
} finally {
	rmSync(work, { recursive: true, force: true });
}
