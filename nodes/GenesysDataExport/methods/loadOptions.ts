/** Dropdown lists of the node, from the same reference-data calls the operations use. */
import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { genesysClient } from '../../shared/transport';
import { jobEntry } from './jobEntry';

const asOptions = (
	items: Array<{
		label?: string | null;
		value?: string | null;
		name?: string | null;
		displayName?: string | null;
	}>,
): INodePropertyOptions[] =>
	items
		.map((item) => ({
			name: String(item.label ?? item.displayName ?? item.name ?? item.value),
			value: String(item.value ?? item.name ?? item.label),
		}))
		.sort((a, b) => a.name.localeCompare(b.name));

export async function getSources(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return asOptions(await (await genesysClient(this)).sources());
}

export async function getTypes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const source = (this.getCurrentNodeParameter('source') as string | undefined) || undefined;
	return asOptions(await (await genesysClient(this)).types(source));
}

export async function getSubTypes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const source = (this.getCurrentNodeParameter('source') as string | undefined) || undefined;
	const dataType = (this.getCurrentNodeParameter('dataType') as string | undefined) || undefined;
	const subTypes = await (await genesysClient(this)).subTypes(source, dataType);
	return asOptions(subTypes.filter((s) => s.enabled !== false));
}

export async function getJobStatuses(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return asOptions(await (await genesysClient(this)).jobStatuses());
}

export async function getJobs(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const client = await genesysClient(this);
	const options: INodePropertyOptions[] = [];
	for await (const job of client.all(
		(q) => client.listJobs({ ...q, orderField: 'createdDate', descAsc: true }),
		{ limit: 200 },
	)) {
		options.push(jobEntry(job));
	}
	return options;
}
