/**
 * A Superset import bundle (format v1): `<root>/metadata.yaml`, `databases/`, `datasets/`, `charts/`,
 * `dashboards/`. Only keys that Superset 3.1's ImportV1*Schema know are written (marshmallow rejects
 * unknown ones), and uuids come from names, so a re-import overwrites rather than duplicates.
 * `metadata.yaml` says `type: assets`: the bundle is for the assets import (`POST /api/v1/assets/import/`,
 * what deploy/superset/import_bundle.py calls), the one route that overwrites charts, datasets and
 * databases too; the dashboard import routes would keep an existing chart's old version.
 */
import { isTimeType } from '../../manifest/column-types.js';
import type { Manifest, ModelNode } from '../../manifest/types.js';
import { FORMS } from '../forms/index.js';
import { conditions, metricExpression } from '../sql.js';
import type { ChartSpec, DashboardNode, Metric } from '../../manifest/dashboard-types.js';
import { adhocSqlFilter } from './adhoc.js';
import { uuidFromName } from './uuid.js';

const VERSION = '1.0.0';

export interface BundleInput {
  readonly manifest: Manifest;
  readonly dashboards: readonly DashboardNode[];
  /** Schema of the mart tables in the database Superset reads. */
  readonly schema: string;
  readonly databaseName: string;
  /** SQLAlchemy URI with the password already masked (or absent). */
  readonly sqlalchemyUri: string;
  readonly timestamp: Date;
}

/** Bundle files by path below the root folder, as YAML-ready objects. */
export interface Bundle {
  readonly root: string;
  readonly files: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

export function buildBundle(input: BundleInput): Bundle {
  const { manifest, schema } = input;
  const files = new Map<string, Record<string, unknown>>();
  const project = manifest.projectName;
  const databaseUuid = uuidFromName(`tm:${project}:database:${input.databaseName}`);
  const databaseFile = safeName(input.databaseName);
  files.set('metadata.yaml', { version: VERSION, type: 'assets', timestamp: input.timestamp.toISOString().replace(/\.\d{3}Z$/, '+00:00') });
  files.set(`databases/${databaseFile}.yaml`, {
    database_name: input.databaseName,
    sqlalchemy_uri: input.sqlalchemyUri,
    cache_timeout: null,
    expose_in_sqllab: true,
    allow_run_async: false,
    allow_ctas: false,
    allow_cvas: false,
    allow_dml: false,
    // Older importers pop this key and read `extra` unconditionally: both are always written.
    allow_csv_upload: false,
    extra: { metadata_params: {}, engine_params: {}, metadata_cache_timeout: {}, schemas_allowed_for_csv_upload: [] },
    uuid: databaseUuid,
    version: VERSION,
  });

  const charts = input.dashboards.flatMap((d) => d.charts.map((chart) => ({ dashboard: d, chart })));
  const modelNames = [...new Set(charts.map((c) => c.chart.model))].sort();
  const datasetUuids = new Map<string, string>();
  for (const name of modelNames) {
    const model = manifest.models.get(name) as ModelNode;
    const uuid = uuidFromName(`tm:${project}:dataset:${input.databaseName}.${schema}.${name}`);
    datasetUuids.set(name, uuid);
    const metrics = savedMetrics(charts.filter((c) => c.chart.model === name).map((c) => c.chart));
    files.set(`datasets/${databaseFile}/${name}.yaml`, datasetYaml(model, schema, uuid, databaseUuid, metrics));
  }

  for (const dashboard of input.dashboards) {
    const chartUuids = new Map<string, string>();
    for (const chart of dashboard.charts) {
      const uuid = uuidFromName(`tm:${project}:chart:${dashboard.name}.${chart.name}`);
      chartUuids.set(chart.name, uuid);
      files.set(`charts/${dashboard.name}__${chart.name}.yaml`, chartYaml(manifest, schema, chart, uuid, datasetUuids.get(chart.model) as string));
    }
    files.set(`dashboards/${dashboard.name}.yaml`, {
      dashboard_title: dashboard.title,
      description: dashboard.description || null,
      css: '',
      slug: dashboard.name.replace(/_/g, '-'),
      uuid: uuidFromName(`tm:${project}:dashboard:${dashboard.name}`),
      position: positionOf(dashboard, chartUuids),
      metadata: {
        refresh_frequency: dashboard.refreshSeconds,
        timed_refresh_immune_slices: [],
        expanded_slices: {},
        label_colors: {},
      },
      version: VERSION,
      published: true,
    });
  }
  return { root: `tm_${safeName(project)}_dashboards`, files };
}

function datasetYaml(model: ModelNode, schema: string, uuid: string, databaseUuid: string, metrics: readonly Record<string, unknown>[]): Record<string, unknown> {
  const timeColumn = model.columns.find((c) => isTimeType(c.type));
  return {
    table_name: model.name,
    main_dttm_col: timeColumn?.name ?? null,
    description: model.description || null,
    default_endpoint: null,
    offset: 0,
    cache_timeout: null,
    schema,
    sql: null,
    params: null,
    template_params: null,
    filter_select_enabled: true,
    fetch_values_predicate: null,
    extra: null,
    uuid,
    metrics,
    columns: model.columns.map((c) => ({
      column_name: c.name,
      verbose_name: null,
      is_dttm: isTimeType(c.type),
      is_active: true,
      type: c.type.toUpperCase(),
      groupby: true,
      filterable: true,
      expression: null,
      description: c.description ?? null,
      python_date_format: null,
    })),
    version: VERSION,
    database_uuid: databaseUuid,
  };
}

/** The aggregate metrics the dataset's charts use, plus `count`, as saved metrics (Superset's `sum__x` names). */
function savedMetrics(charts: readonly ChartSpec[]): Record<string, unknown>[] {
  const byName = new Map<string, Record<string, unknown>>();
  const add = (name: string, metric: Metric): void => {
    if (byName.has(name)) return;
    byName.set(name, { metric_name: name, verbose_name: metric.label === name ? null : metric.label, metric_type: metric.kind === 'aggregate' ? metric.aggregate : null, expression: metricExpression(metric), description: null, d3format: null, warning_text: null });
  };
  add('count', { kind: 'aggregate', aggregate: 'count', column: null, label: 'count' });
  for (const chart of charts) {
    for (const metric of chart.metrics) {
      if (metric.kind === 'aggregate' && metric.column !== null) add(`${metric.aggregate}__${metric.column}`, metric);
    }
  }
  return [...byName.values()];
}

function chartYaml(manifest: Manifest, schema: string, chart: ChartSpec, uuid: string, datasetUuid: string): Record<string, unknown> {
  const model = manifest.models.get(chart.model) as ModelNode;
  const form = FORMS[chart.form];
  const table = `"${schema.replace(/"/g, '""')}"."${model.name}"`;
  const params = {
    // The importer replaces `datasource` with the imported dataset's id.
    datasource: '1__table',
    viz_type: form.vizType,
    ...form.supersetParams(chart, { table, model }),
    // The page's own WHERE conditions, as SQL filters: both read the same rows.
    adhoc_filters: conditions(chart, table).map(adhocSqlFilter),
    extra_form_data: {},
  };
  return {
    slice_name: chart.title,
    description: chart.description || null,
    viz_type: form.vizType,
    params,
    query_context: null,
    cache_timeout: null,
    uuid,
    version: VERSION,
    dataset_uuid: datasetUuid,
  };
}

/** The dashboard's layout (position v2): rows of the 12-column grid, each CHART with its uuid and an integer chartId. */
export function positionOf(dashboard: DashboardNode, chartUuids: ReadonlyMap<string, string>): Record<string, unknown> {
  const position: Record<string, unknown> = {
    DASHBOARD_VERSION_KEY: 'v2',
    ROOT_ID: { type: 'ROOT', id: 'ROOT_ID', children: ['GRID_ID'] },
    HEADER_ID: { type: 'HEADER', id: 'HEADER_ID', meta: { text: dashboard.title } },
  };
  const rows = [...new Set(dashboard.charts.map((c) => c.place.row))].sort((a, b) => a - b);
  const rowIds = rows.map((r) => `ROW-${r}`);
  position.GRID_ID = { type: 'GRID', id: 'GRID_ID', children: rowIds, parents: ['ROOT_ID'] };
  dashboard.charts.forEach((chart, i) => {
    const rowId = `ROW-${chart.place.row}`;
    const chartId = `CHART-${chart.name}`;
    position[chartId] = {
      type: 'CHART',
      id: chartId,
      children: [],
      parents: ['ROOT_ID', 'GRID_ID', rowId],
      meta: { chartId: i + 1, uuid: chartUuids.get(chart.name), sliceName: chart.title, width: chart.place.width, height: chart.place.height },
    };
  });
  for (const [i, row] of rows.entries()) {
    position[rowIds[i]] = {
      type: 'ROW',
      id: rowIds[i],
      children: dashboard.charts.filter((c) => c.place.row === row).map((c) => `CHART-${c.name}`),
      parents: ['ROOT_ID', 'GRID_ID'],
      meta: { background: 'BACKGROUND_TRANSPARENT' },
    };
  }
  return position;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_');
}
