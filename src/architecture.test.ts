import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The engine's import graph, read from the sources: file -> the project files it imports. */
const SRC = import.meta.dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts'));
}

/** The packages (not project files) a file imports, type-only imports aside (they vanish at build). */
function packagesOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*import\s(?!type\s)[^'"]*?from\s+['"]([^'".][^'"]*)['"]/gm), ...text.matchAll(/import\(\s*['"]([^'".][^'"]*)['"]\s*\)/g)].map((m) => m[1]);
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => path.relative(SRC, f);
const stage = (f: string) => rel(f).split(path.sep)[0];

/** The file and every project file it imports, directly or not. */
function reachable(file: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const d of graph.get(f) ?? []) visit(d);
  };
  visit(file);
  return seen;
}

/**
 * The layers, low to high: a file imports only from folders of its own rank or below. core/ holds
 * process-wide utilities; manifest/ the project as plain data; engines/ the seams to databases (compute
 * engines, target); compile/ and graph/ turn the manifest into SQL and a DAG; project/ loads files into
 * the manifest; state/, sources/ and materialize/ are the building blocks of a run; quality/, plan/ and
 * artifacts/ (records of a run, written by the stages above) come next; then the run's stages
 * observe/ < execute/; the other commands' folders; api/ wires them; cli/ parses arguments.
 */
const RANKS: Readonly<Record<string, number>> = {
  core: 0,
  manifest: 1,
  engines: 2,
  compile: 3, graph: 3,
  project: 4,
  state: 5, sources: 5, materialize: 5,
  quality: 6, plan: 6, artifacts: 6, diff: 6,
  observe: 7,
  execute: 8,
  dashboards: 9, docs: 9, init: 9,
  api: 10,
  cli: 11,
};

/** Imports that run back up the layers, each with why (at most 2). */
const UPWARD: readonly string[] = [];

/** Modules of one engine or database driver: only engines/ imports them. */
const ENGINE_PACKAGES = /^(@duckdb|pg|pg-copy-streams|@electric-sql|@grpc)(\/|$)/;
const ENGINE_MODULES = ['duckdb', 'postgres', 'pglite', 'pglite-lock', 'duck-transfer', 'type-map', 'compute/duckdb', 'compute/in-target', 'compute/parquet-rows', 'compute/spark', 'spark/connect-client', 'spark/protowire', 'spark/connect-messages', 'spark/arrow-ipc'].map((m) => path.join(SRC, 'engines', `${m}.ts`));

describe('the engine layout', () => {
  it('gives every folder a layer, and imports run down the layers only', () => {
    const folders = [...new Set(files.map(stage))].filter((f) => !f.endsWith('.ts'));
    expect(folders.filter((f) => RANKS[f] === undefined)).toEqual([]);
    const upward = [...graph].flatMap(([f, deps]) => deps.filter((d) => RANKS[stage(d)] > RANKS[stage(f)]).map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(upward).toEqual(UPWARD);
    expect(UPWARD.length).toBeLessThanOrEqual(2);
  });

  it('keeps core/ below everything: it imports only core/', () => {
    const wrong = [...graph].filter(([f]) => stage(f) === 'core').flatMap(([f, deps]) => deps.filter((d) => stage(d) !== 'core').map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(wrong).toEqual([]);
  });

  it('names no engine outside engines/: drivers and engine implementations are imported there only', () => {
    const wrong = files
      .filter((f) => stage(f) !== 'engines')
      .flatMap((f) => [...packagesOf(f).filter((p) => ENGINE_PACKAGES.test(p)), ...(graph.get(f) ?? []).filter((d) => ENGINE_MODULES.includes(d)).map(rel)].map((d) => `${rel(f)} -> ${d}`));
    expect(wrong).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const next of graph.get(f) ?? []) visit(next, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('imports only files that exist (the check above sees every edge)', () => {
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(missing).toEqual([]);
  });

  it('keeps api/ above the stages: only cli/ and api/ import api/, and only cli/ imports cli/', () => {
    const wrong = [...graph].flatMap(([f, deps]) =>
      deps
        .filter((d) => (stage(d) === 'api' && !['api', 'cli'].includes(stage(f))) || (stage(d) === 'cli' && stage(f) !== 'cli'))
        .map((d) => `${rel(f)} -> ${rel(d)}`),
    );
    expect(wrong).toEqual([]);
  });

  it('keeps the planner pure: plan/ reaches no database, file or network module, directly or through what it imports', () => {
    const io = /^(node:fs|node:child_process|node:net|node:http|pg|@duckdb|@electric-sql)/;
    const wrong = files
      .filter((f) => stage(f) === 'plan')
      .flatMap((f) => [...reachable(f)].flatMap((d) => packagesOf(d).filter((p) => io.test(p)).map((p) => `${rel(f)} -> ${rel(d)} -> ${p}`)));
    expect(wrong).toEqual([]);
  });

  it('ships no test support: nothing under src/ imports test code', () => {
    const wrong = [...graph].flatMap(([f, deps]) => deps.filter((d) => !d.startsWith(SRC + path.sep)).map((d) => `${rel(f)} -> ${path.relative(path.dirname(SRC), d)}`));
    expect(wrong).toEqual([]);
  });
});
