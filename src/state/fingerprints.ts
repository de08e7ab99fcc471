import { quoteIdent } from '../core/sql-quote.js';
import { qualified, transaction, withSession, type Target } from '../engines/target.js';
import { FINGERPRINT_PARTS } from '../graph/state-selection.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import { contractOf, fingerprintParts, type FingerprintParts, type StoredContract } from './model-fingerprint.js';
import { stateExists, stateSchemaOf } from './store.js';

/**
 * Each model's fingerprint parts as last built in this target, in `<schema>__tm_state.fingerprints`,
 * for `state:modified` from another target (`--state-from`). A table of its own beside `models`
 * (which holds incremental progress only): a state schema made before it gets it on the next run.
 */
export interface StoredFingerprint {
  readonly model: string;
  readonly parts: FingerprintParts;
  readonly contract: StoredContract;
  readonly builtAt: string;
}

/** What a target holds about the models it built. */
export interface TargetFingerprints {
  readonly fingerprints: ReadonlyMap<string, StoredFingerprint>;
  /** The whole-model hash of the older state (`models.model_hash`), for models built before parts were stored. */
  readonly legacyHashes: ReadonlyMap<string, string>;
  /** Tables and views in the target schema. */
  readonly relations: ReadonlySet<string>;
}

function table(targetSchema: string): string {
  return qualified(stateSchemaOf(targetSchema), 'fingerprints');
}

/** Per target: the parts last written per model, so a `--every` loop writes only what changed. */
const written = new WeakMap<Target, Map<string, string>>();

/** Records the fingerprints of models that just built successfully (not transactional with their rows: a lost write only makes them look modified). */
export async function recordFingerprints(target: Target, manifest: Manifest, models: readonly ModelNode[], runId: string): Promise<void> {
  const memo = written.get(target) ?? new Map<string, string>();
  written.set(target, memo);
  const rows = models.map((m) => ({ model: m.name, parts: fingerprintParts(m, manifest), contract: JSON.stringify(contractOf(m)) }));
  const fresh = rows.filter((r) => memo.get(r.model) !== JSON.stringify([r.parts, r.contract]));
  if (!fresh.length) return;
  await withSession(target, async (session) => {
    const schema = stateSchemaOf(target.schema);
    const t = table(target.schema);
    const [exists] = await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [t]);
    if (!exists?.ok) {
      await transaction(session, async (tx) => {
        if (target.sharedByProcesses) await tx.query(`SELECT pg_advisory_xact_lock(hashtext('tm_state'), hashtext($1))`, [schema]);
        await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await tx.exec(
          `CREATE TABLE IF NOT EXISTS ${t} (model TEXT PRIMARY KEY, ${FINGERPRINT_PARTS.map((p) => `${p} TEXT NOT NULL`).join(', ')},
            contract_columns TEXT NOT NULL, built_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'), run_id TEXT)`,
        );
      });
    }
    const column = (p: (typeof FINGERPRINT_PARTS)[number]) => fresh.map((r) => r.parts[p]);
    await session.query(
      `INSERT INTO ${t} (model, ${FINGERPRINT_PARTS.join(', ')}, contract_columns, built_at, run_id)
       SELECT m, b, c, k, v, x, ct, now() AT TIME ZONE 'UTC', $8
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS f(m, b, c, k, v, x, ct)
       ON CONFLICT (model) DO UPDATE SET ${FINGERPRINT_PARTS.map((p) => `${p} = EXCLUDED.${p}`).join(', ')}, contract_columns = EXCLUDED.contract_columns,
         built_at = EXCLUDED.built_at, run_id = EXCLUDED.run_id`,
      [fresh.map((r) => r.model), column('body'), column('config'), column('contract'), column('vars'), column('macros'), fresh.map((r) => r.contract), runId],
    );
  });
  for (const r of fresh) memo.set(r.model, JSON.stringify([r.parts, r.contract]));
}

/** Reads what the target holds; a target never built reads as empty (nothing is created). */
export async function readFingerprints(target: Target): Promise<TargetFingerprints> {
  return withSession(target, async (session) => {
    const rels = await session.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')`,
      [target.schema],
    );
    const relations = new Set(rels.map((r) => r.name));
    const fingerprints = new Map<string, StoredFingerprint>();
    const legacyHashes = new Map<string, string>();
    if (!(await stateExists(session, target.schema))) return { fingerprints, legacyHashes, relations };
    for (const r of await session.query<{ model: string; model_hash: string | null }>(`SELECT model, model_hash FROM ${qualified(stateSchemaOf(target.schema), 'models')}`)) {
      if (r.model_hash) legacyHashes.set(r.model, r.model_hash);
    }
    const [exists] = await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [table(target.schema)]);
    if (!exists?.ok) return { fingerprints, legacyHashes, relations };
    const rows = await session.query<Record<string, string>>(`SELECT model, ${FINGERPRINT_PARTS.join(', ')}, contract_columns, built_at::text AS built_at FROM ${table(target.schema)}`);
    for (const r of rows) {
      const parts = Object.fromEntries(FINGERPRINT_PARTS.map((p) => [p, r[p]])) as FingerprintParts;
      fingerprints.set(r.model, { model: r.model, parts, contract: JSON.parse(r.contract_columns) as StoredContract, builtAt: r.built_at });
    }
    return { fingerprints, legacyHashes, relations };
  });
}
