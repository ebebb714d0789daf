/**
 * The Genesys Digital Channels Interactions Webhook: signature check, payload model, the answer
 * Genesys expects, and redelivery detection.
 *
 * Genesys signs the raw request body with HMAC-SHA1 keyed by the app secret and sends
 * `X-Hub-Signature: sha1=<hex>`; a SHA-256 signature (`X-Hub-Signature-256: sha256=<hex>`) is checked
 * too when it is present. Checks run over the bytes as received (never re-serialised JSON) and
 * compare digests in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export type SignatureResult =
	| { ok: true; checked: Array<'sha1' | 'sha256'> }
	| { ok: false; reason: string };

const SIGNATURE = {
	sha1: { header: 'X-Hub-Signature', prefix: 'sha1=', hexLength: 40 },
	sha256: { header: 'X-Hub-Signature-256', prefix: 'sha256=', hexLength: 64 },
} as const;

function headerValue(value: string | string[] | undefined): string | undefined {
	if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
	return value;
}

function checkOne(
	algorithm: 'sha1' | 'sha256',
	given: string,
	rawBody: Buffer,
	secret: string | Buffer,
): string | undefined {
	const { header, prefix, hexLength } = SIGNATURE[algorithm];
	const text = given.trim();
	if (
		!text.toLowerCase().startsWith(prefix) ||
		text.length !== prefix.length + hexLength ||
		!/^[0-9a-f]+$/i.test(text.slice(prefix.length))
	) {
		return `${header} is not "${prefix}" followed by ${hexLength} hex digits`;
	}
	const expected = createHmac(algorithm, secret).update(rawBody).digest();
	const received = Buffer.from(text.slice(prefix.length), 'hex');
	// Both are digests of the same fixed length here, so only their content is compared, in constant time.
	return timingSafeEqual(expected, received)
		? undefined
		: `${header} does not match the body (wrong app secret, or the body was changed on the way)`;
}

/**
 * Checks the signatures of a webhook request. `headers` are the request's headers (any case of
 * names as Node gives them: lower case). A missing `X-Hub-Signature` fails; `X-Hub-Signature-256`
 * is checked when present. Reasons never contain the secret or the expected digest.
 */
export function verifyHubSignature(
	rawBody: Buffer,
	secret: string | Buffer,
	headers: Record<string, string | string[] | undefined>,
): SignatureResult {
	if (secret.length === 0) return { ok: false, reason: 'no app secret is set in the credential' };
	const lower: Record<string, string | string[] | undefined> = {};
	for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
	const sha1 = headerValue(lower['x-hub-signature']);
	const sha256 = headerValue(lower['x-hub-signature-256']);
	if (sha1 === undefined && Array.isArray(lower['x-hub-signature']))
		return { ok: false, reason: 'X-Hub-Signature was sent more than once' };
	if (sha1 === undefined) return { ok: false, reason: 'X-Hub-Signature header is missing' };
	const checked: Array<'sha1' | 'sha256'> = [];
	const problem1 = checkOne('sha1', sha1, rawBody, secret);
	if (problem1) return { ok: false, reason: problem1 };
	checked.push('sha1');
	if (lower['x-hub-signature-256'] !== undefined) {
		if (sha256 === undefined)
			return { ok: false, reason: 'X-Hub-Signature-256 was sent more than once' };
		const problem256 = checkOne('sha256', sha256, rawBody, secret);
		if (problem256) return { ok: false, reason: problem256 };
		checked.push('sha256');
	}
	return { ok: true, checked };
}

/** `sha1=<hex>` for a body, as Genesys signs it (for simulators and tests). */
export function hubSignature(
	rawBody: Buffer | string,
	secret: string | Buffer,
	algorithm: 'sha1' | 'sha256' = 'sha1',
): string {
	return `${algorithm}=${createHmac(algorithm, secret).update(rawBody).digest('hex')}`;
}

const optString = z.string().nullable().optional();

export const interactionEntity = z.looseObject({
	id: optString,
	mediaType: optString,
	interactionSubtype: optString,
	selfUri: optString,
});

export const interactionEvent = z.looseObject({
	event: optString,
	entity: interactionEntity.nullable().optional(),
});

/**
 * EventsPayload: `{ operationId, data: { entities: [Event] } }`. The reference marks every one of
 * these optional (`operationId`, `data`, `data.entities`, and each field of an Event), so a body
 * without them is still the documented shape: it carries no events. What is checked is the shape
 * of what is there: a JSON object, `data` an object, `entities` an array of objects.
 */
export const eventsPayload = z.looseObject({
	operationId: optString,
	data: z
		.looseObject({ entities: z.array(interactionEvent).nullable().optional() })
		.nullable()
		.optional(),
});

export type InteractionEvent = z.infer<typeof interactionEvent>;
export type EventsPayload = z.infer<typeof eventsPayload>;

export type PayloadResult = { ok: true; payload: EventsPayload } | { ok: false; reason: string };

/** The events of a delivery, in order; none when `data` or `data.entities` is absent or null. */
export function eventsOf(payload: EventsPayload): InteractionEvent[] {
	return payload.data?.entities ?? [];
}

/** Parses a webhook body; the reason says what is wrong and where (`data.entities[2].event`). */
export function parseEventsPayload(rawBody: Buffer): PayloadResult {
	let value: unknown;
	try {
		value = JSON.parse(rawBody.toString('utf8').replace(/^\uFEFF/, ''));
	} catch (error) {
		return { ok: false, reason: `the body is not JSON: ${(error as Error).message}` };
	}
	const parsed = eventsPayload.safeParse(value);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		const where =
			issue.path.length > 0
				? issue.path
						.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
						.join('')
						.replace(/^\./, '')
				: 'the body';
		return {
			ok: false,
			reason: `${where}: ${issue.message} (expected {"operationId": "…", "data": {"entities": [{"event": "STARTED", "entity": {…}}]}})`,
		};
	}
	return { ok: true, payload: parsed.data };
}

/** The EventsResponse Genesys expects with 200: the ids accepted. */
export function eventsResponse(
	ids: string[],
	message = 'OK',
): { status: { code: number; message: string }; data: { ids: Array<{ id: string }> } } {
	return { status: { code: 0, message }, data: { ids: ids.map((id) => ({ id })) } };
}

/** A claimed operation id; `release()` forgets it again if it is still this claim. */
export interface RedeliveryClaim {
	readonly operationId: string;
	readonly at: number;
	release(): void;
}

type Seen = { at: number };

/**
 * Operation ids received recently, `operationId → first seen`, in a `Map` (any string is an
 * ordinary key: `__proto__` and `constructor` are ids like any other). Insertion order is the order
 * ids were first seen, so expiry and the size bound drop from the front. Entries older than the
 * window are dropped, and at most `maxEntries` are kept (the oldest go first).
 *
 * `claim()` checks and marks in one synchronous step: of two deliveries of one id handled by one
 * process, however they interleave, exactly one claims it.
 */
export class RedeliveryMemory {
	private readonly seen = new Map<string, Seen>();

	constructor(readonly maxEntries = 5000) {
		if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
			throw new RangeError(`maxEntries must be a whole number ≥ 1, not ${maxEntries}`);
	}

	get size(): number {
		return this.seen.size;
	}

	/** Whether `operationId` was seen within the window before `now`. */
	has(operationId: string, now: number, windowMs: number): boolean {
		const entry = this.seen.get(operationId);
		return entry !== undefined && now - entry.at <= windowMs;
	}

	/**
	 * Marks `operationId` as seen at `now` and returns the claim, or returns undefined when it was
	 * already seen within the window (a redelivery).
	 */
	claim(operationId: string, now: number, windowMs: number): RedeliveryClaim | undefined {
		this.expire(now, windowMs);
		if (this.has(operationId, now, windowMs)) return undefined;
		const entry: Seen = { at: now };
		// Delete first so that a re-claimed id moves to the end (the newest).
		this.seen.delete(operationId);
		this.seen.set(operationId, entry);
		this.bound();
		const seen = this.seen;
		return {
			operationId,
			at: now,
			release() {
				if (seen.get(operationId) === entry) seen.delete(operationId);
			},
		};
	}

	/** Drops ids first seen more than `windowMs` before `now`. */
	expire(now: number, windowMs: number): void {
		for (const [id, entry] of this.seen) {
			if (now - entry.at <= windowMs) break;
			this.seen.delete(id);
		}
	}

	/** `[operationId, epoch ms]` pairs, oldest first: what is kept in the workflow's static data. */
	toJSON(): Array<[string, number]> {
		return Array.from(this.seen, ([id, entry]) => [id, entry.at]);
	}

	/**
	 * A memory from what `toJSON()` gave (or from the `{operationId: ms}` object earlier versions
	 * kept); anything else in it is ignored.
	 */
	static fromJSON(value: unknown, maxEntries?: number): RedeliveryMemory {
		const memory = new RedeliveryMemory(maxEntries);
		let pairs: unknown[] = [];
		if (Array.isArray(value)) pairs = value;
		else if (value !== null && typeof value === 'object') pairs = Object.entries(value);
		const valid = pairs.filter(
			(p): p is [string, number] =>
				Array.isArray(p) &&
				typeof p[0] === 'string' &&
				typeof p[1] === 'number' &&
				Number.isFinite(p[1]),
		);
		valid.sort((a, b) => a[1] - b[1]);
		for (const [id, at] of valid) {
			memory.seen.delete(id);
			memory.seen.set(id, { at });
		}
		memory.bound();
		return memory;
	}

	private bound(): void {
		for (const id of this.seen.keys()) {
			if (this.seen.size <= this.maxEntries) break;
			this.seen.delete(id);
		}
	}
}

const processMemories = new Map<string, RedeliveryMemory>();

/**
 * The redelivery memory of one trigger (`key`: workflow and node) in this process. It lives as long
 * as the process; other n8n processes (queue mode's webhook processes, another main) have their own.
 */
export function processRedeliveryMemory(key: string): RedeliveryMemory {
	let memory = processMemories.get(key);
	if (memory === undefined) {
		memory = new RedeliveryMemory();
		processMemories.set(key, memory);
	}
	return memory;
}

/** Forgets a trigger's memory in this process (on activation and deactivation). */
export function dropProcessRedeliveryMemory(key: string): void {
	processMemories.delete(key);
}
