import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../test-support/harness.js';

/**
 * The README and docs/ stay true to the repository: every relative link (and #anchor) resolves, and
 * every tm command shown in a shell block is a command of the built CLI whose `--help` lists each flag shown.
 */
const pages = ['README.md', ...readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const textOf = (page: string): string => readFileSync(path.join(repoRoot, page), 'utf8');

interface Block {
  readonly lang: string;
  readonly lines: readonly string[];
}

/** Splits a page into its fenced code blocks and its prose lines (fences and their contents left out). */
function parse(text: string): { blocks: Block[]; prose: string[] } {
  const blocks: Block[] = [];
  const prose: string[] = [];
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of text.split('\n')) {
    const fence = /^\s*```(\S*)/.exec(line);
    if (fence && !open) open = { lang: fence[1], lines: [] };
    else if (fence && open) (blocks.push(open), (open = undefined));
    else if (open) open.lines.push(line);
    else prose.push(line);
  }
  return { blocks, prose };
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
function anchorsOf(page: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of parse(textOf(page)).prose) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const text = heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** `[text](target)` and `![alt](target)` in prose, outside inline code. */
function linksOf(page: string): string[] {
  const prose = parse(textOf(page)).prose.join('\n').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

/** Where a relative link of `page` points, or why it does not resolve. */
function brokenLink(page: string, link: string): string | undefined {
  if (/^[a-z]+:/i.test(link)) return undefined;
  const [file, anchor] = link.split('#');
  const target = file ? path.posix.normalize(path.posix.join(path.posix.dirname(page), file)) : page;
  if (target.startsWith('../') || !existsSync(path.join(repoRoot, target))) return `${page}: ${link}: no file ${target}`;
  if (anchor === undefined) return undefined;
  if (!target.endsWith('.md') || statSync(path.join(repoRoot, target)).isDirectory()) return `${page}: ${link}: an anchor into a file that is not a page`;
  return anchorsOf(target).has(anchor) ? undefined : `${page}: ${link}: no heading '#${anchor}' in ${target}`;
}

interface ShownCommand {
  readonly page: string;
  readonly line: string;
  /** `run`, or `docs serve`. */
  readonly command: string;
  readonly flags: readonly string[];
}

const GROUPS = new Set(['docs', 'dashboards']);

/** tm invocations in shell blocks (```sh) and in `$ ` lines of other blocks: the command and the flags shown. */
function commandsShown(page: string, text: string): ShownCommand[] {
  const shown: ShownCommand[] = [];
  for (const block of parse(text).blocks) {
    const shell = block.lang === 'sh' || block.lang === 'bash' || block.lang === 'shell';
    const joined = block.lines.join('\n').replace(/\\\n\s*/g, ' ').split('\n');
    for (const raw of joined) {
      if (!shell && !raw.startsWith('$ ')) continue;
      const line = raw.replace(/^\$ /, '');
      for (const m of line.matchAll(/(?:^|[\s;&|(])(?:npx --no-install tm|node bin\/tm\.js|tm)\s+([^#;&|)]*)/g)) {
        const words = m[1].trim().split(/\s+/);
        if (!/^[a-z]+$/.test(words[0] ?? '')) continue;
        const command = GROUPS.has(words[0]) && /^[a-z]+$/.test(words[1] ?? '') ? `${words[0]} ${words[1]}` : words[0];
        const flags = words.filter((w) => /^--?[a-z]/i.test(w)).map((w) => w.replace(/=.*$/, ''));
        shown.push({ page, line: line.trim(), command, flags });
      }
    }
  }
  return shown;
}

describe('README.md and docs/', () => {
  it('link only to files and headings that exist', () => {
    const links = pages.flatMap((page) => linksOf(page).map((link) => ({ page, link })));
    expect(links.length).toBeGreaterThan(30);
    expect(links.filter((l) => l.link.startsWith('docs/')).length).toBeGreaterThanOrEqual(15);
    expect(links.map((l) => brokenLink(l.page, l.link)).filter((b) => b !== undefined)).toEqual([]);
  });

  it('the link check catches a missing file, a missing heading and a link out of the repository', () => {
    expect(brokenLink('README.md', 'docs/no-such-page.md')).toMatch(/no file docs\/no-such-page\.md/);
    expect(brokenLink('docs/cli.md', 'hot-tier.md#no-such-heading')).toMatch(/no heading '#no-such-heading'/);
    expect(brokenLink('docs/cli.md', '../../outside.md')).toMatch(/no file/);
    expect(brokenLink('docs/hot-tier.md', 'cli.md#the-plan---dry-run')).toBeUndefined();
  });

  it('show tm commands whose flags the built CLI still takes', async () => {
    const shown = pages.flatMap((page) => commandsShown(page, textOf(page)));
    expect(shown.filter((c) => c.page === 'README.md').map((c) => c.command)).toEqual(expect.arrayContaining(['init', 'build', 'docs generate', 'docs serve']));
    const helps = new Map<string, Promise<{ code: number; stdout: string }>>();
    const helpOf = (command: string) => {
      if (!helps.has(command)) helps.set(command, runCli([...command.split(' '), '--help']));
      return helps.get(command)!;
    };
    const problems: string[] = [];
    for (const c of shown) {
      const help = await helpOf(c.command);
      if (help.code !== 0 || !help.stdout.startsWith(`Usage: tm ${c.command} `)) {
        problems.push(`${c.page}: '${c.line}': tm ${c.command} is not a command (exit ${help.code})`);
        continue;
      }
      for (const flag of c.flags) {
        const listed = new RegExp(`(?<![\\w-])${flag.replace(/[-]/g, '\\-')}(?![\\w-])`).test(help.stdout);
        if (!listed) problems.push(`${c.page}: '${c.line}': tm ${c.command} --help does not list ${flag}`);
      }
    }
    expect(problems).toEqual([]);
    expect(shown.length).toBeGreaterThan(20);
  });

  it('name the package tarball that npm pack writes', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
    const named = pages.flatMap((page) => [...textOf(page).matchAll(/tm-transform-[\w.-]+?\.tgz/g)].map((m) => `${page}: ${m[0]}`));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((n) => !n.endsWith(`: ${pkg.name}-${pkg.version}.tgz`))).toEqual([]);
  });

  it('the command check finds the command and flags of each shown line', () => {
    const text = ['```sh', 'npx --no-install tm docs serve --port 8080   # a comment --not-a-flag', 'TM_PG_URL=x node bin/tm.js run \\', '  --select cold --target=prod', 'npm run tm -- --help', '```', '```', '$ node bin/tm.js ls -s +a', 'node bin/tm.js compile  # not a $ line: output', '```'].join('\n');
    expect(commandsShown('x.md', text).map((c) => [c.command, ...c.flags])).toEqual([
      ['docs serve', '--port'],
      ['run', '--select', '--target'],
      ['ls', '-s'],
    ]);
  });
});
