/**
 * zod schemas for the four CDDS Contact History record kinds (JSON Schema draft-07 in the CDDS
 * reference, schema version 9.0.001.07): Interaction, Document (attachment), Contact and Contact
 * Attribute.
 *
 * Lenient on purpose: every documented field is typed, only the fields the reference marks as
 * required are required, `null` is accepted for any optional field (exports write null for "no
 * value"), and unknown fields are kept as they are — Genesys adds fields between versions.
 */
import { z } from 'zod';

const str = z.string().nullable().optional();
const int = z.number().int().nullable().optional();

function fields<K extends string, T extends z.ZodType>(names: readonly K[], type: T): Record<K, T> {
	return Object.fromEntries(names.map((n) => [n, type])) as Record<K, T>;
}

const strAttributes = Array.from({ length: 10 }, (_, i) => `STRATTRIBUTE${i + 1}` as const);
const intAttributes = Array.from({ length: 5 }, (_, i) => `INTATTRIBUTE${i + 1}` as const);

/** `<EntityType>-<jobId>.json`: one interaction (voice, chat, email, …) per line. */
export const interactionRecord = z.looseObject({
	IXNID: z.string(),
	...fields(
		[
			'MEDIATYPEID', 'TYPEID', 'SUBTYPEID', 'EXTERNALID', 'CONTACTID', 'PARENTID', 'STARTDATE', 'MODIFIEDDATE', 'ENDDATE',
			'THREADID', 'CATEGORYID', 'SUBJECT', 'TEXT', 'STRUCTUREDTEXT', 'STRUCTTEXTMIMETYPE', 'THECOMMENT', 'QUEUENAME',
			...strAttributes, 'WEBSAFEEMAILSTATUS', 'STOPPEDREASON', 'LANG', 'FROMADDRESS', 'FROMPERSONAL', 'REPLYTOADDRESS',
			'TOADDRESSES', 'CCADDRESSES', 'BCCADDRESSES', 'SENTDATE', 'MAILBOX', 'WHICHRULEMATCHED', 'EMAILOUTID', 'HEADER',
			'FromAddressEmailOut', 'FromPersonalEmailOut', 'ReplyToAddressEmailOut', 'ToAddressesEmailOut', 'CcAddressesEmailOut',
			'BccAddressesEmailOut', 'SentDateEmailOut', 'REFERENCEID', 'STANDARDRESPONSEID', 'ESTABLISHEDDATE', 'RELEASEDDATE',
			'OUTCOME', 'PHONENUMBER', 'TCONNECTIONID', 'DETAILEDDESCRIPTION', 'CUSTOMDATA', 'STARTTIME', 'ENDTIME',
			'CUSTOMERNUMBER', 'DN', 'LOCATION', 'CALLBACKSERVERID', 'MIMETYPE', 'CONTENT', 'SUBSCRIBERID',
		] as const,
		str,
	),
	...fields(
		[
			'STATUS', 'ENTITYTYPEID', 'OWNERID', 'TIMESHIFT', 'TENANTID', 'SUBTENANTID', 'THREADHASH', 'CANBEPARENT',
			'CREATORAPPID', ...intAttributes, 'ISSPAM', 'ISCATEGORYAPPROVED', 'FORWARD', 'REVIEWERID', 'DURATION',
			'CALLBACKSTATUS', 'DESIREDRESPONSETYPE', 'ATTEMPTS', 'CALLRESULT', 'THESIZE',
		] as const,
		int,
	),
	/** User data of the interaction: key → value (strings, sometimes numbers). */
	ALLATTRIBUTES: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** `<EntityType>-Attachment-<jobId>.json`: attachments; `ENTITYID` joins to the interaction's `IXNID`. */
export const documentRecord = z.looseObject({
	...fields(['ID', 'MIMETYPE', 'THENAME', 'DESCRIPTION', 'CONTENT', 'DOCUMENTID', 'ENTITYID'] as const, str),
	...fields(['THESIZE', 'ENTITYTYPEID'] as const, int),
});

/** `Contact-<jobId>.json`: one customer per line. */
export const contactRecord = z.looseObject({
	CONTACTID: z.string(),
	...fields(
		[...strAttributes, 'DATEATTRIBUTE1', 'DATEATTRIBUTE2', 'DATEATTRIBUTE3', 'CREATEDDATE', 'MODIFIEDDATE', 'MERGEID', 'SUBSCRIBERID'] as const,
		str,
	),
	...fields(['TENANTID', 'SUBTENANTID', 'ISEXTERNALRESOURCE'] as const, int),
});

/** Contact attributes: one attribute value of one contact per line. */
export const contactAttributeRecord = z.looseObject({
	...fields(
		['ID', 'CONTACTID', 'ATTRIBUTEID', 'ATTRIBUTENAME', 'MIMETYPE', 'STRVALUE', 'STRVALUELOWERCASE', 'BINVALUE', 'DATEVALUE', 'DESCRIPTION'] as const,
		str,
	),
	...fields(['ISPRIMARY', 'TENANTID', 'SUBTENANTID'] as const, int),
});

export const recordKinds = {
	interaction: interactionRecord,
	document: documentRecord,
	contact: contactRecord,
	contactAttribute: contactAttributeRecord,
} as const;

export type CddsRecordKind = keyof typeof recordKinds;
export type InteractionRecord = z.infer<typeof interactionRecord>;
export type DocumentRecord = z.infer<typeof documentRecord>;
export type ContactRecord = z.infer<typeof contactRecord>;
export type ContactAttributeRecord = z.infer<typeof contactAttributeRecord>;

/**
 * The record kind of an export entry, from the CDDS file names: `<EntityType>-<jobId>.json` and
 * `<EntityType>-Attachment-<jobId>.json`. The reference names the attachments and contact files;
 * contact attributes are taken to be `Contact-Attribute-…`/`ContactAttribute-…`. Undefined when the
 * name says nothing.
 */
export function recordKindForEntry(entryName: string): CddsRecordKind | undefined {
	const base = entryName.split('/').pop() ?? entryName;
	if (!/\.jsonl?$/i.test(base)) return undefined;
	if (/^[A-Za-z]+-Attachment-/i.test(base)) return 'document';
	if (/^Contact-?Attributes?-/i.test(base)) return 'contactAttribute';
	if (/^Contact-/i.test(base)) return 'contact';
	if (/^Interaction-/i.test(base)) return 'interaction';
	return undefined;
}

/** Checks one record; the reason names the field path (`STATUS: expected number, received string`). */
export function validateRecord(kind: CddsRecordKind, value: unknown): { ok: true; record: Record<string, unknown> } | { ok: false; reason: string } {
	const result = recordKinds[kind].safeParse(value);
	if (result.success) return { ok: true, record: result.data as Record<string, unknown> };
	const issue = result.error.issues[0];
	const path = issue.path.length > 0 ? issue.path.join('.') : '(record)';
	return { ok: false, reason: `${path}: ${issue.message}` };
}
