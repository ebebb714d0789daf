import type { INodeListSearchItems } from 'n8n-workflow';
import type { JobInfo } from '../../../src/genesys/models';

/** A job as the lists show it (the Job locator's list and version 1's dropdown): `Title (id)`, type · status. */
export function jobEntry(job: JobInfo): INodeListSearchItems {
	const about = [job.type, job.status].filter(Boolean).join(' · ');
	return {
		name: `${job.title || 'Untitled'} (${job.id})`,
		value: String(job.id),
		...(about ? { description: about } : {}),
	};
}
