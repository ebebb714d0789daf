import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { GenesysInteractionsWebhookApi } from '../../credentials/GenesysInteractionsWebhookApi.credentials';
import { GenesysInteractionsTrigger } from '../../nodes/GenesysInteractionsTrigger/GenesysInteractionsTrigger.node';
import { createHarness, type Harness } from './harness';

const SECRET = 'whsec-7Q2x';
const harnesses: Harness[] = [];
afterEach(async () => {
	while (harnesses.length) await harnesses.pop()?.close();
});

async function trigger(parameters: Record<string, unknown> = {}) {
	const h = await createHarness({
		nodeType: new GenesysInteractionsTrigger(),
		parameters: parameters as never,
		credentials: {
			genesysInteractionsWebhookApi: {
				type: new GenesysInteractionsWebhookApi(),
				data: { appSecret: SECRET },
			},
		},
	});
	harnesses.push(h);
	return h;
}

/** Signed the way Genesys signs: OpenSSL's HMAC-SHA1 of the exact bytes, hex. */
function sign(body: string, secret = SECRET): string {
	return `sha1=${execFileSync('openssl', ['dgst', '-sha1', '-hmac', secret, '-r'], { input: body }).toString().split(' ')[0]}`;
}

function payload(operationId: string, events: Array<[string, string, string]>): string {
	return JSON.stringify({
		operationId,
		data: {
			entities: events.map(([event, id, mediaType]) => ({
				event,
				entity: {
					id,
					mediaType,
					interactionSubtype: 'InboundNew',
					selfUri: `https://nexus.example/nexus/v3/${mediaType}/sessions/${id}`,
				},
			})),
		},
	});
}

describe('Genesys Interactions Trigger', () => {
	it('emits one item per event of a correctly signed request and answers with the EventsResponse', async () => {
		const h = await trigger();
		const body = payload('op-1', [
			['STARTED', 'ixn-1', 'chat'],
			['FINISHED', 'ixn-2', 'email'],
		]);
		const call = await h.webhook({
			body,
			headers: {
				'X-Hub-Signature': sign(body),
				'X-B3-TraceId': 'trace-9',
				'Content-Type': 'application/json',
			},
		});
		expect(call.status).toBe(200);
		expect(call.body).toEqual({
			status: { code: 0, message: 'OK' },
			data: { ids: [{ id: 'ixn-1' }, { id: 'ixn-2' }] },
		});
		expect(call.workflowData?.[0].map((i) => i.json)).toEqual([
			{
				event: 'STARTED',
				entity: expect.objectContaining({ id: 'ixn-1' }),
				id: 'ixn-1',
				mediaType: 'chat',
				interactionSubtype: 'InboundNew',
				selfUri: 'https://nexus.example/nexus/v3/chat/sessions/ixn-1',
				operationId: 'op-1',
				traceId: 'trace-9',
			},
			{
				event: 'FINISHED',
				entity: expect.objectContaining({ id: 'ixn-2' }),
				id: 'ixn-2',
				mediaType: 'email',
				interactionSubtype: 'InboundNew',
				selfUri: 'https://nexus.example/nexus/v3/email/sessions/ixn-2',
				operationId: 'op-1',
				traceId: 'trace-9',
			},
		]);
	});

	it('answers 401 and starts nothing for a bad signature, a missing header or a tampered body', async () => {
		const h = await trigger();
		const body = payload('op-2', [['STARTED', 'ixn-3', 'chat']]);
		const bad = await h.webhook({
			body,
			headers: { 'x-hub-signature': sign(body, 'not-the-secret') },
		});
		expect(bad.status).toBe(401);
		expect(bad.workflowData).toBeUndefined();
		expect(JSON.stringify(bad.body)).not.toContain(SECRET);
		const missing = await h.webhook({ body });
		expect(missing).toMatchObject({
			status: 401,
			body: { status: { message: expect.stringContaining('X-Hub-Signature header is missing') } },
		});
		const tampered = await h.webhook({
			body: body.replace('STARTED', 'FINISHED'),
			headers: { 'x-hub-signature': sign(body) },
		});
		expect(tampered.status).toBe(401);
		expect(tampered.workflowData).toBeUndefined();
		// A rejected request does not count as received: the genuine one still goes through.
		expect(
			(await h.webhook({ body, headers: { 'x-hub-signature': sign(body) } })).workflowData?.[0],
		).toHaveLength(1);
	});

	it('answers 400 with the reason for a signed body that is not the documented JSON', async () => {
		const h = await trigger();
		for (const [body, reason] of [
			['hello', /not JSON/],
			['[]', /the body/],
			['{"operationId":"x","data":{"entities":{}}}', /data\.entities/],
			['{"operationId":"x","data":{"entities":[{"event":5}]}}', /data\.entities\[0\]\.event/],
		] as const) {
			const call = await h.webhook({ body, headers: { 'x-hub-signature': sign(body) } });
			expect(call.status).toBe(400);
			expect(JSON.stringify(call.body)).toMatch(reason);
			expect(call.workflowData).toBeUndefined();
		}
	});

	it('acknowledges a redelivery of the same operation without starting the workflow again', async () => {
		const h = await trigger();
		const body = payload('op-3', [['FINISHED', 'ixn-4', 'chat']]);
		const headers = { 'x-hub-signature': sign(body) };
		expect((await h.webhook({ body, headers })).workflowData?.[0]).toHaveLength(1);
		const again = await h.webhook({ body, headers });
		expect(again.status).toBe(200);
		expect(again.body).toEqual({
			status: { code: 0, message: 'Already received' },
			data: { ids: [{ id: 'ixn-4' }] },
		});
		expect(again.workflowData).toBeUndefined();
		expect((h.staticData.operations as Array<[string, number]>).map(([id]) => id)).toEqual([
			'op-3',
		]);

		const noDedup = await trigger({ options: { redeliveryWindow: 0 } });
		expect((await noDedup.webhook({ body, headers })).workflowData).toBeDefined();
		expect((await noDedup.webhook({ body, headers })).workflowData).toBeDefined();
	});

	it('filters by event and media type, still acknowledging every id', async () => {
		const h = await trigger({ events: ['FINISHED'], mediaTypes: ['email'] });
		const body = payload('op-4', [
			['STARTED', 'a', 'email'],
			['FINISHED', 'b', 'chat'],
			['FINISHED', 'c', 'email'],
		]);
		const call = await h.webhook({ body, headers: { 'x-hub-signature': sign(body) } });
		expect(call.workflowData?.[0].map((i) => i.json.id)).toEqual(['c']);
		expect(call.body).toMatchObject({ data: { ids: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] } });
		const none = payload('op-5', [['STARTED', 'd', 'chat']]);
		const quiet = await h.webhook({ body: none, headers: { 'x-hub-signature': sign(none) } });
		expect(quiet.status).toBe(200);
		expect(quiet.workflowData).toBeUndefined();
	});

	it('checks X-Hub-Signature-256 when Genesys sends it', async () => {
		const h = await trigger();
		const body = payload('op-6', [['STARTED', 'e', 'chat']]);
		const sha256 = `sha256=${execFileSync('openssl', ['dgst', '-sha256', '-hmac', 'other', '-r'], { input: body }).toString().split(' ')[0]}`;
		const call = await h.webhook({
			body,
			headers: { 'x-hub-signature': sign(body), 'x-hub-signature-256': sha256 },
		});
		expect(call.status).toBe(401);
	});

	it('answers 200 with the EventsResponse and starts nothing for a signed delivery without events (data.entities is optional)', async () => {
		const h = await trigger();
		for (const body of [
			'{"operationId":"op-n1","data":{}}',
			'{"operationId":"op-n2"}',
			'{}',
			'{"operationId":"op-n3","data":{"entities":[]}}',
			'{"operationId":"op-n4","data":null}',
			'{"operationId":null,"data":{"entities":null}}',
			// The reference's own example: one Event with none of its (optional) fields.
			'{ "operationId": "f6c49d91-926b-4473-b2f3-8d8fd295c968", "data": { "entities": [{ }] } }',
		]) {
			const call = await h.webhook({ body, headers: { 'x-hub-signature': sign(body) } });
			expect({ body, status: call.status }).toEqual({ body, status: 200 });
			expect(call.body).toEqual({ status: { code: 0, message: 'OK' }, data: { ids: [] } });
			expect(call.workflowData).toBeUndefined();
		}
		// Nothing started, so nothing is remembered: the same operation with events runs.
		const withEvents = payload('op-n1', [['STARTED', 'ixn-n', 'chat']]);
		expect(
			(await h.webhook({ body: withEvents, headers: { 'x-hub-signature': sign(withEvents) } }))
				.workflowData?.[0],
		).toHaveLength(1);
	});

	it('starts one execution for deliveries of one operation that arrive together', async () => {
		const h = await trigger();
		// Five pairs of back-to-back redeliveries: n8n handles each request on its own copy of the
		// workflow's static data, so only the process's memory can see the twin.
		const pairs = await Promise.all(
			[1, 2, 3, 4, 5].map(async (n) => {
				const body = payload(`op-pair-${n}`, [['STARTED', `ixn-pair-${n}`, 'chat']]);
				const headers = { 'x-hub-signature': sign(body) };
				return Promise.all([h.webhook({ body, headers }), h.webhook({ body, headers })]);
			}),
		);
		const calls = pairs.flat();
		expect(calls.map((c) => c.status)).toEqual(Array(10).fill(200));
		expect(calls.filter((c) => c.workflowData !== undefined)).toHaveLength(5);
		for (const [a, b] of pairs) {
			expect([a, b].filter((c) => c.workflowData !== undefined)).toHaveLength(1);
			expect(
				[a, b].map((c) => (c.body as { status: { message: string } }).status.message).sort(),
			).toEqual(['Already received', 'OK']);
		}
		// Twenty at once, and later ones: still one.
		const body = payload('op-burst', [['FINISHED', 'ixn-burst', 'email']]);
		const headers = { 'x-hub-signature': sign(body) };
		const burst = await Promise.all(Array.from({ length: 20 }, () => h.webhook({ body, headers })));
		expect(burst.filter((c) => c.workflowData !== undefined)).toHaveLength(1);
		expect((await h.webhook({ body, headers })).workflowData).toBeUndefined();
	});

	it('treats operation ids named like Object.prototype members as any other id', async () => {
		const h = await trigger();
		const names = [
			'__proto__',
			'constructor',
			'hasOwnProperty',
			'toString',
			'valueOf',
			'__defineGetter__',
		];
		for (const operationId of names) {
			const body = payload(operationId, [['STARTED', `ixn-${operationId}`, 'chat']]);
			const headers = { 'x-hub-signature': sign(body) };
			const first = await h.webhook({ body, headers });
			expect({ operationId, started: first.workflowData?.[0]?.[0]?.json.operationId }).toEqual({
				operationId,
				started: operationId,
			});
			const again = await h.webhook({ body, headers });
			expect({
				operationId,
				status: again.status,
				started: again.workflowData !== undefined,
			}).toEqual({ operationId, status: 200, started: false });
		}
		expect((h.staticData.operations as Array<[string, number]>).map(([id]) => id)).toEqual(names);
		expect(Object.getPrototypeOf(h.staticData)).toBe(Object.prototype);
	});

	it('accepts the redelivery of a delivery whose execution could not be started', async () => {
		const h = await trigger();
		const body = payload('op-fail', [['STARTED', 'ixn-fail', 'chat']]);
		const headers = { 'x-hub-signature': sign(body) };
		const failed = await h.webhook({ body, headers, startFails: true });
		expect(failed.status).toBe(500);
		const again = await h.webhook({ body, headers });
		expect(again.status).toBe(200);
		expect(again.workflowData?.[0].map((i) => i.json.id)).toEqual(['ixn-fail']);
		expect((await h.webhook({ body, headers })).workflowData).toBeUndefined();
	});

	it('recognises an operation another n8n process stored, in this and the earlier format', async () => {
		const h = await trigger();
		h.staticData.operations = [['op-elsewhere', Date.now() - 60_000]];
		const body = payload('op-elsewhere', [['STARTED', 'ixn-else', 'chat']]);
		const call = await h.webhook({ body, headers: { 'x-hub-signature': sign(body) } });
		expect(call).toMatchObject({ status: 200, body: { status: { message: 'Already received' } } });
		expect(call.workflowData).toBeUndefined();

		const legacy = await trigger();
		legacy.staticData.operations = JSON.parse(
			`{"op-legacy": ${Date.now()}, "__proto__": ${Date.now()}}`,
		) as never;
		for (const operationId of ['op-legacy', '__proto__']) {
			const old = payload(operationId, [['STARTED', 'ixn-old', 'chat']]);
			expect(
				(await legacy.webhook({ body: old, headers: { 'x-hub-signature': sign(old) } }))
					.workflowData,
			).toBeUndefined();
		}
		const fresh = payload('op-new', [['STARTED', 'ixn-new', 'chat']]);
		expect(
			(await legacy.webhook({ body: fresh, headers: { 'x-hub-signature': sign(fresh) } }))
				.workflowData,
		).toBeDefined();
	});

	it('does not deduplicate test runs from the editor', async () => {
		const h = await trigger();
		const body = payload('op-test', [['STARTED', 'ixn-test', 'chat']]);
		const headers = { 'x-hub-signature': sign(body) };
		expect((await h.webhook({ body, headers, mode: 'manual' })).workflowData).toBeDefined();
		expect((await h.webhook({ body, headers, mode: 'manual' })).workflowData).toBeDefined();
	});
});
