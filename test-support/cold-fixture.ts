import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeEventsFile, type FixtureEvent } from './fixtures.js';

const long = 'X'.repeat(600);

/**
 * A small curated stream whose cold marts are computed by hand (expected rows below):
 * replayed and conflicting duplicates, an invalid earlier copy, odd clinical areas, a session across
 * midnight, a title over 500 characters, title and peak-hour ties, one bad row of each kind, a corrupt
 * file and a file without a required column. Use with `--now 2020-03-03T00:00:00Z`.
 */
export async function writeColdFixture(root: string): Promise<void> {
  const a: FixtureEvent[] = [
    { dedup_key: 'k1', event_ts: '2020-03-01 10:00:00', session_id: 's1', document_id: 100, title: 'T100 old', clinical_areas: ',Cardiology, Oncology ,Cardiology' },
    { dedup_key: 'k2', event_ts: '2020-03-01 10:00:10.5', session_id: 's1', document_id: 101, title: 'T101', clinical_areas: '' },
    { dedup_key: 'k3', event_ts: '2020-03-01 10:30:00', session_id: 's2', document_id: 100, title: 'T100 new', clinical_areas: null },
    { dedup_key: 'k4', event_ts: '2020-03-01 23:59:50', session_id: 's3', document_id: 102, title: long, clinical_areas: 'Oncology' },
    { dedup_key: 'k5', event_ts: '2020-03-01 11:00:00', session_id: 's2', document_id: 101, title: 'T101 b', clinical_areas: ' Surgery ' },
    { dedup_key: 'k6', event_ts: '2020-03-01 11:30:00', session_id: 's4', document_id: 103, title: 'T103a', clinical_areas: 'Dentistry' },
    { dedup_key: 'k7', event_ts: '2020-03-01 12:00:00', session_id: 's1', document_id: 100, title: 'T100 noon', clinical_areas: 'Cardiology' },
  ];
  const b: FixtureEvent[] = [
    { dedup_key: 'k5', event_ts: '2020-03-01 11:00:05', session_id: 's2', document_id: 101, title: 'T101 later copy', clinical_areas: 'Urology' },
    { dedup_key: 'k6', event_ts: '2020-03-01 11:30:00', session_id: 's4', document_id: 104, title: 'T104b', clinical_areas: 'Radiology' },
    a[0],
    { dedup_key: 'k7', event_ts: '2020-03-01 09:00:00', session_id: null, document_id: 100, title: 'invalid earlier copy', clinical_areas: 'Psychiatry' },
  ];
  const c: FixtureEvent[] = [
    { dedup_key: 'k8', event_ts: '2020-03-02 00:00:05', session_id: 's3', document_id: 102, title: 'T102', clinical_areas: 'Oncology,,oncology' },
    { dedup_key: 'k9', event_ts: '2020-03-02 00:00:09.9', session_id: 's3', document_id: 102, title: 'nine', clinical_areas: '' },
    { dedup_key: 'k10', event_ts: '2020-03-02 00:00:09.9', session_id: 's3', document_id: 102, title: 'ten', clinical_areas: null },
    { dedup_key: 'k11', event_ts: '2020-03-02 05:00:00', session_id: 's5', document_id: 105, title: 'T105' },
    { dedup_key: 'k12', event_ts: '2020-03-02 05:10:00', session_id: 's5', document_id: 105, title: 'T105' },
    { dedup_key: 'k13', event_ts: '2020-03-02 05:20:00', session_id: 's5', document_id: 106, title: 'T106' },
    { dedup_key: null, event_ts: '2020-03-02 06:00:00', session_id: 's6', document_id: 107 },
    { dedup_key: 'bad_ts', event_ts: null, session_id: 's6', document_id: 107 },
    { dedup_key: 'bad_doc', event_ts: '2020-03-02 06:00:00', session_id: 's6', document_id: null },
    { dedup_key: 'bad_session', event_ts: '2020-03-02 06:00:00', session_id: 'x'.repeat(51), document_id: 107 },
    { dedup_key: 'bad_date', event_ts: '2020-03-01 05:00:00', session_id: 's6', document_id: 107 },
  ];
  await writeEventsFile(root, '2020-03-01', 'a.parquet', a);
  await writeEventsFile(root, '2020-03-01', 'b.parquet', b);
  await writeEventsFile(root, '2020-03-02', 'c.parquet', c);
  await writeEventsFile(root, '2031-01-01', 'future.parquet', [{ dedup_key: 'bad_future', event_ts: '2031-01-01 00:00:00', session_id: 's6', document_id: 107 }]);
  await writeEventsFile(root, '2020-03-02', 'no_session.parquet', [{ dedup_key: 'k99', event_ts: '2020-03-02 07:00:00', session_id: 's9', document_id: 1 }], { omitColumns: ['session_id'] });
  await mkdir(path.join(root, 'event_date=2020-03-02'), { recursive: true });
  await writeFile(path.join(root, 'event_date=2020-03-02', 'corrupt.parquet'), 'this is not parquet');
}

export const FIXTURE_NOW = '2020-03-03T00:00:00Z';

export const expectedExcluded = {
  null_dedup_key: 1, null_event_ts: 1, null_session_id: 1, null_document_id: 1,
  session_id_too_long: 1, event_date_mismatch: 1, event_ts_in_future: 1,
};

export const expected = {
  mart_session_analysis: [
    { session_id: 's1', event_date: '2020-03-01', click_count: 3, unique_docs: 2, first_click_ts: '2020-03-01 10:00:00', last_click_ts: '2020-03-01 12:00:00', session_duration_sec: 7200 },
    { session_id: 's2', event_date: '2020-03-01', click_count: 2, unique_docs: 2, first_click_ts: '2020-03-01 10:30:00', last_click_ts: '2020-03-01 11:00:00', session_duration_sec: 1800 },
    { session_id: 's3', event_date: '2020-03-01', click_count: 1, unique_docs: 1, first_click_ts: '2020-03-01 23:59:50', last_click_ts: '2020-03-01 23:59:50', session_duration_sec: 0 },
    { session_id: 's3', event_date: '2020-03-02', click_count: 3, unique_docs: 1, first_click_ts: '2020-03-02 00:00:05', last_click_ts: '2020-03-02 00:00:09.9', session_duration_sec: 4 },
    { session_id: 's4', event_date: '2020-03-01', click_count: 1, unique_docs: 1, first_click_ts: '2020-03-01 11:30:00', last_click_ts: '2020-03-01 11:30:00', session_duration_sec: 0 },
    { session_id: 's5', event_date: '2020-03-02', click_count: 3, unique_docs: 2, first_click_ts: '2020-03-02 05:00:00', last_click_ts: '2020-03-02 05:20:00', session_duration_sec: 1200 },
  ],
  mart_daily_traffic: [
    { event_date: '2020-03-01', total_events: 7, unique_sessions: 4, unique_documents: 4, peak_hour: 10 },
    { event_date: '2020-03-02', total_events: 6, unique_sessions: 2, unique_documents: 3, peak_hour: 0 },
  ],
  mart_clinical_areas: [
    { event_date: '2020-03-01', clinical_area: 'Cardiology', search_count: 2, unique_sessions: 1 },
    { event_date: '2020-03-01', clinical_area: 'Dentistry', search_count: 1, unique_sessions: 1 },
    { event_date: '2020-03-01', clinical_area: 'Oncology', search_count: 2, unique_sessions: 2 },
    { event_date: '2020-03-01', clinical_area: 'Surgery', search_count: 1, unique_sessions: 1 },
    { event_date: '2020-03-02', clinical_area: 'Oncology', search_count: 1, unique_sessions: 1 },
    { event_date: '2020-03-02', clinical_area: 'oncology', search_count: 1, unique_sessions: 1 },
  ],
  mart_popular_documents: [
    { event_date: '2020-03-01', document_id: 100, title: 'T100 noon', view_count: 3, unique_sessions: 2 },
    { event_date: '2020-03-01', document_id: 101, title: 'T101 b', view_count: 2, unique_sessions: 2 },
    { event_date: '2020-03-01', document_id: 102, title: 'X'.repeat(500), view_count: 1, unique_sessions: 1 },
    { event_date: '2020-03-01', document_id: 103, title: 'T103a', view_count: 1, unique_sessions: 1 },
    { event_date: '2020-03-02', document_id: 102, title: 'nine', view_count: 3, unique_sessions: 1 },
    { event_date: '2020-03-02', document_id: 105, title: 'T105', view_count: 2, unique_sessions: 1 },
    { event_date: '2020-03-02', document_id: 106, title: 'T106', view_count: 1, unique_sessions: 1 },
  ],
} as const;

/** ORDER BY for each mart, by its primary key. */
export const martOrder: Record<keyof typeof expected, string> = {
  mart_session_analysis: 'session_id, event_date',
  mart_daily_traffic: 'event_date',
  mart_clinical_areas: 'event_date, clinical_area COLLATE "C"',
  mart_popular_documents: 'event_date, document_id',
};
