/**
 * Regenerates the usage blocks of README.md from `im-attrs … --help`, run in-process, for the
 * root, every command and subcommand, and the help topics (gh's cmd/gen-docs habit: help text is
 * the source of the docs). The prose around the blocks is the README's own and is left alone.
 *
 * A block is everything between two markers, the help as a ```text fence in between:
 *
 *     <!-- usage: config init -->
 *     ```text
 *     Usage: im-attrs config init [options]
 *     …
 *     ```
 *     <!-- /usage: config init -->
 *
 * The root's key is `im-attrs`; a topic's is `help environment`.
 *
 * Run after `npm run build`:
 *   node dist/test/docs/gen-readme.js                    rewrite the blocks, and add a missing subcommand's
 *                                                        (or topic's) block after its parent's
 *   node dist/test/docs/gen-readme.js --append-missing   also append the remaining missing ones at the end
 *   node dist/test/docs/gen-readme.js --check            change nothing; exit 1 if README.md is stale
 *
 * test/docs/readme.test.ts uses the same functions, so the test and the generator agree.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { HELP_TOPICS } from '../../src/commands/topic-list.js';
import { createTestSignals } from '../../src/deps.js';
import { createTestIO } from '../../src/io.js';
import { buildProgram } from '../../src/program.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { runCli } from '../helpers/cli.js';

/** README.md at the repository root (this file runs from dist/test/docs/). */
export const README_PATH = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The key of the root's block. */
export const ROOT_KEY = 'im-attrs';

/** One help page: its block key, the argv that prints it, and (once run) the text. */
export interface HelpPage {
  key: string;
  argv: string[];
}

/** A block found in the README. */
export interface Block {
  key: string;
  /** The text between the opening and closing markers, exclusive. */
  body: string;
}

const BLOCK = /<!-- usage: ([^>]+?) -->\n([\s\S]*?)<!-- \/usage: \1 -->/g;

/** The program's command tree, built the way main.ts builds it (no command runs). */
const TREE: Command = await buildProgram(
  new Runtime({ io: createTestIO(), env: {}, cwd: '/', homeDir: '/', now: () => 0, signals: createTestSignals() }),
);

/** The whole command tree (every command loaded). */
export function programTree(): Command {
  return TREE;
}

/** The visible commands under `command`, without commander's implicit `help` command. */
export function visibleSubcommands(command: Command): Command[] {
  return command
    .createHelp()
    .visibleCommands(command)
    .filter((c) => c.parent === command);
}

/** Every page the README documents: the root, each command and subcommand, each help topic. */
export function helpPages(program: Command = programTree()): HelpPage[] {
  const pages: HelpPage[] = [{ key: ROOT_KEY, argv: ['--help'] }];
  const walk = (command: Command, path: string[]): void => {
    for (const child of visibleSubcommands(command)) {
      const childPath = [...path, child.name()];
      pages.push({ key: childPath.join(' '), argv: [...childPath, '--help'] });
      walk(child, childPath);
    }
  };
  walk(program, []);
  for (const topic of HELP_TOPICS) {
    // Topics are hidden commands; document the ones this build has.
    if (program.commands.some((c) => c.name() === topic)) pages.push({ key: `help ${topic}`, argv: ['help', topic] });
  }
  return pages;
}

/** The help text of a page, as a user sees it off a terminal (fixed width). */
export async function helpText(page: HelpPage): Promise<string> {
  const result = await runCli(page.argv);
  if (result.code !== 0) throw new Error(`im-attrs ${page.argv.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** The body of a block for `text`: a ```text fence. */
export function blockBody(text: string): string {
  return `\`\`\`text\n${text.replace(/\n+$/, '')}\n\`\`\`\n`;
}

/** A whole block, markers included. */
export function renderBlock(key: string, text: string): string {
  return `<!-- usage: ${key} -->\n${blockBody(text)}<!-- /usage: ${key} -->`;
}

/** The blocks of a README, in order. */
export function findBlocks(readme: string): Block[] {
  return [...readme.matchAll(BLOCK)].map((m) => ({ key: m[1]!, body: m[2]! }));
}

export interface UpdateResult {
  text: string;
  /** Keys of blocks whose content changed. */
  changed: string[];
  /** Keys of blocks that were added. */
  added: string[];
  /** Pages the README has no block for (and none was added). */
  missing: string[];
  /** Blocks for commands that no longer exist. */
  stale: string[];
}

/** The block a page's block goes after when it is missing: its command's parent, or the root for a topic. */
export function parentKey(key: string): string {
  const words = key.split(' ');
  if (key === ROOT_KEY || words.length === 1) return ROOT_KEY;
  if (words[0] === 'help' && (HELP_TOPICS as readonly string[]).includes(words[1] ?? '')) return ROOT_KEY;
  return words.slice(0, -1).join(' ');
}

function isTopic(key: string): boolean {
  return parentKey(key) === ROOT_KEY && key.startsWith('help ');
}

/**
 * Rewrites every block from `texts` (key → help text, in page order). A page without a block gets
 * one right after its parent's block (after its earlier siblings), when `insert` is on and the
 * parent has a block; with `appendMissing`, the rest go into a "Command reference" at the end.
 */
export function updateReadme(
  readme: string,
  texts: ReadonlyMap<string, string>,
  options: { insert?: boolean; appendMissing?: boolean } = {},
): UpdateResult {
  const changed: string[] = [];
  const stale: string[] = [];
  const seen = new Set<string>();
  let text = readme.replace(BLOCK, (whole, key: string, body: string) => {
    seen.add(key);
    const help = texts.get(key);
    if (help === undefined) {
      stale.push(key);
      return whole;
    }
    if (blockBody(help) !== body) changed.push(key);
    return renderBlock(key, help);
  });
  const added: string[] = [];
  const missing: string[] = [];
  const order = [...texts.keys()];
  for (const key of order) {
    if (seen.has(key)) continue;
    const parent = parentKey(key);
    if (!options.insert || !seen.has(parent)) {
      missing.push(key);
      continue;
    }
    // After the parent's block, or after the last block of an earlier sibling (or its subtree).
    const family = (k: string): boolean => (isTopic(key) ? isTopic(k) : k.startsWith(parent === ROOT_KEY ? '' : `${parent} `) && !isTopic(k));
    const anchor = order.slice(0, order.indexOf(key)).filter((k) => seen.has(k) && (k === parent || family(k))).pop() ?? parent;
    const closing = `<!-- /usage: ${anchor} -->`;
    const at = text.indexOf(closing) + closing.length;
    text = `${text.slice(0, at)}\n\n${renderBlock(key, texts.get(key)!)}${text.slice(at)}`;
    seen.add(key);
    added.push(key);
  }
  if (options.appendMissing && missing.length) {
    const sections = missing.map((key) => `### ${key === ROOT_KEY ? ROOT_KEY : `im-attrs ${key}`}\n\n${renderBlock(key, texts.get(key)!)}\n`);
    text = `${text.replace(/\n*$/, '\n\n')}## Command reference\n\n${sections.join('\n')}`;
    added.push(...missing.splice(0));
  }
  return { text, changed, added, missing, stale };
}

/** Runs every page's --help: key → text, in README order. */
export async function allHelpTexts(program?: Command): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const page of helpPages(program)) texts.set(page.key, await helpText(page));
  return texts;
}

async function cli(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const check = args.includes('--check');
  const appendMissing = args.includes('--append-missing') && !check;
  const readme = existsSync(README_PATH) ? readFileSync(README_PATH, 'utf8') : '';
  if (readme === '' && !appendMissing) {
    err.write(`gen-readme: ${README_PATH} does not exist; run with --append-missing to start one\n`);
    return 1;
  }
  const result = updateReadme(readme, await allHelpTexts(), { insert: !check, appendMissing });
  for (const key of result.stale) err.write(`gen-readme: block "${key}" documents a command that does not exist; remove it by hand\n`);
  for (const key of result.missing) {
    err.write(`gen-readme: no block for "${key}"; add its markers where it belongs:\n<!-- usage: ${key} -->\n<!-- /usage: ${key} -->\n`);
  }
  if (check) {
    for (const key of result.changed) err.write(`gen-readme: block "${key}" differs from its --help\n`);
    const ok = result.changed.length === 0 && result.missing.length === 0 && result.stale.length === 0;
    out.write(ok ? 'README.md is up to date\n' : 'README.md is out of date: run npm run build && node dist/test/docs/gen-readme.js\n');
    return ok ? 0 : 1;
  }
  if (result.text !== readme) writeFileSync(README_PATH, result.text);
  out.write(`README.md: ${result.changed.length} block(s) updated, ${result.added.length} added\n`);
  return result.missing.length || result.stale.length ? 1 : 0;
}

// Run only as a script: `node --test dist/test/` loads every file under test/ (NODE_TEST_CONTEXT
// is set then), and a test run must never rewrite the README.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.env.NODE_TEST_CONTEXT === undefined) {
  process.exitCode = await cli(process.argv.slice(2), process.stdout, process.stderr);
}
