// Generates a realistic Genesys Contact History export: CDDS-shaped JSON Lines records
// (Interaction, Interaction-Attachment with base64 CONTENT, Contact, ContactAttribute), zipped by
// Info-ZIP into 100 MiB split parts, each part encrypted with `openssl smime -encrypt -binary -aes256`,
// named as Genesys names them: export-<uuid>.z01.smime … export-<uuid>.zip.smime (zip and openssl
// run by test/helpers/fixtures.mjs, as for the tests).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
	createWriteStream,
	existsSync,
	mkdirSync,
	readdirSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { encryptedExport, makeKeyPair } from '../test/helpers/fixtures.mjs';

/** Small fast deterministic PRNG (mulberry32). */
function prng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const WORDS = (
	'thank you for contacting us regarding your order account invoice delivery refund please ' +
	'find attached the details of the request we have updated the address and the agent will call back ' +
	'tomorrow morning customer reported that the device does not start after the update ticket escalated ' +
	'to second level support billing question payment received subscription renewal cancel plan upgrade'
).split(' ');

function words(rand, n) {
	const out = [];
	for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
	return out.join(' ');
}

function id(rand, prefix = '') {
	let s = prefix;
	const chars = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';
	for (let i = 0; i < 16; i++) s += chars[Math.floor(rand() * chars.length)];
	return s;
}

function date(rand) {
	const t = Date.UTC(2026, 9, 1) + Math.floor(rand() * 30 * 86400_000);
	return new Date(t).toISOString().replace('T', ' ').replace('Z', '');
}

function interaction(rand, contactId) {
	const media = ['email', 'chat', 'voice', 'sms'][Math.floor(rand() * 4)];
	return {
		IXNID: id(rand, '000'),
		STATUS: 3,
		ENTITYTYPEID: 2,
		MEDIATYPEID: media,
		TYPEID: 'Inbound',
		SUBTYPEID: 'InboundNew',
		EXTERNALID: null,
		OWNERID: 1045,
		CONTACTID: contactId,
		PARENTID: null,
		STARTDATE: date(rand),
		MODIFIEDDATE: date(rand),
		ENDDATE: date(rand),
		THREADID: id(rand, '000'),
		CATEGORYID: null,
		TIMESHIFT: 0,
		SUBJECT: words(rand, 6),
		TEXT: words(rand, 80 + Math.floor(rand() * 200)),
		STRUCTUREDTEXT: null,
		THECOMMENT: rand() < 0.3 ? words(rand, 20) : null,
		TENANTID: 101,
		SUBTENANTID: 1,
		QUEUENAME: `queue-${Math.floor(rand() * 20)}`,
		ALLATTRIBUTES: {
			Language: 'en',
			Segment: ['gold', 'silver', 'bronze'][Math.floor(rand() * 3)],
			Disposition: words(rand, 2),
			RStrategyDBID: String(Math.floor(rand() * 1000)),
			ServiceObjective: 0,
			_ContainsAttachment: rand() < 0.2 ? 'true' : 'false',
		},
		STRATTRIBUTE1: words(rand, 3),
		INTATTRIBUTE1: Math.floor(rand() * 1000),
		LANG: 'en',
		FROMADDRESS: `${id(rand).toLowerCase()}@example.com`,
		TOADDRESSES: 'support@example.com',
		SENTDATE: date(rand),
		MAILBOX: 'support',
		DURATION: Math.floor(rand() * 3600),
		PHONENUMBER: `+1555${Math.floor(rand() * 1e7)}`,
	};
}

async function writeLines(path, count, make) {
	const out = createWriteStream(path);
	let batch = '';
	let bytes = 0;
	for (let i = 0; i < count(bytes); i++) {
		const line = `${JSON.stringify(make(i))}\n`;
		batch += line;
		bytes += line.length;
		if (batch.length > 1 << 20) {
			if (!out.write(batch)) await once(out, 'drain');
			batch = '';
		}
	}
	out.end(batch);
	await once(out, 'finish');
	return bytes;
}

/**
 * Writes the JSON Lines files of one export (about `totalBytes`) into `dir`.
 * Mix by size: ~55% interactions, ~40% attachments (base64, a few of several MB), ~5% contacts.
 * With `records`, the contacts file is cut (or filled) so that the export holds exactly that many.
 */
export async function generateRecords(dir, totalBytes, seed = 42, { records } = {}) {
	mkdirSync(dir, { recursive: true });
	const rand = prng(seed);
	const jobId = '2b710a2c-0e7f-4918-983c-c02d108eaeb0';
	const contacts = [];
	for (let i = 0; i < 5000; i++) contacts.push(id(rand, '0000'));
	const files = {};
	const ixnIds = [];
	let ixnCount = 0;
	files[`Interaction-${jobId}.json`] = await writeLines(
		join(dir, `Interaction-${jobId}.json`),
		(b) => (b < totalBytes * 0.55 ? Infinity : 0),
		() => {
			ixnCount++;
			const r = interaction(rand, contacts[Math.floor(rand() * contacts.length)]);
			if (ixnIds.length < 100000) ixnIds.push(r.IXNID);
			return r;
		},
	);
	let n = 0;
	files[`Interaction-Attachment-${jobId}.json`] = await writeLines(
		join(dir, `Interaction-Attachment-${jobId}.json`),
		(b) => (b < totalBytes * 0.4 ? Infinity : 0),
		() => {
			n++;
			// Mostly small attachments, now and then a large one (a single JSON line of several MB).
			const size = n % 200 === 0 ? 8 << 20 : 2000 + Math.floor(rand() * 60000);
			const raw = Buffer.allocUnsafe(size);
			for (let i = 0; i < size; i += 4)
				raw.writeUInt32LE(Math.floor(rand() * 4294967296), Math.min(i, size - 4));
			return {
				ID: id(rand, '00'),
				MIMETYPE: 'application/pdf',
				THENAME: `document-${n}.pdf`,
				DESCRIPTION: null,
				THESIZE: size,
				CONTENT: raw.toString('base64'),
				DOCUMENTID: id(rand, '00'),
				ENTITYID: ixnIds[Math.floor(rand() * ixnIds.length)],
				ENTITYTYPEID: 2,
				TENANTID: 101,
			};
		},
	);
	const contactCount =
		records === undefined
			? (b) => (b < totalBytes * 0.05 ? Infinity : 0)
			: () => records - ixnCount - n;
	let contactsWritten = 0;
	files[`Contact-${jobId}.json`] = await writeLines(
		join(dir, `Contact-${jobId}.json`),
		contactCount,
		(i) => (
			contactsWritten++,
			{
				ContactId: contacts[i % contacts.length],
				tenantid: 101,
				createddate: date(rand),
				modifieddate: date(rand),
				STRATTRIBUTE1: words(rand, 2),
			}
		),
	);
	return { jobId, files, records: ixnCount + n + contactsWritten };
}

/** Average bytes per record of generateRecords' mix (174,000 records ≈ 307 MB). */
export const BYTES_PER_RECORD = 1764;

/** An export of exactly `records` records in generateRecords' mix (about 1.76 KB each). */
export function generateRecordCount(dir, records, seed = 42) {
	return generateRecords(dir, records * BYTES_PER_RECORD, seed, { records });
}

export function sh(command, args, options = {}) {
	return execFileSync(command, args, {
		stdio: ['ignore', 'pipe', 'pipe'],
		maxBuffer: 1 << 26,
		...options,
	});
}

/** Zips `recordsDir` into 100 MiB split parts and encrypts each part to `certPath`. */
export function makeEncryptedExport(recordsDir, outDir, certPath, splitSize = '100m') {
	mkdirSync(outDir, { recursive: true });
	const exportName = `export-${createHash('sha1').update(outDir).digest('hex').slice(0, 8)}-0e7f-4918-983c-c02d108eaeb0`;
	const plainDir = join(outDir, 'plain');
	rmSync(plainDir, { recursive: true, force: true });
	mkdirSync(plainDir);
	const { plainParts, encryptedParts } = encryptedExport({
		sourceDir: recordsDir,
		names: readdirSync(recordsDir).sort(),
		exportName,
		plainDir,
		encDir: outDir,
		certPath,
		size: splitSize,
	});
	writeFileSync(join(outDir, 'DONE'), JSON.stringify({ exportName, parts: encryptedParts }));
	return { exportName, parts: encryptedParts, plainParts };
}

/** The benchmark's key pair in `dir` (bench.key.pem, bench.cert.pem), made once. */
export function ensureKey(dir) {
	const keyPath = join(dir, 'bench.key.pem');
	const certPath = join(dir, 'bench.cert.pem');
	if (!existsSync(keyPath)) {
		mkdirSync(dir, { recursive: true });
		makeKeyPair({ keyPath, certPath, subject: '/CN=cx-export bench', days: 30 });
	}
	return { keyPath, certPath };
}
