/** JSON Lines records: the streaming parser and the CDDS record schemas. */
export {
	compactJson,
	DEFAULT_MAX_LINE_BYTES,
	isCompactJson,
	parseJsonLineBlocks,
	parseJsonLines,
	type BlockOptions,
	type JsonLinesOptions,
	type JsonLinesStats,
	type JsonRecord,
	type RecordBlock,
	type SkippedLine,
} from './records';
export {
	chunkFileName,
	checkRecordsPerChunk,
	DEFAULT_RECORDS_PER_CHUNK,
	recordChunks,
	type ChunkInfo,
	type ChunkOptions,
	type ChunkStart,
} from './chunks';
export {
	contactAttributeRecord,
	contactRecord,
	documentRecord,
	interactionRecord,
	recordKindForEntry,
	recordKinds,
	validateRecord,
	type CddsRecord,
	type CddsRecordKind,
	type ContactAttributeRecord,
	type ContactRecord,
	type DocumentRecord,
	type InteractionRecord,
} from './schemas';
export {
	COMPACT,
	INVALID,
	jsonObjectProblem,
	scanJsonObject,
	SPACED,
	type LineShape,
} from './validate';
