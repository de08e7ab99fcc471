import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { testDatabaseUrl } from './postgres-server.js';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const pgUrl = testDatabaseUrl();

/** A fresh schema in the test database, dropped by `drop()`. */
export async function freshSchema(prefix: string): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = `t_${prefix}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
  await withPg((c) => c.query(`CREATE SCHEMA ${schema}`));
  // tm keeps its incremental state beside the target schema, in `<schema>__tm_state`.
  return { schema, drop: () => withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${schema}, ${schema}__tm_state CASCADE`)).then(() => undefined) };
}

/** Runs `fn` with its own connection; timestamps and numerics come back as strings, as tm reads them. */
export async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: pgUrl,
    types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => ([1082, 1114, 1184, 1700, 20].includes(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format)) } as pg.CustomTypesConfig,
  });
  await client.connect();
  try {
    await client.query(`SET TIME ZONE 'UTC'`);
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function queryRows<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
  return withPg(async (c) => (await c.query(sql, params)).rows as R[]);
}

/** A copy of this repo's tm project (project.yml, profiles.yml, models, macros, tests) in a temp folder. */
export async function copyProject(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tm-project-'));
  for (const entry of ['project.yml', 'profiles.yml', 'models', 'macros', 'tests']) {
    await cp(path.join(repoRoot, entry), path.join(dir, entry), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function tempDir(prefix = 'tm-test-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI as a real process. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, 'bin', 'tm.js'), ...args],
      { cwd: options.cwd ?? repoRoot, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 32 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
