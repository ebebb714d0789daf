// Row checks for the n8n benchmark: an order-independent digest of records (count, kinds, and the
// sum of the SHA-256 of each record as canonical JSON — sorted keys, as PostgreSQL's jsonb has no
// key order), computed in one streaming pass over JSON Lines files, a command's output or a table.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** JSON with sorted keys (the same as test/e2e/lib.mjs canonical). */
export function canonical(value) {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	if (value && typeof value === 'object')
		return `{${Object.keys(value)
			.sort()
			.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
			.join(',')}}`;
	return JSON.stringify(value);
}

const MOD = 1n << 256n;

/** The kind of a generated CDDS record, from its fields. */
function kindOf(record) {
	if (record && typeof record === 'object') {
		if ('IXNID' in record) return 'Interaction';
		if ('CONTENT' in record) return 'Interaction-Attachment';
		if ('ContactId' in record) return 'Contact';
	}
	return 'other';
}

export class RecordDigest {
	count = 0;
	sum = 0n;
	kinds = {};
	add(line) {
		if (line === '') return;
		this.addValue(JSON.parse(line));
	}
	addValue(record) {
		const hash = createHash('sha256').update(canonical(record)).digest('hex');
		this.sum = (this.sum + BigInt(`0x${hash}`)) % MOD;
		this.count++;
		const kind = kindOf(record);
		this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
	}
	result() {
		return {
			count: this.count,
			digest: this.sum.toString(16).padStart(64, '0'),
			kinds: this.kinds,
		};
	}
}

async function digestLines(stream, digest = new RecordDigest()) {
	const lines = createInterface({ input: stream, crlfDelay: Infinity });
	for await (const line of lines) digest.add(line);
	return digest;
}

/** The digest of the records of JSON Lines files. */
export async function digestFiles(paths) {
	const digest = new RecordDigest();
	for (const path of paths) await digestLines(createReadStream(path), digest);
	return digest.result();
}

/** The digest of the JSON lines a command writes to stdout (psql -At, cx-export records). */
export function digestCommand(command, args, options = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
		let stderr = '';
		child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
		const done = digestLines(child.stdout);
		child.on('error', reject);
		child.on('close', async (code) => {
			try {
				const digest = await done;
				if (code !== 0)
					reject(new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr}`));
				else resolve(digest.result());
			} catch (error) {
				reject(error);
			}
		});
	});
}

/** The digest of a jsonb column, read with psql a few thousand rows at a time. */
export function digestTable(
	{ port, database = 'warehouse', host = '127.0.0.1', user = 'n8n' },
	sql,
) {
	return digestCommand('psql', [
		'-h',
		host,
		'-p',
		String(port),
		'-U',
		user,
		'-d',
		database,
		'-v',
		'ON_ERROR_STOP=1',
		'-v',
		'FETCH_COUNT=2000',
		'-At',
		'-c',
		sql,
	]);
}

/** Why two digests differ, or undefined when they are the same. */
export function compareDigests(expected, actual) {
	if (expected.count === actual.count && expected.digest === actual.digest) return undefined;
	const kinds = [...new Set([...Object.keys(expected.kinds), ...Object.keys(actual.kinds)])].map(
		(k) => `${k} ${expected.kinds[k] ?? 0}/${actual.kinds[k] ?? 0}`,
	);
	return `${actual.count} rows for ${expected.count} records (expected/actual per kind: ${kinds.join(', ')})${expected.count === actual.count ? '; same count, different contents' : ''}`;
}
