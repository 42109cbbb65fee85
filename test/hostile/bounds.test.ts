/**
 * Issue 11, "Resource abuse": config files are regular files of at most 1 MB (a device, a FIFO or
 * a huge file is a clear error, never a hang or gigabytes of memory), numeric options stay within
 * bounds, and object-prototype keys are never profile names. Each is refused before any request.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';
import { json, startScripted, type ScriptedServer } from './servers.js';

describe('bounded resources: refused before any request, with one clear error', () => {
  let server: ScriptedServer;
  const tmp = tempDir();
  const fifo = path.join(tmp.dir, 'config.fifo');
  const big = path.join(tmp.dir, 'big.json');
  const withProfiles = path.join(tmp.dir, 'profiles.json');
  before(async () => {
    server = await startScripted((_req, res) => json(res, { ActionStatus: 'OK', ErrorCode: 0, UserAttrs: [] }));
    execFileSync('mkfifo', [fifo]);
    writeFileSync(big, `{"identifier": "${'x'.repeat(1024 * 1024)}"}\n`);
    writeFileSync(withProfiles, JSON.stringify({ profiles: { prod: { identifier: TEST_ADMIN } } }));
  });
  after(async () => {
    await server.close();
    tmp.cleanup();
  });

  const cases: Array<{ name: string; args: () => string[]; env?: Record<string, string>; exit: number; stderr: () => string }> = [
    {
      name: '--config /dev/zero',
      args: () => ['--config', '/dev/zero'],
      exit: 3,
      stderr: () => 'im-attrs: config file /dev/zero is a device, not a regular file\nhint: point --config at a file such as .imadminrc\n',
    },
    {
      name: 'a FIFO as --config (no writer: it must not hang)',
      args: () => ['--config', fifo],
      exit: 3,
      stderr: () => `im-attrs: config file ${fifo} is a FIFO, not a regular file\nhint: point --config at a file such as .imadminrc\n`,
    },
    {
      name: 'a config file over 1 MB',
      args: () => ['--config', big],
      exit: 3,
      stderr: () => `im-attrs: config file ${big} is larger than 1 MB\nhint: a config file holds a few settings: point --config at the right file\n`,
    },
    {
      name: '--timeout of 2^31 ms',
      args: () => ['--timeout', '2147484'],
      exit: 3,
      stderr: () => 'im-attrs: timeout "2147484" (from flag --timeout) must be at most 3600 seconds\n',
    },
    {
      name: '--profile __proto__',
      args: () => ['--config', withProfiles, '--profile', '__proto__'],
      exit: 3,
      stderr: () => 'im-attrs: "__proto__" (from flag --profile) is not a valid profile name\nhint: profile names are your own words, such as prod or staging\n',
    },
    {
      name: 'IMADMIN_PROFILE=constructor',
      args: () => ['--config', withProfiles],
      env: { IMADMIN_PROFILE: 'constructor' },
      exit: 3,
      stderr: () => 'im-attrs: "constructor" (from env IMADMIN_PROFILE) is not a valid profile name\nhint: profile names are your own words, such as prod or staging\n',
    },
  ];
  for (const c of cases) {
    it(`${c.name}: exit ${c.exit}`, async () => {
      const result = await runCli(['get', 'alice', ...c.args()], {
        env: { IMADMIN_ENDPOINT: server.url, IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_SECRET_KEY: TEST_SECRET_KEY, ...c.env },
      });
      assert.deepEqual(result, { code: c.exit, stdout: '', stderr: c.stderr() });
      assert.equal(server.requests.length, 0);
    });
  }

  it('config init neither reads nor replaces a FIFO or a device (no hang)', async () => {
    for (const target of [fifo, '/dev/zero']) {
      const result = await runCli(['config', 'init', '--config', target, '--region', 'sgp', '--sdkappid', '1400000000']);
      assert.deepEqual(result, { code: 3, stdout: '', stderr: `im-attrs: cannot write ${target}: it is not a regular file\nhint: write elsewhere with --config <path>\n` });
    }
  });

  it('config init refuses a profile named like an object key', async () => {
    const result = await runCli(['config', 'init', '--config', path.join(tmp.dir, 'new.json'), '--region', 'sgp', '--sdkappid', '1400000000', '--profile', 'constructor']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr.split('\n')[0], 'im-attrs: "constructor" is not a usable profile name');
  });
});
