/**
 * Turning export files on disk into n8n items: each file as it is (decrypted or not), one merged
 * zip per export, the files inside, or the records. Everything streams from temporary files into
 * n8n's binary data (`prepareBinaryData` with a stream), so a large export never sits in memory
 * here; records are items, and n8n holds those in memory (the `maxRecords` option bounds them).
 */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { DecryptionKey } from '../../src/cms/keys';
import { CxError } from '../../src/errors';
import type { JsonLinesStats } from '../../src/jsonl/records';
import {
	exportRecords,
	groupInputs,
	openZipFile,
	type PipelineLimits,
} from '../../src/pipeline/export';
import { makeTempDir } from '../../src/pipeline/files';
import type { ByteSource } from '../../src/pipeline/sources';
import { mapLimited } from '../../src/pipeline/mapLimited';
import { zipEntries } from '../../src/zip/extract';
import { parsePartName } from '../../src/zip/parts';
import { DEFAULT_RECORDS_PER_CHUNK } from '../../src/jsonl/chunks';
import {
	decryptInWorker,
	exportChunksInWorker,
	reassembleInWorker,
} from '../../src/pipeline/inWorker';
import { chunkItemsOf, storeChunk } from './chunkOutput';
import { addHints, markSkipped, recordHints, type RecordTally } from './recordReport';

export type ExportOutput = 'files' | 'zip' | 'extracted' | 'records' | 'chunks';

export interface OutputOptions {
	output: ExportOutput;
	key?: DecryptionKey;
	binaryPropertyName: string;
	/** Records: what to do with a malformed line. */
	onError?: 'fail' | 'skip';
	/** Records: stop after this many (0: no limit). */
	maxRecords?: number;
	/** Records: add `_source` and `_line`. */
	includeSource?: boolean;
	/** Added to every item's JSON (e.g. the run a file came from). */
	extra?: IDataObject;
	tempDir?: string;
	/** Chunks: records per chunk and gzip. */
	chunks?: { recordsPerChunk: number; maxChunkBytes?: number; gzip: boolean };
	/** The limits set in the node's options (nodes/shared/limits.ts); the core's defaults otherwise. */
	limits?: Partial<PipelineLimits>;
	/** Merged zip: check every entry's CRC-32 while reassembling (default true). */
	verify?: boolean;
	/** Chunks: stops the work (n8n's cancel signal of the execution). */
	signal?: AbortSignal;
	/** Records and chunks: also put the skipped lines on the last item (they are always a hint). */
	skippedOnLastItem?: boolean;
}

export function mimeTypeFor(name: string): string {
	const lower = name.toLowerCase();
	if (lower.endsWith('.smime') || lower.endsWith('.p7m')) return 'application/pkcs7-mime';
	if (/\.(zip|z\d{2,})$/.test(lower)) return 'application/zip';
	if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'application/x-ndjson';
	if (lower.endsWith('.json')) return 'application/json';
	if (lower.endsWith('.csv')) return 'text/csv';
	if (lower.endsWith('.txt')) return 'text/plain';
	return 'application/octet-stream';
}

/** The name a file has once decrypted: without `.smime` / `.p7m`. */
export function decryptedName(name: string): string {
	return name.replace(/\.(smime|p7m)$/i, '') || name;
}

/** Read size when a file is streamed into n8n's binary data: n8n writes each piece as it comes. */
const COPY_CHUNK = 256 * 1024;

/**
 * A local file into n8n's binary data, streamed in 256 KiB pieces (`prepareBinaryData`). n8n's own
 * `nodeHelpers.copyBinaryFile` reads the file in 64 KiB pieces in n8n 2.x (one copy in the kernel in
 * 1.x's filesystem mode): in n8n 2.41 the merged zip of a 231 MiB export took the node 1.31–1.46×
 * the CLI's time this way against 1.44–1.63× through it, and in n8n 1.123 0.98–1.03× against
 * 0.97–1.06× (docs/benchmarks.md). The item's metadata is what prepareBinaryData gives (the
 * extension from the file name), and n8n's `fileSize` being a display string ("1.2 MB"), the exact
 * size in bytes comes from the file.
 */
export async function binaryFromFile(
	context: IExecuteFunctions,
	path: string,
	fileName: string,
	mimeType = mimeTypeFor(fileName),
): Promise<{ binary: IBinaryData; size: number }> {
	const { size } = await stat(path);
	const binary = await context.helpers.prepareBinaryData(
		createReadStream(path, { highWaterMark: COPY_CHUNK }),
		fileName,
		mimeType,
	);
	return { binary, size };
}

function exportNameOf(sources: ByteSource[]): string {
	try {
		return parsePartName(sources[sources.length - 1].name).exportName;
	} catch {
		return decryptedName(sources[0].name).replace(/\.zip$/i, '');
	}
}

/**
 * Items for export files already on disk. `sources` may hold several exports and loose files;
 * `pairedItem` is set by the caller.
 */
export async function exportItems(
	context: IExecuteFunctions,
	sources: ByteSource[],
	options: OutputOptions,
): Promise<INodeExecutionData[]> {
	const items: INodeExecutionData[] = [];
	const extra = options.extra ?? {};
	const limits = options.limits;
	const temp = await makeTempDir(options.tempDir);
	try {
		switch (options.output) {
			case 'files': {
				for (const source of sources) {
					if (options.key) {
						// One pass: the source is decrypted in a worker thread straight into n8n's binary data,
						// or, when it is not encrypted, passed on as it is.
						const name = decryptedName(source.name);
						let size = 0;
						const counted = async function* (plain: AsyncIterable<Buffer>) {
							for await (const piece of plain) {
								size += piece.length;
								yield piece;
							}
						};
						const done = await decryptInWorker(
							source,
							{ key: options.key, limits, tempDir: temp.path, signal: options.signal },
							(plain) =>
								context.helpers.prepareBinaryData(
									Readable.from(counted(plain)),
									name,
									mimeTypeFor(name),
								),
						);
						if (done.encrypted) {
							items.push({
								json: { ...extra, fileName: name, size, decrypted: true },
								binary: { [options.binaryPropertyName]: done.result },
							});
							continue;
						}
					}
					if (!source.path) throw new CxError('IO', `${source.name}: not on disk`);
					const { binary, size } = await binaryFromFile(context, source.path, source.name);
					items.push({
						json: { ...extra, fileName: source.name, size, decrypted: false },
						binary: { [options.binaryPropertyName]: binary },
					});
				}
				break;
			}
			case 'zip': {
				for (const group of groupInputs(sources)) {
					const exportName = exportNameOf(group);
					const path = join(temp.path, `${exportName}.zip`);
					// In a worker thread (src/pipeline/inWorker.ts): decrypting and checking every entry, away from n8n's heap.
					await reassembleInWorker(group, path, {
						key: options.key,
						limits,
						verify: options.verify,
						tempDir: temp.path,
						signal: options.signal,
					});
					const { binary, size } = await binaryFromFile(
						context,
						path,
						`${exportName}.zip`,
						'application/zip',
					);
					items.push({
						json: {
							...extra,
							exportName,
							fileName: `${exportName}.zip`,
							parts: group.length,
							size,
						},
						binary: { [options.binaryPropertyName]: binary },
					});
					await rm(path, { force: true });
					addHints(context, [
						{
							type: 'info',
							location: 'outputPane',
							message: `${exportName}.zip: ${group.length === 1 ? '1 file' : `${group.length} parts merged`}, ${size.toLocaleString('en-US')} bytes${options.verify === false ? '' : ", every entry's CRC-32 checked"}`,
						},
					]);
				}
				break;
			}
			case 'extracted': {
				for (const group of groupInputs(sources)) {
					const exportName = exportNameOf(group);
					// Each file streams from the export's zip straight into n8n's binary data, checked as
					// extraction checks it (names and declared sizes first, then the bytes' size and
					// CRC-32) — not extracted to disk and copied: for 300,000 small files that was
					// millions of file system calls, many minutes. Eight at a time, items in entry order:
					// with S3 or database binary data every write is a round trip.
					// A plain zip on disk is read in place; anything else is reassembled into the temp dir first.
					const zip = await openZipFile(group, { key: options.key, limits, tempDir: temp.path });
					const opened = async function* () {
						// Each entry opened before the next is asked for, as zipEntries requires.
						for await (const entry of zipEntries(zip.path, limits))
							if (!entry.isDirectory) yield { entry, stream: await entry.open() };
					};
					const written = mapLimited(
						opened(),
						8,
						async ({ entry, stream }): Promise<INodeExecutionData> => {
							const fileName = basename(entry.name);
							// A small file goes as bytes (read and checked here): one write, no stream to pipe.
							const data =
								entry.size <= 1024 * 1024 ? Buffer.concat(await stream.toArray()) : stream;
							const binary = await context.helpers.prepareBinaryData(
								data,
								fileName,
								mimeTypeFor(fileName),
							);
							binary.directory = entry.name.includes('/')
								? entry.name.slice(0, entry.name.lastIndexOf('/'))
								: undefined;
							return {
								json: {
									...extra,
									exportName,
									path: entry.name,
									size: entry.size,
									crc32: entry.crc32.toString(16).padStart(8, '0'),
								},
								binary: { [options.binaryPropertyName]: binary },
							};
						},
					);
					const first = items.length;
					try {
						for await (const item of written) items.push(item);
					} finally {
						await zip.close();
					}
					addHints(context, [
						{
							type: 'info',
							location: 'outputPane',
							message: `${exportName}: ${(items.length - first).toLocaleString('en-US')} files from ${group.length === 1 ? '1 file' : `${group.length} parts`}, each checked (size, CRC-32)`,
						},
					]);
				}
				break;
			}
			case 'records': {
				const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
				const max = options.maxRecords && options.maxRecords > 0 ? options.maxRecords : Infinity;
				for await (const record of exportRecords(
					sources,
					{ key: options.key, limits, onError: options.onError, tempDir: temp.path },
					stats,
				)) {
					const value = record.value;
					const json: IDataObject =
						value !== null && typeof value === 'object' && !Array.isArray(value)
							? { ...(value as IDataObject) }
							: { value: value as IDataObject[keyof IDataObject] };
					if (options.includeSource) {
						json._source = record.source;
						json._line = record.line;
					}
					items.push({ json: { ...extra, ...json } });
					if (items.length >= max) break;
				}
				const tally: RecordTally = {
					records: items.length,
					skipped: stats.skipped,
					firstSkipped: stats.firstSkipped,
				};
				if (options.skippedOnLastItem === true) markSkipped(items, tally, 'record');
				addHints(context, recordHints(tally));
				break;
			}
			case 'chunks': {
				const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
				// Made in a worker thread: inside n8n, this thread's heap holds n8n, and every buffer the
				// pipeline makes here would bring on collections of all of it (twice the time).
				const made = exportChunksInWorker(
					sources,
					{
						key: options.key,
						limits,
						onError: options.onError,
						tempDir: temp.path,
						maxRecords: options.maxRecords,
						chunks: {
							recordsPerChunk: options.chunks?.recordsPerChunk ?? DEFAULT_RECORDS_PER_CHUNK,
							maxChunkBytes: options.chunks?.maxChunkBytes,
							gzip: options.chunks?.gzip === true,
						},
						signal: options.signal,
					},
					stats,
					storeChunk(context),
				);
				const chunks = await chunkItemsOf(made, {
					binaryPropertyName: options.binaryPropertyName,
					extra,
				});
				const tally: RecordTally = {
					records: 0,
					skipped: stats.skipped,
					firstSkipped: stats.firstSkipped,
					chunks: chunks.length,
				};
				for (const item of chunks) {
					items.push(item);
					tally.records += Number(item.json.records);
				}
				if (options.skippedOnLastItem === true) markSkipped(items, tally, 'chunk');
				addHints(context, recordHints(tally));
				break;
			}
			default:
				throw new CxError('USAGE', `unknown output "${String(options.output)}"`);
		}
	} finally {
		await temp.remove();
	}
	return items;
}
