import { describe, expect, it } from 'vitest';
import type { ChartSpec, DashboardNode } from '../manifest/dashboard-types.js';
import type { ModelNode } from '../manifest/types.js';
import { manifest, model } from '../../test-support/manifest.js';
import { categorize } from './change-category.js';
import { contractOf } from './model-fingerprint.js';

const traffic: ModelNode = {
  ...model('traffic'),
  columns: [{ name: 'event_date', type: 'DATE' }, { name: 'total_events', type: 'INT' }, { name: 'peak_hour', type: 'INT' }],
  primaryKey: ['event_date'],
};
const chart = (name: string, spec: Partial<ChartSpec>): ChartSpec => ({
  name, title: name, description: '', model: 'traffic', form: 'line', columns: [], metrics: [], groupBy: [], filters: [], orderBy: [], place: { row: 1, width: 6, height: 30 }, line: 1, ...spec,
});
const dashboard: DashboardNode = {
  kind: 'dashboard', uniqueId: 'dashboard.proj.daily', name: 'daily', title: 'Daily', description: '', path: 'dashboards/d.yml', line: 1, refreshSeconds: 0, refs: ['traffic'],
  charts: [
    chart('events_per_day', { x: 'event_date', metrics: [{ kind: 'aggregate', aggregate: 'sum', column: 'total_events', label: 'events' }] }),
    chart('peak_hours', { form: 'heatmap', x: 'event_date', y: 'peak_hour' }),
    chart('peak_share', { form: 'big_number', metrics: [{ kind: 'sql', sql: 'avg(peak_hour) / 24', label: 'share' }] }),
  ],
};
const project = { ...manifest([traffic]), dashboards: new Map([['daily', dashboard]]) };
const stored = contractOf(traffic);

describe('change categories', () => {
  it('a body-only change or an added column is non-breaking', () => {
    expect(categorize(traffic, project, ['body'], stored)).toMatchObject({ category: 'non-breaking', reasons: [], charts: [] });
    const added = { ...traffic, columns: [...traffic.columns, { name: 'unique_docs', type: 'INT' }] };
    expect(categorize(added, project, ['contract'], stored)).toMatchObject({ category: 'non-breaking', reasons: ['column unique_docs added'] });
  });

  it('a dropped, renamed or retyped column, or a new key, is breaking, with the charts that read it', () => {
    const dropped = { ...traffic, columns: traffic.columns.slice(0, 2) };
    expect(categorize(dropped, project, ['contract'], stored)).toEqual({
      model: 'traffic', category: 'breaking', parts: ['contract'], reasons: ['column peak_hour dropped'],
      charts: [{ dashboard: 'daily', chart: 'peak_hours', columns: ['peak_hour'] }, { dashboard: 'daily', chart: 'peak_share', columns: ['peak_hour'] }],
    });
    const renamed = { ...traffic, columns: [traffic.columns[0], { name: 'events', type: 'integer' }, traffic.columns[2]] };
    expect(categorize(renamed, project, ['contract'], stored)).toMatchObject({ category: 'breaking', reasons: ['column total_events renamed to events'], charts: [{ chart: 'events_per_day' }] });
    const retyped = { ...traffic, columns: [traffic.columns[0], { name: 'total_events', type: 'BIGINT' }, traffic.columns[2]] };
    expect(categorize(retyped, project, ['contract'], stored).reasons).toEqual(['column total_events retyped integer -> bigint']);
    expect(categorize({ ...traffic, primaryKey: ['event_date', 'peak_hour'] }, project, ['contract'], stored)).toMatchObject({ category: 'breaking', reasons: ['primary key (event_date) -> (event_date, peak_hour)'], charts: [] });
  });

  it('new when never built, unknown without a stored contract', () => {
    expect(categorize(traffic, project, undefined, undefined).category).toBe('new');
    expect(categorize(traffic, project, ['body'], undefined).category).toBe('unknown');
  });
});
