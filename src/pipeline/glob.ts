/**
 * File-name patterns as users write them in a node field: `*.json`, `Interaction-*.json, *.jsonl`,
 * `exports/**\/*.json`. `*` and `?` stay within a folder, `**` crosses folders; a pattern without a
 * `/` is matched against the base name, so `*.json` finds `a/b/c.json`. Case-insensitive.
 */
function toRegExp(pattern: string): RegExp {
	let re = '';
	for (let i = 0; i < pattern.length; i++) {
		const c = pattern[i];
		if (c === '*') {
			if (pattern[i + 1] === '*') {
				i++;
				if (pattern[i + 1] === '/') {
					i++;
					re += '(?:.*/)?';
				} else re += '.*';
			} else re += '[^/]*';
		} else if (c === '?') re += '[^/]';
		else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
	}
	return new RegExp(`^${re}$`, 'i');
}

/** A matcher for a comma- or newline-separated list of patterns; an empty list matches nothing. */
export function globMatcher(patterns: string): (name: string) => boolean {
	const list = patterns
		.split(/[,\n]/)
		.map((p) => p.trim().replace(/\\/g, '/'))
		.filter(Boolean)
		.map((p) => ({ re: toRegExp(p.replace(/^\.\//, '')), baseOnly: !p.includes('/') }));
	return (name) => {
		const path = name.replace(/\\/g, '/');
		const base = path.split('/').pop() ?? path;
		return list.some(({ re, baseOnly }) => re.test(baseOnly ? base : path));
	};
}
