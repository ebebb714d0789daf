import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
	closeSync,
	existsSync,
	lstatSync,
	mkdirSync,
	openSync,
	readdirSync,
	readFileSync,
	symlinkSync,
	writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	encryptFile,
	makeExport,
	makeRecipient,
	openssl,
	tempDir,
	writeFile,
	type ExportFixture,
	type Recipient,
} from '../helpers/fixtures.mjs';

const bin = join(__dirname, '../../bin/cx-export.js');
const dir = tempDir();
let alice: Recipient;
let bob: Recipient;
let split: ExportFixture;
let single: ExportFixture;

function cx(args: string[], input?: string | Buffer) {
	const r = spawnSync(process.execPath, [bin, ...args], {
		maxBuffer: 1 << 28,
		input,
		env: { ...process.env, CX_EXPORT_PASSPHRASE: '' },
	});
	return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** cx with stdout redirected to the file `target` (as `> target` does); fails the test unless it succeeds. */
function cxToFile(args: string[], target: string) {
	const fd = openSync(target, 'w');
	try {
		const r = spawnSync(process.execPath, [bin, ...args], {
			stdio: ['ignore', fd, 'pipe'],
			env: { ...process.env, CX_EXPORT_PASSPHRASE: '' },
		});
		expect(r.status, r.stderr.toString()).toBe(0);
	} finally {
		closeSync(fd);
	}
}

/** The one-line error contract: exit 1, exactly one line on stderr, starting with "error: ". */
/** cx without blocking the event loop (a FIFO's reader runs in this process's child). Resolves to the exit status. */
function cxAsync(args: string[]): Promise<number | null> {
	const child = spawn(process.execPath, [bin, ...args], {
		stdio: ['ignore', 'ignore', 'inherit'],
		env: { ...process.env, CX_EXPORT_PASSPHRASE: '' },
	});
	return new Promise((resolveStatus) => child.on('close', (code) => resolveStatus(code)));
}

function expectError(r: ReturnType<typeof cx>, pattern: RegExp) {
	expect(r.status).toBe(1);
	const lines = r.stderr.split('\n').filter(Boolean);
	expect(lines).toHaveLength(1);
	expect(lines[0]).toMatch(/^error: /);
	expect(lines[0]).toMatch(pattern);
}

function shuffled<T>(items: T[]): T[] {
	return items
		.map((v, i) => ({ v, k: (i * 7919) % 13 }))
		.sort((a, b) => a.k - b.k)
		.map((x) => x.v);
}

function noLeftovers(path: string) {
	expect(readdirSync(path).filter((f) => f.includes('.partial'))).toEqual([]);
}

beforeAll(() => {
	alice = makeRecipient(dir.path, 'alice');
	bob = makeRecipient(dir.path, 'bob');
	split = makeExport(dir.path, alice, { records: 1500, split: '64k' });
	single = makeExport(dir.path, alice, {
		records: 50,
		name: 'export-11111111-2222-3333-4444-555555555555',
	});
});
afterAll(() => dir.remove());

describe('cx-export decrypt', () => {
	it('writes the plaintext byte-exact to -o, and to stdout without it', () => {
		const out = join(dir.path, 'out-decrypt');
		mkdirSync(out);
		const target = join(out, 'part.zip');
		const r = cx(['decrypt', '--key', alice.keyPath, split.encryptedParts[0], '-o', target]);
		expect(r.status, r.stderr).toBe(0);
		expect(readFileSync(target).equals(readFileSync(split.plainParts[0]))).toBe(true);
		const s = cx(['decrypt', '--key', alice.keyPath, split.encryptedParts[0]]);
		expect(s.status).toBe(0);
		expect(s.stdout.equals(readFileSync(split.plainParts[0]))).toBe(true);
		noLeftovers(out);
	});

	it('with a wrong key: one error line naming the recipient, and no output file', () => {
		const out = join(dir.path, 'out-wrong');
		mkdirSync(out);
		const target = join(out, 'part.zip');
		const r = cx(['decrypt', '--key', bob.keyPath, split.encryptedParts[0], '-o', target]);
		expectError(r, /no recipient matches this key.*CN=alice/);
		expect(existsSync(target)).toBe(false);
		noLeftovers(out);
	});

	it('with a truncated file: an error, and no output file', () => {
		const data = readFileSync(split.encryptedParts[1]);
		const cut = writeFile(
			dir.path,
			'cut.z02.smime',
			data.subarray(0, Math.floor(data.length * 0.6)),
		);
		const out = join(dir.path, 'out-cut');
		mkdirSync(out);
		const r = cx(['decrypt', '--key', alice.keyPath, cut, '-o', join(out, 'x.zip')]);
		expectError(r, /cut\.z02\.smime.*cut short/);
		expect(readdirSync(out)).toEqual([]);
	});

	it('-o onto a symbolic link writes its target (the link stays); onto a FIFO (as onto a device), writes into it', async () => {
		const out = join(dir.path, 'out-special');
		mkdirSync(out);
		const plain = readFileSync(split.plainParts[0]);
		// A link, and a link to a link that dangles: both written through.
		writeFileSync(join(out, 'old.zip'), 'old');
		symlinkSync('old.zip', join(out, 'link.zip'));
		expect(
			cx(['decrypt', '--key', alice.keyPath, split.encryptedParts[0], '-o', join(out, 'link.zip')])
				.status,
		).toBe(0);
		expect(lstatSync(join(out, 'link.zip')).isSymbolicLink()).toBe(true);
		expect(readFileSync(join(out, 'old.zip')).equals(plain)).toBe(true);
		symlinkSync('chain.zip', join(out, 'first.zip'));
		symlinkSync('new.zip', join(out, 'chain.zip'));
		expect(
			cx(['decrypt', '--key', alice.keyPath, split.encryptedParts[0], '-o', join(out, 'first.zip')])
				.status,
		).toBe(0);
		expect(readFileSync(join(out, 'new.zip')).equals(plain)).toBe(true);
		expect(lstatSync(join(out, 'first.zip')).isSymbolicLink()).toBe(true);
		// A FIFO: a reader gets the bytes; the FIFO is still a FIFO.
		const fifo = join(out, 'pipe');
		execFileSync('mkfifo', [fifo]);
		const reader = spawn('cat', [fifo]);
		const received: Buffer[] = [];
		reader.stdout.on('data', (chunk: Buffer) => received.push(chunk));
		const readerDone = new Promise((resolveDone) => reader.on('close', resolveDone));
		const toFifo = await cxAsync([
			'decrypt',
			'--key',
			alice.keyPath,
			split.encryptedParts[0],
			'-o',
			fifo,
		]);
		await readerDone;
		expect(toFifo, 'decrypt into the FIFO').toBe(0);
		expect(Buffer.concat(received).equals(plain)).toBe(true);
		expect(lstatSync(fifo).isFIFO()).toBe(true);
		// reassemble into a FIFO too (it makes the zip in a temporary file first).
		const reader2 = spawn('cat', [fifo]);
		const zipped: Buffer[] = [];
		reader2.stdout.on('data', (chunk: Buffer) => zipped.push(chunk));
		const reader2Done = new Promise((resolveDone) => reader2.on('close', resolveDone));
		expect(
			await cxAsync(['reassemble', '--key', alice.keyPath, ...split.encryptedParts, '-o', fifo]),
		).toBe(0);
		await reader2Done;
		writeFileSync(join(out, 'from-fifo.zip'), Buffer.concat(zipped));
		expect(spawnSync('unzip', ['-tq', join(out, 'from-fifo.zip')]).status).toBe(0);
		expect(lstatSync(fifo).isFIFO()).toBe(true);
		expect(readdirSync(out).filter((name) => name.endsWith('.partial'))).toEqual([]);
	});

	it('-o /dev/stdout and -o /dev/fd/1 write into the open descriptor: a pipe, or the file of `>` and `>>`', () => {
		const out = join(dir.path, 'out-descriptor');
		mkdirSync(out);
		const plain = readFileSync(split.plainParts[0]);
		// stdout a pipe: /dev/stdout leads to /proc/self/fd/1 → "pipe:[…]", which is no path.
		const piped = cx([
			'decrypt',
			'--key',
			alice.keyPath,
			split.encryptedParts[0],
			'-o',
			'/dev/stdout',
		]);
		expect(piped.status, piped.stderr).toBe(0);
		expect(piped.stdout.equals(plain)).toBe(true);
		// stdout a file opened for appending after a header: the header stays, the bytes follow.
		const target = join(out, 'log.bin');
		writeFileSync(target, 'header\n');
		const fd = openSync(target, 'a');
		try {
			const r = spawnSync(
				process.execPath,
				[bin, 'decrypt', '--key', alice.keyPath, split.encryptedParts[0], '-o', '/dev/fd/1'],
				{ stdio: ['ignore', fd, 'pipe'], env: { ...process.env, CX_EXPORT_PASSPHRASE: '' } },
			);
			expect(r.status, r.stderr.toString()).toBe(0);
		} finally {
			closeSync(fd);
		}
		expect(readFileSync(target).equals(Buffer.concat([Buffer.from('header\n'), plain]))).toBe(true);
		// reassemble to a piped /dev/stdout: a whole zip.
		const zipped = cx([
			'reassemble',
			'--key',
			alice.keyPath,
			...split.encryptedParts,
			'-o',
			'/dev/stdout',
		]);
		expect(zipped.status, zipped.stderr).toBe(0);
		writeFileSync(join(out, 'piped.zip'), zipped.stdout);
		expect(spawnSync('unzip', ['-tq', join(out, 'piped.zip')]).status).toBe(0);
		// "-o -" is standard output too.
		const dash = cx(['reassemble', '--key', alice.keyPath, ...split.encryptedParts, '-o', '-']);
		expect(dash.status, dash.stderr).toBe(0);
		expect(dash.stdout.equals(zipped.stdout)).toBe(true);
		noLeftovers(out);
	});

	it('says in words why an output cannot be written, naming what was given (not a temporary file)', () => {
		const out = join(dir.path, 'out-unwritable');
		mkdirSync(out);
		const part = split.encryptedParts[0];
		const missing = join(out, 'no-such-folder', 'part.zip');
		expectError(
			cx(['decrypt', '--key', alice.keyPath, part, '-o', missing]),
			new RegExp(
				`cannot write ${missing.replace(/[/.]/g, '\\$&')}: its folder does not exist \\(ENOENT\\)$`,
			),
		);
		expectError(
			cx(['decrypt', '--key', alice.keyPath, part, '-o', out]),
			/cannot write .*out-unwritable: it is a folder \(EISDIR\)$/,
		);
		symlinkSync('loop-b', join(out, 'loop-a'));
		symlinkSync('loop-a', join(out, 'loop-b'));
		expectError(
			cx(['decrypt', '--key', alice.keyPath, part, '-o', join(out, 'loop-a')]),
			/cannot write .*loop-a: too many levels of symbolic links \(ELOOP\)$/,
		);
		// A full disk while writing: /dev/full answers every write with ENOSPC.
		expectError(
			cx(['decrypt', '--key', alice.keyPath, part, '-o', '/dev/full']),
			/^error: cannot write \/dev\/full: no space left on the device \(ENOSPC\)$/,
		);
		expectError(
			cx(['reassemble', '--key', alice.keyPath, ...split.encryptedParts, '-o', '/dev/full']),
			/^error: cannot write \/dev\/full: no space left on the device \(ENOSPC\)$/,
		);
		// stdout on a full disk.
		const fd = openSync('/dev/full', 'w');
		try {
			const r = spawnSync(process.execPath, [bin, 'records', single.plainParts[0]], {
				stdio: ['ignore', fd, 'pipe'],
			});
			expectError(
				{ status: r.status, stdout: Buffer.alloc(0), stderr: r.stderr.toString() },
				/^error: cannot write standard output: no space left on the device \(ENOSPC\)$/,
			);
		} finally {
			closeSync(fd);
		}
		expect(readdirSync(out).sort()).toEqual(['loop-a', 'loop-b']);
	});

	it('opens a key protected by a passphrase', () => {
		const locked = writeFile(
			dir.path,
			'locked.pem',
			openssl([
				'pkcs8',
				'-topk8',
				'-in',
				alice.keyPath,
				'-v2',
				'aes-256-cbc',
				'-passout',
				'pass:s3cret',
			]),
		);
		expectError(cx(['decrypt', '--key', locked, split.encryptedParts[0]]), /passphrase/);
		const r = cx(['decrypt', '--key', locked, '--passphrase', 's3cret', split.encryptedParts[0]]);
		expect(r.status).toBe(0);
		expect(r.stdout.equals(readFileSync(split.plainParts[0]))).toBe(true);
	});
});

describe('cx-export reassemble', () => {
	it('merges encrypted parts given in any order into a zip that unzip accepts', () => {
		expect(split.encryptedParts.length).toBeGreaterThan(3);
		const target = join(dir.path, 'merged.zip');
		const r = cx([
			'reassemble',
			'--key',
			alice.keyPath,
			...shuffled(split.encryptedParts),
			'-o',
			target,
		]);
		expect(r.status, r.stderr).toBe(0);
		execFileSync('unzip', ['-tq', target]);
		for (const [name, data] of Object.entries(split.files)) {
			expect(execFileSync('unzip', ['-p', target, name], { maxBuffer: 1 << 28 }).equals(data)).toBe(
				true,
			);
		}
	});

	it('merges a mix of decrypted and encrypted parts', () => {
		const mixed = split.encryptedParts.map((p, i) => (i % 2 === 0 ? p : split.plainParts[i]));
		const target = join(dir.path, 'mixed.zip');
		expect(cx(['reassemble', '--key', alice.keyPath, ...mixed, '-o', target]).status).toBe(0);
		execFileSync('unzip', ['-tq', target]);
	});

	it('refuses a set with a missing part, naming it, and writes nothing', () => {
		const target = join(dir.path, 'missing.zip');
		const parts = split.encryptedParts.filter((p) => !p.endsWith('.z02.smime'));
		expectError(
			cx(['reassemble', '--key', alice.keyPath, ...parts, '-o', target]),
			/\.z02.*missing/,
		);
		expect(existsSync(target)).toBe(false);
		noLeftovers(dir.path);
	});

	it('asks for the key when a part is encrypted', () => {
		expectError(
			cx(['reassemble', ...split.encryptedParts, '-o', join(dir.path, 'nokey.zip')]),
			/encrypted.*--key/,
		);
	});

	it('refuses parts of the same size swapped under each other’s names, naming the entry and its parts, and writes nothing; --no-verify lets them through', () => {
		const swapped = join(dir.path, 'swapped');
		mkdirSync(swapped);
		const parts = split.encryptedParts.map((p) => join(swapped, p.split('/').pop()!));
		split.encryptedParts.forEach((p, i) => writeFileSync(parts[i], readFileSync(p)));
		const [z02, z03] = [split.encryptedParts[1], split.encryptedParts[2]].map((p) =>
			readFileSync(p),
		);
		expect(z02.length).toBe(z03.length);
		writeFileSync(parts[1], z03);
		writeFileSync(parts[2], z02);
		const target = join(swapped, 'out', 'merged.zip');
		mkdirSync(join(swapped, 'out'));
		expectError(
			cx(['reassemble', '--key', alice.keyPath, ...parts, '-o', target]),
			/^error: entry "Interaction-[^"]+\.json" \(parts \S+\.z01\.smime–\S+\.z\d\d\.smime\): .*the parts may be out of order or swapped/,
		);
		expect(readdirSync(join(swapped, 'out'))).toEqual([]);

		const r = cx(['reassemble', '--key', alice.keyPath, '--no-verify', ...parts, '-o', target]);
		expect(r.status, r.stderr).toBe(0);
		expect(r.stderr).toContain('not checked: --no-verify');
		expect(spawnSync('unzip', ['-tq', target]).status).not.toBe(0);
	});
});

describe('cx-export extract', () => {
	it('extracts every file byte-identical from shuffled encrypted parts', () => {
		const target = join(dir.path, 'extracted');
		const r = cx([
			'extract',
			'--key',
			alice.keyPath,
			...shuffled(split.encryptedParts),
			'-d',
			target,
		]);
		expect(r.status, r.stderr).toBe(0);
		expect(readdirSync(target).sort()).toEqual(Object.keys(split.files).sort());
		for (const [name, data] of Object.entries(split.files))
			expect(readFileSync(join(target, name)).equals(data)).toBe(true);
	});

	it('says when a file is where the target folder would be', () => {
		const inTheWay = writeFile(dir.path, 'not-a-folder', 'x');
		expectError(
			cx(['extract', single.plainParts[0], '-d', inTheWay]),
			/cannot create the target directory .*not-a-folder: a file of that name .* is in the way \(EEXIST\)$/,
		);
		expectError(
			cx(['extract', single.plainParts[0], '-d', join(inTheWay, 'sub')]),
			/is in the way \(ENOTDIR\)$/,
		);
		expect(readFileSync(inTheWay, 'utf8')).toBe('x');
	});

	it('refuses an entry that would write outside the target', () => {
		const evilDir = join(dir.path, 'evil-src');
		mkdirSync(join(evilDir, 'inner'), { recursive: true });
		writeFileSync(join(evilDir, 'escape.txt'), 'x');
		const zipPath = join(dir.path, 'evil.zip');
		execFileSync('zip', ['-q', zipPath, '../escape.txt'], { cwd: join(evilDir, 'inner') });
		const target = join(dir.path, 'evil-out', 'inner');
		mkdirSync(target, { recursive: true });
		expectError(cx(['extract', zipPath, '-d', target]), /\.\.\/escape\.txt/);
		expect(readdirSync(join(dir.path, 'evil-out'))).toEqual(['inner']);
		expect(readdirSync(target)).toEqual([]);
	});
});

describe('cx-export records', () => {
	it('prints every record of a split encrypted export, in archive order, one compact JSON object per line', () => {
		const r = cx(['records', '--key', alice.keyPath, ...shuffled(split.encryptedParts)]);
		expect(r.status, r.stderr).toBe(0);
		const lines = r.stdout.toString('utf8').split('\n');
		expect(lines.pop()).toBe('');
		expect(lines.map((l) => JSON.parse(l))).toEqual(split.records);
		expect(lines[0]).toBe(JSON.stringify(split.records[0]));
	});

	it('reads a whole zip, a decrypted single part, and a JSON Lines file', () => {
		const fromZip = cx(['records', single.plainParts[0]]);
		expect(fromZip.status, fromZip.stderr).toBe(0);
		expect(
			fromZip.stdout
				.toString()
				.trim()
				.split('\n')
				.map((l) => JSON.parse(l)),
		).toEqual(single.records);
		const jsonl = writeFile(dir.path, 'data.jsonl', '\ufeff{"a":1}\r\n\r\n{ "b" : [1, 2] }');
		expect(cx(['records', jsonl]).stdout.toString()).toBe('{"a":1}\n{"b":[1,2]}\n');
	});

	it('reads standard input ("-"), a pipe or /dev/stdin: an encrypted zip, a zip, JSON Lines; once', () => {
		const expected = cx(['records', '--key', alice.keyPath, single.encryptedParts[0]]);
		expect(expected.status, expected.stderr).toBe(0);
		expect(expected.stdout.length).toBeGreaterThan(0);
		// A zip is read from its end: from a stream it goes to a temporary file first, decrypted once.
		const encrypted = readFileSync(single.encryptedParts[0]);
		const spool = join(dir.path, 'spool');
		mkdirSync(spool);
		const fromStdin = cx(['records', '--key', alice.keyPath, '--temp-dir', spool, '-'], encrypted);
		expect(fromStdin.status, fromStdin.stderr).toBe(0);
		expect(fromStdin.stdout.equals(expected.stdout)).toBe(true);
		const viaDevStdin = cx(['records', '--key', alice.keyPath, '/dev/stdin'], encrypted);
		expect(viaDevStdin.status, viaDevStdin.stderr).toBe(0);
		expect(viaDevStdin.stdout.equals(expected.stdout)).toBe(true);
		const plainZip = cx(['records', '-'], readFileSync(single.plainParts[0]));
		expect(plainZip.status, plainZip.stderr).toBe(0);
		expect(plainZip.stdout.equals(expected.stdout)).toBe(true);
		expect(cx(['records', '-'], '{"a":1}\n{ "b" : 2 }\n').stdout.toString()).toBe(
			'{"a":1}\n{"b":2}\n',
		);
		// A split export's last part alone, from a stream: named "stdin" in the error.
		expectError(
			cx(['records', '--key', alice.keyPath, '-'], readFileSync(split.encryptedParts.at(-1)!)),
			/stdin is the last part of a split export/,
		);
		expectError(cx(['records', '-', '-'], ''), /standard input \("-"\) can be given only once/);
		// decrypt: "-" in, "-o -" out.
		const decrypted = cx(
			['decrypt', '--key', alice.keyPath, '-', '-o', '-'],
			readFileSync(split.encryptedParts[0]),
		);
		expect(decrypted.status, decrypted.stderr).toBe(0);
		expect(decrypted.stdout.equals(readFileSync(split.plainParts[0]))).toBe(true);
		expect(readdirSync(spool)).toEqual([]);
	});

	it('stops at a malformed line with <entry>:<line>, or skips and counts it with --on-error skip', () => {
		const jsonl = writeFile(dir.path, 'bad.jsonl', '{"a":1}\n{"a":2\n{"a":3}\n');
		const fail = cx(['records', jsonl]);
		expectError(fail, /bad\.jsonl:2: /);
		const skip = cx(['records', '--on-error', 'skip', jsonl]);
		expect(skip.status).toBe(0);
		expect(skip.stdout.toString()).toBe('{"a":1}\n{"a":3}\n');
		expect(skip.stderr).toMatch(/skipped 1 malformed line.*bad\.jsonl:2/);
	});

	it('records and decrypt write the same bytes when stdout is a file (written beside the work, not synchronously)', () => {
		const expected = cx(['records', '--key', alice.keyPath, ...split.encryptedParts]);
		expect(expected.status, expected.stderr).toBe(0);
		const target = join(dir.path, 'records-out.jsonl');
		cxToFile(['records', '--key', alice.keyPath, ...split.encryptedParts], target);
		expect(readFileSync(target).equals(expected.stdout)).toBe(true);
		expect(expected.stdout.toString().split('\n')).toHaveLength(split.records.length + 1);
		// decrypt, too: the plaintext of one part, whole.
		const part = join(dir.path, 'part-out.zip');
		cxToFile(['decrypt', '--key', alice.keyPath, split.encryptedParts[0]], part);
		expect(readFileSync(part).equals(readFileSync(split.plainParts[0]))).toBe(true);
	});

	it('compacts a spaced record nested 20,000 levels deep, keeping its 64-bit number and escapes', () => {
		const depth = 20_000;
		const deep = `{"a": ${'{"b": '.repeat(depth)}12345678901234567890${'}'.repeat(depth)}, "s": "\\u00e9"}`;
		const jsonl = writeFile(dir.path, 'deep.jsonl', `{"x":1}\n${deep}\n{"y":2}\n`);
		const r = cx(['records', jsonl]);
		expect(r.status, r.stderr).toBe(0);
		expect(r.stdout.toString()).toBe(
			`{"x":1}\n{"a":${'{"b":'.repeat(depth)}12345678901234567890${'}'.repeat(depth)},"s":"\\u00e9"}\n{"y":2}\n`,
		);
	});
});

describe('usage', () => {
	it('runs as an executable through its shebang, as npm links it', () => {
		const r = spawnSync(bin, ['--help']);
		expect(r.status, r.stderr?.toString()).toBe(0);
		expect(r.stdout.toString()).toMatch(/^usage:/);
	});

	it('prints help and exits 0', () => {
		const r = cx(['--help']);
		expect(r.status).toBe(0);
		expect(r.stdout.toString()).toMatch(/cx-export records/);
	});

	it('refuses an unknown command, a missing -o, and a bad --on-error with one error line', () => {
		expectError(cx(['explode']), /unknown command "explode"/);
		expectError(cx(['reassemble', split.plainParts[0]]), /-o OUT\.zip/);
		expectError(
			cx(['records', '--on-error', 'maybe', split.plainParts[0]]),
			/--on-error is fail or skip/,
		);
		expectError(
			cx(['decrypt', '--key', join(dir.path, 'nope.pem'), split.encryptedParts[0]]),
			/cannot read the key/,
		);
	});

	it('without a command: the usage on stderr and exit status 2; --version prints the package version', () => {
		const none = cx([]);
		expect(none.status).toBe(2);
		expect(none.stdout.toString()).toBe('');
		expect(none.stderr.toString()).toMatch(/^usage:/);
		const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
			version: string;
		};
		for (const flag of ['--version', '-V']) {
			const r = cx([flag]);
			expect(r.status).toBe(0);
			expect(r.stdout.toString()).toBe(`cx-export ${pkg.version}\n`);
		}
	});

	it('refuses a key file that is not a key-sized file (/dev/zero, a huge file) without reading it all', () => {
		expectError(
			cx(['decrypt', '--key', '/dev/zero', split.encryptedParts[0]]),
			/the key \/dev\/zero is larger than 1 MiB: not a key file/,
		);
		const huge = join(dir.path, 'huge.pem');
		writeFileSync(huge, Buffer.alloc(3 * 1024 * 1024, 0x41));
		expectError(
			cx(['records', '--key', alice.keyPath, '--certificate', huge, split.encryptedParts[0]]),
			/the certificate .*huge\.pem is larger than 1 MiB/,
		);
	});
});

describe('inputs recognised by content (issue 12, item 7)', () => {
	/** The whole encrypted zip `single` under names that do not say what it is. */
	function renamed(name: string): string {
		const path = join(dir.path, 'renamed', name);
		mkdirSync(join(dir.path, 'renamed'), { recursive: true });
		if (name.endsWith('.pem'))
			encryptFile(single.plainParts[0], path, alice.certPath, { outform: 'PEM' });
		else writeFileSync(path, readFileSync(single.encryptedParts[0]));
		return path;
	}

	it.each(['x.p7m', 'aes256.smime', 'cms.pem'])(
		'records and extract take a whole encrypted zip named %s',
		(name) => {
			const path = renamed(name);
			const r = cx(['records', '--key', alice.keyPath, path]);
			expect(r.status, r.stderr).toBe(0);
			expect(
				r.stdout
					.toString()
					.trim()
					.split('\n')
					.map((l) => JSON.parse(l)),
			).toEqual(single.records);
			const out = join(dir.path, `out-renamed-${name}`);
			const e = cx(['extract', '--key', alice.keyPath, path, '-d', out]);
			expect(e.status, e.stderr).toBe(0);
			for (const [file, content] of Object.entries(single.files))
				expect(readFileSync(join(out, file)).equals(content)).toBe(true);
		},
	);

	it('given only the final part of a split export, records and extract name the parts that are missing', () => {
		const last = split.encryptedParts[split.encryptedParts.length - 1];
		const n = split.encryptedParts.length;
		const lastNumbered = `${split.exportName}.z${String(n - 1).padStart(2, '0')}.smime`;
		const missing =
			n - 1 >= 3
				? `${split.exportName}.z01.smime … ${lastNumbered}`
				: `${split.exportName}.z01.smime`;
		const expected = `${split.exportName}.zip.smime is the last part of a split export of ${n} parts, but only it was given: ${missing}`;
		expectError(
			cx(['records', '--key', alice.keyPath, last]),
			new RegExp(expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
		);
		expectError(
			cx(['extract', '--key', alice.keyPath, last, '-d', join(dir.path, 'out-lone')]),
			/is the last part of a split export .* are missing/,
		);
		const plainLast = split.plainParts[split.plainParts.length - 1];
		expectError(
			cx(['records', plainLast]),
			new RegExp(
				`${split.exportName}\\.zip is the last part of a split export of ${n} parts.*\\.z01 .*missing`,
			),
		);
	});
});

describe('limits: a flag each, named in their errors (issue 12, item 5)', () => {
	it('--help lists every limit with its default', () => {
		const r = cx(['--help']);
		for (const flag of [
			'--max-line-size',
			'--max-cms-header-size',
			'--max-central-directory-size',
			'--max-total-size',
			'--max-entry-size',
			'--max-entries',
			'--max-ratio',
		]) {
			expect(r.stdout.toString()).toMatch(new RegExp(`${flag} N[\\s\\S]*?default`));
		}
	});

	it('--max-line-size lowers and raises the line limit; its error names the flag', () => {
		expectError(
			cx(['records', '--key', alice.keyPath, '--max-line-size', '100', single.encryptedParts[0]]),
			/the line is longer than 100 bytes.*raise the line size limit \(--max-line-size in the CLI/,
		);
		const r = cx([
			'records',
			'--key',
			alice.keyPath,
			'--max-line-size',
			'4K',
			single.encryptedParts[0],
		]);
		expect(r.status, r.stderr).toBe(0);
		expect(r.stdout.toString().trim().split('\n')).toHaveLength(single.records.length);
	});

	it('--max-cms-header-size lowers and raises the CMS header limit; its error names the flag', () => {
		for (const command of [
			['decrypt'],
			['records'],
			['reassemble', '-o', join(dir.path, 'cms-limit.zip')],
		]) {
			expectError(
				cx([
					...command,
					'--key',
					alice.keyPath,
					'--max-cms-header-size',
					'100',
					single.encryptedParts[0],
				]),
				/larger than the CMS header limit, 100 bytes.*--max-cms-header-size in the CLI/,
			);
		}
		expect(
			cx([
				'decrypt',
				'--key',
				alice.keyPath,
				'--max-cms-header-size',
				'1K',
				single.encryptedParts[0],
			]).status,
		).toBe(0);
	});

	it('--max-central-directory-size lowers and raises the central directory limit; its error names the flag', () => {
		const out = join(dir.path, 'out-cd');
		mkdirSync(out);
		const small = cx([
			'reassemble',
			'--key',
			alice.keyPath,
			'--max-central-directory-size',
			'100',
			...split.encryptedParts,
			'-o',
			join(out, 'x.zip'),
		]);
		expectError(
			small,
			/more than the central directory size limit, 100 bytes.*--max-central-directory-size in the CLI.* to at least \d+ bytes/,
		);
		expect(existsSync(join(out, 'x.zip'))).toBe(false);
		expectError(
			cx([
				'records',
				'--key',
				alice.keyPath,
				'--max-central-directory-size',
				'100',
				...split.encryptedParts,
			]),
			/--max-central-directory-size/,
		);
		const needed = /to at least (\d+) bytes/.exec(small.stderr)![1];
		const ok = cx([
			'reassemble',
			'--key',
			alice.keyPath,
			'--max-central-directory-size',
			needed,
			...split.encryptedParts,
			'-o',
			join(out, 'x.zip'),
		]);
		expect(ok.status, ok.stderr).toBe(0);
	});

	it('the zip-bomb limits name their flag', () => {
		expectError(
			cx(['records', '--key', alice.keyPath, '--max-entries', '1', single.encryptedParts[0]]),
			/more than the entry count limit \(1\).*--max-entries in the CLI/,
		);
		expectError(
			cx([
				'extract',
				'--key',
				alice.keyPath,
				'--max-total-size',
				'1K',
				single.encryptedParts[0],
				'-d',
				join(dir.path, 'out-total'),
			]),
			/total size limit, 1024 bytes.*--max-total-size in the CLI/,
		);
	});

	it('refuses limit values out of their bounds', () => {
		expectError(
			cx(['records', '--max-line-size', '0', single.plainParts[0]]),
			/--max-line-size must be at least 1 byte, got 0 bytes/,
		);
		expectError(
			cx(['records', '--max-line-size', '2G', single.plainParts[0]]),
			/--max-line-size must be at most 1 GiB, got 2 GiB/,
		);
		expectError(
			cx([
				'reassemble',
				'--max-central-directory-size',
				'200M',
				single.plainParts[0],
				'-o',
				join(dir.path, 'never.zip'),
			]),
			/--max-central-directory-size must be at most 128 MiB/,
		);
		expectError(
			cx(['extract', '--max-entries', '1.5', single.plainParts[0], '-d', join(dir.path, 'never')]),
			/--max-entries must be a whole number/,
		);
		expectError(
			cx([
				'decrypt',
				'--key',
				alice.keyPath,
				'--max-cms-header-size',
				'lots',
				single.encryptedParts[0],
			]),
			/--max-cms-header-size expects a size such as 500M/,
		);
		expectError(
			cx(['decrypt', '--key', alice.keyPath, '--max-line-size', '1M', single.encryptedParts[0]]),
			/Unknown option '--max-line-size'/,
		);
	});
});
