/**
 * zod schemas for the four CDDS Contact History record kinds, from the JSON Schema (draft-07)
 * documents of the CDDS "Contact History Export Reference" (schema version 9.0.001.07):
 * Interaction, Document (an interaction's attachment), Contact and Contact Attribute.
 *
 * Lenient on purpose, because a record refused here is a record the user does not get:
 * - only the fields the reference marks as required are required (IXNID, CONTACTID);
 * - every documented field is typed as documented, and `null` is accepted for any optional one:
 *   the reference gives many of them the default "null", and exports write null for "no value";
 * - integers are any integral number, not only JavaScript's safe integers (JSON Schema's
 *   "integer"; THREADHASH and the like may be 64-bit);
 * - the contact's DATEATTRIBUTE1–3 are `"type": "string", "format": "int64"` (a 64-bit number
 *   written as a string, such as epoch milliseconds): any string is taken, as draft-07 does (it has
 *   no "int64" format, so the format only annotates), and so is an integer, which is how a tenant
 *   writes the same value when its exporter does not quote 64-bit numbers;
 * - unknown fields are kept as they are: Genesys adds fields between versions;
 * - validateRecord() matches documented names whatever their case: the reference itself writes the
 *   same fields as `CONTACTID`, `ContactId` and `contactid` (its first example is
 *   `{"ContactId":…,"tenantid":101,"createddate":…}`), and later UDM versions use camelCase.
 *
 * Interactions join their attachments by IXNID = document ENTITYID (the reference calls them "id"
 * and "entityid"), and contacts their attributes by CONTACTID.
 */
import { z } from 'zod';

const optionalString = z.string().nullable().optional();
const integer = z.number().refine(Number.isInteger, { message: 'expected an integer' });
const optionalInteger = integer.nullable().optional();
/** `"type": "string", "format": "int64"`: the string the reference documents, or the number itself. */
const int64Message = 'expected an int64 as a string or an integer';
const optionalInt64 = z
	.union([z.string(), z.number()], { error: int64Message })
	.refine((value) => typeof value === 'string' || Number.isInteger(value), {
		message: int64Message,
	})
	.nullable()
	.optional();

function fields<K extends string, T extends z.ZodType>(names: readonly K[], type: T): Record<K, T> {
	return Object.fromEntries(names.map((name) => [name, type])) as Record<K, T>;
}

const strAttributes = [
	'STRATTRIBUTE1',
	'STRATTRIBUTE2',
	'STRATTRIBUTE3',
	'STRATTRIBUTE4',
	'STRATTRIBUTE5',
	'STRATTRIBUTE6',
	'STRATTRIBUTE7',
	'STRATTRIBUTE8',
	'STRATTRIBUTE9',
	'STRATTRIBUTE10',
] as const;
const intAttributes = [
	'INTATTRIBUTE1',
	'INTATTRIBUTE2',
	'INTATTRIBUTE3',
	'INTATTRIBUTE4',
	'INTATTRIBUTE5',
] as const;

/** `<EntityType>-<jobId>.json`: one interaction (email, chat, call, callback, …) per line. */
export const interactionRecord = z.looseObject({
	/** The interaction's id (16 characters); attachments point at it with ENTITYID. */
	IXNID: z.string(),
	...fields(
		[
			'MEDIATYPEID',
			'TYPEID',
			'SUBTYPEID',
			'EXTERNALID',
			'CONTACTID',
			'PARENTID',
			'STARTDATE',
			'MODIFIEDDATE',
			'ENDDATE',
			'THREADID',
			'CATEGORYID',
			'SUBJECT',
			'TEXT',
			'STRUCTUREDTEXT',
			'STRUCTTEXTMIMETYPE',
			'THECOMMENT',
			'QUEUENAME',
			...strAttributes,
			'WEBSAFEEMAILSTATUS',
			'STOPPEDREASON',
			'LANG',
			'FROMADDRESS',
			'FROMPERSONAL',
			'REPLYTOADDRESS',
			'TOADDRESSES',
			'CCADDRESSES',
			'BCCADDRESSES',
			'SENTDATE',
			'MAILBOX',
			'WHICHRULEMATCHED',
			'EMAILOUTID',
			'HEADER',
			'FromAddressEmailOut',
			'FromPersonalEmailOut',
			'ReplyToAddressEmailOut',
			'ToAddressesEmailOut',
			'CcAddressesEmailOut',
			'BccAddressesEmailOut',
			'SentDateEmailOut',
			'REFERENCEID',
			'STANDARDRESPONSEID',
			'ESTABLISHEDDATE',
			'RELEASEDDATE',
			'OUTCOME',
			'PHONENUMBER',
			'TCONNECTIONID',
			'DETAILEDDESCRIPTION',
			'CUSTOMDATA',
			'STARTTIME',
			'ENDTIME',
			'CUSTOMERNUMBER',
			'DN',
			'LOCATION',
			'CALLBACKSERVERID',
			'MIMETYPE',
			'CONTENT',
			'SUBSCRIBERID',
		] as const,
		optionalString,
	),
	...fields(
		[
			'STATUS',
			'ENTITYTYPEID',
			'OWNERID',
			'TIMESHIFT',
			'TENANTID',
			'SUBTENANTID',
			'THREADHASH',
			'CANBEPARENT',
			'CREATORAPPID',
			...intAttributes,
			'ISSPAM',
			'ISCATEGORYAPPROVED',
			'FORWARD',
			'REVIEWERID',
			'DURATION',
			'CALLBACKSTATUS',
			'DESIREDRESPONSETYPE',
			'ATTEMPTS',
			'CALLRESULT',
			'THETYPE',
			'THESIZE',
		] as const,
		optionalInteger,
	),
	/** The interaction's user data: key → string, number or nested object. */
	ALLATTRIBUTES: z.looseObject({}).nullable().optional(),
});

/** `<EntityType>-Attachment-<jobId>.json`: one attachment per line; ENTITYID is the interaction's IXNID. */
export const documentRecord = z.looseObject({
	...fields(
		['ID', 'MIMETYPE', 'THENAME', 'DESCRIPTION', 'CONTENT', 'DOCUMENTID', 'ENTITYID'] as const,
		optionalString,
	),
	...fields(['THESIZE', 'ENTITYTYPEID'] as const, optionalInteger),
});

/** One customer per line. */
export const contactRecord = z.looseObject({
	/** The contact's id (16 characters); interactions and contact attributes point at it. */
	CONTACTID: z.string(),
	...fields(
		[...strAttributes, 'CREATEDDATE', 'MODIFIEDDATE', 'MERGEID', 'SUBSCRIBERID'] as const,
		optionalString,
	),
	...fields(['DATEATTRIBUTE1', 'DATEATTRIBUTE2', 'DATEATTRIBUTE3'] as const, optionalInt64),
	...fields(['TENANTID', 'SUBTENANTID', 'ISEXTERNALRESOURCE'] as const, optionalInteger),
});

/** One attribute value of one contact per line. */
export const contactAttributeRecord = z.looseObject({
	...fields(
		[
			'ID',
			'CONTACTID',
			'ATTRIBUTEID',
			'ATTRIBUTENAME',
			'MIMETYPE',
			'STRVALUE',
			'STRVALUELOWERCASE',
			'BINVALUE',
			'DATEVALUE',
			'DESCRIPTION',
		] as const,
		optionalString,
	),
	...fields(['ISPRIMARY', 'TENANTID', 'SUBTENANTID'] as const, optionalInteger),
});

export const recordKinds = {
	interaction: interactionRecord,
	document: documentRecord,
	contact: contactRecord,
	contactAttribute: contactAttributeRecord,
} as const;

export type CddsRecordKind = keyof typeof recordKinds;
export type CddsRecord<K extends CddsRecordKind> = z.infer<(typeof recordKinds)[K]>;
export type InteractionRecord = CddsRecord<'interaction'>;
export type DocumentRecord = CddsRecord<'document'>;
export type ContactRecord = CddsRecord<'contact'>;
export type ContactAttributeRecord = CddsRecord<'contactAttribute'>;

/** Per kind: documented name in upper case → documented name. */
const documentedNames = Object.fromEntries(
	Object.entries(recordKinds).map(([kind, schema]) => [
		kind,
		new Map(Object.keys(schema.shape).map((name) => [name.toUpperCase(), name])),
	]),
) as Record<CddsRecordKind, Map<string, string>>;

/**
 * The record with documented fields under their documented names (`ContactId` → `CONTACTID`);
 * `value` itself is not changed. A name already present as documented wins, and the other spelling
 * stays as an unknown field.
 */
function withDocumentedNames(kind: CddsRecordKind, value: unknown): unknown {
	if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
	const names = documentedNames[kind];
	const record = value as Record<string, unknown>;
	const keys = Object.keys(record);
	// Most exports use the documented names: check before copying anything.
	const renamed = (key: string) => {
		const name = names.get(key.toUpperCase());
		return name !== undefined && name !== key && !Object.hasOwn(record, name) ? name : key;
	};
	if (keys.every((key) => renamed(key) === key)) return value;
	// fromEntries defines properties, so a `__proto__` key (JSON.parse makes it an own property) stays data.
	return Object.fromEntries(keys.map((key) => [renamed(key), record[key]]));
}

/** `ALLATTRIBUTES.x[2]`; "the record" for the record itself. */
function fieldPath(path: readonly PropertyKey[]): string {
	if (path.length === 0) return 'the record';
	return path
		.map((part, i) =>
			typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`,
		)
		.join('');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
	let at = value;
	for (const part of path) {
		if (at === null || typeof at !== 'object') return undefined;
		at = (at as Record<PropertyKey, unknown>)[part];
	}
	return at;
}

/**
 * Checks one record against its kind. The reason is short and names the field:
 * `STATUS: expected number, received string`, `IXNID: missing (required)`. It never quotes values.
 */
export function validateRecord<K extends CddsRecordKind>(
	kind: K,
	value: unknown,
): { ok: true; record: CddsRecord<K> } | { ok: false; reason: string } {
	const input = withDocumentedNames(kind, value);
	const result = recordKinds[kind].safeParse(input);
	if (result.success) return { ok: true, record: result.data as CddsRecord<K> };
	const [issue, ...others] = result.error.issues;
	const missing =
		issue.code === 'invalid_type' &&
		issue.path.length > 0 &&
		valueAt(input, issue.path) === undefined;
	const what = missing ? 'missing (required)' : issue.message.replace(/^Invalid input: /, '');
	const more =
		others.length > 0 ? ` (and ${others.length} more problem${others.length > 1 ? 's' : ''})` : '';
	return { ok: false, reason: `${fieldPath(issue.path)}: ${what}${more}` };
}

/**
 * Guesses the record kind of an export entry from its file name, or undefined when the name does
 * not follow the CDDS conventions. Folders and the case of the name do not matter.
 *
 * What the reference documents: interactions in `<EntityType>-<jobId>.json`, their attachments
 * (document schema) in `<EntityType>-Attachment-<jobId>.json`. EntityType is the interaction's
 * entity type (EmailIn, EmailOut, Chat, PhoneCall, Callback, CoBrowse, Interaction, …); the job id is
 * a number or a UUID. The reference names no file for contacts or contact attributes; by the same
 * pattern this takes `Contact-<jobId>.json` as contacts and, since contact attributes are to
 * contacts what documents are to interactions, `Contact-Attachment-<jobId>.json` and
 * `Contact[-]Attribute[s]-<jobId>.json` as contact attributes. Any other `<Word>-<jobId>.json` is
 * taken as interactions. Schema files (the reference says schemas are written along with the data)
 * are not records: names containing "schema" give undefined.
 */
export function recordKindForEntry(entryName: string): CddsRecordKind | undefined {
	const base = entryName.split(/[/\\]/).pop() ?? '';
	const stem = /^(.+)\.jsonl?$/i.exec(base)?.[1];
	if (stem === undefined || /schema/i.test(stem)) return undefined;
	// The job id: a number or a UUID; at least it has a digit and nothing that is not in an id.
	const isJobId = (id: string) => /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(id) && /\d/.test(id);

	const attributes = /^contacts?-?attributes?-(.+)$/i.exec(stem);
	if (attributes) return isJobId(attributes[1]) ? 'contactAttribute' : undefined;
	const attachment = /^([A-Za-z][A-Za-z0-9_]*)-attachments?-(.+)$/i.exec(stem);
	if (attachment) {
		if (!isJobId(attachment[2])) return undefined;
		return /^contacts?$/i.test(attachment[1]) ? 'contactAttribute' : 'document';
	}
	const data = /^([A-Za-z][A-Za-z0-9_]*)-(.+)$/.exec(stem);
	if (!data || !isJobId(data[2])) return undefined;
	return /^contacts?$/i.test(data[1]) ? 'contact' : 'interaction';
}
