import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writePooled } from '../../src/pipeline/pooledWrites';

/** A Writable that keeps what it gets and completes each write after `delayMs`, noting how much waited at once. */
function slowSink(delayMs: number, failAt?: number) {
	const got: Buffer[] = [];
	let waiting = 0;
	let mostWaiting = 0;
	let written = 0;
	const sink = new Writable({
		highWaterMark: 64 * 1024 * 1024,
		write(chunk: Buffer, _encoding, callback) {
			// A copy: the caller may reuse its buffer once this write is done, not before.
			const copy = Buffer.from(chunk);
			waiting += chunk.length;
			mostWaiting = Math.max(mostWaiting, waiting);
			setTimeout(() => {
				waiting -= chunk.length;
				written += chunk.length;
				// The bytes must not have changed while the write was in flight.
				if (!copy.equals(chunk))
					return callback(new Error('a slab was reused before its write was done'));
				if (failAt !== undefined && written >= failAt) return callback(new Error('disk full'));
				got.push(copy);
				callback();
			}, delayMs);
		},
	});
	return { sink, got: () => Buffer.concat(got), mostWaiting: () => mostWaiting };
}

function* pieces(data: Buffer, sizes: number[]): Generator<Buffer> {
	let at = 0;
	for (let i = 0; at < data.length; i++) {
		const n = sizes[i % sizes.length];
		yield data.subarray(at, at + n);
		at += n;
	}
}

describe('writePooled', () => {
	it('writes every byte in order, through at most slabs × slabBytes waiting for a slow output', async () => {
		const data = randomBytes(3 * 1024 * 1024 + 12345);
		const { sink, got, mostWaiting } = slowSink(2);
		// Pieces smaller and larger than a slab, and empty ones.
		await writePooled(pieces(data, [1, 70_000, 0, 300_000, 65_536, 5, 1_000_000]), sink, {
			slabBytes: 64 * 1024,
			slabs: 3,
		});
		expect(got().equals(data)).toBe(true);
		expect(mostWaiting()).toBeLessThanOrEqual(3 * 64 * 1024);
		expect(sink.writableFinished).toBe(true);
	});

	it('from an async source, with end: false leaves the output open once every byte is taken', async () => {
		const data = randomBytes(500_000);
		const { sink, got } = slowSink(1);
		async function* source() {
			for (const piece of pieces(data, [33_333, 100_000])) {
				await new Promise((resolve) => setImmediate(resolve));
				yield piece;
			}
		}
		await writePooled(source(), sink, { slabBytes: 50_000, slabs: 2, end: false });
		expect(got().equals(data)).toBe(true);
		expect(sink.writableEnded).toBe(false);
		sink.end();
	});

	it("rejects with the output's error, and stops reading its input", async () => {
		const data = randomBytes(2 * 1024 * 1024);
		const { sink } = slowSink(1, 300_000);
		let handedOut = 0;
		let closed = false;
		function* source() {
			try {
				for (const piece of pieces(data, [10_000])) {
					handedOut += piece.length;
					yield piece;
				}
			} finally {
				closed = true;
			}
		}
		await expect(writePooled(source(), sink, { slabBytes: 32 * 1024, slabs: 2 })).rejects.toThrow(
			'disk full',
		);
		expect(closed).toBe(true);
		expect(handedOut).toBeLessThan(data.length);
	});

	it("rejects with the input's error", async () => {
		const { sink } = slowSink(0);
		async function* source() {
			yield Buffer.from('abc');
			throw new Error('the file was cut short');
		}
		await expect(writePooled(source(), sink)).rejects.toThrow('the file was cut short');
	});
});
