import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { addHelpTopics } from '../../src/commands/help-topics.js';
import { HELP_TOPICS } from '../../src/commands/topic-list.js';
import { ENV_VARS } from '../../src/config/resolve.js';
import { createTestSignals } from '../../src/deps.js';
import { createTestIO } from '../../src/io.js';
import { buildProgram, EXIT_CODES_HELP } from '../../src/program.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { allHelpTexts, blockBody, findBlocks, helpPages, programTree, README_PATH, updateReadme, visibleSubcommands } from './gen-readme.js';
import { runCli } from '../helpers/cli.js';

const REGENERATE = 'run `npm run build && node dist/test/docs/gen-readme.js` and commit README.md';

describe('README.md usage blocks', () => {
  let readme: string;
  let texts: Map<string, string>;

  before(async () => {
    assert.ok(existsSync(README_PATH), `${README_PATH} is missing`);
    readme = readFileSync(README_PATH, 'utf8');
    texts = await allHelpTexts();
  });

  it('has a block for the root, every command and subcommand, and every help topic', () => {
    const keys = new Set(findBlocks(readme).map((b) => b.key));
    const missing = helpPages().filter((p) => !keys.has(p.key)).map((p) => p.key);
    assert.deepEqual(missing, [], `no usage block for: ${missing.join(', ')}; ${REGENERATE}`);
  });

  it('has no block for a command that does not exist', () => {
    const stale = findBlocks(readme).filter((b) => !texts.has(b.key)).map((b) => b.key);
    assert.deepEqual(stale, [], `blocks for commands that no longer exist: ${stale.join(', ')}`);
  });

  it('shows exactly what --help prints, in every block', () => {
    for (const block of findBlocks(readme)) {
      const help = texts.get(block.key);
      if (help === undefined) continue;
      assert.equal(block.body, blockBody(help), `the "${block.key}" block differs from \`im-attrs ${block.key} --help\`; ${REGENERATE}`);
    }
  });

  it('mentions every command and every option', () => {
    const unmentioned: string[] = [];
    const walk = (command: ReturnType<typeof programTree>, path: string[]): void => {
      for (const option of command.options) {
        if (!option.hidden && option.long && !readme.includes(option.long)) unmentioned.push(`${['im-attrs', ...path].join(' ')} ${option.long}`);
      }
      for (const child of visibleSubcommands(command)) {
        const childPath = [...path, child.name()];
        if (!readme.includes(`im-attrs ${childPath.join(' ')}`)) unmentioned.push(`im-attrs ${childPath.join(' ')}`);
        walk(child, childPath);
      }
    };
    walk(programTree(), []);
    assert.deepEqual(unmentioned, [], `README.md never mentions: ${unmentioned.join(', ')}`);
  });

  it('is what the generator writes (running it again changes nothing)', () => {
    const result = updateReadme(readme, texts, { insert: true });
    assert.deepEqual(result.changed, []);
    assert.deepEqual(result.added, []);
    assert.equal(result.text, readme);
  });
});

describe('the README generator', () => {
  const texts = new Map([
    ['im-attrs', 'Usage: im-attrs [options] [command]\n'],
    ['config', 'Usage: im-attrs config\n'],
    ['config init', 'Usage: im-attrs config init\n'],
    ['config show', 'Usage: im-attrs config show\n'],
    ['help environment', 'Environment variables read by im-attrs.\n'],
  ]);

  it('rewrites blocks between their markers, leaves the prose, and reports stale ones', () => {
    const readme = [
      '# Title',
      '<!-- usage: im-attrs -->',
      'old',
      '<!-- /usage: im-attrs -->',
      'prose',
      '<!-- usage: gone -->',
      '<!-- /usage: gone -->',
      '',
    ].join('\n');
    const result = updateReadme(readme, new Map([['im-attrs', 'Usage: im-attrs\n']]));
    assert.equal(
      result.text,
      ['# Title', '<!-- usage: im-attrs -->', '```text', 'Usage: im-attrs', '```', '<!-- /usage: im-attrs -->', 'prose', '<!-- usage: gone -->', '<!-- /usage: gone -->', ''].join('\n'),
    );
    assert.deepEqual(result.changed, ['im-attrs']);
    assert.deepEqual(result.stale, ['gone']);
  });

  it('inserts a missing subcommand after its parent (and earlier siblings), and a topic after the root', () => {
    const readme = '<!-- usage: im-attrs -->\n<!-- /usage: im-attrs -->\n\n### config\n\n<!-- usage: config -->\n<!-- /usage: config -->\n\n## Exit codes\n';
    const result = updateReadme(readme, texts, { insert: true });
    assert.deepEqual(result.added, ['config init', 'config show', 'help environment']);
    assert.deepEqual(result.missing, []);
    assert.deepEqual(
      findBlocks(result.text).map((b) => b.key),
      ['im-attrs', 'help environment', 'config', 'config init', 'config show'],
    );
    assert.ok(result.text.endsWith('<!-- /usage: config show -->\n\n## Exit codes\n'));
    assert.deepEqual(updateReadme(result.text, texts, { insert: true }).text, result.text);
  });

  it('reports what it cannot place, and appends it only when asked', () => {
    const result = updateReadme('# Title\n', texts);
    assert.deepEqual(result.missing, ['im-attrs', 'config', 'config init', 'config show', 'help environment']);
    const appended = updateReadme('# Title\n', texts, { appendMissing: true });
    assert.deepEqual(appended.missing, []);
    assert.ok(appended.text.startsWith('# Title\n\n## Command reference\n\n### im-attrs\n\n<!-- usage: im-attrs -->\n```text\n'));
  });
});

describe('help topics', () => {
  /** `im-attrs help <topic>` in-process; when program.ts does not add the topics yet, on a program that has them. */
  async function topic(name: string): Promise<{ text: string; wired: boolean }> {
    const wired = programTree().commands.some((c) => c.name() === name);
    if (wired) {
      const result = await runCli(['help', name]);
      assert.equal(result.code, 0, result.stderr);
      return { text: result.stdout, wired };
    }
    const io = createTestIO();
    const program = addHelpTopics(await buildProgram(new Runtime({ io, env: {}, cwd: '/', homeDir: '/', now: () => 0, signals: createTestSignals() })));
    try {
      await program.parseAsync(['node', 'im-attrs', 'help', name]);
    } catch (error) {
      // Judged by code, not exitCode: commander takes that from process.exitCode, which the test runner sets.
      if (!(error instanceof CommanderError) || error.code !== 'commander.help') throw error;
    }
    return { text: io.out(), wired };
  }

  it('are wired into the program: im-attrs help environment, im-attrs help exit-codes', (t) => {
    const missing = HELP_TOPICS.filter((name) => !programTree().commands.some((c) => c.name() === name));
    if (missing.length) t.todo('src/program.ts does not call addHelpTopics(program) yet');
    assert.deepEqual(missing, []);
  });

  it('environment lists every IMADMIN_* variable and the others im-attrs or Node.js read', async () => {
    const { text } = await topic('environment');
    const names = [...Object.values(ENV_VARS), 'IMADMIN_PROFILE', 'IMADMIN_CONFIG', 'XDG_CONFIG_HOME', 'NO_COLOR', 'FORCE_COLOR', 'NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'NO_PROXY'];
    // A name as wide as its column has its text on the next line.
    for (const name of names) assert.match(text, new RegExp(`^  ${name}(?: +|\\n {24})\\S`, 'm'), `${name} is not listed`);
    assert.ok(text.split('\n').every((line) => line.length <= 80), 'a line is wider than 80 columns');
  });

  it('exit-codes prints the table of the root help', async () => {
    const { text } = await topic('exit-codes');
    assert.equal(text, `${EXIT_CODES_HELP.trim()}\n\nErrors go to stderr as "im-attrs: …", most followed by a "hint:" line saying what to do next.\n`);
  });
});
