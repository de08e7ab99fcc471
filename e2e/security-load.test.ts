import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../test-support/harness.js';
import { writeMiniProject } from '../test-support/mini-project.js';

/** Load-time checks that need no database: names PostgreSQL would truncate, vars that are not vars, what the terminal is sent. */
describe('a project that would misbehave is refused at load', () => {
  let project: Awaited<ReturnType<typeof tempDir>>;
  const tm = (...args: string[]) => runCli([...args, '--project-dir', project.dir], { env: { TM_PG_URL: 'postgres://nobody@127.0.0.1:1/none' } });
  const columns = `    config: { materialized: replace }\n    columns:\n      - { name: id, type: BIGINT }\n`;

  beforeAll(async () => {
    project = await tempDir('tm-sec-load-');
    await writeMiniProject(project.dir, { dataDir: path.join(project.dir, 'data'), models: {}, schemaYml: 'models: []\n' });
  });
  afterAll(async () => {
    await project?.remove();
  });

  async function withModels(models: Record<string, string>, check: () => Promise<void>): Promise<void> {
    const files: string[] = [];
    for (const [name, sql] of Object.entries(models)) {
      files.push(path.join(project.dir, 'models', `${name}.sql`), path.join(project.dir, 'models', `${name}.yml`));
      await writeFile(files.at(-2)!, sql);
      await writeFile(files.at(-1)!, `models:\n  - name: ${name}\n${columns}`);
    }
    try {
      await check();
    } finally {
      for (const f of files) await rm(f, { force: true });
    }
  }

  it('two model names that share their first 63 bytes (all PostgreSQL keeps) are an error naming both', async () => {
    const stem = 'm'.repeat(63);
    await withModels({ [`${stem}_a`]: 'SELECT 1 AS id', [`${stem}_b`]: 'SELECT 2 AS id' }, async () => {
      const out = await tm('ls');
      expect(out.code, out.stdout + out.stderr).toBe(2);
      expect(out.stderr).toMatch(new RegExp(`models '${stem}_a' .* and '${stem}_b' have the same first 63 bytes`));
    });
    // Multi-byte: 31 two-byte letters and one more make 64 bytes; PostgreSQL keeps 62 of them (a whole character).
    await withModels({ [`${'é'.repeat(31)}x`]: 'SELECT 1 AS id' }, async () => {
      const out = await tm('ls');
      expect(out.code, out.stdout + out.stderr).toBe(0);
    });
    await withModels({ [`${'é'.repeat(32)}`]: 'SELECT 1 AS id' }, async () => {
      const out = await tm('ls');
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('is 64 bytes; PostgreSQL keeps 63 of a table name');
    });
  });

  it('{{var "constructor"}} is not defined, not a JavaScript function', async () => {
    await withModels({ reads_var: 'SELECT {{var "constructor"}} AS id' }, async () => {
      const out = await tm('compile', '--select', 'reads_var');
      expect(out.code, out.stdout + out.stderr).not.toBe(0);
      expect(out.stdout + out.stderr).toContain(`var 'constructor' is not defined`);
      expect(out.stdout + out.stderr).not.toContain('function Object');
    });
  });

  it('terminal escape sequences in names the CLI prints are shown, not sent to the terminal', async () => {
    const out = await tm('ls', '--select', 'evil\u001b[2J\u009b31mname');
    expect(out.stdout + out.stderr).not.toMatch(/[\u001b\u009b]/);
    expect(out.stdout + out.stderr).toContain('evil\\x1b[2J\\x9b31mname');
  });
});
