import { packageInfo } from './package-root.js';

/** tm's version, as package.json says (one place to bump it). */
export function tmVersion(): string {
  return packageInfo().version;
}
