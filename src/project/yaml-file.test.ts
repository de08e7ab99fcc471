import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readYamlFile } from './yaml-file.js';

describe('readYamlFile with a parse cache', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tm-yaml-cache-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores what it parsed by content hash, and a changed file is parsed again', async () => {
    const file = path.join(dir, 'a.yml');
    const cacheDir = path.join(dir, 'cache-1');
    await writeFile(file, 'models:\n  - name: m\n    config: { tags: [hot] }\n');
    expect(await readYamlFile(file, 'a.yml', cacheDir)).toEqual({ models: [{ name: 'm', config: { tags: ['hot'] } }] });
    const stored = JSON.parse(await readFile(path.join(cacheDir, 'yaml-cache.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.values(stored)).toEqual([{ models: [{ name: 'm', config: { tags: ['hot'] } }] }]);
    await writeFile(file, 'models: []\n');
    expect(await readYamlFile(file, 'a.yml', cacheDir)).toEqual({ models: [] });
  });

  it('serves a new process from the cache file, and hands out copies', async () => {
    const file = path.join(dir, 'b.yml');
    const text = 'name: real\n';
    await writeFile(file, text);
    const cacheDir = path.join(dir, 'cache-2');
    const key = createHash('sha1').update(text).digest('hex');
    // A cache written by an earlier process: its value wins over parsing (so the cache is really read).
    await mkdir(cacheDir, { recursive: true });
    await writeFile(path.join(cacheDir, 'yaml-cache.json'), JSON.stringify({ [key]: { name: 'from cache' } }));
    const first = (await readYamlFile(file, 'b.yml', cacheDir)) as { name: string };
    expect(first).toEqual({ name: 'from cache' });
    first.name = 'changed by a caller';
    expect(await readYamlFile(file, 'b.yml', cacheDir)).toEqual({ name: 'from cache' });
  });

  it('still names the file and line of invalid YAML, and caches nothing for it', async () => {
    const file = path.join(dir, 'bad.yml');
    const cacheDir = path.join(dir, 'cache-3');
    await writeFile(file, 'models:\n  - name: m\n   bad: [\n');
    await expect(readYamlFile(file, 'models/bad.yml', cacheDir)).rejects.toThrow(/models\/bad\.yml:\d+/);
    await expect(readFile(path.join(cacheDir, 'yaml-cache.json'), 'utf8')).rejects.toThrow();
  });
});
