import path from 'node:path';
import { writableVars } from '../compile/secrets.js';
import type { Manifest } from '../manifest/types.js';
import { kindSettings } from '../project/model-kinds.js';
import { writeJsonAtomic } from './write-json.js';

export const MANIFEST_SCHEMA = 'tm/manifest/v1';

/** `target/manifest.json`: the parsed project, for tools and for reading what tm understood. */
export async function writeManifestArtifact(targetDir: string, manifest: Manifest, parentsOf: (id: string) => string[]): Promise<void> {
  const nodes: Record<string, unknown> = {};
  for (const m of manifest.models.values()) {
    // Config in the words of the YAML: the kind's typed settings under their YAML names.
    const { kind, extra, ...common } = m.config;
    const config = { ...common, ...kindSettings(kind), ...extra };
    nodes[m.uniqueId] = {
      kind: m.kind, name: m.name, path: m.path, folders: m.folders, description: m.description, config,
      columns: m.columns, primary_key: m.primaryKey, indexes: m.indexes, tests: m.tests, depends_on: parentsOf(m.uniqueId),
    };
  }
  for (const s of manifest.sources.values()) {
    nodes[s.uniqueId] = {
      kind: s.kind, name: s.name, path: s.path, description: s.description, location: s.location, format: s.format,
      columns: s.columns, rules: s.rules, dedup: s.dedup, tests: s.tests ?? [],
    };
  }
  for (const t of manifest.tests.values()) {
    nodes[t.uniqueId] = { kind: t.kind, name: t.name, path: t.path, severity: t.severity, depends_on: parentsOf(t.uniqueId) };
  }
  for (const d of manifest.dashboards.values()) {
    nodes[d.uniqueId] = {
      kind: d.kind, name: d.name, path: d.path, title: d.title, description: d.description, refresh_seconds: d.refreshSeconds,
      charts: d.charts, depends_on: parentsOf(d.uniqueId),
    };
  }
  await writeJsonAtomic(path.join(targetDir, 'manifest.json'), {
    metadata: { schema: MANIFEST_SCHEMA, project: manifest.projectName, generated_at: new Date().toISOString() },
    vars: writableVars(manifest),
    nodes,
  });
}
