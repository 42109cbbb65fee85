/**
 * A UserSig given with --usersig leaves the process's command line (what `ps` and
 * /proc/PID/cmdline show every user) as soon as the process starts, not when the run ends.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generate } from '../../src/usersig.js';
import { seededIds, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, useEmulator } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../../bin/im-attrs.js', import.meta.url));

describe('--usersig and ps', () => {
  const app = useEmulator({ seedUsers: 400, rateLimit: 0, latencyMs: 200 });

  it('is not in /proc/PID/cmdline while the run goes on', { skip: !existsSync('/proc/self/cmdline') && 'no /proc here', timeout: 60_000 }, async () => {
    const sig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 3600 });
    const child = spawn(process.execPath, [BIN, 'get', '--usersig', sig, '-o', 'ndjson', '--rate', '0', '--concurrency', '1', '--batch-size', '10', ...seededIds(1, 40)], {
      env: { IMADMIN_ENDPOINT: app.emulator.url, IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.resume();
    // The first answer is in: the run is well under way (four calls of 200 ms each in all).
    await new Promise<void>((resolve) => {
      const check = (): void => (out.length > 0 ? resolve() : void setTimeout(check, 5));
      check();
    });
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
    assert.ok(!cmdline.includes(sig.slice(0, 24)), `the UserSig is still in the command line: ${cmdline.slice(0, 120)}`);
  });
});
