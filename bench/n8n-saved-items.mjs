// Reads the run data n8n saved for one execution (SQLite) and prints the digest of the items a
// node put out (see rows.mjs): node bench/n8n-saved-items.mjs <database.sqlite> <executionId> <node> <n8n folder>
// Runs on Node 24 (node:sqlite), outside the measured n8n processes.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { RecordDigest } from './rows.mjs';

const [db, executionId, node, n8nDir] = process.argv.slice(2);
const requireN8n = createRequire(join(n8nDir, 'node_modules', 'n8n', 'package.json'));
const { parse } = requireN8n(
	requireN8n.resolve('flatted', {
		paths: [join(n8nDir, 'node_modules', 'n8n'), join(n8nDir, 'node_modules', '@n8n', 'db')],
	}),
);
const row = new DatabaseSync(db, { readOnly: true })
	.prepare('SELECT data FROM execution_data WHERE executionId = ?')
	.get(Number(executionId));
if (!row) throw new Error(`no saved data for execution ${executionId}`);
const run = parse(row.data);
const items = (run.resultData.runData[node] ?? []).flatMap((r) => r.data?.main?.[0] ?? []);
const digest = new RecordDigest();
for (const item of items) digest.addValue(item.json);
console.log(JSON.stringify(digest.result()));
