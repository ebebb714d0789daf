/**
 * n8n binary data as the core's byte sources: read as a stream (`getBinaryStream`) when n8n keeps
 * the file outside memory (filesystem, S3, database modes), never as one buffer.
 */
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
	NodeOperationError,
	type IBinaryData,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';
import type { ByteSource } from '../../src/pipeline/sources';

/** Chunk size asked of n8n's binary data streams. */
const CHUNK = 256 * 1024;

export interface BinaryInput {
	itemIndex: number;
	propertyName: string;
	binary: IBinaryData;
	source: ByteSource;
}

function fileNameOf(binary: IBinaryData, itemIndex: number, propertyName: string): string {
	const name = (binary.fileName ?? '').trim();
	if (name !== '') return name;
	const extension = binary.fileExtension ? `.${binary.fileExtension}` : '';
	return `item-${itemIndex}-${propertyName}${extension}`;
}

/**
 * The file of a binary that n8n keeps in its filesystem mode (`filesystem` / `filesystem-v2` ids), so
 * the core reads it in place (a plain zip is not copied; a worker thread opens it itself). Other
 * modes (database, S3, in memory) are read as streams.
 */
function fileOf(context: IExecuteFunctions, id: string | undefined): string | undefined {
	if (!id || !/^filesystem(-v2)?:/.test(id) || typeof context.helpers.getBinaryPath !== 'function')
		return undefined;
	try {
		const path = context.helpers.getBinaryPath(id);
		return typeof path === 'string' && path !== '' && existsSync(path) ? path : undefined;
	} catch {
		return undefined;
	}
}

/** A byte source over one binary property of an item. */
export function binarySource(
	context: IExecuteFunctions,
	binary: IBinaryData,
	itemIndex: number,
	propertyName: string,
): ByteSource {
	const name = fileNameOf(binary, itemIndex, propertyName);
	const id = binary.id;
	return {
		name,
		path: fileOf(context, id),
		open: async function* (): AsyncGenerator<Buffer> {
			const stream: Readable = id
				? await context.helpers.getBinaryStream(id, CHUNK)
				: Readable.from([Buffer.from(binary.data, 'base64')]);
			for await (const chunk of stream)
				yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
		},
	};
}

/**
 * The binary properties to read from an item: the named ones (comma-separated), or every binary
 * property of the item when `names` is empty. A named property that is missing is an error naming
 * it and the properties the item has.
 */
export function binaryInputs(
	context: IExecuteFunctions,
	item: INodeExecutionData,
	itemIndex: number,
	names: string,
): BinaryInput[] {
	const wanted = names
		.split(',')
		.map((n) => n.trim())
		.filter(Boolean);
	const binaries = item.binary ?? {};
	const available = Object.keys(binaries);
	const chosen = wanted.length > 0 ? wanted : available;
	if (chosen.length === 0) {
		throw new NodeOperationError(context.getNode(), `Item ${itemIndex} has no binary data`, {
			itemIndex,
			description:
				'Give this node files: from a Genesys Data Export download, a Read Files node, an HTTP Request, an S3/SFTP node or an email attachment.',
		});
	}
	return chosen.map((propertyName) => {
		const binary = binaries[propertyName];
		if (!binary) {
			throw new NodeOperationError(
				context.getNode(),
				`Item ${itemIndex} has no binary field "${propertyName}"`,
				{
					itemIndex,
					description:
						available.length > 0
							? `Its binary fields: ${available.join(', ')}`
							: 'It has no binary fields at all',
				},
			);
		}
		return {
			itemIndex,
			propertyName,
			binary,
			source: binarySource(context, binary, itemIndex, propertyName),
		};
	});
}
