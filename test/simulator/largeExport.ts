/**
 * Exports too large to hold in memory (hundreds of thousands of records): the records are made
 * once, streamed to disk and kept there compressed, keyed by everything that decides them (seed and
 * shape: data type, media, attachments, counts, time frame), so that the next simulator that needs
 * the same export (another test run the same day) reuses them. Each run then lays them out as its
 * own split zip (its job ID in the entry names, its split size) and encrypts the parts one by one
 * into files that the storage host serves from disk. Memory stays at a few MiB whatever the size.
 *
 * The records are the ones `generateExport` would make for the same seed and shape (same generator,
 * same order, same layout), only never held all at once.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import {
	mkdir,
	mkdtemp,
	readdir,
	readFile,
	rename,
	rm,
	stat,
	unlink,
	utimes,
	writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw } from 'node:zlib';
import { exportLayout, exportRecords, type Bucket, type ExportShape } from './records';
import { encryptSmimeFile, type SmimeMediaType } from './smime';
import { writeZipParts, type ZipFileInput } from './zipWriter';

/** Bump when the generator or the cache's layout changes, so older caches are not reused. */
const CACHE_VERSION = 1;
/** Caches not used for this long are removed when a new one is made. */
const CACHE_MAX_AGE_MS = 2 * 24 * 3_600_000;

export interface LargeExportOptions {
	/** Runs of jobs whose title contains this text are large exports. */
	titleContains: string;
	/** Interactions in a large Interaction export (a Contact export keeps the simulator's contact count). */
	interactions: number;
	/** Where the compressed records are kept between runs (created when missing). */
	cacheDir: string;
	/** Bytes of each email attachment before base64 (default: the simulator's). */
	attachmentBytes?: number;
	/** One `Interaction-…` file (default: the simulator's setting), or one file per entity type. */
	interactionFiles?: ExportShape['interactionFiles'];
}

/** One archive entry of a cached export: its buckets, and its data deflated in `file`. */
interface CachedEntry {
	buckets: Bucket[];
	file: string;
	crc: number;
	size: number;
	compressedSize: number;
	records: number;
}

export interface CachedRecords {
	dir: string;
	records: number;
	entries: CachedEntry[];
	/** Whether this call made them (false: found in the cache). */
	made: boolean;
}

interface Manifest {
	version: number;
	key: string;
	records: number;
	filled: Bucket[];
	entries: Array<Omit<CachedEntry, 'file'> & { file: string }>;
}

/** The cache key of an export: everything that decides its records. */
function cacheKey(seed: string, shape: ExportShape): string {
	return createHash('sha256')
		.update(JSON.stringify({ version: CACHE_VERSION, seed, shape }))
		.digest('hex')
		.slice(0, 24);
}

/** Lines of one bucket, written in batches of about 1 MiB (awaiting the file when it is behind). */
class BucketFile {
	readonly out: WriteStream;
	private batch: string[] = [];
	private pending = 0;
	records = 0;

	constructor(readonly path: string) {
		this.out = createWriteStream(path, { flags: 'wx' });
	}

	async add(line: string): Promise<void> {
		this.batch.push(line);
		this.pending += line.length;
		this.records++;
		if (this.pending >= 1 << 20) await this.flush();
	}

	async flush(): Promise<void> {
		if (this.batch.length === 0) return;
		const text = this.batch.join('');
		this.batch = [];
		this.pending = 0;
		if (!this.out.write(text, 'utf8')) await once(this.out, 'drain');
	}

	async close(): Promise<void> {
		await this.flush();
		this.out.end();
		await once(this.out, 'finish');
	}
}

/** Counts and CRCs what passes. */
function measure(): Transform & { crc: number; size: number } {
	const t = new Transform({
		transform(chunk: Buffer, _encoding, done) {
			t.crc = crc32(chunk, t.crc);
			t.size += chunk.length;
			done(null, chunk);
		},
	}) as Transform & { crc: number; size: number };
	t.crc = 0;
	t.size = 0;
	return t;
}

/** Makes (or finds) the compressed records of an export of this shape. */
export async function cachedRecords(
	cacheDir: string,
	seed: string,
	shape: ExportShape,
): Promise<CachedRecords> {
	await mkdir(cacheDir, { recursive: true });
	const key = cacheKey(seed, shape);
	const dir = join(cacheDir, `records-${key}`);
	const found = await readManifest(dir, key);
	if (found) {
		const now = new Date();
		await utimes(dir, now, now).catch(() => undefined);
		return { ...found, made: false };
	}

	const work = await mkdtemp(join(cacheDir, `records-${key}.tmp-`));
	try {
		// The records, as they are made, into one file per bucket (a merged entry joins several).
		const buckets = new Map<Bucket, BucketFile>();
		let made = 0;
		for (const { bucket, record } of exportRecords(0, seed, shape)) {
			let file = buckets.get(bucket);
			if (!file)
				buckets.set(
					bucket,
					(file = new BucketFile(join(work, `bucket-${buckets.size + 1}.jsonl`))),
				);
			await file.add(`${JSON.stringify(record)}\n`);
			// Let the simulator answer requests while a large export is being made.
			if (++made % 2000 === 0) await new Promise((resolve) => setImmediate(resolve));
		}
		for (const file of buckets.values()) await file.close();

		// Each entry deflated (in parallel: zlib works off the main thread).
		const layout = exportLayout(0, shape, new Set(buckets.keys()));
		const entries = await Promise.all(
			layout.map(async (entry, i): Promise<CachedEntry> => {
				const file = `entry-${i + 1}.deflate`;
				const counted = measure();
				async function* plain(): AsyncGenerator<Buffer> {
					for (const bucket of entry.buckets) {
						const path = buckets.get(bucket)?.path;
						if (path)
							for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }))
								yield chunk as Buffer;
					}
				}
				await pipeline(
					plain,
					counted,
					createDeflateRaw({ level: 6 }),
					createWriteStream(join(work, file), { flags: 'wx' }),
				);
				const records = entry.buckets.reduce((n, b) => n + (buckets.get(b)?.records ?? 0), 0);
				return {
					buckets: entry.buckets,
					file,
					crc: counted.crc >>> 0,
					size: counted.size,
					compressedSize: (await stat(join(work, file))).size,
					records,
				};
			}),
		);
		for (const file of buckets.values()) await unlink(file.path);
		const manifest: Manifest = {
			version: CACHE_VERSION,
			key,
			records: entries.reduce((n, e) => n + e.records, 0),
			filled: [...buckets.keys()],
			entries,
		};
		await writeFile(join(work, 'manifest.json'), JSON.stringify(manifest, null, 1));

		// Another simulator may have made the same export meanwhile: then its copy is used.
		try {
			await rename(work, dir);
		} catch {
			await rm(work, { recursive: true, force: true });
			const theirs = await readManifest(dir, key);
			if (!theirs) throw new Error(`the large export cache ${dir} could not be written`);
			return { ...theirs, made: false };
		}
		await pruneCache(cacheDir, dir);
		return { dir, records: manifest.records, entries: manifest.entries, made: true };
	} catch (error) {
		await rm(work, { recursive: true, force: true });
		throw error;
	}
}

async function readManifest(
	dir: string,
	key: string,
): Promise<Omit<CachedRecords, 'made'> | undefined> {
	if (!existsSync(join(dir, 'manifest.json'))) return undefined;
	const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
	if (manifest.version !== CACHE_VERSION || manifest.key !== key) return undefined;
	return { dir, records: manifest.records, entries: manifest.entries };
}

/** Removes caches (and abandoned half-made ones) not used for two days. */
async function pruneCache(cacheDir: string, keep: string): Promise<void> {
	const now = Date.now();
	for (const name of await readdir(cacheDir)) {
		const path = join(cacheDir, name);
		if (!name.startsWith('records-') || path === keep) continue;
		const info = await stat(path).catch(() => undefined);
		if (info && now - info.mtimeMs > CACHE_MAX_AGE_MS)
			await rm(path, { recursive: true, force: true });
	}
}

export interface LargeRunFile {
	name: string;
	path: string;
	size: number;
	md5: string;
}

/**
 * A run's files from cached records: the split zip of its entries (named with its job ID) written
 * into `dir`, each part encrypted to `<part>.smime` and the plain part removed. In disk order.
 */
export async function writeLargeRun(
	records: CachedRecords,
	options: {
		jobId: number;
		shape: ExportShape;
		exportName: string;
		splitSize?: number;
		modified: Date;
		certificate: X509Certificate;
		mediaType: SmimeMediaType;
		dir: string;
	},
): Promise<LargeRunFile[]> {
	const filled = new Set(records.entries.flatMap((e) => e.buckets));
	const layout = exportLayout(options.jobId, options.shape, filled);
	if (layout.length !== records.entries.length)
		throw new Error(`the cached records in ${records.dir} do not match this export's layout`);
	const inputs: ZipFileInput[] = layout.map((entry, i) => ({
		name: entry.name,
		crc: records.entries[i].crc,
		size: records.entries[i].size,
		method: 8,
		path: join(records.dir, records.entries[i].file),
		compressedSize: records.entries[i].compressedSize,
	}));
	await mkdir(options.dir, { recursive: true });
	const parts = writeZipParts(inputs, {
		splitSize: options.splitSize,
		modified: options.modified,
		dir: options.dir,
		base: options.exportName,
	});
	const files: LargeRunFile[] = [];
	for (const part of parts) {
		const path = `${part}.smime`;
		const { size, md5 } = await encryptSmimeFile(part, path, options.certificate, {
			mediaType: options.mediaType,
		});
		await unlink(part);
		files.push({ name: path.slice(options.dir.length + 1), path, size, md5 });
	}
	return files;
}
