import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocsData } from '../src/docs/docs-data.js';
import { renderDocsPage } from '../src/docs/render-page.js';
import { scaffoldProject } from '../src/init/scaffold.js';
import { connectBrowser, openPage } from '../test-support/browser.js';
import { freshSchema, pgUrl, queryRows, repoRoot, runCli, tempDir, withPg } from '../test-support/harness.js';

interface Relation {
  readonly node: string | null;
  readonly row_count: number;
  readonly size_bytes: number;
  readonly columns: readonly { name: string; type: string }[];
}

/** The JSON the page embeds. */
function embedded(html: string): DocsData {
  const m = /<script type="application\/json" id="tm-docs-data">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(m![1]) as DocsData;
}

describe('tm docs on a project made by tm init, built on the real PostgreSQL', () => {
  let schema: Awaited<ReturnType<typeof freshSchema>>;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let dir: string;
  let browser: Browser;
  const env = () => ({ TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema.schema });
  const tm = (...args: string[]) => runCli([...args], { cwd: dir, env: env() });
  const nodeIds = async () => Object.keys((JSON.parse(await readFile(path.join(dir, 'target', 'manifest.json'), 'utf8')) as { nodes: object }).nodes);

  beforeAll(async () => {
    schema = await freshSchema('docs');
    tmp = await tempDir('tm-docs-');
    dir = (await scaffoldProject({ dir: path.join(tmp.dir, 'shop') })).dir;
    browser = await connectBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await schema?.drop();
    await tmp?.remove();
  });

  it('generate writes catalog.json from the database (types, exact row counts, sizes) and keeps run and test results apart', async () => {
    const built = await tm('build', '--target', 'prod');
    expect(built.code, built.stdout + built.stderr).toBe(0);
    const tested = await tm('test', '--target', 'prod', '--select', 'stg_orders');
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    // A row the last run did not write: the catalog counts what is there, not what the run reported.
    await withPg((c) => c.query(`INSERT INTO ${schema.schema}.mart_daily_revenue VALUES ('2026-02-01', 1, 1, 9.5, 0)`));
    const started = performance.now();
    const res = await tm('docs', 'generate', '--target', 'prod');
    const seconds = (performance.now() - started) / 1000;
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`tm docs: 4 nodes, 2 relations in ${schema.schema} -> target/index.html`));
    console.log(`tm docs generate (process, PostgreSQL target): ${seconds.toFixed(2)} s`);

    const catalog = JSON.parse(await readFile(path.join(dir, 'target', 'catalog.json'), 'utf8')) as { relations: Record<string, Relation> };
    expect(Object.keys(catalog.relations).sort()).toEqual(['mart_daily_revenue', 'stg_orders']);
    const mart = catalog.relations.mart_daily_revenue;
    expect(mart.node).toBe('model.shop.mart_daily_revenue');
    expect(mart.row_count).toBe(4);
    expect(mart.columns.map((c) => `${c.name} ${c.type}`)).toEqual(['order_date date', 'orders integer', 'customers integer', 'revenue numeric(14,2)', 'large_orders integer']);
    expect(catalog.relations.stg_orders.columns.find((c) => c.name === 'status')?.type).toBe('character varying(20)');
    const [sizes] = await queryRows<{ mart: string; stg: string; n: string }>(
      `SELECT pg_total_relation_size('${schema.schema}.mart_daily_revenue')::text AS mart, pg_total_relation_size('${schema.schema}.stg_orders')::text AS stg,
              (SELECT count(*) FROM ${schema.schema}.stg_orders)::text AS n`,
    );
    expect([String(mart.size_bytes), String(catalog.relations.stg_orders.size_bytes)]).toEqual([sizes.mart, sizes.stg]);
    expect(String(catalog.relations.stg_orders.row_count)).toBe(sizes.n);

    // tm test did not erase the build's results: both are on the page, each from its own file.
    const data = embedded(await readFile(path.join(dir, 'target', 'index.html'), 'utf8'));
    expect((data.run_results as { command: string }).command).toBe('build');
    expect((data.test_results as { command: string; results: unknown[] }).command).toBe('test');
    expect((data.test_results as { results: unknown[] }).results).toHaveLength(7);
    expect(data.catalog.relations.mart_daily_revenue.row_count).toBe(4);
    expect(data.compiled['model.shop.stg_orders']).toMatch(/SELECT order_id, customer_id/);
  });

  async function openDocs(file: string): Promise<{ page: Page; outside: string[]; close: () => Promise<void> }> {
    const opened = await openPage(browser, { timezoneId: 'Pacific/Auckland' });
    const errors: string[] = [];
    opened.page.on('pageerror', (e) => errors.push(e.message));
    await opened.page.goto(`file://${file}`);
    await opened.page.waitForSelector('body[data-tm-ready]', { timeout: 10_000 }).catch((err: Error) => {
      throw new Error(`${err.message}; page errors: ${errors.join('; ')}`);
    });
    expect(errors).toEqual([]);
    return opened;
  }

  it('the page works offline: every node in the SVG lineage and the list, clicking a node opens its page, search filters', async () => {
    const { page, outside, close } = await openDocs(path.join(dir, 'target', 'index.html'));
    try {
      const ids = await nodeIds();
      expect(ids).toHaveLength(4);
      const drawn = await page.$$eval('[data-tm-lineage] svg g.tm-node', (els) => els.map((e) => (e as SVGGElement).dataset.nodeId));
      expect(drawn.sort()).toEqual([...ids].sort());
      const listed = await page.$$eval('#tm-node-list a[data-node-link]', (els) => els.map((e) => (e as HTMLElement).dataset.nodeLink));
      expect(listed.sort()).toEqual([...ids].sort());
      // source -> stg -> mart, stg and mart -> singular test
      expect(await page.$$eval('[data-tm-lineage] svg path.edge', (els) => els.map((e) => `${e.getAttribute('data-from')} > ${e.getAttribute('data-to')}`).sort())).toEqual([
        'model.shop.mart_daily_revenue > test.shop.revenue_matches_orders',
        'model.shop.stg_orders > model.shop.mart_daily_revenue',
        'model.shop.stg_orders > test.shop.revenue_matches_orders',
        'source.shop.orders > model.shop.stg_orders',
      ]);
      // Laid out: boxes side by side (left to right), not piled up at the origin.
      const boxes = await page.$$eval('[data-tm-lineage] svg g.tm-node', (els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ x: Math.round(r.x), w: Math.round(r.width) })));
      expect(new Set(boxes.map((b) => b.x)).size).toBe(4);
      expect(Math.min(...boxes.map((b) => b.w))).toBeGreaterThan(50);

      await page.click('[data-tm-lineage] g.tm-node[data-node-id="model.shop.stg_orders"]');
      const article = page.locator('[data-tm-node-page="model.shop.stg_orders"]');
      await article.waitFor();
      expect(page.url()).toMatch(/#!\/model\.shop\.stg_orders$/);
      const text = await article.innerText();
      expect(text).toContain('Valid orders, one row per order_id');
      expect(await article.locator('[data-tm-config]').innerText()).toMatch(/materialized\s+replace/);
      expect(await article.locator('[data-tm-catalog]').innerText()).toMatch(/rows\s+22/);
      expect(await article.locator('[data-tm-last-run]').innerText()).toMatch(/status\s+success[\s\S]*rows\s+22[\s\S]*command\s+tm build/);
      expect(await article.locator('[data-tm-last-tests]').innerText()).toMatch(/unique_stg_orders_order_id\s+order_id\s+error\s+pass\s+0/);
      expect(text).toMatch(/order_id\s+BIGINT\s+bigint\s+Order number\s+not_null pass\s+unique pass/);
      expect(await article.locator('[data-tm-compiled]').innerText()).toMatch(/FROM "__src_orders"\s+WHERE status <> 'cancelled'/);

      await page.click('[data-tm-lineage] g.tm-node[data-node-id="source.shop.orders"]');
      const source = page.locator('[data-tm-node-page="source.shop.orders"]');
      expect(await source.locator('[data-tm-source-files]').innerText()).toMatch(/files\s+3[\s\S]*rows read\s+27[\s\S]*valid rows\s+24[\s\S]*duplicates\s+1/);
      expect(await source.innerText()).toMatch(/amount_not_negative\s+amount >= 0\s+1/);

      await page.fill('#tm-search', 'revenue');
      expect((await page.$$eval('#tm-node-list a', (els) => els.map((e) => e.textContent))).sort()).toEqual(['mart_daily_revenue', 'revenue_matches_orders']);
      expect(await page.getAttribute('g.tm-node[data-node-id="model.shop.stg_orders"]', 'class')).toMatch(/\bdim\b/);
      await page.press('#tm-search', 'Enter');
      await page.locator('[data-tm-node-page="model.shop.mart_daily_revenue"]').waitFor();
      expect(outside).toEqual([]);
    } finally {
      await close();
    }
  });

  it('draws nodes of any other kind with depends_on (dashboards, once they land) and opens their page', async () => {
    const data = embedded(await readFile(path.join(dir, 'target', 'index.html'), 'utf8'));
    const manifest = data.manifest as { nodes: Record<string, unknown> };
    const withDashboard: DocsData = {
      ...data,
      manifest: { ...manifest, nodes: { ...manifest.nodes, 'dashboard.shop.revenue': { kind: 'dashboard', name: 'revenue', description: 'Daily revenue', depends_on: ['model.shop.mart_daily_revenue'] } } },
    };
    const file = path.join(tmp.dir, 'with-dashboard.html');
    await writeFile(file, renderDocsPage(withDashboard));
    const { page, close } = await openDocs(file);
    try {
      expect(await page.$$eval('path.edge[data-to="dashboard.shop.revenue"]', (els) => els.map((e) => e.getAttribute('data-from')))).toEqual(['model.shop.mart_daily_revenue']);
      await page.click('g.tm-node[data-node-id="dashboard.shop.revenue"]');
      expect(await page.locator('[data-tm-node-page="dashboard.shop.revenue"]').innerText()).toContain('Daily revenue');
      expect(await page.$$eval('#tm-node-list h3', (els) => els.map((e) => e.textContent))).toEqual(['sources', 'models', 'tests', 'dashboards']);
    } finally {
      await close();
    }
  });

  it('serve hands out the page and its artifacts, nothing else, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'tm.js'), 'docs', 'serve', '--port', '0'], { cwd: dir });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL in 20 s: ${out}`)), 20_000);
      child.stdout.on('data', () => {
        const m = /Serving the docs on (http:\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const index = await fetch(url);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('data-tm-lineage');
    const catalog = await fetch(new URL('catalog.json', url));
    expect(((await catalog.json()) as { relations: object }).relations).toHaveProperty('stg_orders');
    expect((await fetch(new URL('project.yml', url))).status).toBe(404);
    expect((await fetch(new URL('compiled/models/staging/stg_orders.sql', url))).status).toBe(404);
    child.kill('SIGTERM');
    expect(await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))).toBe(0);
  });
});
