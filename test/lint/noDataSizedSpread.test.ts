/**
 * No spread into a call's arguments and no `.apply(` in src/ and nodes/: both pass every element
 * of an array as a separate argument on the call stack, and V8 throws "Maximum call stack size
 * exceeded" past ~120,000 of them (`output.push(...items)` broke nodes returning one item per
 * record; issue 10). Array and object literal spreads (`[...a]`, `{...o}`) build on the heap and
 * are fine. A line whose spread is bounded by a constant (a 2-element tuple, a fixed list of
 * options) may say so with a trailing `// bounded-spread: <why it is bounded>`; the reason is
 * required.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const SCANNED = ['src', 'nodes'];

interface SpreadFinding {
	file: string;
	/** 1-based. */
	line: number;
	kind: 'call-spread' | 'apply' | 'opt-out-without-reason';
	/** The source line, trimmed. */
	code: string;
}

const OPT_OUT = /^\/\/\s*bounded-spread:(.*)$/;

/** `(x)`, `x!`, `x as T`, `<T>x`, `x satisfies T` → `x`. */
function withoutWrappers(node: ts.Expression): ts.Expression {
	let current = node;
	while (
		ts.isParenthesizedExpression(current) ||
		ts.isNonNullExpression(current) ||
		ts.isAsExpression(current) ||
		ts.isTypeAssertionExpression(current) ||
		ts.isSatisfiesExpression(current)
	)
		current = current.expression;
	return current;
}

/** Every spread argument of a call or `new`, and every `.apply(` call, in one TypeScript source. */
function findDataSizedSpreads(fileName: string, text: string): SpreadFinding[] {
	const source = ts.createSourceFile(
		fileName,
		text,
		ts.ScriptTarget.Latest,
		true,
		fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
	);
	const lines = text.split(/\r?\n/);
	const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;

	// Trailing `//` comments by line, found by the parser's own rules (so `//` inside a string or a
	// template literal is never taken for a comment): the comments after the end of every token.
	const trailing = new Map<number, string>();
	const collect = (node: ts.Node) => {
		for (const range of ts.getTrailingCommentRanges(text, node.end) ?? []) {
			if (range.kind === ts.SyntaxKind.SingleLineCommentTrivia)
				trailing.set(lineOf(range.pos), text.slice(range.pos, range.end));
		}
		for (const child of node.getChildren(source)) collect(child);
	};
	collect(source);

	const findings: SpreadFinding[] = [];
	const report = (node: ts.Node, kind: 'call-spread' | 'apply') => {
		const line = lineOf(node.getStart(source));
		const code = lines[line]?.trim() ?? '';
		const comment = trailing.get(line);
		const optOut = comment === undefined ? null : OPT_OUT.exec(comment);
		if (optOut) {
			if (optOut[1].trim() !== '') return;
			findings.push({ file: fileName, line: line + 1, kind: 'opt-out-without-reason', code });
			return;
		}
		findings.push({ file: fileName, line: line + 1, kind, code });
	};
	const visit = (node: ts.Node) => {
		if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
			for (const argument of node.arguments ?? [])
				if (ts.isSpreadElement(argument)) report(argument, 'call-spread');
		}
		if (ts.isCallExpression(node)) {
			const callee = withoutWrappers(node.expression);
			if (ts.isPropertyAccessExpression(callee) && callee.name.text === 'apply')
				report(callee.name, 'apply');
			if (
				ts.isElementAccessExpression(callee) &&
				ts.isStringLiteralLike(callee.argumentExpression) &&
				callee.argumentExpression.text === 'apply'
			)
				report(callee.argumentExpression, 'apply');
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return findings;
}

function tsFiles(dir: string): string[] {
	const out: string[] = [];
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) {
			if (entry.name !== 'node_modules') for (const file of tsFiles(path)) out.push(file);
		} else if (entry.isFile() && /\.tsx?$/.test(entry.name)) out.push(path);
	}
	return out;
}

const describeFinding = (f: SpreadFinding) =>
	`${f.file}:${f.line}: ${f.kind === 'apply' ? '.apply(' : f.kind === 'call-spread' ? 'spread argument' : '"// bounded-spread:" without a reason'}: ${f.code}`;

describe('no data-sized spread or apply (call-stack overflow past ~120,000 elements)', () => {
	it('src/ and nodes/ have no spread argument and no .apply( without a reasoned "// bounded-spread:" opt-out', () => {
		const files = SCANNED.flatMap((dir) => tsFiles(join(root, dir)));
		expect(files.length).toBeGreaterThan(50);
		const findings: SpreadFinding[] = [];
		for (const path of files)
			for (const finding of findDataSizedSpreads(relative(root, path), readFileSync(path, 'utf8')))
				findings.push(finding);
		expect(
			findings.map(describeFinding),
			'rewrite these with a loop (for…of push, reduce for a maximum), or mark a constant-bounded spread with "// bounded-spread: <reason>"',
		).toEqual([]);
	});

	it('the checker reports spread arguments and apply, not array or object literal spreads, and honours only reasoned opt-outs', () => {
		const code = [
			'const a: number[] = [];',
			'const b = [1, 2, 3];',
			'a.push(...b);',
			'const m = Math.max.apply(null, b);',
			'const copy = [...a];',
			'const o = { x: 1 };',
			'const merged = { ...o, y: 2 };',
			'const n = Math.max(1, ...b);',
			'const d = new Date(...([2026, 0] as const));',
			'f(...b); // bounded-spread: b has three elements',
			'f(...b); // bounded-spread:',
			'f(...b); // bounded-spread:   ',
			'const s = `http://x/${a.length}`; f(...b);',
			'const url = "// bounded-spread: in a string"; f(...b);',
			'Reflect.apply(f, null, b); (f as any).apply(null, b);',
			'f["apply"](null, b);',
			'g(',
			'  ...b, // bounded-spread: three elements again',
			');',
			'function f(...rest: number[]) { return rest; }',
			'declare function g(...rest: number[]): void;',
		].join('\n');
		const findings = findDataSizedSpreads('memory.ts', code);
		expect(findings.map((f) => [f.line, f.kind])).toEqual([
			[3, 'call-spread'],
			[4, 'apply'],
			[8, 'call-spread'],
			[9, 'call-spread'],
			[11, 'opt-out-without-reason'],
			[12, 'opt-out-without-reason'],
			[13, 'call-spread'],
			[14, 'call-spread'],
			[15, 'apply'],
			[15, 'apply'],
			[16, 'apply'],
		]);
		expect(findings[0]).toEqual({
			file: 'memory.ts',
			line: 3,
			kind: 'call-spread',
			code: 'a.push(...b);',
		});
		expect(describeFinding(findings[1])).toBe(
			'memory.ts:4: .apply(: const m = Math.max.apply(null, b);',
		);
		// Literal spreads and rest parameters alone: nothing.
		expect(
			findDataSizedSpreads(
				'clean.ts',
				'const a = [1]; const c = [...a, ...a]; const o = { ...{ x: 1 } }; function f(...r: number[]) { return r; }',
			),
		).toEqual([]);
	});
});
