/**
 * Telling an encrypted message from a plain file by its first bytes. The parts of a split export
 * come decrypted or not, in any mix: a middle part of a split zip is arbitrary compressed bytes, and
 * one in 256 starts with 0x30 — the first byte of every DER message. Such a part was taken for an
 * encrypted one and "decrypted" (seen as a flaky node test); the content type OID decides now.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniff } from '../../src/cms/armor';
import { peek } from '../../src/pipeline/sources';
import {
	makeRecipient,
	openssl,
	tempDir,
	writeFile,
	type Recipient,
} from '../helpers/fixtures.mjs';

let dir: ReturnType<typeof tempDir>;
let alice: Recipient;
beforeAll(() => {
	dir = tempDir('cx-sniff-');
	alice = makeRecipient(dir.path, 'alice');
});
afterAll(() => dir.remove());

describe('sniff', () => {
	it('knows DER (definite), BER (indefinite, -stream), PEM and S/MIME messages made by openssl, with every cipher Genesys might use', () => {
		const input = writeFile(dir.path, 'plain.bin', randomBytes(5000));
		for (const cipher of ['-aes256', '-aes128', '-des3']) {
			expect(
				sniff(
					openssl([
						'cms',
						'-encrypt',
						'-binary',
						cipher,
						'-in',
						input,
						'-outform',
						'DER',
						alice.certPath,
					]),
				),
			).toBe('cms');
			expect(
				sniff(
					openssl([
						'cms',
						'-encrypt',
						'-binary',
						'-stream',
						cipher,
						'-in',
						input,
						'-outform',
						'DER',
						alice.certPath,
					]),
				),
			).toBe('cms');
			expect(
				sniff(
					openssl([
						'cms',
						'-encrypt',
						'-binary',
						cipher,
						'-in',
						input,
						'-outform',
						'PEM',
						alice.certPath,
					]),
				),
			).toBe('cms');
			expect(
				sniff(openssl(['smime', '-encrypt', '-binary', cipher, '-in', input, alice.certPath])),
			).toBe('cms');
		}
		expect(
			sniff(
				openssl([
					'cms',
					'-encrypt',
					'-binary',
					'-aes-256-gcm',
					'-in',
					input,
					'-outform',
					'DER',
					alice.certPath,
				]),
			),
		).toBe('cms');
	});

	it('knows PEM armour after lines of explanatory text, not after binary bytes nor a PEM key', () => {
		const input = writeFile(dir.path, 'plain-pem.bin', randomBytes(500));
		const pem = openssl([
			'cms',
			'-encrypt',
			'-binary',
			'-aes256',
			'-in',
			input,
			'-outform',
			'PEM',
			alice.certPath,
		]);
		expect(sniff(Buffer.concat([Buffer.from('Contact History export\n\n'), pem]))).toBe('cms');
		expect(sniff(Buffer.concat([Buffer.from('\x00\x02junk\n'), pem]))).toBe('unknown');
		expect(sniff(Buffer.concat([Buffer.from('text\n'), alice.key]))).toBe('unknown');
	});

	it('does not take arbitrary bytes that start with 0x30 for a message (10,000 random heads)', () => {
		for (let i = 0; i < 10_000; i++) {
			const head = randomBytes(16);
			head[0] = 0x30;
			expect(sniff(head)).toBe('unknown');
		}
	});

	it('reads a plain middle part starting with 0x30 as plain, through the pipeline', async () => {
		const part = Buffer.concat([
			Buffer.from([0x30, 0x82, 0x01, 0x00, 0x02, 0x01]),
			randomBytes(4000),
		]);
		const { kind } = await peek({
			name: 'export-1.z04',
			open: async function* () {
				yield part.subarray(0, 3);
				yield part.subarray(3);
			},
		});
		expect(kind).toBe('other');
	});
});
