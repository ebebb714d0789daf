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
import { parseJsonLines, type JsonLinesOptions, type JsonLinesStats, type JsonRecord, type SkippedLine } from '../jsonl/records';
import { CentralDirectoryTooLarge, extractTo, type ReassembleSummary, LARGEST_CENTRAL_DIRECTORY_BYTES, orderParts, parsePartName, reassemble, zipEntries, type ExtractedFile, type ExtractLimits } from '../zip';
import { isSpecialOutput, makeTempDir, writeAtomically } from './files';
import { gunzipped, peek, plaintext, type ByteSource } from './sources';

export interface PipelineOptions {
	key?: DecryptionKey;
	limits?: Partial<ExtractLimits>;
	/** Where temporary files go (the reassembled zip); the OS temp dir by default. */
	tempDir?: string;
	/** Encoded bytes read so far, for progress. */
	onRead?: (bytes: number) => void;
}

/** Decrypts one message to `out`. Throws when the input is not encrypted. */
export async function decryptTo(source: ByteSource, out: Writable, options: PipelineOptions): Promise<void> {
	if (!options.key) throw new CxError('USAGE', 'decrypting needs the private key (--key)');
	const key = options.key;
	const { kind, stream } = await peek(options.onRead ? withCount(source, options.onRead) : source);
	if (kind !== 'encrypted') {
		await drain(stream);
		throw new CxError('CMS_FORMAT', `${source.name}: not an encrypted (S/MIME / CMS) file${kind === 'other' ? '' : `: it is a ${kind === 'split-zip' ? 'zip part' : 'zip'}, already decrypted`}`);
	}
	await pipeline(decryptCms(stream, { key, source: source.name }), out);
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
export async function reassembleTo(sources: ByteSource[], out: Writable, options: PipelineOptions & { maxCentralDirectoryBytes?: number }) {
	const { parts } = orderParts(sources);
	return reassemble(
		parts.map((p) => zipPart(p, options)),
		out,
		{ maxCentralDirectoryBytes: options.maxCentralDirectoryBytes },
	);
}

/**
 * Reassembles one export into the file `path` (complete, or not there at all). An export whose
 * central directory is larger than the window (`maxCentralDirectoryBytes`, default 16 MiB) is read
 * a second time with the room it needs, up to LARGEST_CENTRAL_DIRECTORY_BYTES, so ordinary exports
 * keep the small window. `onRead` counts each byte once: the second pass reports only what goes
 * beyond the first.
 */
export async function reassembleToFile(sources: ByteSource[], path: string, options: PipelineOptions & { maxCentralDirectoryBytes?: number }): Promise<ReassembleSummary> {
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
	try {
		return await writeAtomically(path, (out) => reassembleTo(sources, out, { ...options, onRead: countFirst }));
	} catch (error) {
		if (!(error instanceof CentralDirectoryTooLarge) || error.neededBytes > LARGEST_CENTRAL_DIRECTORY_BYTES) throw error;
		let secondPass = 0;
		const countSecond =
			report &&
			((bytes: number) => {
				const counted = Math.max(secondPass, firstPass);
				secondPass += bytes;
				if (secondPass > counted) report(secondPass - counted);
			});
		return writeAtomically(path, (out) => reassembleTo(sources, out, { ...options, maxCentralDirectoryBytes: error.neededBytes, onRead: countSecond }));
	}
}

/**
 * A path to the export as one ordinary zip on disk, reassembled into a temporary directory when it
 * must be; `close` removes what was made.
 */
export async function openZipFile(sources: ByteSource[], options: PipelineOptions): Promise<{ path: string; close(): Promise<void> }> {
	// One plain, non-split zip file on disk needs no copy.
	const onDisk = sources.length === 1 ? sources[0].path : undefined;
	if (onDisk !== undefined) {
		const probe = await peek({ name: sources[0].name, open: () => createReadStream(onDisk, { end: 63 }) });
		await drain(probe.stream);
		if (probe.kind === 'zip') {
			options.onRead?.(sources[0].size ?? 0);
			return { path: onDisk, close: async () => undefined };
		}
	}
	const dir = await makeTempDir(options.tempDir);
	try {
		const path = join(dir.path, 'export.zip');
		await reassembleToFile(sources, path, options);
		return { path, close: dir.remove };
	} catch (error) {
		await dir.remove();
		throw error;
	}
}

/** Reassembles (when needed) and extracts one export safely into `dir`. */
export async function extractExport(sources: ByteSource[], dir: string, options: PipelineOptions): Promise<ExtractedFile[]> {
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

/** Every record of every JSON Lines entry of the inputs, in archive order. */
export async function* exportRecords(sources: ByteSource[], options: RecordsOptions, stats: JsonLinesStats): AsyncGenerator<ExportRecord> {
	for (const group of groupInputs(sources)) {
		if (group.length === 1) {
			// A lone file may be JSON Lines itself (plain or encrypted), or a whole zip.
			const { kind, stream } = await plaintext(group[0], options);
			if (kind === 'other' || kind === 'gzip') {
				// JSON Lines, or gzipped JSON Lines (a record chunk written with gzip).
				const lines = kind === 'gzip' ? gunzipped(stream, group[0].name) : stream;
				yield* parseJsonLines(lines, { source: group[0].name, ...lineOptions(options) }, stats);
				continue;
			}
			await drain(stream);
		}
		yield* zipRecords(group, options, stats);
	}
}

function lineOptions(options: RecordsOptions): Omit<JsonLinesOptions, 'source'> {
	return { onError: options.onError, onSkip: options.onSkip, lazyValues: options.lazyValues };
}

async function* zipRecords(group: ByteSource[], options: RecordsOptions, stats: JsonLinesStats): AsyncGenerator<ExportRecord> {
	const zip = await openZipFile(group, options);
	try {
		for await (const entry of zipEntries(zip.path, options.limits)) {
			if (entry.isDirectory || !(options.entryFilter ?? isRecordsEntry)(entry.name)) continue;
			yield* parseJsonLines(await entry.open(), { source: entry.name, ...lineOptions(options) }, stats);
		}
	} finally {
		await zip.close();
	}
}
