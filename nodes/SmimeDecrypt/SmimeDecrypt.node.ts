import { Readable } from 'node:stream';
import {
	NodeConnectionTypes,
	NodeOperationError,
	type IBinaryData,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { decryptInWorker } from '../../src/pipeline/inWorker';
import { binaryInputs } from '../shared/binaryInput';
import { decryptedName, mimeTypeFor } from '../shared/exportOutput';
import { eachItem } from '../shared/items';
import { limitOptions, limitsFromOptions } from '../shared/limits';
import { decryptionKey, smimeKeyTest } from '../shared/smimeKey';
import { cancelSignal } from '../shared/transport';

/** The MIME type of decrypted bytes: from the name, else from the first bytes. */
function plaintextMimeType(name: string, head: Buffer): string {
	const byName = mimeTypeFor(name);
	if (byName !== 'application/octet-stream') return byName;
	if (head[0] === 0x50 && head[1] === 0x4b) return 'application/zip';
	const text = head
		.toString('utf8')
		.replace(/^\uFEFF/, '')
		.trimStart();
	if (text.startsWith('{') || text.startsWith('[')) return 'application/json';
	return byName;
}

export class SmimeDecrypt implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Decrypt S/MIME',
		name: 'smimeDecrypt',
		icon: { light: 'file:smimeDecrypt.svg', dark: 'file:smimeDecrypt.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{"from " + ($parameter["binaryPropertyName"] || "every binary field")}}',
		description:
			'Decrypt S/MIME (CMS) files such as Genesys export parts, streaming, with a private key',
		defaults: { name: 'Decrypt S/MIME' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'smimeKeyApi', required: true, testedBy: 'smimeKeyTest' }],
		properties: [
			{
				displayName: 'Input Binary Fields',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'data',
				placeholder: 'data',
				hint: 'Comma-separated; leave empty to decrypt every binary field of the item',
				description: 'The binary fields that hold the encrypted files (.smime, .p7m)',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					...limitOptions(['maxCmsHeaderBytes']),
					{
						displayName: 'Output Binary Field',
						name: 'outputBinaryPropertyName',
						type: 'string',
						default: '',
						description:
							'Where to put the decrypted file; empty: in place of the encrypted one. With several input fields, this is a prefix followed by the input field name.',
					},
					{
						displayName: 'Skip Files That Are Not Encrypted',
						name: 'passThroughPlain',
						type: 'boolean',
						default: false,
						description:
							'Whether a file that is not S/MIME is passed on unchanged instead of failing the item',
					},
				],
			},
		],
	};

	methods = { credentialTest: { smimeKeyTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		return [
			await eachItem(this, async (itemIndex) => {
				const names = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;
				const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
				const outputName = String(options.outputBinaryPropertyName ?? '').trim();
				const inputs = binaryInputs(this, items[itemIndex], itemIndex, names);
				const { maxCmsHeaderBytes } = limitsFromOptions(this, itemIndex, options, [
					'maxCmsHeaderBytes',
				]);
				const key = await decryptionKey(this, itemIndex);
				const binary = { ...(items[itemIndex].binary ?? {}) };
				for (const input of inputs) {
					const fileName = decryptedName(input.source.name);
					// Decrypted in a worker thread (src/pipeline/inWorker.ts), away from n8n's heap; the
					// first block tells the MIME type, and every byte goes to n8n as a stream.
					const store = async (plain: Readable): Promise<IBinaryData> => {
						const iterator = plain[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
						const first = await iterator.next();
						const head = first.done ? Buffer.alloc(0) : first.value;
						const rest = async function* () {
							if (!first.done) yield head;
							for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value;
						};
						return this.helpers.prepareBinaryData(
							Readable.from(rest()),
							fileName,
							plaintextMimeType(fileName, head),
						);
					};
					const done = await decryptInWorker(
						input.source,
						{ key, limits: { maxCmsHeaderBytes }, signal: cancelSignal(this) },
						store,
					);
					if (!done.encrypted) {
						if (options.passThroughPlain === true) continue;
						throw new NodeOperationError(
							this.getNode(),
							`${input.source.name} (binary field "${input.propertyName}") is not an S/MIME encrypted file`,
							{
								itemIndex,
								description:
									done.kind === 'other'
										? 'Expected S/MIME (MIME headers and base64), PEM (BEGIN PKCS7 / BEGIN CMS) or DER'
										: 'It is already a zip: no decryption needed',
							},
						);
					}
					const target =
						outputName === ''
							? input.propertyName
							: inputs.length > 1
								? `${outputName}${input.propertyName}`
								: outputName;
					binary[target] = done.result;
				}
				return [{ json: items[itemIndex].json, binary, pairedItem: { item: itemIndex } }];
			}),
		];
	}
}
