import { TmError } from '../core/errors.js';
import { loadDashboards } from './load-dashboards.js';
import { loadModels } from './load-models.js';
import { checkIdentifierLengths } from './identifier-length.js';
import { checkPartitioning, checkReconciles } from './model-kinds.js';
import type { ProjectConfig } from './load-project.js';
import { loadMacros, loadSingularTests } from './load-tests-and-macros.js';
import type { Manifest } from '../manifest/types.js';

/** Parse stage: project files -> manifest (names unique across models and sources). */
export async function buildManifest(project: ProjectConfig, cliVars: Readonly<Record<string, unknown>>): Promise<Manifest> {
  const vars = { ...project.vars, ...cliVars };
  const [models, tests, macros] = await Promise.all([loadModels(project, vars), loadSingularTests(project), loadMacros(project)]);
  const sourceNames = new Set(project.sources.map((s) => s.name));
  for (const m of models) {
    if (sourceNames.has(m.name)) throw new TmError(`${m.path}: model '${m.name}' has the name of a source`);
  }
  checkIdentifierLengths(models);
  const byName = new Map(models.map((m) => [m.name, m]));
  checkReconciles(byName);
  // Checked against the models' contracts as they load: a wrong name never waits for Superset.
  const dashboards = await loadDashboards(project.projectDir, project.name, byName);
  const manifest: Manifest = {
    projectName: project.name,
    projectDir: project.projectDir,
    vars,
    envAllowed: project.envAllowed,
    secrets: project.secrets,
    models: byName,
    sources: new Map(project.sources.map((s) => [s.name, s])),
    tests: new Map(tests.map((t) => [t.name, t])),
    dashboards: new Map(dashboards.map((d) => [d.name, d])),
    macros,
  };
  checkPartitioning(manifest);
  return manifest;
}
