/**
 * `tm dashboards export|build|serve`: the project's dashboards as a Superset import bundle, as a
 * self-contained page drawn from the target's marts, and as that page served live.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import YAML from 'yaml';
import { supersetUri } from '../dashboards/database-uri.js';
import { allowedHosts, refuseRequest } from '../core/local-server.js';
import { shareFile } from '../core/file-modes.js';
import { dashboardData, jsonForScript, renderPage, type DashboardData } from '../dashboards/page.js';
import { runCharts, type ChartResult } from '../dashboards/run-charts.js';
import { buildBundle } from '../dashboards/superset/bundle.js';
import type { DashboardNode } from '../manifest/dashboard-types.js';
import { zip } from '../dashboards/zip.js';
import type { Target } from '../engines/target.js';
import { EXIT_FAILED, EXIT_OK, TmError } from '../core/errors.js';
import { selectNodes } from '../graph/select.js';
import { loadTargetConfig } from '../project/load-profile.js';
import { loadProjectContext, type CommonOptions, type ProjectContext } from './project-context.js';
import { openTarget } from './runtime.js';

export interface DashboardSelection extends CommonOptions {
  /** Dashboard names or the graph grammar (`dashboard:real*`); none: every dashboard. */
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
}

/** The selected dashboards in a stable order; a bare dashboard name means `dashboard:<name>`. */
export function selectDashboards(ctx: ProjectContext, options: DashboardSelection): DashboardNode[] {
  const names = new Set(ctx.manifest.dashboards.keys());
  const rewrite = (words: readonly string[] | undefined): string[] | undefined =>
    words?.map((w) => w.split(/\s+/).map((x) => (names.has(x) ? `dashboard:${x}` : x)).join(' '));
  if (names.size === 0) throw new TmError(`the project declares no dashboards (dashboards/*.yml)`);
  const ids = selectNodes(ctx.graph, { select: rewrite(options.select), exclude: rewrite(options.exclude), kinds: ['dashboard'] });
  const chosen = [...ctx.manifest.dashboards.values()].filter((d) => ids.includes(d.uniqueId));
  if (chosen.length === 0) throw new TmError(`the selection picks no dashboard (dashboards: ${[...names].join(', ')})`);
  return chosen;
}

export interface ExportOptions extends DashboardSelection {
  readonly out: string;
  /** The database as Superset reaches it (e.g. the compose service); required for a PGlite target. */
  readonly databaseUri?: string;
  readonly databaseName?: string;
}

export interface ExportOutcome {
  readonly file: string;
  readonly dashboards: number;
  readonly charts: number;
  readonly datasets: number;
}

/** Writes the Superset bundle; exit 2 when a mart it charts is missing from the target. */
export async function exportDashboards(options: ExportOptions): Promise<ExportOutcome> {
  const ctx = await loadProjectContext(options);
  const dashboards = selectDashboards(ctx, options);
  const config = await loadTargetConfig(ctx.project.projectDir, options.target);
  let uri: string;
  if (options.databaseUri !== undefined) uri = supersetUri(options.databaseUri, '--database-uri');
  else if (config.type === 'postgres') uri = supersetUri(config.url, `target '${config.name}'`);
  else throw new TmError(`target '${config.name}' is PGlite, which Superset cannot connect to: pass --database-uri postgresql://user@host:5432/database (the PostgreSQL holding the marts, as Superset sees it)`);

  const models = [...new Set(dashboards.flatMap((d) => d.refs))].sort();
  const target = await openTarget(config, 1);
  try {
    const missing = await missingTables(target, models);
    if (missing.length > 0) throw new TmError(`tables missing in target '${config.name}' (schema ${target.schema}): ${missing.join(', ')}; run their models first (tm run --select ${missing.map((m) => `+${m}`).join(' ')})`);
  } finally {
    await target.close();
  }

  const bundle = buildBundle({
    manifest: ctx.manifest,
    dashboards,
    schema: config.schema,
    databaseName: options.databaseName ?? `tm_${ctx.manifest.projectName}`,
    sqlalchemyUri: uri,
    timestamp: new Date(),
  });
  const entries = [...bundle.files.entries()].map(([file, doc]) => ({
    path: `${bundle.root}/${file}`,
    // Superset reads the bundle with PyYAML, a YAML 1.1 parser: written as 1.1, strings such as the
    // timestamp or `yes` are quoted rather than read back as a datetime or a boolean.
    data: Buffer.from(YAML.stringify(doc, { lineWidth: 0, version: '1.1' }), 'utf8'),
  }));
  const out = path.resolve(ctx.project.projectDir, options.out);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, zip(entries));
  await shareFile(out);
  const count = (prefix: string): number => [...bundle.files.keys()].filter((f) => f.startsWith(prefix)).length;
  return { file: out, dashboards: count('dashboards/'), charts: count('charts/'), datasets: count('datasets/') };
}

async function missingTables(target: Target, tables: readonly string[]): Promise<string[]> {
  const session = await target.acquire();
  try {
    const found = await session.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_name = ANY($2::text[])`,
      [target.schema, tables],
    );
    const present = new Set(found.map((r) => r.name));
    return tables.filter((t) => !present.has(t));
  } finally {
    await session.release();
  }
}

export interface BuildOptions extends DashboardSelection {
  readonly out: string;
}

export interface FailedChart {
  readonly dashboard: string;
  readonly chart: string;
  readonly message: string;
}

export interface BuildOutcome {
  readonly index: string;
  readonly bytes: number;
  readonly seconds: number;
  readonly charts: readonly ChartResult[];
  readonly failed: readonly FailedChart[];
  /** 0, or 1 when a chart's query failed (the page still shows the others). */
  readonly exitCode: number;
}

/** Writes `DIR/index.html`: every selected dashboard drawn from the target's marts. */
export async function buildDashboards(options: BuildOptions): Promise<BuildOutcome> {
  const started = performance.now();
  const ctx = await loadProjectContext(options);
  const dashboards = selectDashboards(ctx, options);
  const config = await loadTargetConfig(ctx.project.projectDir, options.target);
  const target = await openTarget(config, 1);
  let html: string;
  let results: ChartResult[];
  try {
    ({ html, results } = await renderAll(ctx, target, dashboards));
  } finally {
    await target.close();
  }
  const dir = path.resolve(ctx.project.projectDir, options.out);
  await mkdir(dir, { recursive: true });
  const index = path.join(dir, 'index.html');
  await writeFile(index, html);
  await shareFile(index);
  const failed = failures(results);
  return { index, bytes: (await stat(index)).size, seconds: (performance.now() - started) / 1000, charts: results, failed, exitCode: failed.length > 0 ? EXIT_FAILED : EXIT_OK };
}

async function renderAll(ctx: ProjectContext, target: Target, dashboards: readonly DashboardNode[], refreshOverride?: number, signal?: AbortSignal): Promise<{ html: string; results: ChartResult[] }> {
  const readAt = new Date();
  const results = await runCharts(ctx.manifest, target, dashboards, signal);
  const data: Record<string, DashboardData> = {};
  for (const d of dashboards) data[d.name] = dashboardData(d, results, readAt, refreshOf(d, refreshOverride));
  return { html: await renderPage(dashboards, { project: ctx.manifest.projectName, dashboards: data }), results };
}

/** A dashboard's refresh period; `--refresh` changes it for the dashboards that refresh at all. */
function refreshOf(d: DashboardNode, override: number | undefined): number {
  return d.refreshSeconds > 0 && override !== undefined ? override : d.refreshSeconds;
}

function failures(results: readonly ChartResult[]): FailedChart[] {
  return results.flatMap((r) => (r.data.kind === 'error' ? [{ dashboard: r.dashboard, chart: r.chart, message: r.data.message }] : []));
}

export interface ServeOptions extends DashboardSelection {
  readonly port?: number;
  readonly host?: string;
  /** Host names besides the bound address the server answers to (core/local-server.ts). */
  readonly allowHosts?: readonly string[];
  /** Seconds between refreshes of the dashboards that refresh (default: each one's refresh_seconds). */
  readonly refreshSeconds?: number;
}

export interface DashboardServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the page at `/` and each dashboard's fresh data at `/data/<name>.json` (what the page
 * refetches every refresh period); every request reads the target again.
 */
export async function serveDashboards(options: ServeOptions): Promise<DashboardServer> {
  const ctx = await loadProjectContext(options);
  const dashboards = selectDashboards(ctx, options);
  const config = await loadTargetConfig(ctx.project.projectDir, options.target);
  const target = await openTarget(config, 1);
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const byName = new Map(dashboards.map((d) => [d.name, d]));
  const host = options.host ?? '127.0.0.1';
  const allowed = allowedHosts(host, options.allowHosts ?? []);
  const server: Server = createServer((req, res) => {
    if (refuseRequest(req, res, allowed)) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const fail = (err: unknown): void => send(500, 'text/plain; charset=utf-8', `error: ${err instanceof Error ? err.message : String(err)}\n`);
    // A client that leaves (a closed tab, an aborted load) stops the charts not yet queried.
    const left = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) left.abort();
    });
    if (req.method === 'HEAD') return send(url.pathname === '/' || url.pathname === '/index.html' || /^\/data\/[A-Za-z0-9_]+\.json$/.test(url.pathname) ? 200 : 404, 'text/plain; charset=utf-8', '');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      renderAll(ctx, target, dashboards, options.refreshSeconds, left.signal).then(({ html, results }) => {
        for (const f of failures(results)) log(`chart ${f.dashboard}/${f.chart} failed: ${f.message}`);
        send(200, 'text/html; charset=utf-8', html);
      }, fail);
      return;
    }
    const match = /^\/data\/([A-Za-z0-9_]+)\.json$/.exec(url.pathname);
    const dashboard = match ? byName.get(match[1]) : undefined;
    if (dashboard === undefined) return send(404, 'text/plain; charset=utf-8', 'not found\n');
    runCharts(ctx.manifest, target, [dashboard], left.signal).then((results) => {
      send(200, 'application/json', jsonForScript(dashboardData(dashboard, results, new Date(), refreshOf(dashboard, options.refreshSeconds))));
    }, fail);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await target.close();
    },
  };
}
