import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EXIT_FAILED, EXIT_OK, errorMessage, projectError } from '../core/errors.js';
import { counted } from '../core/plural.js';
import { quoteIdent } from '../core/sql-quote.js';
import { openSourceEngine } from '../engines/compute/index.js';
import type { SqlSession } from '../engines/compute/types.js';
import { withSession } from '../engines/target.js';
import { buildGraph } from '../graph/build-graph.js';
import { selectNodes } from '../graph/select.js';
import { tempAncestors } from '../graph/temp-models.js';
import { buildManifest } from '../project/build-manifest.js';
import { relationOf } from '../manifest/kind-facts.js';
import type { FixtureRow, Manifest, ModelNode, SourceNode, UnitTestSpec } from '../manifest/types.js';
import { writeJunit, type JunitCase } from '../quality/junit.js';
import { diffLines, diffRows } from '../quality/unit-diff.js';
import { fixtureFiles, seedRefTable, writeSourceFixture } from '../quality/unit-fixtures.js';
import { loadProjectContext, type CommonOptions, type ProjectContext } from './project-context.js';
import { run } from './run.js';
import { openRuntime, type Runtime } from './runtime.js';

export interface UnitTestOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  /** Also write the results as JUnit XML here (one testcase per unit test). */
  readonly junit?: string;
}

export interface UnitTestResult {
  readonly model: string;
  readonly test: string;
  readonly status: 'pass' | 'fail' | 'error';
  readonly ms: number;
  /** The diff (`- missing`, `+ extra`), or the run's error. */
  readonly lines: readonly string[];
}

/**
 * `tm test --unit`: each unit test of the selected models runs the model through the real pipeline in a
 * throwaway folder: its sources' fixture rows as Parquet files laid out like their locations, its refs' rows
 * in an embedded PGlite, then `tm run --select <model>` (rendering, DuckDB, the materialization), and the
 * model's table is compared with the expected rows as a multiset.
 */
export async function unitTest(options: UnitTestOptions): Promise<{ exitCode: number; results: UnitTestResult[] }> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const started = performance.now();
  const ctx = await loadProjectContext(options);
  const ids = selectNodes(ctx.graph, { select: options.select, exclude: options.exclude, kinds: ['model'] });
  const models = ids.map((id) => ctx.graph.nodes.get(id) as ModelNode).filter((m) => m.unitTests?.length);
  const results: UnitTestResult[] = [];
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'tm-unit-'));
  const duck = await openSourceEngine({ memoryLimit: '256MB', threads: 1, tempDirectory: path.join(scratch, 'fixtures-tmp') });
  // One embedded PGlite for all the tests (starting one takes seconds); each test writes a schema of its own.
  const runtime = models.length
    ? await openRuntime(scratch, undefined, 1, {
        log: () => undefined,
        config: {
          type: 'pglite', name: 'unit-test', path: path.join(scratch, 'pglite'), schema: 'public', threads: 1, stateDir: path.join(scratch, '.tm'),
          duckdb: { memoryLimit: '512MB', tempDirectory: path.join(scratch, 'duckdb-tmp'), batchInputBytes: 256 * 1024 * 1024 },
        },
      })
    : undefined;
  try {
    const writer = await duck.connect();
    for (const model of models) {
      for (const spec of model.unitTests ?? []) {
        const t0 = performance.now();
        const folder = path.join(scratch, `${model.name}--${spec.name}`.replace(/[^\w.-]/g, '_'));
        let outcome: Pick<UnitTestResult, 'status' | 'lines'>;
        try {
          const target = { ...runtime!.target, schema: `unit_${results.length + 1}` };
          outcome = await runUnitTest(ctx, model, spec, folder, writer, { ...runtime!, target });
        } catch (err) {
          outcome = { status: 'error', lines: errorMessage(err).split('\n') };
        }
        const result = { model: model.name, test: spec.name, ...outcome, ms: Math.round(performance.now() - t0) };
        results.push(result);
        log(`${result.status.toUpperCase().padEnd(5)} ${model.name}: ${spec.name}  (${result.ms} ms)`);
        for (const line of result.lines) log(`      ${line}`);
        await rm(folder, { recursive: true, force: true });
      }
    }
    writer.close();
  } finally {
    await runtime?.close();
    duck.close();
    await rm(scratch, { recursive: true, force: true });
  }
  const failed = results.filter((r) => r.status !== 'pass').length;
  if (options.junit) {
    const cases = results.map((r): JunitCase => ({
      classname: `${ctx.manifest.projectName}.${r.model}`, name: r.test, seconds: r.ms / 1000,
      outcome: r.status === 'pass' ? 'pass' : r.status === 'fail' ? 'failure' : 'error',
      message: r.lines[0], detail: r.lines.join('\n') || undefined, file: ctx.manifest.models.get(r.model)?.yamlPath,
    }));
    await writeJunit(path.resolve(options.junit), 'tm test --unit', cases, new Date().toISOString());
  }
  log(`${counted(results.length, 'unit test')} of ${counted(models.length, 'model')} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${results.length - failed} passed, ${failed} failed`);
  return { exitCode: failed ? EXIT_FAILED : EXIT_OK, results };
}

/** The project as the test sees it: every source read from an (empty unless given) folder under `folder`. */
function withFixtureLocations(manifest: Manifest, folder: string): Manifest {
  const sources = new Map<string, SourceNode>([...manifest.sources].map(([name, s]) => [name, { ...s, location: path.join(folder, 'sources', name) }]));
  return { ...manifest, sources };
}

async function runUnitTest(ctx: ProjectContext, declared: ModelNode, spec: UnitTestSpec, folder: string, writer: SqlSession, runtime: Runtime): Promise<Pick<UnitTestResult, 'status' | 'lines'>> {
  const where = `${declared.yamlPath ?? declared.path} (model '${declared.name}', unit test '${spec.name}')`;
  if (declared.config.materialized === 'temp') throw projectError(where, 'a temp model lives only in the run: test the models that read it');
  // A test's vars change what the project renders at load (kind settings): its manifest is built with them.
  const base = Object.keys(spec.vars).length ? await buildManifest(ctx.project, { ...ctx.manifest.vars, ...spec.vars }) : ctx.manifest;
  const manifest = withFixtureLocations(base, folder);
  for (const source of manifest.sources.values()) await mkdir(source.location, { recursive: true });
  const model = manifest.models.get(declared.name) ?? declared;
  const unknown = [...spec.expect.rows.flatMap((r) => Object.keys(r)), ...spec.expect.ignoreColumns].find((c) => !model.columns.some((m) => m.name === c));
  if (unknown) throw projectError(where, `expect names column '${unknown}', which is not in the model's contract (${model.columns.map((c) => c.name).join(', ')})`);
  // What the run reads: the model's sources and refs, and those of the temp models it reads (computed in the run).
  const temps = tempAncestors(manifest, model);
  const sourcesRead = [...new Set([model, ...temps].flatMap((m) => m.sources))];
  const refsRead = [...new Set([model, ...temps].flatMap((m) => m.refs))].filter((r) => manifest.models.get(r)?.config.materialized !== 'temp');
  const refRows = new Map<string, readonly FixtureRow[]>();
  for (const input of spec.given) {
    if ('source' in input) {
      const source = manifest.sources.get(input.source);
      if (!source || !sourcesRead.includes(input.source)) throw projectError(where, `given source '${input.source}' is not read by the model (it reads: ${sourcesRead.join(', ') || 'no source'})`);
      await writeSourceFixture(writer, source, source.location, fixtureFiles(source, input.files, input.rows), where);
    } else {
      const ref = manifest.models.get(input.ref);
      if (ref?.config.materialized === 'temp') throw projectError(where, `ref '${input.ref}' is a temp model computed in the run: give the rows of its sources instead`);
      if (!ref || !refsRead.includes(input.ref)) throw projectError(where, `given ref '${input.ref}' is not read by the model (it reads: ${refsRead.join(', ') || 'no model'})`);
      refRows.set(input.ref, input.rows);
    }
  }
  const schema = runtime.target.schema;
  await withSession(runtime.target, async (session) => {
    await session.exec(`CREATE SCHEMA ${quoteIdent(schema)}`);
    for (const name of refsRead) await seedRefTable(session, schema, manifest.models.get(name)!, refRows.get(name) ?? [], where);
  });
  const runLog: string[] = [];
  const testCtx: ProjectContext = { ...ctx, manifest, graph: buildGraph(manifest), targetDir: path.join(folder, 'target') };
  const outcome = await run({ projectDir: folder, select: [model.name], now: spec.now, threads: 1, log: (line) => runLog.push(line), keep: { context: testCtx, runtime } });
  if (outcome.exitCode !== EXIT_OK) return { status: 'error', lines: ['the run failed:', ...runLog] };
  const columns = model.columns.map((c) => c.name);
  const table = `${quoteIdent(schema)}.${quoteIdent(relationOf(model))}`;
  const actual = await withSession(runtime.target, (session) => session.query<FixtureRow>(`SELECT ${columns.map((c) => `${quoteIdent(c)}::text AS ${quoteIdent(c)}`).join(', ')} FROM ${table}`));
  // Rows are paired by the model's key (primary or unique key) to show what changed in them.
  const key = model.primaryKey.length ? model.primaryKey : (model.config.unique_key ?? []);
  const diff = diffRows(spec.expect.rows, actual, columns, spec.expect.ignoreColumns, key);
  const lines = diffLines(diff, key);
  return lines.length ? { status: 'fail', lines: [`expected ${counted(spec.expect.rows.length, 'row')}, got ${counted(actual.length, 'row')} (compared: ${diff.columns.join(', ')})`, ...lines] } : { status: 'pass', lines: [] };
}
