#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=16777216 MALLOC_MMAP_THRESHOLD_=524288 MALLOC_ARENA_MAX=1 node --max-semi-space-size=1
'use strict';
// glibc's allocator settings (ignored elsewhere), through `env -S` so they apply to `cx-export` as
// npm links it. MALLOC_TRIM_THRESHOLD_: after freeing the multi-MB buffers of long records, glibc
// raises its trim threshold and keeps freed memory; a fixed 16 MiB threshold hands it back (peak
// about 40 MiB lower on gigabyte exports). Fixing one threshold also fixes the other, at 128 KiB,
// which maps and unmaps every 256 KiB read, inflate and decode buffer (a second of page faults per
// GiB of records): MALLOC_MMAP_THRESHOLD_ at 512 KiB keeps those in the heap (docs/benchmarks.md).
// MALLOC_ARENA_MAX=1: one malloc arena for every thread (the thread pool's, V8's helpers), not one
// each that keeps its own freed memory: decrypt of 677 MiB at 60-62 MiB instead of 67-70, reassemble
// of 1 GiB at 170 MiB instead of 181-183, same times (the threads allocate little, so they do not
// queue for the one arena's lock).
// --max-semi-space-size=1: V8's young generation at 1 MiB per half instead of growing to 16 MiB.
// What passes through it is short-lived (the base64 text of each slice, stream bookkeeping), so
// collecting it more often costs nothing measurable and the peak is 12–20 MiB lower (decrypt of
// 677 MiB: 64 MiB instead of 77; records of 1 GiB: 173–182 MiB instead of 194–199).
require('../dist/src/cli/main.js').run(process.argv.slice(2));
