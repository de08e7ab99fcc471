import { TmError } from './errors.js';

/**
 * Cancellation of the run in progress, on SIGINT/SIGTERM. Process-wide on purpose: signals are.
 * `requestCancel` sets the flag and calls the cancellers the open connections registered (cancel
 * the PostgreSQL statements in flight from another session, interrupt DuckDB); materializations
 * check the flag between their write phases (`throwIfCancelled`), so the model in progress rolls
 * back and no model starts after it.
 */
type Canceller = () => Promise<unknown> | unknown;

const state: { signal?: NodeJS.Signals; cancellers: Set<Canceller>; committed: string[] } = { cancellers: new Set(), committed: [] };

export function cancelRequested(): NodeJS.Signals | undefined {
  return state.signal;
}

export function throwIfCancelled(): void {
  if (state.signal) throw new TmError(`interrupted (${state.signal})`, 1);
}

/** Registers what to do on cancel; returns the function that unregisters it. */
export function onCancel(canceller: Canceller): () => void {
  state.cancellers.add(canceller);
  return () => state.cancellers.delete(canceller);
}

export async function requestCancel(signal: NodeJS.Signals): Promise<void> {
  if (state.signal) return;
  state.signal = signal;
  await Promise.all([...state.cancellers].map(async (c) => {
    try {
      await c();
    } catch {
      /* best effort: a lost connection has nothing to cancel */
    }
  }));
}

/** Models whose rows this run committed (for the line printed on interrupt). */
export function noteCommitted(model: string): void {
  state.committed.push(model);
}

export function committedModels(): readonly string[] {
  return state.committed;
}

/** A new run (or cycle) starts: nothing committed yet. */
export function startRunRecord(): void {
  state.committed = [];
}
