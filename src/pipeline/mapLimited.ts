/**
 * Runs `work` over `items` with at most `limit` at a time, keeping the input order in the output.
 * When the consumer stops early, the calls already started are waited for (their results dropped),
 * so nothing is still running once the caller has moved on.
 */
export async function* mapLimited<T, R>(
	items: AsyncIterable<T>,
	limit: number,
	work: (item: T) => Promise<R>,
): AsyncGenerator<R> {
	const width = Math.max(1, Math.floor(limit));
	const running: Array<Promise<R>> = [];
	try {
		for await (const item of items) {
			const started = work(item);
			// Avoid unhandled rejections while earlier ones are awaited.
			started.catch(() => undefined);
			running.push(started);
			if (running.length >= width) yield await (running.shift() as Promise<R>);
		}
		while (running.length > 0) yield await (running.shift() as Promise<R>);
	} finally {
		await Promise.allSettled(running);
	}
}
