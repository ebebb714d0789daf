#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=16777216 MALLOC_MMAP_THRESHOLD_=524288 node --max-semi-space-size=1
'use strict';
// glibc's allocator settings (ignored elsewhere), through `env -S` so they apply to `cx-export` as
// npm links it. MALLOC_TRIM_THRESHOLD_: after freeing the multi-MB buffers of long records, glibc
// raises its trim threshold and keeps freed memory; a fixed 16 MiB threshold hands it back (peak
// about 40 MiB lower on gigabyte exports). Fixing one threshold also fixes the other, at 128 KiB,
// which maps and unmaps every 256 KiB read, inflate and decode buffer (a second of page faults per
// GiB of records): MALLOC_MMAP_THRESHOLD_ at 512 KiB keeps those in the heap (docs/benchmarks.md).
// --max-semi-space-size=1: V8's young generation at 1 MiB per half instead of growing to 16 MiB.
// What passes through it is short-lived (the base64 text of each slice, stream bookkeeping), so
// collecting it more often costs nothing measurable and the peak is 12–20 MiB lower (decrypt of
// 677 MiB: 64 MiB instead of 77; records of 1 GiB: 173–182 MiB instead of 194–199).
require('../dist/src/cli/main.js').run(process.argv.slice(2));
