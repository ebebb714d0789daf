#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=16777216 MALLOC_MMAP_THRESHOLD_=524288 node
'use strict';
// glibc's allocator settings (ignored elsewhere), through `env -S` so they apply to `cx-export` as
// npm links it. MALLOC_TRIM_THRESHOLD_: after freeing the multi-MB buffers of long records, glibc
// raises its trim threshold and keeps freed memory; a fixed 16 MiB threshold hands it back (peak
// about 40 MiB lower on gigabyte exports). Fixing one threshold also fixes the other, at 128 KiB,
// which maps and unmaps every 256 KiB read, inflate and decode buffer (a second of page faults per
// GiB of records): MALLOC_MMAP_THRESHOLD_ at 512 KiB keeps those in the heap (docs/benchmarks.md).
require('../dist/src/cli/main.js').run(process.argv.slice(2));
