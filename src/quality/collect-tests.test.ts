import { describe, expect, it } from 'vitest';
import { manifest, model, singularTest, source } from '../../test-support/manifest.js';
import type { ModelNode, TestSpec } from '../manifest/types.js';
import { collectTests } from './collect-tests.js';
import { placeTest } from './placement.js';

const col = (name: string, tests: TestSpec[] = []) => ({ name, type: 'INT', tests: tests.map((t) => ({ ...t, args: { column: name, ...t.args } })) });
const t = (name: string, args: Record<string, unknown> = {}): TestSpec => ({ name, args });

function withTests(base: ModelNode, columns: ReturnType<typeof col>[], tests: TestSpec[] = [], extra: Partial<ModelNode> = {}): ModelNode {
  return { ...base, columns, tests, yamlPath: 'models/schema.yml', ...extra };
}

describe('generic tests from YAML', () => {
  it('names them like dbt and keeps config apart from arguments', () => {
    const orders = withTests(model('orders'), [col('id', [t('not_null'), t('unique')]), col('customer_id', [t('relationships', { to: 'customers', field: 'id' })]), col('status', [t('accepted_values', { values: ['a', 'b'], severity: 'warn', error_if: '>10' })])], [
      t('unique', { columns: ['id', 'status'] }),
      t('expression', { expr: 'id > 0' }),
      t('expression', { expr: 'id < 100' }),
      t('row_count', { min: 1, name: 'orders_not_empty', store_failures: true }),
    ]);
    const customers = withTests(model('customers'), [col('id')]);
    const tests = collectTests(manifest([orders, customers]));
    expect(tests.map((x) => x.name)).toEqual([
      'accepted_values_orders_status',
      'expression_orders_6a7005e',
      'expression_orders_a68695d',
      'not_null_orders_id',
      'orders_not_empty',
      'relationships_orders_customer_id_customers_id',
      'unique_orders_id',
      'unique_orders_id__status',
    ].sort());
    const accepted = tests.find((x) => x.name === 'accepted_values_orders_status')!;
    expect(accepted).toMatchObject({ kind: 'generic', column: 'status', args: { values: ['a', 'b'] }, severity: 'warn', errorIf: { op: '>', value: 10 }, storeFailures: false });
    expect(tests.find((x) => x.name === 'orders_not_empty')).toMatchObject({ storeFailures: true, uniqueId: 'test.proj.orders_not_empty' });
    expect(tests.find((x) => x.name.startsWith('relationships'))).toMatchObject({ refs: ['orders', 'customers'], sources: [] });
  });

  it('rejects unknown tests, unknown arguments, missing columns and bad thresholds, naming the file', () => {
    const check = (spec: TestSpec[], columns = [col('id')]) => () => collectTests(manifest([withTests(model('m'), columns, spec)]));
    expect(check([t('not_nul', { column: 'id' })])).toThrow(/models\/schema\.yml: model 'm': unknown test 'not_nul' \(did you mean 'not_null'\?\)/);
    expect(check([t('accepted_range', { column: 'id', mn: 1 })])).toThrow(/unknown argument 'mn' \(did you mean 'min'\?\)/);
    expect(check([t('not_null')])).toThrow(/needs a column/);
    expect(check([t('not_null', { column: 'idd' })])).toThrow(/'idd' is not a column of m \(did you mean 'id'\?\)/);
    expect(check([t('accepted_values', { column: 'id', values: [] })])).toThrow(/'values' must be a non-empty list/);
    expect(check([t('not_null', { column: 'id', warn_if: 'lots' })])).toThrow(/warn_if 'lots' must compare/);
    expect(check([t('not_null', { column: 'id', severity: 'fatal' })])).toThrow(/severity must be 'warn' or 'error'/);
    expect(check([t('relationships', { column: 'id', to: 'nowhere', field: 'id' })])).toThrow(/'nowhere' is not a model/);
    expect(check([t('recency', { column: 'id' })])).toThrow(/exactly one of 'minutes', 'hours', 'days'/);
    expect(check([t('unique', { column: 'id', name: 'x' }), t('not_null', { column: 'id', name: 'x' })])).toThrow(/two tests are named 'x'/);
  });

  it('reads a singular test\'s thresholds from {{config}} and rejects unknown keys', () => {
    const good = { ...singularTest('s', { refs: ['m'] }), severity: 'warn' as const, rawSql: '{{config severity="warn" warn_if=">3" store_failures=true}}select 1' };
    expect(collectTests(manifest([model('m'), good]))[0]).toMatchObject({ kind: 'singular', severity: 'warn', warnIf: { op: '>', value: 3 }, storeFailures: true });
    const typo = { ...singularTest('s'), rawSql: '{{config severty="warn"}}select 1' };
    expect(() => collectTests(manifest([typo]))).toThrow(/tests\/s\.sql: \{\{config severty=\.\.\.\}\}: unknown key \(did you mean 'severity'\?\)/);
  });

  it('takes a recency age from the model SLA', () => {
    const m = withTests(model('m'), [col('ts', [t('recency')])], [], { config: { ...model('m').config, sla_minutes: 5 } });
    expect(collectTests(manifest([m]))[0]).toMatchObject({ name: 'recency_m_ts', args: { minutes: 5 } });
  });

  it('places each test where its tables live and refuses a join of the two', () => {
    const temp = { ...model('stg'), config: { ...model('stg').config, materialized: 'temp' as const } };
    const src = { ...source('raw'), tests: [t('unique', { column: 'k' })] };
    const mart = withTests(model('mart', { refs: ['stg'] }), [col('k', [t('relationships', { to: 'source:raw', field: 'k' }), t('not_null')])], [], {});
    const stg = withTests(temp, [], [t('not_null', { column: 'k' })]);
    const m = manifest([src, stg, mart]);
    const placed = Object.fromEntries(collectTests(m).map((x) => [x.name, placeTest(x, m)]));
    expect(placed.unique_raw_k).toEqual({ runs: 'in-source-engine', tempModels: [], sources: ['raw'] });
    expect(placed.not_null_stg_k).toEqual({ runs: 'in-source-engine', tempModels: ['stg'], sources: [] });
    expect(placed.not_null_mart_k).toEqual({ runs: 'in-target' });
    expect(placed.relationships_mart_k_raw).toMatchObject({ runs: 'refused' });
    expect((placed.relationships_mart_k_raw as { reason: string }).reason).toMatch(/reads mart \(in PostgreSQL\) and raw \(source\) \(in DuckDB\)/);
  });
});
