import { randomBytes } from 'node:crypto';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
	SLAB_BYTES,
	SlabPool,
	Window,
	sendInSlabs,
	toBuffer,
	type ToParent,
} from '../../src/pipeline/workerProtocol';

async function* pieces(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
	let at = 0;
	for (let i = 0; at < data.length; i++) {
		const n = Math.min(sizes[i % sizes.length], data.length - at);
		yield data.subarray(at, at + n);
		at += n;
	}
}

/** Sends `data` in slabs over a message channel; what arrives, and the slabs it came in. */
async function roundTrip(data: Buffer, sizes: number[], pool: SlabPool) {
	const { port1, port2 } = new MessageChannel();
	const received: Uint8Array[] = [];
	port2.on('message', (message: ToParent) => {
		if (message.t === 'data') received.push(message.bytes);
	});
	const window = new Window(Number.MAX_SAFE_INTEGER);
	await sendInSlabs(port1, window, pool, pieces(data, sizes));
	await new Promise((resolve) => setTimeout(resolve, 50));
	port1.close();
	return received;
}

describe('output bytes in slabs', () => {
	it('arrive whole and in order, in full slabs but the last, whatever the pieces', async () => {
		const data = randomBytes(3 * SLAB_BYTES + 12_345);
		for (const sizes of [[1], [7, 100_000, 3], [SLAB_BYTES], [SLAB_BYTES + 1], [5 * SLAB_BYTES]]) {
			const received = await roundTrip(data, sizes, new SlabPool(8));
			expect(Buffer.concat(received.map(toBuffer)).equals(data)).toBe(true);
			expect(received.slice(0, -1).every((r) => r.byteLength === SLAB_BYTES)).toBe(true);
			expect(received.every((r) => r.buffer.byteLength === SLAB_BYTES)).toBe(true);
		}
	});

	it('reuses the slabs given back, and only as many as it keeps', async () => {
		const pool = new SlabPool(2);
		const received = await roundTrip(randomBytes(3 * SLAB_BYTES), [SLAB_BYTES], pool);
		const buffers = received.map((r) => r.buffer as ArrayBuffer);
		pool.give(buffers);
		const first = pool.take();
		const second = pool.take();
		expect(buffers).toContain(first);
		expect(buffers).toContain(second);
		expect(buffers).not.toContain(pool.take());
		// A slab of another size or a detached one is not taken back.
		pool.give([
			new ArrayBuffer(10),
			structuredClone(new ArrayBuffer(SLAB_BYTES), { transfer: [] }),
		]);
		const detached = new ArrayBuffer(SLAB_BYTES);
		structuredClone(detached, { transfer: [detached] });
		pool.give([detached]);
		expect(pool.take()).not.toBe(detached);
	});

	it('takes from the pool only the slabs it fills: what is left stays for the next output', async () => {
		const pool = new SlabPool(3);
		const given = [0, 1, 2].map(() => new ArrayBuffer(SLAB_BYTES));
		pool.give(given);
		const received = await roundTrip(randomBytes(2 * SLAB_BYTES), [SLAB_BYTES], pool);
		expect(received).toHaveLength(2);
		expect(pool.take()).toBe(given[0]);
		// An output without bytes takes none.
		pool.give([given[0]]);
		expect(await roundTrip(Buffer.alloc(0), [1], pool)).toEqual([]);
		expect(pool.take()).toBe(given[0]);
	});

	it('waits for the window before each slab', async () => {
		const window = new Window(SLAB_BYTES);
		const { port1, port2 } = new MessageChannel();
		let arrived = 0;
		port2.on('message', () => arrived++);
		const sending = sendInSlabs(
			port1,
			window,
			new SlabPool(4),
			pieces(randomBytes(3 * SLAB_BYTES), [SLAB_BYTES]),
		);
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(arrived).toBe(1);
		for (const expected of [2, 3]) {
			window.release(SLAB_BYTES);
			await new Promise((resolve) => setTimeout(resolve, 50));
			expect(arrived).toBe(expected);
		}
		await sending;
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(arrived).toBe(3);
		port1.close();
	});
});
