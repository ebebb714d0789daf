/**
 * Inputs of the pipeline: a named byte source that can be opened once, and what it turns out to
 * be once its bytes are seen (encrypted message, zip, split-zip part, gzip, or something else —
 * JSON Lines for the `records` path). Content decides what a file is; names only group and order
 * the parts of a split export.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { decryptCms, sniff, type DecryptionKey } from '../cms';
import { isTextByte } from '../cms/armor';
import { CxError } from '../errors';
import {
	EOCD_SIZE,
	MAX_COMMENT,
	ZIP64_LOCATOR_SIZE,
	findEocd,
	findZip64Locator,
} from '../zip/format';
import { missingPartsMessage } from '../zip/parts';

export interface ByteSource {
	/** The file name as the user knows it (`export-<uuid>.z01.smime`); used for part order and messages. */
	name: string;
	/** Size in bytes when known (progress only). */
	size?: number;
	/** Set when the bytes are a local file: a plain zip is then read in place, not copied. */
	path?: string;
	/** Opens the bytes; called at most once per pipeline run. */
	open(): AsyncIterable<Buffer>;
}

export type Kind = 'encrypted' | 'zip' | 'split-zip' | 'gzip' | 'other';

/** Read size for files: large enough for throughput, small enough to keep memory flat. */
export const READ_CHUNK = 256 * 1024;

export async function fileSource(path: string, name = basename(path)): Promise<ByteSource> {
	let size: number;
	try {
		const info = await stat(path);
		if (!info.isFile()) throw new CxError('IO', `${path}: not a file`);
		size = info.size;
	} catch (error) {
		if (error instanceof CxError) throw error;
		throw new CxError(
			'IO',
			`${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
		);
	}
	return { name, size, path, open: () => createReadStream(path, { highWaterMark: READ_CHUNK }) };
}

/** How many first bytes `peek` gathers (when the source has them) to tell what it is. */
const HEAD_BYTES = 512;

export interface Peeked {
	kind: Kind;
	/** The first bytes (at least HEAD_BYTES unless the source is shorter; also the stream's first chunk). */
	head: Buffer;
	/** Every byte of the source, the head included. */
	stream: AsyncIterable<Buffer>;
}

/**
 * Reads the first bytes of a source to tell what it is, and returns a stream that still yields
 * every byte (nothing is read twice).
 */
export async function peek(source: ByteSource): Promise<Peeked> {
	const iterator = source.open()[Symbol.asyncIterator]();
	const head: Buffer[] = [];
	let length = 0;
	let done = false;
	while (length < HEAD_BYTES && !done) {
		const r = await iterator.next();
		if (r.done) done = true;
		else {
			head.push(r.value);
			length += r.value.length;
		}
	}
	const first = Buffer.concat(head);
	const sniffed = sniff(first);
	// gzip: magic 1f 8b and method 8 (deflate), as RFC 1952 has it.
	const gzip = first.length >= 3 && first[0] === 0x1f && first[1] === 0x8b && first[2] === 0x08;
	const kind: Kind = gzip
		? 'gzip'
		: sniffed === 'cms'
			? 'encrypted'
			: sniffed === 'unknown'
				? 'other'
				: sniffed;
	async function* stream(): AsyncGenerator<Buffer> {
		if (first.length > 0) yield first;
		if (done) return;
		for (;;) {
			const r = await iterator.next();
			if (r.done) return;
			yield r.value;
		}
	}
	return { kind, head: first, stream: stream() };
}

export interface PlainOptions {
	key?: DecryptionKey;
	limits?: { maxCmsHeaderBytes?: number };
	/** Called with each chunk's encoded size as it is read, for progress. */
	onRead?: (bytes: number) => void;
}

/** The plaintext of a source: decrypted when it is an encrypted message, as-is otherwise. */
export async function plaintext(
	source: ByteSource,
	options: PlainOptions,
): Promise<Peeked & { encrypted: boolean }> {
	const counted: ByteSource = options.onRead
		? { ...source, open: () => counting(source.open(), options.onRead!) }
		: source;
	const outer = await peek(counted);
	if (outer.kind !== 'encrypted') return { ...outer, encrypted: false };
	if (!options.key) {
		throw new CxError(
			'USAGE',
			`${source.name} is encrypted (S/MIME); give the private key (--key in the CLI, the S/MIME Decryption Key API credential in the nodes)`,
		);
	}
	const decrypted = decryptCms(outer.stream, {
		key: options.key,
		source: source.name,
		maxHeaderBytes: options.limits?.maxCmsHeaderBytes,
	});
	// What the decrypted content is (a zip part, or JSON Lines) is decided by its own first bytes.
	const inner = await peek({ name: source.name, open: () => decrypted });
	return { ...inner, kind: inner.kind === 'encrypted' ? 'other' : inner.kind, encrypted: true };
}

/**
 * Whether the first bytes can be the start of JSON Lines (or any text): no control bytes but tab,
 * LF, CR and form feed — JSON has none outside escapes. Compressed or encrypted bytes have one in
 * almost every 10; 512 bytes without any are not binary.
 */
export function looksLikeText(head: Buffer): boolean {
	const end = Math.min(head.length, HEAD_BYTES);
	for (let i = 0; i < end; i++) if (!isTextByte(head[i])) return false;
	return true;
}

/** The end of a zip holds its end records: the last this many bytes (the longest comment included). */
const TAIL_BYTES = EOCD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE;

/** The last TAIL_BYTES of a local file, read directly. */
export async function fileTail(path: string): Promise<Buffer> {
	const file = await open(path, 'r');
	try {
		const { size } = await file.stat();
		const length = Math.min(size, TAIL_BYTES);
		const buffer = Buffer.alloc(length);
		await file.read(buffer, 0, length, size - length);
		return buffer;
	} finally {
		await file.close();
	}
}

/** The last TAIL_BYTES of what is added to it, holding no more than that (and one chunk). */
export class TailBuffer {
	private tail: Buffer = Buffer.alloc(0);

	add(chunk: Buffer): void {
		const tail = chunk.length >= TAIL_BYTES ? chunk : Buffer.concat([this.tail, chunk]);
		this.tail =
			tail.length > TAIL_BYTES ? Buffer.from(tail.subarray(tail.length - TAIL_BYTES)) : tail;
	}

	get bytes(): Buffer {
		return this.tail;
	}
}

/**
 * What the end of a zip, or of the final part of a split zip, says about the archive: which disk
 * this is (0-based) and how many there are. Undefined when the bytes do not end like a zip.
 */
export function zipEnding(tail: Buffer): { disk: number; disks: number } | undefined {
	const eocd = findEocd(tail);
	if (!eocd) return undefined;
	let locator;
	try {
		locator = findZip64Locator(tail, eocd.at);
	} catch {
		locator = undefined;
	}
	// A Zip64 archive says 0xFFFF here and the real count in its locator.
	if (eocd.thisDisk === 0xffff && locator && locator.totalDisks > 0)
		return { disk: locator.totalDisks - 1, disks: locator.totalDisks };
	return { disk: eocd.thisDisk, disks: eocd.thisDisk + 1 };
}

/**
 * Refuses a lone source whose bytes end like the final part of a split zip (its end record is on
 * disk N > 0: the parts before it are missing), naming those parts.
 */
export function refuseLoneFinalPart(source: ByteSource, tail: Buffer): void {
	const ending = zipEnding(tail);
	if (ending && ending.disk > 0) {
		throw new CxError(
			'PART_MISSING',
			missingPartsMessage(source.name, ending.disks, [source.name]),
			{ where: source.name },
		);
	}
}

async function* counting(
	input: AsyncIterable<Buffer>,
	onRead: (bytes: number) => void,
): AsyncGenerator<Buffer> {
	for await (const chunk of input) {
		onRead(chunk.length);
		yield chunk;
	}
}

/**
 * The content of a gzip stream (a `.jsonl.gz` record chunk, say). Bad gzip data rejects with a
 * message naming the source; stopping early stops the decompression.
 */
export async function* gunzipped(
	input: AsyncIterable<Buffer>,
	name: string,
): AsyncGenerator<Buffer> {
	const gunzip = createGunzip();
	const feeding = pipeline(Readable.from(input, { objectMode: false }), gunzip);
	feeding.catch(() => undefined);
	try {
		for await (const chunk of gunzip) yield chunk as Buffer;
		await feeding;
	} catch (error) {
		if (error instanceof CxError) throw error;
		const reason =
			(error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR'
				? 'it ends before its end (cut short)'
				: (error as Error).message;
		throw new CxError('IO', `${name}: not a readable gzip file: ${reason}`, { where: name });
	} finally {
		gunzip.destroy();
	}
}
