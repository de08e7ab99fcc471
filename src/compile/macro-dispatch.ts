/**
 * Per-engine macro variants, chosen when a template environment is made (as dbt's adapter.dispatch
 * picks `spark__x` over `default__x`): `macros/x.spark.sql` beside `macros/x.sql` is the partial `x`
 * for models computed on Spark, and `x.sql` for every other engine. Helper modules follow the same
 * rule (`helpers.spark.mjs` overrides same-named helpers of `helpers.mjs`). Models call `{{> x}}`
 * whatever their engine, so one model file runs on either.
 */
import { pathToFileURL } from 'node:url';
import type Handlebars from 'handlebars';
import { projectError } from '../core/errors.js';
import type { MacroFile } from '../manifest/types.js';

/** Engines a macro file may name as its last dotted suffix; any other dotted name is a plain macro name. */
export const MACRO_ENGINE_SUFFIXES: readonly string[] = ['duckdb', 'spark'];

/** `x.spark` -> { base: 'x', engine: 'spark' }; names without an engine suffix are generic. */
export function macroVariant(name: string): { readonly base: string; readonly engine: string | undefined } {
  const dot = name.lastIndexOf('.');
  const suffix = dot > 0 ? name.slice(dot + 1) : '';
  return MACRO_ENGINE_SUFFIXES.includes(suffix) ? { base: name.slice(0, dot), engine: suffix } : { base: name, engine: undefined };
}

/**
 * The macros a model on `engineName` sees: for each name, its variant for that engine if the project has
 * one, else the generic file; other engines' variants are left out. Generic files come first, so the
 * engine's helper modules register last and win.
 */
export function macrosForEngine(macros: readonly MacroFile[], engineName: string): { readonly name: string; readonly macro: MacroFile }[] {
  const chosen = new Map<string, { name: string; macro: MacroFile; specific: boolean }>();
  const helpers: { name: string; macro: MacroFile; specific: boolean }[] = [];
  for (const macro of macros) {
    const { base, engine } = macroVariant(macro.name);
    if (engine !== undefined && engine !== engineName) continue;
    const entry = { name: base, macro, specific: engine !== undefined };
    if (macro.kind === 'helper') helpers.push(entry);
    else if (entry.specific || !chosen.get(base)?.specific) chosen.set(base, entry);
  }
  helpers.sort((a, b) => Number(a.specific) - Number(b.specific));
  return [...chosen.values(), ...helpers].map(({ name, macro }) => ({ name, macro }));
}

/** Registers the project's partials and helper modules for models computed on `engineName`. */
export async function registerMacros(hb: typeof Handlebars, macros: readonly MacroFile[], engineName: string): Promise<void> {
  for (const { name, macro } of macrosForEngine(macros, engineName)) {
    if (macro.kind === 'partial') {
      hb.registerPartial(name, macro.text);
      continue;
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(macro.path).href)) as Record<string, unknown>;
    } catch (err) {
      throw projectError(macro.path, `cannot load helper module: ${(err as Error).message}`);
    }
    const helpers = (mod.default && typeof mod.default === 'object' ? mod.default : mod) as Record<string, unknown>;
    for (const [helper, fn] of Object.entries(helpers)) if (typeof fn === 'function') hb.registerHelper(helper, fn as Handlebars.HelperDelegate);
  }
}
