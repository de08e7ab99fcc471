import { randomBytes } from 'node:crypto';
import { quoteIdent } from '../core/sql-quote.js';
import { qualified, transaction, type Target, type TargetSession } from '../engines/target.js';
import { TmError } from '../core/errors.js';
import { throwIfCancelled } from '../core/cancel.js';
import { pausePoint } from '../core/pause-point.js';
import { commentSql, createTableSql, ensureSchema, indexName, pgName, primaryKeyName, tableExists } from './ddl.js';
import { writeStepState } from './replace-partitions.js';
import type { MaterializationStrategy, MaterializeInput } from './types.js';

const LOCK_TIMEOUT = '3s';
const SWAP_ATTEMPTS = 5;

interface DependentView {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly kind: 'v' | 'm';
  readonly depth: number;
  readonly definition: string;
  readonly owner: string;
  readonly grants: readonly { grantee: string; privilege: string }[];
}

/**
 * Full rebuild, swapped in atomically: load a staging table, build its key and indexes (in parallel on
 * PostgreSQL), then rename it into place in one short transaction. Readers see old rows or new rows,
 * never an empty table; a failure leaves the old table as it was and no staging table behind.
 *
 * The staging table is recorded as the run's (state/run-registry.ts) in the transaction that creates
 * it and forgotten in the one that swaps it in: a run killed in between leaves a table the next run
 * drops. Pause points (tests kill runs there): before-copy, during-copy, before-swap, in-swap, after-swap.
 */
export const replace: MaterializationStrategy = { lives: 'target', apply: (input) => replaceTable(input) };

async function replaceTable(input: MaterializeInput) {
  const { target, relation, model } = input;
  const stageName = pgName(`${model.name}__tm_new_${input.runId}`);
  const stage = qualified(relation.schema, stageName);
  const session = await target.acquire();
  try {
    await ensureSchema(session, relation.schema);
    await transaction(session, async (tx) => {
      await target.staging?.record(tx, relation.schema, stageName);
      await tx.exec(`DROP TABLE IF EXISTS ${stage}`);
      await tx.exec(createTableSql(stage, model));
      for (const sql of commentSql(stage, model)) await tx.exec(sql);
    });
    await pausePoint('before-copy', model.name);
    throwIfCancelled();
    const rows = await input.result.loadInto(forModel(session, model.name), stage);
    throwIfCancelled();
    const built = await buildIndexes(target, session, relation.schema, stageName, input);
    await pausePoint('before-swap', model.name);
    throwIfCancelled();
    await swapIn(session, input, stageName, built);
    await pausePoint('after-swap', model.name);
    return { rows, summary: `CREATE ${rows}` };
  } catch (err) {
    await dropStage(session, input, stageName);
    throw err;
  } finally {
    await session.release();
  }
}

/** The session, with COPY loads labelled by the model (for the `during-copy` pause point). */
function forModel(session: TargetSession, model: string): TargetSession {
  return { ...session, copyCsvIn: (table, columns, write, options) => session.copyCsvIn(table, columns, write, { model, ...options }) };
}

/** After a failure: the staging table goes, and its record with it (both at once, or neither). */
async function dropStage(session: TargetSession, input: MaterializeInput, stageName: string): Promise<void> {
  const { relation, target } = input;
  await transaction(session, async (tx) => {
    await tx.exec(`DROP TABLE IF EXISTS ${qualified(relation.schema, stageName)}`);
    await target.staging?.forget(tx, relation.schema, stageName);
  }).catch(() => undefined); // connection lost: the run's close (or the next run) drops it
}

interface BuiltIndex {
  readonly stageIndex: string;
  readonly finalName: string;
  readonly primaryKey: boolean;
}

/** Key and indexes after the load (faster than maintaining them row by row), each on its own session. */
async function buildIndexes(target: Target, session: TargetSession, schema: string, stageName: string, input: MaterializeInput): Promise<BuiltIndex[]> {
  const { model } = input;
  const stage = qualified(schema, stageName);
  const jobs: { sql: string; built?: BuiltIndex }[] = [];
  if (model.primaryKey.length) {
    const stageIndex = pgName(`${stageName}_pk`);
    jobs.push({
      sql: `CREATE UNIQUE INDEX ${quoteIdent(stageIndex)} ON ${stage} (${model.primaryKey.map(quoteIdent).join(', ')})`,
      built: { stageIndex, finalName: primaryKeyName(model.name), primaryKey: true },
    });
  }
  model.indexes.forEach((ix, i) => {
    const stageIndex = pgName(`${stageName}_ix${i}`);
    jobs.push({
      sql: `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(stageIndex)} ON ${stage} (${ix.columns.map(quoteIdent).join(', ')})`,
      built: { stageIndex, finalName: indexName(model.name, ix.columns, ix.unique), primaryKey: false },
    });
  });
  jobs.push({ sql: `ANALYZE ${stage}` });
  const runOn = async (s: TargetSession, sql: string) => {
    try {
      await s.exec(sql);
    } catch (err) {
      const e = err as { code?: string; detail?: string; message: string };
      if (e.code === '23505') throw new TmError(`model '${model.name}': its rows break the unique key: ${e.detail ?? e.message}`, 1, { cause: err });
      throw err;
    }
  };
  if (target.maxSessions <= 1) {
    for (const job of jobs) await runOn(session, job.sql);
  } else {
    await Promise.all(
      jobs.map(async (job, i) => {
        if (i === 0) return runOn(session, job.sql);
        const extra = await target.acquire();
        try {
          await runOn(extra, job.sql);
        } finally {
          await extra.release();
        }
      }),
    );
  }
  return jobs.flatMap((j) => (j.built ? [j.built] : []));
}

async function swapIn(session: TargetSession, input: MaterializeInput, stageName: string, built: readonly BuiltIndex[]): Promise<void> {
  const { relation } = input;
  for (let attempt = 1; ; attempt++) {
    try {
      await transaction(session, async (tx) => {
        await tx.exec(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        const exists = await tableExists(tx, relation.schema, relation.name);
        const views = exists ? await dependentViews(tx, relation.qualified) : [];
        const grants = exists ? await tableGrants(tx, relation.qualified) : [];
        const oldName = pgName(`${relation.name}__tm_old_${randomBytes(3).toString('hex')}`);
        for (const v of [...views].sort((a, b) => b.depth - a.depth)) {
          await tx.exec(`DROP ${v.kind === 'm' ? 'MATERIALIZED VIEW' : 'VIEW'} ${qualified(v.schema, v.name)}`);
        }
        if (exists) await tx.exec(`ALTER TABLE ${relation.qualified} RENAME TO ${quoteIdent(oldName)}`);
        await tx.exec(`ALTER TABLE ${qualified(relation.schema, stageName)} RENAME TO ${quoteIdent(relation.name)}`);
        if (exists) {
          try {
            await tx.exec(`DROP TABLE ${qualified(relation.schema, oldName)}`);
          } catch (err) {
            throw new TmError(
              `model '${input.model.name}': cannot replace ${relation.qualified}: other objects depend on it (${(err as { detail?: string }).detail ?? (err as Error).message}); tm recreates dependent views but not these`,
              1,
              { cause: err },
            );
          }
        }
        for (const b of built) {
          if (b.primaryKey) {
            await tx.exec(`ALTER TABLE ${relation.qualified} ADD CONSTRAINT ${quoteIdent(b.finalName)} PRIMARY KEY USING INDEX ${quoteIdent(b.stageIndex)}`);
          } else {
            await tx.exec(`ALTER INDEX ${qualified(relation.schema, b.stageIndex)} RENAME TO ${quoteIdent(b.finalName)}`);
          }
        }
        for (const g of grants) await tx.exec(`GRANT ${g.privilege} ON ${relation.qualified} TO ${g.grantee}`);
        for (const v of [...views].sort((a, b) => a.depth - b.depth)) await recreateView(tx, v);
        await input.target.staging?.forget(tx, relation.schema, stageName);
        await writeStepState(tx, input);
        await pausePoint('in-swap', input.model.name);
        throwIfCancelled();
      });
      return;
    } catch (err) {
      // Readers hold the old table: give up the lock attempt quickly and retry, rather than block them.
      // A deadlock with a reader that locked a view and then the table: PostgreSQL cancels one side; if us, retry.
      if (['55P03', '40P01'].includes((err as { code?: string }).code ?? '') && attempt < SWAP_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, 200 * attempt));
        continue;
      }
      if ((err as { code?: string }).code === '55P03') {
        throw new TmError(`model '${input.model.name}': could not lock ${relation.qualified} to swap in the new table after ${SWAP_ATTEMPTS} attempts (long-running readers?)`, 1, { cause: err });
      }
      throw err;
    }
  }
}

async function tableGrants(session: TargetSession, table: string): Promise<{ grantee: string; privilege: string }[]> {
  const rows = await session.query<{ grantee: string; privilege: string }>(
    `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee, a.privilege_type AS privilege
       FROM pg_class c, aclexplode(c.relacl) a
      WHERE c.oid = $1::regclass AND a.grantee <> c.relowner`,
    [table],
  );
  return rows;
}

/** Views (and views of views) that read the table: PostgreSQL binds them to the old table, so they are recreated. */
async function dependentViews(session: TargetSession, table: string): Promise<DependentView[]> {
  const rows = await session.query<Omit<DependentView, 'grants'> & { oid: number }>(
    `WITH RECURSIVE deps(oid, depth) AS (
        SELECT r.ev_class, 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
         WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = $1::regclass AND r.ev_class <> $1::regclass
        UNION
        SELECT r.ev_class, deps.depth + 1 FROM deps JOIN pg_depend d ON d.refobjid = deps.oid JOIN pg_rewrite r ON r.oid = d.objid
         WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class <> deps.oid AND deps.depth < 20
      )
      SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind, max(deps.depth)::int AS depth,
             pg_get_viewdef(c.oid) AS definition, pg_get_userbyid(c.relowner) AS owner
        FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace
       GROUP BY c.oid, n.nspname, c.relname, c.relkind, c.relowner`,
    [table],
  );
  const out: DependentView[] = [];
  for (const r of rows) out.push({ ...r, grants: await tableGrants(session, qualified(r.schema, r.name)) });
  return out;
}

async function recreateView(session: TargetSession, view: DependentView): Promise<void> {
  const name = qualified(view.schema, view.name);
  const definition = view.definition.trim().replace(/;$/, '');
  await session.exec(view.kind === 'm' ? `CREATE MATERIALIZED VIEW ${name} AS ${definition}` : `CREATE VIEW ${name} AS ${definition}`);
  const me = await session.query<{ u: string }>(`SELECT current_user AS u`);
  if (me[0]?.u !== view.owner) await session.exec(`ALTER ${view.kind === 'm' ? 'MATERIALIZED VIEW' : 'VIEW'} ${name} OWNER TO ${quoteIdent(view.owner)}`);
  for (const g of view.grants) await session.exec(`GRANT ${g.privilege} ON ${name} TO ${g.grantee}`);
}

