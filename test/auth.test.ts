/**
 * Authentication end to end: the real `get` against the real emulator verifying every UserSig
 * with the secret key, as Tencent does. Covers signing from a configured key, the fail-fast checks
 * on a fixed UserSig (no request leaves), re-signing after a 70001 mid-run, and a wrong key (70009).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Emulator, EmulatorOptions } from '../src/emulator/server.js';
import { generate, verify } from '../src/usersig.js';
import { runCli, seededIds, startTestEmulator, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, type RunResult } from './helpers/cli.js';

const TIME = 1_700_000_000;
const OTHER_KEY = 'f'.repeat(64);
/** The clock of a run (CLI or emulator), in the milliseconds deps.now() returns. */
const at = (unixSeconds: number) => () => unixSeconds * 1000;

/** What `get user000001 user000002` prints as tsv for the emulator's seeded users. */
const TSV = 'account\tsex\tcity\tlevel\nuser000001\tM\tShenzhen\t\nuser000002\tF\tSingapore\t\n';

function sign(change: Partial<Parameters<typeof generate>[0]> = {}): string {
  return generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 86_400, now: TIME, ...change });
}

/** Neither secret key appears anywhere, and no UserSig in the CLI's output. */
function assertNoLeak(result: RunResult, userSigs: readonly string[]): void {
  for (const [name, text] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
    assert.equal(text.includes(TEST_SECRET_KEY), false, `the secret key leaked to ${name}`);
    assert.equal(text.includes(OTHER_KEY), false, `a secret key leaked to ${name}`);
    for (const userSig of userSigs) assert.equal(text.includes(userSig), false, `a UserSig leaked to ${name}`);
  }
}

/** The usersig query parameter of every request the emulator received. */
function sentUserSigs(emulator: Emulator): string[] {
  return emulator.requests.map((r) => r.query.usersig ?? '');
}

/** Runs with a fresh emulator and closes it, whatever happens. */
async function withEmulator<T>(options: EmulatorOptions, body: (emulator: Emulator) => Promise<T>): Promise<T> {
  const emulator = await startTestEmulator({ seedUsers: 5, rateLimit: 0, ...options });
  try {
    return await body(emulator);
  } finally {
    await emulator.close();
  }
}

describe('authentication against a verifying emulator', () => {
  let emulator: Emulator;
  const files = tempDir();
  /** Points the CLI at the emulator; credentials are up to each test. */
  let target: Record<string, string>;

  before(async () => {
    emulator = await startTestEmulator({ seedUsers: 5, rateLimit: 0 });
    target = { IMADMIN_ENDPOINT: emulator.url, IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN };
  });
  after(async () => {
    await emulator.close();
    files.cleanup();
  });
  beforeEach(() => emulator.resetLog());

  /** A directory holding a .imadminrc (mode 600, as it holds credentials), used as cwd and home. */
  function configDir(name: string, config: Record<string, unknown>): string {
    return writeConfig(path.join(files.dir, name), config);
  }

  it('signs its own UserSig from the secret key in .imadminrc, and the emulator accepts it', async () => {
    const dir = configDir('signing', { endpoint: emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY });
    const result = await runCli(['get', 'user000001', 'user000002'], { cwd: dir, homeDir: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, TSV);
    assert.equal(result.stderr, '');
    assert.deepEqual(emulator.requests.map((r) => `${r.command} ${r.outcome}`), ['im_get_attr_name 0', 'im_get_attr 0']);
    // One UserSig for the whole run, for the configured admin, valid for one day.
    const [userSig, ...rest] = sentUserSigs(emulator);
    assert.deepEqual(rest, [userSig]);
    const checked = verify(userSig!, { secretKey: TEST_SECRET_KEY, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN });
    assert.equal(checked.ok, true);
    assert.equal(checked.ok && checked.decoded.expire, 86_400);
    assertNoLeak(result, [userSig!]);
  });

  const refused: Array<{ name: string; userSig: string; how: 'flag' | 'env' | 'file'; now: number; stderr: (file: string) => string }> = [
    {
      name: 'an expired UserSig, naming when it expired',
      userSig: sign({ expireSeconds: 3600 }),
      how: 'flag',
      now: TIME + 3600 + 2 * 86_400,
      stderr: () =>
        'im-attrs: the UserSig (from flag --usersig) expired on 2023-11-14T23:13:20Z (2d ago)\n' +
        'hint: set `secretKey` so im-attrs signs for you, or run `im-attrs usersig gen` for a new one\n',
    },
    {
      name: 'a UserSig for another identifier, naming the identifier',
      userSig: sign({ identifier: 'bob' }),
      how: 'env',
      now: TIME + 60,
      stderr: () =>
        'im-attrs: the UserSig (from env IMADMIN_USERSIG) was made for identifier "bob", but identifier is "administrator"\n' +
        'hint: sign one for this identifier with `im-attrs usersig gen`, or fix `identifier`\n',
    },
    {
      name: 'a UserSig for another SDKAppID, naming the SDKAppID',
      userSig: sign({ sdkAppId: 1400123456 }),
      how: 'file',
      now: TIME + 60,
      stderr: (file) =>
        `im-attrs: the UserSig (from ${file}) was made for SDKAppID 1400123456, but sdkAppId is 1400000000\n` +
        'hint: sign one for this app with `im-attrs usersig gen`, or fix `sdkAppId`\n',
    },
    {
      name: 'text that is not a UserSig',
      userSig: sign().slice(0, 50),
      how: 'env',
      now: TIME + 60,
      stderr: () =>
        'im-attrs: the UserSig (from env IMADMIN_USERSIG) is not a valid UserSig: not a UserSig: it does not decode (base64/zlib), or it is cut short\n' +
        'hint: copy the whole UserSig again, or set `secretKey` so im-attrs signs for you\n',
    },
  ];
  for (const [index, c] of refused.entries()) {
    it(`fails fast with exit 4 and sends no request for ${c.name} (from ${c.how === 'flag' ? '--usersig' : c.how === 'env' ? 'IMADMIN_USERSIG' : '.imadminrc'})`, async () => {
      const dir = configDir(`refused-${index}`, c.how === 'file' ? { userSig: c.userSig } : {});
      const args = c.how === 'flag' ? ['--usersig', c.userSig, 'get', 'user000001'] : ['get', 'user000001'];
      const env = c.how === 'env' ? { ...target, IMADMIN_USERSIG: c.userSig } : target;
      const result = await runCli(args, { env, cwd: dir, homeDir: dir, now: at(c.now) });
      assert.equal(result.code, 4);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, c.stderr(path.join(dir, '.imadminrc')));
      assert.deepEqual(emulator.requests, []);
      assertNoLeak(result, [c.userSig]);
    });
  }

  it('replaces an expired UserSig with one signed from the secret key, with a warning, before any request', async () => {
    const expired = sign({ expireSeconds: 3600 });
    const now = Math.floor(Date.now() / 1000);
    const env = { ...target, IMADMIN_USERSIG: expired, IMADMIN_SECRET_KEY: TEST_SECRET_KEY };
    const result = await runCli(['get', 'user000001', 'user000002'], { env, now: at(now) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, TSV);
    assert.equal(
      result.stderr,
      'warning: the UserSig (from env IMADMIN_USERSIG) expired on 2023-11-14T23:13:20Z; signing a new one with the secret key\n',
    );
    const fresh = sign({ now });
    assert.deepEqual(sentUserSigs(emulator), [fresh, fresh]);
    assertNoLeak(result, [expired, fresh]);
  });

  it('re-signs once and re-sends the same batch when the server calls a fixed UserSig expired (70001) mid-run', async () => {
    // The CLI's clock says the fixed UserSig has 290 s left, so it is sent; the emulator's clock is
    // 10 minutes later, so it answers 70001. The fresh one, signed at the CLI's time for a day, passes.
    const fixed = sign({ expireSeconds: 300 });
    await withEmulator({ now: at(TIME + 600) }, async (late) => {
      const env = {
        IMADMIN_ENDPOINT: late.url,
        IMADMIN_SDKAPPID: String(TEST_SDKAPPID),
        IMADMIN_IDENTIFIER: TEST_ADMIN,
        IMADMIN_USERSIG: fixed,
        IMADMIN_SECRET_KEY: TEST_SECRET_KEY,
      };
      const result = await runCli(['get', 'user000001', 'user000002', '--output', 'ndjson'], { env, now: at(TIME + 10) });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        '{"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"}}\n{"To_Account":"user000002","Attrs":{"sex":"F","city":"Singapore"}}\n',
      );
      assert.equal(result.stderr, '');
      const fresh = sign({ now: TIME + 10 });
      assert.deepEqual(
        late.requests.map((r) => ({ command: r.command, outcome: r.outcome, usersig: r.query.usersig, body: r.body })),
        [
          { command: 'im_get_attr', outcome: '70001', usersig: fixed, body: { To_Account: ['user000001', 'user000002'] } },
          { command: 'im_get_attr', outcome: '0', usersig: fresh, body: { To_Account: ['user000001', 'user000002'] } },
        ],
      );
      assertNoLeak(result, [fixed, fresh]);
    });
  });

  it('stops with exit 4 and the 70009 hint when the secret key is not the app\'s, after one request', async () => {
    await withEmulator({ secretKey: OTHER_KEY }, async (strict) => {
      const env = {
        IMADMIN_ENDPOINT: strict.url,
        IMADMIN_SDKAPPID: String(TEST_SDKAPPID),
        IMADMIN_IDENTIFIER: TEST_ADMIN,
        IMADMIN_SECRET_KEY: TEST_SECRET_KEY,
      };
      const result = await runCli(['get', ...seededIds(1, 3), '--output', 'ndjson'], { env });
      assert.equal(result.code, 4);
      assert.equal(result.stdout, '');
      assert.equal(
        result.stderr,
        'im-attrs: im_get_attr: error 70009: UserSig verification failed\n' +
          'hint: the UserSig was signed with another key: check `secretKey` for this SDKAppID\n',
      );
      assert.deepEqual(strict.requests.map((r) => `${r.command} ${r.outcome}`), ['im_get_attr 70009']);
      assertNoLeak(result, sentUserSigs(strict));
    });
  });
});

/** Writes `config` as dir/.imadminrc (mode 600), creating dir; returns dir. */
function writeConfig(dir: string, config: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, '.imadminrc'), JSON.stringify(config), { mode: 0o600 });
  return dir;
}
