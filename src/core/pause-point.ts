import { existsSync } from 'node:fs';
import { onCancel } from './cancel.js';

/**
 * Named points where a run can be made to stop for a while, to test what a kill or a concurrent
 * process does there. Off unless `TM_PAUSE_AT=<point>[:<model>]` is set: the process then prints
 * `tm-paused <point> <model>` on stderr and waits until the file `TM_PAUSE_UNTIL` exists, or for
 * `TM_PAUSE_MS` milliseconds, or (neither set) until it is killed. A SIGINT/SIGTERM (run cancelled) ends
 * the pause too, so that a test can signal a run at a known point.
 */
export async function pausePoint(point: string, model: string): Promise<void> {
  const wanted = process.env.TM_PAUSE_AT;
  if (!wanted) return;
  const [p, m] = wanted.split(':');
  if (p !== point || (m && m !== model)) return;
  process.stderr.write(`tm-paused ${point} ${model}\n`);
  const until = process.env.TM_PAUSE_UNTIL;
  const ms = Number(process.env.TM_PAUSE_MS ?? '0');
  const timers: NodeJS.Timeout[] = [];
  let unregister = (): unknown => undefined;
  await new Promise<void>((resolve) => {
    unregister = onCancel(resolve);
    if (until) timers.push(setInterval(() => existsSync(until) && resolve(), 50));
    else if (ms > 0) timers.push(setTimeout(resolve, ms));
    else timers.push(setInterval(() => undefined, 1 << 30)); // keep the process alive until it is killed
  });
  unregister();
  for (const t of timers) clearInterval(t);
}
