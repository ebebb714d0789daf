/**
 * The CLI tests run the real `bin/cx-export.js`, which loads `dist/`, and the package tests check
 * what n8n loads from `dist/`. Build first when any source or icon is newer than the build (npm
 * test always builds; this keeps `vitest` alone honest).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = join(__dirname, '..', '..');

function newest(dir: string): number {
	let t = 0;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
	}
	return t;
}

export default function setup(): void {
	const built = join(root, 'dist/src/cli/main.js');
	const sources = Math.max(
		...['src', 'nodes', 'credentials'].map((dir) => newest(join(root, dir))),
	);
	if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
	// Under the lock `npm run build` is run with elsewhere (the e2e runs, the demo, the benchmark),
	// which empties dist/ first.
	const lock = join(root, '.cache', 'e2e', '.build.lock');
	mkdirSync(dirname(lock), { recursive: true });
	execFileSync(
		'flock',
		[
			lock,
			process.execPath,
			join(root, 'node_modules/typescript/bin/tsc'),
			'-p',
			join(root, 'tsconfig.json'),
		],
		{ stdio: 'inherit' },
	);
	execFileSync(
		'flock',
		[lock, process.execPath, join(root, 'node_modules/gulp/bin/gulp.js'), 'build:icons'],
		{ cwd: root, stdio: 'ignore' },
	);
}
