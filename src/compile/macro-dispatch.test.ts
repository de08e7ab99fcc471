import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Handlebars from 'handlebars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MacroFile } from '../manifest/types.js';
import { macroVariant, registerMacros } from './macro-dispatch.js';

const partial = (name: string, text: string): MacroFile => ({ name, path: `macros/${name}.sql`, kind: 'partial', text });

async function render(macros: readonly MacroFile[], engine: string, template: string): Promise<string> {
  const hb = Handlebars.create();
  await registerMacros(hb, macros, engine);
  return hb.compile(template, { noEscape: true, strict: true })({});
}

describe('per-engine macro variants', () => {
  // The spark variant is listed first on purpose: the choice must not depend on file order.
  const macros = [
    partial('arg_max.spark', 'max_by({{v}}, {{k}})'),
    partial('arg_max', 'arg_max({{v}}, {{k}})'),
    partial('epoch', 'epoch({{ts}})'),
    partial('only_spark.spark', 'spark-only'),
    partial('name.with.dots', 'dotted'),
  ];

  it('renders x.spark.sql for a model on spark and x.sql for any other engine', async () => {
    const model = `{{> arg_max v="doc" k="n"}} / {{> epoch ts="t"}}`;
    expect(await render(macros, 'spark', model)).toBe('max_by(doc, n) / epoch(t)');
    expect(await render(macros, 'duckdb', model)).toBe('arg_max(doc, n) / epoch(t)');
  });

  it('hides other engines’ variants, and keeps dotted names that name no engine', async () => {
    expect(await render(macros, 'spark', '{{> only_spark}}')).toBe('spark-only');
    await expect(render(macros, 'duckdb', '{{> only_spark}}')).rejects.toThrow(/only_spark/);
    await expect(render(macros, 'duckdb', '{{> arg_max.spark v=1 k=2}}')).rejects.toThrow(/arg_max\.spark/);
    expect(await render(macros, 'duckdb', '{{> [name.with.dots]}}')).toBe('dotted');
    expect(macroVariant('x.spark')).toEqual({ base: 'x', engine: 'spark' });
    expect(macroVariant('x.sparkly')).toEqual({ base: 'x.sparkly', engine: undefined });
  });

  describe('helper modules', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'tm-macro-dispatch-'));
      await writeFile(path.join(dir, 'dates.spark.mjs'), `export const day_of_week = (c) => 'dayofweek(' + c + ') - 1';\n`);
      await writeFile(path.join(dir, 'dates.mjs'), `export const day_of_week = (c) => 'dayofweek(' + c + ')';\nexport const today = () => 'current_date';\n`);
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('lets the engine’s module override same-named helpers and keeps the others', async () => {
      const helper = (name: string): MacroFile => ({ name, path: path.join(dir, `${name}.mjs`), kind: 'helper', text: '' });
      const helpers = [helper('dates.spark'), helper('dates')];
      const model = `{{day_of_week "d"}} {{today}}`;
      expect(await render(helpers, 'spark', model)).toBe('dayofweek(d) - 1 current_date');
      expect(await render(helpers, 'duckdb', model)).toBe('dayofweek(d) current_date');
    });
  });
});
