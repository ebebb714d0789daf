/**
 * Small node:http helpers for the Genesys simulator: bodies with a size limit, JSON and XML
 * answers, multipart/form-data file fields, listening and closing.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An error that becomes an HTTP answer: `body` as is, or the Genesys error envelope. */
export class HttpError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly body?: unknown,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = 'HttpError';
	}
}

/** The ErrorResponse of the Genesys API reference: `{ status: { code, message } }`. */
export function genesysErrorBody(
	code: number,
	message: string,
): { status: { code: number; message: string } } {
	return { status: { code, message } };
}

export async function readBody(req: IncomingMessage, limit = 8 * 1024 * 1024): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
		size += buffer.length;
		if (size > limit) throw new HttpError(413, `the request body is larger than ${limit} bytes`);
		chunks.push(buffer);
	}
	return Buffer.concat(chunks, size);
}

export function sendJson(
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
): void {
	if (body === undefined) {
		res.writeHead(status, { 'content-length': '0', ...headers }).end();
		return;
	}
	const text = JSON.stringify(body);
	res
		.writeHead(status, {
			'content-type': 'application/json;charset=UTF-8',
			'content-length': String(Buffer.byteLength(text)),
			...headers,
		})
		.end(text);
}

export function sendXml(
	res: ServerResponse,
	status: number,
	xml: string,
	headers: Record<string, string> = {},
): void {
	res
		.writeHead(status, {
			'content-type': 'application/xml',
			'content-length': String(Buffer.byteLength(xml)),
			...headers,
		})
		.end(xml);
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The error document of an S3-style object store. */
export function s3Error(
	code: string,
	message: string,
	resource: string,
	requestId: string,
): string {
	return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
}

/** The header values of a request as plain strings (lower-case names, repeated headers joined). */
export function headerRecord(req: IncomingMessage): Record<string, string> {
	const headers: Record<string, string> = {};
	for (const [name, value] of Object.entries(req.headers))
		if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
	return headers;
}

/** One file field of a multipart/form-data body (RFC 7578). */
export function multipartField(
	body: Buffer,
	contentType: string | undefined,
	field: string,
): { filename?: string; contentType?: string; content: Buffer } | undefined {
	if (!/^multipart\/form-data\b/i.test(contentType ?? ''))
		throw new HttpError(400, 'expected a multipart/form-data body');
	const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
	const delimiter = boundary?.[1] ?? boundary?.[2];
	if (!delimiter) throw new HttpError(400, 'the multipart/form-data body has no boundary');
	const dash = Buffer.from(`--${delimiter}`);
	let at = body.indexOf(dash);
	while (at !== -1) {
		const partStart = at + dash.length;
		if (body.subarray(partStart, partStart + 2).toString('latin1') === '--') break; // the closing delimiter
		const next = body.indexOf(Buffer.from(`\r\n--${delimiter}`), partStart);
		if (next === -1) throw new HttpError(400, 'the multipart/form-data body is not terminated');
		const part = body.subarray(partStart + 2, next); // skip the CRLF after the delimiter
		const headerEnd = part.indexOf('\r\n\r\n');
		if (headerEnd !== -1) {
			const head = part.subarray(0, headerEnd).toString('utf8');
			const disposition = /^content-disposition:(.*)$/im.exec(head)?.[1] ?? '';
			if (new RegExp(`;\\s*name="${field}"`, 'i').test(disposition)) {
				return {
					filename: /;\s*filename="([^"]*)"/i.exec(disposition)?.[1],
					contentType: /^content-type:\s*(.*)$/im.exec(head)?.[1]?.trim(),
					content: part.subarray(headerEnd + 4),
				};
			}
		}
		at = next + 2;
	}
	return undefined;
}

export function listen(server: Server, port: number, host: string): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve((server.address() as AddressInfo).port);
		});
	});
}

export async function closeServer(server: Server): Promise<void> {
	if (!server.listening) return;
	const closed = new Promise<void>((resolve) => server.close(() => resolve()));
	server.closeAllConnections();
	await closed;
}

export function hostForUrl(host: string): string {
	return host.includes(':') ? `[${host}]` : host;
}
