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
    for (const flag of ['--profile <name>', '-q, --quiet', '--debug', '--region <region>']) assert.ok(globals.includes(`  ${flag} `), flag);
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
