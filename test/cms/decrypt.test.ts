import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptCms, inspectCms, loadDecryptionKey, type DecryptionKey } from '../../src/cms';
import { CxError } from '../../src/errors';
import { failure } from '../helpers/failure';
import {
	makeRecipient,
	openssl,
	tempDir,
	writeFile,
	type Recipient,
} from '../helpers/fixtures.mjs';

/** Feeds `data` in chunks of the given size (or random sizes) and collects the plaintext. */
export async function decryptBuffer(
	data: Buffer,
	key: DecryptionKey,
	chunk: number | 'random' = 64 * 1024,
	source = 'input',
): Promise<Buffer> {
	async function* chunks() {
		for (let i = 0; i < data.length; ) {
			const n = chunk === 'random' ? 1 + Math.floor(Math.random() * 5000) : chunk;
			yield data.subarray(i, i + n);
			i += n;
		}
	}
	const out: Buffer[] = [];
	for await (const piece of decryptCms(chunks(), { key, source })) out.push(piece);
	return Buffer.concat(out);
}

const dir = tempDir();
let alice: Recipient;
let bob: Recipient;
let plaintext: Buffer;
let plainPath: string;

beforeAll(() => {
	alice = makeRecipient(dir.path, 'alice');
	bob = makeRecipient(dir.path, 'bob');
	// Not a multiple of the block size, and larger than one BER segment and one read chunk.
	plaintext = randomBytes(300_001);
	plainPath = writeFile(dir.path, 'plain.bin', plaintext);
});
afterAll(() => dir.remove());

/** A PEM message between lines of text, as people paste it into a file. */
function withText(pem: Buffer): Buffer {
	return Buffer.concat([
		Buffer.from('Export of 2026-11-28, Contact History\r\nencrypted for alice\n\n'),
		pem,
		Buffer.from('\n-- sent by the nightly job\n'),
	]);
}

function encrypt(args: string[], recipients: Recipient[] = [alice]): Buffer {
	return openssl([...args, '-binary', '-in', plainPath, ...recipients.map((r) => r.certPath)]);
}

describe('content ciphers (openssl smime -encrypt)', () => {
	for (const cipher of ['-aes128', '-aes192', '-aes256', '-des3']) {
		it(`decrypts ${cipher} byte-exact`, async () => {
			const message = encrypt(['smime', '-encrypt', cipher]);
			const key = loadDecryptionKey({ key: alice.key });
			expect((await decryptBuffer(message, key)).equals(plaintext)).toBe(true);
		});
	}

	it('decrypts OpenSSL 3.0 default (DES-EDE3-CBC) without naming a cipher', async () => {
		const message = encrypt(['smime', '-encrypt']);
		const header = await inspectCms([message]);
		expect(header.cipher.label).toBe('DES-EDE3-CBC');
		expect(
			(await decryptBuffer(message, loadDecryptionKey({ key: alice.key }))).equals(plaintext),
		).toBe(true);
	});

	for (const cipher of ['-aes-128-gcm', '-aes-192-gcm', '-aes-256-gcm']) {
		it(`decrypts AuthEnvelopedData ${cipher} (openssl cms) and checks its tag`, async () => {
			const message = encrypt(['cms', '-encrypt', cipher, '-outform', 'DER']);
			expect((await inspectCms([message])).contentType).toBe('authEnvelopedData');
			const key = loadDecryptionKey({ key: alice.key });
			expect((await decryptBuffer(message, key)).equals(plaintext)).toBe(true);
			// The tag is the last OCTET STRING: flip a byte of it.
			const damaged = Buffer.from(message);
			damaged[damaged.length - 3] ^= 0x01;
			expect((await failure(decryptBuffer(damaged, key))).code).toBe('CMS_INTEGRITY');
		});
	}
});

describe('input formats', () => {
	const formats: Array<[string, () => Buffer]> = [
		['S/MIME with LF line ends', () => encrypt(['smime', '-encrypt', '-aes256'])],
		[
			'S/MIME with CRLF line ends',
			() =>
				Buffer.from(
					encrypt(['smime', '-encrypt', '-aes256']).toString('latin1').replace(/\n/g, '\r\n'),
					'latin1',
				),
		],
		['PEM BEGIN PKCS7', () => encrypt(['smime', '-encrypt', '-aes256', '-outform', 'PEM'])],
		['PEM BEGIN CMS', () => encrypt(['cms', '-encrypt', '-aes256', '-outform', 'PEM'])],
		[
			'PEM with explanatory text before and after it (RFC 7468)',
			() => withText(encrypt(['cms', '-encrypt', '-aes256', '-outform', 'PEM'])),
		],
		['DER, definite lengths', () => encrypt(['cms', '-encrypt', '-aes256', '-outform', 'DER'])],
		[
			'BER, indefinite lengths and constructed OCTET STRING (cms -stream)',
			() => encrypt(['cms', '-encrypt', '-aes256', '-stream', '-outform', 'DER']),
		],
		[
			'S/MIME carrying streamed BER (cms -stream, SMIME)',
			() => encrypt(['cms', '-encrypt', '-aes128', '-stream', '-outform', 'SMIME']),
		],
	];
	for (const [name, make] of formats) {
		it(`decrypts ${name}, whatever the chunking`, async () => {
			const message = make();
			const key = loadDecryptionKey({ key: alice.key });
			expect((await decryptBuffer(message, key, 64 * 1024)).equals(plaintext)).toBe(true);
			expect((await decryptBuffer(message, key, 'random')).equals(plaintext)).toBe(true);
			expect((await decryptBuffer(message, key, 7)).equals(plaintext)).toBe(true);
		});
	}

	it('reads PEM after explanatory text as openssl does, and refuses PEM after binary bytes', async () => {
		const message = withText(encrypt(['cms', '-encrypt', '-aes256', '-outform', 'PEM']));
		const path = writeFile(dir.path, 'with-text.pem', message);
		expect(
			openssl([
				'cms',
				'-decrypt',
				'-binary',
				'-inform',
				'PEM',
				'-in',
				path,
				'-inkey',
				alice.keyPath,
			]).equals(plaintext),
		).toBe(true);
		const key = loadDecryptionKey({ key: alice.key });
		expect((await decryptBuffer(message, key)).equals(plaintext)).toBe(true);
		const binary = Buffer.concat([Buffer.from([0x00, 0x01, 0x0a]), message]);
		expect((await failure(decryptBuffer(binary, key))).code).toBe('CMS_FORMAT');
	});

	it('decrypts an empty message', async () => {
		const empty = writeFile(dir.path, 'empty.bin', '');
		const message = openssl([
			'cms',
			'-encrypt',
			'-binary',
			'-aes256',
			'-stream',
			'-outform',
			'DER',
			'-in',
			empty,
			alice.certPath,
		]);
		expect((await decryptBuffer(message, loadDecryptionKey({ key: alice.key }))).length).toBe(0);
	});

	it('says a zip file is already decrypted', async () => {
		const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(100)]);
		const error = await failure(
			decryptBuffer(zip, loadDecryptionKey({ key: alice.key }), 64, 'export.zip'),
		);
		expect(error.code).toBe('CMS_FORMAT');
		expect(error.message).toContain('export.zip');
		expect(error.message).toContain('already decrypted');
	});

	it('refuses a signed (not encrypted) message', async () => {
		const signed = openssl([
			'smime',
			'-sign',
			'-in',
			plainPath,
			'-signer',
			alice.certPath,
			'-inkey',
			alice.keyPath,
			'-outform',
			'DER',
			'-nodetach',
		]);
		const error = await failure(decryptBuffer(signed, loadDecryptionKey({ key: alice.key })));
		expect(error.code).toBe('CMS_UNSUPPORTED');
		expect(error.message).toMatch(/signed data/);
	});
});

describe('key transport and recipient identification', () => {
	it('decrypts RSA-OAEP (SHA-1 defaults)', async () => {
		const message = openssl([
			'cms',
			'-encrypt',
			'-aes256',
			'-outform',
			'DER',
			'-binary',
			'-in',
			plainPath,
			'-recip',
			alice.certPath,
			'-keyopt',
			'rsa_padding_mode:oaep',
		]);
		expect((await inspectCms([message])).recipients[0]).toMatchObject({
			algorithm: '1.2.840.113549.1.1.7',
		});
		expect(
			(await decryptBuffer(message, loadDecryptionKey({ key: alice.key }))).equals(plaintext),
		).toBe(true);
	});

	it('decrypts RSA-OAEP with SHA-256', async () => {
		const message = openssl([
			'cms',
			'-encrypt',
			'-aes256',
			'-outform',
			'DER',
			'-binary',
			'-in',
			plainPath,
			'-recip',
			alice.certPath,
			'-keyopt',
			'rsa_padding_mode:oaep',
			'-keyopt',
			'rsa_oaep_md:sha256',
		]);
		expect(
			(await decryptBuffer(message, loadDecryptionKey({ key: alice.key }))).equals(plaintext),
		).toBe(true);
	});

	it('finds the recipient by subject key identifier (cms -keyid)', async () => {
		const message = encrypt(['cms', '-encrypt', '-aes256', '-outform', 'DER', '-keyid']);
		const header = await inspectCms([message]);
		expect(header.recipients[0]).toMatchObject({ type: 'keyTransport', id: { kind: 'keyId' } });
		expect(
			(await decryptBuffer(message, loadDecryptionKey({ key: alice.key }))).equals(plaintext),
		).toBe(true);
	});

	it('finds the recipient by issuer and serial when the certificate is given', async () => {
		const message = encrypt(['smime', '-encrypt', '-aes256'], [bob, alice]);
		const key = loadDecryptionKey({ key: alice.key, certificate: alice.cert });
		expect(key.certificates).toHaveLength(1);
		expect((await decryptBuffer(message, key)).equals(plaintext)).toBe(true);
	});

	it('uses the matching one of several recipients, with or without a certificate', async () => {
		const message = encrypt(['smime', '-encrypt', '-aes256'], [alice, bob]);
		expect((await inspectCms([message])).recipients).toHaveLength(2);
		expect(
			(await decryptBuffer(message, loadDecryptionKey({ key: bob.key }))).equals(plaintext),
		).toBe(true);
		expect(
			(
				await decryptBuffer(message, loadDecryptionKey({ key: bob.key, certificate: bob.cert }))
			).equals(plaintext),
		).toBe(true);
	});

	it('refuses a wrong key before decrypting anything, naming the recipients', async () => {
		const message = encrypt(['smime', '-encrypt', '-aes256']);
		for (const key of [
			loadDecryptionKey({ key: bob.key }),
			loadDecryptionKey({ key: bob.key, certificate: bob.cert }),
		]) {
			const chunks: Buffer[] = [];
			const error = await failure(
				(async () => {
					for await (const c of decryptCms([message], { key, source: 'export-1.zip.smime' }))
						chunks.push(c);
				})(),
			);
			expect(error.code).toBe('CMS_WRONG_KEY');
			expect(error.message).toContain('export-1.zip.smime');
			expect(error.message).toContain('CN=alice');
			expect(error.message).toMatch(/serial [0-9A-F]+/);
			expect(chunks).toHaveLength(0);
		}
	});

	it('refuses a wrong key for a key-identifier recipient too', async () => {
		const message = encrypt(['cms', '-encrypt', '-aes256', '-outform', 'DER', '-keyid']);
		const error = await failure(decryptBuffer(message, loadDecryptionKey({ key: bob.key })));
		expect(error.code).toBe('CMS_WRONG_KEY');
		expect(error.message).toMatch(/key identifier [0-9A-F]{40}/);
	});

	it('treats an encrypted key larger than the modulus as "not for this key" (raw RSA would throw)', async () => {
		const message = Buffer.from(encrypt(['cms', '-encrypt', '-aes256', '-outform', 'DER']));
		// The encrypted content key is the only 256-byte OCTET STRING: 04 82 01 00.
		const at = message.indexOf(Buffer.from([0x04, 0x82, 0x01, 0x00]));
		expect(at).toBeGreaterThan(0);
		message.fill(0xff, at + 4, at + 4 + 256);
		const error = await failure(decryptBuffer(message, loadDecryptionKey({ key: alice.key })));
		expect(error.code).toBe('CMS_WRONG_KEY');
	});

	it('refuses a certificate that does not belong to the key', () => {
		expect(() => loadDecryptionKey({ key: alice.key, certificate: bob.cert })).toThrow(
			/does not belong to this private key/,
		);
	});
});

describe('key formats', () => {
	const passphrase = 'correct horse';
	const cases: Array<[string, () => { key: Buffer | string; passphrase?: string }]> = [
		['PKCS#8 PEM', () => ({ key: alice.key })],
		[
			'PKCS#1 PEM (BEGIN RSA PRIVATE KEY)',
			() => ({ key: openssl(['rsa', '-in', alice.keyPath, '-traditional']) }),
		],
		[
			'encrypted PKCS#8 PEM with passphrase',
			() => ({
				key: openssl([
					'pkcs8',
					'-topk8',
					'-in',
					alice.keyPath,
					'-v2',
					'aes-256-cbc',
					'-passout',
					`pass:${passphrase}`,
				]),
				passphrase,
			}),
		],
		[
			'DER PKCS#8',
			() => ({
				key: openssl(['pkcs8', '-topk8', '-nocrypt', '-in', alice.keyPath, '-outform', 'DER']),
			}),
		],
		[
			'PKCS#12 (OpenSSL 3 defaults: PBES2/AES-256, SHA-256 MAC)',
			() => ({ key: pkcs12([]), passphrase }),
		],
		['PKCS#12 (legacy 3DES/RC2)', () => ({ key: pkcs12(['-legacy']), passphrase })],
		['PKCS#12 as base64 text', () => ({ key: pkcs12([]).toString('base64'), passphrase })],
		[
			'PEM with the certificate in the same file',
			() => ({ key: Buffer.concat([alice.cert, alice.key]) }),
		],
	];
	function pkcs12(extra: string[]): Buffer {
		return openssl([
			'pkcs12',
			'-export',
			...extra,
			'-inkey',
			alice.keyPath,
			'-in',
			alice.certPath,
			'-passout',
			`pass:${passphrase}`,
		]);
	}
	let message: Buffer;
	beforeAll(() => {
		message = encrypt(['smime', '-encrypt', '-aes256']);
	});
	for (const [name, make] of cases) {
		it(`reads ${name}`, async () => {
			const key = loadDecryptionKey(make());
			expect((await decryptBuffer(message, key)).equals(plaintext)).toBe(true);
		});
	}

	it('keeps the certificate from a PKCS#12 file', () => {
		const key = loadDecryptionKey({ key: pkcs12([]), passphrase });
		expect(key.certificates.map((c) => c.subject)).toEqual(['O=CX Export Tests, CN=alice']);
	});

	it('says when the passphrase is missing or wrong, without echoing it', () => {
		const encrypted = openssl([
			'pkcs8',
			'-topk8',
			'-in',
			alice.keyPath,
			'-v2',
			'aes-256-cbc',
			'-passout',
			`pass:${passphrase}`,
		]);
		expect(() => loadDecryptionKey({ key: encrypted })).toThrow(/give its passphrase/);
		try {
			loadDecryptionKey({ key: encrypted, passphrase: 'hunter2-secret' });
			expect.unreachable();
		} catch (error) {
			expect((error as CxError).code).toBe('KEY_INVALID');
			expect((error as Error).message).not.toContain('hunter2-secret');
		}
		expect(() => loadDecryptionKey({ key: pkcs12([]), passphrase: 'nope' })).toThrow(
			/password does not open/,
		);
	});

	it('refuses a file that holds no private key', () => {
		expect(() => loadDecryptionKey({ key: alice.cert })).toThrow(/no private key/);
		expect(() => loadDecryptionKey({ key: 'garbage' })).toThrow(CxError);
	});
});

describe('damaged input', () => {
	let message: Buffer;
	let key: DecryptionKey;
	beforeAll(() => {
		message = encrypt(['cms', '-encrypt', '-aes256', '-stream', '-outform', 'DER']);
		key = loadDecryptionKey({ key: alice.key });
	});

	it('reports a file cut short, wherever it is cut', async () => {
		for (const cut of [
			10,
			300,
			1000,
			message.length / 2,
			message.length - 20,
			message.length - 1,
		]) {
			const error = await failure(
				decryptBuffer(message.subarray(0, Math.floor(cut)), key, 'random', 'export-9.z02.smime'),
			);
			expect(error.code, `cut at ${cut}`).toMatch(/CMS_TRUNCATED|CMS_FORMAT/);
			expect(error.message).toContain('export-9.z02.smime');
		}
	});

	it('reports a cut S/MIME file as cut short', async () => {
		const smime = encrypt(['smime', '-encrypt', '-aes256']);
		const error = await failure(
			decryptBuffer(smime.subarray(0, Math.floor(smime.length * 0.7)), key),
		);
		expect(error.code).toBe('CMS_TRUNCATED');
		expect(error.message).toMatch(/cut short/);
	});

	it('decodes base64 read in pieces larger than its decoding slices, with lines that break the pattern', async () => {
		const smime = encrypt(['smime', '-encrypt', '-aes256']).toString('latin1');
		const k = loadDecryptionKey({ key: alice.key });
		// Whole reads of 1 MiB and of 150,001 bytes: several slices per read, lines cut between reads.
		for (const chunk of [1 << 20, 150_001])
			expect((await decryptBuffer(Buffer.from(smime, 'latin1'), k, chunk)).equals(plaintext)).toBe(
				true,
			);
		// One line split in two deep inside the body (still valid base64: openssl reads it too).
		const body = smime.indexOf('\n\n') + 2;
		const at = smime.indexOf('\n', body + 200_000);
		const irregular = `${smime.slice(0, at - 20)}\n${smime.slice(at - 20)}`;
		for (const chunk of [1 << 20, 150_001, 'random'] as const)
			expect(
				(await decryptBuffer(Buffer.from(irregular, 'latin1'), k, chunk)).equals(plaintext),
			).toBe(true);
	});

	it('reports an invalid base64 character deep inside a large read with its byte offset', async () => {
		const smime = Buffer.from(encrypt(['smime', '-encrypt', '-aes256']));
		const at = 250_003;
		smime[at] = 0x21; // '!'
		for (const chunk of [1 << 20, 150_001]) {
			const error = await failure(decryptBuffer(smime, key, chunk));
			expect(error.code).toBe('CMS_FORMAT');
			expect(error.message).toContain(`byte ${at}`);
		}
	});

	it('reports an invalid base64 character with its byte offset', async () => {
		const smime = Buffer.from(encrypt(['smime', '-encrypt', '-aes256']));
		const at = smime.length - 500;
		smime[at] = 0x21; // '!'
		const error = await failure(decryptBuffer(smime, key));
		expect(error.code).toBe('CMS_FORMAT');
		expect(error.message).toContain(`byte ${at}`);
	});

	it('refuses data after the end of the message', async () => {
		const error = await failure(
			decryptBuffer(Buffer.concat([message, Buffer.from('garbage')]), key),
		);
		expect(error.code).toBe('CMS_FORMAT');
		expect(error.message).toMatch(/after the end/);
	});

	it('refuses an empty file and a text file', async () => {
		expect((await failure(decryptBuffer(Buffer.alloc(0), key))).code).toBe('CMS_TRUNCATED');
		expect(
			(await failure(decryptBuffer(Buffer.from('hello world\nthis is not encrypted\n'), key))).code,
		).toBe('CMS_FORMAT');
	});
});

describe('recipient listing', () => {
	it('lists every recipient of a message', async () => {
		const message = readFileSync(join(dir.path, 'plain.bin'));
		const encrypted = openssl(
			['smime', '-encrypt', '-binary', '-aes256', alice.certPath, bob.certPath],
			{ input: message },
		);
		const header = await inspectCms([encrypted]);
		expect(header.cipher.label).toBe('AES-256-CBC');
		expect(header.recipients).toHaveLength(2);
	});
});
