import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';
import type { GenesysClient } from '../../../../src/genesys/client';
import { makeTempDir } from '../../../../src/pipeline/files';
import { fileSource, type ByteSource } from '../../../../src/pipeline/sources';
import { chunkParameters, chunkProperties, recordChunksOutput } from '../../../shared/chunkOutput';
import { runIdFields, updateDisplayOptions } from '../../../shared/descriptions';
import { exportItems, type ExportOutput } from '../../../shared/exportOutput';
import { limitOptions, limitsFromOptions, ZIP_LIMITS } from '../../../shared/limits';
import { malformedLinesOption, skippedOnItemOption } from '../../../shared/recordReport';
import { decryptionKey } from '../../../shared/smimeKey';
import { chosenId } from '../ids';
import { cancelSignal } from '../../../shared/transport';

export const description: INodeProperties[] = updateDisplayOptions(
	{ show: { resource: ['file'], operation: ['download'] } },
	[
		{
			displayName: 'Files Of',
			name: 'filesOf',
			type: 'options',
			options: [
				{
					name: 'An Export Run',
					value: 'run',
					description: 'Every file the run produced (all parts of a split export)',
				},
				{ name: 'Named Files', value: 'names', description: 'The files named below' },
			],
			default: 'run',
		},
		...updateDisplayOptions(
			{ show: { filesOf: ['run'] } },
			runIdFields({
				v1: { placeholder: undefined },
				description: 'The export run whose files to download',
			}),
		),
		{
			displayName: 'File Names',
			name: 'fileNames',
			type: 'string',
			required: true,
			default: '',
			displayOptions: { show: { filesOf: ['names'] } },
			placeholder: 'export-2b71….z01.smime, export-2b71….zip.smime',
			description: 'Comma-separated file names (or an array from an expression)',
		},
		{
			displayName: 'Decrypt',
			name: 'decrypt',
			type: 'boolean',
			default: true,
			description:
				'Whether to decrypt the S/MIME files with the key of the S/MIME Decryption Key API credential',
		},
		{
			displayName: 'Output',
			name: 'output',
			type: 'options',
			options: [
				{
					name: 'Files as Downloaded',
					value: 'files',
					description: 'One item per file (decrypted when asked)',
				},
				{
					name: 'Merged Zip',
					value: 'zip',
					description: 'One item per export: the parts of a split export put back together',
				},
				{
					name: 'Extracted Files',
					value: 'extracted',
					description: 'One item per file inside the export (the JSON Lines files)',
				},
				{
					name: 'Records',
					value: 'records',
					description: 'One item per record of the JSON Lines files (for CRMs and small runs)',
				},
				recordChunksOutput,
			],
			default: 'files',
		},
		...chunkProperties({ output: ['chunks'] }),
		{
			displayName: 'Put Output File in Field',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			displayOptions: { hide: { output: ['records'] } },
			hint: 'The name of the output binary field to put the file in',
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				...updateDisplayOptions({ show: { '/output': ['records', 'chunks'] } }, [
					malformedLinesOption(false),
					{
						displayName: 'Max Records',
						name: 'maxRecords',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 0,
						description:
							'Stop after this many records (0: all). n8n keeps output items in memory: for large exports use Record Chunks.',
					},
					skippedOnItemOption,
				]),
				{
					displayName: 'Include Source',
					name: 'includeSource',
					type: 'boolean',
					default: false,
					displayOptions: { show: { '/output': ['records'] } },
					description: 'Whether to add _source (file in the export) and _line to every record',
				},
				...limitOptions(['maxCmsHeaderBytes'], { show: { '/decrypt': [true] } }),
				...limitOptions(['maxCentralDirectoryBytes'], {
					show: { '/output': ['zip', 'extracted', 'records', 'chunks'] },
				}),
				...limitOptions(ZIP_LIMITS, { show: { '/output': ['extracted', 'records', 'chunks'] } }),
				...limitOptions(['maxLineBytes'], { show: { '/output': ['records', 'chunks'] } }),
			],
		},
	],
);

const DOWNLOAD_LIMITS = [
	'maxCmsHeaderBytes',
	'maxCentralDirectoryBytes',
	...ZIP_LIMITS,
	'maxLineBytes',
] as const;

function namesFrom(value: unknown): string[] {
	const list = Array.isArray(value) ? value.map(String) : String(value ?? '').split(',');
	return list.map((name) => name.trim()).filter(Boolean);
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: GenesysClient,
): Promise<INodeExecutionData[]> {
	const filesOf = this.getNodeParameter('filesOf', itemIndex) as string;
	const output = this.getNodeParameter('output', itemIndex, 'files') as ExportOutput;
	const decrypt = this.getNodeParameter('decrypt', itemIndex, true) as boolean;
	const binaryPropertyName =
		output === 'records'
			? 'data'
			: (this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string);
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const chunks = output === 'chunks' ? chunkParameters(this, itemIndex) : undefined;
	const limits = limitsFromOptions(this, itemIndex, options, [...DOWNLOAD_LIMITS]);

	let names: string[];
	const extra: IDataObject = {};
	if (filesOf === 'run') {
		const runId = chosenId(this, 'runId', itemIndex);
		names = (await client.runFiles(runId)).map((file) => file.name);
		extra.runId = Number(runId);
		if (names.length === 0) {
			throw new NodeOperationError(this.getNode(), `Export run ${runId} has no files`, {
				itemIndex,
				description:
					'The run may still be in progress, may have failed, or its files are older than the 30-day retention',
			});
		}
	} else {
		names = namesFrom(this.getNodeParameter('fileNames', itemIndex));
		if (names.length === 0)
			throw new NodeOperationError(this.getNode(), 'No file names given', { itemIndex });
	}
	const key = decrypt ? await decryptionKey(this, itemIndex) : undefined;

	const temp = await makeTempDir();
	try {
		const sources: ByteSource[] = [];
		for (const name of names) {
			if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') {
				throw new NodeOperationError(this.getNode(), `"${name}" is not a file name`, { itemIndex });
			}
			const path = join(temp.path, name);
			const download = client.downloadFile(name);
			await pipeline(Readable.from(download.chunks), createWriteStream(path, { flags: 'wx' }));
			sources.push(await fileSource(path, name));
		}
		const items = await exportItems(this, sources, {
			output,
			key,
			binaryPropertyName,
			onError: options.onError === 'skip' ? 'skip' : 'fail',
			maxRecords: Number(options.maxRecords ?? 0),
			includeSource: options.includeSource === true,
			skippedOnLastItem: options.skippedOnLastItem === true,
			extra,
			tempDir: temp.path,
			chunks,
			limits,
			signal: cancelSignal(this),
		});
		const pairedItem = { item: itemIndex };
		for (const item of items) item.pairedItem = pairedItem;
		return items;
	} finally {
		await temp.remove();
	}
}
