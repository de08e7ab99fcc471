import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandExists, ensureDebianPackages } from '../test-support/system-packages.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const apt = (...args: string[]) =>
  exec('apt-get', ['-q', '-y', '-o', 'DPkg::Lock::Timeout=300', ...args], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });

describe('ensureDebianPackages', () => {
  it('prints nothing and runs no apt-get when every command is there', async () => {
    const lines: string[] = [];
    // root: false would make any install attempt throw.
    await ensureDebianPackages([{ command: 'sh', package: 'dash' }, { command: process.execPath, package: 'nodejs' }], { root: false, log: (l) => lines.push(l) });
    expect(lines).toEqual([]);
  });

  it('when it may not install, fails naming the exact command for the missing packages only', async () => {
    const lines: string[] = [];
    const run = ensureDebianPackages(
      [{ command: 'sh', package: 'dash' }, { command: '/nonexistent/tm-tool-a', package: 'tm-pkg-a' }, { command: 'tm-tool-b', package: 'tm-pkg-b' }],
      { root: false, log: (l) => lines.push(l) },
    );
    await expect(run).rejects.toThrow(
      'the tests need /nonexistent/tm-tool-a, tm-tool-b; as root, run: apt-get update && apt-get install -y --no-install-recommends tm-pkg-a tm-pkg-b',
    );
    expect(lines).toEqual([]);
  });

  describe.skipIf(!isRoot)('as root (skipped otherwise: it runs apt-get)', () => {
    // Debian's `hello`: tiny and harmless. Removed first so the install is real; left as it was found.
    let hadHello = false;
    beforeAll(() => {
      hadHello = commandExists('hello');
    });
    afterAll(async () => {
      if (!hadHello && commandExists('hello')) await apt('remove', 'hello');
    }, 300_000);

    it('installs a missing package with one line, and a second call prints nothing', async () => {
      if (commandExists('hello')) await apt('remove', 'hello');
      expect(commandExists('hello')).toBe(false);
      const lines: string[] = [];
      const needs = [{ command: 'hello', package: 'hello' }, { command: 'sh', package: 'dash' }];
      await ensureDebianPackages(needs, { log: (l) => lines.push(l) });
      expect(lines).toEqual(['installing hello (apt-get) for hello']);
      expect((await exec('hello')).stdout).toBe('Hello, world!\n');
      await ensureDebianPackages(needs, { log: (l) => lines.push(l) });
      expect(lines).toHaveLength(1);
    }, 300_000);

    it('fails clearly when the package does not provide the command', async () => {
      await expect(ensureDebianPackages([{ command: 'tm-no-such-command', package: 'hello' }], { log: () => undefined })).rejects.toThrow(
        'installed hello, but tm-no-such-command (hello) is still missing',
      );
    }, 300_000);
  });
});
