import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * How to run this tm from inside `projectDir`, as a shell command prefix that works as printed.
 * `npx --no-install tm` when npm, started there, finds this tm in its local prefix's node_modules
 * (never a bare `npx tm`: without a local install it fetches an unrelated npm package named `tm`);
 * otherwise `node` and the path of this tm's bin/tm.js (relative when shorter).
 */
export function tmCommandFrom(projectDir: string, packageRoot: string): string {
  const prefix = npmLocalPrefixOf(projectDir);
  const installed = prefix ? path.join(prefix, 'node_modules', 'tm-transform') : undefined;
  if (installed && existsSync(installed) && sameFile(installed, packageRoot)) return 'npx --no-install tm';
  const bin = path.join(packageRoot, 'bin', 'tm.js');
  const relative = path.relative(projectDir, bin);
  return `node ${shellWord(relative.length < bin.length ? relative : bin)}`;
}

/** npm's local prefix: the nearest folder, from `dir` up, holding a package.json or a node_modules. */
function npmLocalPrefixOf(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json')) || existsSync(path.join(d, 'node_modules'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

function sameFile(a: string, b: string): boolean {
  return realpathSync(a) === realpathSync(b);
}

/** A word as a POSIX shell reads it: quoted only when it holds something the shell would split or expand. */
export function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
