import path from 'node:path';
import type { NodeResult } from '../artifacts/run-results.js';
import { writeTestResults } from '../artifacts/test-results.js';
import { EXIT_FAILED, EXIT_OK } from '../errors.js';
import type { Log } from '../execute/progress.js';
import { scheduleTests, type ScheduledTests } from '../quality/build-tests.js';
import { collectTests } from '../quality/collect-tests.js';
import { junitCaseOfModel, junitCaseOfTest, writeJunit } from '../quality/junit.js';
import { testResult, testSummary } from '../quality/report.js';
import { ensureAuditSchema } from '../quality/audit.js';
import { logFailureDetails } from '../quality/run-tests.js';
import { selectTests } from '../quality/select-tests.js';
import type { TestOutcome } from '../quality/types.js';
import { prepareSources } from './prepare-sources.js';
import { stateDirOf } from './runtime.js';
import { run, type RunOptions } from './run.js';

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
  const started = performance.now();
  const startedAt = new Date().toISOString();
  let scheduled: ScheduledTests | undefined;
  let projectName = '';
  let targetDir: string | undefined;
  let targetName = '';
  const outcome = await run({
    ...options,
    log,
    command: 'build',
    schedule: async ({ project, runtime, selected, sources, values, templates }) => {
      projectName = project.project.name;
      targetDir = project.targetDir;
      targetName = runtime.config.name;
      // The selected tests, and those of the temp models this run computes: they exist only now.
      const selection = selectTests(project.manifest, options.select, options.exclude);
      const temps = new Set(selected.map((id) => project.graph.nodes.get(id)!).filter((n) => n.kind === 'model' && n.config.materialized === 'temp').map((n) => n.name));
      const ofTemps = collectTests(project.manifest).filter((t) => t.refs.length > 0 && t.refs.every((r) => temps.has(r)));
      const tests = [...new Map([...selection.tests, ...ofTemps].map((t) => [t.uniqueId, t])).values()];
      // Tests on a source that no selected model reads still need it prepared.
      const missing = [...new Set(tests.flatMap((t) => t.sources))].filter((s) => !sources.has(s)).map((s) => project.manifest.sources.get(s)!);
      const allSources = new Map(sources);
      if (missing.length) {
        const setup = { projectDir: project.project.projectDir, stateDir: stateDirOf(project.project.projectDir), values, log };
        for (const [name, prepared] of await prepareSources(runtime.duck, project.manifest, missing, setup)) allSources.set(name, prepared);
      }
      if (options.storeFailures || tests.some((t) => t.storeFailures)) await ensureAuditSchema(runtime.target);
      const ctx = {
        manifest: project.manifest, target: runtime.target, duck: runtime.duck, templates, sources: allSources, values,
        storeFailures: options.storeFailures ?? false, compiledDir: path.join(project.targetDir, 'compiled'),
      };
      log(`${tests.length} test${tests.length === 1 ? '' : 's'} selected`);
      scheduled = scheduleTests(tests, project.graph, selected, ctx, log);
      const current = scheduled;
      return { nodes: current.nodes, results: () => current.outcomes().map(testResult) };
    },
  });
  const tests = scheduled?.outcomes() ?? [];
  // The tests also go where `tm test` puts them, so the last test results are in one place whichever command ran them.
  if (targetDir && scheduled) {
    await writeTestResults(targetDir, { command: 'build', target: targetName, started_at: startedAt, elapsed_s: Math.round(performance.now() - started) / 1000, results: tests.map(testResult) });
  }
  log(testSummary(tests));
  logFailureDetails(tests, log);
  if (options.junit) {
    const models = outcome.results.filter((r) => r.kind === 'model').map((r) => junitCaseOfModel(r, projectName));
    await writeJunit(options.junit, 'tm build', [...models, ...tests.map((t) => junitCaseOfTest(t, projectName))], startedAt);
  }
  const failed = outcome.results.some((r) => r.status === 'error' || r.status === 'fail');
  return { exitCode: failed ? EXIT_FAILED : EXIT_OK, results: outcome.results, tests };
}
