import { spawn } from 'node:child_process';
import type { Log } from '../core/progress.js';
import type { RunFreshness } from '../artifacts/run-freshness.js';
import { utcMillis } from '../state/freshness.js';

/** What a loop's cycle tells the alerts: whether it succeeded, the stream clock C it reached, the lags after it. */
export interface CycleFacts {
  readonly cycle: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly clock?: string;
  readonly freshness?: RunFreshness;
}

export type AlertKind = 'clock_stalled' | 'no_new_files' | 'cycles_failing';

/** One alert, as printed and as the JSON `--alert-command` reads on stdin. */
export interface Alert {
  readonly alert: AlertKind;
  readonly state: 'firing' | 'recovered';
  readonly message: string;
  readonly cycle: number;
  readonly at: string;
  readonly source?: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * The alerts of `tm run --every`, from one cycle to the next: the stream clock C not moving while
 * files still arrive (for `after` cycles that brought files), a source whose newest file is older than
 * its `arrival_lag` threshold, and `after` failed cycles in a row. Each fires once, and says once when it recovers.
 */
export class LoopAlerts {
  private failing = 0;
  private clock: string | undefined;
  /** Newest file time per source at the last cycle, and the cycles since C last moved that brought files. */
  private lastNewest = new Map<string, string | null>();
  private stalledCycles = 0;
  private readonly firing = new Set<string>();

  constructor(private readonly after: number) {}

  observe(facts: CycleFacts): Alert[] {
    const out: Alert[] = [];
    const at = new Date().toISOString();
    const change = (key: string, on: boolean, make: (state: Alert['state']) => Omit<Alert, 'state' | 'cycle' | 'at'>) => {
      if (on === this.firing.has(key)) return;
      if (on) this.firing.add(key);
      else this.firing.delete(key);
      out.push({ ...make(on ? 'firing' : 'recovered'), state: on ? 'firing' : 'recovered', cycle: facts.cycle, at });
    };
    this.failing = facts.ok ? 0 : this.failing + 1;
    change('cycles_failing', this.failing >= this.after, (state) => ({
      alert: 'cycles_failing',
      message: state === 'firing' ? `${this.failing} cycles failed in a row (last: ${facts.error ?? 'a model failed'})` : 'cycles succeed again',
      details: { failed_in_a_row: this.failing, error: facts.error },
    }));
    if (!facts.ok || !facts.freshness) return out;

    const seen = facts.freshness.seen;
    const moved = facts.clock !== undefined && (this.clock === undefined || utcMillis(facts.clock) !== utcMillis(this.clock));
    const filesArrived = seen.some((s) => s.newestFileAt !== null && s.newestFileAt !== (this.lastNewest.get(s.source) ?? null) && this.lastNewest.has(s.source));
    if (moved || this.clock === undefined) this.stalledCycles = 0;
    else if (filesArrived) this.stalledCycles++;
    const previousClock = this.clock;
    this.clock = facts.clock ?? this.clock;
    for (const s of seen) this.lastNewest.set(s.source, s.newestFileAt);
    change('clock_stalled', this.stalledCycles >= this.after, (state) => ({
      alert: 'clock_stalled',
      message: state === 'firing'
        ? `stream clock stalled at ${this.clock ?? '-'} while new files arrive (${this.stalledCycles} cycles with new files, no newer valid event)`
        : `stream clock moves again (${previousClock ?? '-'} -> ${facts.clock ?? '-'})`,
      details: { clock: facts.clock ?? this.clock, cycles_with_files: this.stalledCycles, newest_files: Object.fromEntries(seen.map((s) => [s.source, s.newestFileAt])) },
    }));
    for (const [source, lags] of facts.freshness.sources) {
      change(`no_new_files:${source}`, lags.crossed.includes('arrival_lag'), (state) => ({
        alert: 'no_new_files',
        source,
        message: state === 'firing' ? `no new file in source ${source} for ${lags.arrival_lag_s ?? '?'}s (past its arrival_lag threshold)` : `source ${source} receives files again`,
        details: { arrival_lag_s: lags.arrival_lag_s },
      }));
    }
    return out;
  }
}

/** Prints each alert on one line and hands it, as JSON on stdin, to `--alert-command` (run by the shell; the loop does not wait for it). */
export function alertSink(log: Log, command: string | undefined): { send(alerts: readonly Alert[]): void; drain(): Promise<void> } {
  const running = new Set<Promise<void>>();
  return {
    send(alerts) {
      for (const a of alerts) {
        log(`tm: ${a.state === 'firing' ? 'ALERT' : 'RECOVERED'} ${a.alert}${a.source ? ` ${a.source}` : ''}: ${a.message}`);
        if (!command) continue;
        const done = new Promise<void>((resolve) => {
          const child = spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'] });
          child.on('error', (err) => {
            log(`tm: --alert-command could not start: ${err.message}`);
            resolve();
          });
          child.on('exit', (code) => {
            if (code) log(`tm: --alert-command exited with ${code}`);
            resolve();
          });
          child.stdin.on('error', () => undefined);
          child.stdin.end(JSON.stringify(a) + '\n');
        });
        running.add(done);
        void done.then(() => running.delete(done));
      }
    },
    async drain() {
      await Promise.all(running);
    },
  };
}
