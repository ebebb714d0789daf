import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDecryptionKey } from '../../src/cms';
import { makeRecipient, openssl, tempDir, type Recipient } from '../helpers/fixtures.mjs';

let dir: ReturnType<typeof tempDir>;
let recipient: Recipient;

beforeAll(() => {
	dir = tempDir('cx-keys-');
	recipient = makeRecipient(dir.path, 'keys');
});
afterAll(() => dir.remove());

describe('loadDecryptionKey: what a wrong key says', () => {
	it('calls junk junk, not an encrypted key', () => {
		for (const junk of [
			'bm90IGEga2V5IGF0IGFsbA==',
			'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA',
			'-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n',
		]) {
			expect(() => loadDecryptionKey({ key: junk, label: 'the credential' })).toThrow(
				/not a readable private key/,
			);
		}
	});

	it('asks for the passphrase of an encrypted key (PEM or DER), and says when it is wrong', () => {
		const encryptedPem = openssl([
			'pkcs8',
			'-topk8',
			'-v2',
			'aes256',
			'-in',
			recipient.keyPath,
			'-passout',
			'pass:s3cret',
		]);
		expect(() => loadDecryptionKey({ key: encryptedPem })).toThrow(
			/the key is encrypted; give its passphrase/,
		);
		expect(() => loadDecryptionKey({ key: encryptedPem, passphrase: 'nope' })).toThrow(
			/the passphrase does not open this key/,
		);
		expect(loadDecryptionKey({ key: encryptedPem, passphrase: 's3cret' }).modulusBytes).toBe(256);
		const encryptedDer = openssl([
			'pkcs8',
			'-topk8',
			'-v2',
			'aes256',
			'-in',
			recipient.keyPath,
			'-passout',
			'pass:s3cret',
			'-outform',
			'DER',
		]);
		expect(() => loadDecryptionKey({ key: encryptedDer.toString('base64') })).toThrow(
			/the key is encrypted; give its passphrase/,
		);
		expect(loadDecryptionKey({ key: encryptedDer, passphrase: 's3cret' }).modulusBytes).toBe(256);
	});
});
