/**
 * Export job bodies, as the API reference shows them per version, from the node's settings or
 * from a job read back from the tenant. Pure functions: no request is made here.
 *
 * - UDM v10 `Job`: `source`, `type` (UCS or DataSync), `title`, `timeFrame`, `description`,
 *   `schedulerParam`, `jobParams {fileSplitSize, type, media, exportAttachments}`, `suspended`
 *   (boolean, required).
 * - UDM v4 and CDDS `Job`: no top-level `type`, no `exportAttachments`, `fileSplitSize` at the top
 *   level as well as in `jobParams`, `suspended` a string (required).
 *
 * Update and Clone send back every field the tenant returned (unknown ones included) with only
 * the user's changes applied. A field the body needs that the tenant did not return is taken from
 * the returned field of the same meaning (JobInfo's `dateFrom`/`dateTo`, `media`, `fileSplitSize`,
 * `exportAttachments`) or asked of the user: nothing is guessed (no run-now schedule, no
 * unsuspending, no data type taken from the job type).
 */
import { CxError } from '../errors';
import type { ApiFlavour } from './client';

export interface TimeFrame {
	all?: boolean;
	dateFrom?: string;
	dateTo?: string;
}

export interface SchedulerParam {
	immediately?: boolean;
	cron?: string;
	runs?: string;
	startDate?: string;
}

/**
 * A new job's settings, whatever the API version: the v10 body's fields. `createJob` writes the
 * body each version takes from it (see `jobBody`).
 */
export interface JobRequest {
	source: string;
	/** The job type, UCS or DataSync: v10 only (required there). */
	type?: string;
	title: string;
	timeFrame: TimeFrame;
	description?: string;
	schedulerParam: SchedulerParam;
	jobParams: {
		/** Passed through as written: the reference types it as a plain string. */
		fileSplitSize?: string;
		/** The data type: Interaction or Contact. */
		type: string;
		/** The media types; `'all'` is resolved to the tenant's full list before sending. */
		media: string[] | 'all';
		/** v10 only. */
		exportAttachments?: boolean;
	};
	suspended: boolean;
}

/** A request body as sent: JSON. */
export type JobBody = Record<string, unknown>;

/** What Update and Clone change; anything not set is sent back as the tenant returned it. */
export interface JobChanges {
	title?: string;
	description?: string;
	/** true: export all data (the dates are dropped). */
	all?: boolean;
	dateFrom?: string;
	dateTo?: string;
	/** true: run once, now; false: keep the schedule's other settings, not immediate. */
	immediately?: boolean;
	cron?: string;
	startDate?: string;
	runs?: number;
	fileSplitSize?: string;
	exportAttachments?: boolean;
	/** A list, or 'all' (resolved to the tenant's full list before sending). */
	media?: string[] | 'all';
	/** The data type (jobParams.type): Interaction or Contact. */
	dataType?: string;
	suspended?: boolean;
}

const isV10 = (flavour: ApiFlavour) => flavour === 'udm-v10';
const isRecord = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

// ---- small values ------------------------------------------------------------------------------

/** A date as ISO 8601 UTC; undefined for empty. The one place dates of job settings are read. */
export function isoDate(value: unknown, field: string): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const text = value instanceof Date ? value.toISOString() : String(value).trim();
	const time = Date.parse(text);
	if (Number.isNaN(time))
		throw new CxError(
			'USAGE',
			`${field} "${text}" is not a date: use ISO 8601, e.g. 2026-11-01T00:00:00Z`,
		);
	return new Date(time).toISOString();
}

/**
 * A file split size as the API takes it: a plain string, passed through as written (trimmed);
 * undefined for empty. The reference gives no format, so none is imposed here.
 */
export function splitSize(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	const text = String(value).trim();
	return text === '' ? undefined : text;
}

/** `suspended` as the version's body types it: a boolean on v10, a string on v4 and CDDS. */
function suspendedFor(flavour: ApiFlavour, value: boolean): boolean | string {
	return isV10(flavour) ? value : String(value);
}

/** Reads `suspended` as either version writes it. */
function suspendedValue(value: unknown): boolean | undefined {
	if (typeof value === 'boolean') return value;
	if (typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
		return value.trim().toLowerCase() === 'true';
	return undefined;
}

// ---- checks ---------------------------------------------------------------------------------------

function checkTimeFrame(timeFrame: TimeFrame): void {
	const { all, dateFrom, dateTo } = timeFrame;
	if (all) return;
	if (!dateFrom && !dateTo)
		throw new CxError('USAGE', 'the export time frame needs a start or an end date, or "all"');
	const from = isoDate(dateFrom, 'timeFrame.dateFrom');
	const to = isoDate(dateTo, 'timeFrame.dateTo');
	if (from && to && Date.parse(from) > Date.parse(to))
		throw new CxError('USAGE', `the time frame starts (${dateFrom}) after it ends (${dateTo})`);
}

function checkSchedule(schedule: SchedulerParam): void {
	isoDate(schedule.startDate, 'schedulerParam.startDate');
	if (!schedule.immediately && !schedule.cron && !schedule.startDate) {
		throw new CxError(
			'USAGE',
			'the job needs a schedule: run immediately, a start date or a cron expression',
		);
	}
}

function required(value: unknown, what: string): string {
	if (typeof value !== 'string' || value.trim() === '')
		throw new CxError('USAGE', `the export job is incomplete: ${what} is required`);
	return value;
}

// ---- create -----------------------------------------------------------------------------------------

/**
 * The create body for `flavour`, as the reference shows it. `media` must already be a list (see
 * `JobRequest`). Throws USAGE naming what is missing or not valid.
 */
export function jobBody(request: JobRequest, flavour: ApiFlavour): JobBody {
	const source = required(request.source, 'source');
	const title = required(request.title?.trim(), 'title');
	const dataType = required(request.jobParams?.type, 'jobParams.type (the data type)');
	const media = request.jobParams.media;
	if (!Array.isArray(media))
		throw new CxError(
			'USAGE',
			'the export job is incomplete: jobParams.media must be the list of media types',
		);
	if (!isRecord(request.timeFrame))
		throw new CxError('USAGE', 'the export job is incomplete: timeFrame is required');
	if (!isRecord(request.schedulerParam))
		throw new CxError('USAGE', 'the export job is incomplete: schedulerParam is required');
	checkTimeFrame(request.timeFrame);
	checkSchedule(request.schedulerParam);
	const fileSplitSize = splitSize(request.jobParams.fileSplitSize);
	const description =
		request.description === undefined || request.description === ''
			? {}
			: { description: request.description };
	if (isV10(flavour)) {
		const type = required(request.type, 'type (the job type: UCS or DataSync)');
		return {
			source,
			type,
			title,
			timeFrame: request.timeFrame,
			...description,
			schedulerParam: request.schedulerParam,
			jobParams: {
				...(fileSplitSize ? { fileSplitSize } : {}),
				type: dataType,
				media,
				...(request.jobParams.exportAttachments !== undefined
					? { exportAttachments: request.jobParams.exportAttachments }
					: {}),
			},
			suspended: request.suspended,
		};
	}
	if (request.jobParams.exportAttachments === false) throw noAttachmentSetting(flavour);
	return {
		source,
		title,
		timeFrame: request.timeFrame,
		...(fileSplitSize ? { fileSplitSize } : {}),
		...description,
		schedulerParam: request.schedulerParam,
		jobParams: { ...(fileSplitSize ? { fileSplitSize } : {}), type: dataType, media },
		suspended: suspendedFor(flavour, request.suspended),
	};
}

/** Reads a parameter of the node (n8n's getNodeParameter for one item). */
export type ParameterReader = <T>(name: string, fallback: T) => T;

/** The settings of a new job from the node's Create fields. */
export function jobRequestFromParameters(
	get: ParameterReader,
	options: { forceImmediate?: boolean } = {},
): JobRequest {
	const additional = get<Record<string, unknown>>('additionalFields', {});
	const run = options.forceImmediate ? 'immediately' : get<string>('run', 'immediately');
	const allMedia = get<boolean>('allMedia', true);
	const media = allMedia ? 'all' : get<string[]>('media', []);
	// The guide: with the "all media types" slider off, at least one type is selected.
	if (media !== 'all' && media.length === 0)
		throw new CxError('USAGE', 'choose at least one media type, or switch on "All Media Types"');
	let schedulerParam: SchedulerParam;
	if (run === 'immediately') {
		schedulerParam = { immediately: true };
	} else {
		const startDate = isoDate(get('startDate', ''), 'Start Date');
		const cron = get<string>('cron', '').trim();
		const runs = Number(get<number>('runs', 0));
		schedulerParam = {
			immediately: false,
			...(startDate ? { startDate } : {}),
			...(cron ? { cron } : {}),
			...(runs > 0 ? { runs: String(runs) } : {}),
		};
		if (!startDate && !cron)
			throw new CxError('USAGE', 'a scheduled job needs a start date or a cron expression');
	}
	const range = get<string>('timeFrame', 'all') !== 'all';
	const dateFrom = range ? isoDate(get('dateFrom', ''), 'From') : undefined;
	const dateTo = range ? isoDate(get('dateTo', ''), 'To') : undefined;
	const source = get<string>('source', '').trim();
	if (!source) throw new CxError('USAGE', 'choose the data source (Contact History)');
	const dataType = get<string>('dataType', '').trim();
	if (!dataType) throw new CxError('USAGE', 'choose the data type (Interaction or Contact)');
	const fileSplitSize = splitSize(additional.fileSplitSize);
	return {
		source,
		type:
			typeof additional.jobType === 'string' && additional.jobType !== ''
				? additional.jobType
				: 'UCS',
		title: get<string>('title', '').trim(),
		timeFrame: range
			? { all: false, ...(dateFrom ? { dateFrom } : {}), ...(dateTo ? { dateTo } : {}) }
			: { all: true },
		...(additional.description ? { description: String(additional.description) } : {}),
		schedulerParam,
		jobParams: {
			type: dataType,
			media,
			...(fileSplitSize ? { fileSplitSize } : {}),
			...(additional.exportAttachments !== undefined
				? { exportAttachments: Boolean(additional.exportAttachments) }
				: {}),
		},
		suspended: Boolean(additional.suspended ?? false),
	};
}

// ---- update and clone -------------------------------------------------------------------------------

/** The node's Update/Clone change fields as changes (empty fields are no change, except Media Types: empty is "all"). */
export function jobChangesFromFields(fields: Record<string, unknown>): JobChanges {
	const changes: JobChanges = {};
	if (typeof fields.title === 'string' && fields.title.trim() !== '')
		changes.title = fields.title.trim();
	if (fields.description !== undefined) changes.description = String(fields.description);
	if (fields.all === true) changes.all = true;
	const dateFrom = isoDate(fields.dateFrom, 'From');
	const dateTo = isoDate(fields.dateTo, 'To');
	if (dateFrom) changes.dateFrom = dateFrom;
	if (dateTo) changes.dateTo = dateTo;
	if (typeof fields.immediately === 'boolean') changes.immediately = fields.immediately;
	if (typeof fields.cron === 'string' && fields.cron.trim() !== '')
		changes.cron = fields.cron.trim();
	const startDate = isoDate(fields.startDate, 'Start Date');
	if (startDate) changes.startDate = startDate;
	if (typeof fields.runs === 'number' && fields.runs > 0) changes.runs = fields.runs;
	const split = splitSize(fields.fileSplitSize);
	if (split) changes.fileSplitSize = split;
	if (typeof fields.exportAttachments === 'boolean')
		changes.exportAttachments = fields.exportAttachments;
	if (fields.media !== undefined) {
		const list = (
			Array.isArray(fields.media) ? fields.media.map(String) : String(fields.media).split(',')
		)
			.map((m) => m.trim())
			.filter(Boolean);
		changes.media = list.length === 0 ? 'all' : list;
	}
	if (typeof fields.dataType === 'string' && fields.dataType.trim() !== '')
		changes.dataType = fields.dataType.trim();
	if (typeof fields.suspended === 'boolean') changes.suspended = fields.suspended;
	return changes;
}

/** Fields of a job read back that describe the original job, not its settings: not sent when cloning. */
const CLONE_DROPS = ['id'];

/**
 * The body that updates (or clones) `current`, a job as the tenant returned it: every returned
 * field, unknown ones included, with `changes` applied. `changes.media` must already be a list.
 * Throws USAGE naming the setting to give when the tenant did not return one the body needs.
 */
export function mergeJob(
	current: Record<string, unknown>,
	changes: JobChanges,
	flavour: ApiFlavour,
	mode: 'update' | 'clone',
): JobBody {
	if (changes.media === 'all')
		throw new CxError('USAGE', 'internal: the media types must be resolved before merging');
	const body: JobBody = structuredClone(current);
	const id = current.id ?? '?';
	if (mode === 'clone') for (const field of CLONE_DROPS) delete body[field];
	const missing = (what: string, field: string) =>
		new CxError(
			'USAGE',
			`Genesys did not return ${what} of job ${id} (${field}), which the ${mode === 'update' ? 'update' : 'clone'} must send: set ${fieldHint(field)} so it is not guessed`,
		);

	// Mirrors: a field kept both flat (JobInfo) and in a settings object gets the same change.
	const setFlat = (name: string, value: unknown) => {
		if (name in body) body[name] = value;
	};

	// timeFrame: returned, else from JobInfo's dateFrom/dateTo (no dates: all data).
	let timeFrame: TimeFrame = isRecord(body.timeFrame)
		? { ...(body.timeFrame as TimeFrame) }
		: ((from, to) =>
				from || to
					? { all: false, ...(from ? { dateFrom: from } : {}), ...(to ? { dateTo: to } : {}) }
					: { all: true })(stringOrUndefined(body.dateFrom), stringOrUndefined(body.dateTo));
	if (changes.all) timeFrame = { all: true };
	if (changes.dateFrom) timeFrame = { ...timeFrame, all: false, dateFrom: changes.dateFrom };
	if (changes.dateTo) timeFrame = { ...timeFrame, all: false, dateTo: changes.dateTo };
	if (changes.all || changes.dateFrom || changes.dateTo) {
		setFlat('dateFrom', timeFrame.all ? null : (timeFrame.dateFrom ?? null));
		setFlat('dateTo', timeFrame.all ? null : (timeFrame.dateTo ?? null));
	}
	body.timeFrame = timeFrame;

	// schedulerParam: returned, or given now; never made up.
	const scheduleChanged =
		changes.immediately !== undefined ||
		changes.cron !== undefined ||
		changes.startDate !== undefined ||
		changes.runs !== undefined;
	let schedule: SchedulerParam | undefined = isRecord(body.schedulerParam)
		? { ...(body.schedulerParam as SchedulerParam) }
		: undefined;
	if (!schedule && !scheduleChanged) throw missing('the schedule', 'schedulerParam');
	schedule ??= {};
	if (changes.immediately === true) schedule = { immediately: true };
	if (changes.immediately === false) schedule = { ...schedule, immediately: false };
	if (changes.cron) schedule = { ...schedule, immediately: false, cron: changes.cron };
	if (changes.startDate)
		schedule = { ...schedule, immediately: false, startDate: changes.startDate };
	if (changes.runs !== undefined) schedule = { ...schedule, runs: String(changes.runs) };
	body.schedulerParam = schedule;

	// jobParams: returned, else from JobInfo's media/fileSplitSize/exportAttachments; the data type is never taken from the job type.
	const params: Record<string, unknown> = isRecord(body.jobParams) ? { ...body.jobParams } : {};
	if (!('media' in params) && Array.isArray(body.media)) params.media = body.media;
	if (
		!('fileSplitSize' in params) &&
		typeof body.fileSplitSize === 'string' &&
		body.fileSplitSize !== ''
	)
		params.fileSplitSize = body.fileSplitSize;
	if (
		isV10(flavour) &&
		!('exportAttachments' in params) &&
		typeof body.exportAttachments === 'boolean'
	)
		params.exportAttachments = body.exportAttachments;
	if (changes.dataType) params.type = changes.dataType;
	if (typeof params.type !== 'string' || params.type === '')
		throw missing('the data type', 'jobParams.type');
	if (changes.media) {
		params.media = changes.media;
		setFlat('media', changes.media);
	}
	if (!Array.isArray(params.media)) throw missing('the media types', 'jobParams.media');
	if (changes.fileSplitSize) {
		params.fileSplitSize = changes.fileSplitSize;
		if (!isV10(flavour)) body.fileSplitSize = changes.fileSplitSize;
		else setFlat('fileSplitSize', changes.fileSplitSize);
	}
	if (changes.exportAttachments !== undefined) {
		if (!isV10(flavour)) {
			if (!changes.exportAttachments) throw noAttachmentSetting(flavour);
		} else {
			params.exportAttachments = changes.exportAttachments;
			setFlat('exportAttachments', changes.exportAttachments);
		}
	}
	body.jobParams = params;

	// suspended: returned (boolean or string), or given now.
	const suspended = changes.suspended ?? suspendedValue(body.suspended);
	if (suspended === undefined) throw missing('whether the job is suspended', 'suspended');
	body.suspended = suspendedFor(flavour, suspended);

	if (changes.title) body.title = changes.title;
	else if (mode === 'clone') body.title = `${required(body.title, 'title')} (copy)`;
	if (changes.description !== undefined) body.description = changes.description;
	required(body.title, 'title');
	required(body.source, 'source');
	if (isV10(flavour)) required(body.type, 'type (the job type: UCS or DataSync)');
	checkTimeFrame(timeFrame);
	checkSchedule(schedule);
	return body;
}

/**
 * v4 and CDDS bodies have no `exportAttachments`: their exports carry the attachments files the
 * CDDS guide describes. Asking for attachments there is what they do anyway; asking for none is not possible.
 */
function noAttachmentSetting(flavour: ApiFlavour): CxError {
	return new CxError(
		'USAGE',
		`Export Attachments is a setting of the User Data Management v10 API only; with ${flavour === 'cdds' ? 'CDDS' : 'UDM v4'} exports include the attachments files and cannot leave them out`,
	);
}

function stringOrUndefined(value: unknown): string | undefined {
	return typeof value === 'string' && value !== '' ? value : undefined;
}

function fieldHint(field: string): string {
	switch (field) {
		case 'schedulerParam':
			return '"Run Immediately", "Cron Expression" or "Start Date"';
		case 'jobParams.type':
			return '"Data Type"';
		case 'jobParams.media':
			return '"Media Types"';
		case 'suspended':
			return '"Suspended"';
		default:
			return field;
	}
}
