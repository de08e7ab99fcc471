/**
 * The lossless cast to a contract, as DuckDB SQL: a value that does not fit its contract type (a fraction
 * into an integer, out of range, too long for VARCHAR(n), a timestamp with a zone into one without, more
 * decimals than NUMERIC(p, s) keeps) fails the model's query with the column, the contract's type, the
 * model's type and the value, so nothing is written. Widening casts (INTEGER into BIGINT, anything into
 * TEXT) are plain casts. The rule is stated in docs/contracts.md.
 */
import { quoteIdent, quoteLiteral } from '../core/sql-quote.js';
import { isTypeError, parsePgType, type PgType } from './pg-type.js';

/** A DuckDB result type, in the families the checks need. */
function modelFamily(duckType: string): 'integer' | 'decimal' | 'float' | 'text' | 'timestamptz' | 'other' {
  const t = duckType.trim().toUpperCase();
  if (/^(U?TINYINT|U?SMALLINT|U?INTEGER|U?BIGINT|U?HUGEINT|INT\d*)$/.test(t)) return 'integer';
  if (/^DECIMAL/.test(t)) return 'decimal';
  if (/^(FLOAT|DOUBLE|REAL)/.test(t)) return 'float';
  if (/^VARCHAR/.test(t)) return 'text';
  if (/^TIMESTAMP WITH TIME ZONE$|^TIMESTAMPTZ$/.test(t)) return 'timestamptz';
  return 'other';
}

/**
 * The expression that casts `column` (of DuckDB type `modelType`) to the contract's type `contractText`
 * (as DuckDB names it: `duckType`), failing on a value the cast would change.
 */
export function losslessCast(column: string, modelType: string, contractText: string, duckType: string): string {
  const x = quoteIdent(column);
  const cast = `CAST(${x} AS ${duckType})`;
  const parsed = parsePgType(contractText);
  if (isTypeError(parsed) || parsed.array) return cast;
  const checks = lossChecks(x, modelFamily(modelType), parsed, duckType);
  if (!checks.length) return cast;
  const fail = (why: string) =>
    `error(${quoteLiteral(`column '${column}': value `)} || CAST(${x} AS VARCHAR) || ${quoteLiteral(` of the model's ${modelType} ${why} the contract's ${contractText.trim()}`)})`;
  return `CASE ${checks.map((c) => `WHEN ${c.when} THEN ${fail(c.why)}`).join(' ')} ELSE ${cast} END`;
}

interface LossCheck {
  readonly when: string;
  readonly why: string;
}

function lossChecks(x: string, from: ReturnType<typeof modelFamily>, to: PgType, duckType: string): LossCheck[] {
  const notNull = `${x} IS NOT NULL`;
  const doesNotConvert: LossCheck = { when: `${notNull} AND TRY_CAST(${x} AS ${duckType}) IS NULL`, why: 'is out of range of (or not a value of)' };
  // A binary float's last-bit noise (0.1 + 0.2) is not a value's loss: it is compared within 1e-9 of it.
  const differs = (stored: string) => (from === 'float' ? `abs(${stored} - ${x}) > 1e-9 * greatest(1.0, abs(${x}))` : `${stored} <> ${x}`);
  switch (to.family) {
    case 'integer':
      if (from === 'decimal' || from === 'float') return [doesNotConvert, { when: differs(`trunc(${x})`), why: 'has a fraction, which would be lost in' }];
      return from === 'integer' || from === 'text' ? [doesNotConvert] : [];
    case 'decimal':
      if (from !== 'decimal' && from !== 'float' && from !== 'integer') return [];
      if (to.scale === undefined) return [doesNotConvert];
      return [doesNotConvert, { when: differs(`CAST(TRY_CAST(${x} AS ${duckType}) AS DOUBLE)`), why: 'has more decimals than' }];
    case 'float':
      return from === 'decimal' || from === 'integer' || from === 'float' ? [doesNotConvert] : [];
    case 'text':
      return to.length === undefined ? [] : [{ when: `length(CAST(${x} AS VARCHAR)) > ${to.length}`, why: `is longer than the ${to.length} characters of` }];
    case 'timestamp':
      return from === 'timestamptz' ? [{ when: notNull, why: 'has a time zone, which would be dropped in' }] : [];
    default:
      return [];
  }
}
