/**
 * A JSON validator over bytes that builds nothing: used for very long lines (attachments carry
 * megabytes of base64 in one line), where JSON.parse would make several large strings that only a
 * major GC frees, and to say why a line that JSON.parse refused is wrong (V8's own message quotes
 * the line, which may hold personal data, and changes between Node versions).
 *
 * It accepts exactly what JSON.parse accepts (RFC 8259; checked against JSON.parse by a property
 * test), requires a top-level object, and reports the column of the first problem. Columns count
 * bytes from 1, so they point into the file whatever characters precede them.
 */
import { isUtf8 } from 'node:buffer';

const enum Ch {
	Tab = 0x09,
	Lf = 0x0a,
	Cr = 0x0d,
	Space = 0x20,
	Quote = 0x22,
	Plus = 0x2b,
	Comma = 0x2c,
	Minus = 0x2d,
	Dot = 0x2e,
	Zero = 0x30,
	Nine = 0x39,
	Colon = 0x3a,
	E = 0x45,
	OpenBracket = 0x5b,
	Backslash = 0x5c,
	CloseBracket = 0x5d,
	e = 0x65,
	u = 0x75,
	OpenBrace = 0x7b,
	CloseBrace = 0x7d,
}

const ENDS = 'invalid JSON: the line ends in the middle of a value';
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function isHex(c: number): boolean {
	return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function isDigit(c: number): boolean {
	return c >= Ch.Zero && c <= Ch.Nine;
}

/** A byte as a message shows it: printable ASCII quoted, anything else (a UTF-8 lead byte, a control) in hex. */
function shown(c: number): string {
	return c > 0x20 && c < 0x7f
		? `'${String.fromCharCode(c)}'`
		: `byte 0x${c.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Undefined when `line` is one valid JSON object; otherwise a short reason with its column. */
export function jsonObjectProblem(line: Uint8Array): string | undefined {
	if (!isUtf8(line)) return 'not valid UTF-8';
	const n = line.length;
	let i = 0;
	const at = (what: string) => `invalid JSON: ${what} at column ${i + 1}`;
	const skipWs = () => {
		while (i < n) {
			const c = line[i];
			if (c !== Ch.Space && c !== Ch.Tab && c !== Ch.Lf && c !== Ch.Cr) break;
			i++;
		}
	};
	/** After '"': moves past the closing quote, or returns a reason. */
	const string = (): string | undefined => {
		for (;;) {
			// Most of a long line is the inside of one string (base64 CONTENT): skip plain bytes in a
			// tight loop on a local index (the closure's `i` is slower to update byte by byte).
			let j = i;
			while (j < n) {
				const d = line[j];
				if (d < 0x20 || d === Ch.Quote || d === Ch.Backslash) break;
				j++;
			}
			i = j;
			if (i >= n) return ENDS;
			const c = line[i];
			if (c === Ch.Quote) {
				i++;
				return undefined;
			}
			if (c === Ch.Backslash) {
				const e = line[i + 1];
				if (e === Ch.u) {
					if (
						!(isHex(line[i + 2]) && isHex(line[i + 3]) && isHex(line[i + 4]) && isHex(line[i + 5]))
					)
						return at('bad \\u escape');
					i += 6;
				} else if (ESCAPES.has(e)) {
					i += 2;
				} else {
					return i + 1 >= n ? ENDS : at('bad escape');
				}
				continue;
			}
			if (c < 0x20) return at('control character in a string');
			i++;
		}
	};
	const number = (): string | undefined => {
		if (line[i] === Ch.Minus) i++;
		if (line[i] === Ch.Zero) i++;
		else if (isDigit(line[i])) while (isDigit(line[i])) i++;
		else return i >= n ? ENDS : at('bad number');
		if (line[i] === Ch.Dot) {
			i++;
			if (!isDigit(line[i])) return at('bad number');
			while (isDigit(line[i])) i++;
		}
		if (line[i] === Ch.e || line[i] === Ch.E) {
			i++;
			if (line[i] === Ch.Plus || line[i] === Ch.Minus) i++;
			if (!isDigit(line[i])) return at('bad number');
			while (isDigit(line[i])) i++;
		}
		return undefined;
	};
	/** At a property name: moves past it and its ':', or returns a reason. */
	const key = (): string | undefined => {
		if (line[i] !== Ch.Quote) return i >= n ? ENDS : at('expected a property name');
		i++;
		const problem = string();
		if (problem) return problem;
		skipWs();
		if (line[i] !== Ch.Colon) return i >= n ? ENDS : at("expected ':'");
		i++;
		return undefined;
	};
	const literal = (word: string): boolean => {
		for (let k = 0; k < word.length; k++) if (line[i + k] !== word.charCodeAt(k)) return false;
		i += word.length;
		return true;
	};

	// Open containers: true for an object, false for an array.
	const stack: boolean[] = [];
	skipWs();
	if (i >= n) return 'invalid JSON: empty';
	const first = line[i];
	// The state machine: expecting a value, or what follows one.
	let expectValue = true;
	for (;;) {
		skipWs();
		if (i >= n) return ENDS;
		const c = line[i];
		if (expectValue) {
			if (c === Ch.OpenBrace) {
				i++;
				stack.push(true);
				skipWs();
				if (line[i] === Ch.CloseBrace) {
					i++;
					stack.pop();
					expectValue = false;
					if (stack.length === 0) break;
					continue;
				}
				const problem = key();
				if (problem) return problem;
				continue;
			}
			if (c === Ch.OpenBracket) {
				i++;
				stack.push(false);
				skipWs();
				if (line[i] === Ch.CloseBracket) {
					i++;
					stack.pop();
					expectValue = false;
					if (stack.length === 0) break;
				}
				continue;
			}
			let problem: string | undefined;
			if (c === Ch.Quote) {
				i++;
				problem = string();
			} else if (c === Ch.Minus || isDigit(c)) {
				problem = number();
			} else if (!(literal('true') || literal('false') || literal('null'))) {
				problem = at(`unexpected ${shown(c)}`);
			}
			if (problem) return problem;
			expectValue = false;
			if (stack.length === 0) break;
			continue;
		}
		// After a value: ',' or the end of the open container.
		const inObject = stack[stack.length - 1];
		if (c === Ch.Comma) {
			i++;
			if (inObject) {
				skipWs();
				const problem = key();
				if (problem) return problem;
			}
			expectValue = true;
			continue;
		}
		if ((inObject && c === Ch.CloseBrace) || (!inObject && c === Ch.CloseBracket)) {
			i++;
			stack.pop();
			if (stack.length === 0) break;
			continue;
		}
		return at(`unexpected ${shown(c)}`);
	}
	skipWs();
	if (i < n) return at(`unexpected ${shown(line[i])} after the value`);
	if (first === Ch.OpenBrace) return undefined;
	const what =
		first === Ch.OpenBracket
			? 'an array'
			: first === Ch.Quote
				? 'a string'
				: first === 0x6e
					? 'null'
					: first === 0x74 || first === 0x66
						? 'a boolean'
						: 'a number';
	return `expected a JSON object, got ${what}`;
}

/** What {@link scanJsonObject} found: not one valid JSON object ({@link jsonObjectProblem} says why). */
export const INVALID = 0;
/** One JSON object with no whitespace outside its strings: it can be written out as it is. */
export const COMPACT = 1;
/** One JSON object with whitespace between its tokens. */
export const SPACED = 2;
export type LineShape = typeof INVALID | typeof COMPACT | typeof SPACED;

/** Bytes that end the plain run inside a string: controls, '"' and '\'. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[Ch.Quote] = 1;
STRING_STOP[Ch.Backslash] = 1;

/** Strings at least this long past their opening quote are scanned four bytes at a time. */
const WORDWISE_AFTER = 24;
/** Word indexes stay 32-bit integers: larger buffers (never a record line's) are read byte by byte. */
const MAX_WORDWISE_BUFFER = 0x7fffffff;

/**
 * Where the run of plain string bytes starting at `i` ends: the index of the first control byte,
 * '"' or '\\' in `line[i, n)`, or `n`. Record lines are mostly string content (free text, base64
 * attachments of megabytes), so after the first few bytes this reads four bytes at once, aligned,
 * and tests them together: a byte below 0x20 is seen by `(x - 0x20202020) & ~x & 0x80808080`, and
 * a '"' or '\\' as a zero byte of `x ^ 0x22222222` or `x ^ 0x5c5c5c5c` (`(y - 0x01010101) & ~y &
 * 0x80808080`). Each test is exact as a whole (non-zero exactly when some byte matches; it may
 * not say which), so a word that trips it is read again byte by byte. Nearly three times as fast
 * as byte by byte on long strings; short ones (property names) never leave the byte loop.
 */
function plainRunEnd(line: Uint8Array, i: number, n: number): number {
	const bytewiseEnd = i + WORDWISE_AFTER < n ? i + WORDWISE_AFTER : n;
	while (i < bytewiseEnd && STRING_STOP[line[i]] === 0) i++;
	if (i < bytewiseEnd || i === n) return i;
	const buffer = line.buffer;
	if (buffer.byteLength > MAX_WORDWISE_BUFFER) {
		while (i < n && STRING_STOP[line[i]] === 0) i++;
		return i;
	}
	const base = line.byteOffset;
	// A view per string costs nothing measurable, and none is kept that would hold on to the
	// caller's buffer.
	const words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
	let w = (base + i + 3) >>> 2;
	const wordsEnd = (base + n) >>> 2;
	// The bytes before the first whole word.
	const firstWordAt = w * 4 - base;
	while (i < firstWordAt) {
		if (STRING_STOP[line[i]] !== 0) return i;
		i++;
	}
	while (w < wordsEnd) {
		const x = words[w];
		const quote = x ^ 0x22222222;
		const backslash = x ^ 0x5c5c5c5c;
		if (
			(((x - 0x20202020) & ~x) |
				((quote - 0x01010101) & ~quote) |
				((backslash - 0x01010101) & ~backslash)) &
			0x80808080
		)
			break;
		w++;
	}
	i = w * 4 - base;
	while (i < n && STRING_STOP[line[i]] === 0) i++;
	return i;
}

/** JSON's four whitespace bytes. */
const WHITESPACE = new Uint8Array(256);
WHITESPACE[Ch.Space] = WHITESPACE[Ch.Tab] = WHITESPACE[Ch.Lf] = WHITESPACE[Ch.Cr] = 1;

/** The bytes an escape may name after '\' (besides 'u'), and the hex digits. */
const ESCAPE_OK = new Uint8Array(256);
for (const c of ESCAPES) ESCAPE_OK[c] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** Open containers of the line being scanned: 1 for an object, 0 for an array. Grows as needed. */
let openStack = new Uint8Array(64);

// The scanner's states: what may come next.
const VALUE = 0; // a value (after ':' or ',' in an array)
const FIRST_IN_ARRAY = 1; // a value or ']' (after '[')
const FIRST_KEY = 2; // a property name or '}' (after '{')
const KEY = 3; // a property name (after ',' in an object)
const AFTER_VALUE = 4; // ',' or the open container's closer
const AFTER_KEY = 5; // ':'

/**
 * The fast check behind every record line: whether `line` is exactly one JSON object (what
 * JSON.parse would accept and return as an object, UTF-8 checked), and whether it is compact —
 * in one pass over the bytes, with no closure, object or string made. Agrees with
 * {@link jsonObjectProblem}, which is called only for lines this refuses, to say why.
 */
export function scanJsonObject(line: Uint8Array): LineShape {
	return isUtf8(line) ? scanJsonObjectAt(line, 0, line.length) : INVALID;
}

/**
 * {@link scanJsonObject} for the line at `line[start, end)`, without the UTF-8 check: for callers
 * that checked a whole run of lines at once (a run of lines split at `\n` is UTF-8 exactly when
 * each of its lines is, as `\n` is never part of a multi-byte character). The byte at `end`, if
 * any, must be `\n` (the scanner may look at it, and `\n` continues no token).
 */
export function scanJsonObjectAt(line: Uint8Array, start: number, end: number): LineShape {
	const n = end;
	let i = start;
	let spaced = false;
	while (i < n && WHITESPACE[line[i]] === 1) i++;
	if (i >= n || line[i] !== Ch.OpenBrace) return INVALID;
	if (i > start) spaced = true;
	let stack = openStack;
	stack[0] = 1;
	let depth = 1;
	let state = FIRST_KEY;
	i++;
	for (;;) {
		if (i >= n) return INVALID;
		let c = line[i];
		if (WHITESPACE[c] === 1) {
			spaced = true;
			do i++;
			while (i < n && WHITESPACE[line[i]] === 1);
			if (i >= n) return INVALID;
			c = line[i];
		}
		switch (state) {
			case AFTER_VALUE:
				if (c === Ch.Comma) {
					state = stack[depth - 1] === 1 ? KEY : VALUE;
					i++;
					continue;
				}
				if (c === (stack[depth - 1] === 1 ? Ch.CloseBrace : Ch.CloseBracket)) {
					i++;
					if (--depth === 0) {
						while (i < n && WHITESPACE[line[i]] === 1) {
							spaced = true;
							i++;
						}
						return i === n ? (spaced ? SPACED : COMPACT) : INVALID;
					}
					continue;
				}
				return INVALID;
			case AFTER_KEY:
				if (c !== Ch.Colon) return INVALID;
				i++;
				state = VALUE;
				continue;
			case FIRST_KEY:
			case KEY:
				if (c === Ch.CloseBrace && state === FIRST_KEY) {
					state = AFTER_VALUE;
					depth--;
					i++;
					if (depth === 0) {
						while (i < n && WHITESPACE[line[i]] === 1) {
							spaced = true;
							i++;
						}
						return i === n ? (spaced ? SPACED : COMPACT) : INVALID;
					}
					continue;
				}
				if (c !== Ch.Quote) return INVALID;
				state = AFTER_KEY;
				break; // scan the string below
			default: // VALUE, FIRST_IN_ARRAY
				if (state === FIRST_IN_ARRAY && c === Ch.CloseBracket) {
					depth--;
					i++;
					state = AFTER_VALUE;
					continue;
				}
				state = AFTER_VALUE;
				if (c === Ch.Quote) break; // scan the string below
				if (c === Ch.OpenBrace || c === Ch.OpenBracket) {
					if (depth === stack.length) {
						const bigger = new Uint8Array(stack.length * 2);
						bigger.set(stack);
						stack = openStack = bigger;
					}
					stack[depth++] = c === Ch.OpenBrace ? 1 : 0;
					state = c === Ch.OpenBrace ? FIRST_KEY : FIRST_IN_ARRAY;
					i++;
					continue;
				}
				if (c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) {
					if (c === Ch.Minus) i++;
					c = line[i];
					if (c === Ch.Zero) i++;
					else if (c >= 0x31 && c <= Ch.Nine) {
						do i++;
						while (line[i] >= Ch.Zero && line[i] <= Ch.Nine);
					} else return INVALID;
					if (line[i] === Ch.Dot) {
						i++;
						if (!(line[i] >= Ch.Zero && line[i] <= Ch.Nine)) return INVALID;
						do i++;
						while (line[i] >= Ch.Zero && line[i] <= Ch.Nine);
					}
					c = line[i];
					if (c === Ch.e || c === Ch.E) {
						i++;
						if (line[i] === Ch.Plus || line[i] === Ch.Minus) i++;
						if (!(line[i] >= Ch.Zero && line[i] <= Ch.Nine)) return INVALID;
						do i++;
						while (line[i] >= Ch.Zero && line[i] <= Ch.Nine);
					}
					continue;
				}
				if (c === 0x74) {
					// true
					if (line[i + 1] !== 0x72 || line[i + 2] !== 0x75 || line[i + 3] !== 0x65) return INVALID;
					i += 4;
				} else if (c === 0x66) {
					// false
					if (
						line[i + 1] !== 0x61 ||
						line[i + 2] !== 0x6c ||
						line[i + 3] !== 0x73 ||
						line[i + 4] !== 0x65
					)
						return INVALID;
					i += 5;
				} else if (c === 0x6e) {
					// null
					if (line[i + 1] !== 0x75 || line[i + 2] !== 0x6c || line[i + 3] !== 0x6c) return INVALID;
					i += 4;
				} else return INVALID;
				continue;
		}
		// A string: `i` is at its opening quote.
		i++;
		for (;;) {
			i = plainRunEnd(line, i, n);
			if (i >= n) return INVALID;
			c = line[i];
			if (c === Ch.Quote) {
				i++;
				break;
			}
			if (c !== Ch.Backslash) return INVALID; // a control character
			c = line[i + 1];
			if (c === Ch.u) {
				if (
					HEX[line[i + 2]] !== 1 ||
					HEX[line[i + 3]] !== 1 ||
					HEX[line[i + 4]] !== 1 ||
					HEX[line[i + 5]] !== 1
				)
					return INVALID;
				i += 6;
			} else if (ESCAPE_OK[c] === 1) i += 2;
			else return INVALID;
		}
	}
}
