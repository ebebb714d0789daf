/**
 * Answers the simulator never gives, mocked with nock: what real gateways and proxies send back.
 * The node must say clearly what went wrong instead of producing nonsense items.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GenesysMulticloudApi } from '../../credentials/GenesysMulticloudApi.credentials';
import { GenesysDataExport } from '../../nodes/GenesysDataExport/GenesysDataExport.node';
import { createHarness, type Harness } from './harness';

const BASE = 'https://gapi-euw1.genesyscloud.com';
const harnesses: Harness[] = [];

beforeAll(() => nock.disableNetConnect());
afterEach(async () => {
	nock.cleanAll();
	while (harnesses.length) await harnesses.pop()?.close();
});
afterAll(() => nock.enableNetConnect());

function tokenEndpoint() {
	return nock(BASE)
		.post('/auth/v3/oauth/token')
		.reply(200, { access_token: 'tok-1', token_type: 'bearer', expires_in: 3600 });
}

async function execute(parameters: Record<string, unknown>, continueOnFail = false) {
	const h = await createHarness({
		nodeType: new GenesysDataExport(),
		parameters: parameters as never,
		continueOnFail,
		credentials: {
			genesysMulticloudApi: {
				type: new GenesysMulticloudApi(),
				data: {
					region: 'gapi-euw1',
					apiKey: 'k',
					clientId: 'c',
					clientSecret: 's',
					grantType: 'clientCredentials',
				},
			},
		},
	});
	harnesses.push(h);
	return h.execute();
}

describe('Genesys Data Export node: odd answers', () => {
	it('uses the region host and reports an HTML page where JSON was expected', async () => {
		tokenEndpoint();
		nock(BASE)
			.get('/udm/v10/export/jobs/12')
			.reply(200, '<html><body>Gateway maintenance</body></html>', { 'content-type': 'text/html' });
		await expect(execute({ resource: 'job', operation: 'get', jobId: '12' })).rejects.toThrow(
			/not what the User Data Management v10 API returns/,
		);
	});

	it('reads an empty 204 list as no items', async () => {
		tokenEndpoint();
		nock(BASE).get('/udm/v10/export/jobs').query(true).reply(204);
		const [items] = await execute({ resource: 'job', operation: 'getMany', returnAll: true });
		expect(items).toEqual([]);
	});

	it('gives up on a 503 that does not end, with the status, Genesys message and hint', async () => {
		tokenEndpoint();
		nock(BASE)
			.get('/udm/v10/version')
			.times(20)
			.reply(
				503,
				{ status: { code: 503, message: 'Service Unavailable' } },
				{ 'retry-after': '0' },
			);
		const error = await execute({ resource: 'referenceData', operation: 'getVersion' }).then(
			() => undefined,
			(e: Error & { httpCode?: string; description?: string }) => e,
		);
		expect(error?.httpCode).toBe('503');
		expect(error?.message).toMatch(/HTTP 503; Genesys says 503 Service Unavailable/);
		expect(error?.description).toMatch(/retry later/);
	}, 30_000);

	it('follows a download link given as JSON instead of a 303, and never sends credentials to the storage host', async () => {
		tokenEndpoint();
		nock(BASE)
			.get('/udm/v10/files/export-1.zip.smime')
			.reply(200, { path: 'https://storage.example.net/b/export-1.zip.smime?sig=1' });
		const storage = nock('https://storage.example.net', {
			badheaders: ['authorization', 'x-api-key'],
		})
			.get('/b/export-1.zip.smime')
			.query(true)
			.reply(200, Buffer.from('not really encrypted'));
		const [items] = await execute({
			resource: 'file',
			operation: 'download',
			filesOf: 'names',
			fileNames: 'export-1.zip.smime',
			decrypt: false,
		});
		expect(items[0].json).toMatchObject({ fileName: 'export-1.zip.smime', size: 20 });
		expect(storage.isDone()).toBe(true);
	});

	it('follows a storage redirect chain without the Genesys headers', async () => {
		tokenEndpoint();
		nock(BASE)
			.get('/udm/v10/files/export-2.zip.smime')
			.reply(303, '', { location: 'https://edge.example.net/x' });
		nock('https://edge.example.net', { badheaders: ['authorization', 'x-api-key'] })
			.get('/x')
			.reply(302, '', { location: 'https://origin.example.net/y' });
		const origin = nock('https://origin.example.net', {
			badheaders: ['authorization', 'x-api-key'],
		})
			.get('/y')
			.reply(200, Buffer.alloc(1000, 1));
		const [items] = await execute({
			resource: 'file',
			operation: 'download',
			filesOf: 'names',
			fileNames: 'export-2.zip.smime',
			decrypt: false,
		});
		expect(items[0].json.size).toBe(1000);
		expect(origin.isDone()).toBe(true);
	});

	it('explains a 404 on a file with the 30-day retention', async () => {
		tokenEndpoint();
		nock(BASE)
			.get('/udm/v10/files')
			.query({ filename: 'export-old.zip.smime' })
			.reply(404, { status: { code: 404, message: 'File not found' } });
		const [items] = await execute(
			{ resource: 'file', operation: 'getDownloadUrl', fileName: 'export-old.zip.smime' },
			true,
		);
		expect(items[0].json.error).toMatch(/404/);
		expect(`${items[0].json.error} ${items[0].json.errorDescription}`).toMatch(/30-day retention/);
	});
});
