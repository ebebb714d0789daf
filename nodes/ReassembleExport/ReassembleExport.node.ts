import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import type { DecryptionKey } from '../../src/cms';
import { groupInputs } from '../../src/pipeline/export';
import type { ByteSource } from '../../src/pipeline/sources';
import { parsePartName } from '../../src/zip';
import { binaryInputs } from '../shared/binaryInput';
import { toNodeError } from '../shared/errors';
import { chunkParameters, chunkProperties, recordChunksOutput } from '../shared/chunkOutput';
import { cancelSignal } from '../shared/transport';
import { exportItems } from '../shared/exportOutput';
import { limitOptions, limitsFromOptions, ZIP_LIMITS } from '../shared/limits';
import { errorItem } from '../shared/items';
import { decryptionKey, hasKeyCredential, smimeKeyTest } from '../shared/smimeKey';

function exportNameOf(group: ByteSource[]): string {
	try {
		return parsePartName(group[0].name).exportName;
	} catch {
		return group[0].name;
	}
}

export class ReassembleExport implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Reassemble Export',
		name: 'reassembleExport',
		icon: { light: 'file:reassembleExport.svg', dark: 'file:reassembleExport.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle:
			'={{$parameter["output"] === "zip" ? "merged zip" : $parameter["output"] === "chunks" ? "record chunks" : "extracted files"}}',
		description:
			'Put the parts of split exports (.z01 … .zip, encrypted or not) back together: one zip per export, or the files inside',
		defaults: { name: 'Reassemble Export' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		// Always shown, optional: a credential shown by a boolean makes n8n's editor take that boolean for
		// the node's authentication choice and hide it. Encrypted parts without a key are an error that says so.
		credentials: [{ name: 'smimeKeyApi', required: false, testedBy: 'smimeKeyTest' }],
		properties: [
			{
				displayName: 'Input Binary Fields',
				name: 'binaryPropertyName',
				type: 'string',
				default: '',
				placeholder: 'data',
				hint: 'Comma-separated; leave empty to take every binary field of every item',
				description:
					'The binary fields holding the parts. Parts may come one per item or several on one item, in any order; they are grouped by export name.',
			},
			{
				displayName: 'Decrypt Parts',
				name: 'decrypt',
				type: 'boolean',
				default: true,
				description:
					'Whether encrypted parts (.smime) are decrypted with the S/MIME Decryption Key API credential (parts already decrypted pass as they are)',
			},
			{
				displayName: 'Output',
				name: 'output',
				type: 'options',
				options: [
					{
						name: 'Merged Zip',
						value: 'zip',
						description: 'One item per export: an ordinary zip any tool opens',
					},
					{
						name: 'Extracted Files',
						value: 'extracted',
						description: 'One item per file inside the export, with its path, size and CRC-32',
					},
					recordChunksOutput,
				],
				default: 'zip',
			},
			{
				displayName: 'Verify Entries',
				name: 'verifyEntries',
				type: 'boolean',
				default: true,
				displayOptions: { show: { output: ['zip'] } },
				description:
					'Whether to inflate every file of the export and check its CRC-32 while the zip is put together, so that parts swapped or out of order stop the node instead of giving a corrupt zip. Turn off to save time when the zip is checked later (Extracted Files and Record Chunks always check every file).',
			},
			...chunkProperties({ output: ['chunks'] }),
			{
				displayName: 'Put Output File in Field',
				name: 'outputBinaryPropertyName',
				type: 'string',
				default: 'data',
				hint: 'The name of the output binary field to put the file in',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					...limitOptions(['maxCmsHeaderBytes'], { show: { '/decrypt': [true] } }),
					...limitOptions(['maxCentralDirectoryBytes']),
					...limitOptions(ZIP_LIMITS, { show: { '/output': ['extracted', 'chunks'] } }),
					...limitOptions(['maxLineBytes'], { show: { '/output': ['chunks'] } }),
				],
			},
		],
	};

	methods = { credentialTest: { smimeKeyTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const output: INodeExecutionData[] = [];
		const itemsOf = new Map<ByteSource, number>();
		const sources: ByteSource[] = [];
		const fail = (error: unknown, itemIndexes: number[], exportName?: string) => {
			const nodeError = toNodeError(this.getNode(), error, itemIndexes[0]);
			if (!this.continueOnFail()) throw nodeError;
			const item = errorItem(nodeError, itemIndexes);
			if (exportName !== undefined) item.json.exportName = exportName;
			output.push(item);
		};

		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const names = this.getNodeParameter('binaryPropertyName', itemIndex, '') as string;
				for (const input of binaryInputs(this, items[itemIndex], itemIndex, names)) {
					itemsOf.set(input.source, itemIndex);
					sources.push(input.source);
				}
			} catch (error) {
				fail(error, [itemIndex]);
			}
		}

		let key: DecryptionKey | undefined;
		for (const group of groupInputs(sources)) {
			const itemIndexes = [...new Set(group.map((source) => itemsOf.get(source) ?? 0))].sort(
				(a, b) => a - b,
			);
			const first = itemIndexes[0];
			try {
				const outputMode = this.getNodeParameter('output', first, 'zip') as
					| 'zip'
					| 'extracted'
					| 'chunks';
				if (outputMode !== 'zip' && outputMode !== 'extracted' && outputMode !== 'chunks')
					throw new NodeOperationError(this.getNode(), `Unknown output "${String(outputMode)}"`, {
						itemIndex: first,
					});
				// The key is needed when a credential is selected or a part is named as encrypted;
				// plain parts reassemble without one.
				const decrypt = this.getNodeParameter('decrypt', first, true) === true;
				if (
					decrypt &&
					(hasKeyCredential(this) || group.some((source) => /\.smime$/i.test(source.name)))
				)
					key ??= await decryptionKey(this, first);
				const options = this.getNodeParameter('options', first, {}) as IDataObject;
				const limits = limitsFromOptions(this, first, options, [
					'maxCmsHeaderBytes',
					'maxCentralDirectoryBytes',
					...ZIP_LIMITS,
					'maxLineBytes',
				]);
				const produced = await exportItems(this, group, {
					output: outputMode,
					key,
					limits,
					verify:
						outputMode !== 'zip' || this.getNodeParameter('verifyEntries', first, true) !== false,
					binaryPropertyName: this.getNodeParameter(
						'outputBinaryPropertyName',
						first,
						'data',
					) as string,
					chunks: outputMode === 'chunks' ? chunkParameters(this, first) : undefined,
					extra: outputMode === 'chunks' ? { exportName: exportNameOf(group) } : undefined,
					signal: cancelSignal(this),
				});
				const pairedItem = itemIndexes.map((item) => ({ item }));
				for (const item of produced) {
					item.pairedItem = pairedItem;
					output.push(item);
				}
			} catch (error) {
				fail(error, itemIndexes, exportNameOf(group));
			}
		}
		return [output];
	}
}
