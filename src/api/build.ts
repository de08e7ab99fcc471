import path from 'node:path';
import type { NodeResult } from '../artifacts/run-results.js';
import { writeTestResults } from '../artifacts/test-results.js';
import { EXIT_OK } from '../core/errors.js';
import type { Log } from '../core/progress.js';
import { buildTests, type BuildTests } from '../quality/build-tests.js';
import { collectTests } from '../quality/collect-tests.js';
import { junitCaseOfModel, junitCaseOfTest, writeJunit } from '../quality/junit.js';
import { testResult, testSummary } from '../quality/report.js';
import { ensureAuditSchema } from '../quality/audit.js';
import { logFailureDetails } from '../quality/run-tests.js';
import { selectTests } from '../quality/select-tests.js';
import type { QualityTest, TestOutcome } from '../quality/types.js';
import { planTestSteps } from '../plan/test-steps.js';
import { stateDirOf } from '../project/state-dir.js';
import { prepareSources } from '../sources/prepare-sources.js';
import { closePlannedRun, executeRun, exitCodeOf, openPlannedRun, printPlan, type PlannedRun, type RunOptions } from './run.js';

export interface BuildOptions extends RunOptions {
  /** Keep every test's failing rows in the audit schema. */
  readonly storeFailures?: boolean;
  /** Write JUnit XML (models and tests) here. */
  readonly junit?: string;
}

export interface BuildOutcome {
  readonly exitCode: number;
  /** Models and tests, as in run_results.json. */
  readonly results: readonly NodeResult[];
  readonly tests: readonly TestOutcome[];
}

const defaultLog: Log = (line) => process.stdout.write(line + '\n');

/**
 * `tm build`: `tm run` with the selected models' tests scheduled among them. A test runs once its
 * models are built; when an error-severity test fails, the descendants of its models are skipped.
 */
export async function build(options: BuildOptions): Promise<BuildOutcome> {
  const log = options.log ?? defaultLog;
  const startedAt = new Date().toISOString();
  const opened = await openPlannedRun({ ...options, log });
  try {
    const tests = buildTestsOf(opened, options);
    const planned: PlannedRun = { ...opened, plan: { ...opened.plan, tests: planTestSteps(tests, opened.ctx.manifest, opened.ctx.graph, opened.plan.steps.map((s) => s.model.uniqueId), opened.plan.sources) } };
    if (options.dryRun) {
      printPlan(planned);
      return { exitCode: EXIT_OK, results: [], tests: [] };
    }
    const scheduled = await prepareBuildTests(planned, tests, options);
    const { results } = await executeRun(planned, { command: 'build', tests: scheduled, extraResults: () => scheduled.outcomes().map(testResult) });
    const outcomes = scheduled.outcomes();
    // The tests also go where `tm test` puts them, so the last test results are in one place whichever command ran them.
    await writeTestResults(planned.ctx.targetDir, {
      command: 'build', target: planned.runtime.config.name, started_at: startedAt, elapsed_s: Math.round(performance.now() - planned.started) / 1000, results: outcomes.map(testResult),
    });
    log(testSummary(outcomes));
    logFailureDetails(outcomes, log);
    if (options.junit) {
      const projectName = planned.ctx.project.name;
      const models = results.filter((r) => r.kind === 'model').map((r) => junitCaseOfModel(r, projectName));
      await writeJunit(options.junit, 'tm build', [...models, ...outcomes.map((t) => junitCaseOfTest(t, projectName))], startedAt);
    }
    return { exitCode: exitCodeOf(results), results, tests: outcomes };
  } finally {
    await closePlannedRun(opened);
  }
}

/** The selected tests, and those of the temp models this run computes (they exist only now). */
function buildTestsOf(planned: PlannedRun, options: BuildOptions): QualityTest[] {
  const { ctx: project, plan } = planned;
  const selection = selectTests(project.manifest, options.select, options.exclude, planned.state);
  const temps = new Set(plan.steps.filter((s) => s.model.config.materialized === 'temp').map((s) => s.model.name));
  const ofTemps = collectTests(project.manifest).filter((t) => t.refs.length > 0 && t.refs.every((r) => temps.has(r)));
  return [...new Map([...selection.tests, ...ofTemps].map((t) => [t.uniqueId, t])).values()];
}

/** What the tests need once the run's sources are read: the sources no model reads, the audit schema. */
async function prepareBuildTests(planned: PlannedRun, tests: readonly QualityTest[], options: BuildOptions): Promise<BuildTests> {
  const { ctx: project, runtime, plan, log } = planned;
  // Tests on a source that no selected model reads still need it prepared.
  const sources = new Map((await planned.ingest(plan)).sources);
  const missing = [...new Set(tests.flatMap((t) => t.sources))].filter((s) => !sources.has(s)).map((s) => project.manifest.sources.get(s)!);
  if (missing.length) {
    const setup = { projectDir: project.project.projectDir, stateDir: stateDirOf(project.project.projectDir), values: plan.values, log };
    for (const [name, prepared] of await prepareSources(runtime.engines.sources, project.manifest, missing, setup)) sources.set(name, prepared);
  }
  if (options.storeFailures || tests.some((t) => t.storeFailures)) await ensureAuditSchema(runtime.target);
  const ctx = {
    manifest: project.manifest, target: runtime.target, duck: runtime.engines.sources, templates: planned.templates, sources, values: plan.values,
    storeFailures: options.storeFailures ?? false, compiledDir: path.join(project.targetDir, 'compiled'),
  };
  log(`${tests.length} test${tests.length === 1 ? '' : 's'} selected`);
  // Partition-aware reads: tests over a source (and over what DuckDB computes from it) see the days this
  // run read, as an audit sees the intervals it processed; `tm test` reads every file.
  const tested = new Set(tests.flatMap((t) => t.sources));
  for (const step of plan.sources) {
    if (step.days === undefined || !step.days.length || !tested.has(step.name) || missing.some((m) => m.name === step.name)) continue;
    log(`tests on source ${step.name} check the ${step.days.length} day${step.days.length === 1 ? '' : 's'} read in this run (tm test reads every file)`);
  }
  return buildTests(tests, ctx, log);
}
