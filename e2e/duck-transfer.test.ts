import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyDuckToTarget, copyTargetToDuck } from '../src/engines/duck-transfer.js';
import { openDuckDb, type DuckDb, type DuckSession } from '../src/engines/duckdb.js';
import { openPgliteTarget } from '../src/engines/pglite.js';
import { openPostgresTarget } from '../src/engines/postgres.js';
import { qualified, withSession, type Target } from '../src/engines/target.js';
import { freshSchema, pgUrl } from '../test-support/harness.js';

// Rows between a target and DuckDB go through CSV: an empty string and a NULL must stay apart both
// ways ({{this_rows}} feeds a model the mart's own rows), as must commas, quotes and line breaks.
const columns = [{ name: 'id', type: 'INT' }, { name: 'label', type: 'VARCHAR(50)' }];
const rows: readonly [number, string | null][] = [[1, ''], [2, null], [3, 'a,"b"\nc'], [4, ' ']];

let tmp: string;
let duck: DuckDb;
let session: DuckSession;
let schema: { schema: string; drop: () => Promise<void> };

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tm-transfer-'));
  duck = await openDuckDb({ memoryLimit: '256MB', threads: 1, tempDirectory: path.join(tmp, 'spill') });
  session = await duck.connect();
  schema = await freshSchema('transfer');
});

afterAll(async () => {
  session.close();
  await duck.close();
  await schema.drop();
  await rm(tmp, { recursive: true, force: true });
});

async function roundTrip(target: Target): Promise<void> {
  const table = qualified(target.schema, 'labels');
  await withSession(target, async (s) => {
    await s.exec(`CREATE TABLE ${table} (id INT, label VARCHAR(50))`);
    for (const [id, label] of rows) await s.query(`INSERT INTO ${table} VALUES ($1, $2)`, [id, label]);
  });
  await copyTargetToDuck(session, target, table, { columns, into: 'labels_in_duck', scratch: tmp });
  const inDuck = await session.all<{ id: number; label: string | null }>(`SELECT id, label FROM labels_in_duck ORDER BY id`);
  expect(inDuck.map((r) => [r.id, r.label])).toEqual(rows);

  await withSession(target, (s) => s.exec(`CREATE TABLE ${qualified(target.schema, 'labels_back')} (id INT, label VARCHAR(50))`));
  const copied = await withSession(target, (s) => copyDuckToTarget(session, 'labels_in_duck', s, qualified(target.schema, 'labels_back'), ['id', 'label']));
  expect(copied).toBe(rows.length);
  const back = await withSession(target, (s) => s.query<{ id: number; label: string | null }>(`SELECT id, label FROM ${qualified(target.schema, 'labels_back')} ORDER BY id`));
  expect(back.map((r) => [r.id, r.label])).toEqual(rows);
}

describe('rows between a target and DuckDB', () => {
  it('PostgreSQL: empty strings, NULLs, commas, quotes and line breaks survive both ways', async () => {
    const target = await openPostgresTarget({ name: 'test', url: pgUrl, schema: schema.schema, maxSessions: 2 });
    try {
      await roundTrip(target);
    } finally {
      await target.close();
    }
  });

  it('PGlite: the same', async () => {
    const target = await openPgliteTarget({ name: 'dev', dataDir: path.join(tmp, 'pglite'), schema: 'public', scratchDir: tmp });
    try {
      await roundTrip(target);
    } finally {
      await target.close();
    }
  });
});
