/** Records after the first `skip`, at most `max` of them. */
export async function* sliceRecords<T>(
	records: AsyncIterable<T>,
	skip: number,
	max: number,
): AsyncGenerator<T> {
	if (max <= 0) return;
	let toSkip = skip;
	let given = 0;
	for await (const record of records) {
		if (toSkip > 0) {
			toSkip--;
			continue;
		}
		yield record;
		if (++given >= max) return;
	}
}
