import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { allCommands, commandSpec, SHELLS, type Shell } from '../../src/commands/completion.js';
import { programTree } from '../docs/gen-docs.js';
import { runCli, tempDir } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../../bin/im-attrs.js', import.meta.url));

/**
 * Why a shell's tests cannot run here, or undefined when they can. CI (.ci/run installs zsh and
 * fish, and sets CI) never skips them: a missing shell there fails, or the tests would rot unseen
 * as the fish one once did.
 */
function missingShell(shell: string): string | undefined {
  if (spawnSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' }).status === 0) return undefined;
  assert.ok(!process.env.CI, `${shell} is not installed, and CI must run its completion tests (.ci/run installs it)`);
  return `${shell} is not installed`;
}

describe('im-attrs completion', () => {
  const scripts = new Map<Shell, string>();
  const work = tempDir();
  /** PATH with an `im-attrs` that runs this build, and a config file with two profiles. */
  let shellEnv: NodeJS.ProcessEnv;

  before(async () => {
    for (const shell of SHELLS) {
      const result = await runCli(['completion', shell]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      scripts.set(shell, result.stdout);
      writeFileSync(path.join(work.dir, `im-attrs.${shell}`), result.stdout);
    }
    const bin = path.join(work.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'im-attrs'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(path.join(bin, 'im-attrs'), 0o755);
    mkdirSync(path.join(work.dir, '.config', 'imadmin'), { recursive: true });
    writeFileSync(path.join(work.dir, '.config', 'imadmin', 'config.json'), JSON.stringify({ profiles: { prod: {}, staging: {} } }));
    shellEnv = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: work.dir, XDG_CONFIG_HOME: path.join(work.dir, '.config') };
  });
  after(() => work.cleanup());

  it('is a usage error for a shell it does not know', async () => {
    const result = await runCli(['completion', 'tcsh']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'im-attrs: command-argument value \'tcsh\' is invalid for argument \'shell\'. Allowed choices are bash, zsh, fish.\n');
  });

  it('names every command, subcommand and option of the program in every script', () => {
    const spec = commandSpec(programTree());
    for (const shell of SHELLS) {
      const script = scripts.get(shell)!;
      for (const command of allCommands(spec)) {
        for (const word of command.path) assert.ok(script.includes(word), `${shell}: command ${command.path.join(' ')}`);
        for (const option of command.options) {
          const long = option.long!;
          // fish spells long options without their dashes (-l region).
          assert.ok(script.includes(shell === 'fish' ? `-l ${long.slice(2)}` : long), `${shell}: ${command.path.join(' ') || 'im-attrs'} ${long}`);
        }
      }
    }
  });

  describe('bash', () => {
    it('parses (bash -n) and registers itself (complete -p)', () => {
      const file = path.join(work.dir, 'im-attrs.bash');
      execFileSync('bash', ['-n', file]);
      const registered = execFileSync('bash', ['-c', `source "${file}" && complete -p im-attrs`], { encoding: 'utf8' });
      assert.equal(registered, 'complete -F _im_attrs im-attrs\n');
    });

    /** What bash offers for the command line (the last word is the one being completed). */
    const complete = (line: string[]): string[] => {
      const file = path.join(work.dir, 'im-attrs.bash');
      const words = line.map((w) => `'${w}'`).join(' ');
      const out = execFileSync(
        'bash',
        ['-c', `source "${file}"; COMP_WORDS=(${words}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _im_attrs; printf '%s\\n' "\${COMPREPLY[@]}"`],
        { encoding: 'utf8', env: shellEnv },
      );
      return out.split('\n').filter(Boolean);
    };

    const cases: Array<{ line: string[]; expected: string[] }> = [
      { line: ['im-attrs', 'co'], expected: ['config', 'completion'] },
      { line: ['im-attrs', 'config', ''], expected: ['init', 'show', 'current', 'path', 'profiles', 'use', 'trust', 'untrust', 'help'] },
      { line: ['im-attrs', '--region', 'sgp', 'config', 'sh'], expected: ['show'] },
      { line: ['im-attrs', 'get', '--region', ''], expected: ['cn', 'sgp', 'kr', 'jpn', 'ger', 'usa', 'idn', 'ind', 'ksa'] },
      { line: ['im-attrs', 'get', '--output', 'n'], expected: ['ndjson'] },
      { line: ['im-attrs', '--color', ''], expected: ['auto', 'always', 'never'] },
      { line: ['im-attrs', 'completion', ''], expected: ['bash', 'zsh', 'fish'] },
      { line: ['im-attrs', 'doctor', '--o'], expected: ['--offline'] },
      { line: ['im-attrs', 'config', 'init', '--auth', 'secret-key'], expected: ['secret-key-env', 'secret-key'] },
      { line: ['im-attrs', 'get', 'alice', '--p'], expected: ['--profile'] },
    ];
    for (const c of cases) {
      it(`completes "${c.line.join(' ')}"`, () => {
        assert.deepEqual(complete(c.line), c.expected);
      });
    }

    it('completes profiles by asking `im-attrs config profiles`', () => {
      assert.deepEqual(complete(['im-attrs', 'get', '--profile', '']), ['prod', 'staging']);
      assert.deepEqual(complete(['im-attrs', '--profile', 'st']), ['staging']);
    });

    it('completes file names where an option takes a path', () => {
      writeFileSync(path.join(work.dir, 'ids.txt'), 'alice\n');
      assert.deepEqual(complete(['im-attrs', 'get', '--file', path.join(work.dir, 'ids')]), [path.join(work.dir, 'ids.txt')]);
    });
  });

  describe('zsh', () => {
    it('parses (zsh -n) and registers itself with compdef', (t) => {
      const whyNot = missingShell('zsh');
      if (whyNot) return t.skip(whyNot);
      const file = path.join(work.dir, 'im-attrs.zsh');
      execFileSync('zsh', ['-n', file]);
      const registered = execFileSync(
        'zsh',
        ['-fc', `autoload -U compinit && compinit -u -d "${path.join(work.dir, '.zcompdump')}" && source "${file}" && print -r -- $_comps[im-attrs]`],
        { encoding: 'utf8', env: shellEnv },
      );
      assert.equal(registered, '_im_attrs\n');
    });
  });

  describe('fish', () => {
    const fish = (line: string): string[] => {
      const file = path.join(work.dir, 'im-attrs.fish');
      const out = execFileSync('fish', ['-c', `source "${file}"; complete -C "${line}"`], { encoding: 'utf8', env: shellEnv });
      return out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!);
    };

    it('parses (fish -n) and completes subcommands, regions and profiles', (t) => {
      const whyNot = missingShell('fish');
      if (whyNot) return t.skip(whyNot);
      execFileSync('fish', ['-n', path.join(work.dir, 'im-attrs.fish')]);
      assert.deepEqual(fish('im-attrs config '), ['current', 'help', 'init', 'path', 'profiles', 'show', 'trust', 'untrust', 'use']);
      assert.deepEqual(fish('im-attrs get --region '), ['cn', 'ger', 'idn', 'ind', 'jpn', 'kr', 'ksa', 'sgp', 'usa']);
      assert.deepEqual(fish('im-attrs --profile '), ['prod', 'staging']);
    });
  });
});
