/**
 * Output files appear under their final name only when complete: everything is written to a
 * temporary name beside the target and renamed at the end; on failure (or Ctrl-C) the temporary
 * file is removed. A symbolic link is written through (its target is replaced, the link stays);
 * a FIFO or a device (`-o /dev/stdout`) receives the stream as it is written, since it cannot be
 * replaced.
 *
 * Leftovers: what a run cannot remove itself (it was killed with SIGKILL, the machine went down)
 * is recognised by the next run. Temporary directories (`cx-export-<pid>-<host>-XXXXXX` in the temp
 * dir) and extraction staging directories (`.cx-export-staging-<pid>-<host>-XXXXXX` in the target,
 * see extractTo) carry the process id of their owner and a tag of the host it ran on; a later run
 * on the same host removes those whose process no longer exists (removeDeadLeftovers). A live
 * process's directories, other hosts' (a shared or network directory) and anything not named so
 * are never touched.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, fstatSync, rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { lstat, mkdtemp, readdir, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { CxError } from '../errors';
import { once } from 'node:events';

/**
 * What to remove if the process is interrupted: paths (removed recursively) and, for some, the
 * synchronous cleanup that replaces the plain removal (an extraction that must undo its moves).
 */
const pending = new Map<string, (() => void) | undefined>();

/**
 * Removes, synchronously, everything registered as pending (the CLI calls this on SIGINT/SIGTERM
 * and before exiting on an error). Each removal is attempted even if another fails.
 */
export function removePendingNow(): void {
	for (const [path, cleanup] of [...pending].reverse()) {
		try {
			if (cleanup) cleanup();
			else removeTreeNow(path);
		} catch {
			// Best effort: the next run removes what is left (removeDeadLeftovers).
		}
	}
	pending.clear();
}

const NOT_EMPTY = new Set(['ENOTEMPTY', 'EEXIST', 'EBUSY']);

/**
 * Removes `path` and everything under it, synchronously (in a signal handler). The thread pool
 * may still be finishing a file operation started before the signal — creating a file in a
 * directory being removed — so a removal that finds a directory not empty is started over (a few
 * times, a few milliseconds apart: no new operation starts while this runs).
 */
export function removeTreeNow(path: string): void {
	for (let attempt = 1; ; attempt++) {
		try {
			rmSync(path, { recursive: true, force: true });
			return;
		} catch (error) {
			if (attempt >= 20 || !NOT_EMPTY.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
			Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
		}
	}
}

/**
 * Registers `path` as pending: removed by removePendingNow, or by `cleanupNow` (synchronous) when
 * given. Returns the function that unregisters it.
 */
export function registerPending(path: string, cleanupNow?: () => void): () => void {
	pending.set(path, cleanupNow);
	return () => {
		pending.delete(path);
	};
}

/** This host, as leftovers' names carry it: 8 hex digits of a hash of its name. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** `<pid>-<host>`: what the name of a leftover carries so that a later run can tell whether its owner still runs. */
export function ownerTag(pid = process.pid): string {
	return `${pid}-${HOST_TAG}`;
}

/**
 * How much written output may wait for the disk: the writer keeps working while the previous
 * megabytes are written (fs streams default to 16 KiB, which makes every write wait for the one
 * before it).
 */
export const OUT_BUFFER = 4 * 1024 * 1024;

/** Prefix of temporary directories (in the temp dir) and of staging directories (in an extraction's target). */
export const TEMP_DIR_PREFIX = 'cx-export-';
export const STAGING_DIR_PREFIX = '.cx-export-staging-';

/** `<prefix><pid>-<host>-XXXXXX` as mkdtemp makes them (libuv: six letters and digits). */
function leftoverPattern(prefix: string): RegExp {
	return new RegExp(
		`^${prefix.replace(/[.-]/g, '\\$&')}([1-9][0-9]{0,9})-([0-9a-f]{8})-[A-Za-z0-9]{6}$`,
	);
}
const TEMP_DIR_NAME = leftoverPattern(TEMP_DIR_PREFIX);
export const STAGING_DIR_NAME = leftoverPattern(STAGING_DIR_PREFIX);

/**
 * Whether the run that made the leftover `path` (named by `pattern`) is over: made on this host,
 * by a process that no longer exists — or by this very process (a pid can come back, after a
 * container restart) when it is not one of this process's pending paths.
 */
function ownerIsGone(path: string, pattern: RegExp): boolean {
	const match = pattern.exec(basename(path));
	if (!match || match[2] !== HOST_TAG) return false;
	const pid = Number(match[1]);
	if (pid === process.pid) return !pending.has(path);
	try {
		process.kill(pid, 0);
		return false;
	} catch (error) {
		// EPERM: it exists (another user's). Anything else: keep, to be safe.
		return (error as NodeJS.ErrnoException).code === 'ESRCH';
	}
}

/**
 * Removes the leftovers directly in `parent` that `pattern` names and whose owner is gone (see
 * ownerIsGone). `undo`, when given, runs first on each (an extraction killed while it moved files
 * into place takes them back); when it throws, that leftover is kept. Best effort: a leftover that
 * cannot be removed is left for another run. Returns the paths removed.
 */
export async function removeDeadLeftovers(
	parent: string,
	pattern: RegExp,
	undo?: (path: string) => Promise<void>,
): Promise<string[]> {
	let names: string[];
	try {
		names = await readdir(parent);
	} catch {
		return [];
	}
	const removed: string[] = [];
	for (const name of names) {
		const path = join(parent, name);
		if (!pattern.test(name) || !ownerIsGone(path, pattern)) continue;
		try {
			if (!(await lstat(path)).isDirectory()) continue;
			if (undo) await undo(path);
			await rm(path, { recursive: true, force: true });
			removed.push(path);
		} catch {
			// Kept: not ours to force.
		}
	}
	return removed;
}

export function temporaryNameFor(finalPath: string): string {
	return join(
		dirname(finalPath),
		`.${basename(finalPath)}.${randomBytes(4).toString('hex')}.partial`,
	);
}

/**
 * Runs `write` against `out` (once it is open), then ends it and waits until the data is flushed.
 * `how` is 'open' for a stream that opens its file, 'given' for one on a descriptor already open,
 * 'shared' for process.stdout or process.stderr, which stay open: their writes are only flushed.
 */
async function writeThrough<T>(
	out: Writable,
	write: (out: Writable) => Promise<T>,
	how: 'open' | 'given' | 'shared' = 'open',
): Promise<T> {
	// Wait for the file to be open, so that a failure below cannot race its creation and leave it behind.
	if (how === 'open') await once(out, 'ready');
	const result = await write(out);
	if (how === 'shared') {
		if (out.writableEnded) {
			await finished(out);
			return result;
		}
		// Writes complete in order: once this empty one has, every byte before it is written.
		await new Promise<void>((resolve, reject) =>
			out.write(Buffer.alloc(0), (error) => (error ? reject(error) : resolve())),
		);
		return result;
	}
	if (!out.writableEnded) out.end();
	await finished(out);
	return result;
}

/**
 * A stream onto one of this process's descriptors (`-o /dev/stdout`). A file is written through
 * the descriptor, at its offset. Anything else is written by Node's own stdout or stderr, which
 * copes with a pipe or a socket that Node has made non-blocking, or, for another descriptor,
 * opened again through its link (a pipe, a FIFO or a terminal).
 */
function descriptorStream(
	fd: number,
	link: string,
): { out: Writable; how: 'open' | 'given' | 'shared' } {
	if (fstatSync(fd).isFile())
		return {
			out: createWriteStream('', { fd, autoClose: false, highWaterMark: OUT_BUFFER }),
			how: 'given',
		};
	if (fd === 1) return { out: process.stdout, how: 'shared' };
	if (fd === 2) return { out: process.stderr, how: 'shared' };
	return { out: createWriteStream(link, { flags: 'a', highWaterMark: OUT_BUFFER }), how: 'open' };
}

/**
 * Runs `write` against a stream to a temporary file and renames it to the target once `write`
 * has resolved and the data is flushed. Any failure removes the temporary file and rethrows.
 * A symbolic link is written through; a FIFO or a device is written directly (see outputTarget).
 */
export async function writeAtomically<T>(
	target: string,
	write: (out: Writable) => Promise<T>,
): Promise<T> {
	// A failure of the output itself (its folder missing, a full disk) is said in the user's words,
	// naming what they gave, not the temporary file; the caller's own errors pass unchanged.
	let outputFailure: unknown;
	const opened = new Set<string>();
	const watched = (out: Writable, path: string): Writable => {
		opened.add(path);
		out.once('error', (error) => (outputFailure ??= error));
		return out;
	};
	try {
		return await writeTo(target, write, watched);
	} catch (error) {
		// The stream's 'error' event may come after the rejection it caused: a write's failure is
		// known by its system call too (nothing on the input side writes), an open's by its path.
		const { syscall, path } = (error ?? {}) as NodeJS.ErrnoException;
		const ours =
			error === outputFailure ||
			syscall === 'write' ||
			(syscall === 'open' && path !== undefined && opened.has(path));
		throw ours ? outputError(target, error) : error;
	}
}

async function writeTo<T>(
	target: string,
	write: (out: Writable) => Promise<T>,
	watched: (out: Writable, path: string) => Writable,
): Promise<T> {
	let where: Awaited<ReturnType<typeof outputTarget>>;
	try {
		where = await outputTarget(target);
	} catch (error) {
		throw outputError(target, error);
	}
	const { path: finalPath, special, fd } = where;
	if (special) {
		// One of this process's descriptors (`-o /dev/stdout`) is written as it is (descriptorStream).
		// Anything else special is opened for appending: a FIFO or a device takes that as a plain
		// write, and a file reached through another process's descriptor is not cut.
		const { out, how } =
			fd === undefined
				? {
						out: createWriteStream(finalPath, { flags: 'a', highWaterMark: OUT_BUFFER }),
						how: 'open' as const,
					}
				: descriptorStream(fd, finalPath);
		try {
			return await writeThrough(watched(out, finalPath), write, how);
		} catch (error) {
			if (how !== 'shared') out.destroy();
			throw error;
		}
	}
	const temporary = temporaryNameFor(finalPath);
	const untrack = registerPending(temporary);
	const out = createWriteStream(temporary, { flags: 'wx', highWaterMark: OUT_BUFFER });
	try {
		const result = await writeThrough(watched(out, temporary), write);
		await rename(temporary, finalPath).catch((error: unknown) => {
			throw outputError(target, error);
		});
		return result;
	} catch (error) {
		out.destroy();
		await finished(out).catch(() => undefined);
		await rm(temporary, { force: true });
		throw error;
	} finally {
		untrack();
	}
}

/** What keeps a file from being written, in words, by the error's code. */
const OUTPUT_PROBLEMS: Record<string, string> = {
	ENOENT: 'its folder does not exist',
	ENOTDIR: 'a part of its path is not a folder',
	EISDIR: 'it is a folder',
	EACCES: 'permission denied',
	EPERM: 'permission denied',
	EROFS: 'the file system is read-only',
	ELOOP: 'too many levels of symbolic links',
	ENOSPC: 'no space left on the device',
	EDQUOT: 'over the disk quota',
	EFBIG: 'larger than the file system allows',
	ENAMETOOLONG: 'its name is too long',
	ENXIO: 'nothing reads from it (a FIFO without a reader, or a socket)',
};

/** `error` in the user's words when it is one that keeps `target` from being written (OUTPUT_PROBLEMS). */
export function outputError(target: string, error: unknown): unknown {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	if (error instanceof CxError || code === undefined || !(code in OUTPUT_PROBLEMS)) return error;
	return new CxError('IO', `cannot write ${target}: ${OUTPUT_PROBLEMS[code]} (${code})`, {
		where: target,
		cause: error,
	});
}

/**
 * Where output for `path` goes: a symbolic link resolved to what it points at (followed through
 * chains of links, even when the last one dangles), and whether that is a FIFO, a device or a
 * socket (`special`: written directly, as it cannot be replaced). An open descriptor's link
 * (`/dev/stdout`, `/dev/fd/N`) is written directly too, whatever it leads to. A directory is refused.
 */
export async function outputTarget(
	path: string,
): Promise<{ path: string; special: boolean; fd?: number }> {
	let current = path;
	for (let hops = 0; hops < 40; hops++) {
		let info;
		try {
			info = await lstat(current);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT')
				return { path: current, special: false };
			throw error;
		}
		if (info.isSymbolicLink()) {
			const descriptor = await descriptorLink(current);
			if (descriptor) {
				// `-o /dev/stdout` and the like: the descriptor is already open (a pipe, a socket, a
				// terminal, or the file of a shell's `>`), and only the kernel can follow the link.
				const opened = await stat(current);
				if (opened.isDirectory())
					throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
				return { path: current, special: true, fd: descriptor.own ? descriptor.fd : undefined };
			}
			current = resolve(dirname(current), await readlink(current));
			continue;
		}
		if (info.isDirectory())
			throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
		return { path: current, special: !info.isFile() };
	}
	// As the kernel says of a loop of links.
	await stat(path);
	throw Object.assign(new Error(`${path}: too many levels of symbolic links`), { code: 'ELOOP' });
}

/**
 * Whether `link` is one of an open descriptor's links in /proc (`/proc/self/fd/1`, which
 * `/dev/stdout` and `/dev/fd/1` lead to), which descriptor, and whether it is this process's. Their
 * text (`pipe:[1234]`, or the path a file had when it was opened) is not a path to follow.
 */
async function descriptorLink(link: string): Promise<{ fd: number; own: boolean } | undefined> {
	let folder: string;
	try {
		folder = await realpath(dirname(link));
	} catch {
		return undefined;
	}
	const m = /^\/proc\/(\d+)(?:\/task\/\d+)?\/fd$/.exec(folder);
	const name = basename(link);
	if (!m || !/^\d+$/.test(name)) return undefined;
	return { fd: Number(name), own: Number(m[1]) === process.pid };
}

/** Whether output for `path` goes to a FIFO, a device or a socket (see outputTarget). */
export async function isSpecialOutput(path: string): Promise<boolean> {
	return (await outputTarget(path)).special;
}

/** Temp-dir parents already cleared of dead runs' leftovers by this process. */
const swept = new Set<string>();

/**
 * A private temporary directory, `cx-export-<pid>-<host>-XXXXXX` in `parent`; `remove` deletes it
 * (also done on Ctrl-C by the CLI). The first call for a parent removes the temporary directories
 * there of runs that were killed (see removeDeadLeftovers): a reassembled export is as large as the
 * export.
 */
export async function makeTempDir(
	parent = tmpdir(),
): Promise<{ path: string; remove(): Promise<void> }> {
	const where = resolve(parent);
	if (!swept.has(where)) {
		swept.add(where);
		await removeDeadLeftovers(where, TEMP_DIR_NAME);
	}
	const path = await mkdtemp(join(where, `${TEMP_DIR_PREFIX}${ownerTag()}-`));
	const untrack = registerPending(path);
	return {
		path,
		remove: async () => {
			untrack();
			await rm(path, { recursive: true, force: true });
		},
	};
}
