/**
 * One validation: `get`, `doctor` and `config show` judge the same configuration the same way,
 * because they call the same functions (config/validate.ts through Runtime.apiConfig).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generate } from '../../src/usersig.js';
import { runCli, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, useEmulator } from '../helpers/cli.js';

describe('get, doctor and config show give the same verdict', () => {
  const app = useEmulator({ seedUsers: 2, rateLimit: 0 });

  /** A home with `.imadminrc` holding `data`, mode `mode`. */
  function homeWith(data: Record<string, unknown>, mode: number): { dir: string; file: string; cleanup: () => void } {
    const { dir, cleanup } = tempDir();
    const file = path.join(dir, '.imadminrc');
    writeFileSync(file, JSON.stringify(data), { mode });
    return { dir, file, cleanup };
  }

  it('a 0644 file whose secret key is only ${KEYA}${KEYB} references holds no secret: all three pass, none warns', async () => {
    const home = homeWith({ endpoint: app.emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: '${KEYA}${KEYB}' }, 0o644);
    try {
      const env = { KEYA: TEST_SECRET_KEY.slice(0, 32), KEYB: TEST_SECRET_KEY.slice(32) };
      const get = await runCli(['get', 'user000001', '--output', 'ndjson'], { homeDir: home.dir, env });
      assert.deepEqual(get, { code: 0, stdout: '{"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"}}\n', stderr: '' });

      const doctor = await runCli(['doctor', '--json'], { homeDir: home.dir, env });
      assert.equal(doctor.code, 0, doctor.stdout);
      const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ id: string; status: string; message: string }> }).checks;
      assert.deepEqual(checks.find((c) => c.id === 'permissions'), {
        id: 'permissions',
        title: 'permissions',
        status: 'pass',
        message: 'mode 644; the file holds no secret (only ${…} references, if any)',
      });

      const usable = `usable: ${app.emulator.url} (endpoint from ${home.file}), SDKAppID ${TEST_SDKAPPID}, identifier "${TEST_ADMIN}"`;
      const show = await runCli(['config', 'show'], { homeDir: home.dir, env });
      assert.equal(show.code, 0);
      assert.equal(show.stderr, `✓ ${usable}\n`);
      const json = await runCli(['config', 'show', '--json'], { homeDir: home.dir, env });
      assert.deepEqual((JSON.parse(json.stdout) as { verdict: unknown }).verdict, {
        ok: true,
        exitCode: 0,
        message: usable,
      });
    } finally {
      home.cleanup();
    }
  });

  it('a 0644 file with the key in clear: all three warn, and still run', async () => {
    const home = homeWith({ endpoint: app.emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY }, 0o644);
    try {
      const warning = `warning: ${home.file} holds credentials but is readable by others (mode 644); fix it with: chmod 600 ${home.file}\n`;
      const get = await runCli(['get', 'user000001', '--output', 'ndjson'], { homeDir: home.dir });
      assert.equal(get.code, 0);
      assert.equal(get.stderr, warning);
      const show = await runCli(['config', 'show'], { homeDir: home.dir });
      assert.equal(show.code, 0);
      assert.equal(show.stderr, `${warning}✓ usable: ${app.emulator.url} (endpoint from ${home.file}), SDKAppID ${TEST_SDKAPPID}, identifier "${TEST_ADMIN}"\n`);
      const doctor = await runCli(['doctor', '--offline'], { homeDir: home.dir });
      assert.equal(doctor.code, 3);
      // doctor wraps at 80 columns: its continuation lines joined back.
      assert.match(doctor.stdout.replace(/\n {16}(?!fix: )(?! )/g, ' '), new RegExp(`✗ permissions   ${home.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds a secret key or UserSig and is readable by others \\(mode 644\\)`));
    } finally {
      home.cleanup();
    }
  });

  it('an expired UserSig: get and doctor exit 4 with the same reason, config show names it with exit code 4, and nothing is sent', async () => {
    const now = Date.UTC(2026, 11, 3, 12, 0, 0);
    const sig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 3600, now: now / 1000 - 7200 });
    const home = homeWith({ endpoint: app.emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, userSig: sig }, 0o600);
    try {
      const reason = `the UserSig (from ${home.file}) expired on 2026-12-03T11:00:00Z (1h ago)`;
      const hint = 'set `secretKey` so im-attrs signs for you, or run `im-attrs usersig gen` for a new one';
      const get = await runCli(['get', 'user000001'], { homeDir: home.dir, now: () => now });
      assert.deepEqual(get, { code: 4, stdout: '', stderr: `im-attrs: ${reason}\nhint: ${hint}\n` });

      const doctor = await runCli(['doctor', '--json'], { homeDir: home.dir, now: () => now });
      assert.equal(doctor.code, 4);
      const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ id: string; status: string; message: string }> }).checks;
      const credentials = checks.find((c) => c.id === 'credentials')!;
      assert.equal(credentials.status, 'fail');
      assert.equal(credentials.message, `UserSig (from ${home.file}): expired on 2026-12-03T11:00:00Z (1h ago)`);

      const show = await runCli(['config', 'show'], { homeDir: home.dir, now: () => now });
      assert.equal(show.code, 0);
      assert.equal(show.stderr, `✗ not usable (commands would exit 4): ${reason}\nhint: ${hint}\n`);
      const json = await runCli(['config', 'show', '--json'], { homeDir: home.dir, now: () => now });
      assert.deepEqual((JSON.parse(json.stdout) as { verdict: unknown }).verdict, { ok: false, exitCode: 4, message: reason, hint });
      assert.deepEqual(app.emulator.requests, [], 'no request is sent with an expired UserSig');
    } finally {
      home.cleanup();
    }
  });
});
