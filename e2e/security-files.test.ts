import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/harness.js';
import { lakeProject, replaceModelYml, type LakeProject } from '../test-support/security-fixture.js';
import { spawnTm } from '../test-support/processes.js';

/** Every folder and file under `dir` whose mode lets group or others in, with its mode. */
async function openToOthers(dir: string, notInside?: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const s = await stat(d);
    if (s.mode & 0o077) out.push(`${d} ${(s.mode & 0o777).toString(8)}`);
    if (d === notInside) return;
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && (await stat(full)).mode & 0o077) out.push(`${full} ${((await stat(full)).mode & 0o777).toString(8)}`);
    }
  };
  await walk(dir);
  return out;
}

describe('files other local users can neither read nor write', () => {
  let lake: LakeProject;
  let tmp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    lake = await lakeProject('sec_files', {
      rows: `SELECT i::BIGINT AS id, 'g' || (i % 3) AS grp, i::BIGINT AS amount FROM range(1000) t(i)`,
      models: { m: 'SELECT id, grp, amount FROM {{source "events"}}' },
      schemaYml: replaceModelYml('m', { id: 'BIGINT', grp: 'TEXT', amount: 'BIGINT' }),
    });
    tmp = await tempDir('tm-sec-tmp-');
  });
  afterAll(async () => {
    await lake?.remove();
    await tmp?.remove();
  });

  it('.tm/, PGlite folder, scratch and spill folders 0700 and their files 0600, during and after a run', async () => {
    const release = path.join(tmp.dir, 'release');
    const run = spawnTm(['run', '--project-dir', lake.projectDir, '--target', 'lite'], { TMPDIR: tmp.dir, TM_PAUSE_AT: 'during-copy:m', TM_PAUSE_UNTIL: release });
    try {
      await run.waitFor(/tm-paused during-copy m/);
      const scratch = (await readdir(tmp.dir)).filter((n) => n.startsWith('tm-run-'));
      expect(scratch.length).toBe(1);
      const copyFiles = await readdir(path.join(tmp.dir, scratch[0]), { recursive: true });
      expect(copyFiles.some((f) => f.endsWith('.csv'))).toBe(true);
      expect(await openToOthers(path.join(tmp.dir, scratch[0]))).toEqual([]);
      const spill = (await readdir(path.join(lake.projectDir, '.tm', 'duckdb_tmp'))).filter((n) => n.startsWith('run-'));
      expect(spill.length).toBe(1);
      // While PGlite is open it makes its files 0666 (Emscripten's modes): its folder, 0700, keeps them in.
      expect(await openToOthers(path.join(lake.projectDir, '.tm'), path.join(lake.projectDir, '.tm', 'lite'))).toEqual([]);
    } finally {
      await writeFile(release, '');
    }
    expect((await run.exited).code, run.output()).toBe(0);
    expect(await openToOthers(path.join(lake.projectDir, '.tm'))).toEqual([]);

    // A PGlite folder an older tm left open (files 0666, the folder 0755) is closed by the next run.
    const ident = path.join(lake.projectDir, '.tm', 'lite', 'pg_ident.conf');
    await chmod(ident, 0o666);
    await chmod(path.join(lake.projectDir, '.tm', 'lite'), 0o755);
    await chmod(path.join(lake.projectDir, '.tm'), 0o755);
    const again = spawnTm(['run', '--project-dir', lake.projectDir, '--target', 'lite'], { TMPDIR: tmp.dir });
    expect((await again.exited).code, again.output()).toBe(0);
    expect(await openToOthers(path.join(lake.projectDir, '.tm'))).toEqual([]);
  });
});
