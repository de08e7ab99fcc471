/**
 * The lossless cast to a contract, as DuckDB SQL: a value that does not fit its contract type (a fraction
 * into an integer, out of range, too long for VARCHAR(n), a timestamp with a zone into one without, more
 * decimals than NUMERIC(p, s) keeps) fails the model's query with the column, the contract's type, the
 * model's type and the value, so nothing is written. Widening casts (INTEGER into BIGINT, anything into
 * TEXT) are plain casts. The rule is stated in docs/contracts.md.
 */
import { quoteIdent, quoteLiteral } from '../../core/sql-quote.js';
import { isTypeError, parsePgType, type PgType } from '../../manifest/pg-type.js';

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

/** Marks a lossless-cast failure raised inside PostgreSQL (which has no error() function in plain SQL). */
const PG_MARK = 'tm contract: ';

/**
 * For a model whose SQL runs in PostgreSQL (`engine: postgres`), where the INSERT's assignment cast would
 * round a fraction into an integer, or a value into NUMERIC(p, s), without a word: a WHERE clause over the
 * model's rows (aliased `m`) that fails on such a value with the same message as the DuckDB cast. Range,
 * VARCHAR(n) and the like PostgreSQL refuses itself; this names the column. Empty when nothing can be lost.
 */
export function pgContractGuard(columns: readonly { readonly name: string; readonly type: string }[]): string {
  const guards = columns.flatMap((c) => {
    const parsed = parsePgType(c.type);
    if (isTypeError(parsed) || parsed.array) return [];
    const x = `m.${quoteIdent(c.name)}`;
    const asText = `CAST(${x} AS TEXT)`;
    const fail = (why: string) =>
      `CAST(${quoteLiteral(`${PG_MARK}column '${c.name}': value `)} || ${asText} || ${quoteLiteral(" of the model's ")} || CAST(pg_typeof(${x}) AS TEXT) || ${quoteLiteral(` ${why} the contract's ${c.type.trim()}`)} AS INTEGER)`;
    const decimals = parsed.family === 'integer' ? 0 : parsed.family === 'decimal' ? parsed.scale : undefined;
    // PostgreSQL refuses an integer out of range itself, without naming the column: named here first.
    const whole = `substring(${asText} from '^-?[0-9]+')`;
    const range = parsed.family === 'integer' && parsed.range ? [`CASE WHEN CAST(${whole} AS NUMERIC) NOT BETWEEN ${parsed.range[0]} AND ${parsed.range[1]} THEN ${fail('is out of range of')} END`] : [];
    if (decimals !== undefined) return [...range, `CASE WHEN ${asText} ~ '\\.[0-9]{${decimals}}[0-9]*[1-9]' THEN ${fail(decimals ? 'has more decimals than' : 'has a fraction, which would be lost in')} END`];
    if (parsed.family === 'text' && parsed.length !== undefined) return [`CASE WHEN length(${asText}) > ${parsed.length} THEN ${fail(`is longer than the ${parsed.length} characters of`)} END`];
    if (parsed.family === 'timestamp') return [`CASE WHEN ${x} IS NOT NULL AND pg_typeof(${x}) = 'timestamp with time zone'::regtype THEN ${fail('has a time zone, which would be dropped in')} END`];
    return [];
  });
  return guards.length ? ` WHERE ${guards.map((g) => `(${g}) IS NULL`).join(' AND ')}` : '';
}

/** The lossless-cast message inside PostgreSQL's cast error, or undefined for any other error. */
export function pgContractViolation(err: unknown): string | undefined {
  const m = new RegExp(`"${PG_MARK}([\\s\\S]*)"$`).exec((err as { message?: string } | null)?.message ?? '');
  return m?.[1];
}
