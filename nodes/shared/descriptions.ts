/**
 * The description library the nodes share: how an operation's properties are shown, and the fields
 * several operations have in common.
 */
import type { IDisplayOptions, INodeProperties } from 'n8n-workflow';

/**
 * `properties` shown only where `displayOptions` says (typically one resource and operation), on top
 * of each property's own conditions: `show` and `hide` are merged key by key, the property's own
 * values kept for keys the caller does not name. The same contract as n8n's own helper of this
 * name, written here so that every n8n 1.x the package supports has it.
 */
export function updateDisplayOptions(
	displayOptions: IDisplayOptions,
	properties: INodeProperties[],
): INodeProperties[] {
	return properties.map((property) => {
		const own = property.displayOptions ?? {};
		const merged: IDisplayOptions = { ...own };
		if (displayOptions.show) merged.show = { ...own.show, ...displayOptions.show };
		if (displayOptions.hide) merged.hide = { ...own.hide, ...displayOptions.hide };
		return { ...property, displayOptions: merged };
	});
}
