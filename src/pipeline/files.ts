/**
 * Output files appear under their final name only when complete: everything is written to a
 * temporary name beside the target and renamed at the end; on failure (or Ctrl-C) the temporary
 * file is removed.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { once } from 'node:events';

/** Temporary paths to remove if the process is interrupted. */
const pending = new Set<string>();

export function removePendingNow(): void {
	for (const path of pending) rmSync(path, { recursive: true, force: true });
	pending.clear();
}

export function temporaryNameFor(finalPath: string): string {
	return join(dirname(finalPath), `.${basename(finalPath)}.${randomBytes(4).toString('hex')}.partial`);
}

/**
 * Runs `write` against a stream to a temporary file and renames it to `finalPath` once `write`
 * has resolved and the data is flushed. Any failure removes the temporary file and rethrows.
 */
export async function writeAtomically<T>(finalPath: string, write: (out: WriteStream) => Promise<T>): Promise<T> {
	const temporary = temporaryNameFor(finalPath);
	pending.add(temporary);
	const out = createWriteStream(temporary, { flags: 'wx' });
	try {
		// Wait for the file to exist, so that a failure below cannot race its creation and leave it behind.
		await once(out, 'ready');
		const result = await write(out);
		if (!out.writableEnded) out.end();
		await finished(out);
		await rename(temporary, finalPath);
		return result;
	} catch (error) {
		out.destroy();
		await finished(out).catch(() => undefined);
		await rm(temporary, { force: true });
		throw error;
	} finally {
		pending.delete(temporary);
	}
}

/** A private temporary directory; `remove` deletes it (also done on Ctrl-C by the CLI). */
export async function makeTempDir(parent = tmpdir()): Promise<{ path: string; remove(): Promise<void> }> {
	const path = await mkdtemp(join(parent, 'cx-export-'));
	pending.add(path);
	return {
		path,
		remove: async () => {
			pending.delete(path);
			await rm(path, { recursive: true, force: true });
		},
	};
}
