/**
 * Loaded with `node --import` by the benchmark: writes the process's peak RSS (KiB) to
 * $BENCH_RSS_FILE at exit, so the CLI's own memory is measured without touching its code.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
