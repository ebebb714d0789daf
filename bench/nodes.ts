/**
 * `npm run bench` part (c): the Decrypt S/MIME and Reassemble Export nodes run as n8n runs them
 * (test/nodes/harness.ts: filesystem binary data mode, streams in and out), on the benchmark's
 * files. Usage: tsx bench/nodes.ts <decrypt|reassemble|chunks> <key.pem> <result.json> <file>...
 * (`chunks`: Reassemble Export with the Record Chunks output, every chunk read back and hashed.)
 * Writes {seconds, outputBytes, outputSha256} for the node's execution alone to result.json; the
 * caller measures the process's peak RSS.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ICredentialType, INodeType } from 'n8n-workflow';
import { createHarness } from '../test/nodes/harness';

// The nodes as the package ships them (dist/, built by `npm run bench`); `X.node` next to the codex
// file `X.node.json` is ambiguous for a TypeScript loader.
const dist = join(__dirname, '..', 'dist');
const { SmimeDecrypt } = require(join(dist, 'nodes/SmimeDecrypt/SmimeDecrypt.node.js')) as {
	SmimeDecrypt: new () => INodeType;
};
const { ReassembleExport } = require(
	join(dist, 'nodes/ReassembleExport/ReassembleExport.node.js'),
) as { ReassembleExport: new () => INodeType };
const { SmimeKeyApi } = require(join(dist, 'credentials/SmimeKeyApi.credentials.js')) as {
	SmimeKeyApi: new () => ICredentialType;
};

/**
 * A live heap the size of n8n's (CX_BENCH_BALLAST_MB, default 0): n8n 2.x holds 300–400 MB of
 * objects, and how often V8 collects and how long each collection takes grow with it.
 */
function ballast(): unknown[] {
	const mb = Number(process.env.CX_BENCH_BALLAST_MB ?? 0);
	const held: unknown[] = [];
	for (let i = 0; i < mb * 4096; i++)
		held.push({
			id: i,
			name: `object ${i}`,
			list: [i, i + 1, i + 2],
			nested: { a: i, b: String(i) },
		});
	return held;
}

async function main(): Promise<void> {
	const held = ballast();
	const [mode, keyPath, resultPath, ...files] = process.argv.slice(2);
	const binaryDir = await mkdtemp(join(process.env.CX_BENCH_TMP ?? tmpdir(), 'cx-bench-nodes-'));
	try {
		const nodeType = mode === 'decrypt' ? new SmimeDecrypt() : new ReassembleExport();
		const h = await createHarness({
			nodeType,
			parameters: mode === 'decrypt' ? {} : { output: mode === 'chunks' ? 'chunks' : 'zip' },
			credentials: {
				smimeKeyApi: {
					type: new SmimeKeyApi(),
					data: { privateKey: readFileSync(keyPath, 'utf8') },
				},
			},
			binaryDir,
		});
		// The inputs as n8n holds them: files in its binary data folder.
		const items = [];
		for (const file of files)
			items.push({
				json: {},
				binary: {
					data: await h.binary.prepare(
						createReadStream(file),
						basename(file),
						'application/pkcs7-mime',
					),
				},
			});
		const started = process.hrtime.bigint();
		const [out] = await h.execute(items);
		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		let outputBytes = 0;
		const hash = createHash('sha256');
		let records = 0;
		for (const item of out) {
			if (typeof item.json.records === 'number') records += item.json.records;
			const binary = item.binary?.data;
			if (!binary?.id) throw new Error(`no output binary: ${JSON.stringify(item.json)}`);
			for await (const chunk of h.binary.stream(binary.id)) {
				outputBytes += (chunk as Buffer).length;
				hash.update(chunk as Buffer);
			}
		}
		writeFileSync(
			resultPath,
			JSON.stringify({
				ballast: held.length,
				seconds,
				outputBytes,
				outputSha256: hash.digest('hex'),
				items: out.length,
				records,
			}),
		);
	} finally {
		await rm(binaryDir, { recursive: true, force: true });
	}
}

main().catch((error: Error) => {
	console.error(error.message);
	process.exit(1);
});
