import {
	NodeConnectionTypes,
	type IDataObject,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
} from 'n8n-workflow';
import { runState } from '../../src/genesys/client';
import type { JobInfo } from '../../src/genesys/models';
import {
	pollFinishedRuns,
	runMatches,
	type FinishedFilter,
	type RunCursor,
	type WatchOptions,
} from '../../src/genesys/runWatch';
import { genesysClient } from '../shared/transport';
import { toNodeError } from '../shared/errors';
import * as loadOptions from '../GenesysDataExport/methods/loadOptions';
import { authenticationProperty, genesysCredentials } from '../shared/genesysAuthentication';

interface TriggerState {
	cursor?: RunCursor;
}

function jobIdsFrom(value: unknown): number[] {
	const list = Array.isArray(value) ? value : String(value ?? '').split(',');
	return list.map((v) => Number(String(v).trim())).filter((n) => Number.isInteger(n) && n > 0);
}

export class GenesysExportTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Genesys Export Trigger',
		name: 'genesysExportTrigger',
		icon: { light: 'file:genesys.svg', dark: 'file:genesys.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{"run " + ($parameter["status"] === "any" ? "finished" : $parameter["status"])}}',
		description: 'Starts the workflow when a Genesys contact history export run finishes',
		defaults: { name: 'Genesys Export Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: genesysCredentials,
		properties: [
			authenticationProperty,
			{
				displayName: 'Trigger On',
				name: 'status',
				type: 'options',
				options: [
					{ name: 'Run Completed', value: 'completed' },
					{ name: 'Run Failed', value: 'failed', description: 'Failed or cancelled' },
					{ name: 'Run Finished', value: 'any', description: 'Completed, failed or cancelled' },
				],
				default: 'completed',
			},
			{
				displayName: 'Filters',
				name: 'filters',
				type: 'collection',
				placeholder: 'Add Filter',
				default: {},
				options: [
					{
						displayName: 'Job Names or IDs',
						name: 'jobIds',
						type: 'multiOptions',
						typeOptions: { loadOptionsMethod: 'getJobs' },
						default: [],
						description:
							'Only runs of these jobs. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
					},
					{
						displayName: 'Job Title',
						name: 'jobTitle',
						type: 'string',
						default: '',
						placeholder: 'Nightly *',
						description: 'Only runs whose job title matches (case-insensitive; * matches anything)',
					},
				],
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Include Files',
						name: 'includeFiles',
						type: 'boolean',
						default: true,
						description:
							'Whether to add the files of a completed run (names and sizes), ready for File → Download',
					},
					{
						displayName: 'Report Runs Since',
						name: 'replaySince',
						type: 'dateTime',
						default: '',
						description:
							'On the first poll after activation, also report runs that finished since this date (by default earlier runs are not reported)',
					},
				],
			},
		],
	};

	methods = { loadOptions };

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const status = this.getNodeParameter('status', 'completed') as FinishedFilter;
		const filters = this.getNodeParameter('filters', {}) as IDataObject;
		const options = this.getNodeParameter('options', {}) as IDataObject;
		const replay =
			typeof options.replaySince === 'string' && options.replaySince !== ''
				? Date.parse(options.replaySince)
				: Number.NaN;
		const watch: WatchOptions = {
			status,
			jobIds: jobIdsFrom(filters.jobIds),
			jobTitle: typeof filters.jobTitle === 'string' ? filters.jobTitle : undefined,
			replaySince: Number.isNaN(replay) ? undefined : replay,
		};
		const includeFiles = options.includeFiles !== false;

		try {
			const client = await genesysClient(this);
			const withFiles = async (run: JobInfo): Promise<INodeExecutionData> => {
				const state = runState(run.status);
				const json: IDataObject = { ...(run as IDataObject), state };
				if (includeFiles && state === 'completed') {
					const files = await client.runFiles(run);
					json.files = files as IDataObject[];
					json.fileNames = files.map((f) => f.name);
				}
				return { json };
			};

			if (this.getMode() === 'manual') {
				// A sample for building the workflow: the latest run that fits, whatever the cursor says.
				const page = await client.listRuns({
					from: 0,
					size: 50,
					orderField: 'createdDate',
					descAsc: true,
				});
				const latest = page.items.find((run) => runMatches(run, runState(run.status), watch));
				return latest ? [[await withFiles(latest)]] : null;
			}

			const state = this.getWorkflowStaticData('node') as TriggerState;
			const { runs, cursor } = await pollFinishedRuns(
				{ listRuns: (query) => client.listRuns(query), getRun: (id) => client.getRun(id) },
				state.cursor,
				watch,
			);
			const items: INodeExecutionData[] = [];
			for (const run of runs) items.push(await withFiles(run));
			// The cursor moves only once the items are ready: a failure above repeats this poll.
			state.cursor = cursor;
			return items.length > 0 ? [items] : null;
		} catch (error) {
			throw toNodeError(this.getNode(), error, 0);
		}
	}
}
