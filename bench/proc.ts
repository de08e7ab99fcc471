/** Child processes of the benchmark: `tm run` with its peak RSS, and psql. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

export function runChild(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; onStdoutLine?: (line: string) => void } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (options.onStdoutLine) {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) options.onStdoutLine(l);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-20_000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (pending && options.onStdoutLine) options.onStdoutLine(pending);
      resolve({ code, signal, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
    child.stdin.on('error', () => undefined); // a child that exits early closes its stdin
    child.stdin.end(options.input ?? '');
  });
}

// ---------------------------------------------------------------------------------------------
// tm run

export interface ModelTiming {
  readonly index: number;
  readonly status: string;
  readonly name: string;
  readonly detail: string;
  readonly seconds: number;
  /** Part of `seconds` spent waiting for DuckDB while other models' queries ran. */
  readonly queuedSeconds: number;
}

export interface TmRun {
  /** Wall time of the child process, spawn to exit. */
  readonly seconds: number;
  /** Peak resident set of the tm process (Node + DuckDB, same process), bytes. */
  readonly maxRssBytes: number;
  readonly rssMethod: string;
  readonly lines: readonly string[];
  /** The `source ...` line: files, rows, valid, duplicates, excluded, seconds. */
  readonly sourceLine?: string;
  readonly sourceSeconds?: number;
  readonly validRows?: number;
  readonly models: readonly ModelTiming[];
  /** tm's own total (`Finished N models in Xs`). */
  readonly tmSeconds?: number;
}

const TIME_BIN = '/usr/bin/time';
const MODEL_LINE = /^\s+(\d+) of \d+ (\S+)\s+(\S+) \.+ (.*) in ([\d.]+)s(?: \(([\d.]+)s queued for DuckDB\))?$/;

export interface RunTmOptions {
  readonly repoRoot: string;
  /** The project folder tm runs on (`--project-dir`), e.g. the bench's private copy. */
  readonly projectDir?: string;
  /** Extra environment: TM_PG_URL, TM_PG_SCHEMA, TM_CURATED_PATH, S3 settings... */
  readonly env: Record<string, string>;
  readonly args?: readonly string[];
  /** Print tm's lines as they come, with this prefix. */
  readonly echo?: (line: string) => void;
}

/**
 * `node bin/tm.js run --select cold --target prod` as a real child process. Peak RSS comes from GNU
 * time's %M (getrusage of the child: the whole Node process, DuckDB's native memory included) or,
 * without /usr/bin/time, from a preloaded probe that writes process.resourceUsage().maxRSS at exit.
 */
export async function runTm(o: RunTmOptions): Promise<TmRun> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'tm-bench-rss-'));
  const rssFile = path.join(tmp, 'rss');
  const tmArgs = [
    path.join(o.repoRoot, 'bin', 'tm.js'),
    ...(o.args ?? ['run', '--select', 'cold', '--target', 'prod']),
    ...(o.projectDir ? ['--project-dir', o.projectDir] : []),
  ];
  const env: NodeJS.ProcessEnv = { ...cleanEnv(), ...o.env };
  let command: string;
  let args: string[];
  let rssMethod: string;
  if (existsSync(TIME_BIN)) {
    command = TIME_BIN;
    args = ['-o', rssFile, '-f', '%M', process.execPath, ...tmArgs];
    rssMethod = '/usr/bin/time %M';
  } else {
    command = process.execPath;
    args = ['--import', path.join(import.meta.dirname, 'rss-probe.js'), ...tmArgs];
    env.TM_BENCH_RSS_FILE = rssFile;
    rssMethod = 'process.resourceUsage().maxRSS';
  }
  try {
    const r = await runChild(command, args, { env, cwd: o.repoRoot, onStdoutLine: o.echo });
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    if (r.code !== 0) throw new TmRunError(r.code, r.signal, lines, r.stderr);
    const rssText = (await readFile(rssFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? '';
    const rssKb = Number(rssText);
    // The source's read line (rows, valid, duplicates), not the clock line a run may print before it.
    const sourceLine = lines.find((l) => l.startsWith('source ') && / valid, /.test(l));
    const models: ModelTiming[] = [];
    for (const l of lines) {
      const m = MODEL_LINE.exec(l);
      if (m) models.push({ index: Number(m[1]), status: m[2], name: m[3], detail: m[4], seconds: Number(m[5]), queuedSeconds: m[6] ? Number(m[6]) : 0 });
    }
    const finished = lines.map((l) => /^Finished \d+ models in ([\d.]+)s/.exec(l)).find(Boolean);
    return {
      seconds: r.seconds,
      maxRssBytes: Number.isFinite(rssKb) && rssKb > 0 ? rssKb * 1024 : NaN,
      rssMethod,
      lines,
      sourceLine,
      sourceSeconds: sourceLine ? Number(/ in ([\d.]+)s$/.exec(sourceLine)?.[1]) : undefined,
      validRows: sourceLine ? Number(/([\d,]+) valid/.exec(sourceLine)?.[1].replace(/,/g, '')) : undefined,
      models,
      tmSeconds: finished ? Number(finished[1]) : undefined,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A tm run that exited non-zero; `reason` is tm's `Error: ...` line(s). */
export class TmRunError extends Error {
  readonly reason: string;
  constructor(code: number | null, signal: NodeJS.Signals | null, stdoutLines: readonly string[], stderr: string) {
    const errLines = stderr.split('\n').filter((l) => /^Error\b|^\s+\S.*(Error|error):/.test(l));
    // Failed models: tm prints `N of M ERROR name ... ` and the reason on the next line (stdout).
    const modelErrors = stdoutLines.flatMap((l, i) => (/ of \d+ ERROR /.test(l) ? [l.trim(), (stdoutLines[i + 1] ?? '').trim()] : []));
    const all = [...errLines, ...modelErrors];
    const reason = (all.length ? all : stderr.trim().split('\n').slice(-10)).join('\n');
    super(`tm run exited with ${code ?? signal}: ${reason}\n--- tm stdout (last lines) ---\n${stdoutLines.slice(-15).join('\n')}`);
    this.reason = reason;
  }
}

/**
 * A private copy of the tm project (project.yml, profiles.yml and the model, macro, test... folders)
 * under the bench folder, so tm's runtime state (`.tm/` spill folder, S3 cache and state,
 * `target/`) is the bench's own: the measured runs neither read nor disturb the state of the
 * developer's runs of the same project (hot loops, tests), and vice versa.
 */
export async function prepareProjectCopy(repoRoot: string, dest: string): Promise<string> {
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  for (const name of ['project.yml', 'profiles.yml', 'models', 'macros', 'tests', 'dashboards', 'seeds', 'snapshots', 'analyses']) {
    const from = path.join(repoRoot, name);
    if (existsSync(from)) await cp(from, path.join(dest, name), { recursive: true });
  }
  return dest;
}

/** The bench's environment without the variables that would redirect a tm run elsewhere. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('TM_S3_') || k === 'TM_CURATED_PATH' || k === 'TM_PG_SCHEMA' || k.startsWith('AWS_')) delete env[k];
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/**
 * Runs a psql script (stdin, ON_ERROR_STOP) the way a user or dbt session would: a fresh connection,
 * server defaults (work_mem, maintenance_work_mem...), only the session pinned to UTC and the schema.
 */
export async function psql(pgUrl: string, script: string, schema?: string): Promise<{ seconds: number; stdout: string }> {
  const options = ['-c TimeZone=UTC', ...(schema ? [`-c search_path=${schema}`] : [])].join(' ');
  const r = await runChild('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', pgUrl, '-f', '-'], {
    env: { ...process.env, PGOPTIONS: options, PGAPPNAME: 'tm-bench' },
    input: script,
  });
  if (r.code !== 0) throw new Error(`psql failed (${r.code ?? r.signal}): ${r.stderr.trim()}\nscript:\n${script.slice(0, 2000)}`);
  return { seconds: r.seconds, stdout: r.stdout };
}

/** A short-lived pg client for the bench's own bookkeeping queries (counts, settings, cleanup). */
export async function withPg<T>(pgUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgUrl, application_name: 'tm-bench', options: '-c TimeZone=UTC' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops each schema and the ones tm derives from it (`<schema>_tm_audit`, `<schema>__tm_state`...):
 * every schema named `<s>` or starting with `<s>_`.
 */
export async function dropSchemaFamilies(pgUrl: string, schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  await withPg(pgUrl, async (c) => {
    for (const s of schemas) {
      const r = await c.query<{ n: string }>(`SELECT nspname AS n FROM pg_namespace WHERE nspname = $1 OR starts_with(nspname, $1 || '_') ORDER BY length(nspname) DESC`, [s]);
      for (const { n } of r.rows) await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(n)} CASCADE`);
    }
  });
}

/** A fresh, empty schema for a tm run (dropped first with its tm-derived schemas). */
export async function freshSchema(pgUrl: string, schema: string): Promise<void> {
  await dropSchemaFamilies(pgUrl, [schema]);
  await withPg(pgUrl, (c) => c.query(`CREATE SCHEMA ${quoteIdent(schema)}`));
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
