import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TEST_RESULTS_FILE } from '../artifacts/test-results.js';
import { writeJsonAtomic } from '../artifacts/write-json.js';
import { CATALOG_SCHEMA, readCatalog, type Catalog, type CatalogRelation } from '../docs/catalog.js';
import { declaredTest, type DocsData } from '../docs/docs-data.js';
import { freshnessOf, type Freshness } from '../state/freshness.js';
import { renderDocsPage } from '../docs/render-page.js';
import { serveDocs, type DocsServer } from '../docs/serve.js';
import { TmError } from '../core/errors.js';
import { incrementalConfigOf } from '../manifest/kind-facts.js';
import { loadTargetConfig } from '../project/load-profile.js';
import { loadProjectConfig } from '../project/load-project.js';
import { collectTests } from '../quality/collect-tests.js';
import { readAllProgress, stateExists, type ModelProgress } from '../state/store.js';
import { compile } from './compile.js';
import { loadProjectContext, projectDirOf, type CommonOptions } from './project-context.js';
import { openTarget } from './runtime.js';
import { parseNow } from '../plan/time.js';

export interface DocsGenerateOptions extends CommonOptions {
  /** Wall clock that freshness ages are measured against (`--now`). */
  readonly now?: string;
}

export interface DocsGenerateOutcome {
  readonly indexPath: string;
  readonly catalogPath: string;
  readonly nodes: number;
  readonly relations: number;
  readonly seconds: number;
}

/**
 * `tm docs generate`: reads the target's relations (columns, exact row counts, sizes) and the
 * models' freshness into `target/catalog.json`, then writes `target/index.html` with the manifest,
 * the last run's and the last tests' results, the catalog and the compiled SQL embedded.
 */
export async function docsGenerate(options: DocsGenerateOptions): Promise<DocsGenerateOutcome> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const ctx = await loadProjectContext(options);
  const config = await loadTargetConfig(ctx.project.projectDir, options.target);
  const compiledDir = path.join(ctx.targetDir, 'compiled');
  // What the last run compiled is what ran; models it did not compile are rendered now.
  const models = [...ctx.manifest.models.values()];
  const missing = models.filter((m) => !existsSync(path.join(compiledDir, m.path))).map((m) => m.name);
  if (missing.length) await compile({ ...options, select: missing, schema: config.schema, now: options.now, log: () => undefined });

  const modelNames = new Map(models.map((m) => [m.name, m.uniqueId]));
  const target = await openTarget(config, 1);
  let relations: CatalogRelation[];
  let progress: ModelProgress[] = [];
  try {
    const session = await target.acquire();
    try {
      relations = await readCatalog(session, target.schema, (name) => modelNames.get(name) ?? null);
      if (await stateExists(session, target.schema)) progress = await readAllProgress(session, target.schema);
    } finally {
      await session.release();
    }
  } finally {
    await target.close();
  }
  const nowMs = parseNow(options.now).getTime();
  const progressOf = new Map(progress.map((p) => [p.model, p]));
  const freshness: Record<string, Freshness> = {};
  for (const m of models) {
    if (incrementalConfigOf(m) !== undefined || m.config.sla_minutes !== undefined) freshness[m.name] = freshnessOf(m, progressOf.get(m.name), nowMs);
  }
  const generatedAt = new Date().toISOString();
  const catalog: Catalog = {
    metadata: { schema: CATALOG_SCHEMA, generated_at: generatedAt, target: config.name, database_schema: target.schema },
    relations: Object.fromEntries(relations.map((r) => [r.name, r])),
    freshness,
  };
  const catalogPath = path.join(ctx.targetDir, 'catalog.json');
  await writeJsonAtomic(catalogPath, catalog);

  const compiled: Record<string, string> = {};
  for (const m of models) compiled[m.uniqueId] = await readOptional(path.join(compiledDir, m.path)) ?? '';
  for (const t of ctx.manifest.tests.values()) {
    const sql = await readOptional(path.join(compiledDir, 'tests', `${t.name}.sql`));
    if (sql) compiled[t.uniqueId] = sql;
  }
  const manifest = JSON.parse(await readFile(path.join(ctx.targetDir, 'manifest.json'), 'utf8')) as { nodes: Record<string, unknown> };
  const data: DocsData = {
    project: ctx.project.name,
    generated_at: generatedAt,
    target: { name: config.name, type: config.type, schema: target.schema },
    manifest,
    run_results: await readJsonOptional(path.join(ctx.targetDir, 'run_results.json')),
    test_results: await readJsonOptional(path.join(ctx.targetDir, TEST_RESULTS_FILE)),
    catalog,
    tests: collectTests(ctx.manifest).map(declaredTest),
    compiled,
  };
  const indexPath = path.join(ctx.targetDir, 'index.html');
  await writeFile(indexPath, renderDocsPage(data));
  const seconds = Math.round(performance.now() - started) / 1000;
  const nodes = Object.keys(manifest.nodes).length;
  log(`tm docs: ${nodes} nodes, ${relations.length} relations in ${target.schema} -> ${path.relative(process.cwd(), indexPath) || indexPath}, catalog.json (${seconds.toFixed(2)}s)`);
  return { indexPath, catalogPath, nodes, relations: relations.length, seconds };
}

export interface DocsServeOptions {
  readonly projectDir?: string;
  readonly port: number;
  readonly host: string;
  /** Host names besides the bound address the server answers to (core/local-server.ts). */
  readonly allowHosts?: readonly string[];
}

/** `tm docs serve`: serves what `tm docs generate` wrote; fails when there is nothing yet. */
export async function docsServe(options: DocsServeOptions): Promise<DocsServer> {
  const projectDir = projectDirOf(options);
  const project = await loadProjectConfig(projectDir);
  const targetDir = path.join(projectDir, project.targetPath);
  if (!existsSync(path.join(targetDir, 'index.html'))) throw new TmError(`no ${path.join(project.targetPath, 'index.html')} in ${projectDir}: run tm docs generate first`);
  return serveDocs(targetDir, options.host, options.port, options.allowHosts);
}

async function readOptional(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

async function readJsonOptional(file: string): Promise<unknown> {
  const text = await readOptional(file);
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new TmError(`${file} is not valid JSON (${(err as Error).message}): run the command that writes it again`);
  }
}
