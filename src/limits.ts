/**
 * The limits that protect memory and disk from hostile or broken files, in one place: what each
 * is called in the CLI and in the n8n nodes, and the range a value may take. The core does not
 * know whether the CLI or a node runs it, so an error about a limit carries its name
 * (`CxError.limit`) and a message that names both ways to raise it.
 */

export type LimitName =
	| 'maxLineBytes'
	| 'maxCmsHeaderBytes'
	| 'maxCentralDirectoryBytes'
	| 'maxTotalBytes'
	| 'maxEntryBytes'
	| 'maxEntries'
	| 'maxRatio';

export interface LimitSpec {
	/** What it bounds, in words: "line size", used as "the line size limit". */
	what: string;
	/** The CLI flag. */
	flag: string;
	/** The node option's display name. */
	option: string;
	/** Bytes (flags take K/M/G/T suffixes, node options are in MiB), a whole count, or a ratio. */
	unit: 'bytes' | 'count' | 'ratio';
	/** Sane bounds: a value outside them is a typo, not a wish. */
	min: number;
	max: number;
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** Defaults live with the code they protect; these are names and bounds only. */
export const LIMITS: Readonly<Record<LimitName, LimitSpec>> = Object.freeze({
	// One line is joined into one buffer; past 1 GiB it is not a record (V8 strings stop at 512 MiB).
	maxLineBytes: {
		what: 'line size',
		flag: '--max-line-size',
		option: 'Max Line Size (MiB)',
		unit: 'bytes',
		min: 1,
		max: GIB,
	},
	maxCmsHeaderBytes: {
		what: 'CMS header size',
		flag: '--max-cms-header-size',
		option: 'Max CMS Header Size (MiB)',
		unit: 'bytes',
		min: 1,
		max: GIB,
	},
	// At most LARGEST_CENTRAL_DIRECTORY_BYTES (src/zip/reassemble.ts): the window is held in memory.
	maxCentralDirectoryBytes: {
		what: 'central directory size',
		flag: '--max-central-directory-size',
		option: 'Max Central Directory Size (MiB)',
		unit: 'bytes',
		min: 1,
		max: 128 * MIB,
	},
	maxTotalBytes: {
		what: 'total size',
		flag: '--max-total-size',
		option: 'Max Total Size (MiB)',
		unit: 'bytes',
		min: 1,
		max: 1024 ** 5,
	},
	maxEntryBytes: {
		what: 'entry size',
		flag: '--max-entry-size',
		option: 'Max Entry Size (MiB)',
		unit: 'bytes',
		min: 1,
		max: 1024 ** 5,
	},
	maxEntries: {
		what: 'entry count',
		flag: '--max-entries',
		option: 'Max Entries',
		unit: 'count',
		min: 1,
		max: 100_000_000,
	},
	maxRatio: {
		what: 'compression ratio',
		flag: '--max-ratio',
		option: 'Max Compression Ratio',
		unit: 'ratio',
		min: 1,
		max: 1_000_000,
	},
});

/** `256 MiB`, `1.5 KiB`, `100 bytes`. */
export function formatBytes(bytes: number): string {
	for (const [unit, size] of [
		['TiB', 1024 ** 4],
		['GiB', GIB],
		['MiB', MIB],
		['KiB', 1024],
	] as const) {
		if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
	}
	return `${bytes} byte${bytes === 1 ? '' : 's'}`;
}

/** `128 MiB` when that is exact, else `134217729 bytes`. */
function exactBytes(bytes: number): string {
	for (const [unit, size] of [
		['TiB', 1024 ** 4],
		['GiB', GIB],
		['MiB', MIB],
		['KiB', 1024],
	] as const) {
		if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
	}
	return `${bytes} byte${bytes === 1 ? '' : 's'}`;
}

/** A limit's value as its unit says: `268435456 bytes (256 MiB)`, `1000000`, `200x`. */
export function formatLimit(limit: LimitName, value: number): string {
	const { unit } = LIMITS[limit];
	if (unit === 'bytes')
		return value >= 1024 ? `${value} bytes (${formatBytes(value)})` : formatBytes(value);
	return unit === 'ratio' ? `${value}x` : String(value);
}

/**
 * The advice of an error about a limit, naming the CLI flag and the node option:
 * `raise the line size limit (--max-line-size in the CLI, Max Line Size (MiB) in the nodes) to at least 300 MiB`.
 */
export function raiseAdvice(limit: LimitName, atLeast?: number): string {
	const spec = LIMITS[limit];
	const target =
		atLeast === undefined
			? ''
			: ` to at least ${spec.unit === 'bytes' ? formatBytes(atLeast) : String(atLeast)}`;
	return `raise the ${spec.what} limit (${spec.flag} in the CLI, ${spec.option} in the nodes)${target}`;
}

/** Why `value` cannot be that limit, or undefined when it can. */
export function limitProblem(limit: LimitName, value: number): string | undefined {
	const spec = LIMITS[limit];
	const whole = spec.unit !== 'ratio';
	const show = (n: number) => (spec.unit === 'bytes' ? exactBytes(n) : String(n));
	if (!Number.isFinite(value) || (whole && !Number.isSafeInteger(value)))
		return `must be a ${whole ? 'whole ' : ''}number, got ${value}`;
	if (value < spec.min) return `must be at least ${show(spec.min)}, got ${show(value)}`;
	if (value > spec.max) return `must be at most ${show(spec.max)}, got ${show(value)}`;
	return undefined;
}
