import Handlebars from 'handlebars';
import { TmError } from '../errors.js';

/**
 * Renders `{{ env "NAME" }}` / `{{ env "NAME" default="x" }}` in config values (profiles, source locations).
 * Missing variables without a default are collected, so the caller can say which one is needed where.
 */
export function renderEnvTemplate(text: string, env: NodeJS.ProcessEnv = process.env): { value: string; missing: string[] } {
  if (!text.includes('{{')) return { value: text, missing: [] };
  const hb = Handlebars.create();
  const missing: string[] = [];
  hb.registerHelper('env', (name: unknown, options: Handlebars.HelperOptions) => {
    if (typeof name !== 'string') throw new TmError(`env: expected a variable name in quotes, in '${text}'`);
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    const fallback = options.hash?.default;
    if (fallback !== undefined) return String(fallback);
    missing.push(name);
    return '';
  });
  try {
    return { value: hb.compile(text, { noEscape: true, strict: false })({}), missing };
  } catch (err) {
    throw new TmError(`cannot render '${text}': ${(err as Error).message.split('\n')[0]}`);
  }
}
