/**
 * What a Genesys credential holds, in n8n's words (region or custom URL), turned into what the
 * core needs. Pure functions: the n8n credential classes and the nodes share them.
 */
import { CxError } from '../errors';
import type { GenesysCredentials } from './auth';

/** Genesys Multicloud CX API regions (GAPI hosts). */
export const GENESYS_REGIONS: ReadonlyArray<{ name: string; value: string }> = Object.freeze([
	{ name: 'US East (gapi-use1)', value: 'gapi-use1' },
	{ name: 'US West (gapi-usw2)', value: 'gapi-usw2' },
	{ name: 'EU West 1 (gapi-euw1)', value: 'gapi-euw1' },
	{ name: 'EU West 2 (gapi-euw2)', value: 'gapi-euw2' },
	{ name: 'Asia Pacific Southeast 2 (gapi-apse2)', value: 'gapi-apse2' },
	{ name: 'Canada Central (gapi-cac1)', value: 'gapi-cac1' },
]);

export interface BaseUrlFields {
	region?: unknown;
	customBaseUrl?: unknown;
}

/** The API base URL of a credential: `https://<region>.genesyscloud.com` or the custom URL. */
export function genesysBaseUrl(fields: BaseUrlFields): string {
	const region = typeof fields.region === 'string' ? fields.region : 'gapi-use1';
	if (region !== 'custom') {
		if (!/^[a-z0-9-]+$/.test(region))
			throw new CxError('USAGE', `"${region}" is not a Genesys region`);
		return `https://${region}.genesyscloud.com`;
	}
	const text = typeof fields.customBaseUrl === 'string' ? fields.customBaseUrl.trim() : '';
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new CxError(
			'USAGE',
			`the custom base URL "${text}" is not a URL: write it like https://gapi-use1.genesyscloud.com`,
		);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:')
		throw new CxError(
			'USAGE',
			`the custom base URL must start with https:// (or http:// for a local simulator), not ${url.protocol}`,
		);
	url.search = '';
	url.hash = '';
	return url.href.replace(/\/+$/, '');
}

/** The core's credentials from the fields of a `genesysMulticloudApi` credential. */
export function genesysCredentialsFrom(fields: Record<string, unknown>): GenesysCredentials {
	const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : '');
	const grantType =
		text('grantType') === 'clientCredentials' || text('grantType') === 'client_credentials'
			? 'client_credentials'
			: 'password';
	return {
		baseUrl: genesysBaseUrl(fields),
		apiKey: text('apiKey'),
		clientId: text('clientId'),
		clientSecret: text('clientSecret'),
		grantType,
		username: grantType === 'password' ? text('username') : undefined,
		password: grantType === 'password' ? text('password') : undefined,
	};
}
