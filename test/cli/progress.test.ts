import { describe, expect, it, vi } from 'vitest';
import { Progress } from '../../src/cli/progress';

function fakeStream() {
	const writes: string[] = [];
	return {
		writes,
		stream: { isTTY: true, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream,
	};
}

describe('progress line', () => {
	it('updates one line in place on a terminal, at most every 200 ms, and clears it at the end', () => {
		vi.useFakeTimers();
		try {
			const { writes, stream } = fakeStream();
			const progress = new Progress('decrypting x.zip.smime', 4 * 1024 * 1024, stream);
			vi.advanceTimersByTime(1000);
			progress.add(1024 * 1024);
			progress.add(1024 * 1024); // within 200 ms: not drawn
			vi.advanceTimersByTime(250);
			progress.add(1024 * 1024);
			expect(writes).toHaveLength(2);
			expect(writes[0]).toMatch(
				/^\rdecrypting x\.zip\.smime: 25% 1\.0 MiB of 4\.0 MiB, [\d.]+ MiB\/s\x1b\[K$/,
			);
			expect(writes[1]).toMatch(/: 75% 3\.0 MiB/);
			progress.done();
			expect(writes[2]).toBe('\r\x1b[K');
		} finally {
			vi.useRealTimers();
		}
	});

	it('writes nothing when stderr is not a terminal', () => {
		const { writes, stream } = fakeStream();
		const progress = new Progress('reading records', undefined, {
			...stream,
			isTTY: false,
		} as NodeJS.WriteStream);
		progress.add(10 * 1024 * 1024);
		progress.done();
		expect(writes).toEqual([]);
	});
});
