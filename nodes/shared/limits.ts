/**
 * The core's limits (src/limits.ts) as node options: one definition of their names, units,
 * defaults and checks, so every node that reads exports offers the ones it can hit, under the
 * names the core's errors give ("Max Line Size (MiB) in the nodes"). Sizes are in MiB here.
 */
import {
	NodeOperationError,
	type IDataObject,
	type IDisplayOptions,
	type IExecuteFunctions,
	type INodeProperties,
} from 'n8n-workflow';
import { DEFAULT_MAX_CMS_HEADER_BYTES } from '../../src/cms/decrypt';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/jsonl/records';
import { LIMITS, limitProblem, type LimitName } from '../../src/limits';
import type { PipelineLimits } from '../../src/pipeline/export';
import { DEFAULT_LIMITS } from '../../src/zip/extract';
import { LARGEST_CENTRAL_DIRECTORY_BYTES } from '../../src/zip/reassemble';
import { updateDisplayOptions } from './descriptions';

const MIB = 1024 * 1024;

/** The zip-bomb limits: every node that reads inside a zip has them. */
export const ZIP_LIMITS: LimitName[] = ['maxTotalBytes', 'maxEntryBytes', 'maxEntries', 'maxRatio'];

const PARAMETERS: Record<LimitName, { name: string; default: number; description: string }> = {
	maxLineBytes: {
		name: 'maxLineMiB',
		default: DEFAULT_MAX_LINE_BYTES / MIB,
		description:
			'The longest JSON Lines line (one record) accepted; a longer one stops the run, whatever Malformed Lines says. At most 1024.',
	},
	maxCmsHeaderBytes: {
		name: 'maxCmsHeaderMiB',
		default: DEFAULT_MAX_CMS_HEADER_BYTES / MIB,
		description:
			'The largest element of an S/MIME (CMS) header (recipients, certificates) accepted. Real headers are a few KB.',
	},
	maxCentralDirectoryBytes: {
		name: 'maxCentralDirectoryMiB',
		default: LARGEST_CENTRAL_DIRECTORY_BYTES / MIB,
		description: `The most a split export's central directory (its table of contents, about 100 bytes per file) may hold in memory while its parts are put back together. At most ${LARGEST_CENTRAL_DIRECTORY_BYTES / MIB}.`,
	},
	maxTotalBytes: {
		name: 'maxTotalMiB',
		default: DEFAULT_LIMITS.maxTotalBytes / MIB,
		description:
			'The most uncompressed bytes all files of a zip may hold together (protection against zip bombs)',
	},
	maxEntryBytes: {
		name: 'maxEntryMiB',
		default: DEFAULT_LIMITS.maxEntryBytes / MIB,
		description:
			'The most uncompressed bytes one file of a zip may hold (protection against zip bombs)',
	},
	maxEntries: {
		name: 'maxEntries',
		default: DEFAULT_LIMITS.maxEntries,
		description: 'The most files (and folders) a zip may hold',
	},
	maxRatio: {
		name: 'maxRatio',
		default: DEFAULT_LIMITS.maxRatio,
		description:
			'The most a file of a zip may expand (uncompressed ÷ compressed size; files up to 1 MiB are exempt)',
	},
};

/** Options-collection entries for `which` limits, shown where `displayOptions` says. */
export function limitOptions(
	which: LimitName[],
	displayOptions?: IDisplayOptions,
): INodeProperties[] {
	const options = which.map((limit): INodeProperties => {
		const parameter = PARAMETERS[limit];
		const spec = LIMITS[limit];
		const fallback = parameter.default;
		return {
			displayName: spec.option,
			name: parameter.name,
			type: 'number',
			typeOptions:
				spec.unit === 'count'
					? { minValue: spec.min, numberPrecision: 0 }
					: { minValue: spec.unit === 'bytes' ? 0 : spec.min },
			default: fallback,
			description: parameter.description,
		};
	});
	return displayOptions ? updateDisplayOptions(displayOptions, options) : options;
}

/** The limits set in an item's options collection, in bytes, checked as the CLI checks its flags. */
export function limitsFromOptions(
	context: IExecuteFunctions,
	itemIndex: number,
	options: IDataObject,
	which: LimitName[],
): Partial<PipelineLimits> {
	const limits: Partial<PipelineLimits> = {};
	for (const limit of which) {
		const raw = options[PARAMETERS[limit].name];
		if (raw === undefined || raw === null || raw === '') continue;
		const spec = LIMITS[limit];
		const given = Number(raw);
		const value = spec.unit === 'bytes' ? Math.round(given * MIB) : given;
		const problem = Number.isFinite(given)
			? limitProblem(limit, value)
			: `must be a number, got ${String(raw)}`;
		if (problem)
			throw new NodeOperationError(context.getNode(), `${spec.option}: ${problem}`, { itemIndex });
		limits[limit] = value;
	}
	return limits;
}
