import type { ModelNode } from '../manifest/types.js';
import type { ModelProgress } from '../state/store.js';

/** A model's freshness against its SLA at a given time: what `tm status` reports and `tm docs` shows. */
export interface Freshness {
  readonly last_success_at: string | null;
  readonly age_s: number | null;
  readonly clock_reached: string | null;
  readonly sla_minutes: number | null;
  readonly state: 'ok' | 'late' | 'never' | 'no sla';
}

/** State timestamps are UTC text without a zone (`YYYY-MM-DD HH:MM:SS[.ffffff]`). */
function utcMillis(text: string): number {
  return new Date(`${text.replace(' ', 'T')}${/[zZ+]/.test(text.slice(10)) ? '' : 'Z'}`).getTime();
}

export function freshnessOf(model: ModelNode, progress: ModelProgress | undefined, nowMs: number): Freshness {
  const sla = model.config.sla_minutes ?? null;
  const last = progress?.lastSuccessAt ?? null;
  const age = last ? Math.max(0, Math.round((nowMs - utcMillis(last)) / 1000)) : null;
  const state = sla === null ? 'no sla' : age === null ? 'never' : age > sla * 60 ? 'late' : 'ok';
  return { last_success_at: last, age_s: age, clock_reached: progress?.clockReached ?? null, sla_minutes: sla, state };
}
