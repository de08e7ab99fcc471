import Handlebars from 'handlebars';
import { projectError, TmError } from '../core/errors.js';
import { registerMacros } from './macro-dispatch.js';
import type { Manifest } from '../manifest/types.js';
import { quoteIdent, quoteLiteral } from '../core/sql-quote.js';
import { templateParseError } from './static-analysis.js';
import { unknownHelperHint } from './template-habits.js';

/** What a template sees at run time: resolved relations and the run's values. */
export interface RenderContext {
  readonly resolveRef: (name: string) => string;
  readonly resolveSource: (name: string) => string;
  /** `{{this}}`: the model's own relation. */
  readonly thisRelation: string;
  readonly isIncremental: boolean;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly config: Readonly<Record<string, unknown>>;
  /** Values exposed as `{{name}}`, already SQL literals (e.g. `now`, `run_started_at`, `clock`). */
  readonly values: Readonly<Record<string, string>>;
}

export type TemplateEnv = typeof Handlebars;

/**
 * One Handlebars environment per project and compute engine: macros registered once (each engine sees
 * its own macro variants, see macro-dispatch.ts), run-time helpers read the context.
 */
export async function createTemplateEnv(manifest: Manifest, engineName = 'duckdb'): Promise<TemplateEnv> {
  const hb = Handlebars.create();
  await registerMacros(hb, manifest.macros, engineName);
  const ctx = (options: Handlebars.HelperOptions): RenderContext => (options.data as { root: { __tm: RenderContext } }).root.__tm;
  hb.registerHelper('ref', (name: string, options: Handlebars.HelperOptions) => ctx(options).resolveRef(name));
  hb.registerHelper('source', (name: string, options: Handlebars.HelperOptions) => ctx(options).resolveSource(name));
  hb.registerHelper('is_incremental', (options: Handlebars.HelperOptions) => ctx(options).isIncremental);
  hb.registerHelper('var', (...args: unknown[]) => {
    const options = args.pop() as Handlebars.HelperOptions;
    const [name, fallback] = args as [string, unknown];
    const vars = ctx(options).vars;
    // Own keys only: `constructor` or `toString` are not vars.
    if (Object.hasOwn(vars, name)) return vars[name];
    if (args.length > 1) return fallback;
    throw new TmError(`var '${name}' is not defined (set it in project.yml vars or with --vars)`);
  });
  hb.registerHelper('config', (...args: unknown[]) => {
    const options = args.pop() as Handlebars.HelperOptions;
    // `{{config key=value}}` only declares (read statically); `{{config "key"}}` reads a value.
    return args.length ? String(ctx(options).config[String(args[0])] ?? '') : '';
  });
  const envAllowed = new Set(manifest.envAllowed ?? []);
  hb.registerHelper('env', (name: string, options: Handlebars.HelperOptions) => {
    // The process's env holds credentials (TM_PG_URL...): a model reads only what the project lists.
    if (!envAllowed.has(name)) throw new TmError(`{{env "${name}"}}: models may read only the env vars listed in env_allowed: in project.yml (add ${name} there if it is meant for models)`);
    const value = process.env[name];
    if (value !== undefined) return value;
    if (options.hash?.default !== undefined) return String(options.hash.default);
    throw new TmError(`env var ${name} is not set`);
  });
  hb.registerHelper('literal', (value: unknown) => quoteLiteral(String(value)));
  hb.registerHelper('ident', (value: unknown) => quoteIdent(String(value)));
  return hb;
}

/** Renders a template; errors name the file and line. */
export function renderTemplate(hb: TemplateEnv, text: string, file: string, lineOffset: number, context: RenderContext): string {
  let template: Handlebars.TemplateDelegate;
  try {
    template = compiled(hb, text);
  } catch (err) {
    throw templateParseError(err, file, lineOffset, text);
  }
  const root: Record<string, unknown> = {
    ...context.values,
    __tm: context,
    toString: () => context.thisRelation,
  };
  try {
    return template(root);
  } catch (err) {
    if (err instanceof TmError) throw projectError(file, err.message);
    const message = (err as Error).message;
    const m = / - (\d+):\d+$/.exec(message);
    const line = m ? Number(m[1]) + lineOffset : undefined;
    const hint = unknownHelperHint(message, Object.keys(hb.helpers));
    throw projectError(file, `template error: ${message.replace(/ in [^\n]* - \d+:\d+$/, '').replace(/ - \d+:\d+$/, '')}${hint}`, line);
  }
}

/** Compiled templates per environment: a `--every` loop renders the same models every cycle. */
const compiledTemplates = new WeakMap<TemplateEnv, Map<string, Handlebars.TemplateDelegate>>();

function compiled(hb: TemplateEnv, text: string): Handlebars.TemplateDelegate {
  let byText = compiledTemplates.get(hb);
  if (!byText) compiledTemplates.set(hb, (byText = new Map()));
  let template = byText.get(text);
  if (!template) {
    template = hb.compile(text, { noEscape: true, strict: true });
    byText.set(text, template);
  }
  return template;
}
