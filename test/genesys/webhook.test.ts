import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
	eventsOf,
	eventsResponse,
	hubSignature,
	parseEventsPayload,
	RedeliveryMemory,
	verifyHubSignature,
} from '../../src/genesys/webhook';

const secret = 'app-secret-ä-123';
const body = Buffer.from(
	'{"operationId":"f6c49d91-926b-4473-b2f3-8d8fd295c968","data":{"entities":[{"event":"STARTED","entity":{"id":"8e09e19f","mediaType":"chat","interactionSubtype":"InboundNew","selfUri":"https://nexus.example/nexus/v3/chat/sessions/49a0"}}]}}\n',
);

/** The HMAC as OpenSSL computes it, independent of our code. */
function opensslHmac(algorithm: 'sha1' | 'sha256', data: Buffer, key: string): string {
	const out = execFileSync('openssl', ['dgst', `-${algorithm}`, '-hmac', key, '-r'], {
		input: data,
	}).toString('utf8');
	return `${algorithm}=${out.split(' ')[0]}`;
}

describe('Interactions webhook signature', () => {
	it('accepts the sha1 signature OpenSSL computes over the raw bytes', () => {
		const signature = opensslHmac('sha1', body, secret);
		expect(hubSignature(body, secret)).toBe(signature);
		expect(verifyHubSignature(body, secret, { 'x-hub-signature': signature })).toEqual({
			ok: true,
			checked: ['sha1'],
		});
	});

	it('checks X-Hub-Signature-256 too when it is present', () => {
		const headers = {
			'x-hub-signature': opensslHmac('sha1', body, secret),
			'x-hub-signature-256': opensslHmac('sha256', body, secret),
		};
		expect(verifyHubSignature(body, secret, headers)).toEqual({
			ok: true,
			checked: ['sha1', 'sha256'],
		});
		const bad = { ...headers, 'x-hub-signature-256': opensslHmac('sha256', body, 'other') };
		expect(verifyHubSignature(body, secret, bad)).toMatchObject({
			ok: false,
			reason: expect.stringContaining('X-Hub-Signature-256 does not match'),
		});
	});

	it('accepts upper-case hex and header names in any case', () => {
		const signature = hubSignature(body, secret)
			.replace(/[a-f]/g, (c) => c.toUpperCase())
			.replace('SHA1=', 'sha1=');
		expect(verifyHubSignature(body, secret, { 'X-Hub-Signature': signature }).ok).toBe(true);
	});

	it('refuses a missing header, a wrong secret, a tampered body and a malformed header', () => {
		expect(verifyHubSignature(body, secret, {})).toEqual({
			ok: false,
			reason: 'X-Hub-Signature header is missing',
		});
		expect(
			verifyHubSignature(body, secret, { 'x-hub-signature': hubSignature(body, 'wrong') }),
		).toMatchObject({ ok: false, reason: expect.stringContaining('does not match') });
		const tampered = Buffer.from(body.toString().replace('STARTED', 'FINISHED'));
		expect(
			verifyHubSignature(tampered, secret, { 'x-hub-signature': hubSignature(body, secret) }).ok,
		).toBe(false);
		// Re-serialising the JSON changes the bytes: the check must be over what was received.
		const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
		expect(
			verifyHubSignature(reserialised, secret, { 'x-hub-signature': hubSignature(body, secret) })
				.ok,
		).toBe(false);
		for (const header of [
			'sha1',
			'sha1=',
			'md5=' + 'a'.repeat(40),
			'sha1=' + 'z'.repeat(40),
			'sha1=' + 'a'.repeat(38),
			hubSignature(body, secret, 'sha256'),
		]) {
			expect(verifyHubSignature(body, secret, { 'x-hub-signature': header })).toMatchObject({
				ok: false,
				reason: expect.stringContaining('is not "sha1="'),
			});
		}
		expect(
			verifyHubSignature(body, secret, {
				'x-hub-signature': [hubSignature(body, secret), hubSignature(body, secret)],
			}),
		).toMatchObject({ ok: false });
		expect(
			verifyHubSignature(body, '', { 'x-hub-signature': hubSignature(body, '') }),
		).toMatchObject({ ok: false, reason: expect.stringContaining('no app secret') });
	});

	it('never puts the secret or the expected digest in a reason', () => {
		const result = verifyHubSignature(body, secret, { 'x-hub-signature': hubSignature(body, 'x') });
		expect(result.ok).toBe(false);
		const reason = result.ok ? '' : result.reason;
		expect(reason).not.toContain(secret);
		expect(reason).not.toContain(hubSignature(body, secret).slice(5));
	});
});

describe('Interactions webhook payload', () => {
	it('parses the documented EventsPayload and keeps unknown fields', () => {
		const result = parseEventsPayload(
			Buffer.from(
				JSON.stringify({
					operationId: 'op-1',
					extra: 1,
					data: {
						entities: [
							{ event: 'FINISHED', entity: { id: 'i-1', mediaType: 'email', custom: true } },
						],
					},
				}),
			),
		);
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.payload.operationId).toBe('op-1');
		expect(eventsOf(result.payload)[0]).toMatchObject({
			event: 'FINISHED',
			entity: { id: 'i-1', mediaType: 'email', custom: true },
		});
	});

	it('says what is wrong and where', () => {
		expect(parseEventsPayload(Buffer.from('not json'))).toMatchObject({
			ok: false,
			reason: expect.stringContaining('not JSON'),
		});
		expect(parseEventsPayload(Buffer.from('[]'))).toMatchObject({
			ok: false,
			reason: expect.stringContaining('the body'),
		});
		expect(parseEventsPayload(Buffer.from('{"operationId":"x","data":[]}'))).toMatchObject({
			ok: false,
			reason: expect.stringMatching(/^data:/),
		});
		expect(parseEventsPayload(Buffer.from('{"operationId":7}'))).toMatchObject({
			ok: false,
			reason: expect.stringMatching(/^operationId:/),
		});
		expect(parseEventsPayload(Buffer.from('{"data":{"entities":"STARTED"}}'))).toMatchObject({
			ok: false,
			reason: expect.stringMatching(/^data\.entities:/),
		});
		expect(
			parseEventsPayload(Buffer.from('{"data":{"entities":[{"event":"STARTED"},{"event":5}]}}')),
		).toMatchObject({ ok: false, reason: expect.stringMatching(/^data\.entities\[1\]\.event:/) });
	});

	it('takes a body without operationId, data or data.entities (all optional in the reference) as one without events', () => {
		for (const text of [
			'{}',
			'{"operationId":"x"}',
			'{"operationId":"x","data":{}}',
			'{"data":null}',
			'{"data":{"entities":null}}',
			'{"data":{"entities":[]}}',
		]) {
			const result = parseEventsPayload(Buffer.from(text));
			expect(result.ok, text).toBe(true);
			if (result.ok) expect(eventsOf(result.payload), text).toEqual([]);
		}
		const example = parseEventsPayload(
			Buffer.from(
				'{ "operationId": "f6c49d91-926b-4473-b2f3-8d8fd295c968", "data": { "entities": [{ }] } }',
			),
		);
		expect(example.ok && eventsOf(example.payload)).toEqual([{}]);
	});

	it('answers with the documented EventsResponse', () => {
		expect(eventsResponse(['a', 'b'])).toEqual({
			status: { code: 0, message: 'OK' },
			data: { ids: [{ id: 'a' }, { id: 'b' }] },
		});
	});
});

describe('RedeliveryMemory', () => {
	it('claims an operation id once within the window, and again after it', () => {
		const memory = new RedeliveryMemory();
		expect(memory.claim('op', 1000, 60_000)).toMatchObject({ operationId: 'op', at: 1000 });
		expect(memory.claim('op', 30_000, 60_000)).toBeUndefined();
		expect(memory.has('op', 30_000, 60_000)).toBe(true);
		expect(memory.claim('other', 30_000, 60_000)).toBeDefined();
		expect(memory.claim('op', 62_000, 60_000)).toBeDefined();
		expect(memory.toJSON()).toEqual([
			['other', 30_000],
			['op', 62_000],
		]);
	});

	it('drops ids past the window and keeps at most maxEntries, the oldest going first', () => {
		const memory = new RedeliveryMemory(5);
		for (let i = 0; i < 10; i++) memory.claim(`op-${i}`, i, 1e9);
		expect(memory.toJSON().map(([id]) => id)).toEqual(['op-5', 'op-6', 'op-7', 'op-8', 'op-9']);
		memory.claim('late', 1000, 993);
		expect(memory.toJSON().map(([id]) => id)).toEqual(['op-7', 'op-8', 'op-9', 'late']);
		expect(() => new RedeliveryMemory(0)).toThrow(RangeError);
	});

	it('takes names of Object.prototype members as ordinary ids', () => {
		const memory = new RedeliveryMemory();
		for (const id of [
			'__proto__',
			'constructor',
			'hasOwnProperty',
			'toString',
			'valueOf',
			'isPrototypeOf',
		]) {
			expect(memory.has(id, 0, 60_000), id).toBe(false);
			expect(memory.claim(id, 0, 60_000), id).toBeDefined();
			expect(memory.claim(id, 1, 60_000), id).toBeUndefined();
		}
		expect(memory.size).toBe(6);
		const copy = RedeliveryMemory.fromJSON(JSON.parse(JSON.stringify(memory.toJSON())));
		expect(copy.toJSON()).toEqual(memory.toJSON());
		expect(copy.has('__proto__', 1, 60_000)).toBe(true);
	});

	it('releases a claim only while it is the current one', () => {
		const memory = new RedeliveryMemory();
		const first = memory.claim('op', 0, 10);
		first?.release();
		expect(memory.has('op', 1, 10)).toBe(false);
		const second = memory.claim('op', 1, 10);
		expect(second).toBeDefined();
		// A stale claim does not drop the newer one.
		first?.release();
		expect(memory.has('op', 2, 10)).toBe(true);
		second?.release();
		expect(memory.size).toBe(0);
	});

	it('reads the stored pairs and the object of earlier versions, ignoring anything else', () => {
		expect(
			RedeliveryMemory.fromJSON([
				['b', 2],
				['a', 1],
				['bad'],
				'x',
				['c', 'three'],
				['d', Number.NaN],
			]).toJSON(),
		).toEqual([
			['a', 1],
			['b', 2],
		]);
		const legacy = JSON.parse('{"op-1": 5, "__proto__": 7, "constructor": "x"}') as unknown;
		expect(RedeliveryMemory.fromJSON(legacy).toJSON()).toEqual([
			['op-1', 5],
			['__proto__', 7],
		]);
		for (const value of [undefined, null, 5, 'x'])
			expect(RedeliveryMemory.fromJSON(value).size).toBe(0);
		expect(
			RedeliveryMemory.fromJSON(
				[
					['a', 1],
					['b', 2],
					['c', 3],
				],
				2,
			).toJSON(),
		).toEqual([
			['b', 2],
			['c', 3],
		]);
	});
});
