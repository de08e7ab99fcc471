import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellWord, tmCommandFrom } from './run-command.js';

describe('tmCommandFrom: how tm init tells to run tm from the new project', () => {
  let root: string;
  let tm: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'tm-run-command-'));
    tm = path.join(root, 'tm-checkout');
    await mkdir(path.join(tm, 'bin'), { recursive: true });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('says npx --no-install tm when npm, started in the project, finds this tm in its local prefix', async () => {
    const team = path.join(root, 'team');
    await mkdir(path.join(team, 'node_modules'), { recursive: true });
    await writeFile(path.join(team, 'package.json'), '{}');
    await symlink(tm, path.join(team, 'node_modules', 'tm-transform'));
    await mkdir(path.join(team, 'shop'));
    expect(tmCommandFrom(path.join(team, 'shop'), tm)).toBe('npx --no-install tm');
  });

  it('says node and the path of bin/tm.js when the nearest npm prefix has no tm, or another one', async () => {
    const other = path.join(root, 'other');
    await mkdir(path.join(other, 'node_modules', 'tm-transform'), { recursive: true });
    await mkdir(path.join(other, 'shop'));
    expect(tmCommandFrom(path.join(other, 'shop'), tm)).toBe('node ../../tm-checkout/bin/tm.js');
    // A package.json between the project and the install is npm's prefix: npx would not look further up.
    const nested = path.join(root, 'team', 'apps', 'shop');
    await mkdir(nested, { recursive: true });
    await writeFile(path.join(root, 'team', 'apps', 'package.json'), '{}');
    expect(tmCommandFrom(nested, tm)).toBe('node ../../../tm-checkout/bin/tm.js');
  });

  it('quotes a path the shell would split', () => {
    expect(shellWord('my shop')).toBe(`'my shop'`);
    expect(shellWord(`it's`)).toBe(`'it'\\''s'`);
    expect(shellWord('../tm/bin/tm.js')).toBe('../tm/bin/tm.js');
  });
});
