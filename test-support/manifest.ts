/** In-memory manifests for graph and selection tests: only the fields the graph reads are meaningful. */
import type { KindConfig, Manifest, ModelNode, SingularTestNode, SourceNode } from '../src/manifest/types.js';

export const PROJECT = 'proj';

export interface ModelSpec {
  readonly folders?: readonly string[];
  readonly refs?: readonly string[];
  readonly sources?: readonly string[];
  readonly tags?: readonly string[];
  /** Defaults to `models/<folders>/<name>.sql`. */
  readonly path?: string;
  /** Defaults to `replace`. */
  readonly kind?: KindConfig;
  /** Run values the SQL reads (e.g. `this_rows`). */
  readonly values?: readonly string[];
}

export function model(name: string, spec: ModelSpec = {}): ModelNode {
  const folders = spec.folders ?? [];
  return {
    kind: 'model',
    uniqueId: `model.${PROJECT}.${name}`,
    name,
    path: spec.path ?? ['models', ...folders, `${name}.sql`].join('/'),
    folders,
    description: '',
    rawSql: 'select 1',
    bodyLine: 1,
    config: { materialized: spec.kind?.materialized ?? 'replace', kind: spec.kind ?? { materialized: 'replace' }, engine: 'duckdb', tags: spec.tags ?? [], extra: {} },
    columns: [],
    primaryKey: [],
    indexes: [],
    tests: [],
    refs: spec.refs ?? [],
    sources: spec.sources ?? [],
    values: spec.values ?? [],
  };
}

export function source(name: string, spec: { readonly datePartition?: string; readonly clockColumn?: string } = {}): SourceNode {
  return {
    ...spec,
    kind: 'source',
    uniqueId: `source.${PROJECT}.${name}`,
    name,
    description: '',
    location: `lake/${name}`,
    format: 'parquet',
    hivePartitioning: false,
    columns: [],
    rules: [],
    quarantine: false,
    path: 'models/sources.yml',
  };
}

export function singularTest(name: string, spec: { refs?: readonly string[]; sources?: readonly string[] } = {}): SingularTestNode {
  return {
    kind: 'test',
    uniqueId: `test.${PROJECT}.${name}`,
    name,
    path: `tests/${name}.sql`,
    rawSql: 'select 1 where false',
    refs: spec.refs ?? [],
    sources: spec.sources ?? [],
    severity: 'error',
  };
}

export function manifest(nodes: readonly (ModelNode | SourceNode | SingularTestNode)[]): Manifest {
  const byName = <T extends { name: string }>(list: T[]): Map<string, T> => new Map(list.map((n) => [n.name, n]));
  return {
    projectName: PROJECT,
    projectDir: '/project',
    vars: {},
    models: byName(nodes.filter((n): n is ModelNode => n.kind === 'model')),
    sources: byName(nodes.filter((n): n is SourceNode => n.kind === 'source')),
    tests: byName(nodes.filter((n): n is SingularTestNode => n.kind === 'test')),
    dashboards: new Map(),
    macros: [],
  };
}
