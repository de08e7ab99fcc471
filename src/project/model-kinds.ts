import path from 'node:path';
import Handlebars from 'handlebars';
import { errorMessage, projectError } from '../core/errors.js';
import { lineInYamlEntry } from '../core/yaml-entry-line.js';
import { inputsOf } from '../graph/temp-models.js';
import type { IncrementalConfig, KindConfig, Manifest, Materialization, ModelNode, SourceDaysOf } from '../manifest/types.js';
import type { Obj } from './yaml-file.js';

/** Config keys each materialization owns; a key on another kind is an error, not silently ignored. */
const INCREMENTAL_KEYS = ['lookback_minutes', 'max_catch_up_hours', 'source_since', 'reconciles', 'source_days_of'];
export const KIND_KEYS: Readonly<Record<Materialization, readonly string[]>> = {
  replace: ['partition_by'],
  temp: ['as_view'],
  upsert: [...INCREMENTAL_KEYS, 'delete_where'],
  snapshot: INCREMENTAL_KEYS,
  append: INCREMENTAL_KEYS,
};
const ALL_KIND_KEYS = new Set(Object.values(KIND_KEYS).flat());

/** Where a model's config was declared, for `file:line` errors. */
export interface ConfigOrigin {
  readonly projectDir: string;
  /** Project-relative file (the model's YAML, else its SQL). */
  readonly file: string;
  readonly model: string;
}

/**
 * The typed config of the model's materialization, from its merged config. Templated numbers
 * (`"{{var 'hot_lookback_minutes'}}"`) are rendered here with the project's vars, so a bad value
 * fails the load, not a run.
 */
export function parseKindConfig(materialized: Materialization, o: Obj, vars: Readonly<Record<string, unknown>>, origin: ConfigOrigin): KindConfig {
  const fail = (key: string, message: string) => projectError(origin.file, `model '${origin.model}': config ${key} ${message}`, configLine(origin, key));
  for (const key of Object.keys(o)) {
    if (ALL_KIND_KEYS.has(key) && !KIND_KEYS[materialized].includes(key)) {
      const owners = (Object.keys(KIND_KEYS) as Materialization[]).filter((k) => KIND_KEYS[k].includes(key));
      throw fail(key, `applies to ${owners.join(', ')} models, not ${materialized}`);
    }
  }
  const text = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw fail(key, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const number = (key: string, fallback: number): number => {
    const raw = o[key];
    if (raw === undefined) return fallback;
    const rendered = typeof raw === 'string' ? renderWithVars(raw, vars, (m) => fail(key, m)) : String(raw);
    const n = Number(rendered);
    if (rendered.trim() === '' || !Number.isFinite(n) || n < 0) throw fail(key, `must be a number >= 0, got '${rendered}'`);
    return n;
  };
  switch (materialized) {
    case 'replace':
      return { materialized, partitionBy: text('partition_by') };
    case 'temp': {
      const asView = o.as_view ?? false;
      if (typeof asView !== 'boolean') throw fail('as_view', `must be true or false, got ${JSON.stringify(asView)}`);
      return { materialized, asView };
    }
    case 'upsert':
    case 'snapshot':
    case 'append': {
      const incremental: IncrementalConfig = {
        lookbackMinutes: number('lookback_minutes', 0),
        maxCatchUpHours: number('max_catch_up_hours', Number.POSITIVE_INFINITY),
        sourceSince: text('source_since') ?? '{{hot_start}}',
        reconciles: text('reconciles'),
        sourceDaysOf: sourceDaysOf(o.source_days_of, (m) => fail('source_days_of', m)),
      };
      return materialized === 'upsert' ? { materialized, incremental, deleteWhere: text('delete_where') } : { materialized, incremental };
    }
  }
}

/** A kind's settings under the names users write in YAML (`lookback_minutes`...), for artifacts and docs. */
export function kindSettings(kind: KindConfig): Record<string, unknown> {
  switch (kind.materialized) {
    case 'replace':
      return { partition_by: kind.partitionBy };
    case 'temp':
      return { as_view: kind.asView };
    default: {
      const i = kind.incremental;
      return {
        lookback_minutes: i.lookbackMinutes,
        max_catch_up_hours: Number.isFinite(i.maxCatchUpHours) ? i.maxCatchUpHours : undefined,
        source_since: i.sourceSince,
        reconciles: i.reconciles,
        source_days_of: i.sourceDaysOf,
        delete_where: kind.materialized === 'upsert' ? kind.deleteWhere : undefined,
      };
    }
  }
}

/** `source_days_of: { model: m, column: c }` */
function sourceDaysOf(raw: unknown, fail: (message: string) => Error): SourceDaysOf | undefined {
  if (raw === undefined) return undefined;
  const o = raw as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || typeof o.model !== 'string' || typeof o.column !== 'string' || Object.keys(o).length !== 2) {
    throw fail(`must be { model: <model name>, column: <timestamp or date column> }, got ${JSON.stringify(raw)}`);
  }
  return { model: o.model, column: o.column };
}

/**
 * `partition_by` names a DATE column of a model that reads only sources with a date partition (through
 * temp models): its rows of a day then come from that day's events alone. `source_days_of` names a model
 * and one of its columns.
 */
export function checkPartitioning(manifest: Manifest): void {
  const { models, sources } = manifest;
  for (const model of models.values()) {
    const file = model.yamlPath ?? model.path;
    const kind = model.config.kind;
    const days = 'incremental' in kind ? kind.incremental.sourceDaysOf : undefined;
    if (days) {
      const other = models.get(days.model);
      if (!other) throw projectError(file, `model '${model.name}': config source_days_of names model '${days.model}', which does not exist`);
      if (!other.columns.some((c) => c.name === days.column)) throw projectError(file, `model '${model.name}': config source_days_of column '${days.column}' is not a column of '${days.model}'`);
    }
    if (kind.materialized !== 'replace' || kind.partitionBy === undefined) continue;
    const column = model.columns.find((c) => c.name === kind.partitionBy);
    if (!column || !/^date$/i.test(column.type.trim())) {
      throw projectError(file, `model '${model.name}': config partition_by '${kind.partitionBy}' must name one of its DATE columns`);
    }
    const inputs = inputsOf(manifest, model);
    // Names of no model or source are left to the graph, which reports them with a suggestion.
    const tables = [...inputs.tables].filter((t) => models.has(t));
    const undated = [...inputs.sources].filter((s) => sources.has(s) && !sources.get(s)?.datePartition);
    if (tables.length || undated.length) {
      throw projectError(file, `model '${model.name}': config partition_by needs a model that reads only sources with a date_partition (through temp models)${tables.length ? `, not the tables of ${tables.join(', ')}` : ''}${undated.length ? `; ${undated.join(', ')} has none` : ''}`);
    }
  }
}

/** A model that reconciles another must name an incremental model with the same columns. */
export function checkReconciles(models: ReadonlyMap<string, ModelNode>): void {
  for (const model of models.values()) {
    const kind = model.config.kind;
    const name = 'incremental' in kind ? kind.incremental.reconciles : undefined;
    if (name === undefined) continue;
    const origin = { projectDir: '', file: model.yamlPath ?? model.path, model: model.name };
    const other = models.get(name);
    if (!other || !('incremental' in other.config.kind)) {
      throw projectError(origin.file, `model '${model.name}': config reconciles must name an incremental model, got '${name}'`);
    }
    const mine = model.columns.map((c) => `${c.name} ${c.type}`).join(', ');
    const theirs = other.columns.map((c) => `${c.name} ${c.type}`).join(', ');
    if (mine !== theirs) throw projectError(origin.file, `model '${model.name}' reconciles '${other.name}' and must declare the same columns (${theirs})`);
  }
}

/** What the `var` helper reads while one value renders. */
interface VarsContext {
  readonly vars: Readonly<Record<string, unknown>>;
  readonly fail: (message: string) => Error;
}

/**
 * One environment and one compile per text for the process: models share a few templated values
 * (every hot model's `lookback_minutes`), and a fresh run's compiles were ~10 ms of its load.
 */
const varsEnv = Handlebars.create();
varsEnv.registerHelper('var', (...args: unknown[]) => {
  const options = args.pop() as Handlebars.HelperOptions;
  const { vars, fail } = (options.data as { root: { __vars: VarsContext } }).root.__vars;
  const [name, fallback] = args as [string, unknown];
  if (Object.hasOwn(vars, name)) return vars[name];
  if (args.length > 1) return fallback;
  throw fail(`reads var '${name}', which is not defined (set it in project.yml vars or with --vars)`);
});
const varsTemplates = new Map<string, Handlebars.TemplateDelegate>();

function renderWithVars(text: string, vars: Readonly<Record<string, unknown>>, fail: (message: string) => Error): string {
  if (!text.includes('{{')) return text;
  try {
    let template = varsTemplates.get(text);
    if (!template) varsTemplates.set(text, (template = varsEnv.compile(text, { noEscape: true, strict: true })));
    return template({ __vars: { vars, fail } satisfies VarsContext });
  } catch (err) {
    if (err instanceof Error && err.name === 'TmError') throw err;
    throw fail(`is not a valid template: ${errorMessage(err).split('\n')[0]}`);
  }
}

/** Line of `key:` under the model's entry in its YAML file (best effort: errors only). */
function configLine(origin: ConfigOrigin, key: string): number | undefined {
  if (!origin.projectDir || !/\.ya?ml$/.test(origin.file)) return undefined;
  return lineInYamlEntry(path.join(origin.projectDir, origin.file), origin.model, new RegExp(`^\\s*${key}:`));
}
