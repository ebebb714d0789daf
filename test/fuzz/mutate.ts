/**
 * The mutation classes of the fuzz run. Each turns the real-tool seeds (seeds.ts) into one hostile
 * case: the inputs, the operation to run them through, how the bytes are delivered, and — where the
 * format protects its content (zip CRC-32, GCM tag) — what a success must still produce.
 *
 * Every choice is drawn from the case's own Rng, so a case is reproduced by its run seed and number.
 */
import { gzipSync } from 'node:zlib';
import {
	armour,
	derHeaders,
	extremeLengths,
	nestedEnvelope,
	unarmour,
	withLength,
	type NestedPart,
} from './cmsBytes';
import { Rng } from './rng';
import {
	AUTHENTICATED,
	CMS_VARIANTS,
	ZIP_VARIANTS,
	type CmsVariant,
	type Input,
	type Seeds,
} from './seeds';
import {
	extremeValues,
	localFields,
	readField,
	unicodePathExtra,
	withCentralRecords,
	writeField,
	writeZip,
	zipLayout,
	type Field,
	type WriteEntry,
} from './zipBytes';
import { encryptSmime } from '../simulator/smime';

export const CLASSES = [
	'flip',
	'truncate',
	'extreme',
	'parts',
	'names',
	'nesting',
	'lines',
	'utf8',
] as const;
export type MutationClass = (typeof CLASSES)[number];
export const OPERATIONS = ['decrypt', 'reassemble', 'extract', 'records', 'key'] as const;
export type Operation = (typeof OPERATIONS)[number];

export type Expectation =
	/** extract: exactly these files (name → content). */
	| { kind: 'files'; files: Map<string, Buffer> }
	/** records: each record's raw line and a line break, joined, exactly. */
	| { kind: 'records'; records: Buffer }
	/** decrypt: exactly this plaintext. */
	| { kind: 'plaintext'; data: Buffer }
	/** records with onError skip: the good lines around the hostile one come through. */
	| { kind: 'around'; before: Buffer; after: Buffer };

export interface FuzzCase {
	index: number;
	cls: MutationClass;
	op: Operation;
	inputs: Input[];
	/** 'file': inputs are files on disk (a plain zip is read in place); a number: in memory, in chunks of that size. */
	delivery: 'file' | number;
	onError: 'fail' | 'skip';
	/** What was done, for the report. */
	what: string;
	/** What must come out when the operation succeeds. */
	expect?: Expectation;
}

export interface GenerateOptions {
	/** Inputs of tens of MiB (huge lines, a million levels of nesting): `npm run fuzz` only. */
	big: boolean;
	/** The fuzz root directory: absolute entry names point inside it, where an escape is seen. */
	root: string;
}

/** A seed as the operations see it. */
interface Subject {
	label: string;
	inputs: Input[];
	ops: Operation[];
	expect: Partial<Record<Operation, Expectation>>;
	/** The plaintext of each input when it is encrypted: for mutations of the inside. */
	plain?: Input[];
}

const KiB = 1024;
const MiB = 1024 * 1024;

function zipSubjects(seeds: Seeds): Subject[] {
	const files: Expectation = { kind: 'files', files: seeds.files };
	const records: Expectation = { kind: 'records', records: seeds.records };
	const single = ZIP_VARIANTS.map(
		(v): Subject => ({
			label: `zip:${v}`,
			inputs: [{ name: `${seeds.exportName}.zip`, data: seeds.zips[v] }],
			ops: ['extract', 'records', 'reassemble'],
			expect: { extract: files, records },
		}),
	);
	return [
		...single,
		{
			label: 'split',
			inputs: seeds.split,
			ops: ['reassemble', 'extract', 'records'],
			expect: { extract: files, records },
		},
		{
			label: 'split.enc',
			inputs: seeds.splitEncrypted,
			ops: ['reassemble', 'extract', 'records', 'decrypt'],
			expect: { extract: files, records },
			plain: seeds.split,
		},
	];
}

function cmsSubject(seeds: Seeds, v: CmsVariant): Subject {
	return {
		label: `cms:${v}`,
		inputs: [{ name: `${seeds.exportName}.zip.smime`, data: seeds.messages[v] }],
		ops: ['decrypt', 'extract', 'records', 'reassemble'],
		expect: {
			extract: { kind: 'files', files: seeds.files },
			records: { kind: 'records', records: seeds.records },
			...(AUTHENTICATED.has(v)
				? { decrypt: { kind: 'plaintext', data: seeds.zips.deflated } as Expectation }
				: {}),
		},
		plain: [{ name: `${seeds.exportName}.zip.smime`, data: seeds.zips.deflated }],
	};
}

function allSubjects(seeds: Seeds): Subject[] {
	return [
		...zipSubjects(seeds),
		...CMS_VARIANTS.map((v) => cmsSubject(seeds, v)),
		{
			label: 'jsonl',
			inputs: [{ name: 'records.jsonl', data: seeds.jsonl }],
			ops: ['records'],
			expect: {},
		},
		{
			label: 'jsonl.enc',
			inputs: [{ name: 'records.jsonl.smime', data: seeds.jsonlEncrypted }],
			ops: ['records', 'decrypt'],
			expect: {},
			plain: [{ name: 'records.jsonl.smime', data: seeds.jsonl }],
		},
		{
			label: 'key:pem',
			inputs: [{ name: 'key.pem', data: seeds.keyFiles.pem }],
			ops: ['key'],
			expect: {},
		},
		{
			label: 'key:p12',
			inputs: [{ name: 'key.p12', data: seeds.keyFiles.p12 }],
			ops: ['key'],
			expect: {},
		},
	];
}

/** Subjects weighted: zips and messages often, keys now and then (PKCS#12 is slow to try). */
function pickSubject(rng: Rng, subjects: Subject[]): Subject {
	const weights: Record<string, number> = {
		'key:pem': 2,
		'key:p12': 0.3,
		jsonl: 3,
		'jsonl.enc': 2,
		split: 8,
		'split.enc': 8,
	};
	const total = subjects.reduce((sum, s) => sum + (weights[s.label] ?? 3), 0);
	let r = rng.int(Math.round(total * 10)) / 10;
	for (const s of subjects) {
		r -= weights[s.label] ?? 3;
		if (r < 0) return s;
	}
	return subjects[subjects.length - 1];
}

/** A byte position, most often where the structure is: the start and the end of the input. */
function position(rng: Rng, length: number): number {
	if (length === 0) return 0;
	const r = rng.int(100);
	if (r < 45) return rng.int(length);
	if (r < 75) return length - 1 - rng.int(Math.min(1024, length));
	return rng.int(Math.min(512, length));
}

function flipBytes(rng: Rng, data: Buffer): { data: Buffer; what: string } {
	const out = Buffer.from(data);
	const done: string[] = [];
	const flips = rng.between(1, 4);
	for (let i = 0; i < flips && out.length > 0; i++) {
		const at = position(rng, out.length);
		const how = rng.int(6);
		const before = out[at];
		out[at] =
			how === 0
				? before ^ (1 << rng.int(8))
				: how === 1
					? 0
					: how === 2
						? 0xff
						: how === 3
							? rng.int(256)
							: how === 4
								? (before + 1) & 0xff
								: (before - 1) & 0xff;
		done.push(`@${at} ${before.toString(16)}→${out[at].toString(16)}`);
	}
	return { data: out, what: `flip ${done.join(', ')}` };
}

function truncateBytes(rng: Rng, data: Buffer): { data: Buffer; what: string } {
	const r = rng.int(100);
	const n = data.length;
	if (r < 70) {
		const cuts = [
			0,
			1,
			2,
			3,
			4,
			22,
			rng.int(64),
			n - 1,
			n - 2,
			n - 22,
			n - 1 - rng.int(Math.min(n, 64)),
			rng.int(n),
			rng.int(n),
			position(rng, n),
		];
		const keep = Math.max(0, Math.min(n - 1, rng.pick(cuts)));
		return { data: data.subarray(0, keep), what: `truncate to ${keep} of ${n} bytes` };
	}
	if (r < 80) {
		const junk = rng.pick([
			rng.bytes(rng.between(1, 100)),
			Buffer.alloc(rng.between(1, 4096)),
			Buffer.from('\n\n  \r\n'),
			Buffer.from('PK\x05\x06'),
			data.subarray(0, rng.int(n)),
		]);
		return { data: Buffer.concat([data, junk]), what: `append ${junk.length} bytes` };
	}
	if (r < 90) {
		const junk = rng.pick([
			rng.bytes(rng.between(1, 100)),
			Buffer.from('\ufeff'),
			Buffer.from('\n'),
			Buffer.alloc(rng.between(1, 64)),
		]);
		return { data: Buffer.concat([junk, data]), what: `prepend ${junk.length} bytes` };
	}
	// Cut a piece out of the middle.
	const from = rng.int(n);
	const to = Math.min(n, from + rng.between(1, 4096));
	return {
		data: Buffer.concat([data.subarray(0, from), data.subarray(to)]),
		what: `cut bytes ${from}-${to} of ${n}`,
	};
}

function pickOp(rng: Rng, subject: Subject): Operation {
	return rng.pick(subject.ops);
}

function delivery(rng: Rng, inputs: Input[]): 'file' | number {
	if (rng.chance(0.4)) return 'file';
	// Tiny chunks put every boundary inside a header, a base64 group, a character; they cost a
	// generator step per byte, so only small inputs get them.
	const total = inputs.reduce((sum, i) => sum + i.data.length, 0);
	if (total < 48 * KiB && rng.chance(0.3)) return rng.pick([1, 2, 3, 7, 16]);
	if (total < 256 * KiB && rng.chance(0.1)) return rng.pick([100, 333]);
	return rng.pick([1000, 4096, 65536, 256 * KiB]);
}

/**
 * The case for a subject whose input `index` (or its plaintext, with `inner`) becomes `mutate`'s
 * result. With `inner`, the changed plaintext is encrypted again (in-process, as openssl smime).
 */
function mutateInput(
	rng: Rng,
	seeds: Seeds,
	subject: Subject,
	mutate: (data: Buffer) => { data: Buffer; what: string },
	expectations: (op: Operation, inner: boolean, index: number) => Expectation | undefined,
): Omit<FuzzCase, 'index' | 'cls'> {
	const index = rng.int(subject.inputs.length);
	const inner = subject.plain !== undefined && rng.chance(0.35);
	const original = inner ? subject.plain![index].data : subject.inputs[index].data;
	const { data, what } = mutate(original);
	const inputs = subject.inputs.map((input, i) =>
		i !== index
			? input
			: { name: input.name, data: inner ? encryptSmime(data, seeds.certificate) : data },
	);
	let op = pickOp(rng, subject);
	// decrypt takes one message: the one that was changed.
	const opInputs = op === 'decrypt' ? [inputs[index]] : inputs;
	if (op === 'decrypt' && !/\.smime$/.test(opInputs[0].name)) op = subject.ops[0];
	return {
		op,
		inputs: opInputs,
		delivery: delivery(rng, opInputs),
		onError: rng.chance(0.5) ? 'fail' : 'skip',
		what: `${subject.label} ${subject.inputs.length > 1 ? `${subject.inputs[index].name} ` : ''}${inner ? '(inside the encryption) ' : ''}${what}`,
		expect: expectations(op, inner, index),
	};
}

function flipCase(rng: Rng, seeds: Seeds): Omit<FuzzCase, 'index' | 'cls'> {
	const subject = pickSubject(rng, allSubjects(seeds));
	// The zip's CRC-32 (and GCM's tag) must catch any change that gets through; a message encrypted
	// again around changed content decrypts to that content.
	return mutateInput(
		rng,
		seeds,
		subject,
		(d) => flipBytes(rng, d),
		(op, inner) => (inner && op === 'decrypt' ? undefined : subject.expect[op]),
	);
}

function truncateCase(rng: Rng, seeds: Seeds): Omit<FuzzCase, 'index' | 'cls'> {
	const subject = pickSubject(rng, allSubjects(seeds));
	let tiny = false;
	const cut = (d: Buffer) => {
		const result = truncateBytes(rng, d);
		tiny = result.data.length < 22;
		return result;
	};
	return mutateInput(rng, seeds, subject, cut, (op, inner, index) => {
		// Fewer bytes than the smallest zip: no longer a zip, and read as (empty or bad) JSON Lines.
		if (tiny && op === 'records') return undefined;
		if (op === 'decrypt') {
			// A message that still decrypts after a cut (or junk) lost only trailing whitespace.
			return !inner && subject.plain
				? { kind: 'plaintext', data: subject.plain[index].data }
				: undefined;
		}
		return subject.expect[op];
	});
}

function setField(rng: Rng, data: Buffer, fields: Field[]): { data: Buffer; what: string } {
	if (fields.length === 0) return flipBytes(rng, data);
	const field = rng.pick(fields);
	const out = Buffer.from(data);
	const original = readField(out, field);
	const value = rng.pick(extremeValues(field.width, { original, fileLength: data.length }));
	writeField(out, field, value);
	return { data: out, what: `${field.name} ${original} → ${value}` };
}

function extremeZip(rng: Rng, data: Buffer): { data: Buffer; what: string } {
	const layout = zipLayout(data);
	return setField(rng, data, layout?.fields ?? []);
}

function extremeDer(rng: Rng, message: Buffer): { data: Buffer; what: string } {
	const { der, armour: how } = unarmour(message);
	const headers = derHeaders(der);
	if (headers.length === 0) return flipBytes(rng, message);
	// Mostly the envelope's own elements (before the content), sometimes a content segment.
	const header = rng.chance(0.8)
		? rng.pick(headers.slice(0, Math.min(headers.length, 40)))
		: rng.pick(headers);
	const length = rng.pick(extremeLengths(header, der.length));
	const changed = withLength(der, header, length);
	return {
		data: armour(changed, how),
		what: `DER length at byte ${header.at} (${header.length ?? 'indefinite'}) → ${length.toString('hex')} (${how})`,
	};
}

function extremeCase(rng: Rng, seeds: Seeds): Omit<FuzzCase, 'index' | 'cls'> {
	const r = rng.int(100);
	if (r < 45) {
		// A single zip, plain or inside an encrypted message.
		const subjects = [
			...zipSubjects(seeds).slice(0, ZIP_VARIANTS.length),
			cmsSubject(seeds, 'smimeCbc'),
		];
		const subject = rng.pick(subjects);
		if (subject.plain) {
			const { data, what } = extremeZip(rng, seeds.zips.deflated);
			const inputs = [
				{ name: subject.inputs[0].name, data: encryptSmime(data, seeds.certificate) },
			];
			const op = rng.pick(['extract', 'records', 'reassemble'] as const);
			return {
				op,
				inputs,
				delivery: delivery(rng, inputs),
				onError: 'fail',
				what: `cms (inside the encryption) ${what}`,
				expect: subject.expect[op],
			};
		}
		return mutateInput(
			rng,
			seeds,
			{ ...subject, plain: undefined },
			(d) => extremeZip(rng, d),
			(op) => subject.expect[op],
		);
	}
	if (r < 70) {
		// A split set: the end records and central directory in the final part, local headers in any.
		const encrypted = rng.chance(0.3);
		const parts = seeds.split.map((p) => ({ ...p }));
		const final = parts[parts.length - 1].data;
		const layout = zipLayout(final, false);
		const fields: Array<{ part: number; field: Field }> = (layout?.fields ?? []).map((field) => ({
			part: parts.length - 1,
			field,
		}));
		layout?.central.forEach((record, i) => {
			const part = parts[record.diskStart];
			if (part)
				for (const field of localFields(part.data, record.localOffset, `local[${i}]`))
					fields.push({ part: record.diskStart, field });
		});
		const { part, field } = rng.pick(fields);
		const { data, what } = setField(rng, parts[part].data, [field]);
		parts[part] = { name: parts[part].name, data };
		const inputs = encrypted
			? parts.map((p, i) =>
					i === part
						? { name: `${p.name}.smime`, data: encryptSmime(p.data, seeds.certificate) }
						: seeds.splitEncrypted[i],
				)
			: parts;
		const op = rng.pick(['reassemble', 'extract', 'records'] as const);
		const expect: Expectation | undefined =
			op === 'extract'
				? { kind: 'files', files: seeds.files }
				: op === 'records'
					? { kind: 'records', records: seeds.records }
					: undefined;
		return {
			op,
			inputs,
			delivery: delivery(rng, inputs),
			onError: 'fail',
			what: `split${encrypted ? '.enc' : ''} ${parts[part].name}: ${what}`,
			expect,
		};
	}
	// A message's DER lengths.
	const v = rng.pick(CMS_VARIANTS);
	const subject = cmsSubject(seeds, v);
	return mutateInput(
		rng,
		seeds,
		{ ...subject, plain: undefined },
		(d) => extremeDer(rng, d),
		(op) => subject.expect[op],
	);
}

function partsCase(rng: Rng, seeds: Seeds): Omit<FuzzCase, 'index' | 'cls'> {
	const files: Expectation = { kind: 'files', files: seeds.files };
	const records: Expectation = { kind: 'records', records: seeds.records };
	const expectFor = (op: Operation) =>
		op === 'extract' ? files : op === 'records' ? records : undefined;
	if (rng.chance(0.25)) {
		// One zip whose central directory repeats, reorders or overlaps its entries.
		const v = rng.pick(['deflated', 'stored'] as const);
		const data = seeds.zips[v];
		const layout = zipLayout(data)!;
		const records = layout.central.map((c) => Buffer.from(data.subarray(c.at, c.at + c.length)));
		const i = rng.int(records.length);
		const j = (i + 1 + rng.int(records.length - 1)) % records.length;
		let what: string;
		let changed: Buffer;
		switch (rng.int(6)) {
			case 0:
				what = `central record ${i} twice`;
				changed = withCentralRecords(data, layout, [
					...records.slice(0, i + 1),
					records[i],
					...records.slice(i + 1),
				]);
				break;
			case 1:
				what = `central records ${i} and ${j} swapped`;
				[records[i], records[j]] = [records[j], records[i]];
				changed = withCentralRecords(data, layout, records);
				break;
			case 2: {
				what = `central record ${j} points at the local header of ${i}`;
				records[j].writeUInt32LE(layout.central[i].localOffset, 42);
				changed = withCentralRecords(data, layout, records);
				break;
			}
			case 3:
				what = 'two zips concatenated';
				changed = Buffer.concat([data, data]);
				break;
			case 4: {
				const junk = rng.pick([
					Buffer.alloc(rng.between(1, 5000)),
					rng.bytes(rng.between(1, 300)),
					Buffer.from('#!/bin/sh\nexit 0\n'),
				]);
				what = `${junk.length} bytes before the zip`;
				changed = Buffer.concat([junk, data]);
				break;
			}
			default:
				what = 'central directory in reverse order';
				changed = withCentralRecords(data, layout, records.reverse());
		}
		const inputs = [{ name: `${seeds.exportName}.zip`, data: changed }];
		const op = rng.pick(['extract', 'records', 'reassemble'] as const);
		return {
			op,
			inputs,
			delivery: delivery(rng, inputs),
			onError: 'fail',
			what: `zip:${v} ${what}`,
			expect: expectFor(op),
		};
	}
	const encrypted = rng.chance(0.4);
	const set = encrypted ? seeds.splitEncrypted : seeds.split;
	const parts = set.map((p) => ({ ...p }));
	const n = parts.length;
	const suffix = encrypted ? '.smime' : '';
	const i = rng.int(n);
	const j = (i + 1 + rng.int(n - 1)) % n;
	let what: string;
	switch (rng.int(12)) {
		case 0: {
			// Two parts under each other's names; of equal size most of the time (only the data tells).
			const [a, b] = rng.chance(0.6) && n > 2 ? [0, 1] : [i, j];
			[parts[a].data, parts[b].data] = [parts[b].data, parts[a].data];
			what = `${parts[a].name} and ${parts[b].name} swapped`;
			break;
		}
		case 1:
			parts[j].data = parts[i].data;
			what = `${parts[j].name} holds a copy of ${parts[i].name}`;
			break;
		case 2:
			parts.splice(j, 0, { ...parts[i] });
			what = `${parts[i].name} given twice`;
			break;
		case 3:
			what = `${parts[i].name} missing`;
			parts.splice(i, 1);
			break;
		case 4:
			what = `only ${parts[n - 1].name}`;
			parts.splice(0, n - 1);
			break;
		case 5:
			parts[i] = encrypted
				? { name: parts[i].name, data: encryptSmime(seeds.foreign[i].data, seeds.certificate) }
				: { ...seeds.foreign[i] };
			what = `${parts[i].name} from another export of the same name`;
			break;
		case 6: {
			const from = parts[i].name;
			parts[i] = {
				name: from.replace(/\.(z\d+|zip)(\.smime)?$/, `.z${String(n + 3).padStart(2, '0')}$2`),
				data: parts[i].data,
			};
			what = `${from} renamed ${parts[i].name}`;
			break;
		}
		case 7:
			parts.reverse();
			what = 'parts given in reverse order';
			break;
		case 8:
			if (encrypted) {
				parts[i] = { ...seeds.split[i] };
				what = `${parts[i].name} given decrypted among encrypted parts`;
			} else {
				parts[i] = { name: `${parts[i].name}.smime`, data: seeds.splitEncrypted[i].data };
				what = `${parts[i].name} given encrypted among decrypted parts`;
			}
			break;
		case 9: {
			const k = Math.min(i, n - 2);
			parts[k] = { name: parts[k].name, data: Buffer.concat([parts[k].data, parts[k + 1].data]) };
			what = `${parts[k + 1].name} appended to ${parts[k].name} and left out`;
			parts.splice(k + 1, 1);
			break;
		}
		case 10:
			parts[i] = { name: parts[i].name, data: Buffer.alloc(0) };
			what = `${parts[i].name} empty`;
			break;
		default:
			parts.push({
				name: `${seeds.exportName}.z${String(n).padStart(2, '0')}${suffix}`,
				data: parts[n - 1].data,
			});
			what = `the final part also given as ${parts[n].name}`;
	}
	const op = rng.pick(['reassemble', 'extract', 'records'] as const);
	return {
		op,
		inputs: parts,
		delivery: delivery(rng, parts),
		onError: 'fail',
		what: `split${encrypted ? '.enc' : ''} ${what}`,
		expect: expectFor(op),
	};
}

/** Names no archiver should write, each aimed at a rule of safe extraction. */
function hostileNames(root: string): string[] {
	return [
		'../escape-1.json',
		'../../escape-2.json',
		'../../../../../escape-3.json',
		'a/../../escape-4.json',
		'a/b/../../../escape-5.json',
		'./../escape-6.json',
		'..',
		'.',
		'...',
		'',
		'/',
		'a//b.json',
		'a/./b.json',
		`${root}/abs-escape.json`,
		'//server/share/x.json',
		'C:\\escape-7.json',
		'C:escape-8.json',
		'c:/escape-9.json',
		'\\\\server\\share\\x.json',
		'..\\escape-10.json',
		'a\\..\\..\\escape-11.json',
		'x\u0000.json',
		'\u0000',
		'a/\u0000/b.json',
		'x\ny.json',
		'x\r.json',
		'\u001b[31mred.json',
		'tab\tname.json',
		'a'.repeat(255),
		'a'.repeat(256),
		'a'.repeat(4096),
		`${'d/'.repeat(2000)}x.json`,
		`${'../'.repeat(5)}${'x/../'.repeat(300)}escape-12.json`,
		'ünïcödé.json',
		'ｆｕｌｌｗｉｄｔｈ.json',
		'\u202eevil.json',
		'zero\u200bwidth.json',
		'\ufeffbom.json',
		'📦/📦.json',
		'CON',
		'con.json',
		'AUX',
		'NUL',
		'PRN.txt',
		'COM1',
		'LPT9.json',
		'a/CON/b.json',
		'x:stream.json',
		'trailing.',
		'trailing ',
		'Interaction-x.json/../../escape-13.json',
		'%2e%2e/escape-14.json',
	];
}

function namesCase(
	rng: Rng,
	seeds: Seeds,
	options: GenerateOptions,
): Omit<FuzzCase, 'index' | 'cls'> {
	const names = hostileNames(options.root);
	const entries: WriteEntry[] = [];
	const what: string[] = [];
	const good = (name = `Interaction-${seeds.exportName.slice(7)}.json`) => ({
		name: Buffer.from(name),
		data: seeds.jsonl.subarray(0, 2000 + rng.int(3000)),
	});
	const r = rng.int(100);
	if (r < 12) {
		// Pairs that collide on some file system, or as file and directory.
		const pair = rng.pick([
			['Data.json', 'data.json'],
			['é.json', 'e\u0301.json'],
			['x', 'x/y.json'],
			['x/', 'x'],
			['x/y.json', 'x'],
			['same.json', 'same.json'],
			['a/b.json', 'A/b.json'],
		]);
		for (const name of pair)
			entries.push({ name: Buffer.from(name), data: Buffer.from('{"a":1}\n'), flags: 0x800 });
		what.push(`entries ${JSON.stringify(pair)}`);
	} else if (r < 24) {
		// Entry types: links, devices, directories with data.
		const type = rng.pick([
			['symlink', 0o120777, '../../../escape-link'],
			['symlink', 0o120777, `${options.root}/abs-link`],
			['fifo', 0o010644, ''],
			['char device', 0o020644, ''],
			['block device', 0o060644, ''],
			['socket', 0o140644, ''],
			['directory with data', 0o040755, 'data'],
			['setuid file', 0o104755, '{"a":1}\n'],
		] as const);
		const name =
			type[1] === 0o040755
				? rng.pick(['d/', 'd'])
				: rng.pick(['link.json', 'sub/link', 'Interaction-x.json']);
		entries.push({
			name: Buffer.from(name),
			data: Buffer.from(type[2]),
			unixMode: type[1],
			method: 0,
		});
		what.push(`a ${type[0]} named ${JSON.stringify(name)}`);
	} else {
		const count = rng.between(1, 3);
		for (let k = 0; k < count; k++) {
			const name = rng.pick(names);
			const bytes = Buffer.from(name, 'utf8');
			const data = Buffer.from('{"a":1}\n');
			const encoding = rng.int(100);
			if (encoding < 45) {
				entries.push({ name: bytes, data, flags: 0x800 });
				what.push(`utf-8 name ${JSON.stringify(name.slice(0, 80))}`);
			} else if (encoding < 65) {
				entries.push({ name: bytes, data });
				what.push(`name without the UTF-8 flag ${JSON.stringify(name.slice(0, 80))}`);
			} else if (encoding < 85) {
				const stored = Buffer.from(`file${k}.json`);
				entries.push({ name: stored, data, extra: unicodePathExtra(stored, bytes) });
				what.push(
					`name file${k}.json with a Unicode Path field ${JSON.stringify(name.slice(0, 80))}`,
				);
			} else {
				const benign = Buffer.from(`file${k}.json`);
				const centralHostile = rng.chance(0.5);
				entries.push({
					name: centralHostile ? bytes : benign,
					localName: centralHostile ? benign : bytes,
					data,
					flags: 0x800,
				});
				what.push(
					`${centralHostile ? 'central' : 'local'} name ${JSON.stringify(name.slice(0, 80))}, the other header says file${k}.json`,
				);
			}
		}
	}
	if (rng.chance(0.6)) entries.splice(rng.int(entries.length + 1), 0, good());
	// A name field holds at most 65,535 bytes.
	for (const e of entries) if (e.name.length > 0xffff) e.name = e.name.subarray(0, 0xffff);
	let inputs: Input[] = [{ name: `${seeds.exportName}.zip`, data: writeZip(entries) }];
	let carrier = 'zip';
	const c = rng.int(100);
	if (c < 15) {
		inputs = [
			{
				name: `${seeds.exportName}.zip.smime`,
				data: encryptSmime(inputs[0].data, seeds.certificate),
			},
		];
		carrier = 'encrypted zip';
	} else if (c < 30) {
		// A hostile name for the input itself (as a download's file name can be; at most 255 bytes, as on disk).
		const name = rng.pick([
			'x\ny.jsonl',
			'../../../escape.jsonl',
			`${seeds.exportName}.z01`,
			'',
			'con',
			`${'n'.repeat(249)}.jsonl`,
			'a\u0000b.jsonl',
			'ü\u202e.jsonl',
			'.jsonl',
			'records.jsonl\r',
		]);
		inputs = [{ name, data: rng.chance(0.5) ? seeds.jsonl : inputs[0].data }];
		carrier = `input named ${JSON.stringify(name.slice(0, 40))}`;
	}
	const op = rng.pick(['extract', 'extract', 'records', 'reassemble'] as const);
	return {
		op,
		inputs,
		delivery: delivery(rng, inputs),
		onError: rng.chance(0.5) ? 'fail' : 'skip',
		what: `${carrier}: ${what.join('; ')}`,
	};
}

/** Normal record lines from the JSON Lines seed. */
function goodLines(rng: Rng, seeds: Seeds, max: number): Buffer {
	const all = seeds.jsonlRecords;
	let end = 0;
	for (let k = rng.int(max + 1); k > 0; k--) {
		const next = all.indexOf(0x0a, end);
		if (next < 0) break;
		end = next + 1;
	}
	return all.subarray(0, end);
}

/** `middle` between good lines, in one of the ways records arrive, for the records operation. */
function jsonlCase(
	rng: Rng,
	seeds: Seeds,
	middle: Buffer,
	what: string,
	options: { around: boolean },
): Omit<FuzzCase, 'index' | 'cls'> {
	const before = goodLines(rng, seeds, 3);
	const after = options.around ? goodLines(rng, seeds, 3) : Buffer.alloc(0);
	const content = Buffer.concat([
		before,
		middle,
		options.around ? Buffer.from('\n') : Buffer.alloc(0),
		after,
	]);
	let inputs: Input[];
	let carrier: string;
	const r = rng.int(100);
	if (r < 55) {
		inputs = [{ name: 'records.jsonl', data: content }];
		carrier = 'jsonl';
	} else if (r < 70) {
		inputs = [{ name: 'records.jsonl.smime', data: encryptSmime(content, seeds.certificate) }];
		carrier = 'encrypted jsonl';
	} else if (r < 80) {
		inputs = [{ name: 'records.jsonl.gz', data: gzipSync(content, { level: 1 }) }];
		carrier = 'jsonl.gz';
	} else {
		inputs = [
			{
				name: `${seeds.exportName}.zip`,
				data: writeZip([
					{
						name: Buffer.from(`Interaction-${seeds.exportName.slice(7)}.json`),
						data: content,
						method: rng.chance(0.8) ? 8 : 0,
					},
				]),
			},
		];
		carrier = 'zip entry';
	}
	const onError = rng.chance(0.5) ? 'fail' : 'skip';
	return {
		op: 'records',
		inputs,
		delivery: delivery(rng, inputs),
		onError,
		what: `${carrier}: ${what}`,
		expect: onError === 'skip' && options.around ? { kind: 'around', before, after } : undefined,
	};
}

function nestingCase(
	rng: Rng,
	seeds: Seeds,
	options: GenerateOptions,
): Omit<FuzzCase, 'index' | 'cls'> {
	if (rng.chance(0.3)) {
		// BER nested deeper than any message: in the IV, the recipient, the content, the attributes.
		const part = rng.pick([
			'iv',
			'keyId',
			'encryptedKey',
			'content',
			'unprotectedAttrs',
			'originatorInfo',
		] as NestedPart[]);
		const depth = rng.pick([
			1,
			2,
			10,
			63,
			64,
			65,
			200,
			1000,
			10_000,
			100_000,
			...(options.big ? [1_000_000] : []),
		]);
		const form = rng.chance(0.5) ? 'definite' : 'indefinite';
		const der = nestedEnvelope(
			seeds.jsonl,
			seeds.certificate,
			seeds.key.keyIdentifier,
			part,
			depth,
			form,
		);
		const how = rng.pick(['der', 'smime', 'pem'] as const);
		const inputs = [{ name: 'records.jsonl.smime', data: armour(der, how) }];
		return {
			op: rng.pick(['decrypt', 'records'] as const),
			inputs,
			delivery: delivery(rng, inputs),
			onError: 'fail',
			what: `CMS ${part} nested ${depth} deep (${form}, ${how})`,
		};
	}
	const depth = rng.pick([
		10,
		100,
		1000,
		5000,
		20_000,
		100_000,
		...(options.big ? [1_000_000, 3_000_000] : []),
	]);
	const open = rng.pick(['[', '[ ', '{"a":', '{ "a" : ', '[{"a":', ' [\t']);
	const close = open.startsWith('[{') ? '}]' : open.includes('{') ? ' }' : ' ]'.slice(rng.int(2));
	const inner = open.includes('{') ? '0' : '';
	const shape = rng.int(5);
	let line: string;
	if (shape === 0) line = `{"deep":${open.repeat(depth)}${inner}${close.repeat(depth)}}`;
	else if (shape === 1) line = `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
	else if (shape === 2)
		line = `{"deep":${open.repeat(depth)}${inner}${close.repeat(Math.max(0, depth - 1))}}`;
	else if (shape === 3) line = `{"deep":${open.repeat(depth)}${inner}${close.repeat(depth + 1)}}`;
	else line = `{"a":1,"deep":${'[{"b":'.repeat(depth)}null${'}]'.repeat(depth)},"z":2}`;
	return jsonlCase(
		rng,
		seeds,
		Buffer.from(line),
		`a line nested ${depth} deep (${['in a record', 'at the top', 'unclosed', 'closed once too often', 'mixed'][shape]}, ${JSON.stringify(open)})`,
		{ around: true },
	);
}

function linesCase(
	rng: Rng,
	seeds: Seeds,
	options: GenerateOptions,
): Omit<FuzzCase, 'index' | 'cls'> {
	const size = rng.pick([
		64 * KiB,
		256 * KiB,
		MiB - 1,
		MiB,
		MiB + 1,
		...(options.big ? [2 * MiB + 3, 16 * MiB, 40 * MiB] : []),
	]);
	const shape = rng.int(13);
	const random = () =>
		Buffer.from(
			rng
				.bytes(Math.ceil((size * 3) / 4) + 3)
				.toString('base64')
				.slice(0, size),
		);
	let line: Buffer;
	let name: string;
	let around = true;
	switch (shape) {
		case 0:
			line = Buffer.concat([Buffer.from('{"k":"'), random(), Buffer.from('"}')]);
			name = 'a huge string';
			break;
		case 1:
			line = Buffer.from(
				`{"k":"${'\\u00e9\\n\\"\\ud83d\\ude00\\ud800'.repeat(Math.ceil(size / 32))}"}`,
			);
			name = 'a huge string of escapes (a lone surrogate among them)';
			break;
		case 2:
			line = Buffer.concat([Buffer.from('{"n":'), Buffer.alloc(size, '9'), Buffer.from('}')]);
			name = 'a number of a million digits';
			break;
		case 3:
			line = Buffer.from(`[${'1,'.repeat(Math.ceil(size / 2))}1]`);
			name = 'a huge array (not an object)';
			break;
		case 4:
			line = Buffer.alloc(size, ' ');
			name = 'a huge blank line';
			break;
		case 5:
			line = Buffer.concat([Buffer.alloc(size, ' '), Buffer.from('{"a":1}')]);
			name = 'a record after a huge run of spaces';
			break;
		case 6:
			line = Buffer.concat([Buffer.from('{"k":"'), random()]);
			name = 'a huge unterminated string';
			break;
		case 7:
			line = Buffer.from(
				`{${Array.from({ length: Math.ceil(size / 12) }, (_, i) => `"k${i}":${i}`).join(',')}}`,
			);
			name = 'a record with a huge number of keys';
			break;
		case 8:
			line = Buffer.from(`${'{"a":1}\r'.repeat(Math.ceil(size / 8))}`);
			name = 'records separated by lone CRs';
			break;
		case 9:
			line = Buffer.alloc(size, '\n');
			name = 'a huge run of empty lines';
			around = false;
			break;
		case 10:
			line = Buffer.alloc(size, 0);
			name = 'a huge line of NULs';
			break;
		case 11:
			line = random();
			name = 'a huge line of base64, no record, no line break at the end';
			around = false;
			break;
		default:
			line = Buffer.concat([Buffer.from('\ufeff{"k":"'), random(), Buffer.from('"}')]);
			name = 'a BOM in the middle of the file, before a huge record';
	}
	return jsonlCase(rng, seeds, line, `${name} (${line.length} bytes)`, { around });
}

const BAD_UTF8: Array<[string, number[]]> = [
	['a lone continuation byte', [0x80]],
	['an overlong "/"', [0xc0, 0xaf]],
	['an overlong NUL', [0xc0, 0x80]],
	['C1 BF', [0xc1, 0xbf]],
	['an overlong 3-byte form', [0xe0, 0x80, 0xaf]],
	['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
	['a low surrogate', [0xed, 0xbf, 0xbf]],
	['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
	['F5', [0xf5, 0x80, 0x80, 0x80]],
	['FF', [0xff]],
	['FE FF', [0xfe, 0xff]],
	['a 5-byte form', [0xf8, 0x88, 0x80, 0x80, 0x80]],
	['a cut 3-byte character', [0xe2, 0x82]],
	['a cut 4-byte character', [0xf0, 0x9f, 0x98]],
	['a lead byte then ASCII', [0xc3, 0x41]],
	['Latin-1 "é"', [0xe9]],
];

function utf8Case(rng: Rng, seeds: Seeds): Omit<FuzzCase, 'index' | 'cls'> {
	const [label, bytes] = rng.pick(BAD_UTF8);
	const bad = Buffer.from(bytes);
	const r = rng.int(100);
	if (r < 15) {
		// In an entry name marked UTF-8.
		const name = Buffer.concat([Buffer.from('Interaction-'), bad, Buffer.from('.json')]);
		const inputs = [
			{
				name: `${seeds.exportName}.zip`,
				data: writeZip([{ name, data: seeds.jsonl.subarray(0, 3000), flags: 0x800 }]),
			},
		];
		const op = rng.pick(['extract', 'records', 'reassemble'] as const);
		return {
			op,
			inputs,
			delivery: delivery(rng, inputs),
			onError: 'fail',
			what: `an entry name with ${label}`,
		};
	}
	if (r < 22) {
		// In the MIME header of an S/MIME message.
		const message = seeds.messages.smimeCbc;
		const at = rng.between(0, message.indexOf('\n\n'));
		const inputs = [
			{
				name: `${seeds.exportName}.zip.smime`,
				data: Buffer.concat([message.subarray(0, at), bad, message.subarray(at)]),
			},
		];
		return {
			op: rng.pick(['decrypt', 'extract'] as const),
			inputs,
			delivery: delivery(rng, inputs),
			onError: 'fail',
			what: `${label} in the S/MIME header at byte ${at}`,
		};
	}
	const placement = rng.int(8);
	let line: Buffer;
	let where: string;
	let around = true;
	switch (placement) {
		case 0:
			line = Buffer.concat([Buffer.from('{"k":"ab'), bad, Buffer.from('cd"}')]);
			where = 'inside a string';
			break;
		case 1:
			line = Buffer.concat([Buffer.from('{"'), bad, Buffer.from('":1}')]);
			where = 'as a key';
			break;
		case 2:
			line = Buffer.concat([Buffer.from('{"k":1}'), bad]);
			where = 'after the record';
			break;
		case 3:
			line = bad;
			where = 'as the whole line';
			break;
		case 4:
			line = Buffer.concat([
				Buffer.from('{"k":"'),
				Buffer.from('é'.repeat(rng.int(40_000))),
				bad,
				Buffer.from('"}'),
			]);
			where = 'after a long run of 2-byte characters (across chunks)';
			break;
		case 5:
			line = Buffer.concat([Buffer.from('{"k":"'), bad]);
			where = 'at the end of the file, in an unterminated line';
			around = false;
			break;
		case 6:
			line = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bad, Buffer.from('{"k":1}')]);
			where = 'after a BOM';
			break;
		default: {
			line = Buffer.from(`\ufeff${seeds.jsonl.subarray(0, 500).toString('utf8')}`, 'utf16le');
			where = 'a UTF-16 file';
			around = false;
		}
	}
	return jsonlCase(rng, seeds, line, `${label} ${where}`, { around });
}

/** Case `index` of the run with seed `runSeed`: class by turn, everything else from the case's own Rng. */
export function generateCase(
	seeds: Seeds,
	runSeed: number,
	index: number,
	options: GenerateOptions,
): FuzzCase {
	const cls = CLASSES[index % CLASSES.length];
	const rng = new Rng(runSeed, index);
	return { index, cls, ...generateOfClass(cls, rng, seeds, options) };
}

export function generateOfClass(
	cls: MutationClass,
	rng: Rng,
	seeds: Seeds,
	options: GenerateOptions,
): Omit<FuzzCase, 'index' | 'cls'> {
	switch (cls) {
		case 'flip':
			return flipCase(rng, seeds);
		case 'truncate':
			return truncateCase(rng, seeds);
		case 'extreme':
			return extremeCase(rng, seeds);
		case 'parts':
			return partsCase(rng, seeds);
		case 'names':
			return namesCase(rng, seeds, options);
		case 'nesting':
			return nestingCase(rng, seeds, options);
		case 'lines':
			return linesCase(rng, seeds, options);
		case 'utf8':
			return utf8Case(rng, seeds);
	}
}
