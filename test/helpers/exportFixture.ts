/**
 * A Genesys-style export made by the real tools: JSON Lines files → `zip -s` split parts →
 * each part encrypted with `openssl smime -encrypt -binary -aes256`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssl, type Recipient } from './openssl';

export interface ExportFixture {
	exportName: string;
	/** Source JSON Lines files: name → content. */
	files: Record<string, Buffer>;
	/** Every record, in the order the files were zipped. */
	records: unknown[];
	plainParts: string[];
	encryptedParts: string[];
}

export function makeRecords(
	count: number,
	seed = 'x',
): { lines: string; records: Record<string, unknown>[] } {
	const records: Record<string, unknown>[] = [];
	for (let i = 0; i < count; i++) {
		records.push({
			IXNID: `000${seed}${i.toString(36).padStart(8, '0')}`,
			STATUS: 3,
			MEDIATYPEID: ['email', 'chat', 'voice'][i % 3],
			STARTDATE: '2026-10-01 08:31:20.78',
			SUBJECT: `Request ${i} — ünïcode ✓`,
			// Poorly compressible, so that split parts fill up.
			TEXT: randomBytes(200 + (i % 7) * 50).toString('base64'),
			ALLATTRIBUTES: JSON.stringify({ k: i }),
			TENANTID: 101,
		});
	}
	return { lines: records.map((r) => `${JSON.stringify(r)}\n`).join(''), records };
}

export function makeExport(
	dir: string,
	recipient: Recipient,
	options: { records?: number; split?: string; name?: string } = {},
): ExportFixture {
	const exportName = options.name ?? 'export-2b710a2c-0e7f-4918-983c-c02d108eaeb0';
	const jobId = '2b710a2c-0e7f-4918-983c-c02d108eaeb0';
	const src = join(dir, `${exportName}-src`);
	const plain = join(dir, `${exportName}-plain`);
	const enc = join(dir, `${exportName}-enc`);
	for (const d of [src, plain, enc]) mkdirSync(d, { recursive: true });
	const n = options.records ?? 2000;
	const interactions = makeRecords(n, 'a');
	const contacts = makeRecords(Math.ceil(n / 4), 'c');
	const files: Record<string, Buffer> = {
		[`Interaction-${jobId}.json`]: Buffer.from(interactions.lines),
		[`Contact-${jobId}.json`]: Buffer.from(contacts.lines),
	};
	for (const [name, data] of Object.entries(files)) writeFileSync(join(src, name), data);
	const names = Object.keys(files);
	execFileSync(
		'zip',
		[
			'-q',
			...(options.split ? ['-s', options.split] : []),
			join(plain, `${exportName}.zip`),
			...names,
		],
		{ cwd: src },
	);
	const plainParts = readdirSync(plain)
		.sort()
		.map((p) => join(plain, p));
	const encryptedParts = plainParts.map((p) => {
		const target = join(enc, `${p.split('/').pop()}.smime`);
		openssl([
			'smime',
			'-encrypt',
			'-binary',
			'-aes256',
			'-in',
			p,
			'-out',
			target,
			recipient.certPath,
		]);
		return target;
	});
	return {
		exportName,
		files,
		records: [...interactions.records, ...contacts.records],
		plainParts,
		encryptedParts,
	};
}
