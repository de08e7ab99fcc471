/**
 * The shapes of tm's keyed YAML files. The loaders check every file against these (yaml-shape.ts) and
 * `npm run schemas` writes `schemas/<id>.schema.json` from them.
 */
import { ENGINE_NAMES } from '../engines/compute/traits.js';
import { CHART_FORMS, TIME_GRAINS } from '../manifest/dashboard-types.js';
import { toJsonSchema, type Shape, type ShapeDocument } from './yaml-shape.js';

const str = (description?: string): Shape => ({ type: 'string', description });
const text = (description?: string): Shape => ({ type: 'string', minLength: 1, description });
const bool = (description?: string): Shape => ({ type: 'boolean', description });
const any = (description?: string): Shape => ({ type: 'any', description });
const ref = (name: string, description?: string): Shape => ({ type: 'ref', name, description });
const listOf = (items: Shape, description?: string): Shape => ({ type: 'list', items, nullable: true, description });
const mapping = (keys: Record<string, Shape>, required: readonly string[] = [], description?: string): Shape => ({ type: 'mapping', keys, required, description });
const stringOrList: Shape = { type: 'oneOf', options: [{ type: 'string' }, { type: 'list', items: { type: 'string' } }] };

/** A list of generic tests: a name (`not_null`) or `{name: {args}}`. */
const tests = (description: string): Shape =>
  listOf({ type: 'oneOf', options: [{ type: 'string', minLength: 1 }, { type: 'dictionary', minKeys: 1, maxKeys: 1, values: { type: 'dictionary', nullable: true, values: { type: 'any' } } }] }, description);

/** A freshness threshold: a duration (`5m`; a bare number is minutes) or dbt's `{count, period}`. */
const lagAfter: Shape = {
  type: 'oneOf',
  options: [{ type: 'scalar', of: ['string', 'number'] }, mapping({ count: { type: 'number' }, period: { type: 'enum', values: ['minute', 'hour', 'day'] } }, ['count', 'period'])],
};
const lagThresholds = (description: string): Shape => mapping({ warn_after: lagAfter, error_after: lagAfter }, [], description);
/** `freshness:` of a model or a source (docs/freshness.md). */
const freshness: Shape = mapping({
  warn_after: { ...lagAfter, description: 'Data lag past which tm status warns (exit 1).' },
  error_after: { ...lagAfter, description: 'Data lag past which tm status reports an error (exit 1).' },
  data_lag: lagThresholds('Now (or the source\'s newest event, --relative-to stream) minus the stream clock reached.'),
  arrival_lag: lagThresholds('Now minus the newest file\'s modification time in the source\'s listing.'),
  pipeline_lag: lagThresholds('Now minus the last successful run or check.'),
}, [], 'Thresholds on the lags tm status and tm source freshness report.');

export const MATERIALIZATIONS = ['replace', 'upsert', 'snapshot', 'append', 'temp'] as const;

const hotOnly = 'upsert, snapshot, append: ';

/** A model's config: in its YAML entry, its SQL front matter or `{{config ...}}` of its template. */
export const MODEL_CONFIG_SHAPE: Shape = {
  type: 'mapping',
  nullable: true,
  description: 'Known keys only (a materialization\'s own keys are refused on another kind, at load); free values for templates go under meta.',
  keys: {
    materialized: { type: 'enum', values: MATERIALIZATIONS, description: 'replace (default): rebuilt and swapped in; upsert/append/snapshot: incremental; temp: DuckDB only, for this run.' },
    engine: { type: 'enum', values: ENGINE_NAMES, description: 'Where the SQL runs (default: duckdb); spark needs a spark: block in profiles.yml.' },
    tags: stringOrList,
    unique_key: stringOrList,
    snapshot_key: str(),
    retention: mapping({ column: text(), keep_after: text() }, ['column', 'keep_after']),
    sla_minutes: { type: 'number', description: 'Freshness SLA for tm status and tm docs.' },
    freshness,
    meta: { type: 'dictionary', nullable: true, values: { type: 'any' }, description: 'Free values for templates: {{config "x"}} reads meta\'s x.' },
    lookback_minutes: { type: 'scalar', of: ['number', 'string'], description: `${hotOnly}L in minutes (H = S - L); a number or a template such as "{{var 'x'}}", rendered with the vars at load.` },
    max_catch_up_hours: { type: 'scalar', of: ['number', 'string'], description: `${hotOnly}H is never earlier than S minus this many hours (default: no bound).` },
    source_since: str(`${hotOnly}earliest event time read, a DuckDB expression over the run values (default {{hot_start}}).`),
    reconciles: str(`${hotOnly}another incremental model whose table this one corrects.`),
    delete_where: str('upsert: stored rows (alias existing; the run\'s rows are {{incoming}}) deleted before the upsert.'),
    as_view: bool('temp: a DuckDB view readers inline, instead of a table.'),
    partition_by: str('replace: a DATE column; the model\'s rows of a day come from that day\'s events alone, so a cold run recomputes only the days whose files changed.'),
    source_days_of: mapping({ model: str(), column: str() }, ['model', 'column'], `${hotOnly}read whole the source days that this model's column holds (reconciliation).`),
  },
};

export const MODEL_SHAPES: ShapeDocument = {
  id: 'model',
  title: 'tm model YAML (models/**/*.yml)',
  description: 'Contracts of models: columns with PostgreSQL types, keys, indexes, config and tests. Each entry names a .sql file of the same name.',
  root: mapping({ version: { type: 'scalar', of: ['string', 'number'] }, models: listOf(ref('model')) }),
  definitions: {
    stringOrList,
    tests: tests('Generic tests: not_null, unique, accepted_values, accepted_range, relationships, row_count, expression, recency... as a name or {name: {args}}.'),
    model: mapping({
      name: text('The model\'s SQL file name without .sql.'),
      description: str(),
      config: ref('config'),
      primary_key: ref('stringOrList'),
      indexes: listOf({ type: 'oneOf', options: [{ type: 'string' }, { type: 'list', items: { type: 'string' } }, mapping({ columns: ref('stringOrList'), unique: bool() }, ['columns'])] }),
      columns: listOf(mapping({
        name: text(),
        type: text('PostgreSQL type: INT, BIGINT, VARCHAR(50), DECIMAL(12,2), DATE, TIMESTAMP...'),
        description: str(),
        tests: ref('tests'),
      }, ['name', 'type'])),
      tests: ref('tests'),
      unit_tests: listOf(ref('unitTest'), 'Unit tests (tm test --unit): given rows of sources and upstream models, the expected relation of the model after a run.'),
    }, ['name']),
    config: MODEL_CONFIG_SHAPE,
    rows: listOf({ type: 'dictionary', values: { type: 'any' } }, 'Rows: each a mapping of column to value (null for NULL).'),
    unitTest: mapping({
      name: text('Name of the test (unique within the model).'),
      description: str(),
      now: str('Wall-clock time of the run (UTC), as --now.'),
      vars: { type: 'dictionary', nullable: true, values: { type: 'any' }, description: 'Project variables for this test, as --vars (e.g. a threshold small enough for a few rows).' },
      given: listOf(mapping({
        source: str('A source: its rows are written as Parquet files into a throwaway folder laid out like its location.'),
        ref: str('An upstream model: its rows stand in the target before the run.'),
        rows: ref('rows', 'Rows of the ref; for a source, laid out by its date partition (one file per day).'),
        files: { type: 'dictionary', values: ref('rows'), description: 'For a source: file path under its location (e.g. event_date=2020-11-10/a.parquet) -> its rows.' },
      })),
      expect: mapping({ rows: ref('rows'), ignore_columns: listOf(str(), 'Columns not compared (e.g. updated_at).') }, ['rows']),
    }, ['name', 'expect']),
  },
};

const paths = (description: string): Shape => ({ ...stringOrList, description });

export const PROJECT_SHAPES: ShapeDocument = {
  id: 'project',
  title: 'tm project.yml',
  description: 'A tm project: its name, where models, macros and tests live, variables and sources (Parquet files with a contract).',
  root: mapping({
    name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Project name, a plain identifier; part of every node id.' },
    version: { type: 'scalar', of: ['string', 'number'], description: 'Your project\'s version (informational).' },
    profile: str('Informational; targets come from profiles.yml beside project.yml.'),
    'model-paths': paths('Folders of model SQL and YAML (default: [models]).'),
    'macro-paths': paths('Folders of macros: .sql/.hbs partials and .js helpers (default: [macros]).'),
    'test-paths': paths('Folders of singular tests (default: [tests]).'),
    'target-path': str('Folder for compiled SQL and artifacts (default: target).'),
    vars: { type: 'dictionary', nullable: true, values: { type: 'any' }, description: 'Variable defaults for {{var "x"}}; --vars overrides them.' },
    env_allowed: listOf({ type: 'string' }, 'Env vars models may read with {{env "X"}} (profiles and source locations read any).'),
    secrets: listOf({ type: 'string' }, 'Env vars and vars whose values are never written to an artifact or printed.'),
    sources: { type: 'dictionary', nullable: true, values: ref('source'), description: 'Sources by name: {{source "name"}} in models.' },
  }, ['name']),
  definitions: {
    source: mapping({
      description: str(),
      location: text('A folder (relative to the project) or s3://bucket/prefix; may use {{ env \'X\' default=\'...\' }}.'),
      format: { type: 'enum', values: ['parquet'] },
      hive_partitioning: bool('Read key=value folders as columns (default: true).'),
      date_partition: str('Partition column holding the date, for pruning by time windows.'),
      clock_column: str('Timestamp column giving the source\'s clock (incremental models).'),
      quarantine: bool('Keep excluded rows in a quarantine table of the audit schema.'),
      freshness,
      dedup: mapping({ key: text(), order: text() }, ['key', 'order'], 'Copies of one key are one row: the earliest valid copy by `order` wins.'),
      columns: listOf(mapping({
        name: text(),
        type: str('DuckDB type family expected in the files: VARCHAR, BIGINT, DOUBLE, TIMESTAMP, DATE...'),
        required: bool('A file without this column is skipped (default: true).'),
        description: str(),
        tests: ref('tests'),
      }, ['name'])),
      rules: listOf(mapping({ name: text(), check: text('DuckDB boolean expression over the source\'s columns.'), description: str() }, ['name', 'check']), 'Row rules: rows for which `check` is not TRUE are excluded and counted per rule.'),
      tests: ref('tests'),
    }, ['location']),
    tests: tests('Generic tests: a name (not_null, unique) or {name: {args}}.'),
  },
};

const duckdbSettings: Shape = {
  type: 'mapping',
  nullable: true,
  description: 'DuckDB settings for compute (a target\'s own block overrides the file\'s).',
  keys: {
    memory_limit: str('e.g. 1GB (the default), 600MB'),
    threads: { type: 'number', minimum: 1 },
    temp_directory: str('Spill folder, relative to the project (default: .tm/duckdb_tmp).'),
    batch_input: str('Source bytes (Parquet, as listed) one query of a partition-aware model reads; more days are computed in batches of days (default: a quarter of memory_limit).'),
  },
};

const sparkSettings: Shape = {
  type: 'mapping',
  nullable: true,
  description: 'The Spark cluster models with engine: spark run on (a target\'s own block overrides the file\'s).',
  keys: {
    connect: text('Spark Connect address, e.g. sc://127.0.0.1:15002; may read the environment.'),
    output: text('Folder the cluster writes results to and tm reads them from (both must reach it), relative to the project.'),
    conf: { type: 'dictionary', nullable: true, values: { type: 'scalar', of: ['string', 'number', 'boolean'] }, description: 'Spark SQL conf set on the session (the time zone is UTC unless given).' },
  },
};

export const PROFILES_SHAPES: ShapeDocument = {
  id: 'profiles',
  title: 'tm profiles.yml',
  description: 'Targets a tm project builds into: PGlite (embedded) or a PostgreSQL server. Strings may read the environment: {{ env \'TM_PG_URL\' }}.',
  root: mapping({
    default_target: str('Target used without --target (default: the first).'),
    duckdb: ref('duckdb'),
    spark: ref('spark'),
    targets: { type: 'dictionary', minKeys: 1, values: ref('target') },
  }, ['targets']),
  definitions: {
    duckdb: duckdbSettings,
    spark: sparkSettings,
    target: {
      type: 'mapping',
      required: ['type'],
      requiredWhen: { key: 'type', equals: 'postgres', required: ['url'] },
      keys: {
        type: { type: 'enum', values: ['pglite', 'postgres'] },
        path: str('pglite: data folder, relative to the project (default: .tm/pglite).'),
        url: str('postgres: connection URL; read it from the environment: "{{ env \'TM_PG_URL\' }}".'),
        schema: str('Schema of the models\' tables (default: public).'),
        threads: { type: 'number', minimum: 1, description: 'postgres: models built at once (default: 4).' },
        duckdb: ref('duckdb'),
        spark: ref('spark'),
      },
    },
  },
};

/**
 * Dashboards: the keys are checked here; the values (names of models and columns, metrics, filters) by
 * the dashboard loader, which knows the contracts they must match.
 */
export const DASHBOARD_SHAPES: ShapeDocument = {
  id: 'dashboards',
  title: 'tm dashboards (dashboards/**/*.yml)',
  description: 'Dashboards over the marts: charts of a model\'s contract columns, for tm\'s page and Superset.',
  root: mapping({ dashboards: { type: 'list', items: ref('dashboard') } }, ['dashboards']),
  definitions: {
    dashboard: mapping({
      name: text('A word of letters, digits and _.'),
      title: str(),
      description: str(),
      refresh_seconds: { type: 'number', minimum: 0 },
      charts: { type: 'list', nullable: true, items: ref('chart') },
    }),
    chart: mapping({
      name: text(),
      title: str(),
      description: str(),
      model: text('The model whose table the chart reads.'),
      form: any(`One of ${CHART_FORMS.join(', ')}.`),
      x: any('A column of the model (time or category).'),
      time_grain: any(`One of ${TIME_GRAINS.join(', ')}.`),
      y: any('A column of the model (heatmap).'),
      column: any('A numeric column (histogram, box_plot).'),
      bins: any('Histogram bins, a whole number.'),
      columns: any('Columns shown raw (table).'),
      metrics: listOf({ type: 'oneOf', options: [{ type: 'string' }, mapping({ sql: any(), label: any() })] }, 'Aggregates: "sum(col)", "count(*)", or {sql, label}.'),
      group_by: any('Columns to group by.'),
      series_limit: any('Largest series kept, a whole number.'),
      filters: { type: 'list', nullable: true, items: mapping({ column: any(), op: any(), value: any() }) },
      latest: any('Only the newest value of x.'),
      recent: mapping({ column: any(), last: any() }),
      order_by: any('Columns or metric labels, with desc.'),
      row_limit: any('Rows shown at most.'),
      place: mapping({ row: any(), width: any(), height: any() }, [], 'Where on the 12-column grid.'),
    }),
  },
};

/** Every shape document, written to `schemas/` by `npm run schemas`. */
export const SHAPE_DOCUMENTS: readonly ShapeDocument[] = [PROJECT_SHAPES, PROFILES_SHAPES, MODEL_SHAPES, DASHBOARD_SHAPES];

/** The files of `schemas/`, as `npm run schemas` writes them: `<id>.schema.json` and its text. */
export function schemaFiles(): { readonly file: string; readonly text: string }[] {
  return SHAPE_DOCUMENTS.map((doc) => ({ file: `${doc.id}.schema.json`, text: `${JSON.stringify(toJsonSchema(doc), null, 2)}\n` }));
}
