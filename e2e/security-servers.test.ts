/**
 * Secrets in URLs, chart SQL and the two local servers, on the real PostgreSQL with the real CLI:
 * passwords never leave the process, a chart's SQL cannot write, and the servers answer only what
 * a local reader's browser asks for.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgUrl, queryRows, runCli } from '../test-support/harness.js';
import { lakeProject, replaceModelYml, type LakeProject } from '../test-support/security-fixture.js';
import { spawnTm, type Proc } from '../test-support/processes.js';
import { unzip } from '../test-support/unzip.js';

const unzipped = async (file: string): Promise<string> => [...unzip(await readFile(file)).values()].map((b) => b.toString('utf8')).join('\n');

/** A raw HTTP request (fetch may not set Host). */
function call(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('nothing leaked: URLs, chart SQL, local servers', () => {
  let lake: LakeProject;
  const env = () => ({ TM_PG_URL: pgUrl, TM_PG_SCHEMA: lake.schema });
  const tm = (args: string[], extra: Record<string, string> = {}) => runCli([...args, '--project-dir', lake.projectDir], { env: { ...env(), ...extra } });
  const pwned = () => queryRows(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename = 'pwned'`, [lake.schema]);

  beforeAll(async () => {
    lake = await lakeProject('sec_srv', {
      rows: `SELECT i::BIGINT AS id, 'g' || (i % 3) AS grp, i::BIGINT AS amount FROM range(10) t(i)`,
      models: { m: 'SELECT id, grp, amount FROM {{source "events"}}' },
      schemaYml: replaceModelYml('m', { id: 'BIGINT', grp: 'TEXT', amount: 'BIGINT' }),
    });
    await mkdir(path.join(lake.projectDir, 'dashboards'));
    const evil = `count(*)) AS x FROM m; CREATE TABLE ${lake.schema}.pwned AS SELECT now(); SELECT (1`;
    await writeFile(
      path.join(lake.projectDir, 'dashboards', 'd.yml'),
      `dashboards:\n  - name: d\n    charts:\n` +
        `      - { name: rows, model: m, form: big_number, metrics: ["count(*)"], place: { row: 1, width: 6 } }\n` +
        `      - { name: evil, model: m, form: big_number, metrics: [{ sql: ${JSON.stringify(evil)}, label: x }], place: { row: 1, width: 6 } }\n`,
    );
    const run = await tm(['run']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  });
  afterAll(async () => {
    await lake?.remove();
  });

  it('a chart metric with a second statement runs nothing but its one read-only statement, and its error names the chart and the database error', async () => {
    const build = await tm(['dashboards', 'build', '--out', 'site']);
    expect(build.code, build.stdout + build.stderr).toBe(1);
    expect(build.stdout + build.stderr).toMatch(/chart 'evil': cannot insert multiple commands into a prepared statement/);
    expect(await pwned()).toEqual([]);
    // A single statement that writes (a data-modifying CTE) is refused by the read-only transaction.
    const yml = path.join(lake.projectDir, 'dashboards', 'd.yml');
    const original = await readFile(yml, 'utf8');
    try {
      await writeFile(yml, original.replace(/\{ sql: .*, label: x \}/, `{ sql: ${JSON.stringify(`(WITH w AS (DELETE FROM ${lake.schema}.m RETURNING 1) SELECT count(*) FROM w)`)}, label: x }`));
      const again = await tm(['dashboards', 'build', '--out', 'site']);
      expect(again.stdout + again.stderr).toMatch(/chart 'evil': .*(read-only transaction|WITH clause containing a data-modifying statement must be at the top level)/);
      expect(await queryRows(`SELECT count(*)::int AS n FROM ${lake.schema}.m`)).toEqual([{ n: 10 }]);
    } finally {
      await writeFile(yml, original);
    }
  });

  it('no password leaves the process: password and sslpassword parameters, --database-uri, malformed URLs', async () => {
    const secretUrl = `${pgUrl}?password=pwParamA1&sslpassword=pwParamB2`;
    const out = await tm(['dashboards', 'export', '--out', 'bundle.zip'], { TM_PG_URL: secretUrl });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    const bundle = await unzipped(path.join(lake.projectDir, 'bundle.zip'));
    for (const secret of ['pwParamA1', 'pwParamB2']) {
      expect(bundle.includes(secret), secret).toBe(false);
      expect(out.stdout + out.stderr).not.toContain(secret);
    }
    expect(bundle.includes('password=XXXXXXXXXX')).toBe(true);
    const uri = await tm(['dashboards', 'export', '--out', 'bundle2.zip', '--database-uri', 'postgresql://superset:pwUser3@marts:5432/marts?password=pwParamC4']);
    expect(uri.code, uri.stdout + uri.stderr).toBe(0);
    const bundle2 = await unzipped(path.join(lake.projectDir, 'bundle2.zip'));
    expect(bundle2).toContain('postgresql+psycopg2://superset:XXXXXXXXXX@marts:5432/marts?password=XXXXXXXXXX');
    for (const secret of ['pwUser3', 'pwParamC4']) expect(bundle2.includes(secret), secret).toBe(false);

    const malformed = 'postgres:/postgres:pwMalformed5@127.0.0.1:5432/test';
    for (const args of [['debug'], ['run'], ['dashboards', 'export', '--out', 'bundle3.zip']]) {
      const r = await tm(args, { TM_PG_URL: malformed });
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stdout + r.stderr, args.join(' ')).not.toContain('pwMalformed5');
      expect(r.stdout + r.stderr, args.join(' ')).toContain('XXXXXXXXXX');
    }
  });

  async function serve(args: string[]): Promise<{ proc: Proc; url: string }> {
    const proc = spawnTm([...args, '--port', '0', '--project-dir', lake.projectDir], env());
    await proc.waitFor(/Serving .*(http:\S+)/);
    const url = /Serving .*?(http:\S+)/.exec(proc.output())![1];
    return { proc, url };
  }

  it('dashboards serve: GET/HEAD only, its own Host only, no background requests from other sites, nosniff and a CSP', async () => {
    const { proc, url } = await serve(['dashboards', 'serve']);
    try {
      const page = await call(url);
      expect(page.status).toBe(200);
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*connect-src 'self'/);
      expect(page.body).toContain('data-tm-chart="rows"');
      for (const method of ['POST', 'PUT', 'DELETE']) expect((await call(`${url}data/d.json`, { method })).status, method).toBe(405);
      const port = new URL(url).port;
      expect((await call(`${url}data/d.json`, { headers: { host: `rebound.example:${port}` } })).status).toBe(403);
      expect((await call(`${url}data/d.json`, { headers: { host: `localhost:${port}` } })).status).toBe(200);
      expect((await call(`${url}data/d.json`, { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' } })).status).toBe(403);
      expect((await call(url, { method: 'HEAD' })).status).toBe(200);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    const allowed = await serve(['dashboards', 'serve', '--allow-host', 'marts.internal']);
    try {
      const port = new URL(allowed.url).port;
      expect((await call(`${allowed.url}data/d.json`, { headers: { host: `marts.internal:${port}` } })).status).toBe(200);
    } finally {
      allowed.proc.child.kill('SIGTERM');
      await allowed.proc.exited;
    }
  });

  it('dashboards serve: a client that leaves stops the chart query already running, not only the charts not started', async () => {
    const slow = path.join(lake.projectDir, 'dashboards', 'slow.yml');
    // One row sleeps 30 s: left alone, the query would run until the 60 s chart timeout.
    await writeFile(slow, `dashboards:\n  - name: slow\n    charts:\n      - { name: nap, model: m, form: big_number, metrics: [{ sql: "count(*) FILTER (WHERE id = 0 AND pg_sleep(30)::text IS NULL)", label: n }], place: { row: 1, width: 6 } }\n`);
    const { proc, url } = await serve(['dashboards', 'serve']);
    const sleeping = async () => (await queryRows(`SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`)).length;
    try {
      const req = request(`${url}data/slow.json`);
      req.on('error', () => undefined);
      req.end();
      const until = Date.now() + 15_000;
      while ((await sleeping()) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(await sleeping(), 'the chart query started').toBe(1);
      req.destroy();
      const left = Date.now();
      while ((await sleeping()) > 0 && Date.now() - left < 10_000) await new Promise((r) => setTimeout(r, 100));
      expect(await sleeping(), 'the chart query is cancelled once its client left').toBe(0);
      expect(Date.now() - left).toBeLessThan(5_000);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      await rm(slow, { force: true });
    }
  });

  it('both servers warn loudly when bound beyond loopback; docs serve shows no absolute path and checks Host too; docs count only the project\'s tables', async () => {
    // A table of the schema that is not the project's is neither counted nor shown.
    await queryRows(`CREATE TABLE ${lake.schema}.not_ours AS SELECT 1 AS x`);
    const gen = await tm(['docs', 'generate']);
    expect(gen.code, gen.stdout + gen.stderr).toBe(0);
    const catalog = JSON.parse(await readFile(path.join(lake.projectDir, 'target', 'catalog.json'), 'utf8')) as { relations: Record<string, unknown> };
    expect(Object.keys(catalog.relations)).toEqual(['m']);
    await rm(path.join(lake.projectDir, 'target', 'run_results.json'), { force: true });
    const { proc, url } = await serve(['docs', 'serve', '--host', '0.0.0.0']);
    try {
      await proc.waitFor(/WARNING: listening on 0\.0\.0\.0/);
      const port = new URL(url).port;
      const local = `http://127.0.0.1:${port}/`;
      const missing = await call(`${local}run_results.json`);
      expect(missing.status).toBe(404);
      expect(missing.body).not.toContain(lake.projectDir);
      expect((await call(local, { method: 'POST' })).status).toBe(405);
      expect((await call(local, { headers: { host: 'rebound.example' } })).status).toBe(403);
      const index = await call(local);
      expect(index.status).toBe(200);
      expect(index.headers['x-content-type-options']).toBe('nosniff');
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    const dash = await serve(['dashboards', 'serve', '--host', '0.0.0.0']);
    try {
      await dash.proc.waitFor(/WARNING: listening on 0\.0\.0\.0/);
    } finally {
      dash.proc.child.kill('SIGTERM');
      await dash.proc.exited;
    }
  });
});
