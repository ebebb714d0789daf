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
import { randomBytes } from 'node:crypto';
import { close as fsClose, createReadStream, createWriteStream, fstat, open as fsOpen, read as fsRead } from 'node:fs';
import { lstat, mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createInflateRaw, crc32, inflateRawSync } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { CxError } from '../errors';

const READ_CHUNK = 512 * 1024;
const INFLATE_CHUNK = 256 * 1024;
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
}

/**
 * The entries of the zip at `zipPath`, in central directory order, after every check that can be
 * made from the central directory has passed for ALL entries (nothing is yielded from a zip that
 * is going to be refused for its names, types or declared sizes).
 */
export async function* zipEntries(zipPath: string, limits: Partial<ExtractLimits> = {}): AsyncGenerator<ZipEntry> {
	const resolved = resolveLimits(limits);
	const label = basename(zipPath);
	const { zip, reader } = await openZip(zipPath, label);
	try {
		const checked = await readDirectory(zip, label, resolved);
		const budget = { total: 0 };
		for (const item of checked) yield toZipEntry(reader, zipPath, zip.fileSize, label, item, resolved, budget);
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
	 * Replace files that already exist in the target directory (default false: refused with IO).
	 * A replaced file cannot be restored if extraction fails later.
	 */
	overwrite?: boolean;
}

/**
 * Extracts every entry of the zip at `zipPath` under `dir` (created when missing). Each file is
 * written to a temporary name in its own directory and renamed when complete and verified.
 * Symbolic links are never created nor followed: a directory on an entry's path that is a link
 * in the target is refused (ZIP_UNSAFE), and files are created with O_EXCL. On any failure,
 * everything this call wrote (files, directories it created) is removed. Returns the files written.
 */
export async function extractTo(zipPath: string, dir: string, limits: Partial<ExtractLimits> = {}, options: ExtractOptions = {}): Promise<ExtractedFile[]> {
	const target = resolve(dir);
	let firstCreated: string | undefined;
	try {
		firstCreated = await mkdir(target, { recursive: true });
	} catch (error) {
		throw ioError(`cannot create the target directory ${target}`, error);
	}
	// The target itself may be a link (the caller's choice); links are refused below it.
	const root = target;
	const files: ExtractedFile[] = [];
	const createdDirs: string[] = [];
	const knownDirs = new Set<string>();
	let temporary: string | undefined;
	// Temporary names: one random prefix per extraction and a counter (not 6 random bytes per file).
	const partialPrefix = randomBytes(6).toString('hex');
	let partials = 0;
	try {
		for await (const entry of zipEntries(zipPath, limits)) {
			const segments = pathSegments(entry.name);
			// Joined, not spread into resolve(): the segment count comes from the zip.
			const path = resolve(root, segments.join(sep));
			const inside = relative(root, path);
			if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
				throw new CxError('ZIP_UNSAFE', `entry ${JSON.stringify(entry.name)} would be written outside ${root}; refusing to extract this zip`, { where: entry.name });
			}
			if (entry.isDirectory) {
				await ensureDirectories(root, segments, createdDirs, knownDirs, entry.name);
				continue;
			}
			await ensureDirectories(root, segments.slice(0, -1), createdDirs, knownDirs, entry.name);
			const existing = await lstat(path).catch((error: NodeJS.ErrnoException) => {
				if (error.code === 'ENOENT') return undefined;
				throw ioError(`cannot check ${path}`, error);
			});
			if (existing && (!options.overwrite || !existing.isFile())) {
				throw new CxError('IO', `${path} already exists${existing.isFile() ? '' : ' and is not a regular file'}; extract into an empty directory${existing.isFile() ? ' or allow overwriting' : ''}`, { where: entry.name });
			}
			temporary = join(dirname(path), `.cx-export-${partialPrefix}-${++partials}.partial`);
			try {
				// 'wx': O_CREAT | O_EXCL — never opens an existing file or follows a link.
				const source = await entry.open();
				const out = createWriteStream(temporary, { flags: 'wx' });
				try {
					// Wait until the file exists: a read error racing the asynchronous open would
					// otherwise let the cleanup below run before the file appears, leaving it behind.
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
				throw ioError(`writing ${path} failed`, error);
			}
			await rename(temporary, path).catch((error: unknown) => {
				throw ioError(`cannot move the extracted ${entry.name} into place at ${path}`, error);
			});
			temporary = undefined;
			files.push({ name: entry.name, path, size: entry.size, crc32: entry.crc32 });
		}
		return files;
	} catch (error) {
		if (temporary !== undefined) await rm(temporary, { force: true }).catch(() => undefined);
		for (const file of files) await rm(file.path, { force: true }).catch(() => undefined);
		for (const created of createdDirs.reverse()) await rmdir(created).catch(() => undefined);
		if (firstCreated !== undefined) {
			// The target directory and the parents mkdir created for it, innermost first.
			for (let d = target; d.length >= firstCreated.length; d = dirname(d)) {
				await rmdir(d).catch(() => undefined);
				if (d === firstCreated) break;
			}
		}
		throw error;
	}
}

/** Creates the directories `segments` leads through under `root`, refusing links and files in the way. */
async function ensureDirectories(root: string, segments: string[], created: string[], known: Set<string>, entryName: string): Promise<void> {
	let path = root;
	for (const segment of segments) {
		path = join(path, segment);
		if (known.has(path)) continue;
		try {
			await mkdir(path);
			created.push(path);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(`cannot create the directory ${path}`, error);
			const info = await lstat(path);
			if (info.isSymbolicLink()) {
				throw new CxError('ZIP_UNSAFE', `${path} is a symbolic link in the target directory; entry ${JSON.stringify(entryName)} would be written through it: refusing`, { where: entryName });
			}
			if (!info.isDirectory()) throw new CxError('IO', `${path} exists and is not a directory; entry ${JSON.stringify(entryName)} needs a directory there`, { where: entryName });
		}
		known.add(path);
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
export function unsafeNameReason(name: string, platform: NodeJS.Platform = process.platform): string | undefined {
	if (name === '') return 'has an empty name';
	if (/[\x00-\x1f\x7f]/.test(name)) return 'has control characters in its name';
	if (name.includes('\\')) return 'has a backslash in its name';
	if (name.startsWith('/')) return 'is an absolute path';
	if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
	const raw = name.split('/');
	if (raw.includes('..')) return 'has a ".." segment that climbs out of the target directory';
	const segments = pathSegments(name);
	if (segments.length === 0) return 'has no file name';
	if (platform === 'win32') {
		for (const segment of segments) {
			if (/[<>:"|?*]/.test(segment)) return `has a character Windows does not allow in file names (${segment})`;
			if (/[. ]$/.test(segment)) return `has a segment ending in a dot or space, which Windows drops (${segment})`;
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
		if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new CxError('USAGE', `limit ${key} must be a number ≥ 0 (got ${String(value)})`);
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
		if (Number.isSafeInteger(position) && Number.isSafeInteger(length) && position >= 0 && length >= 0 && position + length <= this.size) return undefined;
		const where = Number.isSafeInteger(position) ? `${length} bytes at offset ${position}` : `${length} bytes at an offset beyond any file (${position})`;
		return Object.assign(new Error(`the zip points outside the file: ${where}, in a file of ${this.size} bytes`), { code: 'ERR_ZIP_OUTSIDE' });
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

	override read(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null) => void): void {
		const done = callback as (error: Error | null, bytesRead?: number) => void;
		if (this.closed) {
			// Never a read on a closed descriptor: its number may already belong to another file.
			const error = Object.assign(new Error('the zip was closed before this read (open an entry before asking for the next one)'), { code: 'ERR_ZIP_CLOSED' });
			setImmediate(() => done(error));
			return;
		}
		const outside = this.outside(position, length);
		if (outside) {
			setImmediate(() => done(outside));
			return;
		}
		const cached = this.block;
		if (cached && position >= cached.start && position + length <= cached.start + cached.data.length) {
			cached.data.copy(buffer, offset, position - cached.start, position - cached.start + length);
			process.nextTick(done, null, length);
			return;
		}
		if (length > BLOCK / 2) {
			// Large reads go straight to the file (and are not kept).
			fsRead(this.fd, buffer, offset, length, position, (error, bytesRead) => done(error, bytesRead));
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
		return createReadStream('', { fd: this.fd, start, end: end - 1, autoClose: false, highWaterMark: READ_CHUNK });
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
		fd = await new Promise<number>((resolvePromise, reject) => fsOpen(zipPath, 'r', (error, opened) => (error ? reject(error) : resolvePromise(opened))));
	} catch (error) {
		throw zipError(label, error);
	}
	try {
		size = await new Promise<number>((resolvePromise, reject) => fstat(fd, (error, stats) => (error ? reject(error) : resolvePromise(stats.size))));
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
			{ lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: false },
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
	if (typeof e.code === 'string' && !e.code.startsWith('Z_') && e.code !== 'ERR_ZIP_OUTSIDE') return ioError(`${label}: cannot read it`, error);
	const message = error instanceof Error ? error.message : String(error);
	const about = entry === undefined ? '' : ` (entry ${JSON.stringify(entry)})`;
	const hint = /multi-disk/.test(message) ? ': this is one part of a split zip; reassemble the parts first' : '';
	return new CxError('ZIP_FORMAT', `${label}: not a valid zip file${about}: ${message}${hint}`, { where: entry ?? label, cause: error });
}

function ioError(message: string, error: unknown): CxError {
	const e = error as NodeJS.ErrnoException;
	return new CxError('IO', `${message} (${e?.code ?? (error instanceof Error ? error.message : String(error))})`, { cause: error });
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
async function readDirectory(zip: ZipFile, label: string, limits: ExtractLimits): Promise<CheckedEntry[]> {
	if (zip.entryCount > limits.maxEntries) {
		throw new CxError('ZIP_LIMIT', `${label} has ${zip.entryCount} entries, more than maxEntries (${limits.maxEntries}); raise maxEntries if you trust this file`, { where: label });
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
	const refuse = (code: 'ZIP_UNSAFE' | 'ZIP_FORMAT' | 'ZIP_LIMIT', name: string, message: string) =>
		new CxError(code, `${label}: entry ${JSON.stringify(name)} ${message}`, { where: name });

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
		if (mode === S_IFLNK) throw refuse('ZIP_UNSAFE', name, 'is a symbolic link; links are never extracted (refusing this zip)');
		if (entry.generalPurposeBitFlag & 0x01) throw refuse('ZIP_FORMAT', name, 'is encrypted (password-protected zip); not supported');
		if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
			throw refuse('ZIP_FORMAT', name, `uses compression method ${entry.compressionMethod}; only stored (0) and deflate (8) are supported`);
		}
		const isDirectory = name.endsWith('/');

		// Declared sizes, before anything is inflated.
		const size = entry.uncompressedSize;
		if (size > limits.maxEntryBytes) {
			throw refuse('ZIP_LIMIT', name, `declares ${size} bytes, more than maxEntryBytes (${limits.maxEntryBytes}); raise maxEntryBytes if you trust this file`);
		}
		if (size > limits.ratioThresholdBytes && size > limits.maxRatio * entry.compressedSize) {
			const ratio = entry.compressedSize === 0 ? 'infinitely' : `${Math.round(size / entry.compressedSize)}x`;
			throw refuse(
				'ZIP_LIMIT',
				name,
				`declares ${size} bytes from ${entry.compressedSize} compressed (${ratio}), more than maxRatio (${limits.maxRatio}x): a zip bomb? raise maxRatio if you trust this file`,
			);
		}
		declaredTotal += size;
		if (declaredTotal > limits.maxTotalBytes) {
			throw new CxError(
				'ZIP_LIMIT',
				`${label}: its entries declare more than maxTotalBytes (${limits.maxTotalBytes}) uncompressed bytes (reached at entry ${JSON.stringify(name)}); raise maxTotalBytes if you trust this file`,
				{ where: name },
			);
		}

		// One path, one entry.
		const segments = pathSegments(name);
		const key = keyOf(segments);
		for (let i = 1; i < segments.length; i++) {
			const parent = keyOf(segments.slice(0, i));
			const file = files.get(parent);
			if (file !== undefined) throw refuse('ZIP_UNSAFE', name, `needs ${JSON.stringify(file)} to be a directory, but it is a file in this zip; refusing`);
			if (!dirs.has(parent)) dirs.set(parent, name);
		}
		if (isDirectory) {
			const file = files.get(key);
			if (file !== undefined) throw refuse('ZIP_UNSAFE', name, `is a directory with the same path as the file ${JSON.stringify(file)}; refusing`);
			dirs.set(key, name);
		} else {
			const other = files.get(key) ?? dirs.get(key);
			if (other !== undefined) {
				throw refuse('ZIP_UNSAFE', name, `has the same path as ${other === name ? 'another entry' : `entry ${JSON.stringify(other)}`} (duplicate names); refusing, tools disagree on which one wins`);
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

	// Overlapping entries: each local header is at least 30 + name bytes before its data.
	const byOffset = [...checked].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
	for (let i = 0; i + 1 < byOffset.length; i++) {
		const a = byOffset[i];
		const b = byOffset[i + 1];
		if (a.localHeaderOffset + LOCAL_HEADER_SIZE + a.rawName.length + a.compressedSize > b.localHeaderOffset) {
			throw refuse('ZIP_UNSAFE', a.name, `overlaps entry ${JSON.stringify(b.name)} in the file (overlapping entries are a zip bomb technique); refusing`);
		}
	}
	return checked;
}

const LOCAL_HEADER_SIZE = 30;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;

/** Reads an entry's local header (as yauzl's readLocalFileHeader does): where its data starts, its name and method. */
async function readLocalHeader(reader: BlockReader, item: CheckedEntry, fileSize: number): Promise<{ rawName: string; compressionMethod: number; dataStart: number }> {
	const fixed = await reader.readAt(item.localHeaderOffset, LOCAL_HEADER_SIZE);
	if (fixed.length < LOCAL_HEADER_SIZE) throw new Error('unexpected EOF');
	const signature = fixed.readUInt32LE(0);
	if (signature !== LOCAL_HEADER_SIGNATURE) throw new Error(`invalid local file header signature: 0x${signature.toString(16)}`);
	const nameLength = fixed.readUInt16LE(26);
	const dataStart = item.localHeaderOffset + LOCAL_HEADER_SIZE + nameLength + fixed.readUInt16LE(28);
	if (dataStart + item.compressedSize > fileSize) throw new Error(`file data overflows file bounds: ${dataStart} + ${item.compressedSize} > ${fileSize}`);
	const name = await reader.readAt(item.localHeaderOffset + LOCAL_HEADER_SIZE, nameLength);
	if (name.length < nameLength) throw new Error('unexpected EOF');
	return { rawName: name.toString('latin1'), compressionMethod: fixed.readUInt16LE(8), dataStart };
}

function toZipEntry(reader: BlockReader, zipPath: string, fileSize: number, label: string, item: CheckedEntry, limits: ExtractLimits, budget: { total: number }): ZipEntry {
	const { name } = item;
	return {
		name,
		size: item.uncompressedSize,
		compressedSize: item.compressedSize,
		crc32: item.crc32,
		isDirectory: item.isDirectory,
		lastModified: new Date(item.lastModified),
		open: async () => {
			let local: { rawName: string; compressionMethod: number; dataStart: number };
			try {
				local = await readLocalHeader(reader, item, fileSize);
			} catch (error) {
				throw zipError(label, error, name);
			}
			if (local.rawName !== item.rawName) {
				throw new CxError(
					'ZIP_FORMAT',
					`${label}: entry ${JSON.stringify(name)} is named ${JSON.stringify(local.rawName)} in its local header: the central directory and the local header disagree (corrupt, or made to fool one kind of reader)`,
					{ where: name },
				);
			}
			if (local.compressionMethod !== item.compressionMethod) {
				throw new CxError('ZIP_FORMAT', `${label}: entry ${JSON.stringify(name)} has compression method ${local.compressionMethod} in its local header but ${item.compressionMethod} in the central directory`, { where: name });
			}
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
				chunks = decoded(createReadStream(zipPath, { start: local.dataStart, end: local.dataStart + item.compressedSize - 1, highWaterMark: READ_CHUNK }), item.compressionMethod);
			}
			return Readable.from(verified(chunks, ctx), { objectMode: false, highWaterMark: 64 * 1024 });
		},
	};
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
		inflated = inflateRawSync(compressed, { maxOutputLength: room, chunkSize: Math.max(zlibConstants.Z_MIN_CHUNK, room) });
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw sizeLie(ctx, ctx.entry.uncompressedSize + 1);
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
async function* verified(chunks: AsyncIterable<Buffer>, ctx: VerifyContext): AsyncGenerator<Buffer> {
	const { label, name, entry, limits, budget } = ctx;
	const declared = entry.uncompressedSize;
	const ratioCap = Math.max(limits.ratioThresholdBytes, limits.maxRatio * entry.compressedSize);
	const about = `${label}: entry ${JSON.stringify(name)}`;
	let bytes = 0;
	let crc = 0;
	try {
		for await (const chunk of chunks) {
			bytes += chunk.length;
			budget.total += chunk.length;
			if (bytes > declared) throw sizeLie(ctx, bytes);
			if (bytes > limits.maxEntryBytes) throw new CxError('ZIP_LIMIT', `${about} is bigger than maxEntryBytes (${limits.maxEntryBytes}); stopped`, { where: name });
			if (bytes > ratioCap) throw new CxError('ZIP_LIMIT', `${about} expands more than maxRatio (${limits.maxRatio}x) allows; stopped at ${bytes} bytes`, { where: name });
			if (budget.total > limits.maxTotalBytes) throw new CxError('ZIP_LIMIT', `${label}: more than maxTotalBytes (${limits.maxTotalBytes}) extracted (at entry ${JSON.stringify(name)}); stopped`, { where: name });
			crc = crc32(chunk, crc);
			yield chunk;
		}
	} catch (error) {
		if (error instanceof CxError) throw error;
		const e = error as NodeJS.ErrnoException;
		if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
			throw new CxError('ZIP_FORMAT', `${about}: the compressed data is corrupt (${e.message}) after ${bytes} bytes`, { where: name, cause: error });
		}
		throw zipError(label, error, name);
	}
	if (bytes !== declared) {
		throw new CxError('ZIP_FORMAT', `${about} ends after ${bytes} bytes, but its headers declare ${declared}: the zip is truncated or corrupt`, { where: name });
	}
	const expected = entry.crc32;
	if (crc >>> 0 !== expected) {
		throw new CxError('ZIP_CRC', `${about}: CRC-32 mismatch (data ${hex(crc)}, header ${hex(expected)}): the data is corrupt; get the export again`, { where: name });
	}
}

function hex(value: number): string {
	return (value >>> 0).toString(16).padStart(8, '0');
}
