// Memory of process trees, from /proc: the peak RSS of every process (VmHWM, exact, read while it
// lives) and the peak of the sum over the tree (sampled), with what each process is (n8n main,
// worker, task runner, …) from its command line.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

export function childrenMap() {
	const children = new Map();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			if (!children.has(ppid)) children.set(ppid, []);
			children.get(ppid).push(Number(entry));
		} catch {}
	}
	return children;
}

function status(pid) {
	try {
		const text = readFileSync(`/proc/${pid}/status`, 'utf8');
		const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
		return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
	} catch {
		return undefined;
	}
}

function commandLine(pid) {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
	} catch {
		return [];
	}
}

/** What an n8n-related process is, from its command line. */
export function roleOf(argv) {
	const line = argv.join(' ');
	if (/task-runner|task_runner|runners?\/.*start\.js/.test(line)) return 'task runner';
	if (/\bn8n\b.*\bworker\b/.test(line)) return 'worker';
	if (/\bn8n\b.*\bstart\b/.test(line)) return 'main';
	if (/\bn8n\b.*\bexecute\b/.test(line)) return 'n8n execute';
	if (/\bn8n\b.*\bwebhook\b/.test(line)) return 'webhook';
	if (/cx-export/.test(line)) return 'cx-export';
	if (/^psql\b|\/psql\b/.test(line)) return 'psql';
	return (argv[0] ?? '?').split('/').pop();
}

/**
 * Watches named process trees: `watch.add('main', pid)`. `result()` gives, per tree, the peak of the
 * summed RSS and, per process, its role and peak RSS.
 */
export class ProcessWatch {
	constructor(intervalMs = 200) {
		this.roots = new Map();
		this.procs = new Map();
		this.trees = new Map();
		this.timer = setInterval(() => this.sample(), intervalMs);
		this.timer.unref();
	}
	add(name, pid) {
		this.roots.set(name, pid);
		this.trees.set(name, { peak: 0 });
		this.sample();
	}
	sample() {
		const children = childrenMap();
		for (const [name, rootPid] of this.roots) {
			let sum = 0;
			const stack = [rootPid];
			while (stack.length) {
				const pid = stack.pop();
				const s = status(pid);
				if (s) {
					sum += s.rss;
					let proc = this.procs.get(pid);
					if (!proc) {
						proc = { tree: name, pid, peak: 0, lastRss: 0 };
						this.procs.set(pid, proc);
					}
					// Read each time: a child shows its parent's command line until it has exec'd.
					const argv = commandLine(pid);
					if (argv.length)
						Object.assign(proc, { role: roleOf(argv), argv: argv.join(' ').slice(0, 200) });
					proc.peak = Math.max(proc.peak, s.hwm, s.rss);
					proc.lastRss = s.rss;
				}
				stack.push(...(children.get(pid) ?? []));
			}
			const tree = this.trees.get(name);
			tree.peak = Math.max(tree.peak, sum);
			// RSS of the tree's root and of the whole tree over time, at most one point a second.
			const now = Date.now();
			tree.timeline ??= [];
			const last = tree.timeline[tree.timeline.length - 1];
			const rootRss = status(rootPid)?.rss ?? 0;
			if (!last || now - last[0] >= 1000) tree.timeline.push([now, rootRss, sum]);
			else if (rootRss > last[1]) last[1] = rootRss;
		}
	}
	/**
	 * From now on: each process's peak restarts from its current RSS (the kernel's VmHWM is reset
	 * through /proc/<pid>/clear_refs, so start-up is not counted), its RSS now is kept as `idle`,
	 * and each tree's peak restarts too.
	 */
	resetPeaks() {
		this.sample();
		for (const proc of this.procs.values()) {
			proc.startupPeak = proc.peak;
			try {
				writeFileSync(`/proc/${proc.pid}/clear_refs`, '5');
				proc.hwmReset = true;
			} catch {
				proc.hwmReset = false;
			}
			const s = status(proc.pid);
			proc.idle = s?.rss ?? 0;
			proc.peak = s?.rss ?? 0;
		}
		for (const tree of this.trees.values()) {
			tree.peak = 0;
			tree.timeline = [];
		}
		this.sample();
	}
	stop() {
		this.sample();
		clearInterval(this.timer);
		return this.result();
	}
	result() {
		return {
			trees: Object.fromEntries([...this.trees].map(([name, t]) => [name, t.peak])),
			timelines: Object.fromEntries([...this.trees].map(([name, t]) => [name, t.timeline ?? []])),
			processes: [...this.procs.values()].map(
				({ tree, pid, role, argv, peak, idle, startupPeak, hwmReset }) => ({
					tree,
					pid,
					role,
					argv,
					peak,
					idle,
					startupPeak,
					hwmReset,
				}),
			),
		};
	}
}

/** The RSS summed over `pid` and its descendants, now. */
export function treeRss(pid) {
	const children = childrenMap();
	let total = 0;
	const stack = [pid];
	while (stack.length) {
		const p = stack.pop();
		total += status(p)?.rss ?? 0;
		for (const child of children.get(p) ?? []) stack.push(child);
	}
	return total;
}
