/**
 * Streaming JSON Lines: one record (a JSON object) per line, as CDDS writes its export files.
 *
 * What the parser promises, and why:
 * - Lines are found with `indexOf(0x0a)` on the bytes, so a line may be split across chunks
 *   anywhere (inside a multi-byte character, between `\r` and `\n`, inside the BOM).
 * - A line that spans chunks is collected as a list of slices and joined once, so a 50 MB line
 *   (attachment CONTENT is base64 inside one line) costs one copy, not one per chunk.
 * - A line longer than `maxLineBytes` is refused before more than that is held: a file without
 *   line breaks cannot make us buffer it whole.
 * - Bytes that are not UTF-8 make the line malformed; they are never silently replaced with U+FFFD.
 * - Messages say `<source>:<line>: <reason>` and never quote the line: records hold personal data,
 *   and a line can be megabytes long.
 */
import { CxError } from '../errors';
import { formatLimit, raiseAdvice } from '../limits';
import { jsonObjectProblem } from './validate';

export interface JsonLinesOptions {
	/** The entry or file name used in messages (`<source>:<line>: <reason>`). */
	source: string;
	/** `fail` (default) stops at the first malformed line; `skip` counts it in the stats and goes on. */
	onError?: 'fail' | 'skip';
	/** Longest line accepted, in bytes, not counting the line break (default 256 MiB). */
	maxLineBytes?: number;
	/** With `skip`: told about every skipped line (where it is and why), e.g. to route it elsewhere. */
	onSkip?: (skipped: SkippedLine) => void;
	/**
	 * Validate every line with the byte scanner and parse a record's value only when it is read, as
	 * for long lines. For consumers that pass `raw` on (record chunks, the CLI): the scanner is
	 * faster than decoding and JSON.parse and allocates nothing, so no garbage per record.
	 */
	lazyValues?: boolean;
}

export interface SkippedLine {
	source: string;
	/** 1-based. */
	line: number;
	reason: string;
	/** `<source>:<line>: <reason>`. */
	message: string;
}

export interface JsonRecord {
	/**
	 * The record. For lines of 1 MiB and more it is parsed on first access (the line is validated
	 * without building it, see LONG_LINE_BYTES); reading it never fails.
	 */
	readonly value: Record<string, unknown>;
	/** The line's bytes as they were (no BOM, no line break): for writers that pass records through. */
	raw: Buffer;
	/** 1-based line number in the source; blank lines count. */
	line: number;
	source: string;
}

/**
 * Counters, updated in place while parsing. They add up, so one object can be passed to the
 * parsers of every entry of an export and read at the end.
 */
export interface JsonLinesStats {
	records: number;
	skipped: number;
	/** Lines seen, blank ones included. */
	lines: number;
	/** The message of the first skipped line. */
	firstSkipped?: string;
}

export const DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024;

/**
 * Lines at least this long are validated by a byte scanner instead of JSON.parse, and their value
 * is parsed only if someone reads it: JSON.parse would build several strings as large as the line
 * that only a major GC frees, and the CLI passes such lines through without ever needing them.
 */
const LONG_LINE_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

// fatal: invalid UTF-8 is an error, not U+FFFD. ignoreBOM: the BOM is removed by hand, and only on line 1.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of `bytes`, or undefined when they are not UTF-8. */
function decode(bytes: Uint8Array): string | undefined {
	try {
		return utf8.decode(bytes);
	} catch {
		return undefined;
	}
}

/** Blank lines (spaces, tabs, a stray `\r`) are not records; they still count for line numbers. */
function isBlank(bytes: Buffer): boolean {
	// Stops at the first other byte, which for a record is its first one.
	for (let i = 0; i < bytes.length; i++) {
		const b = bytes[i];
		if (b !== 0x20 && b !== 0x09 && b !== CR) return false;
	}
	return true;
}

function kindOf(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	return typeof value === 'number'
		? 'a number'
		: typeof value === 'boolean'
			? 'a boolean'
			: 'a string';
}

/**
 * The record on a (short) line, or, as a string, why there is none. A string rather than a wrapper
 * object: this runs for every line.
 */
function parseLine(bytes: Buffer): Record<string, unknown> | string {
	const text = decode(bytes);
	if (text === undefined) return 'not valid UTF-8';
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		// The byte scanner says where, in the same words as for long lines and whatever this Node
		// version's V8 says (its message quotes the line).
		return jsonObjectProblem(bytes) ?? 'invalid JSON';
	}
	if (value === null || typeof value !== 'object' || Array.isArray(value))
		return `expected a JSON object, got ${kindOf(value)}`;
	return value as Record<string, unknown>;
}

/** A record whose value is parsed on first access (its line was validated); `value` is an own enumerable property. */
function longLineRecord(raw: Buffer, line: number, source: string): JsonRecord {
	let parsed: Record<string, unknown> | undefined;
	return {
		get value(): Record<string, unknown> {
			parsed ??= JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
			return parsed;
		},
		raw,
		line,
		source,
	};
}

function toBuffer(chunk: Buffer | Uint8Array | string): Buffer {
	if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
	return Buffer.isBuffer(chunk)
		? chunk
		: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Yields every record of a JSON Lines stream, in order. `stats`, when given, is updated as parsing
 * goes (it is how callers report skipped lines at the end).
 *
 * Throws CxError JSONL_MALFORMED for a line that is not one JSON object (unless `onError` is
 * `skip`), and JSONL_LIMIT for a line longer than `maxLineBytes` (whatever `onError` says: such a
 * line cannot be skipped without reading it all).
 */
export async function* parseJsonLines(
	input: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
	options: JsonLinesOptions,
	stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 },
): AsyncGenerator<JsonRecord> {
	const { source } = options;
	const skip = options.onError === 'skip';
	const scanFrom = options.lazyValues === true ? 0 : LONG_LINE_BYTES;
	const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
	if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1)
		throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
	/** Lines finished so far in this source. */
	let line = 0;
	/** The start of the current line, when it began in an earlier chunk. */
	let pieces: Buffer[] = [];
	let pending = 0;

	/** For the line being read: `line + 1` before finish() counts it, `line` after. */
	const tooLong = (at = line + 1) =>
		new CxError(
			'JSONL_LIMIT',
			`${source}:${at}: the line is longer than ${formatLimit('maxLineBytes', maxLineBytes)}, the most a record may have; ` +
				`if the export really holds records this long, ${raiseAdvice('maxLineBytes')}`,
			{ where: `${source}:${at}`, limit: 'maxLineBytes' },
		);

	// The most a line may hold before its `\n`: the limit, and a `\r` that belongs to the line break.
	// Checked before keeping or joining bytes, so memory stays bounded; finish() checks exactly.
	const hold = maxLineBytes + 1;

	/** Turns one line (without its `\n`) into a record, or into nothing for a blank or skipped line. */
	const finish = (bytes: Buffer): JsonRecord | undefined => {
		line++;
		stats.lines++;
		if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
			bytes = bytes.subarray(3);
		if (bytes.length > 0 && bytes[bytes.length - 1] === CR)
			bytes = bytes.subarray(0, bytes.length - 1);
		if (bytes.length > maxLineBytes) throw tooLong(line);
		if (isBlank(bytes)) return undefined;

		let reason: string;
		if (bytes.length >= scanFrom) {
			const problem = jsonObjectProblem(bytes);
			if (problem === undefined) {
				stats.records++;
				return longLineRecord(bytes, line, source);
			}
			reason = problem;
		} else {
			const value = parseLine(bytes);
			if (typeof value !== 'string') {
				stats.records++;
				return { value, raw: bytes, line, source };
			}
			reason = value;
		}
		const message = `${source}:${line}: ${reason}`;
		if (!skip) throw new CxError('JSONL_MALFORMED', message, { where: `${source}:${line}` });
		stats.skipped++;
		stats.firstSkipped ??= message;
		options.onSkip?.({ source, line, reason, message });
		return undefined;
	};

	for await (const part of input) {
		const chunk = toBuffer(part);
		let start = 0;
		for (;;) {
			const nl = chunk.indexOf(LF, start);
			if (nl < 0) break;
			let bytes = chunk.subarray(start, nl);
			start = nl + 1;
			if (pending > 0) {
				// The end of a line that began in an earlier chunk: joined once, now that it is whole.
				if (pending + bytes.length > hold) throw tooLong();
				pieces.push(bytes);
				bytes = Buffer.concat(pieces, pending + bytes.length);
				pieces = [];
				pending = 0;
			}
			const record = finish(bytes);
			if (record) yield record;
		}
		// The start of a line that ends in a later chunk.
		if (start < chunk.length) {
			const rest = chunk.subarray(start);
			if (pending + rest.length > hold) throw tooLong();
			pieces.push(rest);
			pending += rest.length;
		}
	}

	// A last line without a line break.
	if (pending > 0) {
		const record = finish(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, pending));
		if (record) yield record;
	}
}

/**
 * Where the string starting at the quote `open` ends: the index of its closing quote (one not
 * escaped by an odd run of backslashes), or -1. Native searches from quote to quote.
 */
function closingQuote(line: Buffer, open: number): number {
	let q = open + 1;
	for (;;) {
		q = line.indexOf(0x22, q);
		if (q < 0) return -1;
		let backslashes = 0;
		for (let b = q - 1; line[b] === 0x5c; b--) backslashes++;
		if ((backslashes & 1) === 0) return q;
		q++;
	}
}

function isJsonWhitespace(c: number): boolean {
	return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * True when `line` (a valid JSON text) has no whitespace outside its strings, i.e. it is already
 * compact and can be written out as it is — faster than re-serialising, and exact: numbers beyond
 * 2^53 and escapes stay as the source wrote them. Jumps from quote to quote with native searches.
 */
export function isCompactJson(line: Buffer): boolean {
	for (let i = 0; i < line.length; i++) {
		const c = line[i];
		if (c === 0x22) {
			i = closingQuote(line, i);
			if (i < 0) return false;
		} else if (isJsonWhitespace(c)) return false;
	}
	return true;
}

/**
 * `line` (a valid JSON text) without the whitespace outside its strings: the same bytes otherwise
 * (numbers, escapes and key order as the source wrote them), so nothing is parsed or rebuilt and
 * no depth of nesting can overflow a stack. `line` itself when it is already compact.
 */
export function compactJson(line: Buffer): Buffer {
	if (isCompactJson(line)) return line;
	const out = Buffer.allocUnsafe(line.length);
	let n = 0;
	for (let i = 0; i < line.length; i++) {
		const c = line[i];
		if (c === 0x22) {
			const end = closingQuote(line, i);
			const stop = end < 0 ? line.length - 1 : end;
			n += line.copy(out, n, i, stop + 1);
			i = stop;
		} else if (!isJsonWhitespace(c)) out[n++] = c;
	}
	return out.subarray(0, n);
}
