/** Opens the target a profile names: PostgreSQL, or PGlite (embedded). The one place that picks a driver. */
import type { Target } from './target.js';
import { openPostgresTarget } from './postgres.js';

export type TargetSettings =
  | { readonly type: 'pglite'; readonly name: string; readonly path: string; readonly schema: string }
  | { readonly type: 'postgres'; readonly name: string; readonly url: string; readonly schema: string };

export interface TargetOpening {
  /** Sessions that may work at once (PostgreSQL; PGlite has one). */
  readonly maxSessions: number;
  /** The run's backends' application_name (state/run-registry.ts), when opened for a run. */
  readonly applicationName?: string;
  /** The run's scratch folder, when opened for a run. */
  readonly scratchDir?: string;
}

export async function openTargetOf(settings: TargetSettings, opening: TargetOpening): Promise<Target> {
  if (settings.type === 'pglite') {
    // Loaded only for a PGlite target: a PostgreSQL run (a hot cycle) does not pay for its WASM.
    const { openPgliteTarget } = await import('./pglite.js');
    return openPgliteTarget({ name: settings.name, dataDir: settings.path, schema: settings.schema, scratchDir: opening.scratchDir });
  }
  return openPostgresTarget({
    name: settings.name, url: settings.url, schema: settings.schema, maxSessions: opening.maxSessions, applicationName: opening.applicationName, scratchDir: opening.scratchDir,
  });
}
