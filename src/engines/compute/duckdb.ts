/** The DuckDB engine: models computed in the run's DuckDB, over the prepared sources and earlier models. */
import { quoteIdent } from '../../core/sql-quote.js';
import { copyDuckToTarget, copyTargetToDuck } from '../duck-transfer.js';
import type { DuckDb, DuckSession } from '../duckdb.js';
import { batchQueries } from './batches.js';
import { enforceContract } from './contract.js';
import { duckDbTraits } from './traits.js';
import type { ComputeEngine, ComputeSession } from './types.js';

/** The engine over an opened DuckDB (the runtime opens it once per process: the source step shares it). */
export function duckDbEngine(duck: DuckDb): ComputeEngine {
  return {
    traits: duckDbTraits,
    connect: async () => duckDbComputeSession(await duck.connect()),
    interrupt: () => duck.interrupt(),
    close: () => duck.close(),
  };
}

export function duckDbComputeSession(session: DuckSession): ComputeSession {
  const dialect = duckDbTraits.dialect;
  return {
    run: (sql) => session.run(sql),
    all: (sql) => session.all(sql),
    close: () => session.close(),
    async compute({ model, sql, batches, keep, heavy }) {
      const described = await session.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
      const contracted = enforceContract(model, sql, described.map((d) => ({ name: d.column_name, type: d.column_type })), dialect);
      // Computed into a table under the slot; the COPY into the target runs outside it, so the target
      // parsing this model's rows overlaps DuckDB computing the next model.
      const name = keep ? model.name : `__tm_result_${model.name}`;
      const table = quoteIdent(name);
      const [first, ...rest] = batchQueries(contracted, batches);
      await heavy(() => session.run(`CREATE OR REPLACE TABLE ${table} AS ${first}`));
      for (const query of rest) await heavy(() => session.run(`INSERT INTO ${table} ${query}`));
      const columns = model.columns.map((c) => c.name);
      return {
        loadInto: (into, qualifiedTable) => copyDuckToTarget(session, name, into, qualifiedTable, columns),
        release: async () => {
          if (!keep) await session.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
        },
      };
    },
    async keep(name, sql, as, heavy) {
      if (as === 'view') {
        await session.run(`CREATE OR REPLACE VIEW ${quoteIdent(name)} AS ${sql}`);
        return undefined;
      }
      await heavy(() => session.run(`CREATE OR REPLACE TABLE ${quoteIdent(name)} AS ${sql}`));
      const [{ n }] = await session.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${quoteIdent(name)}`);
      return n;
    },
    importTargetRows: ({ target, from, columns, into, scratch }) => copyTargetToDuck(session, target, from, { columns, into, scratch }),
  };
}
