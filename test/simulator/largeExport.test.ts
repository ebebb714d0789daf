/**
 * Large exports in the simulator (records made once into a cache on disk, parts served from disk):
 * what a client downloads is a Genesys export like any other — openssl decrypts each part, the core
 * puts them back together (Info-ZIP's `zip -s 0` cannot: entries span more than two parts), unzip
 * reads the entries — and holds exactly the records `generateExport` makes for the
 * same seed and shape; a second run of the same shape reuses the cache.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
	createReadStream,
	createWriteStream,
	mkdirSync,
	readdirSync,
	readFileSync,
	writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32, deflateRawSync } from 'node:zlib';
import { reassemble } from '../../src/zip';
import { makeRecipient, openssl, tempDir, type Recipient } from '../helpers/fixtures.mjs';
import { startGenesysSimulator, type GenesysSimulator } from './genesys';
import { generateExport, jsonLines } from './records';
import { buildZip, writeZipParts } from './zipWriter';

const API_KEY = 'sim-api-key';
const FROM = '2026-03-01T00:00:00.000Z';
const TO = '2026-03-02T00:00:00.000Z';

let dir: ReturnType<typeof tempDir>;
let recipient: Recipient;
let sim: GenesysSimulator;
let token: string;
const cacheDir = () => join(dir.path, 'cache');

beforeAll(async () => {
	dir = tempDir('cx-sim-large-');
	recipient = makeRecipient(dir.path, 'large-recipient');
	sim = await startGenesysSimulator({
		runDurationMs: 50,
		certificate: recipient.cert,
		attachmentBytes: 5000,
		largeExports: {
			titleContains: '[large]',
			interactions: 3001,
			cacheDir: cacheDir(),
			interactionFiles: 'perEntityType',
			attachmentBytes: 200,
		},
	});
	const answer = await fetch(`${sim.baseUrl}/auth/v3/oauth/token`, {
		method: 'POST',
		headers: {
			'x-api-key': API_KEY,
			authorization: `Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}`,
			'content-type': 'application/x-www-form-urlencoded',
		},
		body: new URLSearchParams({
			grant_type: 'password',
			username: 'SIMTENANT\\analyst',
			password: 'sim-password',
			scope: '*',
		}).toString(),
	});
	token = ((await answer.json()) as { access_token: string }).access_token;
});

afterAll(async () => {
	await sim?.close();
	dir?.remove();
});

async function api(method: string, path: string, body?: unknown): Promise<Response> {
	return fetch(`${sim.baseUrl}/udm/v10${path}`, {
		method,
		headers: {
			'x-api-key': API_KEY,
			authorization: `Bearer ${token}`,
			...(body === undefined ? {} : { 'content-type': 'application/json' }),
		},
		body: body === undefined ? undefined : JSON.stringify(body),
		redirect: 'manual',
	});
}

/** Runs a job now and waits for its run to end; the run's status, files and job ID. */
async function runJob(
	title: string,
): Promise<{ jobId: number; runId: number; status: string; files: string[] }> {
	const job = (await (
		await api('POST', '/export/jobs', {
			source: 'UCS',
			type: 'UCS',
			title,
			timeFrame: { dateFrom: FROM, dateTo: TO },
			schedulerParam: { immediately: true },
			jobParams: { type: 'Interaction', media: [], exportAttachments: true, fileSplitSize: '64KB' },
			suspended: false,
		})
	).json()) as { id: number };
	const deadline = Date.now() + 60_000;
	for (;;) {
		const runs = (await (await api('GET', `/export/history?jobId=${job.id}`)).json()) as {
			items: Array<{ id: number; status: string }>;
		};
		const run = runs.items[0];
		if (run && run.status !== 'InProgress') {
			const files = (await (
				await api('GET', `/file-metadatas?historyId=${run.id}&orderField=name&descAsc=false`)
			).json()) as { items: Array<{ name: string }> };
			return {
				jobId: job.id,
				runId: run.id,
				status: run.status,
				files: files.items.map((f) => f.name),
			};
		}
		if (Date.now() > deadline) throw new Error(`run of job ${job.id} did not end`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

/** Downloads the files, decrypts them with openssl, puts the parts together; the merged zip's path. */
async function downloadAndMerge(files: string[], into: string): Promise<string> {
	const plain: string[] = [];
	for (const name of files) {
		const redirect = await api('GET', `/files/${encodeURIComponent(name)}`);
		expect(redirect.status).toBe(303);
		const bytes = Buffer.from(
			await (await fetch(redirect.headers.get('location') ?? '')).arrayBuffer(),
		);
		expect(bytes.equals(sim.state.files.get(name)?.bytes ?? Buffer.alloc(0))).toBe(true);
		writeFileSync(join(into, name), bytes);
		plain.push(join(into, name.replace(/\.smime$/, '')));
		openssl([
			'smime',
			'-decrypt',
			'-binary',
			'-inkey',
			recipient.keyPath,
			'-in',
			join(into, name),
			'-out',
			plain[plain.length - 1],
		]);
	}
	const merged = join(into, 'merged.zip');
	await reassemble(
		plain.map((path) => ({
			name: path.split('/').pop() ?? path,
			open: () => createReadStream(path),
		})),
		createWriteStream(merged),
	);
	return merged;
}

describe('Genesys simulator: large exports made on disk', () => {
	it('lays out entries compressed in files byte for byte as buildZip lays out the same entries in memory', () => {
		const out = join(dir.path, 'zip-parts');
		mkdirSync(out);
		// Entries that span several parts, one that fits in what is left of a part, one stored.
		const data = [
			Buffer.from('{"a":1}\n'.repeat(40_000)),
			Buffer.concat([Buffer.from('x'.repeat(50_000)), randomBytes(150_000)]),
			Buffer.from('{}\n'),
			randomBytes(3000),
		];
		const inputs = data.map((d, i) => ({ name: `Entry-${i}-é.json`, data: d }));
		for (const splitSize of [undefined, 64 * 1024, 100_000]) {
			const expected = buildZip(inputs, { splitSize, modified: new Date(Date.UTC(2026, 2, 1)) });
			const files = inputs.map((input, i) => {
				const deflated = deflateRawSync(input.data, { level: 6 });
				const store = deflated.length >= input.data.length;
				const path = join(out, `${splitSize}-${i}.deflate`);
				writeFileSync(path, store ? input.data : deflated);
				return {
					name: input.name,
					crc: crc32(input.data),
					size: input.data.length,
					method: (store ? 0 : 8) as 0 | 8,
					path,
					compressedSize: (store ? input.data : deflated).length,
				};
			});
			const paths = writeZipParts(files, {
				splitSize,
				modified: new Date(Date.UTC(2026, 2, 1)),
				dir: out,
				base: `export-${splitSize}`,
			});
			expect(paths.map((p) => p.split('/').pop())).toEqual(
				expected.map((_, i) =>
					i === expected.length - 1
						? `export-${splitSize}.zip`
						: `export-${splitSize}.z${String(i + 1).padStart(2, '0')}`,
				),
			);
			expect(paths.every((p, i) => readFileSync(p).equals(expected[i]))).toBe(true);
		}
	});

	it('serves a split, encrypted export of the records generateExport makes for the same seed and shape, from disk', async () => {
		const run = await runJob('[large] contact history');
		expect(run.status).toBe('Completed');
		expect(run.files.length).toBeGreaterThanOrEqual(3);
		const file = sim.state.files.get(run.files[0]);
		expect(file?.path && readFileSync(file.path).length).toBe(file?.size);
		expect(() => sim.state.exportContent(run.runId)).toThrow(/large export/);

		const work = tempDir('cx-sim-large-run-');
		try {
			const merged = await downloadAndMerge(run.files, work.path);
			const expected = generateExport(0, 'cx-export-simulator:large', {
				dataType: 'Interaction',
				media: [],
				exportAttachments: true,
				interactions: 3001,
				contacts: 20,
				attachmentBytes: 200,
				interactionFiles: 'perEntityType',
				from: Date.parse(FROM),
				to: Date.parse(TO),
			});
			const names = expected.map((e) => e.name.replace(/-0\.json$/, `-${run.jobId}.json`));
			expect(execFileSync('zipinfo', ['-1', merged]).toString().trim().split('\n')).toEqual(names);
			expect(names).toEqual(
				['EmailIn', 'EmailIn-Attachment', 'EmailOut', 'Chat', 'PhoneCall'].map(
					(kind) => `${kind}-${run.jobId}.json`,
				),
			);
			for (const [i, entry] of expected.entries())
				expect(
					execFileSync('unzip', ['-p', merged, names[i]], { maxBuffer: 1 << 28 }).equals(
						jsonLines(entry.records),
					),
				).toBe(true);
			expect(expected.reduce((n, e) => n + e.records.length, 0)).toBe(3001 + 1001);
		} finally {
			work.remove();
		}

		// A byte range of a file on disk.
		const location =
			(await api('GET', `/files/${encodeURIComponent(run.files[1])}`)).headers.get('location') ??
			'';
		const range = await fetch(location, { headers: { range: 'bytes=100-199' } });
		expect(range.status).toBe(206);
		expect(
			Buffer.from(await range.arrayBuffer()).equals(
				(sim.state.files.get(run.files[1])?.bytes ?? Buffer.alloc(0)).subarray(100, 200),
			),
		).toBe(true);
	});

	it('makes the records of a shape once: a second run reuses them under its own job ID', async () => {
		const cached = readdirSync(cacheDir()).filter((n) => n.startsWith('records-'));
		expect(cached).toHaveLength(1);
		const run = await runJob('another [large] export');
		expect(run.status).toBe('Completed');
		expect(readdirSync(cacheDir()).filter((n) => n.startsWith('records-'))).toEqual(cached);
		const work = tempDir('cx-sim-large-run-');
		try {
			const merged = await downloadAndMerge(run.files, work.path);
			expect(execFileSync('zipinfo', ['-1', merged]).toString().trim().split('\n')[0]).toBe(
				`EmailIn-${run.jobId}.json`,
			);
		} finally {
			work.remove();
		}
	});

	it('leaves other jobs to the in-memory exports', async () => {
		const run = await runJob('nightly');
		expect(run.status).toBe('Completed');
		expect(sim.state.files.get(run.files[0])?.path).toBeUndefined();
		expect(sim.state.exportContent(run.runId).entries.map((e) => e.name)).toEqual([
			`Interaction-${run.jobId}.json`,
			`Interaction-Attachment-${run.jobId}.json`,
		]);
	});
});
