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

export type SignatureResult = { ok: true; checked: Array<'sha1' | 'sha256'> } | { ok: false; reason: string };

const SIGNATURE = {
	sha1: { header: 'X-Hub-Signature', prefix: 'sha1=', hexLength: 40 },
	sha256: { header: 'X-Hub-Signature-256', prefix: 'sha256=', hexLength: 64 },
} as const;

function headerValue(value: string | string[] | undefined): string | undefined {
	if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
	return value;
}

function checkOne(algorithm: 'sha1' | 'sha256', given: string, rawBody: Buffer, secret: string | Buffer): string | undefined {
	const { header, prefix, hexLength } = SIGNATURE[algorithm];
	const text = given.trim();
	if (!text.toLowerCase().startsWith(prefix) || text.length !== prefix.length + hexLength || !/^[0-9a-f]+$/i.test(text.slice(prefix.length))) {
		return `${header} is not "${prefix}" followed by ${hexLength} hex digits`;
	}
	const expected = createHmac(algorithm, secret).update(rawBody).digest();
	const received = Buffer.from(text.slice(prefix.length), 'hex');
	// Both are digests of the same fixed length here, so only their content is compared, in constant time.
	return timingSafeEqual(expected, received) ? undefined : `${header} does not match the body (wrong app secret, or the body was changed on the way)`;
}

/**
 * Checks the signatures of a webhook request. `headers` are the request's headers (any case of
 * names as Node gives them: lower case). A missing `X-Hub-Signature` fails; `X-Hub-Signature-256`
 * is checked when present. Reasons never contain the secret or the expected digest.
 */
export function verifyHubSignature(rawBody: Buffer, secret: string | Buffer, headers: Record<string, string | string[] | undefined>): SignatureResult {
	if (secret.length === 0) return { ok: false, reason: 'no app secret is set in the credential' };
	const lower: Record<string, string | string[] | undefined> = {};
	for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
	const sha1 = headerValue(lower['x-hub-signature']);
	const sha256 = headerValue(lower['x-hub-signature-256']);
	if (sha1 === undefined && Array.isArray(lower['x-hub-signature'])) return { ok: false, reason: 'X-Hub-Signature was sent more than once' };
	if (sha1 === undefined) return { ok: false, reason: 'X-Hub-Signature header is missing' };
	const checked: Array<'sha1' | 'sha256'> = [];
	const problem1 = checkOne('sha1', sha1, rawBody, secret);
	if (problem1) return { ok: false, reason: problem1 };
	checked.push('sha1');
	if (lower['x-hub-signature-256'] !== undefined) {
		if (sha256 === undefined) return { ok: false, reason: 'X-Hub-Signature-256 was sent more than once' };
		const problem256 = checkOne('sha256', sha256, rawBody, secret);
		if (problem256) return { ok: false, reason: problem256 };
		checked.push('sha256');
	}
	return { ok: true, checked };
}

/** `sha1=<hex>` for a body, as Genesys signs it (for simulators and tests). */
export function hubSignature(rawBody: Buffer | string, secret: string | Buffer, algorithm: 'sha1' | 'sha256' = 'sha1'): string {
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

/** EventsPayload: `{ operationId, data: { entities: [Event] } }`. */
export const eventsPayload = z.looseObject({
	operationId: optString,
	data: z.looseObject({ entities: z.array(interactionEvent) }),
});

export type InteractionEvent = z.infer<typeof interactionEvent>;
export type EventsPayload = z.infer<typeof eventsPayload>;

export type PayloadResult = { ok: true; payload: EventsPayload } | { ok: false; reason: string };

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
		const where = issue.path.length > 0 ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : 'the body';
		return { ok: false, reason: `${where}: ${issue.message} (expected {"operationId": "…", "data": {"entities": [{"event": "STARTED", "entity": {…}}]}})` };
	}
	return { ok: true, payload: parsed.data };
}

/** The EventsResponse Genesys expects with 200: the ids accepted. */
export function eventsResponse(ids: string[], message = 'OK'): { status: { code: number; message: string }; data: { ids: Array<{ id: string }> } } {
	return { status: { code: 0, message }, data: { ids: ids.map((id) => ({ id })) } };
}

/**
 * Operation ids seen recently, kept in a plain object (an n8n workflow's static data):
 * `operationId → epoch ms first seen`. Entries older than the window are dropped, and at most
 * `maxEntries` are kept (the oldest go first).
 */
export function isRedelivery(seen: Record<string, number>, operationId: string, now: number, windowMs: number, maxEntries = 5000): boolean {
	for (const [id, at] of Object.entries(seen)) if (now - at > windowMs) delete seen[id];
	const first = seen[operationId];
	if (first !== undefined) return true;
	seen[operationId] = now;
	const ids = Object.keys(seen);
	if (ids.length > maxEntries) {
		ids.sort((a, b) => seen[a] - seen[b]);
		for (const id of ids.slice(0, ids.length - maxEntries)) delete seen[id];
	}
	return false;
}
