/**
 * Split zips and safe extraction: name and order the parts of a split export, merge them into one
 * ordinary zip (streaming, central directory rewritten), and read or extract a zip with limits
 * against zip bombs and checks against zip slip, links, duplicates and corrupt data.
 */
export { groupParts, orderParts, parsePartName, type PartName, type PartSet } from './parts';
export {
	CentralDirectoryTooLarge,
	DEFAULT_MAX_CENTRAL_DIRECTORY_BYTES,
	LARGEST_CENTRAL_DIRECTORY_BYTES,
	reassemble,
	type PartStream,
	type ReassembleOptions,
	type ReassembleSummary,
	type ZipPart,
} from './reassemble';
export {
	DEFAULT_LIMITS,
	extractTo,
	zipEntries,
	type ExtractedFile,
	type ExtractLimits,
	type ExtractOptions,
	type ZipEntry,
} from './extract';
