/**
 * The in-target engine: the target database (PostgreSQL or PGlite) computes the model itself. Its SQL
 * reads other models' tables in the target schema; the result is loaded by `INSERT ... SELECT` in the
 * materialization's own transaction, so nothing is computed before the load and nothing is kept.
 */
import { TmError } from '../../core/errors.js';
import { withSession, type Target } from '../target.js';
import { pgContractGuard, pgContractViolation } from './lossless-cast.js';
import { inTargetTraits } from './traits.js';
import { ModelStatementError, statementPositionOf, type ComputeEngine, type ComputeSession } from './types.js';

export function inTargetEngine(target: Target): ComputeEngine {
  return {
    traits: inTargetTraits,
    connect: async () => inTargetSession(target),
    // Statements in flight are cancelled with the target's (state/run-registry.ts cancels the run's backends).
    interrupt: () => undefined,
    close: () => undefined,
  };
}

function inTargetSession(target: Target): ComputeSession {
  const { quoteIdent } = inTargetTraits.dialect;
  const refuse = (what: string) => () => Promise.reject(new TmError(`${what}: the ${inTargetTraits.label} engine computes models in the target and keeps nothing for the run`));
  return {
    run: (sql) => withSession(target, (s) => s.exec(sql)),
    all: <R>(sql: string) => withSession(target, (s) => s.query<R>(sql)),
    close: () => undefined,
    async compute({ model, sql }) {
      const columns = model.columns.map((c) => quoteIdent(c.name)).join(', ');
      return {
        loadInto: async (into, table) => {
          const statement = `WITH inserted AS (INSERT INTO ${table} (${columns}) SELECT ${columns} FROM (${sql}) AS m${pgContractGuard(model.columns)} RETURNING 1) SELECT count(*)::int AS n FROM inserted`;
          // An error placed in the statement, or a contract's, is the model's SQL's: it is mapped back to the
          // model. Others (a broken unique key) are the materialization's to explain.
          const rows = await into.query<{ n: number }>(statement).catch((err: unknown) => Promise.reject(statementPositionOf(err) !== undefined || pgContractViolation(err) ? new ModelStatementError(err, statement) : err));
          return rows[0]?.n ?? 0;
        },
        release: async () => undefined,
      };
    },
    keep: (name) => refuse(`model '${name}' cannot be kept for the run`)(),
    importTargetRows: ({ into }) => refuse(`cannot import rows into '${into}'`)(),
  };
}
