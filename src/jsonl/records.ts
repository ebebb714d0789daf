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
import { isUtf8 } from 'node:buffer';
import {
	COMPACT,
	INVALID,
	jsonObjectProblem,
	scanJsonObject,
	scanJsonObjectAt,
	SPACED,
} from './validate';

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
	/**
	 * True when the byte scanner checked the line and found no whitespace outside its strings
	 * (`raw` is already compact JSON); undefined when it was not asked (see `lazyValues`).
	 */
	compact?: boolean;
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
function longLineRecord(raw: Buffer, line: number, source: string, compact: boolean): JsonRecord {
	let parsed: Record<string, unknown> | undefined;
	return {
		get value(): Record<string, unknown> {
			parsed ??= JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
			return parsed;
		},
		raw,
		line,
		source,
		compact,
	};
}

function toBuffer(chunk: Buffer | Uint8Array | string): Buffer {
	if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
	return Buffer.isBuffer(chunk)
		? chunk
		: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * What every reader of JSON Lines does with one line: counts it, strips the BOM (line 1) and a
 * `\r`, enforces the length limit, validates, and fails or skips a bad line. Shared by the record
 * and the block readers so both say the same about the same bytes.
 */
class LineFinisher {
	/** Lines finished so far in this source. */
	line = 0;
	readonly source: string;
	readonly maxLineBytes: number;
	private readonly skip: boolean;
	private readonly scanFrom: number;

	constructor(
		private readonly options: JsonLinesOptions,
		private readonly stats: JsonLinesStats,
		lazyValues: boolean,
	) {
		this.source = options.source;
		this.skip = options.onError === 'skip';
		this.scanFrom = lazyValues ? 0 : LONG_LINE_BYTES;
		this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
		if (!Number.isSafeInteger(this.maxLineBytes) || this.maxLineBytes < 1)
			throw new RangeError(`maxLineBytes must be a positive integer, got ${this.maxLineBytes}`);
	}

	/**
	 * The most a line may hold before its `\n`: the limit, and a `\r` that belongs to the line
	 * break. Checked before keeping or joining bytes, so memory stays bounded; finish() checks exactly.
	 */
	get hold(): number {
		return this.maxLineBytes + 1;
	}

	/** For the line being read: `line + 1` before finish() counts it, `line` after. */
	tooLong(at = this.line + 1): CxError {
		const { source, maxLineBytes } = this;
		return new CxError(
			'JSONL_LIMIT',
			`${source}:${at}: the line is longer than ${formatLimit('maxLineBytes', maxLineBytes)}, the most a record may have; ` +
				`if the export really holds records this long, ${raiseAdvice('maxLineBytes')}`,
			{ where: `${source}:${at}`, limit: 'maxLineBytes' },
		);
	}

	/** Turns one line (without its `\n`) into a record, or into nothing for a blank or skipped line. */
	finish(bytes: Buffer): JsonRecord | undefined {
		const { stats, source } = this;
		const line = ++this.line;
		stats.lines++;
		if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
			bytes = bytes.subarray(3);
		if (bytes.length > 0 && bytes[bytes.length - 1] === CR)
			bytes = bytes.subarray(0, bytes.length - 1);
		if (bytes.length > this.maxLineBytes) throw this.tooLong(line);
		if (isBlank(bytes)) return undefined;

		let reason: string;
		if (bytes.length >= this.scanFrom) {
			const shape = scanJsonObject(bytes);
			if (shape !== INVALID) {
				stats.records++;
				return longLineRecord(bytes, line, source, shape === COMPACT);
			}
			// Only for a bad line: the detailed validator says why and where.
			reason = jsonObjectProblem(bytes) ?? 'invalid JSON';
		} else {
			const value = parseLine(bytes);
			if (typeof value !== 'string') {
				stats.records++;
				return { value, raw: bytes, line, source };
			}
			reason = value;
		}
		const message = `${source}:${line}: ${reason}`;
		if (!this.skip) throw new CxError('JSONL_MALFORMED', message, { where: `${source}:${line}` });
		stats.skipped++;
		stats.firstSkipped ??= message;
		this.options.onSkip?.({ source, line, reason, message });
		return undefined;
	}
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
	const lines = new LineFinisher(options, stats, options.lazyValues === true);
	const hold = lines.hold;
	/** The start of the current line, when it began in an earlier chunk. */
	let pieces: Buffer[] = [];
	let pending = 0;

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
				if (pending + bytes.length > hold) throw lines.tooLong();
				pieces.push(bytes);
				bytes = Buffer.concat(pieces, pending + bytes.length);
				pieces = [];
				pending = 0;
			}
			const record = lines.finish(bytes);
			if (record) yield record;
		}
		// The start of a line that ends in a later chunk.
		if (start < chunk.length) {
			const rest = chunk.subarray(start);
			if (pending + rest.length > hold) throw lines.tooLong();
			pieces.push(rest);
			pending += rest.length;
		}
	}

	// A last line without a line break.
	if (pending > 0) {
		const record = lines.finish(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, pending));
		if (record) yield record;
	}
}

/** Consecutive records of one source as JSON Lines bytes: see {@link parseJsonLineBlocks}. */
export interface RecordBlock {
	/** Whole lines, each one record followed by `\n`; a view of the bytes read when it can be. */
	bytes: Buffer;
	/** The file or zip entry the records come from. */
	source: string;
	/** Line of the first record in the source (1-based); record k is line `firstLine + k`. */
	firstLine: number;
	records: number;
}

export interface BlockOptions extends JsonLinesOptions {
	/** Write records with whitespace between tokens without it (compactJson); as written otherwise. */
	compact?: boolean;
}

/**
 * The records of a JSON Lines stream as runs of lines — the same records, checks, errors and stats
 * as parseJsonLines with `lazyValues`, for consumers that pass the bytes on (the CLI's output,
 * record chunks): no object is made per record. A run of good lines that arrived in one read is
 * yielded as one view of that read's bytes; a blank, skipped, `\r`-ended, BOM-led or split line,
 * or one to compact, ends a run and goes through the record path on its own.
 */
export async function* parseJsonLineBlocks(
	input: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
	options: BlockOptions,
	stats: JsonLinesStats = { records: 0, skipped: 0, lines: 0 },
): AsyncGenerator<RecordBlock> {
	const lines = new LineFinisher(options, stats, true);
	const { hold, maxLineBytes } = lines;
	const compact = options.compact === true;
	let pieces: Buffer[] = [];
	let pending = 0;
	/** The run of good lines `chunk[from, to)` that ends with the last line counted. */
	const run = (chunk: Buffer, from: number, to: number, records: number): RecordBlock => ({
		bytes: chunk.subarray(from, to),
		source: lines.source,
		firstLine: lines.line - records + 1,
		records,
	});
	/**
	 * A record from the record path, as a block of its own. `joined`: the line was joined from
	 * pieces into a buffer with room for its `\n` (set) after it; when the record is the end of that
	 * line as it is, the block is a view of it — a multi-MB line is not copied a second time.
	 */
	const single = (record: JsonRecord, joined?: Buffer): RecordBlock => {
		const raw = compact && record.compact !== true ? compactJson(record.raw) : record.raw;
		if (
			joined !== undefined &&
			raw.buffer === joined.buffer &&
			raw.byteOffset >= joined.byteOffset &&
			raw.byteOffset + raw.length === joined.byteOffset + joined.length - 1
		) {
			const bytes = joined.subarray(raw.byteOffset - joined.byteOffset);
			return { bytes, source: record.source, firstLine: record.line, records: 1 };
		}
		const bytes = Buffer.allocUnsafe(raw.length + 1);
		raw.copy(bytes);
		bytes[raw.length] = LF;
		return { bytes, source: record.source, firstLine: record.line, records: 1 };
	};
	/** The pieces of a line and `end` more bytes of `chunk`, in one buffer with its `\n` after them. */
	const join = (chunk: Buffer, end: number): Buffer => {
		const joined = Buffer.allocUnsafe(pending + end + 1);
		let at = 0;
		for (const piece of pieces) at += piece.copy(joined, at);
		chunk.copy(joined, at, 0, end);
		joined[pending + end] = LF;
		return joined;
	};

	for await (const part of input) {
		const chunk = toBuffer(part);
		let start = 0;
		if (pending > 0) {
			const nl = chunk.indexOf(LF);
			const end = nl < 0 ? chunk.length : nl;
			if (pending + end > hold) throw lines.tooLong();
			if (nl < 0) {
				pieces.push(chunk.subarray(0, end));
				pending += end;
				continue;
			}
			const joined = join(chunk, end);
			pieces = [];
			pending = 0;
			const record = lines.finish(joined.subarray(0, joined.length - 1));
			if (record) yield single(record, joined);
			start = nl + 1;
		}
		const last = chunk.lastIndexOf(LF);
		if (last >= start) {
			// One UTF-8 check for all the whole lines of this read (see scanJsonObjectAt).
			const utf8 = isUtf8(chunk.subarray(start, last));
			let runStart = start;
			let runRecords = 0;
			while (start <= last) {
				const nl = chunk.indexOf(LF, start);
				if (
					utf8 &&
					nl > start &&
					nl - start <= maxLineBytes &&
					chunk[nl - 1] !== CR &&
					(lines.line > 0 || chunk[start] !== 0xef)
				) {
					const shape = scanJsonObjectAt(chunk, start, nl);
					if (shape === COMPACT || (shape === SPACED && !compact)) {
						lines.line++;
						stats.lines++;
						stats.records++;
						runRecords++;
						start = nl + 1;
						continue;
					}
				}
				if (runRecords > 0) yield run(chunk, runStart, start, runRecords);
				const record = lines.finish(chunk.subarray(start, nl));
				if (record) yield single(record);
				start = nl + 1;
				runStart = start;
				runRecords = 0;
			}
			if (runRecords > 0) yield run(chunk, runStart, start, runRecords);
		}
		// The start of a line that ends in a later read.
		if (start < chunk.length) {
			const rest = chunk.subarray(start);
			if (rest.length > hold) throw lines.tooLong();
			pieces.push(rest);
			pending = rest.length;
		}
	}

	// A last line without a line break.
	if (pending > 0) {
		const record = lines.finish(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, pending));
		if (record) yield single(record);
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
