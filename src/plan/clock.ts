/**
 * The time words of incremental runs, as pure functions over UTC timestamp texts
 * (`YYYY-MM-DD HH:MM:SS[.ffffff]`, the form DuckDB and PostgreSQL print):
 * stream clock C, snapshot time S = C truncated to the minute, hot range start H.
 * S and H are whole minutes, so millisecond Date arithmetic on them is exact.
 */

const MINUTE_MS = 60_000;

export function parseUtc(text: string): Date {
  const d = new Date(`${text.trim().replace(' ', 'T').slice(0, 23)}Z`);
  if (Number.isNaN(d.getTime())) throw new Error(`not a timestamp: '${text}'`);
  return d;
}

/** `YYYY-MM-DD HH:MM:SS` (whole seconds; enough for minute-aligned values). */
export function formatUtc(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** S: the clock truncated to the minute. */
export function snapshotOf(clock: string): string {
  return formatUtc(new Date(Math.floor(parseUtc(clock).getTime() / MINUTE_MS) * MINUTE_MS));
}

export interface HotStartInput {
  /** S of this run. */
  readonly snapshot: string;
  /** S of the model's previous successful run, if any (none on a first run or a full refresh). */
  readonly previousSnapshot?: string | null;
  readonly lookbackMinutes: number;
  /** H is never earlier than S minus this many hours. */
  readonly maxCatchUpHours: number;
}

/**
 * H = S - L, or S_prev - L when that is earlier (a gap after failed or missed runs is filled),
 * but never earlier than S - max catch-up.
 */
export function hotStartOf(input: HotStartInput): string {
  const s = parseUtc(input.snapshot).getTime();
  let h = s - input.lookbackMinutes * MINUTE_MS;
  if (input.previousSnapshot) h = Math.min(h, parseUtc(input.previousSnapshot).getTime() - input.lookbackMinutes * MINUTE_MS);
  h = Math.max(h, s - input.maxCatchUpHours * 60 * MINUTE_MS);
  return formatUtc(new Date(h));
}

/** UTC date (`YYYY-MM-DD`) of a timestamp text. */
export function dateOf(ts: string): string {
  return ts.trim().slice(0, 10);
}

/** The day before a `YYYY-MM-DD` date. */
export function dayBefore(date: string, days = 1): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

/** Last instant of a `YYYY-MM-DD` date. */
export function endOfDay(date: string): string {
  return `${date} 23:59:59.999999`;
}

export function isIsoDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text);
}

export function timestampLiteral(ts: string | null | undefined): string {
  return ts ? `TIMESTAMP '${ts}'` : 'CAST(NULL AS TIMESTAMP)';
}

/** `YYYY-MM-DD HH:MM:SS.ffffff`, so that timestamp texts of any precision compare as instants. */
export function normalizeTs(text: string): string {
  const [date, time = '00:00:00'] = text.trim().replace('T', ' ').split(' ');
  const [hms, frac = ''] = time.split('.');
  return `${date} ${hms}.${frac.padEnd(6, '0').slice(0, 6)}`;
}

export function sameInstant(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return normalizeTs(a) === normalizeTs(b);
}

export function latest(values: readonly (string | null | undefined)[]): string | undefined {
  let best: string | undefined;
  for (const v of values) if (v && (!best || normalizeTs(v) > normalizeTs(best))) best = v;
  return best;
}

export function earliest(values: readonly (string | null | undefined)[]): string | undefined {
  let best: string | undefined;
  for (const v of values) if (v && (!best || normalizeTs(v) < normalizeTs(best))) best = v;
  return best;
}
