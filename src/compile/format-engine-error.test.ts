import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, type DuckDb, type DuckSession } from '../engines/duckdb.js';
import { pgContractGuard, pgContractViolation } from '../engines/compute/lossless-cast.js';
import { formatEngineError } from './format-engine-error.js';

/** DuckDB's own errors on rendered SQL, placed back in the template (front matter and mustaches above). */
describe('engine errors at the line to fix', () => {
  let db: DuckDb;
  let duck: DuckSession;
  beforeAll(async () => {
    db = await openDuckDb({ memoryLimit: '256MB', tempDirectory: os.tmpdir(), threads: 1 });
    duck = await db.connect();
    await duck.run('CREATE TABLE stg_orders AS SELECT 1 AS customer_id, 2 AS order_id, DATE \'2020-01-01\' AS order_date');
  });
  afterAll(() => db?.close());

  const body = [
    '{{!-- Revenue per day --}}',
    'SELECT',
    '  order_date,',
    '  count(DISTINCT custmer_id) AS customers',
    'FROM {{ref "stg_orders"}}',
    'GROUP BY order_date',
  ].join('\n');
  const rendered = ['', 'SELECT', '  order_date,', '  count(DISTINCT custmer_id) AS customers', 'FROM "stg_orders"', 'GROUP BY order_date'].join('\n');

  it('keeps the candidate bindings and maps LINE to the template line and column, with the line and a caret', async () => {
    const err = await duck.run(`DESCRIBE ${rendered}`).then(() => undefined, (e: unknown) => e);
    const message = formatEngineError(err, { file: 'models/m.sql', rendered, body, bodyLine: 4, compiledPath: 'target/compiled/models/m.sql' });
    expect(message).toBe([
      'models/m.sql:7:18: Binder Error: Referenced column "custmer_id" not found in FROM clause!',
      'Candidate bindings: "customer_id", "order_id", "order_date"',
      '  7 |   count(DISTINCT custmer_id) AS customers',
      '    |                  ^',
      '(compiled SQL: target/compiled/models/m.sql)',
    ].join('\n'));
  });

  it('maps a line made with a mustache by the text around it', async () => {
    const text = rendered.replace('FROM "stg_orders"', 'FROM "stg_ordrs"').replace('custmer_id', 'customer_id');
    const err = await duck.run(`DESCRIBE ${text}`).then(() => undefined, (e: unknown) => e);
    const message = formatEngineError(err, { file: 'models/m.sql', rendered: text, body, bodyLine: 1, compiledPath: 'c.sql' });
    expect(message.split('\n')[0]).toMatch(/^models\/m\.sql:5:\d+: Catalog Error: Table with name stg_ordrs does not exist!/);
    expect(message).toContain('  5 | FROM {{ref "stg_orders"}}');
  });
});

/** PostgreSQL's errors (here PGlite, the embedded PostgreSQL): `position` in the wrapping statement, the hint kept. */
describe('PostgreSQL errors at the line to fix', () => {
  it('maps the position inside the statement back to the template line, and keeps the hint', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const pg = new PGlite();
    try {
      await pg.exec('CREATE TABLE stg_orders (customer_id int, order_id int, order_date date)');
      const body = 'SELECT\n  order_date,\n  count(DISTINCT custmer_id) AS customers\nFROM {{ref "stg_orders"}}\nGROUP BY order_date';
      const rendered = body.replace('{{ref "stg_orders"}}', 'stg_orders');
      const statement = `WITH inserted AS (SELECT * FROM (${rendered}) AS m) SELECT count(*) FROM inserted`;
      const err = await pg.query(statement).then(() => undefined, (e: unknown) => e);
      const message = formatEngineError(err, { file: 'models/m.sql', rendered, statement, body, bodyLine: 2, compiledPath: 'c.sql' });
      expect(message.split('\n').slice(0, 4)).toEqual([
        'models/m.sql:4:18: column "custmer_id" does not exist',
        'Hint: Perhaps you meant to reference the column "stg_orders.customer_id".',
        '  4 |   count(DISTINCT custmer_id) AS customers',
        '    |                  ^',
      ]);
      // A model run in PostgreSQL: the INSERT's assignment cast would round 549.25 into 549; the guard fails it.
      await pg.exec('CREATE TABLE mart (revenue SMALLINT, code VARCHAR(3), amount NUMERIC(6,2)); CREATE TABLE src (revenue NUMERIC, code TEXT, amount NUMERIC)');
      const guard = pgContractGuard([{ name: 'revenue', type: 'SMALLINT' }, { name: 'code', type: 'VARCHAR(3)' }, { name: 'amount', type: 'NUMERIC(6,2)' }]);
      /** Inserts one source row through the guard, as a model's rows are: 'ok', or the failure's message. */
      const insert = async (row: string) => {
        await pg.exec(`TRUNCATE src; INSERT INTO src VALUES (${row})`);
        return pg.query(`INSERT INTO mart SELECT revenue, code, amount FROM (SELECT * FROM src) AS m${guard}`).then(() => 'ok', (e: unknown) => pgContractViolation(e) ?? String(e));
      };
      expect(await insert("549.25, 'abc', 1.5")).toBe("column 'revenue': value 549.25 of the model's numeric has a fraction, which would be lost in the contract's SMALLINT");
      expect(await insert("549, 'abcd', 1.5")).toBe("column 'code': value abcd of the model's text is longer than the 3 characters of the contract's VARCHAR(3)");
      expect(await insert("549.00, 'abc', 1.125")).toBe("column 'amount': value 1.125 of the model's numeric has more decimals than the contract's NUMERIC(6,2)");
      expect(await insert("40000, 'abc', 1.5")).toBe("column 'revenue': value 40000 of the model's numeric is out of range of the contract's SMALLINT");
      expect(await insert("-40000, 'abc', 1.5")).toBe("column 'revenue': value -40000 of the model's numeric is out of range of the contract's SMALLINT");
      expect(await insert("549.00, 'abc', 1.50")).toBe('ok');
      expect((await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM mart')).rows).toEqual([{ n: 1 }]);
    } finally {
      await pg.close();
    }
  });
});
