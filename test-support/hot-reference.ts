/**
 * A straightforward TypeScript reading of the hot marts and reconciliation (shared/spec/marts.md
 * sections 1, 2, 3 and 5), written without looking at the SQL models: the e2e tests compare the
 * tables tm builds with what this computes from the same fixture files.
 */

export interface FixtureRow {
  readonly dedup_key: string | null;
  /** 'YYYY-MM-DD HH:MM:SS[.mmm]' (UTC) */
  readonly event_ts: string | null;
  readonly session_id: string | null;
  readonly document_id: number | null;
  readonly title?: string;
  readonly clinical_areas?: string | null;
}

/** A visible file: its path (dedup ties break on it), its date folder and its rows. */
export interface FixtureFile {
  readonly path: string;
  readonly folderDate: string;
  readonly rows: readonly FixtureRow[];
}

export interface Vars {
  readonly lookback: number;
  readonly retentionHours: number;
  readonly snapshotRetentionHours: number;
  readonly anomalyRetentionDays: number;
  readonly warning: number;
  readonly critical: number;
}

export const DEFAULT_VARS: Vars = { lookback: 15, retentionHours: 48, snapshotRetentionHours: 24, anomalyRetentionDays: 30, warning: 50, critical: 100 };

export interface MinuteRow { event_minute: string; total_clicks: number; unique_sessions: number; unique_docs: number; updated_at: string }
export interface TopDocRow { snapshot_ts: string; rank: number; document_id: number; title: string; click_count: number; unique_sessions: number }
export interface TrendRow { snapshot_ts: string; clinical_area: string; click_count: number; unique_sessions: number; trend_pct: string | null }
export interface AnomalyRow { detected_ts: string; session_id: string; window_start: string; window_end: string; click_count: number; severity: string }
export interface DriftRow { event_date: string; hot_clicks: number; cold_clicks: number; drift_clicks: number; reconciled_at: string }

/** What the hot tables hold after some runs, and the snapshot time S each run reached. */
export interface HotState {
  readonly minute: readonly MinuteRow[];
  readonly topDocs: readonly TopDocRow[];
  readonly trend: readonly TrendRow[];
  readonly anomalies: readonly AnomalyRow[];
  readonly previousSnapshot?: number;
}

export const EMPTY_STATE: HotState = { minute: [], topDocs: [], trend: [], anomalies: [] };

interface Ev { key: string; ts: number; session: string; doc: number; title: string; areas: string | null; file: string }

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export function ms(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

/** PostgreSQL's text form of a TIMESTAMP (fraction without trailing zeros). */
export function pgText(t: number): string {
  const iso = new Date(t).toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''}`;
}

const floorMinute = (t: number) => Math.floor(t / MIN) * MIN;
const floorDay = (t: number) => Math.floor(t / DAY) * DAY;

/** Valid, deduplicated events of the visible files (section 1). */
export function validEvents(files: readonly FixtureFile[], now: string): Ev[] {
  const best = new Map<string, Ev>();
  const limit = ms(now) + 5 * MIN;
  for (const f of files) {
    for (const r of f.rows) {
      if (r.dedup_key === null || r.event_ts === null || r.session_id === null || r.document_id === null) continue;
      if (r.session_id.length > 50) continue;
      const t = ms(r.event_ts);
      if (new Date(t).toISOString().slice(0, 10) !== f.folderDate) continue;
      if (t > limit) continue;
      const e: Ev = { key: r.dedup_key, ts: t, session: r.session_id, doc: r.document_id, title: r.title ?? '', areas: r.clinical_areas === undefined ? '' : r.clinical_areas, file: f.path };
      const old = best.get(e.key);
      if (!old || e.ts < old.ts || (e.ts === old.ts && e.file < old.file)) best.set(e.key, e);
    }
  }
  return [...best.values()];
}

/** One hot run over the visible files, starting from `state` (all four models have something new). */
export function hotRun(state: HotState, files: readonly FixtureFile[], now: string, vars: Vars = DEFAULT_VARS): HotState & { clock: number; snapshot: number; hotStart: number } {
  const events = validEvents(files, now);
  const clock = Math.max(...events.map((e) => e.ts));
  const S = floorMinute(clock);
  let H = S - vars.lookback * MIN;
  if (state.previousSnapshot !== undefined) H = Math.min(H, state.previousSnapshot - vars.lookback * MIN);
  H = Math.max(H, S - vars.retentionHours * HOUR);
  const updatedAt = pgText(ms(now));

  // Minute table: every minute of [H, C] with events, recomputed; whole days past retention deleted.
  const minutes = new Map(state.minute.map((r) => [ms(r.event_minute), r]));
  const byMinute = groupBy(events.filter((e) => floorMinute(e.ts) >= H && e.ts <= clock), (e) => floorMinute(e.ts));
  for (const [m, evs] of byMinute) {
    minutes.set(m, { event_minute: pgText(m), total_clicks: evs.length, unique_sessions: distinct(evs, (e) => e.session), unique_docs: distinct(evs, (e) => e.doc), updated_at: updatedAt });
  }
  for (const m of [...minutes.keys()]) if (floorDay(m) + DAY < S - vars.retentionHours * HOUR) minutes.delete(m);

  // Top documents of [S - 60 min, S).
  const lastHour = events.filter((e) => e.ts >= S - HOUR && e.ts < S);
  const docs = [...groupBy(lastHour, (e) => e.doc)].map(([doc, evs]) => {
    const latest = [...evs].sort((a, b) => b.ts - a.ts || (b.key < a.key ? -1 : b.key > a.key ? 1 : 0))[0];
    return { document_id: doc, title: latest.title.slice(0, 500), click_count: evs.length, unique_sessions: distinct(evs, (e) => e.session) };
  });
  docs.sort((a, b) => b.click_count - a.click_count || b.unique_sessions - a.unique_sessions || a.document_id - b.document_id);
  const snap = pgText(S);
  const topDocs = [
    ...state.topDocs.filter((r) => r.snapshot_ts !== snap && ms(r.snapshot_ts) >= S - vars.snapshotRetentionHours * HOUR),
    ...docs.slice(0, 20).map((d, i) => ({ snapshot_ts: snap, rank: i + 1, ...d })),
  ];

  // Clinical trend: [S - 24 h, S) against [S - 48 h, S - 24 h).
  const areaStats = new Map<string, { cur: number; prev: number; sessions: Set<string> }>();
  for (const e of events) {
    if (e.ts < S - 2 * DAY || e.ts >= S) continue;
    for (const area of areasOf(e.areas)) {
      const a = areaStats.get(area) ?? { cur: 0, prev: 0, sessions: new Set<string>() };
      if (e.ts >= S - DAY) {
        a.cur++;
        a.sessions.add(e.session);
      } else a.prev++;
      areaStats.set(area, a);
    }
  }
  const trend = [
    ...state.trend.filter((r) => r.snapshot_ts !== snap && ms(r.snapshot_ts) >= S - vars.snapshotRetentionHours * HOUR),
    ...[...areaStats].map(([area, a]) => ({ snapshot_ts: snap, clinical_area: area, click_count: a.cur, unique_sessions: a.sessions.size, trend_pct: a.prev === 0 ? null : percent(a.cur, a.prev) })),
  ];

  // Anomalies: sessions with events in [H, C], over their events from H - 60 min on.
  let anomalies = [...state.anomalies];
  const active = new Set(events.filter((e) => e.ts >= H && e.ts <= clock).map((e) => e.session));
  for (const session of [...active].sort()) {
    const times = events.filter((e) => e.session === session && e.ts >= H - HOUR && e.ts <= clock).map((e) => e.ts);
    const first = floorMinute(Math.min(...times)) - 4 * MIN;
    const last = floorMinute(Math.max(...times));
    const hot: { ws: number; n: number }[] = [];
    for (let ws = Math.max(first, H - HOUR); ws <= last; ws += MIN) {
      const n = times.filter((t) => t >= ws && t < ws + 5 * MIN).length;
      if (n >= vars.warning) hot.push({ ws, n });
    }
    const episodes: { start: number; end: number; count: number }[] = [];
    for (const w of hot) {
      const cur = episodes[episodes.length - 1];
      if (cur && w.ws <= cur.end) {
        cur.end = w.ws + 5 * MIN;
        cur.count = Math.max(cur.count, w.n);
      } else episodes.push({ start: w.ws, end: w.ws + 5 * MIN, count: w.n });
    }
    for (const ep of episodes) {
      const matches = anomalies.filter((r) => r.session_id === session && ms(r.window_start) <= ep.end && ms(r.window_end) >= ep.start);
      if (!matches.length) {
        anomalies.push(anomalyRow(ep.start + 5 * MIN, session, ep.start, ep.end, ep.count, vars));
        continue;
      }
      const keep = [...matches].sort((a, b) => ms(a.detected_ts) - ms(b.detected_ts))[0];
      const start = Math.min(ep.start, ...matches.map((r) => ms(r.window_start)));
      const end = Math.max(ep.end, ...matches.map((r) => ms(r.window_end)));
      const count = Math.max(ep.count, ...matches.map((r) => r.click_count));
      anomalies = anomalies.filter((r) => !matches.includes(r));
      anomalies.push(anomalyRow(ms(keep.detected_ts), session, start, end, count, vars));
    }
  }
  anomalies = anomalies.filter((r) => ms(r.detected_ts) >= S - vars.anomalyRetentionDays * DAY);

  return {
    minute: sortBy([...minutes.values()], (r) => r.event_minute),
    topDocs: sortBy(topDocs, (r) => `${r.snapshot_ts} ${String(r.rank).padStart(3, '0')}`),
    trend: sortBy(trend, (r) => `${r.snapshot_ts} ${r.clinical_area}`),
    anomalies: sortBy(anomalies, (r) => `${r.detected_ts} ${r.session_id}`),
    previousSnapshot: S,
    clock,
    snapshot: S,
    hotStart: H,
  };
}

/** A cold run's reconciliation (section 5): drift rows per full day before date(S), and the rewritten minute table. */
export function reconcile(state: HotState, drift: readonly DriftRow[], files: readonly FixtureFile[], now: string): { minute: MinuteRow[]; drift: DriftRow[] } {
  const events = validEvents(files, now);
  const S = floorMinute(Math.max(...events.map((e) => e.ts)));
  const minute = new Map(state.minute.map((r) => [ms(r.event_minute), r]));
  const out = new Map(drift.map((d) => [d.event_date, d]));
  const days = groupBy([...minute.keys()].filter((m) => m < floorDay(S)), floorDay);
  for (const [day, mins] of days) {
    const spanStart = Math.min(...mins);
    const hot = mins.reduce((sum, m) => sum + minute.get(m)!.total_clicks, 0);
    const inSpan = events.filter((e) => e.ts >= spanStart && e.ts < day + DAY);
    const date = pgText(day).slice(0, 10);
    const hotClicks = out.get(date)?.hot_clicks ?? hot;
    out.set(date, { event_date: date, hot_clicks: hotClicks, cold_clicks: inSpan.length, drift_clicks: inSpan.length - hotClicks, reconciled_at: pgText(ms(now)) });
    for (const m of mins) minute.delete(m);
    for (const [m, evs] of groupBy(inSpan, (e) => floorMinute(e.ts))) {
      minute.set(m, { event_minute: pgText(m), total_clicks: evs.length, unique_sessions: distinct(evs, (e) => e.session), unique_docs: distinct(evs, (e) => e.doc), updated_at: pgText(ms(now)) });
    }
  }
  return { minute: sortBy([...minute.values()], (r) => r.event_minute), drift: sortBy([...out.values()], (r) => r.event_date) };
}

function anomalyRow(detected: number, session: string, start: number, end: number, count: number, vars: Vars): AnomalyRow {
  return { detected_ts: pgText(detected), session_id: session, window_start: pgText(start), window_end: pgText(end), click_count: count, severity: count >= vars.critical ? 'CRITICAL' : 'WARNING' };
}

function areasOf(text: string | null): string[] {
  if (!text) return [];
  return [...new Set(text.split(',').map((a) => a.trim()).filter((a) => a !== '' && a.length <= 100))];
}

/** round((cur - prev) * 100 / prev, 2), halves away from zero, exactly (BigInt), as PostgreSQL prints a NUMERIC(10,2). */
export function percent(cur: number, prev: number): string {
  const num = BigInt(cur - prev) * 10000n;
  const den = BigInt(prev);
  const neg = num < 0n;
  const abs = neg ? -num : num;
  let q = abs / den;
  if ((abs % den) * 2n >= den) q += 1n;
  const s = q.toString().padStart(3, '0');
  return `${neg && q !== 0n ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`;
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = out.get(k);
    if (list) list.push(i);
    else out.set(k, [i]);
  }
  return out;
}

function distinct<T>(items: readonly T[], key: (t: T) => unknown): number {
  return new Set(items.map(key)).size;
}

function sortBy<T>(items: T[], key: (t: T) => string): T[] {
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
