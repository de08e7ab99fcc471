import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { analyzeTemplate } from '../compile/static-analysis.js';
import { projectError } from '../core/errors.js';
import type { MacroFile, SingularTestNode } from '../manifest/types.js';
import type { ProjectConfig } from './load-project.js';
import { listFiles, projectRelative } from './walk.js';

/** Singular tests: `tests/**\/*.sql`, each a query returning failing rows. `tests/generic/` holds generic test templates. */
export async function loadSingularTests(project: ProjectConfig): Promise<SingularTestNode[]> {
  const tests: SingularTestNode[] = [];
  for (const testPath of project.testPaths) {
    const root = path.join(project.projectDir, testPath);
    for (const file of await listFiles(root, ['.sql'])) {
      if (path.relative(root, file).split(path.sep)[0] === 'generic') continue;
      const display = projectRelative(project.projectDir, file);
      const rawSql = await readFile(file, 'utf8');
      const declared = analyzeTemplate(rawSql, display);
      const severity = declared.config.severity ?? 'error';
      if (severity !== 'warn' && severity !== 'error') throw projectError(display, `severity must be 'warn' or 'error'`);
      const name = path.basename(file, '.sql');
      tests.push({
        kind: 'test',
        uniqueId: `test.${project.name}.${name}`,
        name,
        path: display,
        rawSql,
        refs: declared.refs,
        sources: declared.sources,
        severity,
      });
    }
  }
  return tests;
}

/**
 * Macros: `.sql`/`.hbs` files become Handlebars partials named after the file, `.js`/`.mjs` modules
 * export helpers. Generic test templates in `tests/generic/` are partials too, named `test_<file>`.
 */
export async function loadMacros(project: ProjectConfig): Promise<MacroFile[]> {
  const macros: MacroFile[] = [];
  const roots = [
    ...project.macroPaths.map((p) => ({ root: path.join(project.projectDir, p), prefix: '' })),
    ...project.testPaths.map((p) => ({ root: path.join(project.projectDir, p, 'generic'), prefix: 'test_' })),
  ];
  for (const { root, prefix } of roots) {
    for (const file of await listFiles(root, ['.sql', '.hbs', '.js', '.mjs'])) {
      const ext = path.extname(file);
      const kind = ext === '.js' || ext === '.mjs' ? 'helper' : 'partial';
      macros.push({ name: prefix + path.basename(file, ext), path: file, kind, text: kind === 'partial' ? await readFile(file, 'utf8') : '' });
    }
  }
  return macros;
}
