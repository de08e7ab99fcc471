/**
 * The files of a new project: generic sample data (orders of a small shop), a staging model, a mart,
 * a contract with tests and a singular test. Text only; `scaffold.ts` writes them.
 */

export interface ScaffoldFile {
  /** Project-relative, '/'-separated. */
  readonly path: string;
  readonly text: string;
}

/** Which JSON Schema a YAML file follows (files in `schemas/` of the package). */
export type SchemaName = 'project' | 'profiles' | 'model';

export interface TemplateOptions {
  readonly name: string;
  /** The `$schema` reference for a file at `filePath` (relative to the project), or undefined for none. */
  readonly schemaRef: (filePath: string, schema: SchemaName) => string | undefined;
}

/** The partition folders of the sample source, one per day. */
export const SAMPLE_DAYS: readonly string[] = ['2026-01-05', '2026-01-06', '2026-01-07'];

export function scaffoldFiles(options: TemplateOptions): readonly ScaffoldFile[] {
  const header = (filePath: string, schema: SchemaName): string => {
    const ref = options.schemaRef(filePath, schema);
    return ref ? `# yaml-language-server: $schema=${ref}\n` : '';
  };
  const file = (filePath: string, schema: SchemaName | undefined, text: string): ScaffoldFile => ({
    path: filePath,
    text: (schema ? header(filePath, schema) : '') + text,
  });
  return [
    file('project.yml', 'project', projectYml(options.name)),
    file('profiles.yml', 'profiles', PROFILES_YML),
    file('models/staging/stg_orders.sql', undefined, STG_ORDERS_SQL),
    file('models/marts/mart_daily_revenue.sql', undefined, MART_DAILY_REVENUE_SQL),
    file('models/schema.yml', 'model', SCHEMA_YML),
    file('tests/revenue_matches_orders.sql', undefined, SINGULAR_TEST_SQL),
    file('README.md', undefined, readme(options.name)),
    file('.gitignore', undefined, 'target/\n.tm/\n'),
  ];
}

function projectYml(name: string): string {
  return `# A tm project: sources (Parquet files and their contract), where models and tests live, variables.
name: ${name}
model-paths: [models]
macro-paths: [macros]
test-paths: [tests]

vars:
  # Orders at or above this amount count as large (see mart_daily_revenue).
  large_order_amount: 100

sources:
  orders:
    description: Orders of the shop, one Parquet file per day folder (Hive-partitioned by order_date).
    location: "{{ env 'ORDERS_PATH' default='data/orders' }}"
    format: parquet
    hive_partitioning: true
    date_partition: order_date
    clock_column: ordered_at
    # A re-sent order is one order: the earliest valid copy wins.
    dedup:
      key: order_id
      order: ordered_at
    columns:
      - { name: order_id, type: BIGINT, description: Order number, tests: [not_null, unique] }
      - { name: customer_id, type: BIGINT, description: Who ordered }
      - { name: status, type: VARCHAR, description: "placed, shipped or cancelled" }
      - { name: amount, type: DOUBLE, description: Order total in EUR }
      - { name: ordered_at, type: TIMESTAMP, description: When the order was placed (UTC) }
      - { name: order_date, type: DATE, description: Day folder of the file }
    # Rows that break a rule are left out of every model and counted per rule.
    rules:
      - { name: amount_not_negative, check: "amount >= 0" }
      - { name: known_status, check: "status IN ('placed', 'shipped', 'cancelled')" }
    tests:
      - row_count: { min: 1 }
`;
}

const PROFILES_YML = `# Targets. \`dev\` (the default) is PGlite, PostgreSQL embedded in tm: no server needed.
# \`prod\` is a PostgreSQL server, from the environment (the password never goes in this file):
#   TM_PG_URL=postgres://user:password@host:5432/db TM_PG_SCHEMA=analytics tm build --target prod
default_target: dev
targets:
  dev:
    type: pglite
    path: "{{ env 'TM_PGLITE_PATH' default='.tm/pglite' }}"
    schema: public
  prod:
    type: postgres
    url: "{{ env 'TM_PG_URL' }}"
    schema: "{{ env 'TM_PG_SCHEMA' default='public' }}"
    threads: 4
`;

const STG_ORDERS_SQL = `{{!-- Valid, deduplicated orders with the columns the marts read; cancelled orders left out. --}}
SELECT order_id, customer_id, status, amount, ordered_at, order_date
FROM {{source "orders"}}
WHERE status <> 'cancelled'
`;

const MART_DAILY_REVENUE_SQL = `{{!-- Revenue per day: orders, customers, revenue and the orders at or above var large_order_amount. --}}
SELECT
  order_date,
  count(*) AS orders,
  count(DISTINCT customer_id) AS customers,
  round(sum(amount), 2) AS revenue,
  count(*) FILTER (WHERE amount >= {{var "large_order_amount"}}) AS large_orders
FROM {{ref "stg_orders"}}
GROUP BY order_date
`;

const SCHEMA_YML = `# Model contracts: tm creates each table from these columns (PostgreSQL types) and runs the tests
# with \`tm test\` and \`tm build\`.
models:
  - name: stg_orders
    description: Valid orders, one row per order_id, without cancelled ones.
    config: { materialized: replace, tags: [staging] }
    primary_key: [order_id]
    columns:
      - { name: order_id, type: BIGINT, description: Order number, tests: [not_null, unique] }
      - { name: customer_id, type: BIGINT, description: Who ordered, tests: [not_null] }
      - { name: status, type: VARCHAR(20), tests: [{ accepted_values: { values: [placed, shipped] } }] }
      - { name: amount, type: "DECIMAL(12,2)", description: Order total in EUR, tests: [{ accepted_range: { min: 0 } }] }
      - { name: ordered_at, type: TIMESTAMP, tests: [not_null] }
      - { name: order_date, type: DATE, tests: [not_null] }

  - name: mart_daily_revenue
    description: Revenue per day of the valid, not cancelled orders.
    config: { materialized: replace, tags: [marts] }
    primary_key: [order_date]
    columns:
      - { name: order_date, type: DATE, description: Day (UTC), tests: [not_null, unique] }
      - { name: orders, type: INT, description: Orders that day, tests: [{ accepted_range: { min: 1 } }] }
      - { name: customers, type: INT, description: Distinct customers that day }
      - { name: revenue, type: "DECIMAL(14,2)", description: Sum of the amounts }
      - { name: large_orders, type: INT, description: "Orders at or above var large_order_amount" }
    tests:
      - row_count: { min: 1 }
      - expression:
          name: customers_at_most_orders
          expr: "customers BETWEEN 1 AND orders"
`;

const SINGULAR_TEST_SQL = `{{!-- A singular test: the rows it returns are failures. Each day's revenue is the sum of its orders. --}}
WITH by_day AS (
  SELECT order_date, round(sum(amount), 2) AS revenue FROM {{ref "stg_orders"}} GROUP BY order_date
)
SELECT m.order_date, m.revenue, d.revenue AS orders_revenue
FROM {{ref "mart_daily_revenue"}} m
FULL JOIN by_day d USING (order_date)
WHERE m.revenue IS DISTINCT FROM d.revenue
`;

function readme(name: string): string {
  return `# ${name}

A tm project: Parquet files in \`data/orders/\` (one folder per day), a staging model and a mart built
into PostgreSQL. With tm installed in this folder or a parent (\`npm install\` of the tm-transform package tarball):

    npx --no-install tm build            # models and their tests, on the embedded PGlite target (no server)
    npx --no-install tm docs generate    # target/index.html: lineage, models, columns, tests, last runs
    npx --no-install tm docs serve       # ... on http://127.0.0.1:8080
    TM_PG_URL=postgres://user@host:5432/db npx --no-install tm build --target prod

Layout: \`project.yml\` (source \`orders\` with its contract), \`profiles.yml\` (targets), \`models/\` (SQL and
the YAML contract with tests), \`tests/\` (singular tests: queries returning failing rows), \`.tm-schemas/\`
(the JSON Schemas the YAML files name, for editors with the YAML language server).
Two rows of the sample data break a rule (\`amount_not_negative\`, \`known_status\`) and one order is sent
twice: the run reports them and keeps them out of the models.
`;
}
