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
