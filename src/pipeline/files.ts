/**
 * Output files appear under their final name only when complete: everything is written to a
 * temporary name beside the target and renamed at the end; on failure (or Ctrl-C) the temporary
 * file is removed. A symbolic link is written through (its target is replaced, the link stays);
 * a FIFO or a device (`-o /dev/stdout`) receives the stream as it is written, since it cannot be
 * replaced.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { lstat, mkdtemp, readlink, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
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

/** Runs `write` against `out` (once it is open), then ends it and waits until the data is flushed. */
async function writeThrough<T>(out: WriteStream, write: (out: WriteStream) => Promise<T>): Promise<T> {
	// Wait for the file to be open, so that a failure below cannot race its creation and leave it behind.
	await once(out, 'ready');
	const result = await write(out);
	if (!out.writableEnded) out.end();
	await finished(out);
	return result;
}

/**
 * Runs `write` against a stream to a temporary file and renames it to the target once `write`
 * has resolved and the data is flushed. Any failure removes the temporary file and rethrows.
 * A symbolic link is written through; a FIFO or a device is written directly (see outputTarget).
 */
export async function writeAtomically<T>(target: string, write: (out: WriteStream) => Promise<T>): Promise<T> {
	const { path: finalPath, special } = await outputTarget(target);
	if (special) {
		const out = createWriteStream(finalPath, { flags: 'w' });
		try {
			return await writeThrough(out, write);
		} catch (error) {
			out.destroy();
			throw error;
		}
	}
	const temporary = temporaryNameFor(finalPath);
	pending.add(temporary);
	const out = createWriteStream(temporary, { flags: 'wx' });
	try {
		const result = await writeThrough(out, write);
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

/**
 * Where output for `path` goes: a symbolic link resolved to what it points at (followed through
 * chains of links, even when the last one dangles), and whether that is a FIFO, a device or a
 * socket (`special`: written directly, as it cannot be replaced). A directory is refused.
 */
export async function outputTarget(path: string): Promise<{ path: string; special: boolean }> {
	let current = path;
	for (let hops = 0; hops < 40; hops++) {
		let info;
		try {
			info = await lstat(current);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path: current, special: false };
			throw error;
		}
		if (info.isSymbolicLink()) {
			current = resolve(dirname(current), await readlink(current));
			continue;
		}
		if (info.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
		return { path: current, special: !info.isFile() };
	}
	// As the kernel says of a loop of links.
	await stat(path);
	throw Object.assign(new Error(`${path}: too many levels of symbolic links`), { code: 'ELOOP' });
}

/** Whether output for `path` goes to a FIFO, a device or a socket (see outputTarget). */
export async function isSpecialOutput(path: string): Promise<boolean> {
	return (await outputTarget(path)).special;
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
