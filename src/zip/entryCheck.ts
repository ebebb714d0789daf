/**
 * Checks every entry's data while an archive streams through reassembly: local headers are parsed
 * as the bytes pass, each entry's data is inflated (deflate, method 8) or taken as is (stored,
 * method 0) and its CRC-32 and sizes compared with what the local header — or, with general purpose
 * flag bit 3, the data descriptor after the data — says. Nothing is read twice and nothing is held
 * but small bounded buffers: memory does not grow with the size of the export.
 *
 * How the end of an entry's data is found:
 * - sizes in the local header (Zip64 extra field included), the usual case for Info-ZIP `zip -s`;
 * - with a data descriptor and deflate, the deflate stream ends itself: zlib stops there, and its
 *   `bytesWritten` says how much input it consumed; what it did not consume (held until then, at
 *   most the inflater's buffer) is parsed on: the data descriptor (with or without its signature,
 *   4- or 8-byte sizes: the form whose sizes match the data) and the next header;
 * - with a data descriptor and stored data, the sizes of the local header when it has them
 *   (Info-ZIP writes them), else only an empty entry can be delimited.
 *
 * Inflation runs on zlib's thread pool while the archive goes on being written: big entries are
 * inflated by a stream that is fed as the data arrives (bounded by its buffer, see INFLATE_BUFFER),
 * small ones in one synchronous call once complete (a stream per entry costs more than the inflate
 * for the 300,000 small files of an attachment export).
 *
 * What cannot be checked while streaming is skipped, never guessed: entries encrypted by the zip
 * itself or compressed with another method (their data is skipped by its size), and whatever comes
 * after an entry whose end cannot be found (then `stopped` says why). Structural problems — no local
 * header where one should be — are left to the reassembler's own checks, which see the central
 * directory and say more. A mismatch in the data itself is an EntryDataFailure.
 */
import {
	crc32,
	createInflateRaw,
	inflateRawSync,
	type InflateRaw,
	type ZlibOptions,
} from 'node:zlib';
import {
	LOCAL_HEADER_SIZE,
	Malformed,
	SIG_CENTRAL,
	SIG_EOCD,
	SIG_LOCAL,
	SIG_SPANNING,
	SIG_ZIP64_EOCD,
	SIG_ZIP64_LOCATOR,
	U32_MAX,
	describeName,
	parseExtraFields,
	sortedIndexOf,
} from './format';

/** Signatures that may follow the last entry: the central directory, the end records, PK\6\8 and PK\5\5. */
const ARCHIVE_END_SIGNATURES = new Set([
	SIG_CENTRAL,
	SIG_EOCD,
	SIG_ZIP64_EOCD,
	SIG_ZIP64_LOCATOR,
	0x08064b50,
	0x05054b50,
]);

/** Entries at most this big (compressed, and declared uncompressed) are inflated in one synchronous call. */
const SYNC_MAX_COMPRESSED = 64 * 1024;
const SYNC_MAX_INFLATED = 4 * 1024 * 1024;
/**
 * zlib's output piece for streamed inflation: each is a round trip to this thread, so 2 MiB rather
 * than 256 KiB (`cx-export reassemble` of the bench's 1 GiB export: median 3.6 s against 3.9 s).
 */
const INFLATE_CHUNK = 2 * 1024 * 1024;
/** Smaller chunks are gathered to this size before they go to zlib. */
const INFLATE_BATCH = 64 * 1024;
/** Compressed bytes queued for an inflater before the archive waits for it. */
const INFLATE_BUFFER = 4 * 1024 * 1024;
/** Finished entries whose inflation may still be running while later entries stream on. */
const MAX_PENDING = 2;
/** The longest data descriptor: signature, CRC-32, two 8-byte sizes. */
const MAX_DESCRIPTOR = 24;

const ZIP64_EXTRA_ID = 0x0001;

/** A problem in an entry's data: the caller names the parts from the offsets. */
export class EntryDataFailure extends Error {
	constructor(
		readonly code: 'ZIP_CRC' | 'ZIP_FORMAT',
		/** The entry name, quoted for messages (describeName). */
		readonly entry: string,
		/** Archive offset of the entry's local header. */
		readonly start: number,
		/** Archive offset just past the entry's data, as far as it is known (at least `start` + 1). */
		readonly end: number,
		/** What is wrong, e.g. `CRC-32 of the data is … but its local header says …`. */
		readonly problem: string,
		/** Archive offset where the data stopped making sense (inflation failed), when known. */
		readonly at?: number,
	) {
		super(`entry ${entry}: ${problem}`);
		this.name = 'EntryDataFailure';
	}
}

/** What the data of the entry whose local header is at some offset turned out to be. */
export interface CheckedData {
	crc32: number;
	compressedSize: number;
	uncompressedSize: number;
}

interface Entry {
	name: string;
	/** Offset of the local header. */
	start: number;
	/** Offset of the first data byte. */
	dataStart: number;
	flags: number;
	method: number;
	/** Compressed size when it is known before the data (sizes in the local header). */
	compressed: number | undefined;
	/** CRC-32 and uncompressed size from the local header (none with a data descriptor). */
	expectedCrc: number | undefined;
	expectedSize: number | undefined;
	descriptor: boolean;
	/** The local header has a Zip64 extra field: a data descriptor has 8-byte sizes. */
	zip64: boolean;
	/** Record slot for the central directory cross-check, -1 when past the capacity. */
	slot: number;
}

type State =
	| { kind: 'header' }
	| { kind: 'data'; entry: Entry; remaining: number; sink: DataSink }
	| {
			kind: 'inflate-to-end';
			entry: Entry;
			inflation: Inflation;
			queue: Array<{ data: Buffer; at: number }>;
	  }
	| { kind: 'descriptor'; entry: Entry; result: CheckedData }
	| { kind: 'skip'; remaining: number }
	| { kind: 'done' };

export class EntryChecker {
	/** Entries whose data matched their CRC-32 and sizes. */
	checked = 0;
	/** Entries whose data could not be checked (encryption, another compression method). */
	skipped = 0;
	/** Why checking stopped before the end of the entries, when it did. */
	stopped: { at: number; reason: string } | undefined;

	/** Archive offset of the next byte `push` receives. */
	private position = 0;
	private state: State = { kind: 'header' };
	/** Header or data descriptor bytes being gathered, and the offset of their first byte. */
	private head: Buffer = Buffer.alloc(0);
	private headAt = 0;
	private failure: Error | undefined;
	private pending: Array<Promise<void>> = [];
	/** Inflations not yet settled, destroyed by `destroy`. */
	private readonly live = new Set<Inflation>();
	private readonly records: Records;

	constructor(
		/** The most entries remembered for the cross-check with the central directory. */
		capacity: number,
	) {
		this.records = new Records(capacity);
	}

	/** The next bytes of the archive. Rejects with EntryDataFailure as soon as a mismatch is known. */
	async push(data: Buffer): Promise<void> {
		this.check();
		const at = this.position;
		this.position += data.length;
		await this.settle(false);
		await this.process(data, at);
		this.check();
	}

	/** The archive is complete: waits for the last inflations; rejects with EntryDataFailure. */
	async end(): Promise<void> {
		this.check();
		await this.settle(true);
		const state = this.state;
		if (state.kind === 'descriptor') this.descriptorAtEnd(state.entry, state.result);
		else if (state.kind === 'data' || state.kind === 'skip') {
			if (state.kind === 'data') state.sink.abandon();
			this.stop(this.position, 'the archive ends inside an entry');
		}
		while (this.pending.length > 0) await this.pending.shift();
		this.check();
	}

	/** Stops every inflation still running (after a failure elsewhere). */
	destroy(): void {
		for (const inflation of this.live) inflation.destroy();
		this.live.clear();
		this.state = { kind: 'done' };
	}

	/** What the data of the entry whose local header is at `offset` was, if it was checked. */
	find(offset: number): CheckedData | undefined {
		return this.records.find(offset);
	}

	private check(): void {
		if (this.failure) throw this.failure;
	}

	private fail(failure: Error): void {
		this.failure ??= failure;
	}

	private stop(at: number, reason: string): void {
		this.stopped ??= { at, reason };
		this.state = { kind: 'done' };
	}

	private async process(data: Buffer, at: number): Promise<void> {
		let i = 0;
		while (i < data.length && !this.failure) {
			const state = this.state;
			switch (state.kind) {
				case 'done':
					return;
				case 'header': {
					i = this.gather(data, i, at, LOCAL_HEADER_SIZE);
					if (this.head.length < LOCAL_HEADER_SIZE) return;
					const signature = this.head.readUInt32LE(0);
					if (signature !== SIG_LOCAL) {
						if (!ARCHIVE_END_SIGNATURES.has(signature))
							this.stop(
								this.headAt,
								`no local file header at byte ${this.headAt} of the zip, where ${this.headAt === 0 ? 'it starts' : 'the previous entry ends'} (found 0x${signature.toString(16).padStart(8, '0')})`,
							);
						this.state = { kind: 'done' };
						return;
					}
					const full = LOCAL_HEADER_SIZE + this.head.readUInt16LE(26) + this.head.readUInt16LE(28);
					i = this.gather(data, i, at, full);
					if (this.head.length < full) return;
					const header = this.head;
					this.head = Buffer.alloc(0);
					this.begin(header, this.headAt);
					if (this.state.kind === 'data' && this.state.remaining === 0)
						await this.finishData(this.state.entry, this.state.sink);
					break;
				}
				case 'data': {
					const take = Math.min(state.remaining, data.length - i);
					state.remaining -= take;
					const wait = state.sink.write(data.subarray(i, i + take));
					i += take;
					if (wait) await wait;
					if (state.remaining === 0) await this.finishData(state.entry, state.sink);
					break;
				}
				case 'inflate-to-end': {
					const rest = data.subarray(i);
					state.queue.push({ data: rest, at: at + i });
					i = data.length;
					const wait = state.inflation.write(rest);
					if (wait) await wait;
					state.queue = trimQueue(state.queue, state.entry.dataStart + state.inflation.consumed);
					break;
				}
				case 'descriptor': {
					i = this.gather(data, i, at, MAX_DESCRIPTOR);
					if (this.head.length < MAX_DESCRIPTOR) return;
					const head = this.head;
					const headAt = this.headAt;
					this.head = Buffer.alloc(0);
					const length = this.descriptor(state.entry, state.result, head);
					if (length === undefined) return;
					// The bytes gathered past the descriptor start the next header.
					await this.process(head.subarray(length), headAt + length);
					break;
				}
				case 'skip': {
					const take = Math.min(state.remaining, data.length - i);
					state.remaining -= take;
					i += take;
					if (state.remaining === 0) this.state = { kind: 'header' };
					break;
				}
			}
		}
	}

	/** Appends bytes of `data` from `i` to `head` until it holds `size`; returns the new `i`. */
	private gather(data: Buffer, i: number, at: number, size: number): number {
		if (this.head.length === 0) this.headAt = at + i;
		const take = Math.min(size - this.head.length, data.length - i);
		if (take <= 0) return i;
		this.head =
			this.head.length === 0
				? Buffer.from(data.subarray(i, i + take))
				: Buffer.concat([this.head, data.subarray(i, i + take)]);
		return i + take;
	}

	/** A complete local header at `start`: decides how its data is checked. */
	private begin(header: Buffer, start: number): void {
		const flags = header.readUInt16LE(6);
		const method = header.readUInt16LE(8);
		const nameLength = header.readUInt16LE(26);
		const extraLength = header.readUInt16LE(28);
		const name = describeName(header.subarray(LOCAL_HEADER_SIZE, LOCAL_HEADER_SIZE + nameLength));
		let compressed = header.readUInt32LE(18);
		let uncompressed = header.readUInt32LE(22);
		let zip64 = false;
		try {
			const extra = parseExtraFields(
				header.subarray(
					LOCAL_HEADER_SIZE + nameLength,
					LOCAL_HEADER_SIZE + nameLength + extraLength,
				),
			);
			const field = extra.fields.find((f) => f.id === ZIP64_EXTRA_ID);
			if (field) {
				zip64 = true;
				const sizes = zip64Sizes(field.data, uncompressed === U32_MAX, compressed === U32_MAX);
				if (sizes.uncompressed !== undefined) uncompressed = sizes.uncompressed;
				if (sizes.compressed !== undefined) compressed = sizes.compressed;
			}
		} catch (error) {
			if (!(error instanceof Malformed)) throw error;
			this.stop(
				start,
				`the local header of entry ${name} has a malformed extra field (${error.message})`,
			);
			return;
		}
		const descriptor = (flags & 0x08) !== 0;
		const entry: Entry = {
			name,
			start,
			dataStart: start + LOCAL_HEADER_SIZE + nameLength + extraLength,
			flags,
			method,
			compressed: undefined,
			expectedCrc: descriptor ? undefined : header.readUInt32LE(14),
			expectedSize: descriptor ? undefined : uncompressed,
			descriptor,
			zip64,
			slot: -1,
		};
		const sizesKnown = compressed !== U32_MAX && uncompressed !== U32_MAX;
		if ((flags & 0x01) !== 0 || (method !== 0 && method !== 8)) {
			// Encrypted by the zip itself, or another method: skipped by its size, when that is known.
			if (descriptor || !sizesKnown) {
				this.stop(
					start,
					`entry ${name} is ${(flags & 0x01) !== 0 ? 'encrypted' : `compressed with method ${method}`} and its size is not in its local header`,
				);
				return;
			}
			this.skipped++;
			this.state = compressed > 0 ? { kind: 'skip', remaining: compressed } : { kind: 'header' };
			return;
		}
		if (!sizesKnown && !(descriptor && method === 8)) {
			const problem = `its local header says its sizes are in a Zip64 extra field (0xFFFFFFFF), but it has ${zip64 ? 'not both of them there' : 'none'}`;
			// Without a data descriptor the local header must give the sizes: it is damaged.
			if (descriptor) this.stop(start, `the local header of entry ${name}: ${problem}`);
			else this.fail(new EntryDataFailure('ZIP_FORMAT', name, start, entry.dataStart + 1, problem));
			return;
		}
		if (method === 8 && !descriptor && compressed === 0) {
			// Deflate data is at least 2 bytes: a writer that left the local sizes out (the central directory has them).
			this.stop(start, `the local header of entry ${name} gives no compressed size`);
			return;
		}
		entry.slot = this.records.reserve(start);
		if (method === 8 && descriptor) {
			// The deflate stream says where it ends; the data descriptor follows.
			this.state = {
				kind: 'inflate-to-end',
				entry,
				inflation: this.inflation(Infinity),
				queue: [],
			};
			return;
		}
		if (method === 0 && descriptor && compressed === 0) {
			// No size before the data: only an empty entry (its descriptor right here) can be delimited.
			this.state = {
				kind: 'descriptor',
				entry,
				result: { crc32: 0, compressedSize: 0, uncompressedSize: 0 },
			};
			return;
		}
		if (method === 0 && !descriptor && compressed !== uncompressed) {
			this.fail(
				new EntryDataFailure(
					'ZIP_FORMAT',
					name,
					start,
					entry.dataStart + Math.min(compressed, uncompressed) + 1,
					`it is stored (not compressed), but its local header gives ${compressed} bytes stored and ${uncompressed} bytes uncompressed`,
				),
			);
			return;
		}
		entry.compressed = compressed;
		const sink: DataSink =
			method === 0
				? new StoredSink()
				: compressed <= SYNC_MAX_COMPRESSED && uncompressed <= SYNC_MAX_INFLATED && !descriptor
					? new BufferedInflateSink(uncompressed)
					: new StreamInflateSink(this.inflation(uncompressed));
		this.state = { kind: 'data', entry, remaining: compressed, sink };
	}

	private inflation(limit: number): Inflation {
		const inflation = new Inflation(limit, () => this.live.delete(inflation));
		this.live.add(inflation);
		return inflation;
	}

	/** All of a known-length entry's data was given to its sink. */
	private async finishData(entry: Entry, sink: DataSink): Promise<void> {
		this.state = { kind: 'header' };
		const compressed = entry.compressed ?? 0;
		const outcome = sink.finish();
		if (!(outcome instanceof Promise)) {
			this.result(entry, outcome, compressed);
			return;
		}
		// Inflation finishes in the background while later entries stream on (a deflated entry with a
		// data descriptor never comes here: its deflate stream decides where it ends).
		const done = outcome.then(
			(result) => this.result(entry, result, compressed),
			(error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))),
		);
		this.pending.push(done);
		while (this.pending.length > MAX_PENDING) await this.pending.shift();
	}

	/** Compares what the data was with what the headers said; moves on to a data descriptor when there is one. */
	private result(entry: Entry, outcome: SinkResult, compressed: number): void {
		if ('error' in outcome) {
			this.fail(this.corrupt(entry, outcome.error, outcome.consumed, entry.dataStart + compressed));
			return;
		}
		const result: CheckedData = {
			crc32: outcome.crc32,
			compressedSize: outcome.consumed,
			uncompressedSize: outcome.bytes,
		};
		const end = entry.dataStart + compressed;
		if (outcome.consumed !== compressed) {
			this.fail(
				new EntryDataFailure(
					'ZIP_FORMAT',
					entry.name,
					entry.start,
					end,
					`its deflate data ends after ${outcome.consumed} of the ${compressed} bytes its local header gives`,
					entry.dataStart + outcome.consumed,
				),
			);
			return;
		}
		if (entry.descriptor) {
			// Stored data with its size in the local header: checked synchronously, the descriptor is next.
			this.state = { kind: 'descriptor', entry, result };
			return;
		}
		this.compare(
			entry,
			result,
			entry.expectedCrc ?? 0,
			entry.expectedSize ?? 0,
			'its local header',
		);
	}

	private compare(
		entry: Entry,
		result: CheckedData,
		crc: number,
		size: number,
		source: string,
	): void {
		const end = entry.dataStart + result.compressedSize;
		if (result.uncompressedSize !== size) {
			this.fail(
				new EntryDataFailure(
					'ZIP_FORMAT',
					entry.name,
					entry.start,
					end,
					`its data inflates to ${result.uncompressedSize} bytes, but ${source} gives ${size}`,
				),
			);
		} else if (result.crc32 !== crc) {
			this.fail(
				new EntryDataFailure(
					'ZIP_CRC',
					entry.name,
					entry.start,
					end,
					`the CRC-32 of its data is ${hex(result.crc32)}, which does not match the ${hex(crc)} ${source} gives`,
				),
			);
		} else {
			this.records.fill(entry.slot, result);
			this.checked++;
		}
	}

	/**
	 * The data descriptor at the start of `head` (MAX_DESCRIPTOR bytes, fewer at the end of the
	 * archive): the form whose sizes match the data. Returns its length, or undefined when checking
	 * stops or fails.
	 */
	private descriptor(entry: Entry, result: CheckedData, head: Buffer): number | undefined {
		const signed = head.length >= 4 && head.readUInt32LE(0) === SIG_SPANNING;
		const forms: Array<{ sig: boolean; wide: boolean }> = entry.zip64
			? [
					{ sig: true, wide: true },
					{ sig: true, wide: false },
					{ sig: false, wide: true },
					{ sig: false, wide: false },
				]
			: [
					{ sig: true, wide: false },
					{ sig: true, wide: true },
					{ sig: false, wide: false },
					{ sig: false, wide: true },
				];
		for (const { sig, wide } of forms) {
			if (sig && !signed) continue;
			const p = sig ? 4 : 0;
			const length = p + 4 + (wide ? 16 : 8);
			if (head.length < length) continue;
			const compressed = wide ? Number(head.readBigUInt64LE(p + 4)) : head.readUInt32LE(p + 4);
			const uncompressed = wide ? Number(head.readBigUInt64LE(p + 12)) : head.readUInt32LE(p + 8);
			if (compressed !== result.compressedSize || uncompressed !== result.uncompressedSize)
				continue;
			this.state = { kind: 'header' };
			this.compare(entry, result, head.readUInt32LE(p), uncompressed, 'its data descriptor');
			return this.failure ? undefined : length;
		}
		this.stop(
			entry.dataStart + result.compressedSize,
			`no data descriptor matching the data of entry ${entry.name} follows it`,
		);
		return undefined;
	}

	/** The archive ended while a data descriptor was being gathered: what is there must do. */
	private descriptorAtEnd(entry: Entry, result: CheckedData): void {
		const head = this.head;
		this.head = Buffer.alloc(0);
		this.descriptor(entry, result, head);
		if (this.state.kind !== 'done') this.state = { kind: 'done' };
	}

	/**
	 * For an entry whose deflate stream decides where it ends: once zlib has stopped (or at the end
	 * of the archive, `final`), what it did not consume goes on to the data descriptor.
	 */
	private async settle(final: boolean): Promise<void> {
		const state = this.state;
		if (state.kind !== 'inflate-to-end') return;
		const { entry, inflation } = state;
		if (final) await inflation.finish();
		else if (!inflation.settled) return;
		const outcome = inflation.outcome();
		if ('error' in outcome) {
			this.fail(this.corrupt(entry, outcome.error, outcome.consumed, this.position));
			return;
		}
		const end = entry.dataStart + outcome.consumed;
		const rest = state.queue.flatMap(({ data, at }) =>
			at + data.length > end ? [data.subarray(Math.max(0, end - at))] : [],
		);
		const result: CheckedData = {
			crc32: outcome.crc32,
			compressedSize: outcome.consumed,
			uncompressedSize: outcome.bytes,
		};
		this.records.fill(entry.slot, result);
		this.state = { kind: 'descriptor', entry, result };
		let at = end;
		for (const data of rest) {
			await this.process(data, at);
			at += data.length;
		}
		// The rest may have started another entry whose deflate stream decides where it ends.
		if ((this.state as State).kind === 'inflate-to-end') await this.settle(final);
	}

	private corrupt(entry: Entry, error: Error, consumed: number, end: number): EntryDataFailure {
		const at = entry.dataStart + consumed;
		if (
			(error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ||
			error instanceof TooLarge
		) {
			return new EntryDataFailure(
				'ZIP_FORMAT',
				entry.name,
				entry.start,
				Math.max(end, at + 1),
				`its data inflates to more than the ${entry.expectedSize} bytes its local header gives`,
			);
		}
		return new EntryDataFailure(
			'ZIP_FORMAT',
			entry.name,
			entry.start,
			Math.max(end, at + 1),
			`its compressed data is corrupt (${error.message})`,
			at,
		);
	}
}

/** The Zip64 extra field of a local header: uncompressed then compressed size (APPNOTE 4.5.3). */
function zip64Sizes(
	data: Buffer,
	needUncompressed: boolean,
	needCompressed: boolean,
): { uncompressed?: number; compressed?: number } {
	const read = (at: number) => {
		const value = data.readBigUInt64LE(at);
		if (value > BigInt(Number.MAX_SAFE_INTEGER))
			throw new Malformed(`a Zip64 size is ${value}, beyond 2^53`);
		return Number(value);
	};
	// A local header's Zip64 field should hold both sizes; some writers put only those that overflow.
	if (data.length >= 16 && (needUncompressed || needCompressed))
		return { uncompressed: read(0), compressed: read(8) };
	let p = 0;
	const sizes: { uncompressed?: number; compressed?: number } = {};
	if (needUncompressed && p + 8 <= data.length) {
		sizes.uncompressed = read(p);
		p += 8;
	}
	if (needCompressed && p + 8 <= data.length) sizes.compressed = read(p);
	return sizes;
}

function trimQueue(
	queue: Array<{ data: Buffer; at: number }>,
	consumedUpTo: number,
): Array<{ data: Buffer; at: number }> {
	let drop = 0;
	while (drop < queue.length && queue[drop].at + queue[drop].data.length <= consumedUpTo) drop++;
	return drop === 0 ? queue : queue.slice(drop);
}

function hex(value: number): string {
	return (value >>> 0).toString(16).padStart(8, '0');
}

type SinkResult =
	| { crc32: number; bytes: number; consumed: number }
	| { error: Error; consumed: number };

/** Where a known-length entry's data goes. `write` returns a promise when the caller should wait. */
interface DataSink {
	write(chunk: Buffer): Promise<void> | undefined;
	finish(): SinkResult | Promise<SinkResult>;
	abandon(): void;
}

class StoredSink implements DataSink {
	private crc = 0;
	private bytes = 0;

	write(chunk: Buffer): undefined {
		this.crc = crc32(chunk, this.crc);
		this.bytes += chunk.length;
		return undefined;
	}

	finish(): SinkResult {
		return { crc32: this.crc >>> 0, bytes: this.bytes, consumed: this.bytes };
	}

	abandon(): void {}
}

/** A small deflated entry: gathered, then inflated in one call (no stream, no thread pool round trips). */
class BufferedInflateSink implements DataSink {
	private chunks: Buffer[] = [];
	private length = 0;

	constructor(private readonly declared: number) {}

	write(chunk: Buffer): undefined {
		this.chunks.push(chunk);
		this.length += chunk.length;
		return undefined;
	}

	finish(): SinkResult {
		const data =
			this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
		this.chunks = [];
		try {
			// Stops one byte past the declared size: a size lie is caught without inflating it all.
			const room = this.declared + 1;
			const { buffer, engine } = inflateRawSync(data, {
				info: true,
				maxOutputLength: room,
				chunkSize: Math.max(64, Math.min(room, 1024 * 1024)),
			}) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
			if (buffer.length > this.declared)
				return { error: new TooLarge(), consumed: engine.bytesWritten };
			return { crc32: crc32(buffer) >>> 0, bytes: buffer.length, consumed: engine.bytesWritten };
		} catch (error) {
			return { error: error as Error, consumed: 0 };
		}
	}

	abandon(): void {
		this.chunks = [];
	}
}

class StreamInflateSink implements DataSink {
	constructor(private readonly inflation: Inflation) {}

	write(chunk: Buffer): Promise<void> | undefined {
		return this.inflation.write(chunk);
	}

	async finish(): Promise<SinkResult> {
		await this.inflation.finish();
		return this.inflation.outcome();
	}

	abandon(): void {
		this.inflation.destroy();
	}
}

class TooLarge extends Error {}

/**
 * One zlib raw inflate stream, CRC-32 and size of what comes out. Never rejects: the outcome holds
 * the error. `consumed` is the compressed bytes zlib took (it stops at the end of the deflate
 * stream and ignores what follows).
 */
class Inflation {
	private readonly stream: InflateRaw;
	private crc = 0;
	private bytes = 0;
	private error: Error | undefined;
	private batch: Buffer[] = [];
	private batchBytes = 0;
	/** Bytes written to zlib and not yet inflated; who waits for them to go down. */
	private queued = 0;
	private resume: (() => void) | undefined;
	/** Ended, failed or destroyed. */
	settled = false;
	private readonly done: Promise<void>;

	constructor(
		private readonly limit: number,
		onSettled: () => void,
	) {
		// zlib's options are passed on to the Transform stream (writableHighWaterMark included).
		this.stream = createInflateRaw({
			chunkSize: INFLATE_CHUNK,
			writableHighWaterMark: INFLATE_BUFFER,
		} as ZlibOptions);
		this.done = new Promise<void>((resolve) => {
			const settle = () => {
				if (!this.settled) onSettled();
				this.settled = true;
				this.wake();
				resolve();
			};
			this.stream.on('end', settle);
			this.stream.on('close', settle);
			this.stream.on('error', (error: Error) => {
				this.error ??= error;
				settle();
			});
		});
		this.stream.on('data', (chunk: Buffer) => {
			this.bytes += chunk.length;
			if (this.bytes > this.limit) {
				this.error ??= new TooLarge();
				this.stream.destroy();
				return;
			}
			this.crc = crc32(chunk, this.crc);
		});
	}

	get consumed(): number {
		return this.stream.bytesWritten;
	}

	/**
	 * Queues compressed bytes; a promise when the stream's buffer is full (resolves on drain or
	 * settle). Small chunks are gathered to INFLATE_BATCH first: every write is a trip to zlib's
	 * thread pool.
	 */
	write(chunk: Buffer): Promise<void> | undefined {
		if (this.settled) return undefined;
		if (this.batchBytes === 0 && chunk.length >= INFLATE_BATCH) return this.send(chunk);
		this.batch.push(chunk);
		this.batchBytes += chunk.length;
		return this.batchBytes >= INFLATE_BATCH ? this.flush() : undefined;
	}

	/** Writes what was gathered. */
	flush(): Promise<void> | undefined {
		if (this.batchBytes === 0) return undefined;
		const data =
			this.batch.length === 1 ? this.batch[0] : Buffer.concat(this.batch, this.batchBytes);
		this.batch = [];
		this.batchBytes = 0;
		return this.settled ? undefined : this.send(data);
	}

	/**
	 * Writes to zlib. Past INFLATE_BUFFER bytes not yet inflated the caller waits, until half of
	 * them are done rather than all ('drain'): zlib never runs dry while the archive has bytes for it.
	 */
	private send(chunk: Buffer): Promise<void> | undefined {
		this.queued += chunk.length;
		this.stream.write(chunk, () => {
			this.queued -= chunk.length;
			if (this.resume && this.queued <= INFLATE_BUFFER / 2) this.wake();
		});
		if (this.queued <= INFLATE_BUFFER) return undefined;
		return new Promise<void>((resolve) => {
			this.resume = resolve;
		});
	}

	private wake(): void {
		const resume = this.resume;
		this.resume = undefined;
		resume?.();
	}

	/** No more input: waits until zlib is done. */
	async finish(): Promise<void> {
		await this.flush();
		if (!this.settled && !this.stream.writableEnded) this.stream.end();
		await this.done;
	}

	outcome(): SinkResult {
		if (this.error) return { error: this.error, consumed: this.consumed };
		return { crc32: this.crc >>> 0, bytes: this.bytes, consumed: this.consumed };
	}

	destroy(): void {
		this.stream.destroy();
	}
}

/**
 * What each checked entry's data was, by the offset of its local header (offsets come in increasing
 * order), for the cross-check with the central directory. 28 bytes per entry, up to `capacity`.
 */
class Records {
	private offsets = new Float64Array(256);
	private crcs = new Uint32Array(256);
	private compressed = new Float64Array(256);
	private uncompressed = new Float64Array(256);
	private filled = new Uint8Array(256);
	private count = 0;

	constructor(private readonly capacity: number) {}

	reserve(offset: number): number {
		if (this.count >= this.capacity) return -1;
		if (this.count === this.offsets.length) {
			const grow = <T extends Float64Array | Uint32Array | Uint8Array>(
				old: T,
				make: (n: number) => T,
			): T => {
				const next = make(old.length * 2);
				next.set(old);
				return next;
			};
			this.offsets = grow(this.offsets, (n) => new Float64Array(n));
			this.crcs = grow(this.crcs, (n) => new Uint32Array(n));
			this.compressed = grow(this.compressed, (n) => new Float64Array(n));
			this.uncompressed = grow(this.uncompressed, (n) => new Float64Array(n));
			this.filled = grow(this.filled, (n) => new Uint8Array(n));
		}
		this.offsets[this.count] = offset;
		return this.count++;
	}

	fill(slot: number, data: CheckedData): void {
		if (slot < 0) return;
		this.crcs[slot] = data.crc32;
		this.compressed[slot] = data.compressedSize;
		this.uncompressed[slot] = data.uncompressedSize;
		this.filled[slot] = 1;
	}

	find(offset: number): CheckedData | undefined {
		const i = sortedIndexOf(this.offsets, this.count, offset);
		if (i < 0 || this.filled[i] !== 1) return undefined;
		return {
			crc32: this.crcs[i],
			compressedSize: this.compressed[i],
			uncompressedSize: this.uncompressed[i],
		};
	}
}
