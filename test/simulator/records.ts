/**
 * CDDS Contact History records as an export run writes them, generated from a seed (the same seed
 * and shape give the same records), with the field names and JSON types of the reference's
 * draft-07 schemas (version 9.0.001.07):
 * - Interaction jobs: interactions (`<EntityType>-<jobId>.json`) and their attachments in the
 *   document schema (`<EntityType>-Attachment-<jobId>.json`, base64 CONTENT, ENTITYID = the
 *   interaction's IXNID). EntityType is `Interaction` for all of them in one file (the default), or
 *   each entity type on its own (`EmailIn-…`, `EmailOut-…`, `Chat-…`, `PhoneCall-…`).
 * - Contact jobs: contacts (`Contact-<jobId>.json`) and contact attributes
 *   (`ContactAttribute-<jobId>.json`, joined by CONTACTID).
 * Dates are ISO 8601 UTC with milliseconds, as in the schemas' examples; fields without a value are
 * left out, as in the reference's examples.
 */
import { createHash } from 'node:crypto';

export type CddsRecord = Record<string, unknown>;

export interface ExportEntry {
	name: string;
	records: CddsRecord[];
}

export type InteractionFiles = 'merged' | 'perEntityType';

export interface ExportShape {
	/** The job's data type: Interaction or Contact. */
	dataType: string;
	/** Media types asked for (email, chat, voice); empty for all. */
	media: string[];
	exportAttachments: boolean;
	/** Interactions in an Interaction export. */
	interactions: number;
	/** Contacts in a Contact export (and the contacts interactions belong to). */
	contacts: number;
	/** Bytes of each attachment (one per inbound email) before base64. */
	attachmentBytes: number;
	interactionFiles: InteractionFiles;
	/** The export's time frame (epoch ms); interactions start inside it. */
	from: number;
	to: number;
}

/** A deterministic byte stream from a seed (SHA-256 in counter mode). */
export class SeededRandom {
	private pool = Buffer.alloc(0);
	private counter = 0;

	constructor(private readonly seed: string) {}

	bytes(n: number): Buffer {
		const chunks: Buffer[] = [this.pool];
		let have = this.pool.length;
		while (have < n) {
			const block = createHash('sha256').update(`${this.seed}\0${this.counter++}`).digest();
			chunks.push(block);
			have += block.length;
		}
		const all = Buffer.concat(chunks, have);
		this.pool = all.subarray(n);
		return all.subarray(0, n);
	}

	/** 0 ≤ n < max. */
	int(max: number): number {
		return max <= 1 ? 0 : this.bytes(6).readUIntBE(0, 6) % max;
	}

	pick<T>(list: readonly T[]): T {
		return list[this.int(list.length)];
	}

	chance(probability: number): boolean {
		return this.int(1_000_000) < probability * 1_000_000;
	}
}

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** UCS ids: 16 characters like `0002Ha7QB2MX000R`; unique per generator thanks to the counter tail. */
class Ids {
	private counter = 0;
	constructor(private readonly random: SeededRandom) {}

	next(): string {
		let tail = '';
		for (let n = this.counter++; tail.length < 4; n = Math.floor(n / 62))
			tail = ID_ALPHABET[n % 62] + tail;
		let middle = '';
		for (const byte of this.random.bytes(9)) middle += ID_ALPHABET[byte % 62];
		return `000${middle}${tail}`;
	}
}

const ENTITY_TYPES = [
	{ name: 'EmailIn', id: 0, media: 'email', type: 'Inbound', subtype: 'InboundNew' },
	{ name: 'EmailOut', id: 1, media: 'email', type: 'Outbound', subtype: 'OutboundReply' },
	{ name: 'Chat', id: 2, media: 'chat', type: 'Inbound', subtype: 'InboundNew' },
	{ name: 'PhoneCall', id: 3, media: 'voice', type: 'Inbound', subtype: 'InboundNew' },
] as const;
type EntityType = (typeof ENTITY_TYPES)[number];
/**
 * The order interactions are made in, cycling: a third of them inbound emails (the ones with
 * attachments), then chats, calls and outbound replies.
 */
const ROTATION: readonly EntityType[] = [
	ENTITY_TYPES[0],
	ENTITY_TYPES[2],
	ENTITY_TYPES[3],
	ENTITY_TYPES[0],
	ENTITY_TYPES[1],
	ENTITY_TYPES[2],
];

const FIRST = [
	'Ada',
	'Grace',
	'Linus',
	'Margaret',
	'Dennis',
	'Barbara',
	'Ken',
	'Radia',
	'Édouard',
	'Zoë',
	'Søren',
	'Małgorzata',
];
const LAST = [
	'Lovelace',
	'Hopper',
	'Torvalds',
	'Hamilton',
	'Ritchie',
	'Liskov',
	'Thompson',
	'Perlman',
	'Müller',
	'Núñez',
	"O'Brien",
];
const TOPICS = [
	'Order status',
	'Invoice question',
	'Délai de livraison',
	'Refund',
	'Address change',
	'Password reset',
	'Rückruf erbeten',
];
const QUEUES = ['Inbound Email', 'VIP', 'Chat General', 'Callbacks', 'Billing'];
const DISPOSITIONS = ['Resolved', 'Callback Scheduled', 'Escalated', 'Transferred'];
const ATTACHMENT_KINDS = [
	{ mime: 'application/pdf', name: (i: number) => `statement-${i}.pdf` },
	{ mime: 'image/png', name: (i: number) => `screenshot-${i}.png` },
	{ mime: 'message/rfc822', name: () => 'OriginalMsg.eml' },
] as const;
const TENANT_ID = 101;

const iso = (ms: number) => new Date(ms).toISOString();

interface Contact {
	id: string;
	first: string;
	last: string;
	email: string;
	phone: string;
	created: number;
}

function makeContacts(random: SeededRandom, ids: Ids, count: number, before: number): Contact[] {
	return Array.from({ length: count }, (_, i) => {
		const first = random.pick(FIRST);
		const last = random.pick(LAST);
		const mailbox = `${first}.${last}`
			.normalize('NFD')
			.replace(/[^A-Za-z.]/g, '')
			.toLowerCase();
		return {
			id: ids.next(),
			first,
			last,
			email: `${mailbox}${i}@example.com`,
			phone: `+1555${String(1_000_000 + random.int(9_000_000))}`,
			created: before - (1 + random.int(700)) * 86_400_000 - random.int(86_400_000),
		};
	});
}

function contactRecord(c: Contact, random: SeededRandom): CddsRecord {
	const record: CddsRecord = {
		CONTACTID: c.id,
		TENANTID: TENANT_ID,
		ISEXTERNALRESOURCE: 0,
		STRATTRIBUTE1: c.first,
		STRATTRIBUTE2: c.email,
		STRATTRIBUTE3: c.phone,
		STRATTRIBUTE4: c.last,
		STRATTRIBUTE5: c.last[0],
		CREATEDDATE: iso(c.created),
		MODIFIEDDATE: iso(c.created + random.int(30) * 86_400_000 + random.int(86_400_000)),
	};
	// DATEATTRIBUTE*: "type": "string", "format": "int64" — epoch ms written as a string.
	if (random.chance(0.5)) record.DATEATTRIBUTE1 = String(c.created + random.int(365) * 86_400_000);
	return record;
}

function contactAttributes(c: Contact, ids: Ids, random: SeededRandom): CddsRecord[] {
	const attribute = (name: string, value: string, primary: boolean): CddsRecord => ({
		ID: ids.next(),
		CONTACTID: c.id,
		ATTRIBUTEID: ids.next(),
		ATTRIBUTENAME: name,
		STRVALUE: value,
		STRVALUELOWERCASE: value.toLowerCase(),
		ISPRIMARY: primary ? 1 : 0,
		TENANTID: TENANT_ID,
	});
	const list = [
		attribute('FirstName', c.first, true),
		attribute('LastName', c.last, true),
		attribute('EmailAddress', c.email, true),
		attribute('PhoneNumber', c.phone, true),
	];
	if (random.chance(0.3))
		list.push(
			attribute(
				'EmailAddress',
				`${c.last.toLowerCase().replace(/[^a-z]/g, '')}@work.example.org`,
				false,
			),
		);
	return list;
}

function interactionRecord(
	type: EntityType,
	i: number,
	contact: Contact,
	ids: Ids,
	random: SeededRandom,
	shape: ExportShape,
): CddsRecord {
	const span = Math.max(1, shape.to - shape.from - 4 * 3_600_000);
	const start = shape.from + random.int(span);
	const end = start + 30_000 + random.int(3 * 3_600_000);
	const topic = random.pick(TOPICS);
	const record: CddsRecord = {
		IXNID: ids.next(),
		MEDIATYPEID: type.media,
		TYPEID: type.type,
		SUBTYPEID: type.subtype,
		ENTITYTYPEID: type.id,
		STATUS: 3,
		TENANTID: TENANT_ID,
		CONTACTID: contact.id,
		OWNERID: 100 + random.int(900),
		STARTDATE: iso(start),
		MODIFIEDDATE: iso(end + random.int(60_000)),
		ENDDATE: iso(end),
		THREADID: ids.next(),
		THREADHASH: random.int(2_147_483_647),
		CANBEPARENT: 1,
		CREATORAPPID: 171,
		TIMESHIFT: 0,
		QUEUENAME: random.pick(QUEUES),
		SUBJECT: `${topic} #${10_000 + i}`,
		TEXT: `Hello, this is ${contact.first} ${contact.last}. ${topic}: ${random.bytes(45).toString('base64')}`,
		ALLATTRIBUTES: {
			FirstName: contact.first,
			LastName: contact.last,
			ContactId: contact.id,
			RStrategyDBID: String(200 + random.int(100)),
			RVQDBID: '',
			ServiceObjective: random.int(3),
			CustomerSegment: random.pick(['default', 'gold', 'silver']),
			IWAttachedDataInformation: {
				DispositionCodeValues: random.pick(DISPOSITIONS),
				'CaseData.Priority': random.pick(['Low', 'Normal', 'High']),
			},
		},
	};
	if (type.media === 'email') {
		Object.assign(record, {
			MAILBOX: '"Contact Center" <support@example.com>',
			SENTDATE: iso(start - random.int(600_000)),
			HEADER: Buffer.from(
				`Message-ID: <${record.IXNID}@example.com>\r\nSubject: ${record.SUBJECT}\r\n`,
				'utf8',
			).toString('base64'),
		});
		if (type.name === 'EmailIn')
			Object.assign(record, {
				FROMADDRESS: contact.email,
				FROMPERSONAL: `${contact.first} ${contact.last}`,
				TOADDRESSES: 'support@example.com',
			});
		else
			Object.assign(record, {
				FromAddressEmailOut: 'support@example.com',
				ToAddressesEmailOut: contact.email,
				SentDateEmailOut: iso(end),
				REFERENCEID: ids.next(),
			});
	}
	if (type.media === 'chat')
		Object.assign(record, {
			STRUCTUREDTEXT: `<chatTranscript><message>${topic}</message></chatTranscript>`,
			STRUCTTEXTMIMETYPE: 'text/xml',
			LANG: 'en',
		});
	if (type.media === 'voice') {
		Object.assign(record, {
			PHONENUMBER: contact.phone,
			TCONNECTIONID: random.bytes(8).toString('hex'),
			ESTABLISHEDDATE: iso(start),
			RELEASEDDATE: iso(end),
			DURATION: Math.round((end - start) / 1000),
			OUTCOME: random.pick(['Answered', 'Transferred']),
		});
	}
	if (random.chance(0.3))
		record.THECOMMENT = `Agent note: ${random.pick(DISPOSITIONS).toLowerCase()}`;
	return record;
}

function attachmentRecord(
	interaction: CddsRecord,
	i: number,
	ids: Ids,
	random: SeededRandom,
	bytes: number,
): CddsRecord {
	const kind = random.pick(ATTACHMENT_KINDS);
	const content = random.bytes(bytes);
	const id = ids.next();
	return {
		ID: id,
		DOCUMENTID: id,
		ENTITYID: interaction.IXNID,
		ENTITYTYPEID: interaction.ENTITYTYPEID,
		MIMETYPE: kind.mime,
		THENAME: kind.name(i),
		DESCRIPTION: '',
		THESIZE: content.length,
		CONTENT: content.toString('base64'),
	};
}

/**
 * Where a generated record goes: `interactions:<EntityType>`, `attachments:<EntityType>`, `contacts`
 * or `attributes`. An archive entry holds one bucket, or (merged interaction files) several in turn.
 */
export type Bucket = string;

/**
 * The records of one export one at a time, in the order they are made (what decides them: the seed,
 * the job ID and the shape), each with its bucket; nothing is kept, so an export of any size can be
 * written as it is made. `generateExport` collects them; `exportLayout` says which entries hold which
 * buckets.
 */
export function* exportRecords(
	jobId: number,
	seed: string,
	shape: ExportShape,
): Generator<{ bucket: Bucket; record: CddsRecord }> {
	const random = new SeededRandom(`${seed}\0${jobId}`);
	const ids = new Ids(random);
	const contacts = makeContacts(random, ids, Math.max(1, shape.contacts), shape.from);

	if (shape.dataType.toLowerCase() === 'contact') {
		for (const c of contacts) yield { bucket: 'contacts', record: contactRecord(c, random) };
		for (const c of contacts)
			for (const record of contactAttributes(c, ids, random))
				yield { bucket: 'attributes', record };
		return;
	}

	const rotation = interactionRotation(shape);
	for (let i = 0; i < shape.interactions && rotation.length > 0; i++) {
		const type = rotation[i % rotation.length];
		const interaction = interactionRecord(type, i, random.pick(contacts), ids, random, shape);
		yield { bucket: `interactions:${type.name}`, record: interaction };
		// Customers attach files to the emails they send: one attachment per inbound email.
		if (shape.exportAttachments && type.name === 'EmailIn')
			yield {
				bucket: `attachments:${type.name}`,
				record: attachmentRecord(interaction, i, ids, random, shape.attachmentBytes),
			};
	}
}

/** The entity types an Interaction export of this shape makes, in the order they are made (cycling). */
function interactionRotation(shape: ExportShape): readonly EntityType[] {
	const wanted = new Set(shape.media.map((m) => m.toLowerCase()));
	return ROTATION.filter((t) => wanted.size === 0 || wanted.has(t.media));
}

/**
 * The archive entries of an export, in archive order, with the buckets each holds in turn, given
 * the buckets that received records: "Schema files are created only if there is corresponding
 * data", so no records, no file.
 */
export function exportLayout(
	jobId: number,
	shape: ExportShape,
	filled: ReadonlySet<Bucket>,
): Array<{ name: string; buckets: Bucket[] }> {
	const entry = (name: string, buckets: Bucket[]) => ({
		name,
		buckets: buckets.filter((b) => filled.has(b)),
	});
	let entries: Array<{ name: string; buckets: Bucket[] }>;
	if (shape.dataType.toLowerCase() === 'contact') {
		entries = [
			entry(`Contact-${jobId}.json`, ['contacts']),
			entry(`ContactAttribute-${jobId}.json`, ['attributes']),
		];
	} else {
		const rotation = interactionRotation(shape);
		const types = ENTITY_TYPES.filter((t) => rotation.includes(t));
		entries =
			shape.interactionFiles === 'merged'
				? [
						entry(
							`Interaction-${jobId}.json`,
							types.map((t) => `interactions:${t.name}`),
						),
						entry(
							`Interaction-Attachment-${jobId}.json`,
							types.map((t) => `attachments:${t.name}`),
						),
					]
				: types.flatMap((t) => [
						entry(`${t.name}-${jobId}.json`, [`interactions:${t.name}`]),
						entry(`${t.name}-Attachment-${jobId}.json`, [`attachments:${t.name}`]),
					]);
	}
	// A contact export always has its contacts file (at least one contact is made).
	return entries.filter((e) => e.buckets.length > 0);
}

/** The entries of one export, in archive order. */
export function generateExport(jobId: number, seed: string, shape: ExportShape): ExportEntry[] {
	const buckets = new Map<Bucket, CddsRecord[]>();
	for (const { bucket, record } of exportRecords(jobId, seed, shape)) {
		let list = buckets.get(bucket);
		if (!list) buckets.set(bucket, (list = []));
		list.push(record);
	}
	return exportLayout(jobId, shape, new Set(buckets.keys())).map((e) => ({
		name: e.name,
		records: e.buckets.flatMap((b) => buckets.get(b) ?? []),
	}));
}

/** JSON Lines as the export writes them: one compact object per line, LF, a final newline. */
export function jsonLines(records: CddsRecord[]): Buffer {
	return Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
}
