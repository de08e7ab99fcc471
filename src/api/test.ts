import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sourceSummary, type NodeResult } from '../artifacts/run-results.js';
import { writeTestResults } from '../artifacts/test-results.js';
import { createTemplateEnv, type TemplateEnv } from '../compile/template-env.js';
import { EXIT_FAILED, EXIT_OK } from '../core/errors.js';
import { elapsedSince, type Log } from '../core/progress.js';
import { executePlan } from '../execute/run-plan.js';
import { topologicalOrder } from '../graph/build-graph.js';
import { tempAncestors } from '../graph/temp-models.js';
import type { ModelNode } from '../manifest/types.js';
import { junitCaseOfTest, writeJunit } from '../quality/junit.js';
import { placeTest } from '../quality/placement.js';
import { excludedFileLines } from '../quality/quarantine.js';
import { testResult, testsFailed, testSummary } from '../quality/report.js';
import { logFailureDetails, runTests } from '../quality/run-tests.js';
import { selectTests } from '../quality/select-tests.js';
import type { QualityTest, TestOutcome } from '../quality/types.js';
import type { PreparedSource } from '../sources/prepare-source.js';
import { planRun } from '../plan/plan-run.js';
import { parseNow, sqlTimestamp } from '../plan/time.js';
import { stateDirOf } from '../project/state-dir.js';
import { prepareSources, sourcesOf } from '../sources/prepare-sources.js';
import { loadProjectContext, type CommonOptions, type ProjectContext } from './project-context.js';
import { openRuntime, type Runtime } from './runtime.js';
import { stateComparisonFor } from './state-selection.js';

export interface TestOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  /** `--state-from`: the target `state:` criteria compare with. */
  readonly stateFrom?: string;
  readonly threads?: number;
  /** Wall clock override (`--now`): what `recency` and the source rules compare with. */
  readonly now?: string;
  /** Keep every test's failing rows in the audit schema. */
  readonly storeFailures?: boolean;
  /** Write JUnit XML here. */
  readonly junit?: string;
}

export interface TestRunOutcome {
  readonly exitCode: number;
  readonly outcomes: readonly TestOutcome[];
}

const defaultLog: Log = (line) => process.stdout.write(line + '\n');

/**
 * `tm test`: runs the selected tests against what is built, each where its tables live. Tests on
 * sources and `temp` models need those in DuckDB: the sources are prepared (their contract checked)
 * and the temp models computed first.
 */
export async function test(options: TestOptions): Promise<TestRunOutcome> {
  const log = options.log ?? defaultLog;
  const started = performance.now();
  const startedAt = new Date();
  const ctx = await loadProjectContext(options);
  const { tests } = selectTests(ctx.manifest, options.select, options.exclude, await stateComparisonFor(options, ctx));
  const now = parseNow(options.now);
  const runtime = await openRuntime(ctx.project.projectDir, options.target, options.threads);
  const threads = Math.max(1, Math.min(options.threads ?? runtime.config.threads, runtime.target.maxSessions));
  log(`tm: project ${ctx.project.name}, target ${runtime.config.name} (${runtime.target.label}, schema ${runtime.target.schema}), ${tests.length} test${tests.length === 1 ? '' : 's'} selected, ${threads} thread${threads === 1 ? '' : 's'}`);
  let outcomes: TestOutcome[] = [];
  let modelResults: NodeResult[] = [];
  let sources = new Map<string, PreparedSource>();
  try {
    const values = { now: sqlTimestamp(now), run_started_at: sqlTimestamp(startedAt) };
    const templates = await createTemplateEnv(ctx.manifest);
    const inDuck = await prepareDuckInputs(ctx, runtime, tests, values, templates, threads, log, now);
    sources = inDuck.sources;
    modelResults = inDuck.modelResults;
    const failedTemp = new Set(modelResults.filter((r) => r.status !== 'success').map((r) => r.name));
    const runnable = tests.filter((t) => !t.refs.some((r) => failedTemp.has(r)));
    const testCtx = {
      manifest: ctx.manifest, target: runtime.target, duck: runtime.engines.sources, templates, sources, values,
      storeFailures: options.storeFailures ?? false, compiledDir: path.join(ctx.targetDir, 'compiled'),
    };
    const ran = await runTests(runnable, testCtx, threads, log);
    const skipped = tests.filter((t) => !runnable.includes(t)).map((t): TestOutcome => ({ test: t, status: 'error', seconds: 0, message: `test '${t.name}': a temp model it reads failed` }));
    outcomes = [...ran, ...skipped];
    const seconds = elapsedSince(started);
    log(testSummary(outcomes, seconds));
    logFailureDetails(outcomes, log);
    // Apart from run_results.json: a test run does not erase what the last run did.
    await writeTestResults(ctx.targetDir, {
      command: 'test', target: runtime.config.name, started_at: startedAt.toISOString(), elapsed_s: seconds,
      results: [...modelResults, ...outcomes.map(testResult)],
      sources: [...sources.values()].map(sourceSummary),
    });
    if (options.junit) await writeJunit(options.junit, 'tm test', outcomes.map((o) => junitCaseOfTest(o, ctx.project.name)), startedAt.toISOString());
  } finally {
    await runtime.close();
  }
  return { exitCode: testsFailed(outcomes) ? EXIT_FAILED : EXIT_OK, outcomes };
}

/** Prepares the sources and computes the temp models that the DuckDB-side tests read. */
async function prepareDuckInputs(
  ctx: ProjectContext, runtime: Runtime, tests: readonly QualityTest[], values: Readonly<Record<string, string>>,
  templates: TemplateEnv, threads: number, log: Log, now: Date,
): Promise<{ sources: Map<string, PreparedSource>; modelResults: NodeResult[] }> {
  const tempNames = new Set<string>();
  const sourceNames = new Set<string>();
  for (const t of tests) {
    const placement = placeTest(t, ctx.manifest);
    if (placement.runs !== 'in-source-engine') continue;
    for (const name of placement.tempModels) {
      const model = ctx.manifest.models.get(name);
      if (model?.config.materialized !== 'temp') continue;
      for (const m of [model, ...tempAncestors(ctx.manifest, model)]) tempNames.add(m.name);
    }
    for (const s of placement.sources) sourceNames.add(s);
  }
  if (tempNames.size === 0 && sourceNames.size === 0) return { sources: new Map(), modelResults: [] };
  const temps = [...tempNames].map((n) => ctx.manifest.models.get(n)!);
  const needed = [...sourcesOf(ctx.manifest, temps), ...[...sourceNames].map((n) => ctx.manifest.sources.get(n)!)];
  const unique = [...new Map(needed.map((s) => [s.name, s])).values()];
  const stateDir = stateDirOf(ctx.project.projectDir);
  const sources = await prepareSources(runtime.engines.sources, ctx.manifest, unique, { projectDir: ctx.project.projectDir, stateDir, values, log });
  for (const s of sources.values()) for (const line of excludedFileLines(s)) log(line);
  if (temps.length === 0) return { sources, modelResults: [] };
  // Temp models read nothing incremental: the plan builds each of them.
  const plan = planRun({
    manifest: ctx.manifest, models: topologicalOrder(ctx.graph, temps.map((m) => m.uniqueId)).map((id) => ctx.graph.nodes.get(id) as ModelNode),
    now, startedAt: now, runId: randomBytes(4).toString('hex'), fullRefresh: false,
    state: { progress: new Map(), seen: new Map(), existing: new Set(), locked: new Set() },
    sources: { idle: false, since: new Map(), listed: new Map(), validRows: new Map(), sources: [] },
  });
  const modelResults = await executePlan({
    plan, manifest: ctx.manifest, graph: ctx.graph, target: runtime.target, engines: runtime.engines, templates, sources, threads,
    compiledDir: path.join(ctx.targetDir, 'compiled'), log,
  });
  return { sources, modelResults };
}
