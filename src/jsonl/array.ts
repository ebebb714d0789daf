/**
 * The elements of one top-level JSON array, read from a byte stream one at a time: for API answers
 * too large to buffer (Context Services' service stream can list hundreds of thousands of IDs, or
 * full services). Memory holds one element at a time. Whitespace, strings with escapes, nested
 * arrays and objects are handled; anything else is an error naming the byte offset.
 */
import { CxError } from '../errors';

export interface JsonArrayOptions {
	/** For messages: what is being read (`the service stream`). */
	source?: string;
	/** Largest single element, in bytes (default 64 MiB). */
	maxElementBytes?: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function isSpace(b: number): boolean {
	return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

export async function* jsonArrayElements(
	input: AsyncIterable<Uint8Array>,
	options: JsonArrayOptions = {},
): AsyncGenerator<unknown> {
	const source = options.source ?? 'the answer';
	const maxElement = options.maxElementBytes ?? 64 * 1024 * 1024;
	// before '['; expecting the first element or ']'; expecting an element after ','; in an element; after ']'.
	type State = 'before' | 'expectFirst' | 'expect' | 'inElement' | 'done';
	let state = 'before' as State;
	let depth = 0;
	let inString = false;
	let escaped = false;
	let pieces: Buffer[] = [];
	let pieceBytes = 0;
	let offset = 0;
	let bom = true;

	const fail = (what: string, at: number): never => {
		throw new CxError('API_FORMAT', `${source}: ${what} at byte ${at}; expected a JSON array`);
	};
	const finish = (): unknown => {
		const text = Buffer.concat(pieces).toString('utf8').trim();
		pieces = [];
		pieceBytes = 0;
		try {
			return JSON.parse(text);
		} catch (error) {
			throw new CxError(
				'API_FORMAT',
				`${source}: element ending at byte ${offset} is not JSON: ${(error as Error).message}`,
			);
		}
	};

	for await (const part of input) {
		const chunk = Buffer.isBuffer(part)
			? part
			: Buffer.from(part.buffer, part.byteOffset, part.byteLength);
		let i = 0;
		if (bom && chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf)
			i = 3;
		bom = false;
		const results: unknown[] = [];
		let start = -1;
		for (; i < chunk.length; i++) {
			const b = chunk[i];
			switch (state) {
				case 'before':
					if (isSpace(b)) break;
					if (b !== OPEN_BRACKET) fail(`"${String.fromCharCode(b)}"`, offset + i);
					state = 'expectFirst';
					break;
				case 'expectFirst':
				case 'expect':
					if (isSpace(b)) break;
					if (b === CLOSE_BRACKET && state === 'expectFirst') {
						state = 'done';
						break;
					}
					if (b === CLOSE_BRACKET || b === COMMA)
						fail(`"${String.fromCharCode(b)}" where an element belongs`, offset + i);
					state = 'inElement';
					start = i;
					depth = 0;
					inString = false;
					escaped = false;
					i--; // read this byte again as part of the element
					break;
				case 'inElement':
					if (start === -1) start = i;
					if (inString) {
						if (escaped) escaped = false;
						else if (b === BACKSLASH) escaped = true;
						else if (b === QUOTE) inString = false;
						break;
					}
					if (b === QUOTE) inString = true;
					else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
					else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
						if (depth === 0) {
							if (b === CLOSE_BRACE) fail('"}" without "{"', offset + i);
							// "]" ends the array right after a scalar element.
							pieces.push(chunk.subarray(start, i));
							results.push(finish());
							start = -1;
							state = 'done';
							break;
						}
						depth--;
					} else if (b === COMMA && depth === 0) {
						pieces.push(chunk.subarray(start, i));
						results.push(finish());
						start = -1;
						state = 'expect';
					}
					break;
				case 'done':
					if (!isSpace(b)) fail('data after the end of the array', offset + i);
					break;
			}
		}
		if (state === 'inElement' && start !== -1) {
			const rest = chunk.subarray(start);
			// Copy: the caller may reuse its chunk buffers.
			pieces.push(Buffer.from(rest));
			pieceBytes += rest.length;
			if (pieceBytes > maxElement)
				throw new CxError(
					'API_FORMAT',
					`${source}: an element is larger than ${maxElement} bytes (at byte ${offset + i})`,
				);
		}
		offset += chunk.length;
		for (const value of results) yield value;
	}
	if (state !== 'done')
		fail(state === 'before' ? 'no data' : 'the end of the data before "]"', offset);
}
