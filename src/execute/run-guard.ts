import type { Target } from '../engines/target.js';
import { lockModels, type ModelLocks } from '../incremental/locks.js';
import type { ModelNode } from '../manifest/types.js';
import { cancelRequested, noteCommitted, startRunRecord } from './cancel.js';
import type { Log } from './progress.js';
import type { ModelHooks } from './run-models.js';

type HooksFor = (model: ModelNode) => Promise<ModelHooks>;

/**
 * What every run holds around its models: the advisory lock of every model that writes (replace as
 * well as the incremental kinds), taken in one pass in one global order (by name) so that waiting
 * runs cannot deadlock; and per model, a skip when another process holds its lock or the run was
 * interrupted, and a note of each model that committed (the line printed on interrupt).
 */
export interface RunGuard {
  /** The locks, for the incremental tier (it skips its models whose locks are held elsewhere). */
  readonly locks: ModelLocks;
  /** Wraps the run's per-model hooks. */
  hooksFor(inner: HooksFor | undefined): HooksFor;
  release(): Promise<void>;
}

const INCREMENTAL = new Set(['upsert', 'snapshot', 'append']);

/** The lock a model takes: its own name, or for a reconciliation the model whose table it corrects. */
export function writeLockOf(model: ModelNode): string | undefined {
  if (model.config.materialized === 'temp') return undefined;
  const reconciles = model.config.extra.reconciles;
  return INCREMENTAL.has(model.config.materialized) && typeof reconciles === 'string' ? reconciles : model.name;
}

export async function guardRun(target: Target, models: readonly ModelNode[], options: { wait: boolean; log: Log }): Promise<RunGuard> {
  startRunRecord();
  const names = models.map(writeLockOf).filter((n): n is string => n !== undefined);
  const locks = await lockModels(target, names, { wait: options.wait });
  // The incremental tier says so for its own models; these are the others (replace).
  const lockedElsewhere = new Set(models.filter((m) => !INCREMENTAL.has(m.config.materialized) && writeLockOf(m) && !locks.held.has(writeLockOf(m)!)).map((m) => m.name));
  for (const name of lockedElsewhere) options.log(`tm: ${name} is being run by another tm process (lock on ${name} held): skipped; --wait waits for it`);
  return {
    locks,
    hooksFor(inner) {
      return async (model) => {
        if (cancelRequested()) return { skip: { status: 'skipped', reason: 'interrupted: not started' } };
        if (lockedElsewhere.has(model.name)) return { skip: { status: 'skipped', reason: 'another tm process holds its lock' } };
        const hooks = (await inner?.(model)) ?? {};
        if (hooks.skip || model.config.materialized === 'temp') return hooks;
        return {
          ...hooks,
          async afterSuccess() {
            noteCommitted(model.name);
            await hooks.afterSuccess?.();
          },
        };
      };
    },
    release: () => locks.release(),
  };
}
