/**
 * Every recipe in README.md runs as written: each block marked `<!-- recipe -->` runs in bash
 * (`set -euo pipefail`), in order, in one working directory, with `im-attrs` on PATH as the built
 * bin, against two emulators on loopback (the profiles test and prod of a config file in $HOME).
 * The files a recipe reads are the reader's own; this gives them: ids.txt and crm-export.csv.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Emulator } from '../../src/emulator/server.js';
import { seededIds, startTestEmulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, tempDir } from '../helpers/cli.js';
import { README_PATH, ROOT } from './gen-docs.js';

const run = promisify(execFile);

/** The recipe blocks of a README, in order: their heading and their shell lines. */
export function recipeBlocks(readme: string): Array<{ title: string; script: string }> {
  const blocks: Array<{ title: string; script: string }> = [];
  let title = '';
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{2,4} (.+)$/.exec(lines[i]!);
    if (heading) title = heading[1]!;
    if (lines[i] !== '<!-- recipe -->') continue;
    assert.match(lines[i + 1] ?? '', /^```(sh|bash)?$/, `the line after <!-- recipe --> (line ${i + 1}) must open a code block`);
    const end = lines.indexOf('```', i + 2);
    blocks.push({ title, script: lines.slice(i + 2, end).join('\n') });
  }
  return blocks;
}

describe('the README recipes', { timeout: 120_000 }, () => {
  const work = tempDir('im-attrs-recipes-');
  const home = path.join(work.dir, 'home');
  const cwd = path.join(work.dir, 'work');
  const bin = path.join(work.dir, 'bin');
  let test: Emulator;
  let prod: Emulator;

  before(async () => {
    test = await startTestEmulator({ seedUsers: 1000, rateLimit: 0 });
    prod = await startTestEmulator({ seedUsers: 1000, rateLimit: 0 });
    for (const dir of [home, cwd, bin, path.join(home, '.config', 'imadmin')]) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(bin, 'im-attrs'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin', 'im-attrs.js')}" "$@"\n`);
    chmodSync(path.join(bin, 'im-attrs'), 0o755);
    const profile = (emulator: Emulator): object => ({ endpoint: emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY });
    const config = path.join(home, '.config', 'imadmin', 'config.json');
    writeFileSync(config, JSON.stringify({ defaultProfile: 'test', profiles: { test: profile(test), prod: profile(prod) } }, null, 2));
    chmodSync(config, 0o600);
    writeFileSync(path.join(cwd, 'ids.txt'), `${seededIds(1, 300).join('\n')}\n`);
    const crm = ['user_id,email,city,level,plan', 'user000001,ana@example.com,Paris,gold,pro', 'user000002,ben@example.com,Paris,silver,free', 'user000003,chloe@example.com,Lyon,gold,pro'];
    writeFileSync(path.join(cwd, 'crm-export.csv'), `${crm.join('\n')}\n`);
  });
  after(async () => {
    await test?.close();
    await prod?.close();
    work.cleanup();
  });

  const blocks = recipeBlocks(readFileSync(README_PATH, 'utf8'));

  it('are there: at least 12, each with its commands', () => {
    assert.ok(blocks.length >= 12, `${blocks.length} recipes`);
    for (const block of blocks) assert.match(block.script, /\bim-attrs\b/, block.title);
  });

  // In order, in one directory: a recipe may use what an earlier one wrote (attrs.csv, before.ndjson).
  for (const block of blocks) {
    it(`runs: ${block.title}`, async () => {
      const env = { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), NO_COLOR: '1', LANG: 'C.UTF-8' };
      try {
        // Asynchronously: the emulators answer from this process's event loop.
        await run('bash', ['-c', `set -euo pipefail\n${block.script}\n`], { cwd, env, timeout: 60_000 });
      } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        assert.fail(`"${block.title}" failed (exit ${e.code}):\n${block.script}\n--- stdout\n${e.stdout ?? ''}--- stderr\n${e.stderr ?? ''}`);
      }
    });
  }

  it('did what they say: the CRM export reached the test app, the undo restored it, the copy reached prod', async () => {
    for (const emulator of [test, prod]) {
      const attrs = emulator.requests.length;
      assert.ok(attrs > 0);
    }
    // The CRM export's city and level, by its user_id column.
    const sets = test.requests.filter((r) => r.command === 'im_set_attr').flatMap((r) => (r.body as { UserAttrs: Array<{ To_Account: string; Attrs: Record<string, string> }> }).UserAttrs);
    assert.deepEqual(sets.find((u) => u.To_Account === 'user000003')?.Attrs, { city: 'Lyon', level: 'gold' });
    const attrs = readFileSync(path.join(cwd, 'attrs.csv'), 'utf8').split('\n');
    assert.equal(attrs[0], 'account,sex,city,level');
    assert.equal(attrs.length, 302);
  });
});
