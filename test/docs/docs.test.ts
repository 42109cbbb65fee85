import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { addHelpTopics } from '../../src/commands/help-topics.js';
import { HELP_TOPICS } from '../../src/commands/topic-list.js';
import { ENV_VARS } from '../../src/config/resolve.js';
import { createTestSignals } from '../../src/deps.js';
import { createTestIO } from '../../src/io.js';
import { buildProgram, EXIT_CODES_HELP, wrapHelpText } from '../../src/program.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { allHelpTexts, drift, generatedFiles, helpPages, MAN_PATH, programTree, README_PATH, REFERENCE_DIR, visibleSubcommands } from './gen-docs.js';
import { runCli } from '../helpers/cli.js';

const REGENERATE = 'run `npm run build && node dist/test/docs/gen-docs.js` and commit docs/ and README.md';

describe('the generated docs (docs/reference, docs/im-attrs.1, the README recipes)', () => {
  let texts: Map<string, string>;
  let files: Map<string, string>;

  before(async () => {
    texts = await allHelpTexts();
    files = await generatedFiles(texts);
  });

  it('are what the generator writes from --help: no page differs, is missing or is left over', () => {
    assert.deepEqual(drift(files), { stale: [], extra: [] }, REGENERATE);
  });

  it('have a page for the root, every command and subcommand, and every help topic', () => {
    const pages = helpPages().map((p) => p.key);
    assert.ok(pages.includes('push send') && pages.includes('help options') && pages.includes('help recipes'), pages.join(', '));
    for (const key of pages) assert.ok(existsSync(`${REFERENCE_DIR}/${key === 'im-attrs' ? 'im-attrs' : `im-attrs ${key}`.replace(/ /g, '_')}.md`), key);
  });

  it('mention every command and every option, in the reference and in the man page', () => {
    const reference = [...files].filter(([f]) => f.startsWith(REFERENCE_DIR)).map(([, c]) => c).join('\n');
    const man = files.get(MAN_PATH)!;
    const unmentioned: string[] = [];
    const walk = (command: ReturnType<typeof programTree>, path: string[]): void => {
      for (const option of command.options) {
        if (!option.hidden && option.long && !(reference.includes(option.long) && man.includes(option.long))) unmentioned.push(`${['im-attrs', ...path].join(' ')} ${option.long}`);
      }
      for (const child of visibleSubcommands(command)) {
        const childPath = [...path, child.name()];
        if (!reference.includes(`# im-attrs ${childPath.join(' ')}\n`) || !man.includes(`.SS "im-attrs ${childPath.join(' ')}"`)) unmentioned.push(`im-attrs ${childPath.join(' ')}`);
        walk(child, childPath);
      }
    };
    walk(programTree(), []);
    assert.deepEqual(unmentioned, []);
  });

  it('has a README of at most 400 lines with a table of contents', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    const lines = readme.split('\n').length;
    assert.ok(lines <= 400, `README.md has ${lines} lines`);
    assert.match(readme, /^## Contents\n/m);
  });

  it('has a man page that man renders (`man ./docs/im-attrs.1`)', () => {
    const man = spawnSync('man', [MAN_PATH], { encoding: 'utf8', env: { PATH: process.env.PATH, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80', LANG: 'C.UTF-8' } });
    assert.ok(!man.error, `man is not installed (apt-get install -y man-db groff-base; .ci/run does): ${man.error?.message ?? ''}`);
    assert.equal(man.status, 0, man.stderr);
    assert.match(man.stdout, /^NAME\n {7}im-attrs +- /m);
    for (const heading of ['SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'HELP TOPICS']) assert.match(man.stdout, new RegExp(`^${heading}$`, 'm'));
    assert.match(man.stdout, /^ {3}im-attrs push send$/m);
    assert.equal(man.stderr.replace(/^man: can't set the locale.*\n/m, ''), '');
  });
});

describe('every help page fits', () => {
  it('80 columns piped, and 60, 80 and 120 columns on a terminal', async () => {
    const wide: string[] = [];
    for (const page of helpPages()) {
      for (const [tty, columns] of [[false, undefined], [true, 60], [true, 80], [true, 120]] as const) {
        const result = await runCli(page.argv, { stdoutIsTTY: tty, columns });
        assert.equal(result.code, 0, result.stderr);
        const width = columns ?? 80;
        // A single word wider than the terminal (a URL in an example) cannot wrap; wrapHelpText moves it left.
        for (const line of result.stdout.split('\n')) if (line.length > width && /\s/.test(line.trim())) wide.push(`${page.argv.join(' ')} at ${width}${tty ? ' (terminal)' : ''}: ${line}`);
      }
    }
    assert.deepEqual(wide, []);
  });

  it('lists the featured global options in a command\'s help and points to `help options` for the rest', async () => {
    const result = await runCli(['remove', '--help']);
    const globals = result.stdout.slice(result.stdout.indexOf('\nGlobal Options:\n'));
    assert.equal(
      globals.slice(0, globals.indexOf('\n\n', 2)),
      [
        '\nGlobal Options:',
        '  --profile <name>        profile of the config file (env IMADMIN_PROFILE)',
        '  --api <family>          API family: all_member_push (default) or timpush (env',
        '                          IMADMIN_API)',
        '  -q, --quiet             no spinner, no summary',
        '  -v, --verbose           a line per batch and retry on stderr',
        '  --debug                 trace requests (UserSig redacted) and timings on',
        '                          stderr',
        '  `im-attrs help options` lists the other global options',
      ].join('\n'),
    );
    const options = await runCli(['help', 'options']);
    for (const flag of ['--region <region>', '--usersig-file <path>', '--ca <file>', '--color <when>', '--profile <name>']) assert.match(options.stdout, new RegExp(`^  ${flag} `, 'm'), flag);
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
    assert.equal(text, wrapHelpText(`${EXIT_CODES_HELP.trim()}\n\nErrors go to stderr as "im-attrs: …", most followed by a "hint:" line saying what to do next.\n`, 80));
  });
});
