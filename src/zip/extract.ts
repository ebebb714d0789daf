/**
 * Safe streaming extraction of an ordinary zip file on disk: yauzl reads the central directory
 * (through a block reader, see BlockReader); local headers and data are read here.
 *
 * Security decisions, all made before a byte of file data is inflated (from the central
 * directory alone), and made again while streaming where a header could lie:
 * - Names: decoded by yauzl's rules (UTF-8 flag, Info-ZIP Unicode Path extra field, else CP437;
 *   see decodeName for the Info-ZIP-on-Unix exception), backslashes read as separators
 *   (Windows-made zips), then refused with ZIP_UNSAFE when empty,
 *   absolute (`/x`, `C:x`), climbing (`..` segment), holding control characters, or — on Windows —
 *   holding characters or device names Windows gives meaning to. Extraction also checks the final
 *   path lies inside the target directory (zip slip).
 * - Duplicate names (also a file and a directory with the same path; case-insensitively on macOS
 *   and Windows) are refused: different tools would extract different contents.
 * - Symbolic links (unix mode S_IFLNK in the external attributes) are refused. Other unix file
 *   types are extracted as regular files; unix permissions, owners and times from the zip are
 *   ignored (files get the process's default mode).
 * - Encrypted entries and compression methods other than stored (0) and deflate (8) are refused.
 * - Entries whose data overlap (the "overlapping files" zip bomb) are refused.
 * - Limits (ExtractLimits): entry count from the end record, then per entry and in total the
 *   DECLARED uncompressed sizes and ratio (a 4 GiB bomb of zeros is refused in milliseconds), then
 *   while streaming the ACTUAL bytes (inflating past the declared size stops at once: a header
 *   that lies gets nowhere).
 * - The local header must agree with the central directory (name, method): yauzl reads the central
 *   directory, other tools the local headers; an archive where they differ is refused.
 * - Every entry's CRC-32 and size are verified at the end of its stream (yauzl does not check CRC):
 *   a consumer sees ZIP_CRC / ZIP_FORMAT as the stream's error, after the data. `extractTo` only
 *   gives a file its name once it has been verified.
 */
import {
	appendFileSync,
	close as fsClose,
	createReadStream,
	createWriteStream,
	fstat,
	lstatSync,
	mkdirSync,
	open as fsOpen,
	read as fsRead,
	renameSync,
	rmdirSync,
	rmSync,
	type Stats,
} from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createInflateRaw, crc32, inflateRawSync } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { CxError } from '../errors';
import { formatLimit, raiseAdvice, type LimitName } from '../limits';
import { SIG_CENTRAL } from './format';
import { missingPartsMessage } from './parts';
import {
	ownerTag,
	registerPending,
	removeDeadLeftovers,
	removeTreeNow,
	STAGING_DIR_NAME,
	STAGING_DIR_PREFIX,
} from '../pipeline/files';

const READ_CHUNK = 512 * 1024;
/**
 * zlib's output piece for a streamed entry. Each piece is a round trip between zlib's thread and
 * this one, where the records' lines are checked: with 2 MiB pieces instead of 256 KiB, fewer
 * turns are waited for and a multi-MB line is joined from fewer pieces (`cx-export records` on the
 * bench's 1 GiB export: median 5.2 s against 5.55 s over 8 runs side by side; docs/benchmarks.md).
 */
const INFLATE_CHUNK = 2 * 1024 * 1024;
/**
 * Entries of at most this many compressed bytes, declaring at most SMALL_INFLATED uncompressed,
 * are read in one piece through the zip's block reader and inflated in one call.
 */
const SMALL_ENTRY = 64 * 1024;
const SMALL_INFLATED = 1024 * 1024;

export interface ExtractLimits {
	/**
	 * Uncompressed bytes of all entries together (declared, then actual). Protects the disk.
	 * Default 64 GiB: a few times the biggest exports seen (~20 GiB), far below the free space a
	 * bomb would need to do harm on a server that holds such exports.
	 */
	maxTotalBytes: number;
	/**
	 * Uncompressed bytes of one entry. Default 32 GiB: one entity type's JSON Lines file can be
	 * most of an export.
	 */
	maxEntryBytes: number;
	/**
	 * Entries in the central directory (files and directories). Default 1 000 000: a records
	 * export holds a few files per entity type, but an export of attachments or of a file per
	 * record holds hundreds of thousands (300,000 are tested through the nodes; 10 000, the old
	 * default, refused them). What this protects: memory — each entry's metadata is kept between
	 * the two passes, ~210 bytes (about 200 MB at the limit) — and inodes and time against a zip
	 * of a million empty files. A count cannot be declared cheaply: every entry needs its
	 * central record (46 bytes and more) and a local header of its own (30 bytes and more; the
	 * overlap check refuses shared ones), so a million entries is a zip of 76 MB or more.
	 */
	maxEntries: number;
	/**
	 * Uncompressed ÷ compressed size of one entry. Default 200: JSON Lines deflates 5–20x, very
	 * repetitive records maybe 50x; deflate cannot exceed ~1030x, which is what bombs use (4 GiB
	 * of zeros: 1030x). Below 200x an "expansion" needs a download 1/200 of its size, and the size
	 * limits cap it anyway.
	 */
	maxRatio: number;
	/**
	 * Entries up to this many uncompressed bytes are exempt from `maxRatio` (default 1 MiB):
	 * small files of repeated bytes legitimately compress thousands of times and cannot hurt.
	 */
	ratioThresholdBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
	maxTotalBytes: 64 * 1024 ** 3,
	maxEntryBytes: 32 * 1024 ** 3,
	maxEntries: 1_000_000,
	maxRatio: 200,
	ratioThresholdBytes: 1024 ** 2,
});

export interface ZipEntry {
	/** The entry's name as stored (decoded; `/` separators; directories end with `/`). */
	name: string;
	/** Uncompressed size in bytes (declared; verified while streaming). */
	size: number;
	compressedSize: number;
	/** Declared CRC-32 (unsigned), verified at the end of the stream. */
	crc32: number;
	isDirectory: boolean;
	/** Modification time (Info-ZIP / NTFS extra field when present, else the DOS time read as local time). */
	lastModified: Date;
	/**
	 * The entry's uncompressed bytes. The stream fails with ZIP_LIMIT as soon as a limit is crossed,
	 * with ZIP_FORMAT when the data is corrupt or not the declared size, and with ZIP_CRC at the end
	 * when the CRC-32 does not match. Open entries while the generator is suspended on them (before
	 * asking for the next one, or at least before it finishes).
	 */
	open(): Promise<Readable>;
	/**
	 * Checks the entry's local header against the central directory without reading its data
	 * (ZIP_FORMAT when they disagree). `open` does the same; call this for entries a consumer
	 * skips, so that a name that differs between the two cannot hide data from one kind of reader.
	 */
	check(): Promise<void>;
}

/**
 * The entries of the zip at `zipPath`, in central directory order, after every check that can be
 * made from the central directory has passed for ALL entries (nothing is yielded from a zip that
 * is going to be refused for its names, types or declared sizes).
 */
export async function* zipEntries(
	zipPath: string,
	limits: Partial<ExtractLimits> = {},
): AsyncGenerator<ZipEntry> {
	const resolved = resolveLimits(limits);
	const label = basename(zipPath);
	const { zip, reader } = await openZip(zipPath, label);
	try {
		const checked = await readDirectory(zip, reader, label, resolved);
		const budget = { total: 0 };
		for (const item of checked)
			yield toZipEntry(reader, zipPath, zip.fileSize, label, item, resolved, budget);
	} finally {
		zip.close();
	}
}

export interface ExtractedFile {
	/** The entry's name. */
	name: string;
	/** Where it was written. */
	path: string;
	size: number;
	crc32: number;
}

export interface ExtractOptions {
	/**
	 * Replace regular files that already exist in the target directory (default false: the
	 * extraction is refused with IO before anything is moved). A replaced file is kept aside until
	 * every file is in place, and put back if moving fails or is interrupted. Directories, links
	 * and special files in the way are never replaced.
	 */
	overwrite?: boolean;
}

/**
 * Extracts every entry of the zip at `zipPath` under `dir` (created when missing), all or nothing.
 *
 * 1. Staging: every entry is written into a staging directory inside `dir`,
 *    `.cx-export-staging-<pid>-<host>-XXXXXX/files/` (mode 0700; inside `dir`, so moving into
 *    place is a rename), each file verified (size, CRC-32) as its stream ends. `dir` is not
 *    touched otherwise.
 * 2. Check: every path is compared with what `dir` holds, before anything is moved. A file that
 *    exists is refused (IO, naming it and how many of the zip's files exist) unless `overwrite`; a
 *    directory that exists is merged into; a symbolic link in the way is refused (ZIP_UNSAFE:
 *    links are never followed), as is a file where the zip has a directory.
 * 3. Move: renames, whole subtrees where `dir` does not have them (usually one per top-level
 *    entry), journalled in the staging directory (`moving`) before they are made.
 *
 * On any failure everything is undone: moves made are taken back (replaced files restored), the
 * staging directory is removed, and so is `dir` (with the parents) when this call created it. The
 * same is done synchronously on SIGINT/SIGTERM in the CLI (the staging directory is registered with
 * removePendingNow). A run killed outright (SIGKILL) leaves its staging directory: the next
 * extraction into `dir` recognises it by its name, host and dead pid, undoes the moves its journal
 * lists, and removes it (removeDeadLeftovers); a live run's staging directory is never touched.
 *
 * Symbolic links are never created nor followed, and files are created with O_EXCL. Entries may
 * not be named like staging directories. Returns the files written (their final paths).
 */
export async function extractTo(
	zipPath: string,
	dir: string,
	limits: Partial<ExtractLimits> = {},
	options: ExtractOptions = {},
): Promise<ExtractedFile[]> {
	const target = resolve(dir);
	let firstCreated: string | undefined;
	try {
		firstCreated = await mkdir(target, { recursive: true });
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		const why =
			code === 'EEXIST' || code === 'ENOTDIR'
				? ': a file of that name (or of one of the folders above it) is in the way'
				: code === 'EACCES' || code === 'EPERM'
					? ': permission denied'
					: '';
		throw ioError(`cannot create the target directory ${target}${why}`, error);
	}
	let staging: Staging | undefined;
	try {
		// What extractions into this directory that were killed left behind.
		await removeDeadLeftovers(target, STAGING_DIR_NAME, async (path) => undoJournal(path, target));
		staging = await Staging.create(target, firstCreated);
		const files = await stageEntries(
			zipPath,
			staging,
			new TargetCheck(target, options.overwrite === true),
			limits,
		);
		await staging.commit(options.overwrite === true);
		return files;
	} catch (error) {
		if (staging) await staging.abort();
		else removeCreatedSync(target, firstCreated);
		throw error;
	}
}

/** Writes every entry of the zip under the staging directory; returns the files with the paths they will have in the target. */
async function stageEntries(
	zipPath: string,
	staging: Staging,
	check: TargetCheck,
	limits: Partial<ExtractLimits>,
): Promise<ExtractedFile[]> {
	// The staging directory is new and private: nothing is in the way, links included.
	const root = staging.files;
	const files: ExtractedFile[] = [];
	const knownDirs = new Set<string>();
	for await (const entry of zipEntries(zipPath, limits)) {
		const segments = pathSegments(entry.name);
		if (segments[0].toLowerCase().startsWith(STAGING_DIR_PREFIX)) {
			throw new CxError(
				'ZIP_UNSAFE',
				`entry ${shownName(entry.name)} is named like cx-export's staging directories (${STAGING_DIR_PREFIX}…); refusing to extract this zip`,
				{ where: entry.name },
			);
		}
		// Joined, not spread into resolve(): the segment count comes from the zip.
		const inside = segments.join(sep);
		const path = resolve(root, inside);
		const relativePath = relative(root, path);
		if (
			relativePath === '' ||
			relativePath === '..' ||
			relativePath.startsWith(`..${sep}`) ||
			isAbsolute(relativePath)
		) {
			throw new CxError(
				'ZIP_UNSAFE',
				`entry ${shownName(entry.name)} would be written outside ${staging.target}; refusing to extract this zip`,
				{ where: entry.name },
			);
		}
		await check.entry(segments, entry.isDirectory);
		if (entry.isDirectory) {
			await ensureDirectories(root, segments, knownDirs, entry.name);
			continue;
		}
		await ensureDirectories(root, segments.slice(0, -1), knownDirs, entry.name);
		const finalPath = join(staging.target, inside);
		try {
			// 'wx': O_CREAT | O_EXCL — never opens an existing file or follows a link.
			const source = await entry.open();
			const out = createWriteStream(path, { flags: 'wx' });
			try {
				// Wait until the file exists: a read error racing the asynchronous open would
				// otherwise let the cleanup run before the file appears, leaving it behind.
				await once(out, 'ready');
				await pipeline(source, out);
			} catch (error) {
				source.destroy();
				out.destroy();
				throw error;
			} finally {
				// pipeline settles on the first error; the descriptor may still be closing.
				if (!out.closed) await once(out, 'close').catch(() => undefined);
			}
		} catch (error) {
			if (error instanceof CxError) throw error;
			throw ioError(`writing ${finalPath} failed`, error);
		}
		files.push({ name: entry.name, path: finalPath, size: entry.size, crc32: entry.crc32 });
	}
	return files;
}

/** Creates the directories `segments` leads through under `root`, refusing links and files in the way. */
async function ensureDirectories(
	root: string,
	segments: string[],
	known: Set<string>,
	entryName: string,
): Promise<void> {
	let path = root;
	for (const segment of segments) {
		path = join(path, segment);
		if (known.has(path)) continue;
		try {
			await mkdir(path);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
				throw ioError(`cannot create the directory ${path}`, error);
			const info = await lstat(path);
			if (info.isSymbolicLink()) {
				throw new CxError(
					'ZIP_UNSAFE',
					`${path} is a symbolic link; entry ${JSON.stringify(entryName)} would be written through it: refusing`,
					{ where: entryName },
				);
			}
			if (!info.isDirectory())
				throw new CxError(
					'IO',
					`${path} exists and is not a directory; entry ${JSON.stringify(entryName)} needs a directory there`,
					{ where: entryName },
				);
		}
		known.add(path);
	}
}

/** Renames made between two turns of the event loop (a signal is handled between batches, never inside one). */
const MOVE_BATCH = 256;
/** The journal of moves in a staging directory: one line per move, written before the move. */
const JOURNAL = 'moving';

/**
 * One move into place: the staged `rel` (`/`-separated, relative to the target) to the same path
 * in the target; with `aside`, the file there is first renamed to `replaced/<aside>` in the
 * staging directory.
 */
interface Move {
	rel: string;
	aside?: number;
}

/** A staging directory of extractTo, and the moves out of it. */
class Staging {
	/** Moves journalled so far (all made, or under way when something failed). */
	private readonly journalled: Move[] = [];
	private state: 'staging' | 'moving' | 'done' = 'staging';

	private constructor(
		readonly target: string,
		readonly root: string,
		private readonly firstCreated: string | undefined,
		private readonly untrack: () => void,
	) {}

	/** Where the entries are written. */
	get files(): string {
		return join(this.root, 'files');
	}

	static async create(target: string, firstCreated: string | undefined): Promise<Staging> {
		let root: string;
		try {
			root = await mkdtemp(join(target, `${STAGING_DIR_PREFIX}${ownerTag()}-`));
		} catch (error) {
			throw ioError(`cannot create a staging directory in ${target}`, error);
		}
		let staging: Staging | undefined;
		const untrack = registerPending(root, () => staging?.abortNow());
		staging = new Staging(target, root, firstCreated, untrack);
		await mkdir(staging.files).catch((error: unknown) => {
			throw ioError(`cannot create a staging directory in ${target}`, error);
		});
		return staging;
	}

	/** Checks every staged path against the target, then moves them into place (see extractTo). */
	async commit(overwrite: boolean): Promise<void> {
		const moves = await this.plan(overwrite);
		const journal = join(this.root, JOURNAL);
		this.state = 'moving';
		if (moves.some((m) => m.aside !== undefined)) mkdirSync(join(this.root, 'replaced'));
		for (let i = 0; i < moves.length; i += MOVE_BATCH) {
			// Synchronous within a batch: an interruption finds every journalled move made.
			if (i > 0) await new Promise((resolveTurn) => setImmediate(resolveTurn));
			const batch = moves.slice(i, i + MOVE_BATCH);
			appendFileSync(journal, batch.map(journalLine).join(''));
			for (const move of batch) this.journalled.push(move);
			for (const move of batch) {
				const placed = join(this.target, move.rel);
				try {
					if (move.aside !== undefined) renameSync(placed, asidePath(this.root, move.aside));
					renameSync(join(this.files, move.rel), placed);
				} catch (error) {
					throw ioError(
						`cannot move the extracted ${JSON.stringify(move.rel)} into place at ${placed}`,
						error,
					);
				}
			}
		}
		// Done: without its journal, the staging directory holds nothing to undo (empty directories, replaced files).
		rmSync(journal, { force: true });
		this.state = 'done';
		await rm(this.root, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined);
		this.untrack();
	}

	/**
	 * Undoes the moves, removes the staging directory, and the target if this call created it.
	 * When a move cannot be taken back, the staging directory stays (it may hold replaced files):
	 * a later extraction into the target tries again.
	 */
	async abort(): Promise<void> {
		if (this.state !== 'moving' || this.undo()) {
			await rm(this.root, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined);
			removeCreatedSync(this.target, this.firstCreated);
		}
		this.untrack();
	}

	/** abort (or, once done, the removal of the emptied staging directory), synchronously: on SIGINT/SIGTERM. */
	abortNow(): void {
		this.untrack();
		if (this.state === 'moving' && !this.undo()) return;
		removeTreeNow(this.root);
		if (this.state !== 'done') removeCreatedSync(this.target, this.firstCreated);
	}

	/** Takes back the journalled moves; false (the staging directory must stay) when one cannot be. */
	private undo(): boolean {
		try {
			undoMoves(this.root, this.target, this.journalled);
			return true;
		} catch {
			return false;
		}
	}

	/**
	 * The moves that put the staged tree into the target: a path the target does not have moves
	 * whole; a directory it has is merged into. Nothing is moved here; every problem is found first.
	 */
	private async plan(overwrite: boolean): Promise<Move[]> {
		const moves: Move[] = [];
		let asides = 0;
		const walk = async (rel: string): Promise<void> => {
			// What the target has here, listed once: a path it lacks (all of them, in a new or empty
			// target) costs no system call; the others are looked at with lstat.
			const present = await Listing.of(join(this.target, rel));
			for (const name of await readdir(join(this.files, rel))) {
				const path = rel === '' ? name : `${rel}/${name}`;
				const placed = join(this.target, path);
				const existing = present.mayHave(name) ? await lstatIfAny(placed) : undefined;
				if (!existing) moves.push({ rel: path });
				else if ((await lstat(join(this.files, path))).isDirectory()) {
					refuseAsDirectory(existing, placed, path);
					await walk(path);
				} else if (overwrite && existing.isFile()) moves.push({ rel: path, aside: asides++ });
				else throw alreadyExists(existing, placed, path);
			}
		};
		await walk('');
		return moves;
	}
}

/**
 * What the target holds on the paths of the entries, looked up while they are staged (lstat,
 * cached per directory; nothing below a directory the target lacks): an extraction into a
 * directory that holds the files already fails at the first of them, not after the whole export.
 * The check before moving (Staging.plan) decides again, on what the target holds then.
 */
class TargetCheck {
	/** Relative directory → whether the target has it. */
	private readonly dirs = new Map<string, boolean>();
	/** The target's own entries, listed at the first entry. */
	private top: Listing | undefined;

	constructor(
		private readonly target: string,
		private readonly overwrite: boolean,
	) {}

	async entry(segments: string[], isDirectory: boolean): Promise<void> {
		this.top ??= await Listing.of(this.target);
		if (!this.top.mayHave(segments[0])) return;
		const dirCount = isDirectory ? segments.length : segments.length - 1;
		let rel = '';
		for (let i = 0; i < dirCount; i++) {
			rel = i === 0 ? segments[0] : `${rel}/${segments[i]}`;
			let present = this.dirs.get(rel);
			if (present === undefined) {
				const placed = join(this.target, rel);
				const info = await lstatIfAny(placed);
				if (info) refuseAsDirectory(info, placed, rel);
				present = info !== undefined;
				this.dirs.set(rel, present);
			}
			if (!present) return;
		}
		if (isDirectory) return;
		rel = segments.join('/');
		const placed = join(this.target, rel);
		const info = await lstatIfAny(placed);
		if (info && !(this.overwrite && info.isFile())) throw alreadyExists(info, placed, rel);
	}
}

const CASE_INSENSITIVE = process.platform === 'darwin' || process.platform === 'win32';

/**
 * The names in a directory, to tell which paths certainly do not exist there without a system
 * call each. On macOS and Windows names are compared case- and normalisation-insensitively, as
 * their file systems usually do ("may have": lstat decides).
 */
class Listing {
	private constructor(private readonly names: Set<string>) {}

	static async of(dir: string): Promise<Listing> {
		let names: string[];
		try {
			names = await readdir(dir);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') names = [];
			else throw ioError(`cannot list ${dir}`, error);
		}
		return new Listing(new Set(CASE_INSENSITIVE ? names.map(foldName) : names));
	}

	mayHave(name: string): boolean {
		return this.names.has(CASE_INSENSITIVE ? foldName(name) : name);
	}
}

function foldName(name: string): string {
	return name.normalize('NFC').toLowerCase();
}

async function lstatIfAny(path: string): Promise<Stats | undefined> {
	try {
		return await lstat(path);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw ioError(`cannot check ${path}`, error);
	}
}

/** Refuses what the target has where the zip has the directory `rel`, unless it is a directory (links are never followed). */
function refuseAsDirectory(info: Stats, placed: string, rel: string): void {
	if (info.isSymbolicLink()) {
		throw new CxError(
			'ZIP_UNSAFE',
			`${placed} is a symbolic link in the target directory; the zip's entries under ${JSON.stringify(`${rel}/`)} would be written through it: refusing`,
			{ where: rel },
		);
	}
	if (!info.isDirectory())
		throw new CxError(
			'IO',
			`${placed} exists and is not a directory; the zip has a directory ${JSON.stringify(`${rel}/`)} there`,
			{ where: rel },
		);
}

function alreadyExists(info: Stats, placed: string, rel: string): CxError {
	return new CxError(
		'IO',
		`${placed} already exists${info.isFile() ? '' : ' and is not a regular file'}; nothing was extracted: extract into a new or empty directory, or move what is there away first`,
		{ where: rel },
	);
}

function journalLine(move: Move): string {
	return move.aside === undefined ? `M\t${move.rel}\n` : `R\t${move.aside}\t${move.rel}\n`;
}

function asidePath(root: string, aside: number): string {
	return join(root, 'replaced', String(aside));
}

function exists(path: string): boolean {
	return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/**
 * Takes moves back, last first: a staged path that is gone and is in the target was moved: it goes
 * back; a replaced file kept aside is put back. Safe to run on moves not (or half) made. Throws
 * when a rename fails.
 */
function undoMoves(root: string, target: string, moves: Move[]): void {
	for (let i = moves.length - 1; i >= 0; i--) {
		const { rel, aside } = moves[i];
		const staged = join(root, 'files', rel);
		const placed = join(target, rel);
		if (!exists(staged) && exists(placed)) renameSync(placed, staged);
		if (aside !== undefined && exists(asidePath(root, aside)))
			renameSync(asidePath(root, aside), placed);
	}
}

/**
 * Undoes the moves that the journal of the staging directory `root` lists (a run killed while
 * moving). Lines that do not parse, or name a path that could lead outside the target, are
 * ignored. Throws when a move cannot be taken back (the staging directory is then kept).
 */
async function undoJournal(root: string, target: string): Promise<void> {
	let text: string;
	try {
		text = await readFile(join(root, JOURNAL), 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
		throw error;
	}
	const moves: Move[] = [];
	for (const line of text.split('\n')) {
		const m = /^(?:M|R\t(\d{1,9}))\t(.+)$/.exec(line);
		if (
			!m ||
			unsafeNameReason(m[2]) !== undefined ||
			m[2].split('/').some((s) => s === '' || s === '.')
		)
			continue;
		moves.push({ rel: m[2], aside: m[1] === undefined ? undefined : Number(m[1]) });
	}
	undoMoves(root, target, moves);
}

/** Removes `target` and the parents mkdir created for it (`firstCreated`), innermost first, when empty. */
function removeCreatedSync(target: string, firstCreated: string | undefined): void {
	if (firstCreated === undefined) return;
	for (let d = target; d.length >= firstCreated.length; d = dirname(d)) {
		try {
			rmdirSync(d);
		} catch {
			return;
		}
		if (d === firstCreated) break;
	}
}

/** The path segments of a checked entry name: no empty or `.` segments. */
export function pathSegments(name: string): string[] {
	return name.split('/').filter((s) => s !== '' && s !== '.');
}

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/**
 * Why an entry name must not be extracted, or undefined when it is fine. `name` is the decoded
 * name with `/` separators.
 */
/** An entry name as messages quote it: JSON-quoted, and shortened past 200 characters. */
function shownName(name: string): string {
	return JSON.stringify(name.length > 200 ? `${name.slice(0, 120)}…${name.slice(-60)}` : name);
}

/** The longest file name (one path segment) file systems take, in bytes. */
const MAX_SEGMENT_BYTES = 255;
/** The longest entry path extracted, in bytes: room is left for the target directory within PATH_MAX (4096). */
const MAX_NAME_BYTES = 1024;

export function unsafeNameReason(
	name: string,
	platform: NodeJS.Platform = process.platform,
): string | undefined {
	if (name === '') return 'has an empty name';
	if (/[\x00-\x1f\x7f]/.test(name)) return 'has control characters in its name';
	if (name.includes('\\')) return 'has a backslash in its name';
	if (name.startsWith('/')) return 'is an absolute path';
	if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
	const raw = name.split('/');
	if (raw.includes('..')) return 'has a ".." segment that climbs out of the target directory';
	const segments = pathSegments(name);
	if (segments.length === 0) return 'has no file name';
	// File systems take at most 255 bytes per name and about 4 KiB per path (the target's included):
	// refused here, by name, rather than as a failed write quoting the whole path.
	const long = segments.find((segment) => Buffer.byteLength(segment) > MAX_SEGMENT_BYTES);
	if (long !== undefined)
		return `has a name segment of ${Buffer.byteLength(long)} bytes, more than the ${MAX_SEGMENT_BYTES} file systems allow`;
	if (Buffer.byteLength(name) > MAX_NAME_BYTES)
		return `has a path of ${Buffer.byteLength(name)} bytes, more than ${MAX_NAME_BYTES}`;
	if (platform === 'win32') {
		for (const segment of segments) {
			if (/[<>:"|?*]/.test(segment))
				return `has a character Windows does not allow in file names (${segment})`;
			if (/[. ]$/.test(segment))
				return `has a segment ending in a dot or space, which Windows drops (${segment})`;
			if (WINDOWS_DEVICE.test(segment)) return `names a Windows device (${segment})`;
		}
	}
	return undefined;
}

function resolveLimits(limits: Partial<ExtractLimits>): ExtractLimits {
	const resolved: ExtractLimits = { ...DEFAULT_LIMITS };
	for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ExtractLimits)[]) {
		const value = limits[key];
		if (value === undefined) continue;
		if (typeof value !== 'number' || Number.isNaN(value) || value < 0)
			throw new CxError('USAGE', `limit ${key} must be a number ≥ 0 (got ${String(value)})`);
		resolved[key] = value;
	}
	return resolved;
}

/** Bytes the block reader reads at a time, and keeps. */
const BLOCK = 1024 * 1024;

/**
 * yauzl's reader over an open file, reading in 1 MiB blocks and answering small reads from the
 * last block. yauzl reads every central directory record (and every local header) with its own
 * small reads; one `fs.read` each — a round trip through libuv's thread pool — made 300,000
 * entries take 30 s just to list. Served from a block, in file order, they cost a copy.
 * Answers from the block come asynchronously (process.nextTick), without a turn of the event loop
 * for each of the three reads an entry takes.
 */
class BlockReader extends yauzl.RandomAccessReader {
	private block: { start: number; data: Buffer } | undefined;
	private closed = false;

	constructor(
		private readonly fd: number,
		/** The file's size: no read goes outside it, whatever an offset in the zip says. */
		private readonly size: number,
	) {
		super();
	}

	/**
	 * Why a read of `length` bytes at `position` cannot be made (an offset from a hostile or damaged
	 * zip: past the end, negative, 2^63), or undefined. Checked before any fs call: Node throws
	 * ERR_OUT_OF_RANGE synchronously for such positions, and inside yauzl's callbacks that throw
	 * would be an uncaught exception, not this zip's error.
	 */
	private outside(position: number, length: number): Error | undefined {
		if (
			Number.isSafeInteger(position) &&
			Number.isSafeInteger(length) &&
			position >= 0 &&
			length >= 0 &&
			position + length <= this.size
		)
			return undefined;
		const where = Number.isSafeInteger(position)
			? `${length} bytes at offset ${position}`
			: `${length} bytes at an offset beyond any file (${position})`;
		return Object.assign(
			new Error(`the zip points outside the file: ${where}, in a file of ${this.size} bytes`),
			{ code: 'ERR_ZIP_OUTSIDE' },
		);
	}

	/** Reads `length` bytes at `position` (fewer only at the end of the file). */
	readAt(position: number, length: number): Promise<Buffer> {
		return new Promise((resolvePromise, reject) => {
			const buffer = Buffer.allocUnsafe(length);
			this.read(buffer, 0, length, position, ((error: Error | null, bytesRead: number) => {
				if (error) reject(error);
				else resolvePromise(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
			}) as (error: Error | null) => void);
		});
	}

	override read(
		buffer: Buffer,
		offset: number,
		length: number,
		position: number,
		callback: (error: Error | null) => void,
	): void {
		const done = callback as (error: Error | null, bytesRead?: number) => void;
		if (this.closed) {
			// Never a read on a closed descriptor: its number may already belong to another file.
			const error = Object.assign(
				new Error(
					'the zip was closed before this read (open an entry before asking for the next one)',
				),
				{ code: 'ERR_ZIP_CLOSED' },
			);
			setImmediate(() => done(error));
			return;
		}
		const outside = this.outside(position, length);
		if (outside) {
			setImmediate(() => done(outside));
			return;
		}
		const cached = this.block;
		if (
			cached &&
			position >= cached.start &&
			position + length <= cached.start + cached.data.length
		) {
			cached.data.copy(buffer, offset, position - cached.start, position - cached.start + length);
			process.nextTick(done, null, length);
			return;
		}
		if (length > BLOCK / 2) {
			// Large reads go straight to the file (and are not kept).
			fsRead(this.fd, buffer, offset, length, position, (error, bytesRead) =>
				done(error, bytesRead),
			);
			return;
		}
		const data = Buffer.allocUnsafe(BLOCK);
		fsRead(this.fd, data, 0, BLOCK, position, (error, bytesRead) => {
			if (error) return done(error);
			this.block = { start: position, data: data.subarray(0, bytesRead) };
			const n = Math.min(length, bytesRead);
			data.copy(buffer, offset, 0, n);
			done(null, n);
		});
	}

	override _readStreamForRange(start: number, end: number): Readable {
		const outside = this.outside(start, end - start);
		if (outside) {
			// An empty stream that fails: the error reaches the entry's reader, never the event loop.
			const failing = new Readable({ read() {} });
			process.nextTick(() => failing.destroy(outside));
			return failing;
		}
		return createReadStream('', {
			fd: this.fd,
			start,
			end: end - 1,
			autoClose: false,
			highWaterMark: READ_CHUNK,
		});
	}

	override close(callback: (error: Error | null) => void): void {
		this.block = undefined;
		if (this.closed) {
			setImmediate(() => callback(null));
			return;
		}
		this.closed = true;
		fsClose(this.fd, (error) => callback(error ?? null));
	}
}

interface OpenedZip {
	zip: ZipFile;
	reader: BlockReader;
}

async function openZip(zipPath: string, label: string): Promise<OpenedZip> {
	let fd: number;
	let size: number;
	try {
		fd = await new Promise<number>((resolvePromise, reject) =>
			fsOpen(zipPath, 'r', (error, opened) => (error ? reject(error) : resolvePromise(opened))),
		);
	} catch (error) {
		throw zipError(label, error);
	}
	try {
		size = await new Promise<number>((resolvePromise, reject) =>
			fstat(fd, (error, stats) => (error ? reject(error) : resolvePromise(stats.size))),
		);
	} catch (error) {
		fsClose(fd, () => undefined);
		throw zipError(label, error);
	}
	const reader = new BlockReader(fd, size);
	return new Promise((resolvePromise, reject) => {
		yauzl.fromRandomAccessReader(
			reader,
			size,
			// decodeStrings false: names are decoded and checked here, so that a bad name is an error
			// naming the entry. autoClose false: the file stays open between the two passes.
			{
				lazyEntries: true,
				autoClose: false,
				decodeStrings: false,
				validateEntrySizes: true,
				strictFileNames: false,
			},
			(error, zip) => {
				if (error) {
					reader.close(() => undefined);
					reject(zipError(label, error));
				} else resolvePromise({ zip, reader });
			},
		);
	});
}

/** A yauzl or file system error, as a CxError about the zip. */
function zipError(label: string, error: unknown, entry?: string): CxError {
	if (error instanceof CxError) return error;
	const e = error as NodeJS.ErrnoException;
	if (typeof e.code === 'string' && !e.code.startsWith('Z_') && e.code !== 'ERR_ZIP_OUTSIDE')
		return ioError(`${label}: cannot read it`, error);
	const message = error instanceof Error ? error.message : String(error);
	const about = entry === undefined ? '' : ` (entry ${JSON.stringify(entry)})`;
	// yauzl reads the end record's disk number: N > 0 is the final part of a split zip, given alone.
	const disk = /multi-disk zip files are not supported: found disk number: (\d+)/.exec(message);
	if (disk && Number(disk[1]) > 0)
		return new CxError('PART_MISSING', missingPartsMessage(label, Number(disk[1]) + 1, [label]), {
			where: label,
			cause: error,
		});
	const hint = /multi-disk/.test(message)
		? ': this is one part of a split zip; reassemble the parts first'
		: '';
	return new CxError('ZIP_FORMAT', `${label}: not a valid zip file${about}: ${message}${hint}`, {
		where: entry ?? label,
		cause: error,
	});
}

function ioError(message: string, error: unknown): CxError {
	const e = error as NodeJS.ErrnoException;
	return new CxError(
		'IO',
		`${message} (${e?.code ?? (error instanceof Error ? error.message : String(error))})`,
		{ cause: error },
	);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The entry's name by yauzl's rules (UTF-8 flag, Info-ZIP Unicode Path extra field, else CP437),
 * with one exception: Info-ZIP 3.0 on Unix stores names as raw (UTF-8) bytes without setting the
 * UTF-8 flag, so a name made on Unix (version made by, upper byte 3) without the flag or the extra
 * field, whose bytes are valid UTF-8, is read as UTF-8 — as unzip does on Unix — not as CP437
 * (`résumé.json`, not `r├⌐sum├⌐.json`).
 */
function decodeName(entry: Entry): string {
	const raw = entry.fileNameRaw;
	const flagged = (entry.generalPurposeBitFlag & 0x800) !== 0;
	const unicodeExtra = entry.extraFields.some((f) => f.id === 0x7075);
	if (!flagged && !unicodeExtra && entry.versionMadeBy >> 8 === 3 && raw.some((b) => b >= 0x80)) {
		try {
			return UTF8.decode(raw).replace(/\\/g, '/');
		} catch {
			// Not UTF-8: CP437 below.
		}
	}
	return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
}

/**
 * What is kept of each entry between the two passes: only what reading it needs. (yauzl's Entry
 * objects, with their buffers and extra fields, cost ~1.1 KB each: 1 GB at a million entries.)
 */
class CheckedEntry {
	constructor(
		readonly name: string,
		/** The name's bytes as stored (latin1), compared with the local header's. */
		readonly rawName: string,
		readonly isDirectory: boolean,
		readonly localHeaderOffset: number,
		readonly compressedSize: number,
		readonly uncompressedSize: number,
		/** Unsigned. */
		readonly crc32: number,
		readonly compressionMethod: number,
		/** Epoch ms. */
		readonly lastModified: number,
	) {}
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** The first pass: every entry of the central directory, checked; nothing inflated. */
async function readDirectory(
	zip: ZipFile,
	reader: BlockReader,
	label: string,
	limits: ExtractLimits,
): Promise<CheckedEntry[]> {
	if (zip.entryCount > limits.maxEntries) {
		throw new CxError(
			'ZIP_LIMIT',
			`${label} has ${zip.entryCount} entries, more than the entry count limit (${limits.maxEntries}); if you trust this file, ${raiseAdvice('maxEntries')}`,
			{ where: label, limit: 'maxEntries' },
		);
	}
	const caseInsensitive = process.platform === 'win32' || process.platform === 'darwin';
	const keyOf = (segments: string[]) => {
		const key = segments.join('/');
		return caseInsensitive ? key.normalize('NFC').toLowerCase() : key;
	};
	const files = new Map<string, string>();
	const dirs = new Map<string, string>();
	const checked: CheckedEntry[] = [];
	let declaredTotal = 0;
	const refuse = (
		code: 'ZIP_UNSAFE' | 'ZIP_FORMAT' | 'ZIP_LIMIT',
		name: string,
		message: string,
		limit?: LimitName,
	) => new CxError(code, `${label}: entry ${shownName(name)} ${message}`, { where: name, limit });

	let iterator: AsyncIterableIterator<Entry>;
	try {
		iterator = zip.eachEntry();
	} catch (error) {
		throw zipError(label, error);
	}
	for (;;) {
		let step: IteratorResult<Entry>;
		try {
			step = await iterator.next();
		} catch (error) {
			throw zipError(label, error);
		}
		if (step.done) break;
		const entry = step.value;
		const name = decodeName(entry);
		const reason = unsafeNameReason(name);
		if (reason) throw refuse('ZIP_UNSAFE', name, `${reason}; refusing to extract this zip`);
		const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
		if (mode === S_IFLNK)
			throw refuse(
				'ZIP_UNSAFE',
				name,
				'is a symbolic link; links are never extracted (refusing this zip)',
			);
		if (entry.generalPurposeBitFlag & 0x01)
			throw refuse('ZIP_FORMAT', name, 'is encrypted (password-protected zip); not supported');
		if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
			throw refuse(
				'ZIP_FORMAT',
				name,
				`uses compression method ${entry.compressionMethod}; only stored (0) and deflate (8) are supported`,
			);
		}
		const isDirectory = name.endsWith('/');

		// Declared sizes, before anything is inflated.
		const size = entry.uncompressedSize;
		if (size > limits.maxEntryBytes) {
			throw refuse(
				'ZIP_LIMIT',
				name,
				`declares ${size} bytes, more than the entry size limit, ${formatLimit('maxEntryBytes', limits.maxEntryBytes)}; if you trust this file, ${raiseAdvice('maxEntryBytes')}`,
				'maxEntryBytes',
			);
		}
		if (size > limits.ratioThresholdBytes && size > limits.maxRatio * entry.compressedSize) {
			const ratio =
				entry.compressedSize === 0 ? 'infinitely' : `${Math.round(size / entry.compressedSize)}x`;
			throw refuse(
				'ZIP_LIMIT',
				name,
				`declares ${size} bytes from ${entry.compressedSize} compressed (${ratio}), more than the compression ratio limit (${limits.maxRatio}x): a zip bomb? if you trust this file, ${raiseAdvice('maxRatio')}`,
				'maxRatio',
			);
		}
		declaredTotal += size;
		if (declaredTotal > limits.maxTotalBytes) {
			throw new CxError(
				'ZIP_LIMIT',
				`${label}: its entries declare more than the total size limit, ${formatLimit('maxTotalBytes', limits.maxTotalBytes)} uncompressed (reached at entry ${shownName(name)}); if you trust this file, ${raiseAdvice('maxTotalBytes')}`,
				{ where: name, limit: 'maxTotalBytes' },
			);
		}

		// One path, one entry.
		const segments = pathSegments(name);
		const key = keyOf(segments);
		for (let i = 1; i < segments.length; i++) {
			const parent = keyOf(segments.slice(0, i));
			const file = files.get(parent);
			if (file !== undefined)
				throw refuse(
					'ZIP_UNSAFE',
					name,
					`needs ${JSON.stringify(file)} to be a directory, but it is a file in this zip; refusing`,
				);
			if (!dirs.has(parent)) dirs.set(parent, name);
		}
		if (isDirectory) {
			const file = files.get(key);
			if (file !== undefined)
				throw refuse(
					'ZIP_UNSAFE',
					name,
					`is a directory with the same path as the file ${JSON.stringify(file)}; refusing`,
				);
			dirs.set(key, name);
		} else {
			const other = files.get(key) ?? dirs.get(key);
			if (other !== undefined) {
				throw refuse(
					'ZIP_UNSAFE',
					name,
					`has the same path as ${other === name ? 'another entry' : `entry ${JSON.stringify(other)}`} (duplicate names); refusing, tools disagree on which one wins`,
				);
			}
			files.set(key, name);
		}
		checked.push(
			new CheckedEntry(
				name,
				entry.fileNameRaw.toString('latin1'),
				isDirectory,
				entry.relativeOffsetOfLocalHeader,
				entry.compressedSize,
				entry.uncompressedSize,
				entry.crc32 >>> 0,
				entry.compressionMethod,
				entry.getLastModDate().getTime(),
			),
		);
	}

	// The end record's entry count must be the central directory's: yauzl reads as many entries as
	// the count says, other tools read the directory to its end. Fewer would hide entries from one
	// kind of reader (and extract an incomplete export without a word).
	const cursor = (zip as unknown as { readEntryCursor?: number }).readEntryCursor;
	if (typeof cursor === 'number' && cursor + 4 <= zip.fileSize) {
		let next: Buffer;
		try {
			next = await reader.readAt(cursor, 4);
		} catch (error) {
			throw zipError(label, error);
		}
		if (next.readUInt32LE(0) === SIG_CENTRAL) {
			throw new CxError(
				'ZIP_FORMAT',
				`${label}: its end record says it holds ${zip.entryCount} ${zip.entryCount === 1 ? 'entry' : 'entries'}, but its central directory holds more: corrupt, or made to hide entries from some readers`,
				{ where: label },
			);
		}
	}

	// Overlapping entries: each local header is at least 30 + name bytes before its data.
	const byOffset = [...checked].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
	for (let i = 0; i + 1 < byOffset.length; i++) {
		const a = byOffset[i];
		const b = byOffset[i + 1];
		if (
			a.localHeaderOffset + LOCAL_HEADER_SIZE + a.rawName.length + a.compressedSize >
			b.localHeaderOffset
		) {
			throw refuse(
				'ZIP_UNSAFE',
				a.name,
				`overlaps entry ${JSON.stringify(b.name)} in the file (overlapping entries are a zip bomb technique); refusing`,
			);
		}
	}
	return checked;
}

const LOCAL_HEADER_SIZE = 30;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;

/** Reads an entry's local header (as yauzl's readLocalFileHeader does): where its data starts, its name and method. */
async function readLocalHeader(
	reader: BlockReader,
	item: CheckedEntry,
	fileSize: number,
): Promise<{ rawName: string; compressionMethod: number; dataStart: number }> {
	const fixed = await reader.readAt(item.localHeaderOffset, LOCAL_HEADER_SIZE);
	if (fixed.length < LOCAL_HEADER_SIZE) throw new Error('unexpected EOF');
	const signature = fixed.readUInt32LE(0);
	if (signature !== LOCAL_HEADER_SIGNATURE)
		throw new Error(`invalid local file header signature: 0x${signature.toString(16)}`);
	const nameLength = fixed.readUInt16LE(26);
	const dataStart =
		item.localHeaderOffset + LOCAL_HEADER_SIZE + nameLength + fixed.readUInt16LE(28);
	if (dataStart + item.compressedSize > fileSize)
		throw new Error(
			`file data overflows file bounds: ${dataStart} + ${item.compressedSize} > ${fileSize}`,
		);
	const name = await reader.readAt(item.localHeaderOffset + LOCAL_HEADER_SIZE, nameLength);
	if (name.length < nameLength) throw new Error('unexpected EOF');
	return { rawName: name.toString('latin1'), compressionMethod: fixed.readUInt16LE(8), dataStart };
}

function toZipEntry(
	reader: BlockReader,
	zipPath: string,
	fileSize: number,
	label: string,
	item: CheckedEntry,
	limits: ExtractLimits,
	budget: { total: number },
): ZipEntry {
	const { name } = item;
	return {
		name,
		size: item.uncompressedSize,
		compressedSize: item.compressedSize,
		crc32: item.crc32,
		isDirectory: item.isDirectory,
		lastModified: new Date(item.lastModified),
		check: async () => {
			await checkedLocalHeader(reader, item, fileSize, label);
		},
		open: async () => {
			const local = await checkedLocalHeader(reader, item, fileSize, label);
			// The compressed bytes, exactly compressedSize of them. A small entry's come from the
			// reader's block (usually already read with its local header: no file opened per entry);
			// a larger one streams in large chunks: inflate throughput depends on the input chunk
			// size (64 KiB reads cost about half the speed).
			const ctx: VerifyContext = { label, name, entry: item, limits, budget };
			let chunks: AsyncIterable<Buffer>;
			if (item.compressedSize === 0) chunks = decoded(Readable.from([]), item.compressionMethod);
			else if (item.compressedSize <= SMALL_ENTRY && item.uncompressedSize <= SMALL_INFLATED) {
				let bytes: Buffer;
				try {
					bytes = await reader.readAt(local.dataStart, item.compressedSize);
				} catch (error) {
					throw zipError(label, error, name);
				}
				chunks = decodedAtOnce(bytes, ctx);
			} else {
				chunks = decoded(
					createReadStream(zipPath, {
						start: local.dataStart,
						end: local.dataStart + item.compressedSize - 1,
						highWaterMark: READ_CHUNK,
					}),
					item.compressionMethod,
				);
			}
			return Readable.from(verified(chunks, ctx), { objectMode: false, highWaterMark: 64 * 1024 });
		},
	};
}

/**
 * The entry's local header, once it agrees with the central directory (name, method): yauzl and
 * we read the central directory, streaming readers the local headers.
 */
async function checkedLocalHeader(
	reader: BlockReader,
	item: CheckedEntry,
	fileSize: number,
	label: string,
): Promise<{ dataStart: number }> {
	const { name } = item;
	let local: { rawName: string; compressionMethod: number; dataStart: number };
	try {
		local = await readLocalHeader(reader, item, fileSize);
	} catch (error) {
		throw zipError(label, error, name);
	}
	if (local.rawName !== item.rawName) {
		throw new CxError(
			'ZIP_FORMAT',
			`${label}: entry ${shownName(name)} is named ${shownName(local.rawName)} in its local header: the central directory and the local header disagree (corrupt, or made to fool one kind of reader)`,
			{ where: name },
		);
	}
	if (local.compressionMethod !== item.compressionMethod) {
		throw new CxError(
			'ZIP_FORMAT',
			`${label}: entry ${shownName(name)} has compression method ${local.compressionMethod} in its local header but ${item.compressionMethod} in the central directory`,
			{ where: name },
		);
	}
	return local;
}

/** The uncompressed bytes: stored data as is, deflate through zlib. */
async function* decoded(raw: Readable, method: number): AsyncGenerator<Buffer> {
	if (method === 0) {
		try {
			for await (const chunk of raw) yield chunk as Buffer;
		} finally {
			raw.destroy();
		}
		return;
	}
	const inflate = createInflateRaw({ chunkSize: INFLATE_CHUNK });
	raw.on('error', (error) => inflate.destroy(error));
	raw.pipe(inflate);
	try {
		for await (const chunk of inflate) yield chunk as Buffer;
	} finally {
		raw.unpipe(inflate);
		raw.destroy();
		inflate.destroy();
	}
}

/**
 * A small entry's uncompressed bytes in one piece. A zlib stream per entry costs its 256 KiB
 * output buffer and a few turns of the event loop: for 300,000 small files, much of the time went
 * to the garbage collector. One synchronous inflate of at most SMALL_INFLATED bytes blocks
 * for well under a millisecond; it stops one byte past the declared size, so a header that lies
 * still gets nowhere.
 */
async function* decodedAtOnce(compressed: Buffer, ctx: VerifyContext): AsyncGenerator<Buffer> {
	if (ctx.entry.compressionMethod === 0) {
		yield compressed;
		return;
	}
	let inflated: Buffer;
	try {
		// One output buffer of the declared size (+1 to see a lie), not zlib's default 16 KiB per
		// call: 300,000 of those were gigabytes of garbage.
		const room = ctx.entry.uncompressedSize + 1;
		inflated = inflateRawSync(compressed, {
			maxOutputLength: room,
			chunkSize: Math.max(zlibConstants.Z_MIN_CHUNK, room),
		});
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
			throw sizeLie(ctx, ctx.entry.uncompressedSize + 1);
		throw error;
	}
	yield inflated;
}

/** The error for an entry that inflates past the size its headers declare. */
function sizeLie(ctx: VerifyContext, bytes: number): CxError {
	return new CxError(
		'ZIP_LIMIT',
		`${ctx.label}: entry ${JSON.stringify(ctx.name)} inflates to more than the ${ctx.entry.uncompressedSize} bytes its headers declare: the zip lies about its size (a zip bomb technique); stopped at ${bytes} bytes. Raising a limit will not help: the file is corrupt or malicious`,
		{ where: ctx.name },
	);
}

interface VerifyContext {
	label: string;
	name: string;
	entry: CheckedEntry;
	limits: ExtractLimits;
	budget: { total: number };
}

/** Counts, limits and CRC-checks the uncompressed bytes of one entry. */
async function* verified(
	chunks: AsyncIterable<Buffer>,
	ctx: VerifyContext,
): AsyncGenerator<Buffer> {
	const { label, name, entry, limits, budget } = ctx;
	const declared = entry.uncompressedSize;
	const ratioCap = Math.max(limits.ratioThresholdBytes, limits.maxRatio * entry.compressedSize);
	const about = `${label}: entry ${shownName(name)}`;
	let bytes = 0;
	let crc = 0;
	try {
		for await (const chunk of chunks) {
			bytes += chunk.length;
			budget.total += chunk.length;
			if (bytes > declared) throw sizeLie(ctx, bytes);
			if (bytes > limits.maxEntryBytes)
				throw new CxError(
					'ZIP_LIMIT',
					`${about} is bigger than the entry size limit, ${formatLimit('maxEntryBytes', limits.maxEntryBytes)}; stopped (to allow it, ${raiseAdvice('maxEntryBytes')})`,
					{ where: name, limit: 'maxEntryBytes' },
				);
			if (bytes > ratioCap)
				throw new CxError(
					'ZIP_LIMIT',
					`${about} expands more than the compression ratio limit (${limits.maxRatio}x) allows; stopped at ${bytes} bytes (to allow it, ${raiseAdvice('maxRatio')})`,
					{ where: name, limit: 'maxRatio' },
				);
			if (budget.total > limits.maxTotalBytes)
				throw new CxError(
					'ZIP_LIMIT',
					`${label}: more than the total size limit, ${formatLimit('maxTotalBytes', limits.maxTotalBytes)}, extracted (at entry ${shownName(name)}); stopped (to allow it, ${raiseAdvice('maxTotalBytes')})`,
					{ where: name, limit: 'maxTotalBytes' },
				);
			crc = crc32(chunk, crc);
			yield chunk;
		}
	} catch (error) {
		if (error instanceof CxError) throw error;
		const e = error as NodeJS.ErrnoException;
		if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
			throw new CxError(
				'ZIP_FORMAT',
				`${about}: the compressed data is corrupt (${e.message}) after ${bytes} bytes`,
				{ where: name, cause: error },
			);
		}
		throw zipError(label, error, name);
	}
	if (bytes !== declared) {
		throw new CxError(
			'ZIP_FORMAT',
			`${about} ends after ${bytes} bytes, but its headers declare ${declared}: the zip is truncated or corrupt`,
			{ where: name },
		);
	}
	const expected = entry.crc32;
	if (crc >>> 0 !== expected) {
		throw new CxError(
			'ZIP_CRC',
			`${about}: CRC-32 mismatch (data ${hex(crc)}, header ${hex(expected)}): the data is corrupt; get the export again`,
			{ where: name },
		);
	}
}

function hex(value: number): string {
	return (value >>> 0).toString(16).padStart(8, '0');
}
