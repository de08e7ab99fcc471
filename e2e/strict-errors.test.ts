import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgUrl, queryRows, runCli, tempDir, type CliResult } from '../test-support/harness.js';

/**
 * No silent mistakes: each mistake people make on a new project (`tm init`), as the real CLI answers it.
 * Every message names the file and the line to fix; where a model fails, its table keeps what it held.
 */
describe('strict configs, lossless contracts and errors at the line to fix', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let dir: string;
  let schema: string;
  let drop: () => Promise<void>;
  const env = () => ({ TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema });
  const tm = (...args: string[]): Promise<CliResult> => runCli([...args, '--project-dir', dir], { env: env() });
  const run = (...args: string[]) => tm('run', '--target', 'prod', ...args);
  const rowsOf = (table: string) => queryRows(`SELECT * FROM ${schema}.${table} ORDER BY 1`);
  const columnType = async (table: string, column: string) =>
    (await queryRows<{ t: string }>(`SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = '${schema}.${table}'::regclass AND attname = $1`, [column]))[0]?.t;

  /** Applies `edit` to a project file for the time of `check`, then puts the file back. */
  async function withEdit(file: string, edit: (text: string) => string, check: (text: string) => Promise<void>): Promise<void> {
    const full = path.join(dir, file);
    const original = await readFile(full, 'utf8');
    const text = edit(original);
    expect(text, 'the edit applies').not.toBe(original);
    await writeFile(full, text);
    try {
      await check(text);
    } finally {
      await writeFile(full, original);
    }
  }
  /** The 1-based line of the first occurrence of `needle` in `text`. */
  const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

  let stgBefore: unknown[];
  let martBefore: unknown[];
  beforeAll(async () => {
    tmp = await tempDir('tm-strict-');
    dir = path.join(tmp.dir, 'shop');
    ({ schema, drop } = await freshSchema('strict'));
    const init = await runCli(['init', dir]);
    expect(init.code, init.stderr).toBe(0);
    const first = await run();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    stgBefore = await rowsOf('stg_orders');
    martBefore = await rowsOf('mart_daily_revenue');
    expect(martBefore.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await tmp?.remove();
    await drop?.();
  });

  /** The marts are as the first run left them: a failed model wrote nothing. */
  async function expectNothingWritten(): Promise<void> {
    expect(await rowsOf('stg_orders')).toEqual(stgBefore);
    expect(await rowsOf('mart_daily_revenue')).toEqual(martBefore);
  }

  const SCHEMA_YML = 'models/schema.yml';
  const MART_SQL = 'models/marts/mart_daily_revenue.sql';

  it('`materialised: upsert` (British spelling) in a model\'s config: an unknown key at its line, with a did-you-mean', async () => {
    await withEdit(SCHEMA_YML, (t) => t.replace('config: { materialized: replace, tags: [marts] }', 'config: { materialised: upsert, tags: [marts] }'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${SCHEMA_YML}:${lineOf(text, 'materialised')}: models[mart_daily_revenue].config: unknown key 'materialised' (did you mean 'materialized'?)`);
    });
  });

  it('the same key in the model\'s SQL (`{{config materialised=...}}`, front matter): refused at its line too', async () => {
    await withEdit(MART_SQL, (t) => `{{config materialised="upsert"}}\n${t}`, async () => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${MART_SQL}:1: {{config}}: unknown key 'materialised' (did you mean 'materialized'?)`);
    });
    await withEdit(MART_SQL, (t) => `---\ntags: [marts]\nmaterialised: upsert\n---\n${t}`, async () => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${MART_SQL}:3: front matter: unknown key 'materialised' (did you mean 'materialized'?)`);
    });
  });

  it('a contract SMALLINT where the model yields DECIMAL with cents: the model fails with column, types and value; nothing written', async () => {
    await withEdit(SCHEMA_YML, (t) => t.replace('{ name: revenue, type: "DECIMAL(14,2)"', '{ name: revenue, type: SMALLINT'), async (text) => {
      const r = await run();
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`${MART_SQL}: .*column 'revenue' \\(contract: ${SCHEMA_YML}:${lineOf(text, 'name: revenue')}\\): value \\d+\\.\\d+ of the model's DECIMAL\\(\\d+,2\\) has a fraction, which would be lost in the contract's SMALLINT`));
      await expectNothingWritten();
      expect(await columnType('mart_daily_revenue', 'revenue')).toBe('numeric(14,2)');
    });
  });

  it('the same SMALLINT contract on a model run inside PostgreSQL (engine: postgres): fails the same way; nothing written', async () => {
    await withEdit(SCHEMA_YML, (t) => t.replace('{ name: revenue, type: "DECIMAL(14,2)"', '{ name: revenue, type: SMALLINT').replace('config: { materialized: replace, tags: [marts] }', 'config: { materialized: replace, engine: postgres, tags: [marts] }'), async (text) => {
      const r = await run('--select', 'mart_daily_revenue');
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`${MART_SQL}: column 'revenue' \\(contract: ${SCHEMA_YML}:${lineOf(text, 'name: revenue')}\\): value \\d+\\.\\d+ of the model's numeric has a fraction, which would be lost in the contract's SMALLINT`));
      await expectNothingWritten();
    });
  });

  it('contract type `INTEGR`: refused at load, at its YAML line, with a did-you-mean', async () => {
    await withEdit(SCHEMA_YML, (t) => t.replace('{ name: orders, type: INT,', '{ name: orders, type: INTEGR,'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${SCHEMA_YML}:${lineOf(text, 'INTEGR')}: model 'mart_daily_revenue', column 'orders': unknown type 'INTEGR' (did you mean 'INTEGER'?)`);
    });
  });

  it('`VARCHAR(3)` too short: the model fails naming the column, its contract line and a value; nothing written', async () => {
    await withEdit(SCHEMA_YML, (t) => t.replace('{ name: status, type: VARCHAR(20)', '{ name: status, type: VARCHAR(3)'), async (text) => {
      const r = await run('--select', 'stg_orders');
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`models/staging/stg_orders\\.sql: .*column 'status' \\(contract: ${SCHEMA_YML}:${lineOf(text, 'name: status')}\\): value \\w{4,} of the model's VARCHAR is longer than the 3 characters of the contract's VARCHAR\\(3\\)`));
      await expectNothingWritten();
      expect(await columnType('stg_orders', 'status')).toBe('character varying(20)');
    });
  });

  it('a column typo `custmer_id`: DuckDB\'s error whole, at the template line and column with a caret; recapped at the end; nothing written', async () => {
    await withEdit(MART_SQL, (t) => t.replace('count(DISTINCT customer_id)', 'count(DISTINCT custmer_id)'), async (text) => {
      const r = await run('--select', 'mart_daily_revenue');
      expect(r.code).toBe(1);
      const line = lineOf(text, 'custmer_id');
      const column = text.split('\n')[line - 1].indexOf('custmer_id') + 1;
      const at = `${MART_SQL}:${line}:${column}: Binder Error: Referenced column "custmer_id" not found in FROM clause!`;
      expect(r.stdout).toContain(at);
      expect(r.stdout).toMatch(/Candidate bindings: .*"customer_id"/);
      expect(r.stdout).toContain(`${line} |   count(DISTINCT custmer_id) AS customers,`);
      expect(r.stdout).toMatch(new RegExp(`\\n\\s+\\| {${column}}\\^\\n`)); // '| ', then the caret under column
      // The end of the run recaps the failed model: name, file:line, first line of the error.
      expect(r.stdout).toMatch(new RegExp(`Finished 1 model in [\\d.]+s: 0 OK, 1 error, 0 skipped\\nFailed model:\\n  mart_daily_revenue: ${at.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n?$`));
      await expectNothingWritten();
    });
  });

  it('`{% if true %}` (a Jinja habit): recognised at its line and answered with the Handlebars form', async () => {
    await withEdit(MART_SQL, (t) => t.replace('GROUP BY order_date', '{% if true %}\nGROUP BY order_date\n{% endif %}'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${MART_SQL}:${lineOf(text, '{% if')}: '{% if true %}' is Jinja; tm templates are Handlebars: write {{#if true}}`);
    });
  });

  it('`{{ ref("x") }}` (Jinja call syntax): answered with the Handlebars call at its line', async () => {
    await withEdit(MART_SQL, (t) => t.replace('{{ref "stg_orders"}}', '{{ ref("stg_orders") }}'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${MART_SQL}:${lineOf(text, '{{ ref(')}: '{{ ref("stg_orders") }}' is Jinja call syntax; in Handlebars write {{ref "stg_orders"}}`);
    });
  });

  it('an unclosed `{{#if}}`: reported at its opening tag, not at the end of the file', async () => {
    await withEdit(MART_SQL, (t) => t.replace('GROUP BY order_date', '{{#if is_incremental}}\nGROUP BY order_date'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${MART_SQL}:${lineOf(text, '{{#if')}: template error: {{#if}} is never closed: add {{/if}}`);
    });
  });

  it('`{{reff "x"}}`: an unknown helper at its line, with a did-you-mean', async () => {
    await withEdit(MART_SQL, (t) => t.replace('{{ref "stg_orders"}}', '{{reff "stg_orders"}}'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${MART_SQL}:${lineOf(text, '{{reff')}: template error: "reff" not defined (did you mean 'ref'?)`);
    });
  });

  it('`colums:` and `tets:` in YAML: unknown keys at their lines, with a did-you-mean', async () => {
    await withEdit(SCHEMA_YML, (t) => t.replace('    columns:', '    colums:'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${SCHEMA_YML}:${lineOf(text, 'colums:')}: models[stg_orders]: unknown key 'colums' (did you mean 'columns'?)`);
    });
    await withEdit(SCHEMA_YML, (t) => t.replace('description: Who ordered, tests: [not_null] }', 'description: Who ordered, tets: [not_null] }'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${SCHEMA_YML}:${lineOf(text, 'tets:')}: models[stg_orders].columns[customer_id]: unknown key 'tets' (did you mean 'tests'?)`);
    });
  });

  it('a model name misspelled in YAML: the entry that matches no model is named, at its line', async () => {
    await withEdit(SCHEMA_YML, (t) => t.replace('  - name: mart_daily_revenue', '  - name: mart_daily_revenu'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${SCHEMA_YML}:${lineOf(text, 'name: mart_daily_revenu\n')}: models entry 'mart_daily_revenu' matches no model: there is no mart_daily_revenu.sql (did you mean 'mart_daily_revenue'?)`);
      expect(r.stderr).not.toMatch(/needs declared columns/);
    });
  });

  it('a `not_nul` test: `tm compile` refuses it at its line, with a suggestion', async () => {
    await withEdit(SCHEMA_YML, (t) => t.replace('description: Who ordered, tests: [not_null] }', 'description: Who ordered, tests: [not_nul] }'), async (text) => {
      const r = await tm('compile');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${SCHEMA_YML}:${lineOf(text, 'not_nul]')}: model 'stg_orders': unknown test 'not_nul' (did you mean 'not_null'?)`);
    });
  });

  it('after every mistake is undone the project builds again, and a clean run recaps nothing', async () => {
    const r = await run();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Finished 2 models in [\d.]+s: 2 OK, 0 errors, 0 skipped\n?$/);
    expect(r.stdout).not.toMatch(/Failed model/);
  });
});
