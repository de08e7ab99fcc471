import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../test-support/harness.js';

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** npm's own variables of an `npm test` run (npm_config_local_prefix...) would point the install at this repository. */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([k, v]) => !/^npm_/i.test(k) && v !== undefined)) as Record<string, string>;
}

function sh(command: string, args: readonly string[], cwd: string, timeoutMs = 180_000): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: cleanEnv(), timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/**
 * The package as a new team gets it: `npm pack` (the build the suite made), installed from the
 * tarball into an empty folder, then `tm init` and `tm build` with no server. One test: it installs
 * the dependencies (from npm's cache when it has them).
 */
describe('the npm package', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let tarball: string;
  let pkg: { name: string; version: string; license: string };
  beforeAll(async () => {
    pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as typeof pkg;
    tmp = await tempDir('tm-pack-');
  });
  afterAll(async () => {
    await tmp?.remove();
  });

  it('packs the engine alone, installs into an empty folder, and tm init + tm build work from it', async () => {
    expect(pkg.name).toBe('tm-transform');
    expect(pkg.license).toBe('Apache-2.0');
    // --ignore-scripts: the suite's global setup has just built dist/; prepack would rebuild it under the other tests.
    const packed = await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.dir], repoRoot);
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as { filename: string; size: number; files: { path: string }[] }[];
    tarball = path.join(tmp.dir, info.filename);
    const files = info.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/tm.js', 'dist/src/cli/main.js', 'dist/cli-bundle/main.js', 'dist/src/docs/page-app.js', 'LICENSE', 'README.md', 'package.json',
      'schemas/project.schema.json', 'schemas/profiles.schema.json', 'schemas/model.schema.json']));
    const stray = files.filter((f) => !/^(bin\/|dist\/src\/|dist\/cli-bundle\/|schemas\/|LICENSE$|README\.md$|package\.json$)/.test(f) || /\.test\.js$|test-support|\.map$/.test(f));
    expect(stray).toEqual([]);
    console.log(`npm pack: ${info.filename}, ${(info.size / 1024).toFixed(0)} KB, ${files.length} files`);

    const home = path.join(tmp.dir, 'team');
    await sh('mkdir', ['-p', home], tmp.dir);
    const installed = await sh('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], home);
    expect(installed.code, installed.stderr).toBe(0);
    console.log(`npm install of the tarball: ${installed.seconds.toFixed(1)} s`);

    const version = await sh('npx', ['--no-install', 'tm', '--version'], home);
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = await sh('npx', ['--no-install', 'tm', '--help'], home);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}init \[options\] <dir>/m);
    expect(help.stdout).toMatch(/^ {2}docs /m);

    const init = await sh('npx', ['--no-install', 'tm', 'init', 'shop'], home);
    expect(init.code, init.stderr).toBe(0);
    // The next step is printed as a command that works as printed: `npx --no-install tm`, never a bare
    // `npx tm` (which would fetch an unrelated npm package named tm).
    const next = /^Next: (.+)$/m.exec(init.stdout)?.[1];
    expect(next).toBe('cd shop && npx --no-install tm build && npx --no-install tm docs generate');
    const project = path.join(home, 'shop');
    const projectYml = await readFile(path.join(project, 'project.yml'), 'utf8');
    const ref = /^# yaml-language-server: \$schema=(\S+)$/m.exec(projectYml)?.[1];
    expect(ref).toBe('.tm-schemas/project.schema.json');
    const modelRef = /\$schema=(\S+)/.exec(await readFile(path.join(project, 'models', 'schema.yml'), 'utf8'))?.[1];
    expect(modelRef).toBe('../.tm-schemas/model.schema.json');
    expect(await readFile(path.resolve(project, 'models', modelRef!), 'utf8')).toBe(await readFile(path.join(repoRoot, 'schemas', 'model.schema.json'), 'utf8'));

    const build = await sh('sh', ['-c', next!], home);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect(build.stdout).toMatch(/Finished 2 models in [\d.]+s: 2 OK, 0 errors, 0 skipped/);
    expect(build.stdout).toMatch(/Finished 16 tests: 16 PASS, 0 WARN, 0 FAIL, 0 ERROR, 0 SKIP/);
    expect(existsSync(path.join(project, 'target', 'index.html'))).toBe(true);
    console.log(`tm build + docs generate of the new project from the installed package: ${build.seconds.toFixed(1)} s`);

    // The schema references survive moving the project away from the tm install that made it.
    const moved = path.join(tmp.dir, 'elsewhere', 'shop');
    await sh('mkdir', ['-p', path.dirname(moved)], tmp.dir);
    await sh('cp', ['-R', project, moved], tmp.dir);
    for (const [file, re] of [['project.yml', ref], [path.join('models', 'schema.yml'), modelRef]] as const) {
      expect(existsSync(path.resolve(moved, path.dirname(file), re!)), file).toBe(true);
    }

    // An existing non-empty folder is refused (exit 2), and what is there stays as it was.
    await writeFile(path.join(home, 'notes.txt'), 'keep me\n');
    const again = await sh('npx', ['--no-install', 'tm', 'init', '.'], home);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^Error: .* is not empty \(\d+ entries\): tm init only writes into a new or empty folder\n$/);
    expect(await readFile(path.join(home, 'notes.txt'), 'utf8')).toBe('keep me\n');
    expect(existsSync(path.join(home, 'project.yml'))).toBe(false);
  });
});
