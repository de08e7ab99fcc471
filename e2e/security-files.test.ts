import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/harness.js';
import { writeMiniProject } from './support/mini-project.js';
import { spawnTm } from './support/processes.js';

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
  let project: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let tmp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    project = await tempDir('tm-sec-files-');
    data = await tempDir('tm-sec-data-');
    tmp = await tempDir('tm-sec-tmp-');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    await con.run(`COPY (SELECT i::BIGINT AS id, 'g' || (i % 3) AS grp, i::BIGINT AS amount FROM range(1000) t(i)) TO '${data.dir}/part.parquet' (FORMAT parquet)`);
    con.closeSync();
    instance.closeSync();
    await writeMiniProject(project.dir, {
      dataDir: data.dir,
      models: { m: 'SELECT id, grp, amount FROM {{source "events"}}' },
      schemaYml: `models:\n  - name: m\n    config: { materialized: replace }\n    columns:\n      - { name: id, type: BIGINT }\n      - { name: grp, type: TEXT }\n      - { name: amount, type: BIGINT }\n`,
    });
  });
  afterAll(async () => {
    await project?.remove();
    await data?.remove();
    await tmp?.remove();
  });

  it('.tm/, PGlite folder, scratch and spill folders 0700 and their files 0600, during and after a run', async () => {
    const release = path.join(tmp.dir, 'release');
    const run = spawnTm(['run', '--project-dir', project.dir, '--target', 'lite'], { TMPDIR: tmp.dir, TM_PAUSE_AT: 'during-copy:m', TM_PAUSE_UNTIL: release });
    try {
      await run.waitFor(/tm-paused during-copy m/);
      const scratch = (await readdir(tmp.dir)).filter((n) => n.startsWith('tm-run-'));
      expect(scratch.length).toBe(1);
      const copyFiles = await readdir(path.join(tmp.dir, scratch[0]), { recursive: true });
      expect(copyFiles.some((f) => f.endsWith('.csv'))).toBe(true);
      expect(await openToOthers(path.join(tmp.dir, scratch[0]))).toEqual([]);
      const spill = (await readdir(path.join(project.dir, '.tm', 'duckdb_tmp'))).filter((n) => n.startsWith('run-'));
      expect(spill.length).toBe(1);
      // While PGlite is open it makes its files 0666 (Emscripten's modes): its folder, 0700, keeps them in.
      expect(await openToOthers(path.join(project.dir, '.tm'), path.join(project.dir, '.tm', 'lite'))).toEqual([]);
    } finally {
      await writeFile(release, '');
    }
    expect((await run.exited).code, run.output()).toBe(0);
    expect(await openToOthers(path.join(project.dir, '.tm'))).toEqual([]);

    // A PGlite folder an older tm left open (files 0666, the folder 0755) is closed by the next run.
    const ident = path.join(project.dir, '.tm', 'lite', 'pg_ident.conf');
    await chmod(ident, 0o666);
    await chmod(path.join(project.dir, '.tm', 'lite'), 0o755);
    await chmod(path.join(project.dir, '.tm'), 0o755);
    const again = spawnTm(['run', '--project-dir', project.dir, '--target', 'lite'], { TMPDIR: tmp.dir });
    expect((await again.exited).code, again.output()).toBe(0);
    expect(await openToOthers(path.join(project.dir, '.tm'))).toEqual([]);
  });
});
