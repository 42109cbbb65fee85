import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SigningCredentials } from '../../src/runtime/connect.js';
import { decode } from '../../src/usersig.js';
import { emulatorEnv, runCli, startTestEmulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';

describe('SigningCredentials', () => {
  const T0 = 1_700_000_000_000;

  it('signs once, reuses the UserSig, and signs anew before it expires in a long run', () => {
    let now = T0;
    const credentials = new SigningCredentials({
      secretKey: TEST_SECRET_KEY,
      sdkAppId: TEST_SDKAPPID,
      identifier: TEST_ADMIN,
      ttlSeconds: 1000,
      now: () => now,
    });
    const first = credentials.current();
    now += 899_000; // 899 s into a 1,000 s UserSig: still used
    assert.equal(credentials.current(), first);
    now += 1_000; // 900 s: the last tenth of its validity, renewed ahead of expiry
    const second = credentials.current();
    assert.notEqual(second, first);
    assert.equal(credentials.signed, 2);
    assert.deepEqual(
      [decode(first).time, decode(second).time, decode(second).expire],
      [T0 / 1000, T0 / 1000 + 900, 1000],
    );
  });

  it('signs a new UserSig when the server says the current one expired', () => {
    const credentials = new SigningCredentials({ secretKey: TEST_SECRET_KEY, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, ttlSeconds: 86_400, now: () => T0 });
    credentials.current();
    assert.equal(credentials.renew(), true);
    assert.equal(credentials.signed, 2);
  });
});

describe('a UserSig the server keeps calling expired', () => {
  it('is re-signed once, then the run stops with exit 4 and a hint about the clock', async () => {
    const emulator = await startTestEmulator({ seedUsers: 5, faults: [{ kind: 'code:70001', fraction: 1 }] });
    try {
      const result = await runCli(['get', 'user000001', '--json'], { env: emulatorEnv(emulator) });
      assert.equal(result.code, 4);
      assert.equal(
        result.stderr,
        'im-attrs: im_get_attr: error 70001: injected fault 70001\n' +
          "hint: the server rejected a freshly signed UserSig too: check this machine's clock (and that `secretKey` belongs to this app)\n",
      );
      // The request, then one retry with a re-signed UserSig (the same text within one second).
      assert.equal(emulator.requests.length, 2);
      assert.equal(result.stdout, '[]\n');
    } finally {
      await emulator.close();
    }
  });
});
