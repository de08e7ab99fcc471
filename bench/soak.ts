/**
 * Section `soak`: `tm run --select hot --every 200ms` as a child process for `--soak-minutes` (default
 * 16) while a file lands every second, each 10 stream minutes after the last (50 events of one minute):
 * the 48-hour window is full after 288 files, its cache after 720, and the loop then runs thousands of
 * cycles more. Every 10 seconds it samples the child's resident memory (/proc/<pid>/status VmRSS), its
 * open files (/proc/<pid>/fd) and its PostgreSQL connections (its TCP sockets to the server's port).
 * Target: once the cache is full, each stays within 10% of its value then (medians of a minute of samples).
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, readlink, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeDayFile, type EventRow } from '../generator/parquet-writer.js';
import { cleanEnv, dropSchemaFamilies, freshSchema } from './proc.js';
import type { BenchSection, SectionResult, TargetCheck } from './types.js';

const FILE_EVERY_MS = 1_000;
const STREAM_MINUTES_PER_FILE = 10;
const WINDOW_FILES = (48 * 60) / STREAM_MINUTES_PER_FILE;
const FILES_PER_DAY = (24 * 60) / STREAM_MINUTES_PER_FILE;
/**
 * The window cache keeps whole days, from two days before the window's first day (observe-run's
 * evictBefore): it holds 4 to 5 days of files, and stops growing once its first days are evicted,
 * 5 stream days in (720 files), not when the 48-hour window is full (288).
 */
const CACHE_FULL_FILES = WINDOW_FILES + 3 * FILES_PER_DAY;
const SAMPLE_EVERY_MS = 10_000;

interface Sample {
  readonly seconds: number;
  readonly cycles: number;
  readonly files: number;
  readonly rssMiB: number;
  readonly fds: number;
  readonly pgConnections: number;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Open file descriptors of the process, and how many are TCP sockets connected to `port`. */
async function fdsAndConnections(pid: number, port: number): Promise<{ fds: number; connections: number }> {
  const fds = await readdir(`/proc/${pid}/fd`);
  const inodes = new Set<string>();
  for (const fd of fds) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]);
  }
  let connections = 0;
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[2].endsWith(`:${hexPort}`) && inodes.has(cols[9])) connections++;
    }
  }
  return { fds: fds.length, connections };
}

function eventsOf(minute: Date, n: number, seq: number): EventRow[] {
  return Array.from({ length: n }, (_, i) => ({
    dedup_key: `soak-${seq}-${i}`,
    event_ts: new Date(minute.getTime() + i * 1000).toISOString().replace('T', ' ').replace('Z', ''),
    session_id: `s${(seq * 7 + i) % 97}`,
    document_id: 1 + ((seq + i) % 50),
    title: `Document ${1 + ((seq + i) % 50)}`,
    clinical_areas: i % 2 ? 'Cardiology' : 'Oncology',
  }));
}

export const soakSection: BenchSection = {
  name: 'soak',
  title: 'hot --every loop soak: memory, open files and PostgreSQL connections once the 48-hour window is full',
  async run(ctx) {
    const minutes = Number(ctx.options['soak-minutes'] ?? 16);
    const root = path.join(ctx.benchDir, `soak-${ctx.runTag}`, 'stream');
    const schema = `${ctx.runTag}_soak`;
    await freshSchema(ctx.pgUrl, schema);
    const port = Number(new URL(ctx.pgUrl).port || 5432);
    const totalFiles = Math.ceil((minutes * 60_000) / FILE_EVERY_MS);
    // The stream ends about now: every event is in the past, none breaks the future rule.
    const firstMinute = new Date(Math.floor((Date.now() - totalFiles * STREAM_MINUTES_PER_FILE * 60_000) / 60_000) * 60_000);
    let files = 0;
    const land = () => writeDayFile(root, new Date(firstMinute.getTime() + files * STREAM_MINUTES_PER_FILE * 60_000).toISOString().slice(0, 10),
      `soak-${String(files).padStart(6, '0')}.parquet`, eventsOf(new Date(firstMinute.getTime() + files * STREAM_MINUTES_PER_FILE * 60_000), 50, files)).then(() => files++);
    await land();
    const child = spawn(process.execPath, [path.join(ctx.repoRoot, 'bin', 'tm.js'), 'run', '--project-dir', ctx.projectDir, '--target', 'prod', '--select', 'hot', '--every', '200ms'], {
      env: { ...cleanEnv(), TM_PG_URL: ctx.pgUrl, TM_PG_SCHEMA: schema, TM_CURATED_PATH: root }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let cycles = 0;
    let failed = 0;
    let tail = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      cycles += (t.match(/^Finished \d+ models/gm) ?? []).length;
      failed += (t.match(/cycle \d+ failed/g) ?? []).length;
      tail = (tail + t).slice(-4000);
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => (tail = (tail + t).slice(-4000)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const samples: Sample[] = [];
    const started = performance.now();
    const errors: string[] = [];
    try {
      let nextFile = started + FILE_EVERY_MS;
      let nextSample = started + SAMPLE_EVERY_MS;
      while (performance.now() - started < minutes * 60_000 && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(nextFile, nextSample) - performance.now())));
        if (performance.now() >= nextFile) {
          await land();
          nextFile += FILE_EVERY_MS;
        }
        if (performance.now() >= nextSample) {
          const { fds, connections } = await fdsAndConnections(child.pid!, port);
          const s = { seconds: Math.round((performance.now() - started) / 1000), cycles, files, rssMiB: await rssMiB(child.pid!), fds, pgConnections: connections };
          samples.push(s);
          ctx.log(`soak: ${s.seconds}s, ${s.cycles} cycles, ${s.files} files, RSS ${s.rssMiB.toFixed(0)} MiB, ${s.fds} fds, ${s.pgConnections} PostgreSQL connections`);
          nextSample += SAMPLE_EVERY_MS;
        }
      }
      if (child.exitCode !== null) errors.push(`the loop exited early (${child.exitCode}): ${tail.split('\n').slice(-5).join(' | ')}`);
    } finally {
      child.kill('SIGTERM');
      await exited;
      if (!ctx.keepSchemas) await dropSchemaFamilies(ctx.pgUrl, [schema]);
      await rm(path.dirname(root), { recursive: true, force: true });
    }
    // Each figure is the median of a minute of samples (RSS saws by ±15 MiB between V8's collections,
    // and a connection opens for a moment now and then): the first minute once the window's cache is
    // full, against the last minute.
    const fullIndex = samples.findIndex((s) => s.files >= CACHE_FULL_FILES + 30);
    const full = fullIndex >= 0 ? samples[fullIndex] : samples[Math.floor(samples.length / 2)];
    const last = samples[samples.length - 1];
    const minuteFrom = (from: Sample | undefined) => (from ? samples.filter((s) => s.seconds >= from.seconds && s.seconds < from.seconds + 60) : []);
    const first = minuteFrom(full);
    const end = last ? samples.filter((s) => s.seconds > last.seconds - 60) : [];
    const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const growth = (pick: (s: Sample) => number) => {
      const a = median(first.map(pick));
      return a > 0 ? (median(end.map(pick)) - a) / a : 0;
    };
    const overlap = first.length > 0 && end.length > 0 && end[0].seconds >= first[first.length - 1].seconds;
    const targets: TargetCheck[] = overlap ? [
      { name: 'RSS growth after the window is full (%, median of a minute)', value: 100 * growth((s) => s.rssMiB), limit: 10, pass: growth((s) => s.rssMiB) <= 0.1 },
      { name: 'open files growth after the window is full (%, median of a minute)', value: 100 * growth((s) => s.fds), limit: 10, pass: growth((s) => s.fds) <= 0.1 },
      { name: 'PostgreSQL connections growth after the window is full (%, median of a minute)', value: 100 * growth((s) => s.pgConnections), limit: 10, pass: growth((s) => s.pgConnections) <= 0.1 },
    ] : [];
    const perMinute = samples.filter((s, i) => i === 0 || Math.floor(s.seconds / 60) !== Math.floor(samples[i - 1].seconds / 60));
    const result: SectionResult = {
      table: [
        '| time | cycles | files | RSS | open files | PG connections |',
        '|---:|---:|---:|---:|---:|---:|',
        ...perMinute.map((s) => `| ${s.seconds}s | ${s.cycles} | ${s.files} | ${s.rssMiB.toFixed(0)} MiB | ${s.fds} | ${s.pgConnections} |`),
      ],
      figures: { minutes, cycles, failedCycles: failed, files, windowFullAt: full, samples },
      targets,
      problems: failed ? [`${failed} cycles failed`] : [],
      notes: [overlap
        ? `window full after ${WINDOW_FILES} files, its cache after ${CACHE_FULL_FILES}; growth measured from the minute from ${full.seconds}s to the minute to ${last.seconds}s`
        : `the window's cache is full after ${CACHE_FULL_FILES} files: the loop did not run two minutes past it (more --soak-minutes)`],
      errors,
    };
    return result;
  },
};
