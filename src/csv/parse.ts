/**
 * Streaming CSV (RFC 4180 with a chosen delimiter): quoted fields with doubled quotes, line breaks
 * inside quotes, CRLF or LF, a BOM, a last line without a break. Rows come out one at a time, as
 * objects keyed by the header row; memory holds one row.
 */
import { StringDecoder } from 'node:string_decoder';
import { CxError } from '../errors';

export interface CsvOptions {
	/** One character; default ",". */
	delimiter?: string;
	/** For messages. */
	source?: string;
	/** Longest row in characters (default 16 Mi). */
	maxRowChars?: number;
}

export interface CsvRow {
	/** 1-based number of the line the row starts on. */
	line: number;
	values: Record<string, string>;
}

/** Every row of a CSV stream as arrays of fields. */
export async function* csvFields(
	input: AsyncIterable<Uint8Array | string>,
	options: CsvOptions = {},
): AsyncGenerator<{ line: number; fields: string[] }> {
	const delimiter = options.delimiter ?? ',';
	if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r')
		throw new CxError(
			'USAGE',
			`the CSV delimiter must be one character other than a quote or a line break, not "${delimiter}"`,
		);
	const source = options.source ?? 'the CSV';
	const maxRow = options.maxRowChars ?? 16 * 1024 * 1024;
	const decoder = new StringDecoder('utf8');
	let fields: string[] = [];
	let field = '';
	let rowChars = 0;
	let quoted = false; // inside a quoted field
	let afterQuote = false; // just read the closing quote of a quoted field
	let pendingQuote = false; // read a quote inside a quoted field; the next character tells which
	let pendingCR = false;
	let line = 1;
	let rowLine = 1;
	let first = true;
	let any = false; // the current row has content

	const endRow = function* () {
		fields.push(field);
		if (any || fields.length > 1 || field !== '') yield { line: rowLine, fields };
		fields = [];
		field = '';
		rowChars = 0;
		any = false;
		afterQuote = false;
	};

	for await (const part of input) {
		let text =
			typeof part === 'string'
				? part
				: decoder.write(Buffer.isBuffer(part) ? part : Buffer.from(part));
		if (first && text.length > 0) {
			if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
			first = false;
		}
		for (let i = 0; i < text.length; i++) {
			const c = text[i];
			if (pendingCR) {
				pendingCR = false;
				if (c === '\n') continue;
			}
			if (++rowChars > maxRow)
				throw new CxError(
					'API_FORMAT',
					`${source}: the row starting on line ${rowLine} is longer than ${maxRow} characters`,
				);
			if (pendingQuote) {
				// The quote before this character was either a doubled one or the closing one.
				pendingQuote = false;
				if (c === '"') {
					field += '"';
					continue;
				}
				quoted = false;
				afterQuote = true;
			}
			if (quoted) {
				if (c === '"') pendingQuote = true;
				else {
					if (c === '\n') line++;
					field += c;
				}
				continue;
			}
			if (c === delimiter) {
				fields.push(field);
				field = '';
				afterQuote = false;
				any = true;
			} else if (c === '\n' || c === '\r') {
				yield* endRow();
				if (c === '\r') pendingCR = true;
				line++;
				rowLine = line;
			} else if (c === '"' && field === '' && !afterQuote) {
				quoted = true;
				any = true;
			} else {
				if (afterQuote)
					throw new CxError(
						'API_FORMAT',
						`${source}: line ${line}: text after a closing quote (a quote inside a quoted field must be doubled)`,
					);
				if (c === '"')
					throw new CxError(
						'API_FORMAT',
						`${source}: line ${line}: a quote inside an unquoted field`,
					);
				field += c;
				any = true;
			}
		}
	}
	const rest = decoder.end();
	if (rest.length > 0) field += rest;
	if (pendingQuote) {
		quoted = false;
		afterQuote = true;
	}
	if (quoted)
		throw new CxError(
			'API_FORMAT',
			`${source}: the quoted field that starts on line ${rowLine} never ends`,
		);
	if (any || field !== '' || fields.length > 0) yield* endRow();
}

/** Rows as objects keyed by the header row. Duplicate or empty header names get a suffix. */
export async function* csvRows(
	input: AsyncIterable<Uint8Array | string>,
	options: CsvOptions = {},
): AsyncGenerator<CsvRow> {
	let header: string[] | undefined;
	const source = options.source ?? 'the CSV';
	for await (const { line, fields } of csvFields(input, options)) {
		if (!header) {
			const seen = new Map<string, number>();
			header = fields.map((name, i) => {
				const base = name.trim() === '' ? `column${i + 1}` : name.trim();
				const n = (seen.get(base) ?? 0) + 1;
				seen.set(base, n);
				return n === 1 ? base : `${base}_${n}`;
			});
			continue;
		}
		if (fields.length > header.length)
			throw new CxError(
				'API_FORMAT',
				`${source}: line ${line} has ${fields.length} fields, the header ${header.length}: is the delimiter right?`,
			);
		const values: Record<string, string> = {};
		header.forEach((name, i) =>
			Object.defineProperty(values, name, {
				value: fields[i] ?? '',
				enumerable: true,
				writable: true,
				configurable: true,
			}),
		);
		yield { line, values };
	}
}
