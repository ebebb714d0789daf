/**
 * The public API of the core: plain TypeScript over Node streams, free of n8n types. The CLI and
 * every node of this package go through these functions.
 */
export { ApiError, CxError, isCxError, type CxErrorCode } from './errors';
export { LIMITS, limitProblem, raiseAdvice, type LimitName, type LimitSpec } from './limits';
export * from './cms';
export * from './zip';
export * from './jsonl';
export {
	decryptTo,
	exportRecords,
	extractExport,
	groupInputs,
	isRecordsEntry,
	reassembleTo,
	reassembleToFile,
	type ExportRecord,
	type PipelineLimits,
	type PipelineOptions,
	type RecordsOptions,
} from './pipeline/export';
export { makeTempDir, writeAtomically } from './pipeline/files';
export { fileSource, peek, plaintext, type ByteSource, type Kind } from './pipeline/sources';
export * from './http/retry';
export * from './http/redirect';
export * from './http/download';
export * from './http/api';
export * from './http/body';
export * from './http/sleep';
export * from './http/transport';
export * from './http/urlPolicy';
export {
	certificateInfo,
	jobInfo,
	jobProgress,
	keyValueItem,
	pagedResponse,
	preSignedUri,
	subType,
	versionInfo,
	type CertificateInfo as GenesysCertificateInfo,
	type JobInfo,
	type JobProgress,
	type KeyValueItem,
	type PagedResponse,
	type PreSignedUri,
	type SubType,
	type VersionInfo,
} from './genesys/models';
export * from './genesys/errors';
export {
	requestToken,
	tokenUrl,
	TokenSource,
	type GenesysCredentials,
	type Token,
} from './genesys/auth';
export {
	API_FLAVOURS,
	fetchSender,
	fileMetadata,
	GenesysClient,
	multipartFile,
	runState,
	type ApiFlavour,
	type DownloadedFile,
	type FileMetadata,
	type GenesysClientOptions,
	type JobRequest,
	type ListQuery,
	type RunState,
	type WaitOptions,
} from './genesys/client';
export {
	isoDate,
	jobBody,
	jobChangesFromFields,
	jobRequestFromParameters,
	mergeJob,
	splitSize,
	type JobBody,
	type JobChanges,
} from './genesys/jobs';
