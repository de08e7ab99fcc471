/** PostgreSQL column types (as declared in a model's contract) -> the DuckDB type to cast results to. */
export function duckTypeFor(pgType: string): string {
  const t = pgType.trim().toUpperCase().replace(/\s+/g, ' ');
  const decimal = /^(DECIMAL|NUMERIC)\s*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$/.exec(t);
  if (decimal) return decimal[2] ? `DECIMAL${decimal[2].replace(/\s/g, '')}` : 'DECIMAL(38,10)';
  if (/^(VARCHAR|CHARACTER VARYING|TEXT|CHAR|CHARACTER)\b/.test(t)) return 'VARCHAR';
  const map: Record<string, string> = {
    INT: 'INTEGER', INTEGER: 'INTEGER', INT4: 'INTEGER', SMALLINT: 'SMALLINT', INT2: 'SMALLINT',
    BIGINT: 'BIGINT', INT8: 'BIGINT', REAL: 'FLOAT', FLOAT4: 'FLOAT', 'DOUBLE PRECISION': 'DOUBLE', FLOAT8: 'DOUBLE', FLOAT: 'DOUBLE',
    BOOLEAN: 'BOOLEAN', BOOL: 'BOOLEAN', DATE: 'DATE', TIMESTAMP: 'TIMESTAMP', 'TIMESTAMP WITHOUT TIME ZONE': 'TIMESTAMP',
    TIMESTAMPTZ: 'TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ', TIME: 'TIME', JSON: 'JSON', JSONB: 'JSON', UUID: 'UUID', BYTEA: 'BLOB',
  };
  return map[t] ?? t;
}
