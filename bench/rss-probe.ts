/**
 * Preloaded (`node --import`) into a tm child when /usr/bin/time is missing: at exit, writes the
 * process's peak RSS in KiB (process.resourceUsage().maxRSS: the whole process, DuckDB's native
 * memory included) to $TM_BENCH_RSS_FILE.
 */
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.TM_BENCH_RSS_FILE;
  if (file) writeFileSync(file, `${process.resourceUsage().maxRSS}\n`);
});
