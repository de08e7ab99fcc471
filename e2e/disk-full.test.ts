import { execFile } from 'node:child_process';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expected, FIXTURE_NOW, martOrder, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { entriesOf, spawnTm, stagingLeft, type Proc } from '../test-support/processes.js';

const exec = promisify(execFile);

/** Writes zeros into `file` until the file system says it is full. */
async function fill(file: string): Promise<void> {
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(64 << 10);
  try {
    for (;;) await handle.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await handle.close();
  }
}

/**
 * A full disk under a cold run: the run's scratch folder (TMPDIR) and DuckDB's spill folder
 * (profiles.yml duckdb.temp_directory) live on a 16 MB tmpfs mounted for this file (as root), which
 * the test fills while the run is paused before its first COPY. The run fails with one line naming
 * the full folder, no mart is swapped in half-done, and nothing is left on the small disk.
 */
describe('a full disk under the scratch and spill folders', () => {
  let schema: string;
  let clean: string;
  let drop: () => Promise<void>;
  let dropClean: () => Promise<void>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let disk: Awaited<ReturnType<typeof tempDir>>;
  let mounted = false;
  const running: Proc[] = [];
  const tmp = () => path.join(disk.dir, 'tmp');
  const spill = () => path.join(disk.dir, 'spill');
  const env = (s: string, over: Record<string, string> = {}) => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: s, TMPDIR: tmp(), ...over });
  const args = (...more: string[]) => ['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'cold', '--now', FIXTURE_NOW, ...more];
  const marts = async (s: string) => {
    const out: Record<string, unknown> = {};
    for (const mart of Object.keys(expected) as (keyof typeof expected)[]) out[mart] = await queryRows(`SELECT * FROM ${s}.${mart} ORDER BY ${martOrder[mart]}`);
    return out;
  };
  const ok = async (s: string, a: readonly string[]) => {
    const r = await runCli(a, { env: env(s) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('disk_full'));
    ({ schema: clean, drop: dropClean } = await freshSchema('disk_clean'));
    project = await copyProject();
    data = await tempDir();
    disk = await tempDir('tm-small-disk-');
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk.dir]);
    mounted = true;
    await mkdir(tmp());
    const profiles = path.join(project.dir, 'profiles.yml');
    await writeFile(profiles, (await readFile(profiles, 'utf8')).replace(/^duckdb:\n/m, `duckdb:\n  temp_directory: ${spill()}\n`));
    await writeColdFixture(data.dir);
    await ok(schema, args());
  });
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    if (mounted) await exec('umount', [disk.dir]);
    await drop?.();
    await dropClean?.();
    for (const d of [project, data, disk]) await d?.remove();
  });

  it('a cold full refresh on a full disk fails with one line naming the folder; marts as they were; nothing left once space returns', async () => {
    const before = await marts(schema);
    expect(before).toEqual(await marts(schema));
    const release = path.join(data.dir, 'release');
    const p = spawnTm(args('--full-refresh'), env(schema, { TM_PAUSE_AT: 'before-copy:mart_daily_traffic', TM_PAUSE_UNTIL: release }));
    running.push(p);
    await p.waitFor(/tm-paused/);
    const filler = path.join(disk.dir, 'filler');
    await fill(filler);
    await writeFile(release, '');
    const { code } = await p.exited;
    const out = p.output();
    expect(code, out).toBe(1);
    expect(out).not.toMatch(/\n\s+at .*:\d+:\d+\)?\n/);
    const full = out.split('\n').filter((l) => /the disk is full/.test(l));
    expect(full.length, out).toBeGreaterThanOrEqual(1);
    for (const line of full) expect(line).toMatch(new RegExp(`no space left in (the scratch folder ${tmp()}/tm-run-|DuckDB's spill folder ${spill()})`));
    expect(out).toMatch(/ERROR\s+mart_daily_traffic/);
    expect(await marts(schema)).toEqual(before);
    expect(await stagingLeft(schema)).toEqual([]);
    // The failed run removed its own folders: only the filler is left on the small disk.
    expect(await entriesOf(tmp())).toEqual([]);
    expect(await entriesOf(spill())).toEqual([]);

    await rm(filler);
    await ok(schema, args('--full-refresh'));
    await ok(clean, args());
    expect(await marts(schema)).toEqual(await marts(clean));
    expect(await entriesOf(tmp())).toEqual([]);
    expect(await entriesOf(spill())).toEqual([]);
  });
});
