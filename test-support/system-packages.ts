import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A command the tests run and the Debian package that provides it. */
export interface DebianNeed {
  /** A name looked up on PATH, or an absolute path. */
  command: string;
  package: string;
}

export interface EnsureOptions {
  /** Where the one line about an install goes. */
  log?: (line: string) => void;
  /** Whether apt-get may run here (default: this process runs as root). */
  root?: boolean;
}

/** Whether `command` is an executable file: at its absolute path, or in a PATH folder. */
export function commandExists(command: string): boolean {
  const candidates = path.isAbsolute(command)
    ? [command]
    : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, command));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The line to run by hand when this process may not install. */
export function aptInstallCommand(packages: string[]): string {
  return `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/**
 * Installs the packages of the commands that are missing, with one line printed and nothing when none is
 * missing. Only root may install; otherwise the error names the exact command to run. apt's own output is
 * shown only when it fails.
 */
export async function ensureDebianPackages(needs: DebianNeed[], options: EnsureOptions = {}): Promise<void> {
  const missing = needs.filter((need) => !commandExists(need.command));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((need) => need.package))];
  const commands = missing.map((need) => need.command).join(', ');
  if (!(options.root ?? process.getuid?.() === 0)) {
    throw new Error(`the tests need ${commands}; as root, run: ${aptInstallCommand(packages)}`);
  }
  (options.log ?? console.log)(`installing ${packages.join(' ')} (apt-get) for ${commands}`);
  // The lock timeout waits for another apt (a parallel suite, unattended upgrades) instead of failing.
  const apt = (args: string[]) =>
    exec('apt-get', ['-q', '-o', 'DPkg::Lock::Timeout=300', ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 << 20,
    }).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`apt-get ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
  await apt(['update']);
  await apt(['install', '-y', '--no-install-recommends', ...packages]);
  const still = missing.filter((need) => !commandExists(need.command));
  if (still.length > 0) {
    throw new Error(`installed ${packages.join(' ')}, but ${still.map((need) => `${need.command} (${need.package})`).join(', ')} is still missing`);
  }
}
