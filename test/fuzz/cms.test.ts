/**
 * What the fuzz run found in the CMS reader, pinned: BER nested past any real message, and
 * structures with elements missing, are CMS_FORMAT — not a RangeError (stack overflow) or a
 * TypeError escaping from the parser.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptCms, loadDecryptionKey, type DecryptionKey } from '../../src/cms';
import { CxError } from '../../src/errors';
import { makeRecipient, openssl, tempDir, writeFile } from '../helpers/fixtures.mjs';
import { derHeaders, nestedEnvelope, withLength, type NestedPart } from './cmsBytes';

const dir = tempDir();
let key: DecryptionKey;
let certificate: X509Certificate;
const plaintext = Buffer.from('{"IXNID":"1"}\n'.repeat(50));

beforeAll(() => {
	const alice = makeRecipient(dir.path, 'alice');
	key = loadDecryptionKey({ key: alice.key, certificate: alice.cert });
	certificate = new X509Certificate(alice.cert);
});
afterAll(() => dir.remove());

async function decrypt(message: Buffer): Promise<Buffer> {
	const out: Buffer[] = [];
	for await (const chunk of decryptCms([message], { key, source: 'x.p7m' })) out.push(chunk);
	return Buffer.concat(out);
}

async function refusal(message: Buffer): Promise<CxError> {
	try {
		await decrypt(message);
	} catch (error) {
		if (error instanceof CxError) return error;
		throw error;
	}
	throw new Error('expected a CxError');
}

describe('CMS nested deeper than any message', () => {
	it.each([['iv'], ['keyId'], ['encryptedKey'], ['content']] as Array<[NestedPart]>)(
		'%s as OCTET STRING segments 100,000 deep: CMS_FORMAT naming the nesting',
		async (part) => {
			const error = await refusal(
				nestedEnvelope(plaintext, certificate, key.keyIdentifier, part, 100_000, 'definite'),
			);
			expect(error.code).toBe('CMS_FORMAT');
			expect(error.message).toMatch(/^x\.p7m: .*nested deeper than 64/);
		},
	);

	it.each([['iv'], ['keyId'], ['encryptedKey'], ['content']] as Array<[NestedPart]>)(
		'%s nested a few levels (valid BER) still decrypts',
		async (part) => {
			expect(
				(
					await decrypt(
						nestedEnvelope(plaintext, certificate, key.keyIdentifier, part, 3, 'definite'),
					)
				).equals(plaintext),
			).toBe(true);
		},
	);
});

describe('CMS with elements missing', () => {
	it('an empty content encryption algorithm, an empty recipient, empty OAEP parameters: CMS_FORMAT', async () => {
		const plainPath = writeFile(dir.path, 'plain.bin', plaintext);
		const certPath = writeFile(dir.path, 'cert.pem', certificate.toString());
		const gcm = openssl([
			'cms',
			'-encrypt',
			'-binary',
			'-aes-256-gcm',
			'-outform',
			'DER',
			'-in',
			plainPath,
			'-recip',
			certPath,
		]);
		const oaep = openssl([
			'cms',
			'-encrypt',
			'-binary',
			'-aes256',
			'-outform',
			'DER',
			'-in',
			plainPath,
			'-recip',
			certPath,
			'-keyopt',
			'rsa_padding_mode:oaep',
			'-keyopt',
			'rsa_oaep_md:sha256',
		]);
		// Each SEQUENCE of the header set to length 0 in turn: whatever it empties, a CxError.
		for (const message of [gcm, oaep]) {
			const headers = derHeaders(message).filter(
				(h) => h.constructed && h.length !== undefined && h.at < 600,
			);
			expect(headers.length).toBeGreaterThan(10);
			for (const h of headers) {
				const error = await refusal(withLength(message, h, Buffer.from([0x00])));
				expect(error.message, `length 0 at byte ${h.at}`).not.toMatch(/Cannot read|undefined/);
			}
		}
	});
});
