#!/usr/bin/env node
// `npm run bench`: cx-export against the tools people use today, side by side, in one run.
//  (a) decrypt: `cx-export decrypt` vs `openssl smime -decrypt` on one ~500 MiB S/MIME file (and 125 MiB);
//  (c) nodes: the Decrypt S/MIME and Reassemble Export n8n nodes on the same files (as n8n runs
//      them, binary data on disk), to show their memory stays flat as the input grows;
//  (b) records: `cx-export records` on the encrypted split parts vs the documented route
//      (openssl smime -decrypt per part, `zip -s 0` merge, `unzip -p`, `jq -c .`), for exports of
//      250 MiB, 1 GiB and 5 GiB of JSON (`--sizes` chooses).
//  (d) reassemble: `cx-export reassemble` of the same exports with every entry's CRC-32 checked
//      (the default) and with --no-verify, to show what the check costs.
// Wall time and peak RSS (summed over the whole process tree, sampled every 20 ms) for each.
// Data lives in .bench/ (kept between runs; delete it to regenerate). Results: .bench/results.md.
// Then bench/n8n.mjs: large exports through real n8n (results: .bench/n8n-results.md).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
	createReadStream,
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	statSync,
	writeFileSync,
} from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKey, generateRecords, makeEncryptedExport, sh } from './generate.mjs';
import { treeRss } from './procs.mjs';
import { encryptFile } from '../test/helpers/fixtures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, '.bench');
const cli = join(root, 'bin/cx-export.js');
const MiB = 1024 * 1024;

/**
 * Before a timed run that writes files: its outputs removed (each run then writes a new file, where
 * replacing one makes ext4 write the new file's data out at the rename, ~1 s of system time per
 * 500 MiB here), and `sync`, so that no run pays for the writeback of the one before.
 */
function settle(outputs) {
	for (const path of outputs) rmSync(path, { force: true });
	spawnSync('sync');
}

/**
 * Runs a command line `times` times, each after settle(outputs): the median wall time and the
 * highest peak RSS.
 */
async function measureMedian(commandLine, outputs = [], times = 3) {
	const runs = [];
	for (let i = 0; i < times; i++) {
		settle(outputs);
		runs.push(await measure(commandLine));
	}
	const seconds = runs.map((r) => r.seconds).sort((a, b) => a - b)[Math.floor(times / 2)];
	return { seconds, peak: Math.max(...runs.map((r) => r.peak)) };
}

/** Runs a shell command line; returns wall seconds and peak tree RSS in bytes. */
function measure(commandLine) {
	return new Promise((resolve, reject) => {
		const started = process.hrtime.bigint();
		const child = spawn('bash', ['-o', 'pipefail', '-c', commandLine], {
			stdio: ['ignore', 'ignore', 'pipe'],
		});
		let stderr = '';
		child.stderr.on('data', (d) => (stderr += d));
		let peak = 0;
		const timer = setInterval(() => (peak = Math.max(peak, treeRss(child.pid))), 20);
		child.on('exit', (code) => {
			clearInterval(timer);
			const seconds = Number(process.hrtime.bigint() - started) / 1e9;
			if (code !== 0) reject(new Error(`failed (${code}): ${commandLine}\n${stderr}`));
			else resolve({ seconds, peak });
		});
	});
}

async function sha256(path) {
	const hash = createHash('sha256');
	for await (const chunk of createReadStream(path)) hash.update(chunk);
	return hash.digest('hex');
}

const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
const fmtS = (s) => `${s.toFixed(1)} s`;
const fmtM = (b) => `${Math.round(b / MiB)} MiB`;

async function prepare(label, bytes, certPath) {
	const dir = join(work, label);
	if (existsSync(join(dir, 'DONE')))
		return { dir, ...JSON.parse(readFileSync(join(dir, 'DONE'), 'utf8')) };
	rmSync(dir, { recursive: true, force: true });
	console.error(`generating ${label}: ~${fmtM(bytes)} of JSON Lines…`);
	const recordsDir = join(dir, 'records');
	await generateRecords(recordsDir, bytes);
	console.error(`zipping into 100 MiB parts and encrypting each with openssl smime -aes256…`);
	const made = makeEncryptedExport(recordsDir, dir, certPath);
	rmSync(join(dir, 'plain'), { recursive: true, force: true });
	const jsonBytes = readdirSync(recordsDir).reduce(
		(n, f) => n + statSync(join(recordsDir, f)).size,
		0,
	);
	rmSync(recordsDir, { recursive: true, force: true });
	const info = { ...made, jsonBytes };
	writeFileSync(join(dir, 'DONE'), JSON.stringify(info));
	return { dir, ...info };
}

/** The exports of sections (b), (c) and (d): memory must stay flat from 250 MiB to 5 GiB (issue 14). */
const EXPORT_SIZES = { '250m': 250 * MiB, '1g': 1024 * MiB, '5g': 5 * 1024 * MiB };
let exportSizes = Object.entries(EXPORT_SIZES).map(([size, bytes]) => [`export-${size}`, bytes]);

/** `--sizes 250m,1g`: which exports (all by default); a wrong value fails before anything runs. */
function chooseSizes(args) {
	const at = args.indexOf('--sizes');
	if (at < 0) return args;
	const value = args[at + 1] ?? '';
	const chosen = value.split(',').filter(Boolean);
	const unknown = chosen.filter((size) => !(size in EXPORT_SIZES));
	if (chosen.length === 0 || unknown.length > 0)
		throw new Error(
			`--sizes takes some of ${Object.keys(EXPORT_SIZES).join(',')} (got ${JSON.stringify(value)})`,
		);
	exportSizes = chosen.map((size) => [`export-${size}`, EXPORT_SIZES[size]]);
	return [...args.slice(0, at), ...args.slice(at + 2)];
}

async function main() {
	// `npm run bench -- --no-n8n`: the CLI sections only; `-- --n8n-only`: the n8n sections only
	// (bench/n8n.mjs: the plain item path and the large export through n8n; its options follow,
	// e.g. `-- --n8n-only --items 20000 --chunks 20000,50000` for a quick run).
	const args = chooseSizes(process.argv.slice(2));
	const noN8n = args.includes('--no-n8n');
	const n8nOnly = args.includes('--n8n-only');
	const n8nArgs = args.filter((a) => a !== '--no-n8n' && a !== '--n8n-only');
	if (args.includes('--help') || args.includes('-h')) {
		console.log(
			'npm run bench [-- --no-n8n | --n8n-only] [--sizes 250m,1g,5g] [options of bench/n8n.mjs]\n' +
				'  --no-n8n    the CLI sections only (.bench/results.md)\n' +
				'  --n8n-only  the n8n sections only (.bench/n8n-results.md)\n' +
				'  --sizes     the exports of the CLI sections (all three by default; 5g needs ~15 GB of disk)\n',
		);
		n8nArgs.push('--help');
	}
	// Options of the n8n part are checked before anything runs (a typo fails now, not after the CLI sections).
	const n8n = await import('./n8n.mjs');
	n8n.options(n8nArgs);
	if (!n8nOnly) await cliSections();
	if (!noN8n) await n8n.main(n8nArgs);
}

async function cliSections() {
	mkdirSync(work, { recursive: true });
	const { keyPath, certPath } = ensureKey(work);
	const rows = [];
	const out = join(work, 'out');
	mkdirSync(out, { recursive: true });

	// (a) decrypt, on the largest part-free file: the JSON of a generated export cut to size.
	const decryptRows = [];
	for (const size of [125, 500]) {
		const file = join(work, `decrypt-${size}m.smime`);
		if (!existsSync(file)) {
			const plain = join(work, `decrypt-${size}m.bin`);
			sh('bash', ['-c', `head -c ${size}M /dev/urandom > ${q(plain)}`]);
			encryptFile(plain, file, certPath);
			rmSync(plain);
		}
		const a = await measureMedian(
			`openssl smime -decrypt -binary -inkey ${q(keyPath)} -in ${q(file)} -out ${q(join(out, 'openssl.bin'))}`,
			[join(out, 'openssl.bin')],
		);
		const b = await measureMedian(
			`${q(cli)} decrypt --key ${q(keyPath)} ${q(file)} -o ${q(join(out, 'cx.bin'))}`,
			[join(out, 'cx.bin')],
		);
		const cxHash = await sha256(join(out, 'cx.bin'));
		const same = (await sha256(join(out, 'openssl.bin'))) === cxHash;
		// The same without the disk: what each tool itself costs.
		const an = await measureMedian(
			`openssl smime -decrypt -binary -inkey ${q(keyPath)} -in ${q(file)} -out /dev/null`,
		);
		const bn = await measureMedian(`${q(cli)} decrypt --key ${q(keyPath)} ${q(file)} > /dev/null`);
		decryptRows.push({ size, a, b, an, bn, same, input: statSync(file).size, file, cxHash });
		rmSync(join(out, 'openssl.bin'));
		rmSync(join(out, 'cx.bin'));
	}

	// (b) records.
	const recordRows = [];
	for (const [label, bytes] of exportSizes) {
		const ex = await prepare(label, bytes, certPath);
		const parts = ex.parts;
		const cxOut = join(out, 'cx.jsonl');
		const b = await measureMedian(
			`${q(cli)} records --key ${q(keyPath)} ${parts.map(q).join(' ')} > ${q(cxOut)}`,
			[cxOut],
		);
		const doc = join(out, 'documented');
		rmSync(doc, { recursive: true, force: true });
		mkdirSync(doc);
		const docOut = join(out, 'doc.jsonl');
		const decryptAll = parts
			.map(
				(p) =>
					`openssl smime -decrypt -binary -inkey ${q(keyPath)} -in ${q(p)} -out ${q(
						join(
							doc,
							p
								.split('/')
								.pop()
								.replace(/\.smime$/, ''),
						),
					)}`,
			)
			.join(' && ');
		const last = join(doc, `${ex.exportName}.zip`);
		settle([]);
		const a1 = await measure(decryptAll);
		settle([]);
		const a2 = await measure(`cd ${q(doc)} && zip -q -s 0 ${q(last)} --out merged.zip`);
		// Info-ZIP 3.0's `zip -s 0` writes a corrupt archive when an entry spans more than two
		// parts. Record that, and time unzip | jq on a correctly merged zip of the same layout
		// (cx-export reassemble's output is byte-identical to zip -s 0's wherever zip -s 0 works).
		const mergeCorrupt = spawnSync('unzip', ['-tq', join(doc, 'merged.zip')]).status !== 0;
		if (mergeCorrupt) {
			sh(cli, [
				'reassemble',
				...parts.map((p) =>
					join(
						doc,
						p
							.split('/')
							.pop()
							.replace(/\.smime$/, ''),
					),
				),
				'-o',
				join(doc, 'merged.zip.ok'),
			]);
			renameSync(join(doc, 'merged.zip.ok'), join(doc, 'merged.zip'));
		}
		settle([docOut]);
		const a3 = await measure(`unzip -p ${q(join(doc, 'merged.zip'))} | jq -c . > ${q(docOut)}`);
		const a = {
			seconds: a1.seconds + a2.seconds + a3.seconds,
			peak: Math.max(a1.peak, a2.peak, a3.peak),
			steps: [a1, a2, a3],
			mergeCorrupt,
		};
		const same = (await sha256(cxOut)) === (await sha256(docOut));
		const lines = Number(
			sh('bash', ['-c', `wc -l < ${q(cxOut)}`])
				.toString()
				.trim(),
		);
		recordRows.push({
			label,
			a,
			b,
			same,
			parts: parts.length,
			jsonBytes: ex.jsonBytes,
			lines,
			partBytes: parts.reduce((n, p) => n + statSync(p).size, 0),
		});
		rmSync(doc, { recursive: true, force: true });
		rmSync(cxOut);
		rmSync(docOut);
	}

	// (d) reassemble, with and without checking every entry's data (inflate + CRC-32 while writing).
	const reassembleRows = [];
	for (const [label, bytes] of exportSizes) {
		const ex = await prepare(label, bytes, certPath);
		const target = join(out, 'reassembled.zip');
		const run = (flags) =>
			`${q(cli)} reassemble --key ${q(keyPath)} ${flags} ${ex.parts.map(q).join(' ')} -o ${q(target)}`;
		const checked = await measureMedian(run(''), [target]);
		const unchecked = await measureMedian(run('--no-verify'), [target]);
		reassembleRows.push({
			label,
			checked,
			unchecked,
			parts: ex.parts.length,
			jsonBytes: ex.jsonBytes,
			zipBytes: statSync(target).size,
		});
		rmSync(target);
	}

	// (c) the nodes, as n8n runs them (binary data in files), on the same inputs.
	const tsx = join(root, 'node_modules/.bin/tsx');
	const nodeRows = [];
	const runNode = async (mode, files) => {
		const result = join(out, 'node-result.json');
		rmSync(result, { force: true });
		const m = await measure(
			`CX_BENCH_TMP=${q(out)} ${q(tsx)} ${q(join(root, 'bench/nodes.ts'))} ${mode} ${q(keyPath)} ${q(result)} ${files.map(q).join(' ')}`,
		);
		return { ...m, ...JSON.parse(readFileSync(result, 'utf8')) };
	};
	for (const r of decryptRows) {
		const n = await runNode('decrypt', [r.file]);
		nodeRows.push({
			node: 'Decrypt S/MIME',
			input: `${r.size} MiB plaintext (${fmtM(r.input)} S/MIME)`,
			inputBytes: r.input,
			...n,
			same: n.outputSha256 === r.cxHash,
		});
	}
	for (const [label, bytes] of exportSizes) {
		const ex = await prepare(label, bytes, certPath);
		const ref = join(out, 'reference.zip');
		sh(cli, ['reassemble', '--key', keyPath, ...ex.parts, '-o', ref]);
		const refHash = await sha256(ref);
		rmSync(ref);
		const n = await runNode('reassemble', ex.parts);
		const inputBytes = ex.parts.reduce((sum, p) => sum + statSync(p).size, 0);
		nodeRows.push({
			node: 'Reassemble Export (merged zip)',
			input: `${ex.parts.length} encrypted parts, ${fmtM(inputBytes)}`,
			inputBytes,
			...n,
			same: n.outputSha256 === refHash,
		});
	}

	const cpu = cpus()[0]?.model ?? 'unknown CPU';
	const lines = [];
	lines.push(
		`Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, Linux ${release()}, Node ${process.version}, ${sh('openssl', ['version']).toString().trim()}.`,
	);
	lines.push(`Run: ${new Date().toISOString()}`);
	lines.push('');
	lines.push(
		'(a) decrypt one S/MIME file (AES-256-CBC, base64 S/MIME as `openssl smime -encrypt -binary -aes256` writes it)',
	);
	lines.push('');
	lines.push(
		'| input | output | openssl smime -decrypt | cx-export decrypt | speed-up | same bytes |',
	);
	lines.push('|---|---|---|---|---|---|');
	for (const r of decryptRows) {
		const input = `${r.size} MiB plaintext (${fmtM(r.input)} S/MIME)`;
		lines.push(
			`| ${input} | file | ${fmtS(r.a.seconds)}, peak ${fmtM(r.a.peak)} | ${fmtS(r.b.seconds)}, peak ${fmtM(r.b.peak)} | ${(r.a.seconds / r.b.seconds).toFixed(1)}× | ${r.same ? 'yes' : '**NO**'} |`,
		);
		lines.push(
			`| ${input} | /dev/null | ${fmtS(r.an.seconds)}, peak ${fmtM(r.an.peak)} | ${fmtS(r.bn.seconds)}, peak ${fmtM(r.bn.peak)} | ${(r.an.seconds / r.bn.seconds).toFixed(1)}× | |`,
		);
	}
	lines.push('');
	lines.push('Times are the median of 3 runs; peak RSS is the highest of them.');
	lines.push('');
	lines.push(
		'(b) every record of an encrypted split export, as compact JSON Lines on stdout (cx-export: median of 3 runs; the documented route: one run)',
	);
	lines.push('');
	lines.push(
		'| export | documented route (openssl per part → zip -s 0 → unzip -p → jq -c) | cx-export records | speed-up | same output |',
	);
	lines.push('|---|---|---|---|---|');
	for (const r of recordRows) {
		const steps = r.a.steps.map((s) => fmtS(s.seconds)).join(' + ');
		const corrupt = r.a.mergeCorrupt ? ' ¹' : '';
		lines.push(
			`| ${fmtM(r.jsonBytes)} JSON, ${r.lines} records, ${r.parts} parts (${fmtM(r.partBytes)} encrypted) | ${fmtS(r.a.seconds)} (${steps})${corrupt}, peak ${fmtM(r.a.peak)} | ${fmtS(r.b.seconds)}, peak ${fmtM(r.b.peak)} | ${(r.a.seconds / r.b.seconds).toFixed(1)}× | ${r.same ? 'yes' : '**NO**'} |`,
		);
	}
	if (recordRows.some((r) => r.a.mergeCorrupt)) {
		lines.push('');
		lines.push(
			'¹ `zip -s 0` wrote a corrupt archive (`unzip -t` fails: an entry spans more than two parts); the unzip | jq step was timed on a correctly merged zip of the same layout.',
		);
	}
	lines.push('');
	lines.push(
		'(d) `cx-export reassemble` of the encrypted split export into one zip: every entry inflated and its CRC-32 checked while writing (the default), and with `--no-verify` (median of 3 runs)',
	);
	lines.push('');
	lines.push('| export | checked (default) | --no-verify | cost of checking |');
	lines.push('|---|---|---|---|');
	for (const r of reassembleRows) {
		const cost = r.checked.seconds - r.unchecked.seconds;
		lines.push(
			`| ${fmtM(r.jsonBytes)} JSON in ${r.parts} parts (${fmtM(r.zipBytes)} zip) | ${fmtS(r.checked.seconds)}, peak ${fmtM(r.checked.peak)} | ${fmtS(r.unchecked.seconds)}, peak ${fmtM(r.unchecked.peak)} | ${cost >= 0 ? '+' : ''}${fmtS(cost)} (${Math.round((cost / r.unchecked.seconds) * 100)}%) |`,
		);
	}
	lines.push('');
	lines.push(
		'(c) the n8n nodes on the same files, run as n8n runs them (binary data in files; input copied into the binary store first, output read back and hashed)',
	);
	lines.push('');
	lines.push(
		'| node | input | node time | peak RSS of the whole process | output | same bytes as cx-export |',
	);
	lines.push('|---|---|---|---|---|---|');
	for (const r of nodeRows) {
		lines.push(
			`| ${r.node} | ${r.input} | ${fmtS(r.seconds)} | ${fmtM(r.peak)} | ${fmtM(r.outputBytes)} in ${r.items} item(s) | ${r.same ? 'yes' : '**NO**'} |`,
		);
	}
	const text = lines.join('\n');
	writeFileSync(join(work, 'results.md'), `${text}\n`);
	console.log(text);
	if (
		decryptRows.some((r) => !r.same) ||
		recordRows.some((r) => !r.same) ||
		nodeRows.some((r) => !r.same)
	) {
		console.error('\noutputs differ: see above');
		process.exitCode = 1;
	}
}

main().catch((error) => {
	console.error(error.message);
	process.exit(1);
});
