/**
 * Split-set naming and ordering.
 *
 * A split export is one Info-ZIP split archive: `export-<uuid>.z01`, `.z02`, … and a final
 * `export-<uuid>.zip`, each optionally encrypted on its own as `<part>.smime`. Part `.zNN` is disk
 * NN of the archive (1-based; disk numbers inside the zip are 0-based), the `.zip` is always the
 * last disk. A lone `.zip` is a valid set of one.
 *
 * Decisions:
 * - Names are matched on the base name only (any directory, `/` or `\`, is ignored) and the
 *   extensions case-insensitively (`.Z01`, `.ZIP.SMIME`). The export name is compared exactly.
 * - Part numbers have at least two digits, as Info-ZIP writes them (`.z01` … `.z99`, `.z100`);
 *   `.z00` and `.z1` are not part names.
 * - A set is refused, never repaired: a missing, duplicate or foreign part is an error naming it.
 */
import { win32 } from 'node:path';
import { CxError } from '../errors';

export interface PartName {
	/** The name shared by the parts of one export, e.g. `export-7f3c…`. */
	exportName: string;
	/**
	 * The 1-based disk number: `.z01` → 1, `.z99` → 99, `.z100` → 100. The final `.zip` part is
	 * `Infinity` here: its number is one more than the highest `.zNN` of its set, which a name alone
	 * cannot tell.
	 */
	index: number;
	/** The final `.zip` part: it holds the central directory (the archive's table of contents). */
	isLast: boolean;
	/** The name ends in `.smime` (the part is still S/MIME-encrypted). */
	encrypted: boolean;
}

const PART_NAME = /^(.+)\.(?:z(\d{2,})|(zip))(\.smime)?$/i;
/** Disk numbers are 32-bit in Zip64 records (and 0xFFFFFFFF is reserved there). */
const MAX_INDEX = 0xfffffffe;

/** The base name of a path written with `/` or `\` separators. */
export function baseName(fileName: string): string {
	return win32.basename(fileName);
}

export function parsePartName(fileName: string): PartName {
	const base = baseName(fileName);
	const match = PART_NAME.exec(base);
	if (!match || match[1] === undefined) {
		throw new CxError(
			'PART_NAME',
			`${base} is not named like a part of a split export: expected <export>.z01, <export>.z02, … and <export>.zip, each optionally followed by .smime`,
			{ where: fileName },
		);
	}
	const encrypted = match[4] !== undefined;
	if (match[3] !== undefined)
		return { exportName: match[1], index: Infinity, isLast: true, encrypted };
	const index = Number(match[2]);
	if (!Number.isSafeInteger(index) || index < 1 || index > MAX_INDEX) {
		throw new CxError(
			'PART_NAME',
			`${base} is not a part of a split export: parts are numbered from .z01 up (found .z${match[2]})`,
			{
				where: fileName,
			},
		);
	}
	return { exportName: match[1], index, isLast: false, encrypted };
}

export interface PartSet<T> {
	exportName: string;
	/** In disk order: `.z01`, `.z02`, …, then the final `.zip`. */
	parts: T[];
}

interface Parsed<T> {
	part: T;
	base: string;
	name: PartName;
}

/**
 * Puts the parts of ONE export in disk order. Refuses, naming the part: a name that is not a part
 * name (PART_NAME), a part of another export (PART_FOREIGN), the same part twice (PART_DUPLICATE),
 * a missing `.zNN` or a missing final `.zip` (PART_MISSING). A single file whose name is not a
 * part name is a set of one (a whole zip named `x.p7m`, say): its content says what it is.
 */
export function orderParts<T extends { name: string }>(parts: T[]): PartSet<T> {
	if (parts.length === 0)
		throw new CxError(
			'PART_MISSING',
			'no parts were given: give every part of the export (.z01 … .zNN and the final .zip)',
		);
	if (parts.length === 1 && !PART_NAME.test(baseName(parts[0].name))) {
		return {
			exportName:
				baseName(parts[0].name).replace(/(\.(smime|p7m|pem|der|cms))+$/i, '') ||
				baseName(parts[0].name),
			parts: [parts[0]],
		};
	}
	const parsed: Parsed<T>[] = parts.map((part) => ({
		part,
		base: baseName(part.name),
		name: parsePartName(part.name),
	}));
	const exportName = setName(parsed);
	const foreign = parsed.filter((p) => p.name.exportName !== exportName);
	if (foreign.length > 0) {
		const first = foreign[0];
		const others =
			foreign.length > 1 ? ` (and ${describeList(foreign.slice(1).map((p) => p.base))})` : '';
		throw new CxError(
			'PART_FOREIGN',
			`${first.base}${others} ${foreign.length > 1 ? 'are' : 'is'} not part of ${exportName}: it belongs to ${first.name.exportName}; give the parts of one export at a time`,
			{ where: first.part.name },
		);
	}
	return { exportName, parts: orderOne(exportName, parsed) };
}

/**
 * Groups a mixed list of parts by export (in order of first appearance) and orders each group as
 * `orderParts` does. Every name must be a part name (a lone `x.zip` is a set of one).
 */
export function groupParts<T extends { name: string }>(parts: T[]): PartSet<T>[] {
	const groups = new Map<string, Parsed<T>[]>();
	for (const part of parts) {
		const name = parsePartName(part.name);
		let group = groups.get(name.exportName);
		if (!group) {
			group = [];
			groups.set(name.exportName, group);
		}
		group.push({ part, base: baseName(part.name), name });
	}
	return [...groups].map(([exportName, group]) => ({
		exportName,
		parts: orderOne(exportName, group),
	}));
}

/**
 * The export a set is about: the export of its final `.zip` part when there is exactly one, else
 * the export most parts belong to (the first seen on a tie).
 */
function setName<T>(parsed: Parsed<T>[]): string {
	const finals = new Set(parsed.filter((p) => p.name.isLast).map((p) => p.name.exportName));
	if (finals.size === 1) return [...finals][0];
	const counts = new Map<string, number>();
	for (const p of parsed) counts.set(p.name.exportName, (counts.get(p.name.exportName) ?? 0) + 1);
	let best = parsed[0].name.exportName;
	for (const [name, count] of counts) if (count > (counts.get(best) ?? 0)) best = name;
	return best;
}

function orderOne<T extends { name: string }>(exportName: string, parsed: Parsed<T>[]): T[] {
	const byIndex = new Map<number, Parsed<T>>();
	for (const p of parsed) {
		const seen = byIndex.get(p.name.index);
		if (seen) {
			const what = p.name.isLast
				? `the final part of ${exportName}`
				: `part ${p.name.index} of ${exportName}`;
			throw new CxError(
				'PART_DUPLICATE',
				`${seen.base} and ${p.base} are the same part (${what}); give each part once`,
				{
					where: p.part.name,
				},
			);
		}
		byIndex.set(p.name.index, p);
	}
	const numbered = [...byIndex.keys()].filter((i) => Number.isFinite(i)).sort((a, b) => a - b);
	const hasFinal = byIndex.has(Infinity);
	const highest = numbered.length > 0 ? numbered[numbered.length - 1] : 0;
	// Name missing parts the way the present ones are named: encrypted when they all are.
	const suffix = parsed.every((p) => p.name.encrypted) ? '.smime' : '';
	const present = describePresent(numbered, hasFinal);
	const missing: string[] = [];
	for (let i = 1; i <= highest; i++)
		if (!byIndex.has(i)) missing.push(`${exportName}.z${String(i).padStart(2, '0')}${suffix}`);
	if (missing.length > 0) {
		throw new CxError(
			'PART_MISSING',
			`${describeList(missing)} ${missing.length > 1 ? 'are' : 'is'} missing (${present} present); every part of a split export is needed`,
			{ where: missing[0] },
		);
	}
	if (!hasFinal) {
		const final = `${exportName}.zip${suffix}`;
		throw new CxError(
			'PART_MISSING',
			`${final} (the final part, holding the table of contents) is missing (${present} present); every part of a split export is needed`,
			{ where: final },
		);
	}
	return [...numbered.map((i) => byIndex.get(i)!.part), byIndex.get(Infinity)!.part];
}

/**
 * The message for a split export whose final part (`finalName`, whose end record says the archive
 * has `disks` disks) came without some of the others: names the missing parts, the way the final
 * part is named (`export.z01.smime … export.z03.smime are missing`).
 */
export function missingPartsMessage(
	finalName: string,
	disks: number,
	givenNames: string[],
): string {
	const finalBase = baseName(finalName);
	const given = givenNames.length;
	const intro = `${finalBase} is the last part of a split export of ${disks} parts, but ${given === 1 ? 'only it was given' : `only ${given} parts were given`}`;
	let final: PartName | undefined;
	try {
		final = parsePartName(finalName);
	} catch {
		final = undefined;
	}
	const partName = (i: number) => `.z${String(i).padStart(2, '0')}`;
	if (!final)
		return `${intro}: give every part (${disks > 2 ? `${partName(1)} … ${partName(disks - 1)}` : partName(1)} and the final .zip)`;
	const present = new Set<number>();
	for (const name of givenNames) {
		try {
			const parsed = parsePartName(name);
			if (parsed.exportName === final.exportName && !parsed.isLast) present.add(parsed.index);
		} catch {
			// Not a part name: it cannot stand for a numbered part.
		}
	}
	const suffix = final.encrypted ? '.smime' : '';
	// The gaps between the parts given are the missing ones, found without listing every number: a
	// damaged end record can claim billions of parts. Runs of three or more as `first … last`: a set
	// of 40 parts is not listed part by part.
	const name = (index: number) => `${final.exportName}${partName(index)}${suffix}`;
	const runs: string[] = [];
	let missing = 0;
	let previous = 0;
	for (const next of [...[...present].filter((i) => i < disks).sort((a, b) => a - b), disks]) {
		const first = previous + 1;
		const last = next - 1;
		if (last >= first) {
			missing += last - first + 1;
			if (last - first >= 2) runs.push(`${name(first)} … ${name(last)}`);
			else for (let i = first; i <= last; i++) runs.push(name(i));
		}
		previous = next;
	}
	if (runs.length === 0) return `${intro}: give every part`;
	const plural = missing > 1;
	return `${intro}: ${runs.length > 4 ? `${runs.slice(0, 3).join(', ')} and ${runs.length - 3} more` : describeList(runs)} ${plural ? 'are' : 'is'} missing; every part of a split export is needed`;
}

/** `parts 1, 3-17 and the final .zip` */
function describePresent(numbered: number[], hasFinal: boolean): string {
	const ranges: string[] = [];
	for (let i = 0; i < numbered.length; ) {
		let j = i;
		while (j + 1 < numbered.length && numbered[j + 1] === numbered[j] + 1) j++;
		ranges.push(i === j ? `${numbered[i]}` : `${numbered[i]}-${numbered[j]}`);
		i = j + 1;
	}
	const list =
		ranges.length === 0 ? '' : `part${numbered.length > 1 ? 's' : ''} ${ranges.join(', ')}`;
	if (!hasFinal) return list === '' ? 'no parts' : list;
	return list === '' ? 'only the final .zip' : `${list} and the final .zip`;
}

/** `a`, `a and b`, `a, b, c and 4 more` */
function describeList(items: string[]): string {
	if (items.length === 1) return items[0];
	if (items.length <= 4) return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
	return `${items.slice(0, 3).join(', ')} and ${items.length - 3} more`;
}
