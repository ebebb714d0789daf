/**
 * The whole job, composed from the core pieces: encrypted or plain parts in → one zip, extracted
 * files, or records out. The CLI and the n8n nodes both call these; none of them buffers an export.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { decryptCms, type DecryptionKey } from '../cms';
import { CxError } from '../errors';
import {
	parseJsonLineBlocks,
	parseJsonLines,
	type JsonLinesOptions,
	type RecordBlock,
	type JsonLinesStats,
	type JsonRecord,
	type SkippedLine,
} from '../jsonl/records';
import { formatLimit, limitProblem, raiseAdvice } from '../limits';
import {
	CentralDirectoryTooLarge,
	DEFAULT_MAX_CENTRAL_DIRECTORY_BYTES,
	extractTo,
	type ReassembleSummary,
	LARGEST_CENTRAL_DIRECTORY_BYTES,
	orderParts,
	parsePartName,
	reassemble,
	zipEntries,
	type ExtractedFile,
	type ExtractLimits,
} from '../zip';
import { isSpecialOutput, makeTempDir, writeAtomically } from './files';
import { writePooled } from './pooledWrites';
import {
	fileTail,
	gunzipped,
	looksLikeText,
	peek,
	plaintext,
	refuseLoneFinalPart,
	fileSource,
	TailBuffer,
	zipEnding,
	type ByteSource,
} from './sources';

/**
 * Every limit of the pipeline (see src/limits.ts for their flags and node options): the zip ones
 * (extraction), and those of the other readers.
 */
export interface PipelineLimits extends ExtractLimits {
	/** Longest JSON Lines line, in bytes (default 256 MiB). */
	maxLineBytes: number;
	/** Largest element of a CMS header, in bytes (default 16 MiB). */
	maxCmsHeaderBytes: number;
	/**
	 * The most central directory (with the end records) reassembly holds in memory (default and
	 * most LARGEST_CENTRAL_DIRECTORY_BYTES, 128 MiB). Up to 16 MiB is held in one pass; a larger one
	 * is read a second time with the room it needs (see reassembleToFile).
	 */
	maxCentralDirectoryBytes: number;
}

export interface PipelineOptions {
	key?: DecryptionKey;
	limits?: Partial<PipelineLimits>;
	/** Where temporary files go (the reassembled zip); the OS temp dir by default. */
	tempDir?: string;
	/** Encoded bytes read so far, for progress. */
	onRead?: (bytes: number) => void;
}

/** Decrypts one message to `out`. Throws when the input is not encrypted. */
export async function decryptTo(
	source: ByteSource,
	out: Writable,
	options: PipelineOptions,
): Promise<void> {
	if (!options.key) throw new CxError('USAGE', 'decrypting needs the private key (--key)');
	const key = options.key;
	const { kind, stream } = await peek(options.onRead ? withCount(source, options.onRead) : source);
	if (kind !== 'encrypted') {
		await drain(stream);
		throw new CxError(
			'CMS_FORMAT',
			`${source.name}: not an encrypted (S/MIME / CMS) file${kind === 'other' ? '' : `: it is a ${kind === 'split-zip' ? 'zip part' : 'zip'}, already decrypted`}`,
		);
	}
	// Through reused slabs: a slow output holds the same few MiB, not ever more written buffers.
	await writePooled(
		decryptCms(stream, {
			key,
			source: source.name,
			maxHeaderBytes: options.limits?.maxCmsHeaderBytes,
		}),
		out,
	);
}

function withCount(source: ByteSource, onRead: (bytes: number) => void): ByteSource {
	return {
		...source,
		open: async function* () {
			for await (const chunk of source.open()) {
				onRead(chunk.length);
				yield chunk;
			}
		},
	};
}

async function drain(stream: AsyncIterable<Buffer>): Promise<void> {
	const it = stream[Symbol.asyncIterator]();
	await it.return?.();
}

/** A part for the zip layer: opened lazily, decrypted on the fly when it is encrypted. */
function zipPart(source: ByteSource, options: PipelineOptions) {
	return {
		name: source.name,
		open: async function* (): AsyncGenerator<Buffer> {
			const { stream } = await plaintext(source, options);
			yield* stream;
		},
	};
}

/** Puts the parts of one export back together as one ordinary zip, written to `out`. */
export async function reassembleTo(
	sources: ByteSource[],
	out: Writable,
	options: PipelineOptions & ReassembleToOptions,
) {
	const { parts } = orderParts(sources);
	return reassemble(
		parts.map((p) => zipPart(p, options)),
		out,
		{ maxCentralDirectoryBytes: options.maxCentralDirectoryBytes, verify: options.verify },
	);
}

export interface ReassembleToOptions {
	/** Central directory bytes held in one pass (see ReassembleOptions). */
	maxCentralDirectoryBytes?: number;
	/** Check every entry's CRC-32 and sizes while writing (default true; see ReassembleOptions.verify). */
	verify?: boolean;
}

/**
 * Reassembles one export into the file `path` (complete, or not there at all). An export whose
 * central directory is larger than the window (`maxCentralDirectoryBytes`, default 16 MiB) is read
 * a second time with the room it needs, up to the limit (`limits.maxCentralDirectoryBytes`, default
 * and most LARGEST_CENTRAL_DIRECTORY_BYTES), so ordinary exports keep the small window. `onRead`
 * counts each byte once: the second pass reports only what goes beyond the first.
 */
export async function reassembleToFile(
	sources: ByteSource[],
	path: string,
	options: PipelineOptions & ReassembleToOptions,
): Promise<ReassembleSummary> {
	if (await isSpecialOutput(path)) {
		// A FIFO or a device cannot take a first pass back: the zip is made in a temporary file, then copied.
		const dir = await makeTempDir(options.tempDir);
		try {
			const zip = join(dir.path, 'export.zip');
			const summary = await reassembleToFile(sources, zip, options);
			await writeAtomically(path, (out) => pipeline(createReadStream(zip), out, { end: false }));
			return summary;
		} finally {
			await dir.remove();
		}
	}
	const report = options.onRead;
	let firstPass = 0;
	const countFirst =
		report &&
		((bytes: number) => {
			firstPass += bytes;
			report(bytes);
		});
	// The limit (limits.maxCentralDirectoryBytes) bounds both passes; the first holds at most the window.
	const cap = options.limits?.maxCentralDirectoryBytes ?? LARGEST_CENTRAL_DIRECTORY_BYTES;
	const problem = limitProblem('maxCentralDirectoryBytes', cap);
	if (problem) throw new CxError('USAGE', `the central directory size limit ${problem}`);
	const window = Math.min(
		options.maxCentralDirectoryBytes ?? DEFAULT_MAX_CENTRAL_DIRECTORY_BYTES,
		cap,
	);
	try {
		return await writeAtomically(path, (out) =>
			reassembleTo(sources, out, {
				...options,
				maxCentralDirectoryBytes: window,
				onRead: countFirst,
			}),
		);
	} catch (error) {
		if (!(error instanceof CentralDirectoryTooLarge)) throw error;
		if (error.neededBytes > cap) throw centralDirectoryOverLimit(error, cap);
		let secondPass = 0;
		const countSecond =
			report &&
			((bytes: number) => {
				const counted = Math.max(secondPass, firstPass);
				secondPass += bytes;
				if (secondPass > counted) report(secondPass - counted);
			});
		return writeAtomically(path, (out) =>
			reassembleTo(sources, out, {
				...options,
				maxCentralDirectoryBytes: error.neededBytes,
				onRead: countSecond,
			}),
		);
	}
}

/** The error for a central directory that needs more memory than the limit allows, naming the limit. */
function centralDirectoryOverLimit(
	error: CentralDirectoryTooLarge,
	cap: number,
): CentralDirectoryTooLarge {
	const needed = error.neededBytes;
	const where = error.where ?? 'the export';
	const advice =
		needed > LARGEST_CENTRAL_DIRECTORY_BYTES
			? `, and more than the most this tool holds (${formatLimit('maxCentralDirectoryBytes', LARGEST_CENTRAL_DIRECTORY_BYTES)}): an export of several million files, or a damaged one`
			: `; if you trust this export, ${raiseAdvice('maxCentralDirectoryBytes')} to at least ${needed} bytes`;
	return new CentralDirectoryTooLarge(
		`${where}: the central directory of this export needs ${needed} bytes in memory, more than the central directory size limit, ${formatLimit('maxCentralDirectoryBytes', cap)}${advice}`,
		where,
		needed,
	);
}

/**
 * A path to the export as one ordinary zip on disk, reassembled into a temporary directory when it
 * must be; `close` removes what was made. The temporary directory (makeTempDir) carries this
 * process's id: the next run removes it if this one is killed before `close`.
 */
export async function openZipFile(
	sources: ByteSource[],
	options: PipelineOptions,
): Promise<{ path: string; close(): Promise<void> }> {
	// One plain, non-split zip file on disk needs no copy.
	const onDisk = sources.length === 1 ? sources[0].path : undefined;
	if (onDisk !== undefined) {
		const probe = await peek({
			name: sources[0].name,
			open: () => createReadStream(onDisk, { end: 63 }),
		});
		await drain(probe.stream);
		if (probe.kind === 'zip') {
			options.onRead?.(sources[0].size ?? 0);
			return { path: onDisk, close: async () => undefined };
		}
	}
	const dir = await makeTempDir(options.tempDir);
	try {
		const path = join(dir.path, 'export.zip');
		// Whoever opens this zip reads its entries through the CRC-32 and size checks of zipEntries,
		// so checking them here too would inflate the export twice.
		await reassembleToFile(sources, path, { ...options, verify: false });
		return { path, close: dir.remove };
	} catch (error) {
		await dir.remove();
		throw error;
	}
}

/**
 * Reassembles (when needed) and extracts one export safely into `dir`, all or nothing: the files
 * appear in `dir` only once every one is extracted and verified, and never replace a file (see
 * extractTo, which also removes what killed extractions into `dir` left).
 */
export async function extractExport(
	sources: ByteSource[],
	dir: string,
	options: PipelineOptions,
): Promise<ExtractedFile[]> {
	const zip = await openZipFile(sources, options);
	try {
		return await extractTo(zip.path, dir, options.limits);
	} finally {
		await zip.close();
	}
}

export type ExportRecord = JsonRecord;

export interface RecordsOptions extends PipelineOptions {
	onError?: 'fail' | 'skip';
	/** With `skip`: every skipped line, where and why. */
	onSkip?: (skipped: SkippedLine) => void;
	/** Which zip entries hold records (default: isRecordsEntry). */
	entryFilter?: (entryName: string) => boolean;
	/** Parse each record's value only when it is read (see JsonLinesOptions.lazyValues). */
	lazyValues?: boolean;
}

/**
 * Whether a zip entry holds records: `<EntityType>-<jobId>.json` files and `.jsonl`. The CDDS
 * reference says schema files may travel with the data; they are pretty-printed JSON Schema, not
 * records, so names containing "schema" are left out.
 */
export function isRecordsEntry(name: string): boolean {
	const base = name.split('/').pop() ?? name;
	return /\.jsonl?$/i.test(base) && !/schema/i.test(base);
}

/**
 * Groups inputs the way users hand them over: parts of the same export together (in part order),
 * any other file on its own, in the order of first appearance.
 */
export function groupInputs(sources: ByteSource[]): ByteSource[][] {
	const groups = new Map<string, ByteSource[]>();
	const order: ByteSource[][] = [];
	for (const source of sources) {
		let exportName: string | undefined;
		try {
			exportName = parsePartName(source.name).exportName;
		} catch {
			exportName = undefined;
		}
		if (exportName === undefined) {
			order.push([source]);
			continue;
		}
		let group = groups.get(exportName);
		if (!group) {
			group = [];
			groups.set(exportName, group);
			order.push(group);
		}
		group.push(source);
	}
	return order;
}

/** How one JSON Lines stream becomes what the caller wants: records, or blocks of lines. */
type LineReader<T> = (
	input: AsyncIterable<Buffer>,
	options: JsonLinesOptions,
	stats: JsonLinesStats,
) => AsyncGenerator<T>;

/** Every record of every JSON Lines entry of the inputs, in archive order. */
export function exportRecords(
	sources: ByteSource[],
	options: RecordsOptions,
	stats: JsonLinesStats,
): AsyncGenerator<ExportRecord> {
	return exportLines(sources, options, stats, parseJsonLines);
}

/**
 * The same records as exportRecords, as blocks of JSON Lines bytes (parseJsonLineBlocks): for
 * consumers that pass the lines on without reading values. With `compact`, records written with
 * whitespace between tokens lose it.
 */
export function exportRecordBlocks(
	sources: ByteSource[],
	options: RecordsOptions & { compact?: boolean },
	stats: JsonLinesStats,
): AsyncGenerator<RecordBlock> {
	const compact = options.compact === true;
	return exportLines(sources, options, stats, (input, lineOptions, st) =>
		parseJsonLineBlocks(input, { ...lineOptions, compact }, st),
	);
}

async function* exportLines<T>(
	sources: ByteSource[],
	options: RecordsOptions,
	stats: JsonLinesStats,
	read: LineReader<T>,
): AsyncGenerator<T> {
	for (const group of groupInputs(sources)) {
		if (group.length === 1) {
			// A lone file is what its bytes say, whatever its name: a zip (plain or encrypted: S/MIME,
			// PEM or DER), gzipped JSON Lines (a record chunk), or JSON Lines.
			const source = group[0];
			const { kind, head, stream, encrypted } = await plaintext(source, options);
			if (kind === 'gzip') {
				yield* read(
					gunzipped(stream, source.name),
					{ source: source.name, ...lineOptions(options) },
					stats,
				);
				continue;
			}
			if (kind === 'other') {
				yield* plainRecords(source, head, stream, encrypted, options, stats, read);
				continue;
			}
			if (source.path === undefined) {
				// Not a file (standard input, a pipe, a binary stream): a zip is read from its end, so
				// these bytes, decrypted once, go to a temporary file first; nothing opens it again.
				yield* spooledZipRecords(source, stream, options, stats, read);
				continue;
			}
			await drain(stream);
		}
		yield* zipRecords(group, options, stats, read);
	}
}

/**
 * The records of a lone file that does not start like a zip or gzip: JSON Lines — unless it ends
 * like a zip. The final part of a split export starts anywhere inside an entry's data, so only its
 * end record tells it apart, and says how many parts are missing.
 */
async function* plainRecords<T>(
	source: ByteSource,
	head: Buffer,
	stream: AsyncIterable<Buffer>,
	encrypted: boolean,
	options: RecordsOptions,
	stats: JsonLinesStats,
	read: LineReader<T>,
): AsyncGenerator<T> {
	// A plain file on disk: its end is read directly (a few KB), whatever its first bytes are.
	const onDisk = encrypted ? undefined : source.path;
	let tail: Buffer | undefined;
	try {
		if (onDisk !== undefined) {
			tail = await fileTail(onDisk);
			refuseLoneFinalPart(source, tail);
		}
	} catch (error) {
		await drain(stream);
		throw error;
	}
	if (looksLikeText(head)) {
		const before = { records: stats.records, skipped: stats.skipped };
		yield* read(stream, { source: source.name, ...lineOptions(options) }, stats);
		// Skipping bad lines is for a few bad records, not for a file none of whose lines is one (a
		// PEM file, a CSV, a log): that is refused rather than passed on as an export without records.
		if (stats.records === before.records && stats.skipped > before.skipped) {
			const first =
				before.skipped === 0 && stats.firstSkipped ? ` (the first: ${stats.firstSkipped})` : '';
			throw new CxError(
				'JSONL_MALFORMED',
				`${source.name}: not JSON Lines: none of its ${stats.skipped - before.skipped} non-blank lines is a JSON record${first}`,
				{
					where: source.name,
				},
			);
		}
		return;
	}
	// Control bytes among the first ones: most likely not JSON Lines at all (a compressed, encrypted
	// or damaged file, or a decrypted final part, known only by its end), but a JSON Lines file with
	// a stray control byte in its first lines keeps its good records. So it is parsed as JSON Lines,
	// keeping its last bytes, unless it ends like a zip: then it is a damaged zip (the lines of a
	// stored entry would read as records) and refused, before any record when its end is known first.
	const start = head
		.subarray(0, 8)
		.toString('hex')
		.replace(/(..)(?!$)/g, '$1 ');
	const damagedZip = () =>
		new CxError(
			'ZIP_FORMAT',
			`${source.name}: ends like a zip but does not start like one (it starts with ${start}): data before the first entry, or a damaged file`,
			{
				where: source.name,
			},
		);
	if (tail !== undefined && zipEnding(tail)) {
		await drain(stream);
		throw damagedZip();
	}
	const kept = tailKeeper(stream);
	let records = 0;
	let failed = false;
	try {
		for await (const record of read(
			kept.chunks,
			{ source: source.name, ...lineOptions(options) },
			stats,
		)) {
			records++;
			yield record;
		}
	} catch (error) {
		if (records > 0) throw error;
		failed = true;
	} finally {
		if (!failed) await kept.close();
	}
	if (tail === undefined) {
		// Read to its end (after a failure) or already read: its last bytes say what it was.
		if (failed) await kept.rest();
		tail = kept.tail;
	} else if (failed) await kept.close();
	refuseLoneFinalPart(source, tail);
	if (zipEnding(tail)) throw damagedZip();
	if (records > 0) return;
	throw new CxError(
		'JSONL_MALFORMED',
		`${source.name}: not JSON Lines, a zip, gzip or an encrypted (S/MIME, PEM or DER CMS) file: it starts with the bytes ${start}`,
		{
			where: source.name,
		},
	);
}

/**
 * A stream read through `chunks`, keeping its last TAIL_BYTES: stopping `chunks` early leaves the
 * stream open, so `rest()` can read it to its end (for its tail) or `close()` release it.
 */
function tailKeeper(stream: AsyncIterable<Buffer>) {
	const iterator = stream[Symbol.asyncIterator]();
	const keeper = new TailBuffer();
	return {
		chunks: {
			[Symbol.asyncIterator]: (): AsyncIterator<Buffer> => ({
				next: async () => {
					const next = await iterator.next();
					if (!next.done) keeper.add(next.value);
					return next;
				},
				return: async () => ({ done: true, value: undefined }),
			}),
		} as AsyncIterable<Buffer>,
		get tail(): Buffer {
			return keeper.bytes;
		},
		async rest(): Promise<void> {
			for (let next = await iterator.next(); !next.done; next = await iterator.next())
				keeper.add(next.value);
		},
		async close(): Promise<void> {
			await iterator.return?.();
		},
	};
}

function lineOptions(options: RecordsOptions): Omit<JsonLinesOptions, 'source'> {
	return {
		onError: options.onError,
		onSkip: options.onSkip,
		lazyValues: options.lazyValues,
		maxLineBytes: options.limits?.maxLineBytes,
	};
}

async function* spooledZipRecords<T>(
	source: ByteSource,
	stream: AsyncIterable<Buffer>,
	options: RecordsOptions,
	stats: JsonLinesStats,
	read: LineReader<T>,
): AsyncGenerator<T> {
	const dir = await makeTempDir(options.tempDir);
	try {
		const path = join(dir.path, 'input.zip');
		// writeAtomically: a full disk here is said as such, naming this file, and nothing half-written stays.
		await writeAtomically(path, (out) => writePooled(stream, out));
		// Its bytes were counted as they were read (onRead).
		const spooled = await fileSource(path, source.name);
		yield* zipRecords([spooled], { ...options, onRead: undefined }, stats, read);
	} finally {
		await dir.remove();
	}
}

async function* zipRecords<T>(
	group: ByteSource[],
	options: RecordsOptions,
	stats: JsonLinesStats,
	read: LineReader<T>,
): AsyncGenerator<T> {
	const zip = await openZipFile(group, options);
	try {
		for await (const entry of zipEntries(zip.path, options.limits)) {
			if (entry.isDirectory || !(options.entryFilter ?? isRecordsEntry)(entry.name)) {
				// Skipped by name, so its local header must give the same name: a zip whose two
				// directories disagree would otherwise lose records without a word.
				await entry.check();
				continue;
			}
			yield* read(
				(await entry.open()) as AsyncIterable<Buffer>,
				{ source: entry.name, ...lineOptions(options) },
				stats,
			);
		}
	} finally {
		await zip.close();
	}
}
