/**
 * A small deterministic random generator (sfc32 seeded through splitmix32): every fuzz case draws
 * from its own generator, made from the run's seed and the case number, so one case can be
 * replayed alone (`npm run fuzz -- --seed S --case N`).
 */
function splitmix32(state: number): () => number {
	let s = state >>> 0;
	return () => {
		s = (s + 0x9e3779b9) >>> 0;
		let z = s;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
		return (z ^ (z >>> 16)) >>> 0;
	};
}

export class Rng {
	private a: number;
	private b: number;
	private c: number;
	private d: number;

	constructor(seed: number, stream = 0) {
		const mix = splitmix32((seed ^ Math.imul(stream + 1, 0x27d4eb2d)) >>> 0);
		this.a = mix();
		this.b = mix();
		this.c = mix();
		this.d = mix();
		for (let i = 0; i < 12; i++) this.next();
	}

	/** A uniform 32-bit unsigned integer. */
	next(): number {
		const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
		this.d = (this.d + 1) >>> 0;
		this.a = this.b ^ (this.b >>> 9);
		this.b = (this.c + (this.c << 3)) >>> 0;
		this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
		this.c = (this.c + t) >>> 0;
		return t;
	}

	/** 0 ≤ n < max. */
	int(max: number): number {
		if (max <= 1) return 0;
		return Math.floor((this.next() / 0x1_0000_0000) * max);
	}

	/** min ≤ n ≤ max. */
	between(min: number, max: number): number {
		return min + this.int(max - min + 1);
	}

	chance(p: number): boolean {
		return this.next() / 0x1_0000_0000 < p;
	}

	pick<T>(items: readonly T[]): T {
		if (items.length === 0) throw new Error('fuzz: pick from an empty list');
		return items[this.int(items.length)];
	}

	bytes(n: number): Buffer {
		const out = Buffer.alloc(n);
		for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
		return out;
	}
}
