/**
 * Records in chunks, as n8n items: one item per JSON Lines file of up to N records, streamed into
 * n8n's binary data as it is written (never held whole), with where its records come from. The
 * way a large export goes through n8n: n8n holds a hundred small items, not a million records.
 */
import {
	NodeOperationError,
	type IBinaryData,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';
import type { Readable } from 'node:stream';
import {
	checkMaxChunkBytes,
	checkRecordsPerChunk,
	chunkFileName,
	DEFAULT_MAX_CHUNK_BYTES,
	DEFAULT_RECORDS_PER_CHUNK,
	recordChunks,
	type ChunkInfo,
	type ChunkStart,
} from '../../src/jsonl/chunks';
import type { JsonRecord } from '../../src/jsonl/records';
import { updateDisplayOptions } from './descriptions';

export interface ChunkOutputOptions {
	recordsPerChunk: number;
	/** Bytes of JSON Lines a chunk may hold (before compression). */
	maxChunkBytes?: number;
	gzip: boolean;
	binaryPropertyName: string;
	/** Added to every item's JSON (e.g. the run or export the records come from). */
	extra?: IDataObject;
}

const MIB = 1024 * 1024;
const DEFAULT_MAX_CHUNK_MIB = DEFAULT_MAX_CHUNK_BYTES / MIB;

/** The Record Chunks choice of a node's Output parameter. */
export const recordChunksOutput = {
	name: 'Record Chunks',
	value: 'chunks',
	description:
		'JSON Lines files of N records each, one item per chunk: for warehouses and any large export (n8n holds chunks, not records)',
};

/** The parameters of the chunk output, shown where `show` says (the node's output is chunks). */
export function chunkProperties(
	show: Record<string, Array<string | number | boolean>>,
): INodeProperties[] {
	return updateDisplayOptions({ show }, [
		{
			displayName: 'Records per Chunk',
			name: 'recordsPerChunk',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: DEFAULT_RECORDS_PER_CHUNK,
			description:
				'How many records each JSON Lines file holds (records of one source file only). n8n then holds one small item per chunk; a sub-workflow per chunk (Execute Workflow) loads it and frees it.',
		},
		{
			displayName: 'Max Chunk Size (MiB)',
			name: 'maxChunkMiB',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: DEFAULT_MAX_CHUNK_MIB,
			description:
				'A chunk also ends before it passes this size (JSON Lines, before compression), so records with large attachments make smaller chunks. A single record bigger than this is a chunk of its own.',
		},
		{
			displayName: 'Compress Chunks (Gzip)',
			name: 'gzipChunks',
			type: 'boolean',
			default: false,
			description:
				'Whether each chunk is written gzip-compressed (.jsonl.gz, fastest level: JSON Lines become about 5× smaller). Parse JSON Lines reads both.',
		},
	]);
}

/** The chunk parameters of an item, checked. */
export function chunkParameters(
	context: IExecuteFunctions,
	itemIndex: number,
): { recordsPerChunk: number; maxChunkBytes: number; gzip: boolean } {
	const recordsPerChunk = Number(
		context.getNodeParameter('recordsPerChunk', itemIndex, DEFAULT_RECORDS_PER_CHUNK),
	);
	const problem = checkRecordsPerChunk(recordsPerChunk);
	if (problem)
		throw new NodeOperationError(context.getNode(), `Records per Chunk: ${problem}`, { itemIndex });
	const mib = Number(
		context.getNodeParameter('maxChunkMiB', itemIndex, DEFAULT_MAX_CHUNK_BYTES / MIB),
	);
	const maxChunkBytes = Math.round(mib * MIB);
	if (!(mib > 0) || checkMaxChunkBytes(maxChunkBytes))
		throw new NodeOperationError(
			context.getNode(),
			`Max Chunk Size (MiB): must be a positive number, got ${String(mib)}`,
			{ itemIndex },
		);
	return {
		recordsPerChunk,
		maxChunkBytes,
		gzip: context.getNodeParameter('gzipChunks', itemIndex, false) === true,
	};
}

/** Where a chunk's bytes go: streamed into n8n's binary data as they are made. */
export function storeChunk(
	context: IExecuteFunctions,
): (stream: Readable, start: ChunkStart) => Promise<IBinaryData> {
	return async (stream, start) =>
		context.helpers.prepareBinaryData(
			stream,
			chunkFileName(start),
			start.gzip ? 'application/gzip' : 'application/x-ndjson',
		);
}

/** One item per chunk stored by `storeChunk`, with where its records come from. */
export async function chunkItemsOf(
	chunks: AsyncIterable<{ chunk: ChunkInfo; result: IBinaryData }>,
	options: Pick<ChunkOutputOptions, 'binaryPropertyName' | 'extra'>,
): Promise<INodeExecutionData[]> {
	const items: INodeExecutionData[] = [];
	for await (const { chunk, result } of chunks) {
		items.push({
			json: {
				...options.extra,
				fileName: result.fileName ?? chunkFileName(chunk),
				chunk: chunk.index,
				source: chunk.source,
				firstLine: chunk.firstLine,
				lastLine: chunk.lastLine,
				records: chunk.records,
				bytes: chunk.bytes,
				gzip: chunk.gzip,
			},
			binary: { [options.binaryPropertyName]: result },
		});
	}
	return items;
}

/** One item per chunk of `records`; each chunk streamed into n8n's binary data. */
export async function chunkItems(
	context: IExecuteFunctions,
	records: AsyncIterable<JsonRecord>,
	options: ChunkOutputOptions,
): Promise<INodeExecutionData[]> {
	const chunks = recordChunks(
		records,
		{
			recordsPerChunk: options.recordsPerChunk,
			maxChunkBytes: options.maxChunkBytes,
			gzip: options.gzip,
		},
		storeChunk(context),
	);
	return chunkItemsOf(chunks, options);
}
