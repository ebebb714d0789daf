import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INode,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { constants } from 'node:buffer';
import { recordKindForEntry, validateRecord } from '../../src/jsonl/schemas';
import type { LimitName } from '../../src/limits';
import type { JsonLinesStats, JsonRecord, RecordBlock, SkippedLine } from '../../src/jsonl/records';
import { sliceBlocks } from '../../src/jsonl/chunks';
import { exportRecordBlocks, exportRecords, isRecordsEntry } from '../../src/pipeline/export';
import { globMatcher } from '../../src/pipeline/glob';
import { sliceRecords } from '../../src/pipeline/slice';
import { exportChunksInWorker } from '../../src/pipeline/inWorker';
import { binaryInputs } from '../shared/binaryInput';
import {
	chunkItems,
	chunkItemsOf,
	chunkParameters,
	chunkProperties,
	recordChunksOutput,
	storeChunk,
} from '../shared/chunkOutput';
import { toNodeError } from '../shared/errors';
import { errorItem } from '../shared/items';
import { limitOptions, limitsFromOptions, ZIP_LIMITS } from '../shared/limits';
import {
	addHints,
	addTally,
	malformedLinesOption,
	markSkipped,
	recordHints,
	skippedOnItemOption,
	type RecordTally,
} from '../shared/recordReport';
import { cancelSignal } from '../shared/transport';

type OnError = 'fail' | 'skip' | 'output';

/** The limits this node can hit: the line size, and those of a zip it reads. */
const PARSE_LIMITS: LimitName[] = ['maxLineBytes', ...ZIP_LIMITS];

/** ALLATTRIBUTES' fields as top-level fields; a name already taken gets the prefix `ALLATTRIBUTES_`. */
export function flattenAllAttributes(record: IDataObject): IDataObject {
	const key = Object.keys(record).find((name) => name.toUpperCase() === 'ALLATTRIBUTES');
	const attributes = key === undefined ? undefined : record[key];
	if (
		key === undefined ||
		attributes === null ||
		typeof attributes !== 'object' ||
		Array.isArray(attributes)
	)
		return record;
	const flat: IDataObject = {};
	for (const [name, value] of Object.entries(record)) if (name !== key) flat[name] = value;
	for (const [name, value] of Object.entries(attributes as IDataObject)) {
		const target = Object.hasOwn(flat, name) ? `ALLATTRIBUTES_${name}` : name;
		Object.defineProperty(flat, target, {
			value,
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	return flat;
}

/**
 * The records' lines as one string, each followed by a line break. One n8n field holds one V8
 * string, so more than V8's longest string is refused (long before that, a chunk is the better
 * unit: Record Chunks cut at 16 MiB by default).
 */
async function jsonLinesText(
	records: AsyncIterable<JsonRecord | RecordBlock>,
	node: INode,
	itemIndex: number,
): Promise<{ text: string; count: number }> {
	const parts: Buffer[] = [];
	let bytes = 0;
	let count = 0;
	for await (const next of records) {
		// Blocks are whole lines, each with its line break; a record is one line without it.
		const block = 'bytes' in next;
		count += block ? next.records : 1;
		bytes += block ? next.bytes.length : next.raw.length + 1;
		if (bytes > MAX_TEXT_BYTES) {
			throw new NodeOperationError(
				node,
				`The records of item ${itemIndex} make more than ${MAX_TEXT_BYTES} bytes of text, more than one field can hold`,
				{
					itemIndex,
					description:
						'Cut them into Record Chunks first (Output: Record Chunks), then turn each chunk into text',
				},
			);
		}
		if (block) parts.push(next.bytes);
		else parts.push(next.raw, NEWLINE);
	}
	return { text: Buffer.concat(parts, bytes).toString('utf8'), count };
}

const NEWLINE = Buffer.from('\n');
/** V8's longest string, in UTF-16 code units: at most as many as the UTF-8 bytes behind it. */
const MAX_TEXT_BYTES = Math.min(constants.MAX_STRING_LENGTH, 1024 ** 3);

export class ParseJsonLines implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Parse JSON Lines',
		name: 'parseJsonLines',
		icon: { light: 'file:parseJsonLines.svg', dark: 'file:parseJsonLines.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle:
			'={{({ chunks: "chunks from ", text: "text from " }[$parameter["output"]] ?? "from ") + $parameter["binaryPropertyName"]}}',
		description:
			'Turn JSON Lines files, or zips of them (Genesys contact history exports), into one item per record',
		defaults: { name: 'Parse JSON Lines' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: `={{ $parameter.options?.onError === "output" ? [{ "type": "main", "displayName": "Records" }, { "type": "main", "displayName": "Errors" }] : [{ "type": "main", "displayName": "Records" }] }}`,
		properties: [
			{
				displayName: 'Input Binary Field',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'data',
				hint: 'Comma-separated for several; leave empty to read every binary field',
				description:
					'The binary field holding a JSON Lines file (plain or gzip), a zip of JSON Lines files (already decrypted), or a record chunk',
			},
			{
				displayName: 'Output',
				name: 'output',
				type: 'options',
				options: [
					{
						name: 'Records',
						value: 'records',
						description:
							'One item per record: for CRMs, sheets and runs of up to about 100,000 records',
					},
					recordChunksOutput,
					{
						name: 'JSON Lines Text',
						value: 'text',
						description:
							"The input item with its records added as one text field of JSON Lines (each line checked): for a database to load a record chunk in one statement, e.g. PostgreSQL's string_to_table(…)::jsonb",
					},
				],
				default: 'records',
			},
			{
				displayName: 'Put Text in Field',
				name: 'textField',
				type: 'string',
				default: 'lines',
				displayOptions: { show: { output: ['text'] } },
				hint: "The input item's fields are kept; its binary data is not passed on",
				description:
					'The field to hold the records as JSON Lines text (one record per line, each ending with a line break)',
			},
			...chunkProperties({ output: ['chunks'] }),
			{
				displayName: 'Put Output File in Field',
				name: 'outputBinaryPropertyName',
				type: 'string',
				default: 'data',
				displayOptions: { show: { output: ['chunks'] } },
				hint: 'The name of the output binary field to put each chunk in',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Add Source and Line',
						name: 'includeSource',
						type: 'boolean',
						default: false,
						description:
							'Whether to add _source (the file, or the entry in the zip) and _line (1-based) to every record',
						displayOptions: { show: { '/output': ['records'] } },
					},
					{
						displayName: 'Entries',
						name: 'entries',
						type: 'string',
						default: '',
						placeholder: 'Interaction-*.json, Contact-*.json',
						description:
							'For zips: which entries to read (comma-separated patterns, * and ? and **). Empty: every JSON and JSON Lines entry (by its name) except schema files.',
					},
					{
						displayName: 'Flatten ALLATTRIBUTES',
						name: 'flattenAllAttributes',
						type: 'boolean',
						default: false,
						description:
							"Whether to move the fields of an interaction's ALLATTRIBUTES object to the top level (a name already taken gets the prefix ALLATTRIBUTES_)",
						displayOptions: { show: { '/output': ['records'] } },
					},
					malformedLinesOption(true),
					skippedOnItemOption,
					...limitOptions(PARSE_LIMITS),
					{
						displayName: 'Max Records',
						name: 'maxRecords',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 0,
						description:
							'Stop after this many records per input item (0: all). n8n keeps every output item in memory: for large exports use the Record Chunks output.',
					},
					{
						displayName: 'Skip Records',
						name: 'skipRecords',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 0,
						description: 'Start after this many records',
					},
					{
						displayName: 'Validate CDDS Records',
						name: 'validate',
						type: 'boolean',
						default: false,
						description:
							'Whether records of Genesys contact history files (Interaction, attachments, Contact, Contact Attribute) are checked against their documented schema; a record that does not fit is treated as a malformed line',
					},
				],
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const records: INodeExecutionData[] = [];
		const errors: INodeExecutionData[] = [];
		let errorOutput = false;
		const total: RecordTally = { records: 0, skipped: 0 };

		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
			const onError = (
				['fail', 'skip', 'output'].includes(String(options.onError)) ? options.onError : 'fail'
			) as OnError;
			errorOutput ||= onError === 'output';
			const pairedItem = { item: itemIndex };
			// Produced items go straight to the output (one by one: push(...list) overflows the call
			// stack past ~120,000 items); on failure they are taken back, so no partial output remains.
			const firstProduced = records.length;
			const firstError = errors.length;
			try {
				const output = this.getNodeParameter('output', itemIndex, 'records') as
					| 'records'
					| 'chunks'
					| 'text';
				// Chunks and text pass each line's bytes on: checked by the byte scanner, not built as objects (unless validated).
				const lazyValues = output !== 'records' && options.validate !== true;
				const names = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;
				const entries = String(options.entries ?? '').trim();
				const entryFilter = entries === '' ? isRecordsEntry : globMatcher(entries);
				const max = Number(options.maxRecords ?? 0) > 0 ? Number(options.maxRecords) : Infinity;
				const skip = Math.max(0, Number(options.skipRecords ?? 0));
				const limits = limitsFromOptions(this, itemIndex, options, PARSE_LIMITS);
				const stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 };
				const tally: RecordTally = { records: 0, skipped: 0 };
				const badLine = (bad: SkippedLine) => {
					if (onError === 'output')
						errors.push({
							json: {
								source: bad.source,
								line: bad.line,
								reason: bad.reason,
								message: bad.message,
							},
							pairedItem,
						});
				};
				const node = this.getNode();
				const inputs = binaryInputs(this, items[itemIndex], itemIndex, names);
				/** The item's records: every input in turn, checked against the CDDS schemas when asked. */
				async function* checked(): AsyncGenerator<JsonRecord> {
					for (const input of inputs) {
						for await (const record of exportRecords(
							[input.source],
							{
								limits,
								onError: onError === 'fail' ? 'fail' : 'skip',
								onSkip: badLine,
								entryFilter,
								lazyValues,
							},
							stats,
						)) {
							if (options.validate === true) {
								const kind = recordKindForEntry(record.source);
								const result = kind ? validateRecord(kind, record.value) : undefined;
								if (result && !result.ok) {
									const message = `${record.source}:${record.line}: ${result.reason}`;
									if (onError === 'fail')
										throw new NodeOperationError(node, message, {
											itemIndex,
											description: `The record does not fit the documented ${kind} schema`,
										});
									stats.skipped++;
									stats.firstSkipped ??= message;
									badLine({
										source: record.source,
										line: record.line,
										reason: result.reason,
										message,
									});
									continue;
								}
							}
							yield record;
						}
					}
				}
				const wanted = sliceRecords(checked(), skip, max);
				/** The item's records as blocks of lines: every input in turn. */
				async function* blocks(): AsyncGenerator<RecordBlock> {
					for (const input of inputs)
						yield* exportRecordBlocks(
							[input.source],
							{
								limits,
								onError: onError === 'fail' ? 'fail' : 'skip',
								onSkip: badLine,
								entryFilter,
							},
							stats,
						);
				}

				if (output === 'chunks') {
					const binaryPropertyName = this.getNodeParameter(
						'outputBinaryPropertyName',
						itemIndex,
						'data',
					) as string;
					const chunking = chunkParameters(this, itemIndex);
					// In a worker thread (see src/pipeline/inWorker.ts) unless records are checked against
					// the schemas or bad lines become items: those need this thread.
					const chunks =
						options.validate !== true && onError !== 'output'
							? await chunkItemsOf(
									exportChunksInWorker(
										inputs.map((input) => input.source),
										{
											limits,
											onError,
											entries: entries || undefined,
											eachSourceAlone: true,
											skipRecords: skip,
											maxRecords: max === Infinity ? 0 : max,
											chunks: chunking,
											signal: cancelSignal(this),
										},
										stats,
										storeChunk(this),
									),
									{ binaryPropertyName },
								)
							: await chunkItems(this, wanted, { ...chunking, binaryPropertyName });
					for (const chunk of chunks) {
						chunk.pairedItem = pairedItem;
						records.push(chunk);
						tally.records += Number(chunk.json.records);
					}
					tally.chunks = chunks.length;
				} else if (output === 'text') {
					const field =
						String(this.getNodeParameter('textField', itemIndex, 'lines')).trim() || 'lines';
					// Unless records are checked against the schemas, the lines go through as blocks of
					// bytes (checked by the byte scanner, no object per record: 10–20 % faster).
					const { text, count } = await jsonLinesText(
						options.validate === true ? wanted : sliceBlocks(blocks(), skip, max),
						node,
						itemIndex,
					);
					records.push({ json: { ...items[itemIndex].json, [field]: text }, pairedItem });
					tally.records = count;
				} else {
					for await (const record of wanted) {
						let json = record.value as IDataObject;
						if (options.flattenAllAttributes === true) json = flattenAllAttributes(json);
						if (options.includeSource === true)
							json = { ...json, _source: record.source, _line: record.line };
						records.push({ json, pairedItem });
					}
					tally.records = records.length - firstProduced;
				}
				if (onError === 'skip') {
					tally.skipped = stats.skipped;
					tally.firstSkipped = stats.firstSkipped;
				}
				if (options.skippedOnLastItem === true && records.length > firstProduced)
					markSkipped(records, tally, output === 'records' ? 'record' : 'chunk');
				addTally(total, tally);
			} catch (error) {
				records.length = firstProduced;
				errors.length = firstError;
				const nodeError = toNodeError(this.getNode(), error, itemIndex);
				if (!this.continueOnFail()) throw nodeError;
				records.push(errorItem(nodeError, itemIndex));
			}
		}
		addHints(this, recordHints(total));
		return errorOutput ? [records, errors] : [records];
	}
}
