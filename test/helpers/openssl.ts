/**
 * Fixtures made by the real OpenSSL command line, inside the test run: keys, certificates and
 * messages encrypted exactly as `openssl smime` / `openssl cms` (and Genesys) produce them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function openssl(
	args: string[],
	options: { input?: Buffer | string; cwd?: string } = {},
): Buffer {
	return execFileSync('openssl', args, {
		input: options.input,
		cwd: options.cwd,
		maxBuffer: 1 << 30,
		stdio: ['pipe', 'pipe', 'pipe'],
	});
}

export function tempDir(prefix = 'cx-export-test-'): { path: string; remove(): void } {
	const path = mkdtempSync(join(tmpdir(), prefix));
	return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Recipient {
	name: string;
	keyPath: string;
	certPath: string;
	key: Buffer;
	cert: Buffer;
}

/** An RSA key and a self-signed certificate, the way a Genesys admin makes one. */
export function makeRecipient(dir: string, name: string, bits = 2048): Recipient {
	const keyPath = join(dir, `${name}.key.pem`);
	const certPath = join(dir, `${name}.cert.pem`);
	openssl([
		'req',
		'-x509',
		'-newkey',
		`rsa:${bits}`,
		'-nodes',
		'-keyout',
		keyPath,
		'-out',
		certPath,
		'-subj',
		`/CN=${name}/O=CX Export Tests`,
		'-days',
		'30',
	]);
	return { name, keyPath, certPath, key: readFileSync(keyPath), cert: readFileSync(certPath) };
}

/** Writes `data` to `dir/name` and returns the path. */
export function writeFile(dir: string, name: string, data: Buffer | string): string {
	const path = join(dir, name);
	writeFileSync(path, data);
	return path;
}
