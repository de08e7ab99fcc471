/**
 * Values a project marks secret (`secrets:` in project.yml names env vars and vars): a model may
 * use them, but what tm writes or prints (compiled SQL, `--show-sql`, manifest.json, the docs page)
 * shows PASSWORD_MASK in their place.
 */
import { PASSWORD_MASK } from '../core/mask-url.js';
import type { Manifest } from '../manifest/types.js';

/** The secret values of the manifest's project, longest first (so one containing another is masked whole). */
function secretValues(manifest: Manifest): string[] {
  const values = (manifest.secrets ?? []).flatMap((name) => {
    const found: string[] = [];
    const env = process.env[name];
    if (env) found.push(env);
    const v = manifest.vars[name];
    if (v !== undefined && v !== null && typeof v !== 'object' && String(v) !== '') found.push(String(v));
    return found;
  });
  return [...new Set(values)].sort((a, b) => b.length - a.length);
}

/** `text` with every secret value masked. */
export function maskSecrets(manifest: Manifest, text: string): string {
  let out = text;
  for (const value of secretValues(manifest)) out = out.split(value).join(PASSWORD_MASK);
  return out;
}

/** The project's vars as they may be written: secret ones masked. */
export function writableVars(manifest: Manifest): Record<string, unknown> {
  const secret = new Set(manifest.secrets ?? []);
  return Object.fromEntries(Object.entries(manifest.vars).map(([k, v]) => [k, secret.has(k) ? PASSWORD_MASK : v]));
}
