import Handlebars from 'handlebars';
import { TmError } from '../core/errors.js';

/**
 * Renders `{{ env "NAME" }}` / `{{ env "NAME" default="x" }}` in config values (profiles, source locations).
 * Missing variables without a default are collected, so the caller can say which one is needed where.
 */
export function renderEnvTemplate(text: string, env: NodeJS.ProcessEnv = process.env): { value: string; missing: string[] } {
  if (!text.includes('{{')) return { value: text, missing: [] };
  const context: EnvContext = { text, env, missing: [] };
  try {
    return { value: compiled(text)({ __env: context }), missing: context.missing };
  } catch (err) {
    if (err instanceof TmError) throw err;
    throw new TmError(`cannot render '${text}': ${(err as Error).message.split('\n')[0]}`);
  }
}

interface EnvContext {
  readonly text: string;
  readonly env: NodeJS.ProcessEnv;
  readonly missing: string[];
}

/** One environment and one compile per text for the process: a fresh run renders a dozen of these. */
const hb = Handlebars.create();
hb.registerHelper('env', (name: unknown, options: Handlebars.HelperOptions) => {
  const ctx = (options.data as { root: { __env: EnvContext } }).root.__env;
  if (typeof name !== 'string') throw new TmError(`env: expected a variable name in quotes, in '${ctx.text}'`);
  const value = ctx.env[name];
  if (value !== undefined && value !== '') return value;
  const fallback = options.hash?.default;
  if (fallback !== undefined) return String(fallback);
  ctx.missing.push(name);
  return '';
});
const templates = new Map<string, Handlebars.TemplateDelegate>();

function compiled(text: string): Handlebars.TemplateDelegate {
  let template = templates.get(text);
  if (!template) templates.set(text, (template = hb.compile(text, { noEscape: true, strict: false })));
  return template;
}
