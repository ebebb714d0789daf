/**
 * Streaming decryption of CMS EnvelopedData (RFC 5652) and AuthEnvelopedData with AES-GCM
 * (RFC 5083/5084), as written by Genesys, `openssl smime -encrypt` and `openssl cms -encrypt
 * [-stream]`.
 *
 * The header (up to the encrypted content) is small and read with a pull reader. The encrypted
 * content — primitive, or BER constructed OCTET STRING segments of definite or indefinite length —
 * is then fed through a synchronous segment parser straight into Node's decipher (OpenSSL), one
 * input chunk at a time, so memory stays flat whatever the file size.
 *
 * Integrity: CBC padding (and, for GCM, the authentication tag) is checked at the very end. A
 * caller must treat output as provisional until the generator finishes without throwing; the CLI
 * and the nodes write to a temporary name and keep it only then.
 */
import { createDecipheriv, type Decipher, type DecipherGCM } from 'node:crypto';
import { CxError } from '../errors';
import { formatLimit, limitProblem, raiseAdvice } from '../limits';
import {
	children,
	describeTag,
	MAX_DEPTH,
	octets,
	oidOf,
	parsing,
	readHeader,
	readTlv,
	smallInt,
	TAG,
	type TlvHeader,
} from './der';
import { dearmor } from './armor';
import type { DecryptionKey } from './keys';
import { CONTENT_CIPHERS, nameOf, OID, type ContentCipherSpec } from './oids';
import { parseRecipientInfos, unwrapContentKey, type Recipient } from './recipients';

/**
 * The header before the content holds recipient infos (and, rarely, certificates): a few KB. One of
 * its elements larger than this (16 MiB) is refused before more is held (`maxHeaderBytes`).
 */
export const DEFAULT_MAX_CMS_HEADER_BYTES = 16 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export interface DecryptOptions {
	key: DecryptionKey;
	/** The input's name, used in every message. */
	source?: string;
	/** The most bytes one element of the header may take (default DEFAULT_MAX_CMS_HEADER_BYTES). */
	maxHeaderBytes?: number;
}

export interface CmsHeader {
	contentType: 'envelopedData' | 'authEnvelopedData';
	recipients: Recipient[];
	cipher: ContentCipherSpec;
}

/** Pull reader over an async byte source with an absolute offset, for the small structural parts. */
class ByteReader {
	private buf: Buffer = EMPTY;
	private pos = 0;
	/** Absolute offset (in the DER stream) of the next unread byte. */
	offset = 0;
	private eof = false;

	constructor(
		private readonly it: AsyncIterator<Buffer>,
		private readonly source: string,
		private readonly maxElement = DEFAULT_MAX_CMS_HEADER_BYTES,
	) {}

	private async more(): Promise<boolean> {
		if (this.eof) return false;
		const r = await this.it.next();
		if (r.done) {
			this.eof = true;
			return false;
		}
		const rest = this.buf.subarray(this.pos);
		this.buf = rest.length === 0 ? r.value : Buffer.concat([rest, r.value]);
		this.pos = 0;
		return true;
	}

	truncated(where: string): CxError {
		return new CxError(
			'CMS_TRUNCATED',
			`${this.source}: the file ends at byte ${this.offset + this.available} inside ${where}; it was cut short — download it again`,
		);
	}

	get available(): number {
		return this.buf.length - this.pos;
	}

	async peekHeader(what: string): Promise<TlvHeader> {
		for (;;) {
			const h = readHeader(this.buf, this.pos, `${this.source}: ${what}`);
			if (h) return h;
			if (!(await this.more())) throw this.truncated(what);
		}
	}

	/** Peeks whether the next two bytes are end-of-contents (00 00). */
	async atEndOfContents(what: string): Promise<boolean> {
		while (this.available < 2) if (!(await this.more())) throw this.truncated(what);
		return this.buf[this.pos] === 0 && this.buf[this.pos + 1] === 0;
	}

	skip(n: number): void {
		this.pos += n;
		this.offset += n;
	}

	/**
	 * Reads one whole element (any length form) and returns its bytes. One larger than the limit is
	 * refused as soon as that is known: from its declared length, or once more than the limit is held.
	 */
	async element(what: string): Promise<Buffer> {
		for (;;) {
			try {
				const t = readTlv(this.buf, this.pos, this.buf.length, `${this.source}: ${what}`);
				if (t.end - this.pos > this.maxElement) throw this.tooLarge(what);
				const bytes = Buffer.from(this.buf.subarray(this.pos, t.end));
				this.skip(t.end - this.pos);
				return bytes;
			} catch (error) {
				if (!(error instanceof CxError) || error.code !== 'CMS_TRUNCATED') throw error;
				const h = readHeader(this.buf, this.pos, `${this.source}: ${what}`);
				if (
					this.available > this.maxElement ||
					(h?.length !== undefined && h.headerLength + h.length > this.maxElement)
				)
					throw this.tooLarge(what);
				if (!(await this.more())) throw this.truncated(what);
			}
		}
	}

	private tooLarge(what: string): CxError {
		return new CxError(
			'CMS_LIMIT',
			`${this.source}: ${what} at byte ${this.offset} is larger than the CMS header limit, ${formatLimit('maxCmsHeaderBytes', this.maxElement)}: not a Genesys export, or damaged; if you trust this file, ${raiseAdvice('maxCmsHeaderBytes')}`,
			{ where: this.source, limit: 'maxCmsHeaderBytes' },
		);
	}

	/** The next bytes as they come: what is buffered first, then the source's chunks. */
	async nextChunk(): Promise<Buffer | undefined> {
		if (this.available === 0 && !(await this.more())) return undefined;
		const chunk = this.buf.subarray(this.pos);
		this.offset += chunk.length;
		this.buf = EMPTY;
		this.pos = 0;
		return chunk;
	}

	/** Puts back the bytes that follow the content, which start at absolute `offset`. */
	unshift(bytes: Buffer, offset: number): void {
		this.buf = bytes;
		this.pos = 0;
		this.offset = offset;
	}

	/** Offset of the first byte after the message that is not whitespace or NUL padding, if any. */
	async trailingJunk(): Promise<number | undefined> {
		for (;;) {
			for (let i = this.pos; i < this.buf.length; i++) {
				const b = this.buf[i];
				if (b !== 0 && b !== 0x0a && b !== 0x0d && b !== 0x20) return this.offset + (i - this.pos);
			}
			this.skip(this.available);
			if (!(await this.more())) return undefined;
		}
	}
}

/** Open constructed element whose end we must find: its absolute end offset, or undefined (indefinite). */
type Frame = { end: number | undefined; what: string };

function expectHeader(
	h: TlvHeader,
	tag: number,
	cls: 'universal' | 'context',
	constructed: boolean,
	what: string,
	offset: number,
	source: string,
): void {
	if (h.tag !== tag || h.cls !== cls || h.constructed !== constructed) {
		throw new CxError(
			'CMS_FORMAT',
			`${source}: expected ${what} (${describeTag(tag, cls)}) at byte ${offset}, found ${describeTag(h.tag, h.cls)}`,
		);
	}
}

async function openFrame(
	r: ByteReader,
	tag: number,
	cls: 'universal' | 'context',
	what: string,
	source: string,
): Promise<Frame> {
	const h = await r.peekHeader(what);
	expectHeader(h, tag, cls, true, what, r.offset, source);
	r.skip(h.headerLength);
	return { end: h.length === undefined ? undefined : r.offset + h.length, what };
}

/** True when the frame has no more children (definite end reached, or end-of-contents next). */
async function frameDone(r: ByteReader, f: Frame, source: string): Promise<boolean> {
	if (f.end !== undefined) {
		if (r.offset > f.end)
			throw new CxError(
				'CMS_FORMAT',
				`${source}: ${f.what} overruns its declared length at byte ${f.end}`,
			);
		return r.offset === f.end;
	}
	return r.atEndOfContents(f.what);
}

async function closeFrame(r: ByteReader, f: Frame, source: string): Promise<void> {
	if (!(await frameDone(r, f, source))) {
		throw new CxError(
			'CMS_FORMAT',
			`${source}: unexpected data at byte ${r.offset} at the end of ${f.what}`,
		);
	}
	if (f.end === undefined) r.skip(2);
}

function cipherFor(
	algorithmDer: Buffer,
	source: string,
): { spec: ContentCipherSpec; iv: Buffer; tagLength: number } {
	const what = `${source}: content encryption algorithm`;
	const seq = readTlv(algorithmDer, 0, algorithmDer.length, what);
	const [oidTlv, params] = children(algorithmDer, seq, what);
	const oid = oidOf(algorithmDer, oidTlv, what);
	const spec = CONTENT_CIPHERS[oid];
	if (!spec) {
		throw new CxError(
			'CMS_UNSUPPORTED',
			`${source}: content cipher ${nameOf(oid)} is not supported (AES-128/192/256-CBC, DES-EDE3-CBC, AES-GCM)`,
		);
	}
	if (!params) throw new CxError('CMS_FORMAT', `${what}: ${spec.label} without parameters`);
	if (spec.mode === 'cbc') {
		const iv = Buffer.from(octets(algorithmDer, params, what));
		const ivLength = spec.cipher.startsWith('des') ? 8 : 16;
		if (iv.length !== ivLength)
			throw new CxError(
				'CMS_FORMAT',
				`${what}: ${spec.label} IV of ${iv.length} bytes (expected ${ivLength})`,
			);
		return { spec, iv, tagLength: 0 };
	}
	// GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }
	const [nonce, icv] = children(algorithmDer, params, what);
	if (!nonce) throw new CxError('CMS_FORMAT', `${what}: GCM parameters without a nonce`);
	const tagLength = icv ? smallInt(algorithmDer, icv, what) : 12;
	if (tagLength < 12 || tagLength > 16)
		throw new CxError(
			'CMS_FORMAT',
			`${what}: GCM tag length ${tagLength} is not allowed (12 to 16)`,
		);
	return { spec, iv: Buffer.from(octets(algorithmDer, nonce, what)), tagLength };
}

/**
 * Synchronous parser for the encrypted content: BER OCTET STRING segments, nested to any depth,
 * definite or indefinite. `push` appends the content bytes found in a chunk to `out` and, once the
 * content has ended, returns the bytes that follow it.
 */
class SegmentParser {
	/** Remaining bytes of the primitive segment being read. */
	private remaining = 0;
	/** Open constructed segments: absolute end offset, or undefined for indefinite length. */
	private readonly stack: Array<number | undefined> = [];
	/** A segment header split across two chunks (a few bytes). */
	private carry = EMPTY;
	/** Absolute offset of the next byte to parse. */
	offset: number;
	done = false;

	constructor(
		header: TlvHeader,
		contentOffset: number,
		private readonly source: string,
	) {
		this.offset = contentOffset;
		if (header.constructed)
			this.stack.push(header.length === undefined ? undefined : contentOffset + header.length);
		else this.remaining = header.length ?? 0;
		if (this.remaining === 0) this.popFinished();
	}

	private popFinished(): void {
		while (this.stack.length > 0) {
			const end = this.stack[this.stack.length - 1];
			if (end === undefined || this.offset < end) return;
			this.stack.pop();
		}
		this.done = true;
	}

	push(chunk: Buffer, out: Buffer[]): Buffer | undefined {
		let data = chunk;
		if (this.carry.length > 0) {
			// Rare (a 2-6 byte header straddling two chunks); one copy is fine.
			data = Buffer.concat([this.carry, chunk]);
			this.carry = EMPTY;
		}
		let i = 0;
		for (;;) {
			if (this.done) return data.subarray(i);
			if (this.remaining > 0) {
				const n = Math.min(this.remaining, data.length - i);
				if (n === 0) return undefined;
				out.push(data.subarray(i, i + n));
				i += n;
				this.offset += n;
				this.remaining -= n;
				if (this.remaining === 0) this.popFinished();
				continue;
			}
			if (i >= data.length) return undefined;
			const top = this.stack[this.stack.length - 1];
			if (top === undefined) {
				if (data.length - i < 2) {
					this.carry = Buffer.from(data.subarray(i));
					return undefined;
				}
				if (data[i] === 0 && data[i + 1] === 0) {
					i += 2;
					this.offset += 2;
					this.stack.pop();
					this.popFinished();
					continue;
				}
			}
			const h = readHeader(data, i, `${this.source}: encrypted content`);
			if (!h) {
				this.carry = Buffer.from(data.subarray(i));
				return undefined;
			}
			if (h.tag !== TAG.OCTET_STRING || h.cls !== 'universal') {
				throw new CxError(
					'CMS_FORMAT',
					`${this.source}: expected an OCTET STRING segment of the encrypted content at byte ${this.offset}, found ${describeTag(h.tag, h.cls)}`,
				);
			}
			i += h.headerLength;
			this.offset += h.headerLength;
			const end = h.length === undefined ? undefined : this.offset + h.length;
			if (top !== undefined && (end === undefined || end > top)) {
				throw new CxError(
					'CMS_FORMAT',
					`${this.source}: an encrypted-content segment at byte ${this.offset - h.headerLength} overruns its container`,
				);
			}
			if (h.constructed) {
				// openssl -stream nests one level; a hostile file could nest millions (memory, time).
				if (this.stack.length >= MAX_DEPTH) {
					throw new CxError(
						'CMS_FORMAT',
						`${this.source}: encrypted-content segments nested deeper than ${MAX_DEPTH} at byte ${this.offset - h.headerLength}`,
					);
				}
				this.stack.push(end);
			} else {
				this.remaining = h.length ?? 0;
			}
			if (this.remaining === 0) this.popFinished();
		}
	}
}

interface EnvelopeHeader {
	authenticated: boolean;
	recipients: Recipient[];
	algorithm: ReturnType<typeof cipherFor>;
	/** Enclosing elements, innermost last: ContentInfo, [0], (Auth)EnvelopedData, EncryptedContentInfo. */
	frames: Frame[];
}

/** Reads everything before the encrypted content, leaving the reader at the content's header. */
async function readEnvelopeHeader(r: ByteReader, source: string): Promise<EnvelopeHeader> {
	// ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
	const contentInfo = await openFrame(r, TAG.SEQUENCE, 'universal', 'ContentInfo', source);
	const typeDer = await r.element('content type');
	const typeOid = oidOf(
		typeDer,
		readTlv(typeDer, 0, typeDer.length, source),
		`${source}: content type`,
	);
	if (typeOid !== OID.envelopedData && typeOid !== OID.authEnvelopedData) {
		throw new CxError(
			'CMS_UNSUPPORTED',
			`${source}: the file holds ${nameOf(typeOid)}, not encrypted (enveloped) data`,
		);
	}
	const authenticated = typeOid === OID.authEnvelopedData;
	const explicit = await openFrame(r, 0, 'context', 'ContentInfo content', source);
	const envelope = await openFrame(
		r,
		TAG.SEQUENCE,
		'universal',
		authenticated ? 'AuthEnvelopedData' : 'EnvelopedData',
		source,
	);
	const versionDer = await r.element('version');
	smallInt(versionDer, readTlv(versionDer, 0, versionDer.length, source), `${source}: version`);
	let h = await r.peekHeader('originator info or recipients');
	if (h.cls === 'context' && h.tag === 0) {
		await r.element('originator info');
		h = await r.peekHeader('recipients');
	}
	expectHeader(h, TAG.SET, 'universal', true, 'RecipientInfos', r.offset, source);
	const recipientsDer = await r.element('RecipientInfos');
	const recipients = parsing(`${source}: recipients`, () =>
		parseRecipientInfos(recipientsDer, `${source}: recipients`),
	);
	const eci = await openFrame(r, TAG.SEQUENCE, 'universal', 'EncryptedContentInfo', source);
	await r.element('content type of the encrypted content');
	const algorithmDer = await r.element('content encryption algorithm');
	const algorithm = parsing(`${source}: content encryption algorithm`, () =>
		cipherFor(algorithmDer, source),
	);
	if ((algorithm.spec.mode === 'gcm') !== authenticated) {
		throw new CxError(
			'CMS_FORMAT',
			`${source}: ${algorithm.spec.label} inside ${authenticated ? 'AuthEnvelopedData' : 'EnvelopedData'} is not allowed`,
		);
	}
	return { authenticated, recipients, algorithm, frames: [contentInfo, explicit, envelope, eci] };
}

/** Streams the plaintext of one CMS enveloped message. */
export async function* decryptCms(
	input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
	options: DecryptOptions,
): AsyncGenerator<Buffer> {
	const source = options.source ?? 'input';
	const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_CMS_HEADER_BYTES;
	const problem = limitProblem('maxCmsHeaderBytes', maxHeaderBytes);
	if (problem) throw new CxError('USAGE', `maxHeaderBytes ${problem}`);
	const r = new ByteReader(dearmor(input, source)[Symbol.asyncIterator](), source, maxHeaderBytes);
	const { authenticated, recipients, algorithm, frames } = await readEnvelopeHeader(r, source);
	const [contentInfo, explicit, envelope, eci] = frames;

	// Identify our recipient and unwrap the key before a single byte of content is decrypted.
	const cek = unwrapContentKey(recipients, options.key, algorithm.spec.keyLength, source);
	const decipher: Decipher =
		algorithm.spec.mode === 'gcm'
			? createDecipheriv(algorithm.spec.cipher as 'aes-256-gcm', cek, algorithm.iv, {
					authTagLength: algorithm.tagLength,
				})
			: createDecipheriv(algorithm.spec.cipher, cek, algorithm.iv);

	const h = await r.peekHeader('encrypted content');
	if (h.cls !== 'context' || h.tag !== 0) {
		throw new CxError(
			'CMS_UNSUPPORTED',
			`${source}: the encrypted content is not in the file (detached content is not supported)`,
		);
	}
	r.skip(h.headerLength);
	const parser = new SegmentParser(h, r.offset, source);
	const segments: Buffer[] = [];
	for (;;) {
		const chunk = await r.nextChunk();
		if (chunk === undefined) break;
		segments.length = 0;
		const after = parser.push(chunk, segments);
		if (segments.length > 0) {
			// One decipher call per input chunk, however many BER segments it holds.
			const plain = decipher.update(segments.length === 1 ? segments[0] : Buffer.concat(segments));
			if (plain.length > 0) yield plain;
		}
		if (after !== undefined) {
			r.unshift(after, parser.offset);
			break;
		}
	}
	if (!parser.done) {
		throw new CxError(
			'CMS_TRUNCATED',
			`${source}: the file ends at byte ${parser.offset} inside the encrypted content; it was cut short — download it again`,
		);
	}

	// What follows the content: the ends of the enclosing structures and, for GCM, the tag.
	await closeFrame(r, eci, source);
	let mac: Buffer | undefined;
	if (authenticated) {
		const t = await r.peekHeader('authenticated attributes or MAC');
		if (t.cls === 'context' && t.tag === 1) {
			throw new CxError(
				'CMS_UNSUPPORTED',
				`${source}: authenticated attributes in AuthEnvelopedData are not supported`,
			);
		}
		expectHeader(t, TAG.OCTET_STRING, 'universal', false, 'MAC', r.offset, source);
		const macDer = await r.element('MAC');
		mac = macDer.subarray(t.headerLength);
		if (mac.length !== algorithm.tagLength) {
			throw new CxError(
				'CMS_FORMAT',
				`${source}: authentication tag of ${mac.length} bytes, expected ${algorithm.tagLength}`,
			);
		}
	}
	// unprotectedAttrs [1] (EnvelopedData) / unauthAttrs [2] (AuthEnvelopedData): not needed.
	while (!(await frameDone(r, envelope, source))) await r.element('attributes');
	await closeFrame(r, envelope, source);
	await closeFrame(r, explicit, source);
	await closeFrame(r, contentInfo, source);
	const junk = await r.trailingJunk();
	if (junk !== undefined) {
		throw new CxError(
			'CMS_FORMAT',
			`${source}: unexpected data after the end of the encrypted message at byte ${junk}; the file is damaged`,
		);
	}

	let last: Buffer;
	try {
		if (mac) (decipher as DecipherGCM).setAuthTag(mac);
		last = decipher.final();
	} catch {
		throw new CxError(
			'CMS_INTEGRITY',
			authenticated
				? `${source}: the authentication tag does not match: the file was altered or damaged; download it again`
				: `${source}: the decrypted content does not end with valid padding: the file is damaged, or the key is not the right one`,
		);
	}
	if (last.length > 0) yield last;
}

/** Reads only the header of a CMS message: who it is for and how it is encrypted. */
export async function inspectCms(
	input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
	source = 'input',
): Promise<CmsHeader> {
	const r = new ByteReader(dearmor(input, source)[Symbol.asyncIterator](), source);
	const header = await readEnvelopeHeader(r, source);
	return {
		contentType: header.authenticated ? 'authEnvelopedData' : 'envelopedData',
		recipients: header.recipients,
		cipher: header.algorithm.spec,
	};
}
