import { describe, expect, it } from 'vitest';
import type { Manifest, ModelNode } from '../manifest/types.js';
import { manifest, model } from '../../test-support/manifest.js';
import { canonicalSql, fingerprintParts, normalizeType } from './model-fingerprint.js';

const SQL = `SELECT event_date,   count(*) AS n -- per day
FROM {{ref "stg_events"}}
WHERE title <> 'a  b' AND n > {{var "min_clicks"}}
GROUP BY event_date`;

const base: ModelNode = {
  ...model('mart', { refs: ['stg_events'] }),
  rawSql: SQL,
  columns: [{ name: 'event_date', type: 'DATE' }, { name: 'n', type: 'INT' }],
  primaryKey: ['event_date'],
};

function project(m: ModelNode, extra: Partial<Manifest> = {}): Manifest {
  return { ...manifest([m]), vars: { min_clicks: 1, unused: 'x' }, ...extra };
}

/** The parts of `changed` that differ from the base model's. */
function changedParts(changed: ModelNode, extra: Partial<Manifest> = {}, env: NodeJS.ProcessEnv = {}): string[] {
  const before = fingerprintParts(base, project(base), env);
  const after = fingerprintParts(changed, project(changed, extra), env);
  return Object.keys(before).filter((k) => before[k as keyof typeof before] !== after[k as keyof typeof after]);
}

describe('a model fingerprint in parts', () => {
  it('ignores whitespace-only edits (comments reflowed too), not edits inside literals or comments', () => {
    const reflowed = SQL.replace('event_date,   count(*)', 'event_date ,count( * )').replace('\nFROM', '\n\n    FROM').replaceAll('{{ref "stg_events"}}', '{{ ref "stg_events" }}');
    expect(changedParts({ ...base, rawSql: `\n${reflowed}  \n` })).toEqual([]);
    expect(changedParts({ ...base, rawSql: SQL.replace("'a  b'", "'a b'") })).toEqual(['body']);
    expect(changedParts({ ...base, rawSql: SQL.replace('-- per day', '-- per  UTC day') })).toEqual(['body']);
    expect(canonicalSql('-- per day, as  noted\nSELECT 1')).toBe(canonicalSql('--  per day ,as noted\n  SELECT 1'));
    // a line comment ends its line: moving code into it is not a whitespace change
    expect(canonicalSql('-- x\nSELECT 1')).not.toBe(canonicalSql('-- x SELECT 1'));
    expect(changedParts({ ...base, rawSql: SQL.replace('count(*)', 'count(DISTINCT session_id)') })).toEqual(['body']);
  });

  it('tells config, contract, vars and macros apart', () => {
    expect(changedParts({ ...base, config: { ...base.config, engine: 'postgres' } })).toEqual(['config']);
    expect(changedParts({ ...base, columns: [...base.columns, { name: 'm', type: 'INT' }] })).toEqual(['contract']);
    expect(changedParts({ ...base, primaryKey: ['event_date', 'n'] })).toEqual(['contract']);
    expect(changedParts(base, { vars: { min_clicks: 2, unused: 'x' } })).toEqual(['vars']);
    const partial = { name: 'filters', path: 'macros/filters.sql', kind: 'partial' as const, text: 'AND true' };
    const withPartial = { ...base, rawSql: `${SQL}\n{{> filters}}` };
    const before = fingerprintParts(withPartial, project(withPartial, { macros: [partial] }), {});
    const after = fingerprintParts(withPartial, project(withPartial, { macros: [{ ...partial, text: 'AND false' }] }), {});
    expect(Object.keys(before).filter((k) => before[k as 'macros'] !== after[k as 'macros'])).toEqual(['macros']);
  });

  it('is not moved by what does not reach the rows: unused vars, env vars the SQL does not read, tags, descriptions, tests, type spelling', () => {
    expect(changedParts(base, { vars: { min_clicks: 1, unused: 'y' } })).toEqual([]);
    expect(changedParts(base, {}, { TM_PG_SCHEMA: 'pr_42', TM_PG_URL: 'postgres://elsewhere/db' })).toEqual([]);
    expect(changedParts({ ...base, config: { ...base.config, tags: ['cold', 'new'], sla_minutes: 5 }, description: 'Now documented' })).toEqual([]);
    expect(changedParts({ ...base, columns: [{ name: 'event_date', type: 'date', tests: [{ name: 'not_null', args: {} }] }, { name: 'n', type: 'integer' }] })).toEqual([]);
    expect(changedParts({ ...base, macros: [] } as ModelNode, { macros: [{ name: 'other', path: 'macros/other.sql', kind: 'partial', text: 'x' }] })).toEqual([]);
  });

  it('counts the value of an env var the SQL reads', () => {
    const withEnv = { ...base, rawSql: `${SQL} AND region = '{{env "REGION"}}'` };
    const a = fingerprintParts(withEnv, project(withEnv), { REGION: 'eu' });
    const b = fingerprintParts(withEnv, project(withEnv), { REGION: 'us' });
    expect(a.vars).not.toBe(b.vars);
    expect(a.body).toBe(b.body);
  });

  it('normalizes type spellings as PostgreSQL does', () => {
    expect(normalizeType('VARCHAR( 50 )')).toBe('character varying(50)');
    expect(normalizeType('DECIMAL(10, 2)')).toBe('numeric(10,2)');
    expect(normalizeType('INT')).toBe(normalizeType('integer'));
    expect(normalizeType('BIGINT')).not.toBe(normalizeType('INT'));
  });
});
