// The exports of the n8n benchmark, made once under .bench/n8n/ and kept (delete to regenerate):
//   records-<N>/  the JSON Lines files of an export of exactly N records (bench/generate.mjs' mix),
//                 with DONE: { records, jsonBytes, files, truth } (truth: the order-independent digest)
//   zip-<N>/      those files as one plain zip (what a user has after decrypting and reassembling)
// (The large exports of the CLI + COPY and workflow routes are the simulator's: see n8n.mjs.)
import {
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	rmSync,
	statSync,
	writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipParts } from '../test/helpers/fixtures.mjs';
import { ensureKey, generateRecordCount } from './generate.mjs';
import { digestFiles } from './rows.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const work = join(root, '.bench');
export const data = join(work, 'n8n');
const MiB = 1024 * 1024;

function done(dir) {
	const path = join(dir, 'DONE');
	return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

export function key() {
	return ensureKey(work);
}

/** The JSON Lines files of an export of `n` records, and what they hold. */
export async function records(n) {
	const dir = join(data, `records-${n}`);
	const known = done(dir);
	if (known) return { dir, ...known };
	rmSync(dir, { recursive: true, force: true });
	console.error(
		`[bench] generating ${n} records (~${Math.round((n * 1764) / MiB)} MiB of JSON Lines)…`,
	);
	const made = await generateRecordCount(dir, n);
	if (made.records !== n) throw new Error(`generated ${made.records} records, wanted ${n}`);
	const files = readdirSync(dir)
		.sort()
		.map((f) => join(dir, f));
	const jsonBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
	console.error(`[bench] digest of the ${n} records (canonical JSON, SHA-256 each)…`);
	const truth = await digestFiles(files);
	if (truth.count !== n) throw new Error(`the files hold ${truth.count} records, wanted ${n}`);
	const info = { records: n, jsonBytes, files, truth };
	writeFileSync(join(dir, 'DONE'), JSON.stringify(info, null, 1));
	return { dir, ...info };
}

/** The export as one plain zip. */
export async function plainZip(n) {
	const dir = join(data, `zip-${n}`);
	const source = await records(n);
	const known = done(dir);
	if (known) return { dir, ...known, source };
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	const zip = join(dir, `export-${n}.zip`);
	console.error(`[bench] zipping ${n} records into ${zip}…`);
	zipParts(
		source.dir,
		zip,
		source.files.map((f) => f.split('/').pop()),
	);
	const info = { zip, zipBytes: statSync(zip).size };
	writeFileSync(join(dir, 'DONE'), JSON.stringify(info, null, 1));
	return { dir, ...info, source };
}
