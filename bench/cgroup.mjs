// A memory limit for one process tree, as a container runtime sets it (`docker run -m`): a memory
// cgroup (v2, or v1's memory controller) with memory.max / memory.limit_in_bytes. Node sizes its
// heap from that limit (uv_get_constrained_memory), so n8n started in it behaves as it does in a
// container of that size, without any flag. Needs write access to the cgroup filesystem (root).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const V2 = '/sys/fs/cgroup';
const V1 = '/sys/fs/cgroup/memory';

function hasV2Memory() {
	try {
		return (
			readFileSync(join(V2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory') &&
			readFileSync(join(V2, 'cgroup.subtree_control'), 'utf8').includes('memory')
		);
	} catch {
		return false;
	}
}

/** Why a memory cgroup cannot be made here, or undefined when it can. */
export function memoryLimitUnavailable() {
	if (hasV2Memory()) return undefined;
	if (existsSync(join(V1, 'memory.limit_in_bytes'))) {
		const probe = join(V1, `cx-bench-probe-${process.pid}`);
		try {
			mkdirSync(probe);
			rmdirSync(probe);
			return undefined;
		} catch (error) {
			return `cannot create a memory cgroup (${error.code ?? error.message})`;
		}
	}
	return 'no memory cgroup controller (v1 or v2) is mounted';
}

/**
 * A memory cgroup of `mib` MiB named `name`: `wrap(command, args)` gives the command that moves
 * itself into the group and then execs `command` (same pid); `oomKills()` the processes the kernel
 * killed in it for memory; `remove()` deletes it (once its processes have ended).
 */
export function memoryCage(name, mib) {
	const v2 = hasV2Memory();
	const dir = join(v2 ? V2 : V1, `cx-bench-${name}-${process.pid}`);
	mkdirSync(dir, { recursive: true });
	const bytes = String(mib * 1024 * 1024);
	if (v2) {
		writeFileSync(join(dir, 'memory.max'), bytes);
		writeFileSync(join(dir, 'memory.swap.max'), '0');
	} else {
		writeFileSync(join(dir, 'memory.limit_in_bytes'), bytes);
		// No swap either, where the kernel accounts it (a container with -m and no --memory-swap gets
		// twice the limit as swap; here there is none, so the limit is the whole memory).
		try {
			writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), bytes);
		} catch {}
	}
	const procs = join(dir, 'cgroup.procs');
	return {
		dir,
		wrap(command, args) {
			return ['/bin/sh', ['-c', `echo $$ > '${procs}' && exec "$0" "$@"`, command, ...args]];
		},
		oomKills() {
			try {
				const text = readFileSync(join(dir, v2 ? 'memory.events' : 'memory.oom_control'), 'utf8');
				return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
			} catch {
				return undefined;
			}
		},
		remove() {
			try {
				rmdirSync(dir);
			} catch {}
		},
	};
}
