import { describe, expect, it } from 'vitest';
import { ApiError as GenesysApiError } from '../../src/errors';
import { genesysError } from '../../src/genesys/errors';
import {
	jobInfo,
	jobProgress,
	pagedResponse,
	preSignedUri,
	subType,
} from '../../src/genesys/models';

describe('UDM models', () => {
	it('read a JobInfo as documented, keeping fields added by newer versions', () => {
		const job = jobInfo.parse({
			id: 42,
			type: 'ContactHistory',
			source: 'UCS',
			title: 'nightly',
			fileSplitSize: '100MB',
			fileName: 'export-2b71.zip.smime',
			fileSize: 123,
			status: 'COMPLETED',
			createdDate: '2026-11-01T02:00:00Z',
			dateFrom: null,
			dateTo: null,
			description: '',
			media: ['email', 'chat'],
			progress: 100,
			parentId: 7,
			exportAttachments: true,
			somethingNew: 'kept',
		});
		expect(job).toMatchObject({ id: 42, media: ['email', 'chat'], somethingNew: 'kept' });
		expect(() => jobInfo.parse({ title: 'no id' })).toThrow(/id/);
		// The v4 reference's GET jobs/{id} example writes the id as a string: a numeric one is read as a number.
		expect(jobInfo.parse({ id: '42' }).id).toBe(42);
		expect(() => jobInfo.parse({ id: 'x42' })).toThrow();
	});

	it('read paged responses, progress, sub-types and pre-signed URIs', () => {
		const page = pagedResponse(jobInfo).parse({
			count: 2,
			from: 0,
			size: 10,
			items: [{ id: 1 }, { id: 2 }],
		});
		expect(page.items.map((j) => j.id)).toEqual([1, 2]);
		expect(pagedResponse(jobInfo).parse({ count: 0 }).items).toEqual([]);
		expect(jobProgress.parse({ progress: 55, status: 'RUNNING' })).toEqual({
			progress: 55,
			status: 'RUNNING',
		});
		expect(
			subType.parse({
				name: 'InboundNew',
				displayName: 'Inbound new',
				source: 'UCS',
				dataType: 'string',
				enabled: true,
			}).name,
		).toBe('InboundNew');
		expect(preSignedUri.parse({ path: 'https://storage.example/x?sig=1' }).path).toMatch(/^https:/);
	});
});

describe('Genesys API errors', () => {
	it('carry the HTTP status, Genesys code and message, and a hint', () => {
		const error = genesysError(
			403,
			JSON.stringify({ status: { code: 2, message: 'Forbidden: invalid API key' } }),
			'List jobs',
		);
		expect(error).toBeInstanceOf(GenesysApiError);
		expect(error.message).toBe(
			'List jobs failed: HTTP 403; Genesys says 2 Forbidden: invalid API key; check the API key (x-api-key) and that this user may export data',
		);
		expect(error).toMatchObject({ httpStatus: 403, remoteCode: 2 });
	});

	it('hint at retention for a missing file and at credentials for a refused token', () => {
		expect(genesysError(404, '', 'Download export-1.z02.smime', 'file').message).toMatch(
			/30-day retention/,
		);
		expect(
			genesysError(
				401,
				'{"errors":[{"status":{"code":16,"message":"Unauthorized"}}]}',
				'Get token',
				'token',
			).message,
		).toBe(
			'Get token failed: HTTP 401; Genesys says 16 Unauthorized; check the client ID and client secret',
		);
		expect(
			genesysError(
				400,
				'{"error":"invalid_grant","error_description":"Bad credentials"}',
				'Get token',
				'token',
			).message,
		).toBe(
			'Get token failed: HTTP 400; Genesys says invalid_grant: Bad credentials; check the user name (TENANT\\user) and password',
		);
	});

	it('cope with a body that is not JSON', () => {
		expect(genesysError(502, '<html>Bad gateway</html>', 'Get job 7').message).toBe(
			'Get job 7 failed: HTTP 502; a Genesys service error; retry later',
		);
	});
});
