import { mkdir, writeFile } from 'node:fs/promises';
import { maskSecrets } from '../compile/secrets.js';
import path from 'node:path';
import type { TemplateEnv } from '../compile/template-env.js';
import type { ComputeEngine } from '../engines/compute/types.js';
import { transaction, type Target, type TargetSession } from '../engines/target.js';
import { errorMessage } from '../core/errors.js';
import { elapsedSince } from '../core/progress.js';
import type { Manifest } from '../manifest/types.js';
import type { PreparedSource } from '../sources/prepare-source.js';
import { auditTable, copyDuckQueryToNewTable } from './audit.js';
import { placeTest } from './placement.js';
import { renderTestSql } from './render-test.js';
import { statusFor } from './thresholds.js';
import type { QualityTest, TestOutcome } from './types.js';

export interface TestRunContext {
  readonly manifest: Manifest;
  readonly target: Target;
  readonly duck: ComputeEngine;
  readonly templates: TemplateEnv;
  /** Sources prepared in DuckDB (for tests on sources). */
  readonly sources: ReadonlyMap<string, PreparedSource>;
  /** SQL literals every test sees: `now`, `run_started_at`. */
  readonly values: Readonly<Record<string, string>>;
  /** `--store-failures`: keep every test's failing rows, not only those of tests configured so. */
  readonly storeFailures: boolean;
  /** Absolute `target/compiled`: each test's query is written to `tests/<name>.sql` below it. */
  readonly compiledDir: string;
}

/** Runs one test where its tables live and grades the failing-row count by severity and thresholds. */
export async function runTest(test: QualityTest, ctx: TestRunContext): Promise<TestOutcome> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const done = (outcome: Omit<TestOutcome, 'test' | 'seconds' | 'startedAt'>): TestOutcome => ({ test, seconds: elapsedSince(started), startedAt, ...outcome });
  const placement = placeTest(test, ctx.manifest);
  if (placement.runs === 'refused') return done({ status: 'error', message: placement.reason });
  const compiledPath = path.join(ctx.compiledDir, 'tests', `${test.name}.sql`);
  const relativeCompiled = path.relative(ctx.manifest.projectDir, compiledPath);
  let sql: string;
  try {
    sql = renderTestSql(test, { manifest: ctx.manifest, templates: ctx.templates, runs: placement.runs, schema: ctx.target.schema, sources: ctx.sources, values: ctx.values });
    await mkdir(path.dirname(compiledPath), { recursive: true });
    await writeFile(compiledPath, maskSecrets(ctx.manifest, sql) + '\n');
  } catch (err) {
    return done({ status: 'error', message: `test '${test.name}' (${test.path}): ${errorMessage(err).split('\n')[0]}` });
  }
  const store = ctx.storeFailures || test.storeFailures;
  const storedIn = store ? auditTable(ctx.target.schema, test.name) : undefined;
  try {
    const failures = placement.runs === 'in-target' ? await countInTarget(ctx.target, sql, storedIn) : await countInDuck(ctx, sql, storedIn);
    return done({ status: statusFor(failures, test.severity, test.warnIf, test.errorIf), failures, storedIn, compiledPath: relativeCompiled });
  } catch (err) {
    const e = err as { where?: string };
    const where = e.where ? ` (${e.where.split('\n')[0]})` : '';
    return done({ status: 'error', message: `test '${test.name}' (${test.path}): ${errorMessage(err).split('\n')[0]}${where} (compiled SQL: ${relativeCompiled})`, compiledPath: relativeCompiled });
  }
}

async function countInTarget(target: Target, sql: string, storedIn: string | undefined): Promise<number> {
  const session = await target.acquire();
  try {
    if (!storedIn) return await count(session, `SELECT count(*) AS n FROM (\n${sql}\n) AS tm_test`);
    // Replaced in one transaction: readers of the audit table see the previous run's rows or this one's.
    return await transaction(session, async (tx) => {
      await tx.exec(`DROP TABLE IF EXISTS ${storedIn}`);
      await tx.exec(`CREATE TABLE ${storedIn} AS\n${sql}`);
      return count(tx, `SELECT count(*) AS n FROM ${storedIn}`);
    });
  } finally {
    await session.release();
  }
}

async function countInDuck(ctx: TestRunContext, sql: string, storedIn: string | undefined): Promise<number> {
  const duck = await ctx.duck.connect();
  try {
    if (!storedIn) {
      const [row] = await duck.all<{ n: number | string }>(`SELECT count(*) AS n FROM (\n${sql}\n) AS tm_test`);
      return Number(row.n);
    }
    const session = await ctx.target.acquire();
    try {
      return await transaction(session, async (tx) => {
        // Two runs storing the same test's failures at once would race to create the table.
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('tm_audit'), hashtext($1))`, [storedIn]);
        await tx.exec(`DROP TABLE IF EXISTS ${storedIn}`);
        return copyDuckQueryToNewTable(duck, tx, sql, storedIn);
      });
    } finally {
      await session.release();
    }
  } finally {
    duck.close();
  }
}

async function count(session: TargetSession, sql: string): Promise<number> {
  const [row] = await session.query<{ n: number | string }>(sql);
  return Number(row.n);
}
