import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, type DuckDb, type DuckSession } from '../duckdb.js';
import { duckTypeFor } from '../type-map.js';
import { losslessCast } from './lossless-cast.js';
import { isTypeError, parsePgType } from '../../manifest/pg-type.js';

describe('contract types with PostgreSQL\'s grammar', () => {
  it('reads names, aliases, modifiers, zones and arrays', () => {
    expect(parsePgType('int')).toMatchObject({ name: 'INTEGER', family: 'integer', range: [-2147483648n, 2147483647n] });
    expect(parsePgType('character varying ( 12 )')).toMatchObject({ name: 'VARCHAR', length: 12 });
    expect(parsePgType('DECIMAL(12,2)')).toMatchObject({ name: 'NUMERIC', precision: 12, scale: 2 });
    expect(parsePgType('timestamp(3) with time zone')).toMatchObject({ name: 'TIMESTAMPTZ', family: 'timestamptz' });
    expect(parsePgType('TEXT[]')).toMatchObject({ name: 'TEXT', array: true });
  });

  it('refuses what PostgreSQL would, with a did-you-mean', () => {
    expect(parsePgType('INTEGR')).toEqual({ error: "unknown type 'INTEGR' (did you mean 'INTEGER'?)" });
    expect(parsePgType('VARCHR(3)')).toEqual({ error: "unknown type 'VARCHR(3)' (did you mean 'VARCHAR'?)" });
    expect(isTypeError(parsePgType('INT(4)'))).toBe(true);
    expect(isTypeError(parsePgType('DATE WITH TIME ZONE'))).toBe(true);
    expect(isTypeError(parsePgType('NUMERIC(2,5)'))).toBe(true);
  });
});

/** The cast on real DuckDB: a value the cast would change fails with column, both types and the value. */
describe('the lossless cast to a contract', () => {
  let db: DuckDb;
  let duck: DuckSession;
  beforeAll(async () => {
    db = await openDuckDb({ memoryLimit: '256MB', tempDirectory: os.tmpdir(), threads: 1 });
    duck = await db.connect();
  });
  afterAll(() => db?.close());

  /** Casts one value (an SQL literal) to a contract type: the value stored, or the error's message. */
  const castOne = async (literal: string, contract: string): Promise<unknown> => {
    const [{ t }] = await duck.all<{ t: string }>(`SELECT typeof(${literal}) AS t`);
    const sql = `SELECT CAST(${losslessCast('v', t, contract, duckTypeFor(contract))} AS VARCHAR) AS v FROM (SELECT ${literal} AS v)`;
    return duck.all<{ v: string }>(sql).then((rows) => rows[0].v, (err: Error) => err.message);
  };

  it('fails a value that would change, naming the column, the types and the value', async () => {
    expect(await castOne('549.25', 'SMALLINT')).toMatch(/column 'v': value 549\.25 of the model's DECIMAL\(5,2\) has a fraction, which would be lost in the contract's SMALLINT/);
    expect(await castOne('70000', 'SMALLINT')).toMatch(/column 'v': value 70000 of the model's INTEGER is out of range of .*SMALLINT/);
    expect(await castOne('1.5::DOUBLE', 'INT')).toMatch(/value 1\.5 of the model's DOUBLE has a fraction/);
    expect(await castOne("'abcd'", 'VARCHAR(3)')).toMatch(/column 'v': value abcd of the model's VARCHAR is longer than the 3 characters of the contract's VARCHAR\(3\)/);
    expect(await castOne("TIMESTAMPTZ '2020-01-01 10:00:00+02'", 'TIMESTAMP')).toMatch(/of the model's TIMESTAMP WITH TIME ZONE has a time zone, which would be dropped in the contract's TIMESTAMP/);
    expect(await castOne('1.125', 'NUMERIC(6,2)')).toMatch(/value 1\.125 of the model's DECIMAL\(4,3\) has more decimals than the contract's NUMERIC\(6,2\)/);
  });

  it('keeps widening casts and values that fit', async () => {
    expect(await castOne('549.00', 'SMALLINT')).toBe('549');
    expect(await castOne('42', 'BIGINT')).toBe('42');
    expect(await castOne('549.25', 'TEXT')).toBe('549.25');
    expect(await castOne("'abc'", 'VARCHAR(3)')).toBe('abc');
    expect(await castOne('1.5', 'NUMERIC(6,2)')).toBe('1.50');
    expect(await castOne('NULL::DECIMAL(5,2)', 'INT')).toBe(null);
    expect(await castOne('(0.1::DOUBLE + 0.2::DOUBLE)', 'NUMERIC(6,2)')).toBe('0.30'); // float noise is no loss
    expect(await castOne('0.125::DOUBLE', 'NUMERIC(6,2)')).toMatch(/value 0\.125 of the model's DOUBLE has more decimals than/);
    expect(await castOne("TIMESTAMP '2020-01-01 10:00:00'", 'TIMESTAMPTZ')).toBe('2020-01-01 10:00:00+00');
  });
});
