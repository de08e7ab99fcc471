/**
 * A contract's column type, parsed with PostgreSQL's type grammar at load: `INTEGR` is an error at its
 * YAML line (with a did-you-mean), not a failure of the run's DDL. Also what the lossless cast to the
 * contract needs to know of a type (its family, length, precision, scale, zone).
 */
import { closestName, didYouMean } from '../core/suggest.js';

export type TypeFamily = 'integer' | 'decimal' | 'float' | 'text' | 'boolean' | 'date' | 'timestamp' | 'timestamptz' | 'time' | 'other';

export interface PgType {
  /** The canonical name: INTEGER, VARCHAR, NUMERIC, TIMESTAMPTZ... */
  readonly name: string;
  readonly family: TypeFamily;
  /** VARCHAR(n), CHAR(n): the most characters a value may have. */
  readonly length?: number;
  /** NUMERIC(p, s). */
  readonly precision?: number;
  readonly scale?: number;
  /** The smallest and largest integer of an integer type. */
  readonly range?: readonly [bigint, bigint];
  readonly array: boolean;
}

interface BaseType {
  readonly name: string;
  readonly family: TypeFamily;
  /** Takes `(n)` or `(p, s)`. */
  readonly modifiers?: 0 | 1 | 2;
  readonly zoned?: boolean;
}

const int = (name: string, bits: number): BaseType & { bits: number } => ({ name, family: 'integer', bits });
const INTEGERS = { SMALLINT: int('SMALLINT', 16), INTEGER: int('INTEGER', 32), BIGINT: int('BIGINT', 64) };

/** PostgreSQL's built-in type names (and their aliases) as a contract may write them. */
const BASE_TYPES: Readonly<Record<string, BaseType>> = {
  SMALLINT: INTEGERS.SMALLINT, INT2: INTEGERS.SMALLINT, SMALLSERIAL: INTEGERS.SMALLINT, SERIAL2: INTEGERS.SMALLINT,
  INTEGER: INTEGERS.INTEGER, INT: INTEGERS.INTEGER, INT4: INTEGERS.INTEGER, SERIAL: INTEGERS.INTEGER, SERIAL4: INTEGERS.INTEGER,
  BIGINT: INTEGERS.BIGINT, INT8: INTEGERS.BIGINT, BIGSERIAL: INTEGERS.BIGINT, SERIAL8: INTEGERS.BIGINT,
  NUMERIC: { name: 'NUMERIC', family: 'decimal', modifiers: 2 }, DECIMAL: { name: 'NUMERIC', family: 'decimal', modifiers: 2 },
  REAL: { name: 'REAL', family: 'float' }, FLOAT4: { name: 'REAL', family: 'float' },
  'DOUBLE PRECISION': { name: 'DOUBLE PRECISION', family: 'float' }, FLOAT8: { name: 'DOUBLE PRECISION', family: 'float' }, FLOAT: { name: 'DOUBLE PRECISION', family: 'float', modifiers: 1 },
  MONEY: { name: 'MONEY', family: 'other' },
  TEXT: { name: 'TEXT', family: 'text' },
  VARCHAR: { name: 'VARCHAR', family: 'text', modifiers: 1 }, 'CHARACTER VARYING': { name: 'VARCHAR', family: 'text', modifiers: 1 },
  CHAR: { name: 'CHAR', family: 'text', modifiers: 1 }, CHARACTER: { name: 'CHAR', family: 'text', modifiers: 1 }, BPCHAR: { name: 'CHAR', family: 'text', modifiers: 1 },
  BOOLEAN: { name: 'BOOLEAN', family: 'boolean' }, BOOL: { name: 'BOOLEAN', family: 'boolean' },
  DATE: { name: 'DATE', family: 'date' },
  TIMESTAMP: { name: 'TIMESTAMP', family: 'timestamp', modifiers: 1, zoned: true },
  TIMESTAMPTZ: { name: 'TIMESTAMPTZ', family: 'timestamptz', modifiers: 1 },
  TIME: { name: 'TIME', family: 'time', modifiers: 1, zoned: true }, TIMETZ: { name: 'TIMETZ', family: 'time', modifiers: 1 },
  INTERVAL: { name: 'INTERVAL', family: 'other', modifiers: 1 },
  JSON: { name: 'JSON', family: 'other' }, JSONB: { name: 'JSONB', family: 'other' }, UUID: { name: 'UUID', family: 'other' },
  BYTEA: { name: 'BYTEA', family: 'other' }, XML: { name: 'XML', family: 'other' },
  INET: { name: 'INET', family: 'other' }, CIDR: { name: 'CIDR', family: 'other' }, MACADDR: { name: 'MACADDR', family: 'other' }, MACADDR8: { name: 'MACADDR8', family: 'other' },
  BIT: { name: 'BIT', family: 'other', modifiers: 1 }, 'BIT VARYING': { name: 'VARBIT', family: 'other', modifiers: 1 }, VARBIT: { name: 'VARBIT', family: 'other', modifiers: 1 },
  POINT: { name: 'POINT', family: 'other' }, LINE: { name: 'LINE', family: 'other' }, LSEG: { name: 'LSEG', family: 'other' }, BOX: { name: 'BOX', family: 'other' },
  PATH: { name: 'PATH', family: 'other' }, POLYGON: { name: 'POLYGON', family: 'other' }, CIRCLE: { name: 'CIRCLE', family: 'other' },
  TSVECTOR: { name: 'TSVECTOR', family: 'other' }, TSQUERY: { name: 'TSQUERY', family: 'other' }, PG_LSN: { name: 'PG_LSN', family: 'other' },
};

/** name, optional `(n)` / `(p, s)`, optional `with[out] time zone`, optional `[]`s: PostgreSQL's order. */
const TYPE_PATTERN = /^([A-Z][A-Z0-9_]*(?: [A-Z][A-Z0-9_]*)*?)(?: ?\( ?(\d+) ?(?:, ?(-?\d+) ?)?\))?( (WITH|WITHOUT) TIME ZONE)?((?: ?\[ ?\d* ?\])*)$/;

/** The parsed type, or a message saying what is wrong with it (with a did-you-mean). */
export function parsePgType(text: string): PgType | { readonly error: string } {
  const t = text.trim().toUpperCase().replace(/\s+/g, ' ');
  const m = TYPE_PATTERN.exec(t);
  const base = m ? BASE_TYPES[m[1]] : undefined;
  if (!m || !base) {
    const word = (m?.[1] ?? t).replace(/[^A-Z0-9_ ].*$/, '');
    return { error: `unknown type '${text.trim()}'${didYouMean(closestName(word, Object.keys(BASE_TYPES)))}` };
  }
  const [, , first, second, zone, withOrWithout, array] = m;
  const given = first === undefined ? 0 : second === undefined ? 1 : 2;
  if (given > (base.modifiers ?? 0)) return { error: `type '${text.trim()}': ${base.name} takes ${base.modifiers ? `at most ${base.modifiers} modifier` : 'no (...) modifier'}` };
  if (zone && !base.zoned) return { error: `type '${text.trim()}': only TIME and TIMESTAMP take WITH/WITHOUT TIME ZONE` };
  const zoned = withOrWithout === 'WITH';
  const family: TypeFamily = zoned && base.family === 'timestamp' ? 'timestamptz' : base.family;
  const name = zoned ? `${base.name}TZ` : base.name;
  const bits = (base as { bits?: number }).bits;
  const range: readonly [bigint, bigint] | undefined = bits ? [-(2n ** BigInt(bits - 1)), 2n ** BigInt(bits - 1) - 1n] : undefined;
  if (base.family === 'decimal' && first !== undefined) {
    const precision = Number(first);
    const scale = Number(second ?? 0);
    if (precision < 1 || precision > 1000 || scale < 0 || scale > precision) return { error: `type '${text.trim()}': NUMERIC(p, s) needs 1 <= p <= 1000 and 0 <= s <= p` };
    return { name, family, precision, scale, array: !!array };
  }
  if (family === 'text' && base.name !== 'TEXT') {
    const length = first === undefined ? (base.name === 'CHAR' ? 1 : undefined) : Number(first);
    if (length !== undefined && length < 1) return { error: `type '${text.trim()}': the length must be at least 1` };
    return { name, family, length, array: !!array };
  }
  return { name, family, range, array: !!array };
}

/** Whether a parse failed. */
export function isTypeError(parsed: PgType | { readonly error: string }): parsed is { readonly error: string } {
  return 'error' in parsed;
}
