/**
 * Writes buffers through a few slabs that are used again and again.
 *
 * Why: a buffer handed to a slow output (a disk busy with other writes, a pipe whose reader lags)
 * waits in the stream until it is written. V8 moves what outlives two of its quick collections to
 * its old generation, where it is freed only by a full collection, so every slow moment used to
 * leave megabytes of written buffers behind until the next one (a 677 MiB decrypt peaked at 75–132
 * MiB beside a busy disk, 60–63 MiB otherwise). Here the bytes are copied into one of a few slabs,
 * and a slab is reused once its write is done: what waits for the output is always the same
 * memory, and the pieces that arrive die young. Small pieces are joined on the way, so the output
 * gets writes of a slab each. The copy costs about as much as the joins it replaces.
 */
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';

export interface SlabOptions {
	/** Bytes per slab (default 256 KiB: below glibc's mmap threshold, so a slab is never mapped again). */
	slabBytes?: number;
	/** Slabs at most, so at most slabs × slabBytes wait for the output (default 8: 2 MiB). */
	slabs?: number;
}

const DEFAULT_SLAB_BYTES = 256 * 1024;
const DEFAULT_SLABS = 8;

export class SlabWriter {
	private readonly slabBytes: number;
	private readonly most: number;
	private readonly free: Buffer[] = [];
	private made = 0;
	private slab: Buffer | undefined;
	private used = 0;
	private failure: Error | undefined;
	private wake: (() => void) | undefined;

	constructor(
		private readonly out: Writable,
		options: SlabOptions = {},
	) {
		this.slabBytes = options.slabBytes ?? DEFAULT_SLAB_BYTES;
		this.most = options.slabs ?? DEFAULT_SLABS;
		// Kept for the stream's life: a late error is then reported at the next call, not unhandled.
		out.on('error', (error: Error) => {
			this.failure ??= error;
			this.wakeUp();
		});
	}

	/**
	 * Takes `bytes`. Undefined when they were copied at once; otherwise a promise that resolves once
	 * they are, after a slab came back — await it before the next write, and leave `bytes` as they
	 * are until then.
	 */
	write(bytes: Uint8Array): Promise<void> | undefined {
		if (this.failure) return Promise.reject(this.failure);
		let at = 0;
		while (at < bytes.length) {
			if (!this.slab) {
				this.slab = this.take();
				if (!this.slab) return this.writeLater(bytes.subarray(at));
			}
			const n = Math.min(bytes.length - at, this.slabBytes - this.used);
			this.slab.set(at === 0 && n === bytes.length ? bytes : bytes.subarray(at, at + n), this.used);
			this.used += n;
			at += n;
			if (this.used === this.slabBytes) this.send();
		}
		return undefined;
	}

	/** Sends what is held and waits until every byte is written; with `end`, ends the stream too. */
	async end(end = true): Promise<void> {
		this.send();
		if (end) {
			this.out.end();
			await finished(this.out);
		} else {
			while (this.free.length < this.made) await this.slabBack();
		}
		if (this.failure) throw this.failure;
	}

	private async writeLater(rest: Uint8Array): Promise<void> {
		await this.slabBack();
		const again = this.write(rest);
		if (again) await again;
	}

	private take(): Buffer | undefined {
		const slab = this.free.pop();
		if (slab) return slab;
		if (this.made >= this.most) return undefined;
		this.made++;
		return Buffer.allocUnsafeSlow(this.slabBytes);
	}

	private slabBack(): Promise<void> {
		if (this.failure) return Promise.reject(this.failure);
		return new Promise<void>((resolve) => (this.wake = resolve)).then(() => {
			if (this.failure) throw this.failure;
		});
	}

	private wakeUp(): void {
		const wake = this.wake;
		this.wake = undefined;
		wake?.();
	}

	private send(): void {
		const full = this.slab;
		if (!full || this.used === 0) return;
		this.slab = undefined;
		this.out.write(full.subarray(0, this.used), (error) => {
			if (error) this.failure ??= error;
			this.free.push(full);
			this.wakeUp();
		});
		this.used = 0;
	}
}

/**
 * Copies every byte of `chunks` to `out`, in order, through a SlabWriter; resolves once `out` has
 * taken everything (and, with `end`, the default, has finished). A failure of either side rejects;
 * `out` is then left to the caller to destroy, as with `pipeline`'s callers here.
 */
export async function writePooled(
	chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
	out: Writable,
	options: SlabOptions & { end?: boolean } = {},
): Promise<void> {
	const writer = new SlabWriter(out, options);
	for await (const chunk of chunks) {
		const waiting = writer.write(chunk);
		if (waiting) await waiting;
	}
	await writer.end(options.end ?? true);
}
