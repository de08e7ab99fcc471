/**
 * tm's dashboards in a real Apache Superset, each verified release (the seed's 3.1 line and the current
 * one) installed by the suite, started once: TripClick marts built in PostgreSQL from a generated
 * stream with bursts and reconciled days, `tm dashboards export`, the assets import (the route that
 * overwrites), then every dashboard opened in Chromium. Every chart's data request must answer 200 with
 * rows, its container must show no error, and its figures must equal those of tm's own page (the
 * page's SQL for that chart, run on the same marts).
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStream } from '../generator/generate.js';
import { loadProjectContext } from '../src/api/project-context.js';
import { isTimeType } from '../src/manifest/column-types.js';
import { FORMS } from '../src/dashboards/forms/index.js';
import { relationOf } from '../src/dashboards/run-charts.js';
import type { ChartSpec, DashboardNode } from '../src/manifest/dashboard-types.js';
import { startSuperset, SUPERSET_VERSIONS, type SupersetServer, type SupersetVersion } from '../test-support/superset.js';
import { connectBrowser } from '../test-support/browser.js';
import { copyProject, freshSchema, pgUrl, queryRows, repoRoot, runCli, tempDir } from '../test-support/harness.js';

type Row = Record<string, unknown>;

/** tm's page for one chart: its rows, and which of the mart's columns are times. */
interface Expected {
  readonly chart: ChartSpec;
  readonly rows: Row[];
  readonly timeColumns: ReadonlySet<string>;
}

/** What Superset received for one chart: the chart's id and the rows of its data response. */
interface Received {
  readonly sliceId: number;
  readonly status: number;
  readonly rows: readonly Row[];
  readonly endpoint: 'chart/data' | 'explore_json';
}

const MARTS_PASSWORD = 'tm-marts-pw-from-env';
/** First install and init of a version take minutes (printed once); once cached, start and import take seconds. */
const SETUP_MS = 45 * 60_000;
/** Five dashboards opened one after the other. */
const DASHBOARDS_MS = 300_000;

describe('tm dashboards in a real Superset', () => {
  let schema: Awaited<ReturnType<typeof freshSchema>>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let dashboards: DashboardNode[];
  /** The page's figures per chart title. */
  const expected = new Map<string, Expected>();
  const servers = new Map<SupersetVersion, SupersetServer>();
  let browser: Browser;
  const bundle = (): string => path.join(work.dir, 'bundle.zip');
  const exportArgs = (out: string): string[] => ['dashboards', 'export', '--target', 'prod', '--project-dir', project.dir, '--out', out, '--database-uri', databaseUri()];

  beforeAll(async () => {
    const timer = performance.now();
    schema = await freshSchema('superset');
    project = await copyProject();
    work = await tempDir('tm-superset-');
    await cp(path.join(repoRoot, 'dashboards'), path.join(project.dir, 'dashboards'), { recursive: true });
    // The Superset servers start while the marts are built (install, init and boot are Python's time).
    const starting = Promise.all(SUPERSET_VERSIONS.map(async (v) => servers.set(v, await startSuperset(v))));
    starting.catch(() => undefined);

    const data = path.join(work.dir, 'stream');
    await generateStream({ out: data, days: 3, eventsPerDay: 3000, seed: 11, burstsPerDay: 4, force: true });
    const env = { TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema.schema, TM_CURATED_PATH: data };
    // A first hot run reaching back 25 hours, so the cold run has hot days to reconcile (drift rows).
    for (const args of [['run', '--select', 'hot', '--vars', '{"hot_lookback_minutes": 1500}'], ['run', '--select', 'cold']]) {
      const r = await runCli([...args, '--target', 'prod', '--project-dir', project.dir], { env });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const exported = await runCli(exportArgs(bundle()), { env });
    expect(exported.code, exported.stderr).toBe(0);
    expect((await readFile(bundle())).includes(MARTS_PASSWORD)).toBe(false);

    // tm's page: each chart's own query on the marts.
    const ctx = await loadProjectContext({ projectDir: project.dir, log: () => undefined });
    dashboards = [...ctx.manifest.dashboards.values()];
    for (const d of dashboards) {
      for (const chart of d.charts) {
        const rel = relationOf(ctx.manifest, schema.schema, chart);
        const timeColumns = new Set(rel.model.columns.filter((c) => isTimeType(c.type)).map((c) => c.name));
        expected.set(chart.title, { chart, rows: await queryRows<Row>(FORMS[chart.form].query(chart, rel)), timeColumns });
      }
    }
    await starting;
    for (const server of servers.values()) await server.importBundle(bundle(), MARTS_PASSWORD);
    browser = await connectBrowser();
    console.log(`superset e2e setup: ${((performance.now() - timer) / 1000).toFixed(0)}s (${[...servers.values()].map((s) => `${s.version} up in ${s.startSeconds.toFixed(0)}s`).join(', ')})`);
  }, SETUP_MS);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([...servers.values()].map((s) => s.stop()));
    await schema?.drop();
    await project?.remove();
    await work?.remove();
  }, 60_000);

  function databaseUri(): string {
    const u = new URL(pgUrl);
    u.password = MARTS_PASSWORD;
    return u.toString();
  }

  it('has non-empty figures on tm\'s page for every chart (bursts, reconciled days)', () => {
    expect(expected.size).toBe(19);
    for (const [title, { rows }] of expected) expect(rows.length, title).toBeGreaterThan(0);
  });

  describe.each(SUPERSET_VERSIONS)('Superset %s', (version) => {
    it('draws every chart of every dashboard from a 200 answer with rows, no error, and tm\'s figures', async () => {
      const server = servers.get(version) as SupersetServer;
      const page = await loggedIn(server);
      try {
        for (const d of dashboards) {
          const charts = await dashboardCharts(page, server, d.name.replace(/_/g, '-'));
          expect(charts.map((c) => c.title).sort(), d.name).toEqual(d.charts.map((c) => c.title).sort());
          const received = await openDashboard(page, server, d.name.replace(/_/g, '-'), charts.map((c) => c.id));
          for (const { id, title, vizType } of charts) {
            const got = received.get(id);
            const where = `${version} ${d.name}/${title} (${vizType})`;
            expect(got, `${where}: no data request answered`).toBeDefined();
            expect(got?.status, where).toBe(200);
            expect(got?.rows.length, `${where}: no rows`).toBeGreaterThan(0);
            const alerts = await page.$$eval(`[data-test-chart-id="${id}"] [role="alert"], [data-test-chart-id="${id}"] .alert-danger`, (els) => els.map((e) => e.textContent ?? ''));
            expect(alerts, where).toEqual([]);
            const { chart, rows, timeColumns } = expected.get(title) as Expected;
            expect(supersetFigures(chart, vizType, got as Received, timeColumns), where).toEqual(pageFigures(chart, rows));
          }
        }
      } finally {
        await page.context().close();
      }
    }, DASHBOARDS_MS);

    it('shows a changed chart title after a re-import (the assets import overwrites charts)', async () => {
      const server = servers.get(version) as SupersetServer;
      const file = path.join(project.dir, 'dashboards', '2-daily-traffic.yml');
      const original = await readFile(file, 'utf8');
      const changed = `Events, all days (re-imported into ${version})`;
      await writeFile(file, original.replace('title: Events, all days', `title: ${changed}`));
      try {
        const out = path.join(work.dir, `bundle-${version}.zip`);
        const r = await runCli(exportArgs(out), { env: { TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema.schema } });
        expect(r.code, r.stderr).toBe(0);
        await server.importBundle(out, MARTS_PASSWORD);
        const page = await loggedIn(server);
        try {
          const titles = (await dashboardCharts(page, server, 'daily-traffic')).map((c) => c.title);
          expect(titles).toContain(changed);
          expect(titles).not.toContain('Events, all days');
          await page.goto(`${server.url}/superset/dashboard/daily-traffic/`);
          await page.getByText(changed).first().waitFor({ timeout: 60_000 });
        } finally {
          await page.context().close();
        }
      } finally {
        await writeFile(file, original);
        await server.importBundle(bundle(), MARTS_PASSWORD);
      }
    }, DASHBOARDS_MS);
  });

  async function loggedIn(server: SupersetServer): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1600, height: 2400 }, timezoneId: 'UTC' });
    const page = await context.newPage();
    await page.goto(`${server.url}/login/`);
    await page.fill('#username', server.admin.user);
    await page.fill('#password', server.admin.password);
    // Logged in once the redirect away from /login/ commits (the welcome page it leads to may load slowly).
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 120_000, waitUntil: 'commit' }), page.press('#password', 'Enter')]);
    return page;
  }

  /** The dashboard's charts as Superset stores them (its REST API, with the browser's session). */
  async function dashboardCharts(page: Page, server: SupersetServer, slug: string): Promise<{ id: number; title: string; vizType: string }[]> {
    const response = await page.request.get(`${server.url}/api/v1/dashboard/${slug}/charts`);
    expect(response.status(), await response.text()).toBe(200);
    const body = (await response.json()) as { result: { id: number; slice_name: string; form_data: { viz_type: string } }[] };
    return body.result.map((c) => ({ id: c.id, title: c.slice_name, vizType: c.form_data.viz_type }));
  }

  /** Opens the dashboard and collects every chart data answer until each chart has one. */
  async function openDashboard(page: Page, server: SupersetServer, slug: string, ids: readonly number[]): Promise<Map<number, Received>> {
    const received = new Map<number, Received>();
    const pending: Promise<void>[] = [];
    const onResponse = (response: Response): void => {
      const url = response.url();
      const endpoint = url.includes('/api/v1/chart/data') ? 'chart/data' : url.includes('/superset/explore_json/') ? 'explore_json' : undefined;
      if (endpoint === undefined) return;
      pending.push(
        (async () => {
          const sliceId = sliceIdOf(response.request().url(), response.request().postData());
          const body = (await response.json().catch(() => null)) as Row | null;
          if (sliceId !== undefined) received.set(sliceId, { sliceId, status: response.status(), rows: rowsOf(endpoint, body), endpoint });
        })(),
      );
    };
    page.on('response', onResponse);
    try {
      await page.goto(`${server.url}/superset/dashboard/${slug}/`);
      const deadline = Date.now() + 90_000;
      while (ids.some((id) => !received.has(id)) && Date.now() < deadline) {
        await page.mouse.wheel(0, 600);
        await page.waitForTimeout(500);
        await Promise.all(pending);
      }
      await Promise.all(pending);
      // Let the charts draw their answers (an error alert appears after the answer).
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(1000);
    } finally {
      page.off('response', onResponse);
    }
    return received;
  }
});

/** The chart id a data request is for: `form_data.slice_id` of the JSON body, or of explore_json's `form_data` parameter. */
function sliceIdOf(url: string, postData: string | null): number | undefined {
  const candidates: string[] = [];
  const param = new URL(url).searchParams.get('form_data');
  if (param !== null) candidates.push(param);
  if (postData !== null) {
    try {
      const body = JSON.parse(postData) as { form_data?: { slice_id?: number } };
      if (body.form_data?.slice_id !== undefined) return body.form_data.slice_id;
    } catch {
      const form = new URLSearchParams(postData).get('form_data');
      if (form !== null) candidates.push(form);
    }
  }
  for (const c of candidates) {
    const id = (JSON.parse(c) as { slice_id?: number }).slice_id;
    if (id !== undefined) return id;
  }
  return undefined;
}

/** The rows an answer carries: chart/data's first query (status success), or explore_json's legacy payload. */
function rowsOf(endpoint: 'chart/data' | 'explore_json', body: Row | null): Row[] {
  if (body === null) return [];
  if (endpoint === 'chart/data') {
    const [first] = (body.result as { status?: string; data?: Row[] }[] | undefined) ?? [];
    return first?.status === 'success' || first?.status === undefined ? (first?.data ?? []) : [];
  }
  if (body.status !== 'success') return [];
  const data = body.data as unknown;
  // Legacy heatmap: {records: [{x, y, v}]}; legacy histogram: [{key, values: [...]}].
  if (Array.isArray(data)) return data as Row[];
  if (data !== null && typeof data === 'object' && Array.isArray((data as { records?: unknown }).records)) return (data as { records: Row[] }).records;
  return [];
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
const sum = (values: readonly unknown[]): number => round(values.reduce<number>((a, v) => a + (typeof v === 'number' ? v : Number(v ?? 0) || 0), 0));

/**
 * Figures both sides must agree on, per chart form: the metric totals (and row count where the
 * rows are the same rows), the histogram's value count, the box plot's five numbers per box.
 */
function pageFigures(chart: ChartSpec, rows: readonly Row[]): unknown {
  switch (chart.form) {
    case 'histogram':
      return { values: sum(rows.map((r) => r.count)) };
    case 'box_plot':
      return ['min', 'q1', 'median', 'q3', 'max'].map((s) => sum(rows.map((r) => r[s])));
    case 'table':
      if (chart.metrics.length === 0) return { rows: rows.length, total: sum(rows.flatMap((r) => chart.columns.map((c) => (typeof r[c] === 'number' ? r[c] : 0)))) };
      return { rows: rows.length, total: sum(rows.flatMap((r) => chart.metrics.map((m) => r[m.label]))) };
    case 'heatmap':
    case 'pie':
    case 'big_number':
      return { total: sum(rows.map((r) => r[chart.metrics[0].label])) };
    default:
      return { total: sum(rows.flatMap((r) => chart.metrics.map((m) => r[m.label]))) };
  }
}

function supersetFigures(chart: ChartSpec, vizType: string, got: Received, timeColumns: ReadonlySet<string>): unknown {
  const rows = got.rows;
  switch (chart.form) {
    case 'histogram':
      // Legacy: the raw values, binned in the browser; histogram_v2: one row of bin counts.
      if (got.endpoint === 'explore_json') return { values: rows.reduce((n, r) => n + (r.values as unknown[]).length, 0) };
      return { values: sum(rows.flatMap((r) => Object.values(r))) };
    case 'box_plot': {
      const c = chart.column as string;
      return ['min', 'q1', 'median', 'q3', 'max'].map((s) => sum(rows.map((r) => r[`${c}__${s}`])));
    }
    case 'table':
      // Superset sends times as epoch milliseconds, tm's page as text: only the other numbers add up.
      if (chart.metrics.length === 0) return { rows: rows.length, total: sum(rows.flatMap((r) => chart.columns.filter((col) => !timeColumns.has(col)).map((col) => (typeof r[col] === 'number' ? r[col] : 0)))) };
      return { rows: rows.length, total: sum(rows.flatMap((r) => chart.metrics.map((m) => r[m.label]))) };
    case 'heatmap':
      return { total: sum(rows.map((r) => (vizType === 'heatmap' ? r.v : r[chart.metrics[0].label]))) };
    case 'pie':
    case 'big_number':
      return { total: sum(rows.map((r) => r[chart.metrics[0].label])) };
    default: {
      // Time series come pivoted: one column per series, beside the x axis.
      const x = chart.x as string;
      return { total: sum(rows.flatMap((r) => Object.entries(r).filter(([k]) => k !== x && k !== '__timestamp').map(([, v]) => v))) };
    }
  }
}
