import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { DocsData } from './docs-data.js';
import { docsPageApp } from './page-app.js';

/** dagre's browser build (a `dagre` global), read from the installed package: no CDN, no bundler. */
function dagreScript(): string {
  const require = createRequire(import.meta.url);
  // The package's exports do not list dist/dagre.min.js: find the package folder by its package.json.
  const dir = path.dirname(require.resolve('@dagrejs/dagre/package.json'));
  const code = readFileSync(path.join(dir, 'dist', 'dagre.min.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/m, '');
  const license = readFileSync(path.join(dir, 'dist', 'dagre.min.js.LEGAL.txt'), 'utf8');
  return `${license}\n${code}`;
}

/** Text safe inside a <script> element: no `</script`, no `<!--`. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON inside <script type="application/json">: `<` escaped, so no string in it can close the element. */
function jsonSafe(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** `target/index.html`: one self-contained file (styles, layout library, data and script inline), works offline. */
export function renderDocsPage(data: DocsData): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.project)} · tm docs</title>
<style>${STYLES}</style>
</head>
<body>
<header class="top">
  <h1>${escapeHtml(data.project)} <span class="muted">tm docs</span></h1>
  <input id="tm-search" type="search" placeholder="Search models, sources, tests, columns…" aria-label="Search" autocomplete="off">
  <p id="tm-summary" class="muted"></p>
</header>
<div class="layout">
  <nav id="tm-node-list" aria-label="All nodes"></nav>
  <main>
    <section class="graph-box"><h2 class="sr">Lineage</h2><div data-tm-lineage></div></section>
    <section id="tm-node-page"></section>
  </main>
</div>
<script type="application/json" id="tm-docs-data">${jsonSafe(data)}</script>
<script>${scriptSafe(dagreScript())}</script>
<script>(${scriptSafe(docsPageApp.toString())})();</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const STYLES = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f6f7f9}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:12.5px}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;padding:10px 20px;background:#1d2430;color:#fff}
.top h1{font-size:18px;margin:0}.top .muted{color:#aab3c2}
#tm-search{flex:0 1 360px;padding:6px 10px;border-radius:6px;border:1px solid #4b5563;font-size:14px}
#tm-summary{margin:0;font-size:12.5px;flex-basis:100%}
.layout{display:grid;grid-template-columns:230px 1fr;min-height:calc(100vh - 80px)}
nav{padding:10px 16px;border-right:1px solid #dde1e7;background:#fff;overflow:auto;max-height:calc(100vh - 80px);position:sticky;top:0}
nav h3{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:#6b7280;margin:14px 0 4px}
nav ul{list-style:none;margin:0;padding:0}nav li a{display:block;padding:2px 0;color:#1f4fbf;text-decoration:none;overflow-wrap:anywhere}
main{padding:14px 20px;min-width:0}
.graph-box{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:8px;overflow:auto;max-height:60vh}
.sr{position:absolute;left:-9999px}
.edge{fill:none;stroke:#8a94a6;stroke-width:1.3}
.tm-node{cursor:pointer}.tm-node rect{fill:#fff;stroke:#64748b;stroke-width:1.2}
.tm-node text{font-size:12px;fill:#1d2430}
.tm-node.kind-source rect{fill:#e7f5ec;stroke:#2f8f5b}.tm-node.kind-model rect{fill:#e8effd;stroke:#3b6fd8}
.tm-node.kind-test rect{fill:#fff6e5;stroke:#c98a12}.tm-node.kind-dashboard rect{fill:#f3e8fd;stroke:#8b3bd8}
.tm-node.selected rect{stroke-width:3}.tm-node.dim{opacity:.2}.tm-node:focus{outline:none}.tm-node:focus rect{stroke-dasharray:3 2}
.dot{fill:#cbd5e1}.dot.st-success,.dot.st-pass{fill:#16a34a}.dot.st-warn{fill:#d97706}.dot.st-error,.dot.st-fail{fill:#dc2626}.dot.st-skipped{fill:#94a3b8}
#tm-node-page{margin-top:14px;background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 20px}
#tm-node-page header{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}#tm-node-page h2{margin:0;font-size:20px}
#tm-node-page h3{font-size:14px;margin:18px 0 6px;border-bottom:1px solid #eef0f3;padding-bottom:3px}
.kind{font-size:11px;text-transform:uppercase;padding:2px 6px;border-radius:4px;background:#e5e7eb}
.kind-model{background:#dbe6fd}.kind-source{background:#d7f0e0}.kind-test{background:#fdeccc}.kind-dashboard{background:#ecdafd}
.description{white-space:pre-wrap}.muted{color:#6b7280}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{font-weight:600;color:#4b5563;background:#f9fafb}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:0}.facts dt{color:#6b7280}.facts dd{margin:0}
.badge{display:inline-block;font-size:11.5px;padding:0 6px;border-radius:9px;background:#e5e7eb}
.st-success,.st-pass,.st-ok{background:#dcfce7;color:#166534}.st-warn,.st-late{background:#fef3c7;color:#92400e}
.st-error,.st-fail,.st-never{background:#fee2e2;color:#991b1b}
pre.sql{background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:6px;overflow:auto;max-height:420px}
a{color:#1f4fbf}
`;
