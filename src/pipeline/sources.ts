/**
 * Inputs of the pipeline: a named byte source that can be opened once, and what it turns out to
 * be once its first bytes are seen (encrypted message, zip, split-zip part, or something else —
 * JSON Lines for the `records` path).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { decryptCms, sniff, type DecryptionKey } from '../cms';
import { CxError } from '../errors';

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
		throw new CxError('IO', `${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
	}
	return { name, size, path, open: () => createReadStream(path, { highWaterMark: READ_CHUNK }) };
}

/**
 * Reads the first bytes of a source to tell what it is, and returns a stream that still yields
 * every byte (nothing is read twice).
 */
export async function peek(source: ByteSource): Promise<{ kind: Kind; stream: AsyncIterable<Buffer> }> {
	const iterator = source.open()[Symbol.asyncIterator]();
	const head: Buffer[] = [];
	let length = 0;
	let done = false;
	while (length < 16 && !done) {
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
	const kind: Kind = gzip ? 'gzip' : sniffed === 'cms' ? 'encrypted' : sniffed === 'unknown' ? 'other' : sniffed;
	async function* stream(): AsyncGenerator<Buffer> {
		if (first.length > 0) yield first;
		if (done) return;
		for (;;) {
			const r = await iterator.next();
			if (r.done) return;
			yield r.value;
		}
	}
	return { kind, stream: stream() };
}

export interface PlainOptions {
	key?: DecryptionKey;
	/** Called with each chunk's encoded size as it is read, for progress. */
	onRead?: (bytes: number) => void;
}

/** The plaintext of a source: decrypted when it is an encrypted message, as-is otherwise. */
export async function plaintext(source: ByteSource, options: PlainOptions): Promise<{ kind: Kind; stream: AsyncIterable<Buffer> }> {
	const counted: ByteSource = options.onRead ? { ...source, open: () => counting(source.open(), options.onRead!) } : source;
	const { kind, stream } = await peek(counted);
	if (kind !== 'encrypted') return { kind, stream };
	if (!options.key) {
		throw new CxError('USAGE', `${source.name} is encrypted (S/MIME); give the private key with --key`);
	}
	const decrypted = decryptCms(stream, { key: options.key, source: source.name });
	// What the decrypted content is (a zip part, or JSON Lines) is decided by its own first bytes.
	const inner = await peek({ name: source.name, open: () => decrypted });
	return { kind: inner.kind === 'encrypted' ? 'other' : inner.kind, stream: inner.stream };
}

async function* counting(input: AsyncIterable<Buffer>, onRead: (bytes: number) => void): AsyncGenerator<Buffer> {
	for await (const chunk of input) {
		onRead(chunk.length);
		yield chunk;
	}
}

/**
 * The content of a gzip stream (a `.jsonl.gz` record chunk, say). Bad gzip data rejects with a
 * message naming the source; stopping early stops the decompression.
 */
export async function* gunzipped(input: AsyncIterable<Buffer>, name: string): AsyncGenerator<Buffer> {
	const gunzip = createGunzip();
	const feeding = pipeline(Readable.from(input, { objectMode: false }), gunzip);
	feeding.catch(() => undefined);
	try {
		for await (const chunk of gunzip) yield chunk as Buffer;
		await feeding;
	} catch (error) {
		if (error instanceof CxError) throw error;
		const reason = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' ? 'it ends before its end (cut short)' : (error as Error).message;
		throw new CxError('IO', `${name}: not a readable gzip file: ${reason}`, { where: name });
	} finally {
		gunzip.destroy();
	}
}
