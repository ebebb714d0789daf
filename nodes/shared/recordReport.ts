/**
 * What a records run reports, the same way in every node that reads records (Parse JSON Lines,
 * File → Download, Reassemble Export): the counts as execution hints in the output pane, where n8n
 * shows a node's notes on its run, and — only when the user asks for it — the skipped lines on the
 * last item too, for workflows that branch on them.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	NodeExecutionHint,
} from 'n8n-workflow';

export interface RecordTally {
	/** Records passed on. */
	records: number;
	/** Malformed lines left out (Malformed Lines: Skip or Send to Errors Output). */
	skipped: number;
	/** The first skipped line's message: `source:line: reason`. */
	firstSkipped?: string;
	/** Chunks written, when the output is Record Chunks. */
	chunks?: number;
}

/**
 * The *Malformed Lines* option of the nodes that read records: fail or skip, and with
 * `errorOutput` also a second output that gets one item per bad line.
 */
export function malformedLinesOption(errorOutput: boolean): INodeProperties {
	return {
		displayName: 'Malformed Lines',
		name: 'onError',
		type: 'options',
		options: [
			{
				name: 'Fail',
				value: 'fail',
				description: 'Stop with an error naming the file and line',
			},
			{
				name: 'Skip',
				value: 'skip',
				description: 'Leave them out; a hint on the output counts them',
			},
			...(errorOutput
				? [
						{
							name: 'Send to Errors Output',
							value: 'output',
							description: 'A second output gets one item per bad line: source, line and reason',
						},
					]
				: []),
		],
		default: 'fail',
	};
}

/** The node option that also puts the skipped lines on the last item (off by default). */
export const skippedOnItemOption: INodeProperties = {
	displayName: 'Add Skipped Lines to Last Item',
	name: 'skippedOnLastItem',
	type: 'boolean',
	default: false,
	description:
		'Whether the last item also gets the number of malformed lines skipped and the first one (_skippedLines and _firstSkipped on a record; skippedLines and firstSkipped on a chunk or text). The count is always shown as a hint on the output.',
};

const count = (n: number, one: string, many: string) =>
	`${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The hints of one run: how many records (and chunks), and the skipped lines, if any. */
export function recordHints(tally: RecordTally): NodeExecutionHint[] {
	const hints: NodeExecutionHint[] = [
		{
			type: 'info',
			location: 'outputPane',
			message: `${count(tally.records, 'record', 'records')}${tally.chunks === undefined ? '' : ` in ${count(tally.chunks, 'chunk', 'chunks')}`}`,
		},
	];
	if (tally.skipped > 0) {
		hints.push({
			type: 'warning',
			location: 'outputPane',
			message: `${count(tally.skipped, 'malformed line was', 'malformed lines were')} skipped${tally.firstSkipped ? `; the first: ${tally.firstSkipped}` : ''}`,
		});
	}
	return hints;
}

/** Adds hints where n8n supports them (every n8n this package supports does; older contexts may not). */
export function addHints(context: IExecuteFunctions, hints: NodeExecutionHint[]): void {
	if (typeof context.addExecutionHints !== 'function') return;
	for (const hint of hints) context.addExecutionHints(hint);
}

/**
 * Puts the skipped lines on the last item when asked: `_skippedLines`/`_firstSkipped` on a record
 * (underscored, like `_source`, so they cannot clash with a record's own fields), `skippedLines`/
 * `firstSkipped` on a chunk or a text item (fields this package names).
 */
export function markSkipped(
	items: INodeExecutionData[],
	tally: RecordTally,
	shape: 'record' | 'chunk',
): void {
	if (tally.skipped === 0 || items.length === 0) return;
	const last = items[items.length - 1];
	const fields: IDataObject =
		shape === 'record'
			? { _skippedLines: tally.skipped, _firstSkipped: tally.firstSkipped ?? null }
			: { skippedLines: tally.skipped, firstSkipped: tally.firstSkipped ?? null };
	last.json = { ...last.json, ...fields };
}

/** Adds up tallies (one per input item) for one set of hints per run. */
export function addTally(total: RecordTally, tally: RecordTally): void {
	total.records += tally.records;
	total.skipped += tally.skipped;
	total.firstSkipped ??= tally.firstSkipped;
	if (tally.chunks !== undefined) total.chunks = (total.chunks ?? 0) + tally.chunks;
}
