import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptCms, loadDecryptionKey, type DecryptionKey } from '../../src/cms';
import { CxError } from '../../src/errors';
import { makeRecipient, openssl, tempDir, writeFile } from '../helpers/fixtures.mjs';

const dir = tempDir();
let key: DecryptionKey;
let plaintext: Buffer;
const messages: Record<string, Buffer> = {};

beforeAll(() => {
	const alice = makeRecipient(dir.path, 'alice');
	key = loadDecryptionKey({ key: alice.key });
	plaintext = randomBytes(5000);
	const plainPath = writeFile(dir.path, 'plain.bin', plaintext);
	const enc = (args: string[]) => openssl([...args, '-binary', '-in', plainPath, alice.certPath]);
	messages.smimeCbc = enc(['smime', '-encrypt', '-aes256']);
	messages.berCbc = enc(['cms', '-encrypt', '-aes128', '-stream', '-outform', 'DER']);
	messages.derGcm = enc(['cms', '-encrypt', '-aes-256-gcm', '-outform', 'DER']);
	messages.pemGcm = enc(['cms', '-encrypt', '-aes-128-gcm', '-stream', '-outform', 'PEM']);
});
afterAll(() => dir.remove());

type Outcome = { ok: true; output: Buffer } | { ok: false; error: CxError };

/** Runs a decryption to the end; anything but a CxError fails the property. */
async function attempt(data: Buffer, chunk: number): Promise<Outcome> {
	async function* chunks() {
		for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
	}
	const out: Buffer[] = [];
	try {
		for await (const piece of decryptCms(chunks(), { key })) out.push(piece);
		return { ok: true, output: Buffer.concat(out) };
	} catch (error) {
		if (error instanceof CxError) return { ok: false, error };
		throw error;
	}
}

describe('damaged messages never crash, hang or pass as valid', () => {
	it('a truncated message is an error unless only trailing whitespace was cut', async () => {
		for (const name of Object.keys(messages)) {
			const message = messages[name];
			await fc.assert(
				fc.asyncProperty(
					fc.integer({ min: 0, max: message.length - 1 }),
					fc.integer({ min: 1, max: 4096 }),
					async (cut, chunk) => {
						const result = await attempt(message.subarray(0, cut), chunk);
						if (result.ok) {
							expect(message.subarray(cut).toString('latin1').trim(), `${name} cut at ${cut}`).toBe(
								'',
							);
							expect(result.output.equals(plaintext)).toBe(true);
						}
					},
				),
				{ numRuns: 150 },
			);
		}
	});

	it('any bit flip in an authenticated (GCM) message is an error or changes nothing', async () => {
		for (const name of ['derGcm', 'pemGcm']) {
			const message = messages[name];
			await fc.assert(
				fc.asyncProperty(
					fc.integer({ min: 0, max: message.length - 1 }),
					fc.integer({ min: 0, max: 7 }),
					async (at, bit) => {
						const damaged = Buffer.from(message);
						damaged[at] ^= 1 << bit;
						const result = await attempt(damaged, 1000);
						if (result.ok)
							expect(
								result.output.equals(plaintext),
								`${name}: flip at ${at} bit ${bit} passed as valid`,
							).toBe(true);
					},
				),
				{ numRuns: 300 },
			);
		}
	});

	it('bit flips in CBC messages end in output or a CxError, never a crash or a hang', async () => {
		// CBC has no integrity check of its own: a flip inside the ciphertext garbles a block
		// silently (as with openssl). The zip layer's CRC-32 is what catches that; here we only
		// require that the decoder survives and stops.
		for (const name of ['smimeCbc', 'berCbc']) {
			const message = messages[name];
			await fc.assert(
				fc.asyncProperty(
					fc.integer({ min: 0, max: message.length - 1 }),
					fc.integer({ min: 0, max: 7 }),
					async (at, bit) => {
						const damaged = Buffer.from(message);
						damaged[at] ^= 1 << bit;
						const result = await attempt(damaged, 777);
						if (result.ok) expect(result.output.length).toBeLessThanOrEqual(plaintext.length + 16);
					},
				),
				{ numRuns: 300 },
			);
		}
	});
});
