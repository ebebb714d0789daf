/**
 * Which URLs handed over by an API are fetched. A download's 303 `Location`, a JSON `path`, a
 * Connectif `fileUrl` come from the network; followed blindly, an answer could point the download
 * at a cloud metadata service (`http://169.254.169.254/…`), a service on the n8n host or the
 * intranet, or a `data:`/`file:` URL, and its content would reach the workflow. The rules:
 * - `https:` only; plain `http:` only when the API base is itself `http:`; every other scheme is
 *   refused;
 * - never a link-local (169.254.0.0/16, fe80::/10) or metadata address, whatever is allowed;
 * - loopback and private addresses only when the API base itself is one (a simulator, an
 *   on-premises gateway);
 * - hosts listed in `allowedHosts` may be private and plain http (never link-local or metadata);
 * - a host name is checked again once resolved, address by address, by `checkedLookup`, which the
 *   connection then uses: the socket goes to the address that was checked (no DNS rebinding).
 */
import {
	lookup as dnsLookup,
	type LookupAddress,
	type LookupAllOptions,
	type LookupOneOptions,
} from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { CxError } from '../errors';
import { describeUrl } from './redirect';

export interface UrlPolicy {
	/** The API the URLs come from: its scheme and address class decide what else is fetched. */
	apiBase: URL;
	/** Host names (`files.example.com`, `*.example.com`) or addresses allowed beyond the rules. */
	allowedHosts?: readonly string[];
}

export type AddressClass =
	| 'public'
	| 'loopback'
	| 'private'
	| 'link-local'
	| 'metadata'
	| 'unspecified';

function blockList(v4: string[], v6: string[]): BlockList {
	const list = new BlockList();
	for (const cidr of v4) {
		const [net, bits] = cidr.split('/');
		list.addSubnet(net, Number(bits), 'ipv4');
	}
	for (const cidr of v6) {
		const [net, bits] = cidr.split('/');
		list.addSubnet(net, Number(bits), 'ipv6');
	}
	return list;
}

// Cloud metadata services: AWS/GCP/Azure/OpenStack 169.254.169.254 (link-local anyway), AWS IPv6
// fd00:ec2::254, Alibaba 100.100.100.200, Oracle 192.0.0.192.
const METADATA = blockList(['100.100.100.200/32', '192.0.0.192/32'], ['fd00:ec2::254/128']);
const METADATA_NAMES =
	/^(metadata|metadata\.google\.internal|metadata\.goog|instance-data|instance-data\.ec2\.internal)\.?$/i;
const LINK_LOCAL = blockList(['169.254.0.0/16'], ['fe80::/10']);
const UNSPECIFIED = blockList(['0.0.0.0/8'], ['::/128']);
const LOOPBACK = blockList(['127.0.0.0/8'], ['::1/128']);
const PRIVATE = blockList(
	[
		'10.0.0.0/8',
		'172.16.0.0/12',
		'192.168.0.0/16',
		'100.64.0.0/10',
		'192.0.0.0/24',
		'198.18.0.0/15',
	],
	['fc00::/7', 'fec0::/10'],
);

/** `::ffff:a.b.c.d` (and its hex form `::ffff:a9fe:a9fe`) as the IPv4 address it carries. */
function unmapped(address: string): string {
	const lower = address.toLowerCase();
	const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
	if (dotted) return dotted[1];
	const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
	if (hex) {
		const hi = parseInt(hex[1], 16);
		const lo = parseInt(hex[2], 16);
		return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
	}
	return address;
}

/** What kind of address an IP literal is. */
export function addressClass(ip: string): AddressClass {
	const address = unmapped(ip.replace(/^\[|\]$/g, ''));
	const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
	if (METADATA.check(address, type)) return 'metadata';
	if (LINK_LOCAL.check(address, type)) return 'link-local';
	if (UNSPECIFIED.check(address, type)) return 'unspecified';
	if (LOOPBACK.check(address, type)) return 'loopback';
	if (PRIVATE.check(address, type)) return 'private';
	return 'public';
}

/** The class of a URL's host without resolving it: an address literal, `localhost`, or public. */
function hostClass(hostname: string): AddressClass {
	const host = hostname.replace(/^\[|\]$/g, '');
	if (isIP(host)) return addressClass(host);
	if (METADATA_NAMES.test(host)) return 'metadata';
	if (/(^|\.)localhost\.?$/i.test(host)) return 'loopback';
	return 'public';
}

function isAllowedHost(hostname: string, policy: UrlPolicy): boolean {
	const host = hostname
		.replace(/^\[|\]$/g, '')
		.toLowerCase()
		.replace(/\.$/, '');
	return (policy.allowedHosts ?? []).some((entry) => {
		const pattern = entry
			.trim()
			.toLowerCase()
			.replace(/^\[|\]$/g, '')
			.replace(/\.$/, '');
		if (pattern === '') return false;
		if (pattern.startsWith('*.'))
			return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
		return host === pattern;
	});
}

/** Whether the API base is itself on a loopback or private address (then such URLs are normal). */
function baseIsInternal(policy: UrlPolicy): boolean {
	const kind = hostClass(policy.apiBase.hostname);
	return kind === 'loopback' || kind === 'private';
}

/** Why an address may not be connected to, or undefined when it may. */
export function refusedAddress(
	address: string,
	hostname: string,
	policy: UrlPolicy,
): string | undefined {
	const kind = addressClass(address);
	if (kind === 'metadata' || kind === 'link-local')
		return `${address} is a ${kind} address (cloud metadata services live there)`;
	if (kind === 'unspecified') return `${address} is not an address to connect to`;
	if (
		(kind === 'loopback' || kind === 'private') &&
		!baseIsInternal(policy) &&
		!isAllowedHost(hostname, policy)
	) {
		return `${address} is a ${kind} address, and the API (${policy.apiBase.host}) is not; add the host to the allowed download hosts if it is meant`;
	}
	return undefined;
}

/** Splits the "allowed download hosts" option: commas, spaces or new lines between names. */
export function parseAllowedHosts(text: unknown): string[] {
	if (Array.isArray(text))
		return text
			.map(String)
			.map((h) => h.trim())
			.filter(Boolean);
	return typeof text === 'string'
		? text
				.split(/[\s,;]+/)
				.map((h) => h.trim())
				.filter(Boolean)
		: [];
}

export function urlPolicy(apiBase: URL | string, allowedHosts: readonly string[] = []): UrlPolicy {
	return { apiBase: new URL(String(apiBase)), allowedHosts };
}

/**
 * The URL an API handed over (`what`: "the download link of export-1.zip.smime"), checked before
 * any request is made; throws URL_REFUSED naming the reason (never the URL's query, which may hold
 * a signature).
 */
export function checkUrl(input: string | URL, policy: UrlPolicy, what: string): URL {
	let url: URL;
	try {
		url = new URL(String(input), policy.apiBase);
	} catch {
		throw new CxError('URL_REFUSED', `${what} is not a URL`);
	}
	const refuse = (reason: string) =>
		new CxError(
			'URL_REFUSED',
			`${what} (${url.protocol === 'http:' || url.protocol === 'https:' ? describeUrl(url) : `a ${url.protocol} URL`}) is refused: ${reason}`,
		);
	if (url.protocol !== 'https:' && url.protocol !== 'http:')
		throw refuse('only https (or http from an http API) is fetched');
	if (url.username || url.password) throw refuse('it carries a user name or password');
	const allowed = isAllowedHost(url.hostname, policy);
	if (url.protocol === 'http:' && policy.apiBase.protocol !== 'http:' && !allowed)
		throw refuse(`plain http from an https API (${policy.apiBase.host})`);
	const kind = hostClass(url.hostname);
	if (kind === 'metadata' || kind === 'link-local')
		throw refuse(`${url.hostname} is a ${kind} address (cloud metadata services live there)`);
	if (kind === 'unspecified') throw refuse(`${url.hostname} is not an address to connect to`);
	if ((kind === 'loopback' || kind === 'private') && !baseIsInternal(policy) && !allowed) {
		throw refuse(
			`${url.hostname} is a ${kind} address, and the API (${policy.apiBase.host}) is not; add the host to the allowed download hosts if it is meant`,
		);
	}
	return url;
}

type LookupCallback = (
	error: NodeJS.ErrnoException | null,
	address: string | LookupAddress[],
	family?: number,
) => void;
export type LookupFunction = (
	hostname: string,
	options: LookupOneOptions | LookupAllOptions,
	callback: LookupCallback,
) => void;

/**
 * A `lookup` for `http.request`/`net.connect` that resolves the host and refuses the connection
 * when any of its addresses breaks the policy: the socket then connects to a checked address.
 */
export function checkedLookup(
	policy: UrlPolicy,
	resolve: typeof dnsLookup = dnsLookup,
): LookupFunction {
	return (hostname, options, callback) => {
		resolve(hostname, { ...options, all: true }, (error, addresses) => {
			if (error) return callback(error, []);
			const list = addresses as LookupAddress[];
			for (const { address } of list) {
				const reason = refusedAddress(address, hostname, policy);
				if (reason)
					return callback(
						new CxError(
							'URL_REFUSED',
							`${hostname} resolves to ${reason}`,
						) as unknown as NodeJS.ErrnoException,
						[],
					);
			}
			if (list.length === 0)
				return callback(
					Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
					[],
				);
			if ((options as LookupAllOptions).all) return callback(null, list);
			callback(null, list[0].address, list[0].family);
		});
	};
}
