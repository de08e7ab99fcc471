import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchFolders, type Wakeup } from './file-wakeup.js';

describe('waking a loop on files', () => {
  let dir: string;
  let wake: Wakeup | undefined;
  afterEach(async () => {
    wake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('wakes on a file in a nested folder, coalesces a burst into one wake, and falls back to the timer', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tm-wake-'));
    await mkdir(path.join(dir, 'event_date=2020-11-10'));
    const lines: string[] = [];
    wake = watchFolders([dir], (l) => lines.push(l), 50);
    expect(await wake.wait(100)).toBe('timer');
    const t0 = performance.now();
    const woke = wake.wait(10_000);
    await writeFile(path.join(dir, 'event_date=2020-11-10', 'a.parquet'), 'x');
    expect(await woke).toBe('file');
    expect(performance.now() - t0).toBeLessThan(2000);
    // 30 files at once: one wake, then quiet.
    await Promise.all(Array.from({ length: 30 }, (_, i) => writeFile(path.join(dir, 'event_date=2020-11-10', `b${i}.parquet`), 'x')));
    expect(await wake.wait(10_000)).toBe('file');
    expect(await wake.wait(150)).toBe('timer');
    expect(lines).toEqual([]);
  });

  it('watches a folder missing at the start once a timer wake finds it', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tm-wake-'));
    const lines: string[] = [];
    wake = watchFolders([path.join(dir, 'missing')], (l) => lines.push(l));
    expect(await wake.wait(50)).toBe('timer');
    await mkdir(path.join(dir, 'missing'));
    expect(await wake.wait(50)).toBe('timer'); // watched from this timer wake on
    const woke = wake.wait(10_000);
    await writeFile(path.join(dir, 'missing', 'a.parquet'), 'x');
    expect(await woke).toBe('file');
  });
});
