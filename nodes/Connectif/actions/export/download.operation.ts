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
import type { ConnectifClient } from '../../../../src/connectif/client';
import { csvRows } from '../../../../src/csv/parse';
import { makeTempDir } from '../../../../src/pipeline/files';
import { zipEntries } from '../../../../src/zip';
import { binaryFromFile } from '../../../shared/exportOutput';
import { forOperations } from '../common';

/** Export ID is a field shared with other operations (see ./index.ts). */
export const description: INodeProperties[] = forOperations(
	'export',
	['download'],
	[
		{
			displayName: 'Output',
			name: 'output',
			type: 'options',
			options: [
				{
					name: 'Rows',
					value: 'rows',
					description: "One item per CSV row, read with the export's delimiter",
				},
				{ name: 'CSV File', value: 'csv', description: 'The CSV file inside the zip' },
				{ name: 'Zip File', value: 'zip', description: 'The file as Connectif serves it' },
			],
			default: 'rows',
		},
		{
			displayName: 'Put Output File in Field',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			hint: 'The name of the output binary field to put the file in',
			displayOptions: { show: { output: ['csv', 'zip'] } },
		},
		{
			displayName: 'Max Rows',
			name: 'maxRows',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description: 'Stop after this many rows (0: all). n8n keeps output items in memory.',
			displayOptions: { show: { output: ['rows'] } },
		},
	],
);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	client: ConnectifClient,
): Promise<INodeExecutionData[]> {
	const id = (this.getNodeParameter('exportId', itemIndex) as string).trim();
	const output = this.getNodeParameter('output', itemIndex, 'rows') as 'rows' | 'csv' | 'zip';
	const pairedItem = { item: itemIndex };
	// A fresh read: its fileUrl is good for 100 minutes.
	const exp = await client.getExport(id);
	const temp = await makeTempDir();
	try {
		const zipPath = join(temp.path, `${id}.zip`);
		await pipeline(
			Readable.from(client.downloadExport(exp, Date.now()).chunks),
			createWriteStream(zipPath, { flags: 'wx' }),
		);
		const info: IDataObject = { exportId: exp.id, exportType: exp.exportType ?? null };
		if (output === 'zip') {
			const field = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;
			const { binary, size } = await binaryFromFile(
				this,
				zipPath,
				exp.fileName ?? `${id}.zip`,
				'application/zip',
			);
			return [
				{
					json: { ...info, fileName: binary.fileName ?? `${id}.zip`, size },
					binary: { [field]: binary },
					pairedItem,
				},
			];
		}
		const items: INodeExecutionData[] = [];
		const max = Number(this.getNodeParameter('maxRows', itemIndex, 0)) || Infinity;
		for await (const entry of zipEntries(zipPath)) {
			if (entry.isDirectory) continue;
			if (!/\.(csv|txt)$/i.test(entry.name)) {
				await entry.check(); // a name that differs in the local header must not hide rows
				continue;
			}
			if (output === 'csv') {
				const field = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;
				const binary = await this.helpers.prepareBinaryData(
					await entry.open(),
					entry.name.split('/').pop() ?? entry.name,
					'text/csv',
				);
				items.push({
					json: { ...info, fileName: entry.name, size: entry.size },
					binary: { [field]: binary },
					pairedItem,
				});
				continue;
			}
			for await (const row of csvRows(await entry.open(), {
				delimiter: exp.delimiter === ';' ? ';' : ',',
				source: entry.name,
			})) {
				items.push({ json: row.values as IDataObject, pairedItem });
				if (items.length >= max) return items;
			}
		}
		if (items.length === 0 && output === 'csv')
			throw new NodeOperationError(this.getNode(), `The file of export ${id} holds no CSV`, {
				itemIndex,
			});
		return items;
	} finally {
		await temp.remove();
	}
}
