import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { queryRows, repoRoot } from './harness.js';

/** A tm process that a test can watch, signal and kill. */
export interface Proc {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves when the output written after position `from` matches. */
  waitFor(pattern: RegExp | ((output: string) => boolean), options?: { timeoutMs?: number; from?: number }): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export function spawnTm(args: readonly string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'tm.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { test: (output: string) => boolean; from: number; resolve: () => void }[] = [];
  const feed = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of [...waiters]) if (w.test(out.slice(w.from))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout!.on('data', feed);
  child.stderr!.on('data', feed);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, { timeoutMs = 90_000, from = 0 } = {}) {
      const test = typeof pattern === 'function' ? pattern : (o: string) => pattern.test(o);
      if (test(out.slice(from))) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(pattern)}; output so far:\n${out}`)), timeoutMs);
        waiters.push({ test, from, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

/** Entries left in a folder (a test's own TMPDIR, a project's spill folder); [] when it does not exist. */
export async function entriesOf(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** tm staging relations in the schema (by name, as a user would look) and the run registry's records. */
export async function stagingLeft(schema: string): Promise<string[]> {
  const tables = await queryRows<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 AND tablename LIKE '%\\_\\_tm\\_%' ORDER BY 1`, [schema]);
  const recorded = await queryRows<{ t: string }>(
    `SELECT 'recorded:' || relation_name AS t FROM ${schema}__tm_state.staging WHERE schema_name = $1`,
    [schema],
  ).catch(() => []);
  return [...tables, ...recorded].map((r) => r.t);
}

/** Polls until `check` is true (or throws after `timeoutMs`). */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
