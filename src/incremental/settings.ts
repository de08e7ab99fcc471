import { createHash } from 'node:crypto';
import { renderTemplate, type TemplateEnv } from '../compile/template-env.js';
import { quoteIdent } from '../engines/duckdb.js';
import { projectError, TmError } from '../errors.js';
import type { Manifest, ModelNode } from '../manifest/types.js';

/**
 * How an incremental model (upsert, snapshot, append) moves with the stream, from its config:
 *
 *   lookback_minutes    L: H = S - L (default 0). May be a template: "{{var 'hot_lookback_minutes'}}".
 *   max_catch_up_hours  H is never earlier than S minus this (default: no bound).
 *   source_since        earliest event time the model reads, a SQL expression over the run values
 *                       (default "{{hot_start}}"); the run reads only the date partitions from it on.
 *   reconciles          name of another incremental model whose table this model corrects (it writes
 *                       into that table, under that model's lock; nothing to do while the table is missing).
 */
export interface IncrementalSettings {
  readonly lookbackMinutes: number;
  readonly maxCatchUpHours: number;
  readonly sourceSince: string;
  readonly reconciles?: string;
}

export const INCREMENTAL: ReadonlySet<string> = new Set(['upsert', 'snapshot', 'append']);

export function isIncrementalModel(model: ModelNode): boolean {
  return INCREMENTAL.has(model.config.materialized);
}

export function incrementalSettings(model: ModelNode, manifest: Manifest, hb: TemplateEnv): IncrementalSettings {
  const extra = model.config.extra;
  const file = model.yamlPath ?? model.path;
  const number = (key: string, fallback: number): number => {
    const raw = extra[key];
    if (raw === undefined) return fallback;
    const text = typeof raw === 'string' ? renderConfigTemplate(hb, manifest, model, raw, {}) : String(raw);
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) throw projectError(file, `model '${model.name}': config ${key} must be a number >= 0, got '${text}'`);
    return n;
  };
  const sourceSince = extra.source_since ?? '{{hot_start}}';
  if (typeof sourceSince !== 'string') throw projectError(file, `model '${model.name}': config source_since must be a SQL expression (a string)`);
  const reconciles = extra.reconciles;
  if (reconciles !== undefined) {
    const other = typeof reconciles === 'string' ? manifest.models.get(reconciles) : undefined;
    if (!other || !isIncrementalModel(other)) throw projectError(file, `model '${model.name}': config reconciles must name an incremental model, got '${String(reconciles)}'`);
    const mine = model.columns.map((c) => `${c.name} ${c.type}`).join(', ');
    const theirs = other.columns.map((c) => `${c.name} ${c.type}`).join(', ');
    if (mine !== theirs) throw projectError(file, `model '${model.name}' reconciles '${other.name}' and must declare the same columns (${theirs})`);
  }
  return {
    lookbackMinutes: number('lookback_minutes', 0),
    maxCatchUpHours: number('max_catch_up_hours', Number.POSITIVE_INFINITY),
    sourceSince,
    reconciles: reconciles as string | undefined,
  };
}

/** Renders a template from a model's config with vars, helpers and the given values. */
export function renderConfigTemplate(hb: TemplateEnv, manifest: Manifest, model: ModelNode, text: string, values: Readonly<Record<string, string>>): string {
  return renderTemplate(hb, text, model.yamlPath ?? model.path, 0, {
    resolveRef: (name) => quoteIdent(name),
    resolveSource: (name) => {
      throw new TmError(`model '${model.name}': a config template cannot read source '${name}'`);
    },
    thisRelation: quoteIdent(model.name),
    isIncremental: true,
    vars: manifest.vars,
    config: model.config.extra,
    values,
  });
}

/** Fingerprint of what decides a model's rows besides its inputs: SQL, config, contract, vars and macros. */
export function modelFingerprint(model: ModelNode, manifest: Manifest): string {
  return createHash('sha1')
    .update(JSON.stringify([model.rawSql, model.config, model.columns, model.primaryKey, manifest.vars, manifest.macros.map((m) => m.text)]))
    .digest('hex')
    .slice(0, 16);
}
