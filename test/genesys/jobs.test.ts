/**
 * Job bodies from node parameters and from jobs read back: pure functions, no HTTP.
 */
import { describe, expect, it } from 'vitest';
import {
	isoDate,
	jobBody,
	jobChangesFromFields,
	jobRequestFromParameters,
	mergeJob,
	splitSize,
	type JobRequest,
} from '../../src/genesys/jobs';
import { exportNameOf, isFileOfRun } from '../../src/genesys/runWatch';

const reader =
	(values: Record<string, unknown>) =>
	<T>(name: string, fallback: T): T =>
		(name in values ? values[name] : fallback) as T;

const request: JobRequest = {
	source: 'UCS',
	type: 'UCS',
	title: 'Nightly',
	timeFrame: { all: true },
	schedulerParam: { immediately: true },
	jobParams: { type: 'Interaction', media: ['chat'] },
	suspended: false,
};

describe('jobs.ts', () => {
	it('reads dates one way, and passes split sizes through as written', () => {
		expect(isoDate('2026-11-01', 'From')).toBe('2026-11-01T00:00:00.000Z');
		expect(isoDate(new Date(0), 'From')).toBe('1970-01-01T00:00:00.000Z');
		expect(isoDate('', 'From')).toBeUndefined();
		expect(() => isoDate('yesterday', 'From')).toThrow(/From "yesterday" is not a date/);
		expect(splitSize(' 100 MB ')).toBe('100 MB');
		expect(splitSize('lots')).toBe('lots');
		expect(splitSize('')).toBeUndefined();
	});

	it('builds the create request from the node parameters: "all" media stays to be resolved, no source is made up', () => {
		const built = jobRequestFromParameters(
			reader({
				source: 'UCS',
				dataType: 'Contact',
				title: ' T ',
				additionalFields: { fileSplitSize: '2 MB' },
			}),
		);
		expect(built).toEqual({
			source: 'UCS',
			type: 'UCS',
			title: 'T',
			timeFrame: { all: true },
			schedulerParam: { immediately: true },
			jobParams: { type: 'Contact', media: 'all', fileSplitSize: '2 MB' },
			suspended: false,
		});
		expect(() => jobRequestFromParameters(reader({ dataType: 'Contact', title: 'T' }))).toThrow(
			/choose the data source/,
		);
		expect(() =>
			jobRequestFromParameters(
				reader({ source: 'UCS', dataType: 'Interaction', allMedia: false, media: [] }),
			),
		).toThrow(/at least one media type/);
		const scheduled = jobRequestFromParameters(
			reader({
				source: 'UCS',
				dataType: 'Interaction',
				run: 'schedule',
				cron: ' 0 0 2 * * ? ',
				runs: 3,
				startDate: '2026-12-01T00:00:00Z',
			}),
		);
		expect(scheduled.schedulerParam).toEqual({
			immediately: false,
			startDate: '2026-12-01T00:00:00.000Z',
			cron: '0 0 2 * * ?',
			runs: '3',
		});
		expect(
			jobRequestFromParameters(
				reader({ source: 'UCS', dataType: 'Interaction', run: 'schedule', cron: 'x' }),
				{ forceImmediate: true },
			).schedulerParam,
		).toEqual({ immediately: true });
	});

	it('writes the v10 body, and the v4/CDDS one without type and exportAttachments, with suspended a string', () => {
		expect(
			jobBody(
				{ ...request, jobParams: { ...request.jobParams, exportAttachments: true } },
				'udm-v10',
			),
		).toEqual({ ...request, jobParams: { ...request.jobParams, exportAttachments: true } });
		for (const flavour of ['udm-v4', 'cdds'] as const) {
			expect(
				jobBody(
					{
						...request,
						jobParams: { ...request.jobParams, fileSplitSize: '5MB', exportAttachments: true },
					},
					flavour,
				),
			).toEqual({
				source: 'UCS',
				title: 'Nightly',
				timeFrame: { all: true },
				fileSplitSize: '5MB',
				schedulerParam: { immediately: true },
				jobParams: { fileSplitSize: '5MB', type: 'Interaction', media: ['chat'] },
				suspended: 'false',
			});
		}
		expect(() =>
			jobBody({ ...request, jobParams: { ...request.jobParams, media: 'all' } }, 'udm-v10'),
		).toThrow(/must be the list/);
		expect(() => jobBody({ ...request, schedulerParam: {} }, 'udm-v10')).toThrow(
			/needs a schedule/,
		);
	});

	it('reads the change fields: empty is no change, except Media Types (empty: all)', () => {
		expect(jobChangesFromFields({ title: '', cron: '', fileSplitSize: '', runs: 0 })).toEqual({});
		expect(jobChangesFromFields({ media: '' })).toEqual({ media: 'all' });
		expect(
			jobChangesFromFields({
				media: 'chat, email',
				dateFrom: '2026-10-01',
				suspended: false,
				immediately: false,
			}),
		).toEqual({
			media: ['chat', 'email'],
			dateFrom: '2026-10-01T00:00:00.000Z',
			suspended: false,
			immediately: false,
		});
	});

	it('merges changes into the job as returned: unknown fields kept, flat and nested copies changed together', () => {
		const returned = {
			id: 3,
			title: 'T',
			source: 'UCS',
			type: 'UCS',
			dateFrom: '2026-10-01T00:00:00Z',
			dateTo: null,
			media: ['chat'],
			future: 1,
			schedulerParam: { cron: 'c' },
			jobParams: { type: 'Interaction', media: ['chat'] },
			suspended: 'true',
		};
		const body = mergeJob(returned, { media: ['email'], all: true }, 'udm-v4', 'update');
		expect(body).toEqual({
			...returned,
			dateFrom: null,
			dateTo: null,
			media: ['email'],
			timeFrame: { all: true },
			jobParams: { type: 'Interaction', media: ['email'] },
			suspended: 'true',
		});
		expect(mergeJob({ ...returned, suspended: true }, {}, 'udm-v4', 'update').suspended).toBe(
			'true',
		);
		expect(mergeJob({ ...returned, suspended: 'false' }, {}, 'udm-v10', 'update').suspended).toBe(
			false,
		);
		const clone = mergeJob(returned, { immediately: true }, 'udm-v10', 'clone');
		expect(clone).not.toHaveProperty('id');
		expect(clone).toMatchObject({
			title: 'T (copy)',
			schedulerParam: { immediately: true },
			suspended: true,
		});
		expect(() =>
			mergeJob({ ...returned, schedulerParam: undefined }, {}, 'udm-v10', 'update'),
		).toThrow(/schedulerParam/);
		expect(() => mergeJob({ ...returned, jobParams: undefined }, {}, 'udm-v10', 'update')).toThrow(
			/jobParams.type/,
		);
		expect(() => mergeJob({ ...returned, suspended: undefined }, {}, 'udm-v10', 'update')).toThrow(
			/suspended/,
		);
		expect(() => mergeJob(returned, { exportAttachments: false }, 'cdds', 'update')).toThrow(
			/v10 API only/,
		);
	});

	it("tells a run's files by historyId, else by its export name, never another run's", () => {
		expect(exportNameOf({ fileName: 'export-1b.zip.smime' })).toBe('export-1b');
		expect(exportNameOf({ filename: 'export-1b.zip' })).toBe('export-1b');
		expect(exportNameOf({ fileName: null })).toBeUndefined();
		for (const name of ['export-1b.z01.smime', 'export-1b.z12.smime', 'export-1b.zip.smime'])
			expect(isFileOfRun({ name }, 7, 'export-1b')).toBe(true);
		for (const name of [
			'export-1bc.zip.smime',
			'export-2.zip.smime',
			'export-1b.zip.smime.bak',
			'xexport-1b.zip.smime',
		])
			expect(isFileOfRun({ name }, 7, 'export-1b')).toBe(false);
		expect(isFileOfRun({ name: 'export-1b.zip.smime', historyId: 8 }, 7, 'export-1b')).toBe(false);
		expect(isFileOfRun({ name: 'anything', historyId: 7 }, 7, undefined)).toBe(true);
	});
});
