/**
 * CDDS Contact History records as an export run writes them, generated from a seed (the same seed
 * gives the same records): interactions per entity type (`EmailIn-<jobId>.json`, `Chat-…`,
 * `PhoneCall-…`), their attachments (`EmailIn-Attachment-<jobId>.json`, base64 CONTENT, ENTITYID =
 * IXNID), contacts (`Contact-<jobId>.json`) and contact attributes (`ContactAttribute-<jobId>.json`),
 * with the field names and types of the reference's schemas.
 */
import { createHash } from 'node:crypto';

export interface ExportEntry {
	name: string;
	records: Array<Record<string, unknown>>;
}

export interface ExportShape {
	/** Interaction or Contact (the job's data type). */
	dataType: string;
	/** Media types asked for (empty: all). */
	media: string[];
	exportAttachments: boolean;
	interactions: number;
	contacts: number;
	/** Bytes of each attachment before base64. */
	attachmentBytes: number;
}

/** A deterministic byte stream from a seed (SHA-256 in counter mode). */
class Random {
	private buffer = Buffer.alloc(0);
	private counter = 0;
	constructor(private readonly seed: string) {}

	bytes(n: number): Buffer {
		const chunks: Buffer[] = [this.buffer];
		let have = this.buffer.length;
		while (have < n) {
			const block = createHash('sha256').update(`${this.seed}:${this.counter++}`).digest();
			chunks.push(block);
			have += block.length;
		}
		const all = Buffer.concat(chunks);
		this.buffer = all.subarray(n);
		return all.subarray(0, n);
	}

	int(max: number): number {
		return this.bytes(4).readUInt32BE(0) % max;
	}

	pick<T>(list: readonly T[]): T {
		return list[this.int(list.length)];
	}

	id(): string {
		// Genesys UCS ids: 16 characters.
		return this.bytes(12).toString('base64').replace(/[+/]/g, 'A').slice(0, 16);
	}
}

const ENTITY_TYPES = [
	{ entityType: 'EmailIn', media: 'email', entityTypeId: 2 },
	{ entityType: 'Chat', media: 'chat', entityTypeId: 7 },
	{ entityType: 'PhoneCall', media: 'voice', entityTypeId: 5 },
] as const;
const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken', 'Radia', 'Édouard', 'Zoë'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Ritchie', 'Liskov', 'Thompson', 'Perlman', 'Müller', 'Núñez'];
const TENANT = 101;

function date(base: number, offsetMinutes: number): string {
	// The reference's format: 2019-03-04 16:42:28.603
	return new Date(base + offsetMinutes * 60_000).toISOString().replace('T', ' ').replace('Z', '');
}

export function generateExport(jobId: number, seed: string, shape: ExportShape): ExportEntry[] {
	const random = new Random(`${seed}:${jobId}`);
	const start = Date.UTC(2026, 9, 1, 8, 0, 0);
	const contacts: Array<Record<string, unknown>> = [];
	const contactCount = Math.max(1, shape.contacts);
	for (let i = 0; i < contactCount; i++) {
		const first = random.pick(FIRST);
		const last = random.pick(LAST);
		contacts.push({
			CONTACTID: random.id(),
			TENANTID: TENANT,
			CREATEDDATE: date(start, -10_000 + i),
			MODIFIEDDATE: date(start, i),
			STRATTRIBUTE1: first,
			STRATTRIBUTE2: last,
			STRATTRIBUTE3: `${first}.${last}@example.com`.toLowerCase(),
			ISEXTERNALRESOURCE: 0,
		});
	}

	if (shape.dataType.toLowerCase() === 'contact') {
		const attributes = contacts.flatMap((contact, i) => [
			{ ID: random.id(), CONTACTID: contact.CONTACTID, ATTRIBUTEID: 'EmailAddress', ATTRIBUTENAME: 'EmailAddress', STRVALUE: contact.STRATTRIBUTE3, STRVALUELOWERCASE: String(contact.STRATTRIBUTE3).toLowerCase(), ISPRIMARY: 1, TENANTID: TENANT },
			{ ID: random.id(), CONTACTID: contact.CONTACTID, ATTRIBUTEID: 'PhoneNumber', ATTRIBUTENAME: 'PhoneNumber', STRVALUE: `+1555${String(1000000 + i).slice(1)}`, ISPRIMARY: 1, TENANTID: TENANT },
		]);
		return [
			{ name: `Contact-${jobId}.json`, records: contacts },
			{ name: `ContactAttribute-${jobId}.json`, records: attributes },
		];
	}

	const wanted = ENTITY_TYPES.filter((t) => shape.media.length === 0 || shape.media.map((m) => m.toLowerCase()).includes(t.media));
	const entries: ExportEntry[] = [];
	for (const type of wanted) {
		const interactions: Array<Record<string, unknown>> = [];
		const attachments: Array<Record<string, unknown>> = [];
		const count = Math.ceil(shape.interactions / wanted.length);
		for (let i = 0; i < count; i++) {
			const contact = contacts[random.int(contacts.length)];
			const ixnId = random.id();
			const startedAt = random.int(30 * 24 * 60);
			const record: Record<string, unknown> = {
				IXNID: ixnId,
				MEDIATYPEID: type.media,
				TYPEID: type.media === 'email' ? 'Inbound' : type.media === 'chat' ? 'Inbound' : 'Outbound',
				SUBTYPEID: type.media === 'email' ? 'InboundNew' : 'InboundNew',
				ENTITYTYPEID: type.entityTypeId,
				STATUS: 3,
				TENANTID: TENANT,
				CONTACTID: contact.CONTACTID,
				STARTDATE: date(start, startedAt),
				ENDDATE: date(start, startedAt + 1 + random.int(90)),
				SUBJECT: `${type.entityType} ${i}: ${random.pick(['Order', 'Invoice', 'Délai', 'Refund', 'Address change'])} #${1000 + i}`,
				TEXT: `Hello, this is ${contact.STRATTRIBUTE1}. ${random.bytes(60).toString('base64')}`,
				QUEUENAME: random.pick(['Inbound', 'VIP', 'Callbacks']),
				OWNERID: random.int(5000),
				THREADHASH: 2 ** 53 + random.int(1000) * 2,
				ALLATTRIBUTES: {
					LastName: contact.STRATTRIBUTE2,
					RStrategyDBID: String(200 + random.int(100)),
					ServiceObjective: random.int(3),
					IWAttachedDataInformation: { DispositionCodeValues: random.pick(['Resolved', 'Callback Scheduled', 'Escalated']) },
				},
			};
			if (type.media === 'email') {
				record.FROMADDRESS = contact.STRATTRIBUTE3;
				record.TOADDRESSES = 'support@example.com';
				record.MAILBOX = 'support';
			}
			if (type.media === 'voice') {
				record.PHONENUMBER = `+1555${String(1000000 + i).slice(1)}`;
				record.DURATION = 30 + random.int(1200);
			}
			interactions.push(record);
			if (shape.exportAttachments && type.media === 'email') {
				const content = random.bytes(shape.attachmentBytes);
				attachments.push({ ID: random.id(), DOCUMENTID: random.id(), ENTITYID: ixnId, ENTITYTYPEID: type.entityTypeId, MIMETYPE: 'application/pdf', THENAME: `statement-${i}.pdf`, THESIZE: content.length, CONTENT: content.toString('base64') });
			}
		}
		entries.push({ name: `${type.entityType}-${jobId}.json`, records: interactions });
		if (attachments.length > 0) entries.push({ name: `${type.entityType}-Attachment-${jobId}.json`, records: attachments });
	}
	entries.push({ name: `Contact-${jobId}.json`, records: contacts });
	return entries;
}

/** JSON Lines as the export writes them: one compact object per line, LF, a final newline. */
export function jsonLines(records: Array<Record<string, unknown>>): Buffer {
	return Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
}
