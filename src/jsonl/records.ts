/**
 * Streaming JSON Lines: one record (a JSON object) per line. Handles a UTF-8 BOM, LF and CRLF,
 * blank lines, a last line without a newline, and single lines of tens of MB (attachment CONTENT is
 * base64 inside one line) without quadratic copying: the pieces of a line are collected and joined
 * once. A line longer than `maxLineBytes` is refused before more than that is held in memory.
 */
import { CxError } from '../errors';
import { jsonObjectProblem } from './validate';

export interface JsonLinesOptions {
	/** The entry or file name used in messages (`<source>:<line>: <reason>`). */
	source: string;
	/** `fail` (default) stops at the first malformed line; `skip` counts it and goes on. */
	onError?: 'fail' | 'skip';
	/** Longest line accepted, in bytes (default 256 MiB). */
	maxLineBytes?: number;
}

export interface JsonRecord {
	/** The record. For very long lines it is parsed on first access (they are validated without it). */
	readonly value: Record<string, unknown>;
	/** The line's bytes as they were (no BOM, no line break): for writers that pass records through. */
	raw: Buffer;
	/** 1-based line number in the source. */
	line: number;
	source: string;
}

export interface JsonLinesStats {
	records: number;
	skipped: number;
	lines: number;
	/** The message of the first skipped line. */
	firstSkipped?: string;
}

export const DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024;

/**
 * Lines at least this long are validated by a byte scanner instead of JSON.parse; their value is
 * parsed only if someone reads it (the CLI passes them through without ever doing so).
 */
const LONG_LINE_BYTES = 1024 * 1024;

class LongLineRecord implements JsonRecord {
	private parsed?: Record<string, unknown>;

	constructor(
		readonly raw: Buffer,
		readonly line: number,
		readonly source: string,
	) {}

	get value(): Record<string, unknown> {
		this.parsed ??= JSON.parse(this.raw.toString('utf8')) as Record<string, unknown>;
		return this.parsed;
	}
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Why a line is not a record, in a few words, without echoing the (possibly personal) data. */
function parseLine(bytes: Buffer): { value: Record<string, unknown> } | { reason: string } {
	let text: string;
	try {
		text = decoder.decode(bytes);
	} catch {
		return { reason: 'not valid UTF-8' };
	}
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		return { reason: shortReason((error as Error).message) };
	}
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		return { reason: `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}` };
	}
	return { value: value as Record<string, unknown> };
}

function shortReason(message: string): string {
	// V8 quotes the offending JSON text (`… "{"a":2" is not valid JSON`): keep the position, not the data.
	const position = /position (\d+)/.exec(message);
	if (/Unexpected end of JSON input/.test(message)) return 'invalid JSON: the line ends in the middle of a value';
	const token = /Unexpected token '?(.)'?/.exec(message) ?? /Unexpected (\w+)/.exec(message);
	const what = token ? `unexpected ${token[1].length === 1 ? `'${token[1]}'` : token[1]}` : 'invalid JSON';
	return position ? `invalid JSON: ${what} at column ${Number(position[1]) + 1}` : `invalid JSON: ${what}`;
}

function isBlank(bytes: Buffer): boolean {
	for (let i = 0; i < bytes.length; i++) {
		const b = bytes[i];
		if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
	}
	return true;
}

/**
 * Yields every record of a JSON Lines stream. `stats`, when given, is updated as parsing goes (how
 * callers report skipped lines at the end).
 */
export async function* parseJsonLines(
	input: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
	options: JsonLinesOptions,
	stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 },
): AsyncGenerator<JsonRecord> {
	const { source } = options;
	const skip = options.onError === 'skip';
	const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
	let pieces: Buffer[] = [];
	let pending = 0;
	let line = 0;

	/** Parses one complete line (without its LF); returns the record, or undefined to go on. */
	const finish = (bytes: Buffer): JsonRecord | undefined => {
		line++;
		stats.lines = line;
		let body = bytes;
		if (line === 1 && body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
		if (body.length > 0 && body[body.length - 1] === 0x0d) body = body.subarray(0, body.length - 1);
		if (body.length === 0 || isBlank(body)) return undefined;
		let reason: string | undefined;
		if (body.length >= LONG_LINE_BYTES) {
			reason = jsonObjectProblem(body);
			if (reason === undefined) {
				stats.records++;
				return new LongLineRecord(body, line, source);
			}
		} else {
			const parsed = parseLine(body);
			if ('value' in parsed) {
				stats.records++;
				return { value: parsed.value, raw: body, line, source };
			}
			reason = parsed.reason;
		}
		const message = `${source}:${line}: ${reason}`;
		if (!skip) throw new CxError('JSONL_MALFORMED', message, { where: `${source}:${line}` });
		stats.skipped++;
		stats.firstSkipped ??= message;
		return undefined;
	};

	const tooLong = () =>
		new CxError(
			'JSONL_LIMIT',
			`${source}:${line + 1}: the line is longer than ${maxLineBytes} bytes; if the export really holds such records, raise the maximum line size`,
			{ where: `${source}:${line + 1}` },
		);

	for await (const raw of input) {
		const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
		let start = 0;
		for (;;) {
			const nl = chunk.indexOf(0x0a, start);
			if (nl < 0) break;
			const part = chunk.subarray(start, nl);
			if (pending + part.length > maxLineBytes) throw tooLong();
			const bytes = pieces.length === 0 ? part : Buffer.concat([...pieces, part], pending + part.length);
			pieces = [];
			pending = 0;
			start = nl + 1;
			const record = finish(bytes);
			if (record) yield record;
		}
		if (start < chunk.length) {
			const rest = chunk.subarray(start);
			if (pending + rest.length > maxLineBytes) throw tooLong();
			pieces.push(rest);
			pending += rest.length;
		}
	}
	if (pending > 0) {
		const record = finish(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, pending));
		if (record) yield record;
	}
}

/**
 * True when `line` (a valid JSON text) has no whitespace outside its strings, i.e. it is already
 * compact and can be written out as it is — faster than re-serialising, and exact: numbers beyond
 * 2^53 and escapes stay as the source wrote them. Jumps from quote to quote with native searches.
 */
export function isCompactJson(line: Buffer): boolean {
	let i = 0;
	const n = line.length;
	while (i < n) {
		const c = line[i];
		if (c === 0x22) {
			// Skip the string: find a closing quote not escaped by an odd run of backslashes.
			let q = i + 1;
			for (;;) {
				q = line.indexOf(0x22, q);
				if (q < 0) return false;
				let backslashes = 0;
				for (let b = q - 1; line[b] === 0x5c; b--) backslashes++;
				if ((backslashes & 1) === 0) break;
				q++;
			}
			i = q + 1;
			continue;
		}
		if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) return false;
		i++;
	}
	return true;
}
