/**
 * A small tm project (not TripClick) that declares every kind of data test, for the quality e2e tests:
 * a click source, a temp staging model, two tables without keys (so defects can be planted with SQL),
 * descendants for `tm build`, a custom generic test in tests/generic/ and one in macros/, a singular test.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeEventsParquet, type EventRow } from '../generator/parquet-writer.js';

const PROJECT = `
name: qfix
sources:
  clicks:
    location: "{{ env 'QFIX_DATA' }}"
    hive_partitioning: true
    date_partition: event_date
    dedup: { key: dedup_key, order: event_ts }
    tests:
      - row_count: { min: 1 }
    columns:
      - { name: dedup_key, type: VARCHAR, tests: [unique] }
      - { name: event_ts, type: TIMESTAMP }
      - { name: event_date, type: DATE }
      - { name: session_id, type: VARCHAR }
      - { name: document_id, type: BIGINT }
      - { name: title, type: VARCHAR, required: false }
    rules:
      - { name: null_key, check: "dedup_key IS NOT NULL" }
`;

const PROFILES = `
default_target: prod
targets:
  prod:
    type: postgres
    url: "{{ env 'TM_PG_URL' }}"
    schema: "{{ env 'TM_PG_SCHEMA' }}"
    threads: 2
`;

const SCHEMA = `
models:
  - name: stg_clicks
    config: { materialized: temp }
    tests:
      - not_null: { column: session_id }

  - name: docs
    columns:
      - { name: document_id, type: BIGINT, tests: [not_null, unique] }
      - { name: clicks, type: INT, tests: [{ accepted_range: { min: 1, max: 100 } }] }
      - { name: last_click, type: TIMESTAMP, tests: [{ recency: { hours: 1 } }] }
      - { name: kind, type: TEXT, tests: [{ accepted_values: { values: [a, b] } }, not_empty_string] }
    tests:
      - row_count: { min: 1, max: 5 }
      - expression: { expr: "clicks >= 1", name: docs_clicks_positive }

  - name: sessions
    columns:
      - { name: session_id, type: TEXT }
      - { name: event_date, type: DATE }
      - name: clicks
        type: INT
        tests:
          - at_most: { limit: 5 }
          - accepted_range: { max: 3, severity: warn, name: sessions_clicks_warn }
          - expression: { expr: "clicks < 4", name: sessions_clicks_threshold, warn_if: ">0", error_if: ">2" }
      - { name: first_doc, type: BIGINT, tests: [{ relationships: { to: docs, field: document_id } }] }
    tests:
      - unique: { columns: [session_id, event_date] }

  - { name: doc_report, columns: [{ name: document_id, type: BIGINT }, { name: clicks, type: INT }] }
  - { name: doc_summary, columns: [{ name: documents, type: INT }] }
  - { name: session_report, columns: [{ name: sessions, type: INT }] }
`;

const FILES: Readonly<Record<string, string>> = {
  'project.yml': PROJECT,
  'profiles.yml': PROFILES,
  'models/schema.yml': SCHEMA,
  'models/stg_clicks.sql': `SELECT dedup_key, event_ts, event_date, session_id, document_id, title FROM {{source "clicks"}}`,
  'models/docs.sql':
    `SELECT document_id, count(*) AS clicks, max(event_ts) AS last_click, min(title) AS kind FROM {{ref "stg_clicks"}} GROUP BY document_id`,
  'models/sessions.sql':
    `SELECT session_id, event_date, count(*) AS clicks, first(document_id ORDER BY event_ts) AS first_doc FROM {{ref "stg_clicks"}} GROUP BY ALL`,
  'models/doc_report.sql': `SELECT document_id, clicks FROM {{ref "docs"}}`,
  'models/doc_summary.sql': `SELECT count(*) AS documents FROM {{ref "doc_report"}}`,
  'models/session_report.sql': `SELECT count(*) AS sessions FROM {{ref "sessions"}}`,
  // A custom generic test from tests/generic/ (partial test_at_most) and one from macros/.
  'tests/generic/at_most.sql': `SELECT * FROM {{model}} AS t WHERE {{column_name}} > {{limit}}`,
  'macros/test_not_empty_string.sql': `SELECT * FROM {{model}} AS t WHERE {{column_name}} = ''`,
  'tests/docs_match_sessions.sql': [
    `{{!-- Every click has one document and one session: both tables count the same clicks. --}}`,
    `SELECT d.clicks AS doc_clicks, s.clicks AS session_clicks`,
    `FROM (SELECT sum(clicks) AS clicks FROM {{ref "docs"}}) d, (SELECT sum(clicks) AS clicks FROM {{ref "sessions"}}) s`,
    `WHERE d.clicks IS DISTINCT FROM s.clicks`,
  ].join('\n'),
};

export async function writeQualityProject(dir: string): Promise<void> {
  for (const [file, text] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text.trimStart());
  }
}

const row = (dedup_key: string, event_ts: string, session_id: string, document_id: number, title: string): EventRow => ({ dedup_key, event_ts, session_id, document_id, title });

/**
 * Five clicks of 2020-11-01: docs 1 (2 clicks, kind a, last 10:10), 2 (1, b, 10:05), 3 (2, b, 11:30);
 * sessions s1 (2 clicks), s2 (1), s3 (2). `kindOfDoc2` plants a bad value in the data itself.
 */
export function goodClicks(kindOfDoc2 = 'b'): EventRow[] {
  return [
    row('k1', '2020-11-01 10:00:00', 's1', 1, 'a'),
    row('k2', '2020-11-01 10:05:00', 's1', 2, kindOfDoc2),
    row('k3', '2020-11-01 10:10:00', 's2', 1, 'a'),
    row('k4', '2020-11-01 11:00:00', 's3', 3, 'b'),
    row('k5', '2020-11-01 11:30:00', 's3', 3, 'b'),
  ];
}

export async function writeClicks(dataDir: string, rows: readonly EventRow[]): Promise<void> {
  const dir = path.join(dataDir, 'event_date=2020-11-01');
  await mkdir(dir, { recursive: true });
  await writeEventsParquet(path.join(dir, 'part-0.parquet'), rows);
}

/** The 17 tests the project declares. */
export const QFIX_TESTS = [
  'accepted_range_docs_clicks', 'accepted_values_docs_kind', 'at_most_sessions_clicks', 'docs_clicks_positive', 'docs_match_sessions',
  'not_empty_string_docs_kind', 'not_null_docs_document_id', 'not_null_stg_clicks_session_id', 'recency_docs_last_click',
  'relationships_sessions_first_doc_docs_document_id', 'row_count_clicks', 'row_count_docs', 'sessions_clicks_threshold',
  'sessions_clicks_warn', 'unique_clicks_dedup_key', 'unique_docs_document_id', 'unique_sessions_session_id__event_date',
];
