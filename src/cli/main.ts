/**
 * `cx-export`: the core as a command-line tool.
 *
 *   cx-export decrypt    --key KEY [--passphrase P] IN [-o OUT]
 *   cx-export reassemble [--key KEY] [--passphrase P] [--no-verify] PART... -o OUT.zip
 *   cx-export extract    [--key KEY] [--passphrase P] PART... -d DIR
 *   cx-export records    [--key KEY] [--passphrase P] [--on-error fail|skip] PART...
  cx-export --version | --help
 *
 * Exit 0 on success; on failure exit 1 and one line `error: …` on stderr, and no output file
 * under its final name.
 */
import { createReadStream, createWriteStream, existsSync, fstatSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_MAX_CMS_HEADER_BYTES, loadDecryptionKey, type DecryptionKey } from '../cms';
import { CxError } from '../errors';
import { DEFAULT_MAX_LINE_BYTES, type JsonLinesStats } from '../jsonl/records';
import { LIMITS, limitProblem, type LimitName } from '../limits';
import { DEFAULT_LIMITS, LARGEST_CENTRAL_DIRECTORY_BYTES } from '../zip';
import {
	decryptTo,
	exportRecordBlocks,
	extractExport,
	reassembleToFile,
	type PipelineLimits,
} from '../pipeline/export';
import {
	OUT_BUFFER,
	outputError,
	outputTarget,
	removePendingNow,
	writeAtomically,
} from '../pipeline/files';
import { SlabWriter } from '../pipeline/pooledWrites';
import { fileSource, READ_CHUNK, type ByteSource } from '../pipeline/sources';
import { mib, Progress } from './progress';

const USAGE = `usage:
  cx-export decrypt    --key KEY [--passphrase P] IN [-o OUT]
  cx-export reassemble [--key KEY] [--passphrase P] [--no-verify] PART... -o OUT.zip
  cx-export extract    [--key KEY] [--passphrase P] PART... -d DIR
  cx-export records    [--key KEY] [--passphrase P] [--on-error fail|skip] PART...

PART: an encrypted part (export-<id>.z01.smime … .zip.smime), a decrypted part, a whole zip,
or (records) a JSON Lines file. Parts may be given in any order. What a file is comes from its
content (S/MIME, PEM or DER CMS, zip, gzip, JSON Lines); names only group and order parts.
IN or PART "-" is standard input (a pipe or a FIFO works too: read once); -o - is standard output.
KEY: the private key, PEM (PKCS#1/PKCS#8, encrypted or not) or PKCS#12 (.p12/.pfx).
  --passphrase P       passphrase of the key (or set CX_EXPORT_PASSPHRASE)
  --certificate CERT   the key's certificate (PEM), to match recipients by issuer and serial
  --temp-dir DIR       where to reassemble split exports (default: the system temp dir)
  --no-verify          reassemble: do not inflate every entry to check its CRC-32 and sizes while
                       writing (faster; parts swapped or out of order then go unnoticed until the
                       zip is extracted)
limits (what a hostile or broken file may cost; sizes take K, M, G, T suffixes):
  --max-cms-header-size N  one element of an S/MIME (CMS) header  (default ${fmt(DEFAULT_MAX_CMS_HEADER_BYTES)}, at most ${fmt(LIMITS.maxCmsHeaderBytes.max)})
  --max-central-directory-size N
                       a split export's central directory, held in memory to reassemble
                       (reassemble, extract, records; default and at most ${fmt(LARGEST_CENTRAL_DIRECTORY_BYTES)})
  extract and records (protection against zip bombs):
  --max-total-size N   total uncompressed bytes   (default ${fmt(DEFAULT_LIMITS.maxTotalBytes)})
  --max-entry-size N   bytes of one entry         (default ${fmt(DEFAULT_LIMITS.maxEntryBytes)})
  --max-entries N      number of entries          (default ${DEFAULT_LIMITS.maxEntries})
  --max-ratio N        compression ratio          (default ${DEFAULT_LIMITS.maxRatio})
  records:
  --max-line-size N    one JSON Lines record      (default ${fmt(DEFAULT_MAX_LINE_BYTES)}, at most ${fmt(LIMITS.maxLineBytes.max)})`;

function fmt(bytes: number): string {
	for (const [unit, size] of [
		['T', 1024 ** 4],
		['G', 1024 ** 3],
		['M', 1024 ** 2],
		['K', 1024],
	] as const) {
		if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
	}
	return String(bytes);
}

const COMMON: ParseArgsConfig['options'] = {
	key: { type: 'string', short: 'k' },
	passphrase: { type: 'string' },
	certificate: { type: 'string' },
	'temp-dir': { type: 'string' },
	help: { type: 'boolean', short: 'h' },
};
/** The limits each command takes (every one is named in src/limits.ts). */
const CMS_LIMIT: ParseArgsConfig['options'] = { 'max-cms-header-size': { type: 'string' } };
const REASSEMBLE_LIMITS: ParseArgsConfig['options'] = {
	...CMS_LIMIT,
	'max-central-directory-size': { type: 'string' },
};
const LIMIT_OPTIONS: ParseArgsConfig['options'] = {
	...REASSEMBLE_LIMITS,
	'max-total-size': { type: 'string' },
	'max-entry-size': { type: 'string' },
	'max-entries': { type: 'string' },
	'max-ratio': { type: 'string' },
};
const RECORDS_LIMITS: ParseArgsConfig['options'] = {
	...LIMIT_OPTIONS,
	'max-line-size': { type: 'string' },
};

function usage(message: string): CxError {
	return new CxError('USAGE', `${message} (cx-export --help shows the usage)`);
}

function parse(args: string[], extra: ParseArgsConfig['options']) {
	try {
		return parseArgs({
			args,
			options: { ...COMMON, ...extra },
			allowPositionals: true,
			strict: true,
		});
	} catch (error) {
		throw usage((error as Error).message.replace(/\. To specify a positional argument.*$/, ''));
	}
}

export function parseSize(text: string, option: string): number {
	const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
	if (!m) throw usage(`${option} expects a size such as 500M or 20G, got "${text}"`);
	const power = ' kmgt'.indexOf(m[2].toLowerCase() || ' ');
	return Math.floor(Number(m[1]) * 1024 ** power);
}

function parseCount(text: string, option: string): number {
	if (!/^\d+(\.\d+)?$/.test(text)) throw usage(`${option} expects a number, got "${text}"`);
	return Number(text);
}

/** The limit flags given, parsed and checked against the bounds src/limits.ts sets. */
function limitsFrom(values: Record<string, unknown>): Partial<PipelineLimits> {
	const limits: Partial<PipelineLimits> = {};
	for (const name of Object.keys(LIMITS) as LimitName[]) {
		const { flag, unit } = LIMITS[name];
		const text = values[flag.slice(2)];
		if (typeof text !== 'string') continue;
		const value = unit === 'bytes' ? parseSize(text, flag) : parseCount(text, flag);
		const problem = limitProblem(name, value);
		if (problem) throw usage(`${flag} ${problem}`);
		limits[name] = value;
	}
	return limits;
}

async function keyFrom(
	values: Record<string, unknown>,
	required: boolean,
): Promise<DecryptionKey | undefined> {
	const keyPath = values.key;
	if (typeof keyPath !== 'string') {
		if (required) throw usage('--key is required');
		return undefined;
	}
	const read = async (path: string, what: string) => {
		try {
			return await readSmallFile(path, MAX_KEY_FILE_BYTES, what);
		} catch (error) {
			if (error instanceof CxError) throw error;
			throw new CxError(
				'IO',
				`cannot read the ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
			);
		}
	};
	const passphrase =
		typeof values.passphrase === 'string' ? values.passphrase : process.env.CX_EXPORT_PASSPHRASE;
	const certificate =
		typeof values.certificate === 'string'
			? await read(values.certificate, 'certificate')
			: undefined;
	return loadDecryptionKey({
		key: await read(keyPath, 'key'),
		passphrase,
		certificate,
		label: keyPath,
	});
}

/** A key or certificate file is a few KB (a PKCS#12 with its chain, tens of KB); 1 MiB is plenty. */
const MAX_KEY_FILE_BYTES = 1024 * 1024;

/**
 * The bytes of a file that must be small, read as a stream and refused once past `max`: a device
 * (`/dev/zero`) or a wrong, huge file is not read until memory runs out. Pipes (`--key <(…)`) work.
 */
async function readSmallFile(path: string, max: number, what: string): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let total = 0;
	const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
	try {
		for await (const chunk of stream) {
			total += (chunk as Buffer).length;
			if (total > max)
				throw new CxError(
					'USAGE',
					`the ${what} ${path} is larger than ${max / 1024 / 1024} MiB: not a ${what} file (a private key or certificate is a few KB)`,
				);
			chunks.push(chunk as Buffer);
		}
	} finally {
		stream.destroy();
	}
	return Buffer.concat(chunks, total);
}

/** This package's version, from its package.json (the CLI runs from dist/src/cli or src/cli). */
function version(): string {
	for (let dir = __dirname, i = 0; i < 5; dir = dirname(dir), i++) {
		const file = join(dir, 'package.json');
		if (!existsSync(file)) continue;
		const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
		if (pkg.name === 'n8n-nodes-cx-export' && pkg.version) return pkg.version;
	}
	return 'unknown';
}

/**
 * The inputs. `-` is standard input; a FIFO, a device or an open descriptor (`<(curl …)`,
 * `/dev/stdin`) is read as a stream. Those can be read only once: what would need a second read
 * (see readOnce) says so.
 */
async function sourcesFrom(paths: string[]): Promise<{ sources: ByteSource[]; total: number }> {
	if (paths.filter((path) => path === '-').length > 1)
		throw usage('standard input ("-") can be given only once');
	const sources: ByteSource[] = [];
	let total = 0;
	for (const path of paths) {
		const source =
			path === '-'
				? process.platform === 'win32'
					? readOnce('stdin', 0)
					: await inputSource('/dev/stdin', 'stdin')
				: await inputSource(path);
		sources.push(source);
		total += source.size ?? 0;
	}
	return { sources, total };
}

async function inputSource(path: string, name = basename(path)): Promise<ByteSource> {
	let target: Awaited<ReturnType<typeof outputTarget>> | undefined;
	try {
		target = await outputTarget(path);
	} catch {
		target = undefined; // a directory, a loop of links: fileSource says what is wrong
	}
	if (target?.special) {
		// A file behind a descriptor (`/dev/stdin` from `< file`) is still a file.
		if ((await stat(target.path)).isFile()) return fileSource(target.path, name);
		return readOnce(name, target.fd === 0 ? 0 : target.path);
	}
	return fileSource(resolve(path), name);
}

/**
 * A stream input: standard input (0), or a FIFO or device by its path. Standard input is read
 * through process.stdin, which reads a pipe or a socket without blocking and a file as a file.
 */
function readOnce(name: string, from: 0 | string): ByteSource {
	let opened = false;
	return {
		name,
		open: () => {
			if (opened)
				throw new CxError(
					'USAGE',
					`${name} is a stream (standard input, a pipe or a device), which can be read only once, and it is needed a second time here; save it to a file and give that instead`,
				);
			opened = true;
			return from === 0 ? process.stdin : createReadStream(from, { highWaterMark: READ_CHUNK });
		},
	};
}

/** `-o -`: standard output, through its descriptor as `-o /dev/stdout` is. */
function outputPath(output: string): string {
	return output === '-' ? '/dev/stdout' : output;
}

/**
 * Where stdout's bytes go. Node writes stdout synchronously when it is a file (`> out.jsonl`),
 * so the work would stop for every write; a file gets an fs stream on the same descriptor instead,
 * whose writes run beside the work, at most OUT_BUFFER ahead.
 */
function stdoutSink(): Writable {
	let file = false;
	try {
		file = fstatSync(1).isFile();
	} catch {
		file = false;
	}
	if (!file) return process.stdout;
	return createWriteStream('', { fd: 1, autoClose: false, highWaterMark: OUT_BUFFER });
}

/**
 * Writes blocks of JSON Lines to stdout, waiting when the output is full, through a few reused
 * slabs (see SlabWriter): small blocks (records that took the slow path) are joined on the way,
 * and what waits for a slow output is always the same 2 MiB, never the blocks themselves.
 */
class StdoutWriter {
	private readonly sink = stdoutSink();
	private readonly slabs = new SlabWriter(this.sink);

	/** Undefined unless this write had to wait for the output (so the caller's loop awaits only then). */
	write(bytes: Buffer): Promise<void> | undefined {
		return this.slabs.write(bytes);
	}

	/** Writes what is left, and waits until every byte is written (stdout itself stays open). */
	end(): Promise<void> {
		return this.slabs.end(this.sink !== process.stdout);
	}
}

async function decryptCommand(args: string[]): Promise<void> {
	const { values, positionals } = parse(args, {
		output: { type: 'string', short: 'o' },
		...CMS_LIMIT,
	});
	if (values.help) return help();
	if (positionals.length !== 1)
		throw usage(`decrypt takes one input file, got ${positionals.length}`);
	const limits = limitsFrom(values);
	const key = await keyFrom(values, true);
	const { sources, total } = await sourcesFrom(positionals);
	const progress = new Progress(`decrypting ${sources[0].name}`, total);
	try {
		if (typeof values.output === 'string' && values.output !== '-') {
			await writeAtomically(values.output, (out) =>
				decryptTo(sources[0], out, { key, limits, onRead: progress.add }),
			);
		} else {
			await decryptTo(sources[0], stdoutSink(), { key, limits, onRead: progress.add });
		}
	} finally {
		progress.done();
	}
}

async function reassembleCommand(args: string[]): Promise<void> {
	const { values, positionals } = parse(args, {
		output: { type: 'string', short: 'o' },
		'no-verify': { type: 'boolean' },
		...REASSEMBLE_LIMITS,
	});
	if (values.help) return help();
	if (typeof values.output !== 'string') throw usage('reassemble needs -o OUT.zip');
	if (positionals.length === 0) throw usage('reassemble needs the parts of an export');
	const limits = limitsFrom(values);
	const key = await keyFrom(values, false);
	const { sources, total } = await sourcesFrom(positionals);
	const progress = new Progress('reassembling', total);
	try {
		const verify = values['no-verify'] !== true;
		const summary = await reassembleToFile(sources, outputPath(values.output), {
			key,
			limits,
			verify,
			onRead: progress.add,
		});
		progress.done();
		const checked = !verify
			? ' (not checked: --no-verify)'
			: summary.unchecked
				? ` (${summary.checkedEntries} checked: ${summary.unchecked})`
				: ', CRC-32 checked';
		process.stderr.write(
			`${values.output}: ${summary.parts} part(s), ${summary.entries} entries${checked}, ${mib(summary.bytes)}\n`,
		);
	} finally {
		progress.done();
	}
}

async function extractCommand(args: string[]): Promise<void> {
	const { values, positionals } = parse(args, {
		dir: { type: 'string', short: 'd' },
		...LIMIT_OPTIONS,
	});
	if (values.help) return help();
	if (typeof values.dir !== 'string') throw usage('extract needs -d DIR');
	if (positionals.length === 0) throw usage('extract needs the parts of an export');
	const key = await keyFrom(values, false);
	const limits = limitsFrom(values);
	const { sources, total } = await sourcesFrom(positionals);
	const progress = new Progress('extracting', total);
	try {
		const files = await extractExport(sources, values.dir, {
			key,
			limits,
			tempDir: tempDirOf(values),
			onRead: progress.add,
		});
		progress.done();
		process.stderr.write(`${values.dir}: ${files.length} file(s) extracted\n`);
	} finally {
		progress.done();
	}
}

function tempDirOf(values: Record<string, unknown>): string | undefined {
	return typeof values['temp-dir'] === 'string' ? values['temp-dir'] : undefined;
}

async function recordsCommand(args: string[]): Promise<void> {
	const { values, positionals } = parse(args, {
		'on-error': { type: 'string' },
		...RECORDS_LIMITS,
	});
	if (values.help) return help();
	const onError = values['on-error'] ?? 'fail';
	if (onError !== 'fail' && onError !== 'skip')
		throw usage(`--on-error is fail or skip, got "${String(onError)}"`);
	if (positionals.length === 0)
		throw usage('records needs the parts of an export, a zip or a JSON Lines file');
	const key = await keyFrom(values, false);
	const limits = limitsFrom(values);
	const { sources, total } = await sourcesFrom(positionals);
	const progress = new Progress('reading records', total);
	const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
	const out = new StdoutWriter();
	try {
		// The export's bytes without whitespace between tokens: compact lines go out exactly as
		// written, others lose only that whitespace (no parse, no re-serialising: nothing to overflow
		// or round). Runs of good lines go out as the views of the bytes read that hold them.
		for await (const block of exportRecordBlocks(
			sources,
			{ key, limits, onError, tempDir: tempDirOf(values), onRead: progress.add, compact: true },
			stats,
		)) {
			const waiting = out.write(block.bytes);
			if (waiting) await waiting;
		}
		await out.end();
	} finally {
		progress.done();
	}
	if (stats.skipped > 0) {
		process.stderr.write(
			`skipped ${stats.skipped} malformed line(s); first: ${stats.firstSkipped ?? ''}\n`,
		);
	}
}

function help(): void {
	process.stdout.write(`${USAGE}\n`);
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
	decrypt: decryptCommand,
	reassemble: reassembleCommand,
	extract: extractCommand,
	records: recordsCommand,
};

/** Entry point used by bin/cx-export.js. */
export function run(argv: string[]): void {
	const [command, ...args] = argv;
	const fail = (failure: unknown): never => {
		removePendingNow();
		// A write that failed and was not to a file of -o (those say so themselves) was to stdout.
		const error =
			(failure as NodeJS.ErrnoException | undefined)?.syscall === 'write'
				? outputError('standard output', failure)
				: failure;
		const message =
			error instanceof CxError ? error.message : ((error as Error)?.message ?? String(error));
		process.stderr.write(`error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
		process.exit(1);
	};
	// Interrupted: temporary files and directories, and an extraction's staging directory (its
	// moves into place undone), are removed synchronously; exit 128 + the signal's number, as a
	// shell reports a process killed by it.
	for (const [signal, status] of [
		['SIGINT', 130],
		['SIGTERM', 143],
	] as const) {
		process.once(signal, () => {
			removePendingNow();
			process.stderr.write(`\nerror: interrupted; no output was kept\n`);
			process.exit(status);
		});
	}
	process.stdout.on('error', (error: NodeJS.ErrnoException) => {
		// The reader went away (`| head`): stop quietly, like other Unix tools.
		if (error.code === 'EPIPE') process.exit(0);
		fail(error);
	});
	if (command === undefined) {
		// No command is a usage error: the usage on stderr, exit status 2 (as other Unix tools do).
		process.stderr.write(`${USAGE}\n`);
		process.exit(2);
	}
	if (command === '--help' || command === '-h' || command === 'help') {
		help();
		return;
	}
	if (command === '--version' || command === '-V' || command === 'version') {
		process.stdout.write(`cx-export ${version()}\n`);
		return;
	}
	const handler = COMMANDS[command];
	if (!handler)
		fail(usage(`unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(', ')}`));
	handler(args).then(() => undefined, fail);
}
