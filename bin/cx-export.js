#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=16777216 node
'use strict';
// MALLOC_TRIM_THRESHOLD_ (glibc; ignored elsewhere): after freeing the multi-MB buffers of long
// records, glibc raises its trim threshold and keeps freed memory; a fixed 16 MiB threshold hands it
// back, which keeps peak memory about 40 MiB lower on gigabyte exports (docs/benchmarks.md).
require('../dist/src/cli/main.js').run(process.argv.slice(2));
