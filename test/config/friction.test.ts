import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generate } from '../../src/usersig.js';
import { runCli, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, useEmulator, useTempDir } from '../helpers/cli.js';

describe('config without friction', () => {
  const app = useEmulator({ seedUsers: 3, rateLimit: 0 });
  const files = useTempDir();

  /** A config file (named with --config: trusted) whose secretKey refers to an unset variable. */
  const unsetConfig = (): string => {
    const file = path.join(files.dir, 'unset.json');
    writeFileSync(
      file,
      JSON.stringify({ endpoint: app.emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: '${NOT_SET_KEY}' }),
      { mode: 0o600 },
    );
    return file;
  };

  describe('an unset ${VAR} fails only the commands that use its key', () => {
    it('usersig gen --secret-key-file - runs', async () => {
      const result = await runCli(['--config', unsetConfig(), 'usersig', 'gen', '--secret-key-file', '-'], { stdin: `${TEST_SECRET_KEY}\n` });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.length > 20);
    });

    it('--usersig SIG get runs', async () => {
      const sig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 3600 });
      const result = await runCli(['--config', unsetConfig(), '--usersig', sig, 'get', 'user000001', '-o', 'tsv', '--attrs', 'city']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'account\tcity\nuser000001\tShenzhen\n');
    });

    it('config show exits 0 and shows the unset variable', async () => {
      const result = await runCli(['--config', unsetConfig(), 'config', 'show', '--json']);
      assert.equal(result.code, 0, result.stderr);
      const doc = JSON.parse(result.stdout) as { settings: { secretKey: { value: string } }; verdict: { exitCode: number; message: string } };
      assert.equal(doc.settings.secretKey.value, '(unset: ${NOT_SET_KEY} is not set)');
      assert.equal(doc.verdict.exitCode, 3);
    });

    it('a command that needs the key names the variable and the key (exit 3)', async () => {
      const file = unsetConfig();
      const result = await runCli(['--config', file, 'get', 'user000001']);
      assert.equal(result.code, 3);
      assert.equal(
        result.stderr,
        `im-attrs: secretKey (from ${file}) refers to \${NOT_SET_KEY}, which is not set\nhint: export NOT_SET_KEY=… before running im-attrs, or put the value in the file\n`,
      );
    });
  });

  it('--region on the command line beats a profile\'s endpoint, with a warning', async () => {
    const file = path.join(files.dir, 'profiles.json');
    writeFileSync(file, JSON.stringify({ defaultProfile: 'emu', profiles: { emu: { endpoint: app.emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN } } }), { mode: 0o600 });
    const result = await runCli(['--config', file, '--region', 'sgp', 'config', 'show'], { env: { IMADMIN_SECRET_KEY: TEST_SECRET_KEY } });
    assert.equal(result.code, 0);
    assert.ok(
      result.stderr.includes(`warning: --region sgp replaces endpoint ${app.emulator.url} (from ${file}, profile "emu") for this run\n`),
      result.stderr,
    );
    assert.match(result.stderr, /usable: adminapisgp\.im\.qcloud\.com \(region sgp from flag --region\)/);
  });

  it('config use PROFILE sets defaultProfile; an unknown one is refused with did-you-mean', async () => {
    const file = path.join(files.dir, 'use.json');
    writeFileSync(file, JSON.stringify({ defaultProfile: 'a', profiles: { a: { region: 'sgp' }, prod: { region: 'ger' } } }), { mode: 0o600 });
    const used = await runCli(['--config', file, 'config', 'use', 'prod']);
    assert.equal(used.code, 0, used.stderr);
    assert.equal(used.stderr, `default profile of ${file}: prod (region ger); commands without --profile now use it\n`);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { defaultProfile: 'prod', profiles: { a: { region: 'sgp' }, prod: { region: 'ger' } } });
    const typo = await runCli(['--config', file, 'config', 'use', 'prd']);
    assert.equal(typo.code, 2);
    assert.equal(typo.stderr, `im-attrs: no profile "prd" in ${file} (did you mean "prod"?)\nhint: its profiles: a, prod\n`);
  });

  it('the 70014 hint points at sdkAppId', async () => {
    const result = await runCli(['get', 'user000001'], {
      env: { IMADMIN_ENDPOINT: app.emulator.url, IMADMIN_SDKAPPID: String(TEST_SDKAPPID + 1), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_SECRET_KEY: TEST_SECRET_KEY },
    });
    assert.equal(result.code, 4);
    assert.match(result.stderr, /\nhint: check `sdkAppId` \(--sdkappid, IMADMIN_SDKAPPID or \.imadminrc\)/);
  });
});
