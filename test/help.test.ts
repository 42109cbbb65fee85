import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from './helpers/cli.js';

describe('help like gh', () => {
  it('bare im-attrs prints the help on stdout and exits 0 (as gh does)', async () => {
    const result = await runCli([]);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.ok(result.stdout.startsWith('Usage: im-attrs [options] [command]\n'), result.stdout);
    const help = await runCli(['--help']);
    assert.equal(result.stdout, help.stdout);
  });

  it('refuses an unknown help topic with exit 2 and did-you-mean', async () => {
    for (const [topic, suggestion] of [['enviroment', ' (did you mean "environment"?)'], ['gett', ' (did you mean "get"?)'], ['zzzzzz', '']] as const) {
      const result = await runCli(['help', topic]);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, `im-attrs: unknown help topic "${topic}"${suggestion}\nhint: run \`im-attrs help\` for the commands and topics\n`);
    }
  });

  it('lists the global options under their own heading in a subcommand\'s help', async () => {
    const result = await runCli(['remove', '--help']);
    assert.equal(result.code, 0);
    const globals = result.stdout.slice(result.stdout.indexOf('\nGlobal Options:\n'));
    for (const flag of ['--profile <name>', '-q, --quiet', '--debug']) assert.ok(globals.includes(`  ${flag} `), flag);
    assert.ok(!globals.includes('--region'), 'the other global options are in `im-attrs help options`');
    assert.ok(globals.includes('  `im-attrs help options` lists the other global options\n'));
  });

  it('wraps at 80 columns when piped and at the terminal width on a terminal', async () => {
    const piped = await runCli(['get', '--help']);
    const options = piped.stdout.slice(0, piped.stdout.indexOf('\nExamples:'));
    assert.ok(options.split('\n').every((line) => line.length <= 80), options);
    assert.ok(options.split('\n').some((line) => line.length > 70));
    const wide = await runCli(['get', '--help'], { stdoutIsTTY: true, columns: 120 });
    const wideOptions = wide.stdout.slice(0, wide.stdout.indexOf('\nExamples:'));
    assert.ok(wideOptions.split('\n').every((line) => line.length <= 120));
    assert.ok(wideOptions.split('\n').some((line) => line.length > 100));
  });
});

describe('the root help loads no command module', () => {
  it('lists every command with the term and summary the real command has (COMMAND_SUMMARIES)', async () => {
    const { buildProgram, COMMAND_SUMMARIES } = await import('../src/program.js');
    const { Runtime } = await import('../src/runtime/runtime.js');
    const { createTestIO } = await import('../src/io.js');
    const { createTestSignals } = await import('../src/deps.js');
    const rt = new Runtime({ io: createTestIO(), env: {}, cwd: '/', homeDir: '/', now: () => Date.now(), signals: createTestSignals() });
    const program = await buildProgram(rt);
    const help = program.createHelp();
    const real = program.commands.filter((c) => COMMAND_SUMMARIES.some(([name]) => name === c.name())).map((c) => [c.name(), help.subcommandTerm(c), c.summary()]);
    assert.deepEqual(real, COMMAND_SUMMARIES.map((row) => [...row]));
  });

  it('prints the same root help from the summaries as from the loaded commands', async () => {
    const summaries = await runCli(['--help']);
    const { buildProgram } = await import('../src/program.js');
    const { Runtime } = await import('../src/runtime/runtime.js');
    const { createTestIO } = await import('../src/io.js');
    const { createTestSignals } = await import('../src/deps.js');
    const io = createTestIO();
    const rt = new Runtime({ io, env: {}, cwd: '/', homeDir: '/', now: () => Date.now(), signals: createTestSignals() });
    const program = await buildProgram(rt);
    program.outputHelp();
    assert.equal(summaries.stdout, io.out());
  });
});
