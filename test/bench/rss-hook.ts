/**
 * Loaded with `node --import` by the benchmark: writes the process's peak RSS (KiB) and CPU time
 * (user and system, microseconds) to $BENCH_RSS_FILE at exit, as JSON, so the CLI's own cost is
 * measured without touching its code.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRSS: usage.maxRSS, user: usage.userCPUTime, system: usage.systemCPUTime }));
  });
}
