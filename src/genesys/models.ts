/**
 * zod models of the User Data Management API (/udm/v10, v4) and the CDDS API, from the Genesys
 * Multicloud CX API reference. Lenient where real responses vary: optional fields are optional and
 * may be null, unknown fields are kept (newer API versions add them, e.g. `exportAttachments`).
 */
import { z } from 'zod';

const optString = z.string().nullable().optional();
const optInt = z.number().int().nullable().optional();

/** An export job, and also a run of one (history entries have a `parentId`). */
export const jobInfo = z.looseObject({
	/** The v4 reference's GET jobs/{id} example shows it as a string. */
	id: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]),
	type: optString,
	source: optString,
	title: optString,
	/** e.g. "100MB"; a string in the API. */
	fileSplitSize: optString,
	/** The export's file (`export-<uuid>.zip.smime`); the CDDS reference's table spells it `filename`. */
	fileName: optString,
	filename: optString,
	fileSize: optInt,
	status: optString,
	createdDate: optString,
	dateFrom: optString,
	dateTo: optString,
	description: optString,
	media: z.array(z.string()).nullable().optional(),
	progress: optInt,
	parentId: optInt,
	exportAttachments: z.boolean().nullable().optional(),
});

export const jobProgress = z.looseObject({ progress: optInt, status: optString });

export function pagedResponse<T extends z.ZodType>(item: T) {
	return z.looseObject({
		count: optInt,
		from: optInt,
		size: optInt,
		items: z.array(item).default([]),
	});
}

export const certificateInfo = z.looseObject({
	ccid: optString,
	name: optString,
	size: optInt,
	lastModified: optString,
});
export const keyValueItem = z.looseObject({ label: z.string(), value: z.string() });
/**
 * An item of reference data (sources, types, job statuses): `{label, value}` (the v3 reference's
 * KeyValueItem), `{name, source}` (its DataType) or `{name, displayName}`; the v10 reference
 * shows only `{}`. Read as `{label, value}` with the other fields kept.
 */
export const referenceItem = z.union([
	keyValueItem,
	z
		.looseObject({ name: z.string(), displayName: optString })
		.transform((item) => ({ ...item, label: item.displayName ?? item.name, value: item.name })),
	z.string().transform((name) => ({ label: name, value: name })),
]) as unknown as z.ZodType<KeyValueItem>;
export const subType = z.looseObject({
	name: z.string(),
	displayName: optString,
	source: optString,
	dataType: optString,
	enabled: z.boolean().nullable().optional(),
});
export const versionInfo = z.looseObject({
	version: optString,
	buildNumber: optString,
	changeset: optString,
	name: optString,
});
export const preSignedUri = z.looseObject({ path: z.string() });

/** ResponseStatus, carried by every error response (and by ApiResponse envelopes). */
export const responseStatus = z.looseObject({
	code: z.number().int().optional(),
	message: z.string().optional(),
	detail: z.unknown().optional(),
});
export const errorBody = z.looseObject({
	status: responseStatus.optional(),
	errors: z.array(z.looseObject({ status: responseStatus.optional() })).optional(),
	path: z.string().optional(),
	/** OAuth-style errors of the Authentication API, and the gateway's `{message}`. */
	error: z.string().optional(),
	error_description: z.string().optional(),
	message: z.string().optional(),
});

export type JobInfo = z.infer<typeof jobInfo>;
export type JobProgress = z.infer<typeof jobProgress>;
export type CertificateInfo = z.infer<typeof certificateInfo>;
export type KeyValueItem = z.infer<typeof keyValueItem>;
export type SubType = z.infer<typeof subType>;
export type VersionInfo = z.infer<typeof versionInfo>;
export type PreSignedUri = z.infer<typeof preSignedUri>;
export type PagedResponse<T> = {
	count?: number | null;
	from?: number | null;
	size?: number | null;
	items: T[];
	/** Set when `items` were filtered by the client: how many items the API listed in this page. */
	scanned?: number;
};
