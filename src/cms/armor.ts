/**
 * Turns whatever the user has — S/MIME (MIME headers + base64, LF or CRLF), PEM (`BEGIN PKCS7` /
 * `BEGIN CMS`) or raw DER/BER — into a stream of DER/BER bytes, without holding the file in memory.
 */
import { CxError } from '../errors';

/** At most this much MIME header before the body; real S/MIME headers are a few hundred bytes. */
const MAX_HEADER_BYTES = 64 * 1024;

/** The start of every PKCS #7 / CMS content type OID: 1.2.840.113549.1 (pkcs). */
const PKCS_OID_START = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01];

/**
 * A DER/BER CMS ContentInfo starts SEQUENCE, length, then the content type OID under
 * 1.2.840.113549.1 (envelopedData 1.7.3, authEnvelopedData 1.9.16.1.23). A leading 0x30 alone is
 * not enough: a middle part of a split zip is arbitrary bytes and starts with 0x30 once in 256.
 */
function looksLikeDerContentInfo(head: Uint8Array): boolean {
	if (head.length < 2 || head[0] !== 0x30) return false;
	if (head[1] > 0x84) return false;
	let i = 2;
	if (head[1] > 0x80) i += head[1] & 0x7f;
	if (
		head.length < i + 2 + PKCS_OID_START.length ||
		head[i] !== 0x06 ||
		head[i + 1] < PKCS_OID_START.length
	)
		return false;
	return PKCS_OID_START.every((byte, k) => head[i + 2 + k] === byte);
}

/** What a file looks like from its first bytes, for messages and for callers that route by content. */
export function sniff(head: Uint8Array): 'cms' | 'zip' | 'split-zip' | 'unknown' {
	if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b) {
		if (head[2] === 0x07 && head[3] === 0x08) return 'split-zip';
		if (
			(head[2] === 0x03 && head[3] === 0x04) ||
			(head[2] === 0x05 && head[3] === 0x06) ||
			(head[2] === 0x30 && head[3] === 0x30)
		) {
			return 'zip';
		}
	}
	if (looksLikeDerContentInfo(head)) return 'cms';
	const text = Buffer.from(head.subarray(0, 512)).toString('latin1');
	const armour = pemStart(text);
	if (armour && (armour.label === 'PKCS7' || armour.label === 'CMS')) return 'cms';
	if (/^(MIME-Version|Content-[A-Za-z-]+)\s*:/im.test(text.split(/\r?\n\r?\n/)[0] ?? ''))
		return 'cms';
	return 'unknown';
}

/**
 * Where PEM armour starts: the first line that opens with `-----BEGIN <label>-----`. Only text may
 * come before it: RFC 7468 lets explanatory text precede the armour (openssl skips it too), and a
 * line starting with "-" can begin neither JSON Lines nor a MIME header.
 */
function pemStart(text: string): { label: string; at: number; length: number } | undefined {
	const m = /(?:^|\n)[ \t\r]*(-----BEGIN ([A-Z0-9 ]+)-----[ \t]*\r?\n)/.exec(text);
	if (!m) return undefined;
	const at = m.index + m[0].length - m[1].length;
	for (let i = 0; i < at; i++) if (!isTextByte(text.charCodeAt(i))) return undefined;
	return { label: m[2], at, length: m[1].length };
}

/**
 * Whether a byte can stand in text: anything but the control bytes, save tab, LF, form feed and CR.
 * JSON has none outside escapes; compressed or encrypted bytes have one in almost every 10.
 */
export function isTextByte(b: number): boolean {
	return !((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d) || b === 0x7f);
}

function describeStart(head: Buffer): string {
	const kind = sniff(head);
	if (kind === 'zip' || kind === 'split-zip') return 'it is a zip file, already decrypted';
	const printable = head
		.subarray(0, 16)
		.toString('latin1')
		.replace(/[^\x20-\x7e]/g, '.');
	return `it starts with "${printable}"`;
}

/**
 * Streaming base64 decoder: ignores line breaks, refuses anything outside the alphabet.
 *
 * Fast path: S/MIME and PEM bodies are lines of one fixed width (64 or 76 characters). When a run of
 * whole lines has that shape — checked with one comparison per line — it is decoded in one native
 * call with the line breaks in place, and the decoded length proves no character was skipped.
 * Anything irregular goes through the exact (slower) path.
 */
class Base64Decoder {
	/** Bytes of an incomplete last line, kept for the next chunk. */
	private partial = EMPTY;
	/** Significant characters left over by the exact path (fewer than 4). */
	private pending = '';
	private ended = false;
	/** Width of a full line and its line break, learnt from the first line. */
	private width = 0;
	private eol = 0;
	/** Bytes of encoded input consumed before `partial`, for error offsets. */
	private consumed: number;

	constructor(
		private readonly source: string,
		baseOffset: number,
	) {
		this.consumed = baseOffset;
	}

	/**
	 * The bytes `chunk` completes, in order, as views: no copy of the input (only a line begun in
	 * the previous chunk is joined) and one output buffer per chunk.
	 */
	push(chunk: Buffer): Buffer[] {
		const out: Buffer[] = [];
		let data = chunk;
		if (this.partial.length > 0) {
			const nl = data.indexOf(0x0a);
			if (nl < 0 && this.partial.length + data.length < 1 << 20) {
				this.partial = Buffer.concat([this.partial, data]);
				return out;
			}
			// The line begun in the previous chunk, whole (or 1 MiB of text without a line break).
			const cut = nl < 0 ? data.length : nl + 1;
			const line = Buffer.concat([this.partial, data.subarray(0, cut)]);
			this.partial = EMPTY;
			const offset = this.consumed;
			this.consumed += line.length;
			this.decodeRegion(line, offset, out);
			data = data.subarray(cut);
		}
		const lastBreak = data.lastIndexOf(0x0a);
		if (lastBreak < 0 && data.length < 1 << 20) {
			this.partial = Buffer.from(data);
			return out;
		}
		const cut = lastBreak < 0 ? data.length : lastBreak + 1;
		this.partial = Buffer.from(data.subarray(cut));
		const offset = this.consumed;
		this.consumed += cut;
		if (cut > 0) this.decodeRegion(data.subarray(0, cut), offset, out);
		return out;
	}

	end(): Buffer {
		const region = this.partial;
		this.partial = EMPTY;
		const out =
			region.length > 0 ? this.exact(region.toString('latin1'), this.consumed, true) : EMPTY;
		if (this.pending.length !== 0) {
			throw new CxError(
				'CMS_TRUNCATED',
				`${this.source}: the base64 text ends mid-group; the file was cut short — download it again`,
			);
		}
		return out;
	}

	/**
	 * Decodes whole lines into `out`. Regular lines are decoded in slices below V8's large-object
	 * size (strings over ~128 KiB are slow to allocate and to free), each written straight into one
	 * buffer for the region; a slice that is not regular goes through the exact path.
	 */
	private decodeRegion(region: Buffer, offset: number, out: Buffer[]): void {
		if (this.width === 0) this.learnWidth(region);
		const stride = this.width + this.eol;
		if (this.width === 0 || this.ended) {
			const exact = this.exact(region.toString('latin1'), offset, false);
			if (exact.length > 0) out.push(exact);
			return;
		}
		const step = Math.max(1, Math.floor(MAX_STRING_BYTES / stride)) * stride;
		// Room for every whole line of the region, and the part of a last line without a break.
		const target = Buffer.allocUnsafe(Math.ceil(region.length / stride) * ((this.width * 3) / 4));
		let from = 0;
		let at = 0;
		for (let p = 0; p < region.length; p += step) {
			const slice = region.subarray(p, Math.min(p + step, region.length));
			if (this.pending.length === 0 && !this.ended && this.regular(slice)) {
				const expected = ((slice.length / stride) * this.width * 3) / 4;
				const written = target.write(slice.toString('latin1'), at, 'base64');
				if (written === expected) {
					at += written;
					continue;
				}
				// Shorter: a character was skipped or padding sits inside; the exact path says where.
			}
			if (at > from) out.push(target.subarray(from, at));
			from = at;
			const exact = this.exact(slice.toString('latin1'), offset + p, false);
			if (exact.length > 0) out.push(exact);
		}
		if (at > from) out.push(target.subarray(from, at));
	}

	private learnWidth(region: Buffer): void {
		const nl = region.indexOf(0x0a);
		if (nl <= 0) return;
		const eol = region[nl - 1] === 0x0d ? 2 : 1;
		const width = nl + 1 - eol;
		if (width > 0 && width % 4 === 0) {
			this.width = width;
			this.eol = eol;
		}
	}

	/** Whole lines of exactly `width` characters, each ending with the same line break. */
	private regular(region: Buffer): boolean {
		const stride = this.width + this.eol;
		if (region.length % stride !== 0) return false;
		const crlf = this.eol === 2;
		for (let p = this.width; p < region.length; p += stride) {
			if (crlf ? region[p] !== 0x0d || region[p + 1] !== 0x0a : region[p] !== 0x0a) return false;
		}
		return true;
	}

	private exact(text: string, offset: number, final: boolean): Buffer {
		const bad = /[^A-Za-z0-9+/=\r\n\t ]/.exec(text);
		if (bad) {
			throw new CxError(
				'CMS_FORMAT',
				`${this.source}: invalid base64 character at byte ${offset + bad.index}; the file is damaged`,
			);
		}
		const clean = text.replace(/[\r\n\t ]+/g, '');
		if (clean.length === 0) return EMPTY;
		if (this.ended)
			throw new CxError(
				'CMS_FORMAT',
				`${this.source}: data after the base64 padding near byte ${offset}; the file is damaged`,
			);
		const pad = clean.indexOf('=');
		if (pad >= 0) {
			if (!/^=*$/.test(clean.slice(pad)) || clean.length - pad > 2) {
				throw new CxError(
					'CMS_FORMAT',
					`${this.source}: misplaced base64 padding near byte ${offset}; the file is damaged`,
				);
			}
			this.ended = true;
		}
		const all = this.pending + clean;
		if ((this.ended || final) && all.length % 4 !== 0) {
			if (this.ended)
				throw new CxError(
					'CMS_FORMAT',
					`${this.source}: base64 padding at a wrong place near byte ${offset}; the file is damaged`,
				);
			throw new CxError(
				'CMS_TRUNCATED',
				`${this.source}: the base64 text ends mid-group; the file was cut short — download it again`,
			);
		}
		const usable = all.length - (all.length % 4);
		this.pending = all.slice(usable);
		return usable === 0 ? EMPTY : Buffer.from(all.slice(0, usable), 'base64');
	}
}

const EMPTY = Buffer.alloc(0);

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
	yield* items;
}
const MAX_STRING_BYTES = 96 * 1024;

/**
 * Yields the DER/BER bytes of a CMS object given in any supported armour. `source` names the input
 * in messages.
 */
export async function* dearmor(
	input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
	source: string,
): AsyncGenerator<Buffer> {
	const iterator =
		Symbol.asyncIterator in input
			? input[Symbol.asyncIterator]()
			: toAsync(input)[Symbol.asyncIterator]();
	let head = EMPTY;
	let done = false;
	// Enough bytes to recognise the format (and, for MIME, the whole header).
	while (!done && head.length < 4096) {
		const r = await iterator.next();
		if (r.done) done = true;
		else head = head.length === 0 ? Buffer.from(r.value) : Buffer.concat([head, r.value]);
	}
	if (head.length === 0) throw new CxError('CMS_TRUNCATED', `${source}: the file is empty`);

	async function* rest(): AsyncGenerator<Buffer> {
		if (done) return;
		for (;;) {
			const r = await iterator.next();
			if (r.done) return;
			yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
		}
	}

	if (head[0] === 0x30) {
		yield head;
		yield* rest();
		return;
	}

	const headText = head.toString('latin1');
	const pem = pemStart(headText);
	if (pem) {
		if (pem.label !== 'PKCS7' && pem.label !== 'CMS') {
			throw new CxError(
				'CMS_FORMAT',
				`${source}: a PEM "${pem.label}" block, not an encrypted message (BEGIN PKCS7 or BEGIN CMS)`,
			);
		}
		const bodyAt = pem.at + pem.length;
		yield* decodeBase64Body(head.subarray(bodyAt), rest(), source, bodyAt, true);
		return;
	}

	// MIME: header lines, an empty line, then the body.
	let bodyStart = -1;
	let separatorLength = 0;
	let buffered = head;
	const more = rest();
	for (;;) {
		const m = /\r?\n\r?\n/.exec(buffered.toString('latin1'));
		if (m) {
			bodyStart = m.index;
			separatorLength = m[0].length;
			break;
		}
		if (buffered.length > MAX_HEADER_BYTES) break;
		const r = await more.next();
		if (r.done) break;
		buffered = Buffer.concat([buffered, r.value]);
	}
	const headerText = bodyStart >= 0 ? buffered.subarray(0, bodyStart).toString('latin1') : '';
	if (bodyStart < 0 || !/^(MIME-Version|Content-[A-Za-z-]+)\s*:/im.test(headerText)) {
		throw new CxError(
			'CMS_FORMAT',
			`${source}: not an S/MIME, PEM or DER encrypted file (${describeStart(head)})`,
		);
	}
	const headers = new Map<string, string>();
	for (const line of headerText.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
		const colon = line.indexOf(':');
		if (colon > 0)
			headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
	}
	const contentType = (headers.get('content-type') ?? '').toLowerCase();
	if (contentType && !/application\/(x-)?pkcs7-mime/.test(contentType)) {
		throw new CxError(
			'CMS_FORMAT',
			`${source}: the MIME part is "${contentType.split(';')[0]}", not application/pkcs7-mime; ${contentType.startsWith('multipart/signed') ? 'this is a signed message, not an encrypted one' : 'not an encrypted S/MIME message'}`,
		);
	}
	if (/smime-type\s*=\s*"?signed-data/.test(contentType)) {
		throw new CxError(
			'CMS_UNSUPPORTED',
			`${source}: an S/MIME signed-data message; only encrypted (enveloped-data) messages can be decrypted`,
		);
	}
	const encoding = (headers.get('content-transfer-encoding') ?? 'base64').toLowerCase();
	const body = buffered.subarray(bodyStart + separatorLength);
	if (encoding === 'binary' || encoding === '8bit') {
		yield body;
		yield* more;
		return;
	}
	if (encoding !== 'base64') {
		throw new CxError(
			'CMS_UNSUPPORTED',
			`${source}: Content-Transfer-Encoding "${encoding}" is not supported (base64 or binary)`,
		);
	}
	yield* decodeBase64Body(body, more, source, bodyStart + separatorLength, false);
}

async function* decodeBase64Body(
	first: Buffer,
	rest: AsyncIterable<Buffer>,
	source: string,
	offset: number,
	pem: boolean,
): AsyncGenerator<Buffer> {
	const decoder = new Base64Decoder(source, offset);
	let sawEnd = false;
	/** The PEM END line as it arrives (bounded: anything long is wrong anyway). */
	let endLine = '';
	const handle = (chunk: Buffer): Buffer[] => {
		if (sawEnd) {
			if (endLine.length < 256) endLine += chunk.subarray(0, 256).toString('latin1');
			return [];
		}
		const dash = chunk.indexOf(0x2d);
		if (dash >= 0) {
			// PEM's END line, or a MIME boundary: the base64 body ends here.
			if (!pem)
				throw new CxError(
					'CMS_FORMAT',
					`${source}: unexpected "-" in the base64 body; a multipart message is not supported`,
				);
			sawEnd = true;
			endLine = chunk.subarray(dash, dash + 256).toString('latin1');
			const body = decoder.push(chunk.subarray(0, dash));
			const last = decoder.end();
			if (last.length > 0) body.push(last);
			return body;
		}
		return decoder.push(chunk);
	};
	for (const piece of handle(first)) if (piece.length > 0) yield piece;
	for await (const chunk of rest) {
		for (const piece of handle(chunk)) if (piece.length > 0) yield piece;
	}
	// Text may follow the END line (RFC 7468), as it may precede BEGIN.
	if (pem && !/^-----END (PKCS7|CMS)-----[ \t]*(\r?\n|$)/.test(endLine)) {
		if (!sawEnd || /^-*(E(N(D( [A-Z0-9]*-*)?)?)?)?$/.test(endLine)) {
			throw new CxError(
				'CMS_TRUNCATED',
				`${source}: the PEM block has no complete END line; the file was cut short — download it again`,
			);
		}
		throw new CxError('CMS_FORMAT', `${source}: unexpected text at the end of the PEM block`);
	}
	if (!pem) {
		const last = decoder.end();
		if (last.length > 0) yield last;
	}
}
