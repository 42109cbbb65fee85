import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decode, generate } from '../../src/usersig.js';
import { runCli, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, useTempDir, type RunResult } from '../helpers/cli.js';

// API.md section 4: the test vector (sdkappid 1400000000, administrator, time 1700000000, 180 days).
const TIME = 1_700_000_000;
const VECTOR =
  'eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwokpuZl5mcUlRYkl*UVQBcUp2YkFBZkpSlaGJgZQAJEpycxNVbIyNEcVTa0oyCwCiZuamhrBRYsz05WslLycqyoS89ws-EJCIhJLTXK1jTIsy8vM0yO98ir9sotzDSpyDf1cI0KNzE1slWoBQr40pw__';
/** Another well-formed key: what a UserSig signed for another app, or a mistyped key, looks like. */
const OTHER_KEY = 'f'.repeat(64);

/** The clock of a run, in the milliseconds deps.now() returns. */
const at = (unixSeconds: number) => () => unixSeconds * 1000;

/** A configured admin: SDKAppID, identifier and secret key, as an operator's shell would have them. */
const CONFIGURED = {
  IMADMIN_SDKAPPID: String(TEST_SDKAPPID),
  IMADMIN_IDENTIFIER: TEST_ADMIN,
  IMADMIN_SECRET_KEY: TEST_SECRET_KEY,
};

/** How every command that needs a secret key says where to put one. */
const SECRET_KEY_HINT =
  'hint: set `secretKey` (IMADMIN_SECRET_KEY or .imadminrc), or pass --secret-key-file <path> ("-" reads stdin); ' +
  'the Chat console shows the key under Application → Basic configuration';

/** gen and verify refuse `--secret-key <key>`, without echoing the key. */
const SECRET_KEY_FLAG_REFUSED =
  `im-attrs: the secret key is never a flag value: on the command line it ends up in shell history and process lists\n${SECRET_KEY_HINT}\n`;

/** What inspect and verify say about text that does not decode as a UserSig. */
const WHAT_A_USERSIG_IS =
  "hint: A UserSig is the long [A-Za-z0-9*_-] string from `im-attrs usersig gen`, the console's UserSig tool " +
  'or TLSSigAPIv2 genUserSig; check that it was copied whole, or set secretKey so im-attrs signs for you.\n';

function sign(change: Partial<Parameters<typeof generate>[0]> = {}): string {
  return generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 86_400, now: TIME, ...change });
}

/**
 * The secret key never appears in any output; a UserSig appears on stdout only where the command's
 * job is to print it (`gen`), and never on stderr.
 */
function assertNoLeak(result: RunResult, userSigs: readonly string[], options: { userSigOnStdout?: boolean } = {}): void {
  for (const [name, text] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
    assert.equal(text.includes(TEST_SECRET_KEY), false, `the secret key leaked to ${name}`);
    assert.equal(text.includes(OTHER_KEY), false, `a secret key leaked to ${name}`);
  }
  for (const userSig of userSigs) {
    assert.equal(result.stderr.includes(userSig), false, 'a UserSig leaked to stderr');
    if (!options.userSigOnStdout) assert.equal(result.stdout.includes(userSig), false, 'a UserSig leaked to stdout');
  }
}

const files = useTempDir();

/** A command line that fails: exactly this exit code and stderr, nothing on stdout. */
interface Failure {
  name: string;
  args: string[];
  env?: Record<string, string>;
  stdin?: string;
  code: number;
  stderr: string;
}

/** One test per case: `im-attrs usersig <sub> …` fails as the case says and leaks no key and none of `userSigs(case)`. */
function itFails(sub: 'gen' | 'inspect' | 'verify', cases: readonly Failure[], userSigs: (c: Failure) => readonly string[]): void {
  for (const c of cases) {
    it(c.name, async () => {
      const result = await runCli(['usersig', sub, ...c.args], { env: c.env, stdin: c.stdin, now: at(TIME) });
      assert.equal(result.code, c.code);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, c.stderr);
      assertNoLeak(result, userSigs(c));
    });
  }
}

/** A file holding the test key, as `echo "$KEY" > key.txt` would write it. */
function keyFile(name = 'key.txt', key = TEST_SECRET_KEY): string {
  const file = path.join(files.dir, name);
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return file;
}

describe('im-attrs usersig gen', () => {
  it('reproduces the API.md test vector with --expire 180d at a fixed clock, alone on stdout', async () => {
    const result = await runCli(['usersig', 'gen', '--expire', '180d'], { env: CONFIGURED, now: at(TIME) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${VECTOR}\n`);
    assert.equal(result.stderr, '');
    assertNoLeak(result, [VECTOR], { userSigOnStdout: true });
  });

  const durations: Array<[string, number]> = [
    ['3600', 3600],
    ['90m', 5400],
    ['12h', 43_200],
    ['1d', 86_400],
    ['1d12h', 129_600],
    ['180d', 15_552_000],
  ];
  for (const [expire, seconds] of durations) {
    it(`signs for ${seconds} seconds with --expire ${expire}`, async () => {
      const result = await runCli(['usersig', 'gen', '--expire', expire], { env: CONFIGURED, now: at(TIME) });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${sign({ expireSeconds: seconds })}\n`);
    });
  }

  const defaults: Array<[string, Record<string, string>, number]> = [
    ['for one day when neither --expire nor usersigTtl is given, like auto-signing', {}, 86_400],
    ['for usersigTtl when it is configured, like auto-signing', { IMADMIN_USERSIG_TTL: '2h' }, 7200],
  ];
  for (const [name, extra, seconds] of defaults) {
    it(`signs ${name}`, async () => {
      const result = await runCli(['usersig', 'gen'], { env: { ...CONFIGURED, ...extra }, now: at(TIME) });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${sign({ expireSeconds: seconds })}\n`);
      assert.equal(decode(result.stdout).expire, seconds);
    });
  }

  it('says until when it is valid on stderr when stderr is a terminal, and not with --quiet', async () => {
    const tty = await runCli(['usersig', 'gen'], { env: CONFIGURED, now: at(TIME), stderrIsTTY: true });
    assert.equal(tty.code, 0, tty.stderr);
    assert.equal(tty.stdout, `${sign()}\n`);
    assert.equal(tty.stderr, 'valid until 2023-11-15T22:13:20Z (1d)\n');
    const quiet = await runCli(['--quiet', 'usersig', 'gen', '--expire', '180d'], { env: CONFIGURED, now: at(TIME), stderrIsTTY: true });
    assert.equal(quiet.stdout, `${VECTOR}\n`);
    assert.equal(quiet.stderr, '');
  });

  const identifierPlacements: Array<[string, string[]]> = [
    ['after the subcommand', ['usersig', 'gen', '--identifier', 'ops_admin']],
    ['before the subcommand, as the global option', ['--identifier', 'ops_admin', 'usersig', 'gen']],
    ['as --identifier=value', ['usersig', 'gen', '--identifier=ops_admin']],
  ];
  for (const [name, args] of identifierPlacements) {
    it(`signs for --identifier given ${name}, over the configured one`, async () => {
      const result = await runCli(args, { env: CONFIGURED, now: at(TIME) });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${sign({ identifier: 'ops_admin' })}\n`);
    });
  }

  it('takes the SDKAppID from --sdkappid over the environment', async () => {
    const result = await runCli(['usersig', 'gen', '--sdkappid', '1400123456'], { env: CONFIGURED, now: at(TIME) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${sign({ sdkAppId: 1400123456 })}\n`);
  });

  it('takes SDKAppID, identifier and secret key from a .imadminrc in the working directory', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const config = { sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, usersigTtl: '180d' };
      writeFileSync(path.join(dir, '.imadminrc'), JSON.stringify(config), { mode: 0o600 });
      const result = await runCli(['usersig', 'gen'], { cwd: dir, homeDir: dir, now: at(TIME) });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${VECTOR}\n`);
      assert.equal(result.stderr, '');
    } finally {
      cleanup();
    }
  });

  const keySources: Array<[string, (file: string) => string[], string | undefined]> = [
    ['a file', (file) => ['--secret-key-file', file], undefined],
    ['stdin with "-"', () => ['--secret-key-file', '-'], `${TEST_SECRET_KEY}\n`],
  ];
  for (const [name, flags, stdin] of keySources) {
    it(`reads the secret key with --secret-key-file from ${name}`, async () => {
      const env = { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN };
      const result = await runCli(['usersig', 'gen', '--expire', '180d', ...flags(keyFile())], { env, now: at(TIME), stdin });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${VECTOR}\n`);
      assert.equal(result.stderr, '');
    });
  }

  it('prefers --secret-key-file over the configured secret key', async () => {
    const env = { ...CONFIGURED, IMADMIN_SECRET_KEY: OTHER_KEY };
    const result = await runCli(['usersig', 'gen', '--expire', '180d', '--secret-key-file', keyFile()], { env, now: at(TIME) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${VECTOR}\n`);
  });

  const failures: Failure[] = [
    {
      name: 'is a config error (exit 3) when there is no secret key',
      args: [],
      env: { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN },
      code: 3,
      stderr: `im-attrs: no secret key to sign the UserSig with: secretKey is not configured\n${SECRET_KEY_HINT}\n`,
    },
    {
      name: 'is a config error (exit 3) when there is no SDKAppID',
      args: [],
      env: { IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_SECRET_KEY: TEST_SECRET_KEY },
      code: 3,
      stderr:
        'im-attrs: sdkAppId (the SDKAppID of your Chat app) is not configured\n' +
        'hint: set it with the --sdkappid flag, the IMADMIN_SDKAPPID variable, "sdkAppId" in .imadminrc (see .imadminrc.example)\n',
    },
    {
      name: 'is a config error (exit 3) when there is no identifier',
      args: [],
      env: { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_SECRET_KEY: TEST_SECRET_KEY },
      code: 3,
      stderr:
        'im-attrs: identifier (the account to sign for) is not configured\n' +
        'hint: set it with the --identifier flag, the IMADMIN_IDENTIFIER variable, "identifier" in .imadminrc (see .imadminrc.example)\n',
    },
    {
      name: 'is a usage error (exit 2) for an --expire that is not a duration',
      args: ['--expire', '5M'],
      env: CONFIGURED,
      code: 2,
      stderr:
        'im-attrs: --expire: invalid duration "5M": unknown unit "M"; use a whole number of seconds (3600) or whole numbers ' +
        'with units s, m, h, d, w (90s, 90m, 12h, 1d, 180d, 1w, 1d12h)\n',
    },
    {
      name: 'is a config error (exit 3) for a usersigTtl that is not a duration',
      args: [],
      env: { ...CONFIGURED, IMADMIN_USERSIG_TTL: 'forever' },
      code: 3,
      stderr:
        'im-attrs: usersigTtl (from env IMADMIN_USERSIG_TTL): invalid duration "forever": it is not a duration; use a whole number ' +
        'of seconds (3600) or whole numbers with units s, m, h, d, w (90s, 90m, 12h, 1d, 180d, 1w, 1d12h)\n',
    },
    {
      name: 'refuses a secret key given as a flag value (exit 2), without echoing it',
      args: ['--secret-key', OTHER_KEY],
      env: CONFIGURED,
      code: 2,
      stderr: SECRET_KEY_FLAG_REFUSED,
    },
    {
      name: 'is a usage error (exit 2) for an empty --secret-key-file',
      args: ['--secret-key-file', '-'],
      env: CONFIGURED,
      code: 2,
      stderr: 'im-attrs: --secret-key-file -: the file is empty\n',
    },
  ];
  itFails('gen', failures, () => []);
});

describe('im-attrs usersig inspect', () => {
  /** VECTOR an hour after it was issued. */
  const INSPECTED = [
    'identifier: administrator',
    'SDKAppID:   1400000000',
    'issued at:  2023-11-14T22:13:20Z',
    'expires at: 2024-05-12T22:13:20Z',
    'validity:   180d',
    'time left:  179d 23h',
    'userbuf:    none',
  ].join('\n');

  const sources: Array<[string, string[], Record<string, string>, string | undefined, string]> = [
    ['the configured UserSig', [], { IMADMIN_USERSIG: VECTOR }, undefined, 'env IMADMIN_USERSIG'],
    ['the --usersig flag', ['--usersig', VECTOR], {}, undefined, 'flag --usersig'],
    ['an argument', [VECTOR], {}, undefined, 'argument'],
    ['stdin with "-"', ['-'], {}, `${VECTOR}\n`, 'stdin'],
  ];
  for (const [name, args, env, stdin, source] of sources) {
    it(`prints the fields of ${name} as aligned lines, without the UserSig and without a key`, async () => {
      const result = await runCli(['usersig', 'inspect', ...args], { env, stdin, now: at(TIME + 3600) });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${INSPECTED}\nsource:     ${source}\n`);
      assert.equal(result.stderr, '');
      assertNoLeak(result, [VECTOR]);
    });
  }

  it('prints the fields as JSON with --json', async () => {
    const result = await runCli(['usersig', 'inspect', '--json'], { env: { IMADMIN_USERSIG: VECTOR }, now: at(TIME + 3600) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      '{\n' +
        '  "identifier": "administrator",\n' +
        '  "sdkAppId": 1400000000,\n' +
        '  "issuedAt": "2023-11-14T22:13:20Z",\n' +
        '  "expiresAt": "2024-05-12T22:13:20Z",\n' +
        '  "expireSeconds": 15552000,\n' +
        '  "expired": false,\n' +
        '  "secondsLeft": 15548400,\n' +
        '  "userbuf": false\n' +
        '}\n',
    );
    assertNoLeak(result, [VECTOR]);
  });

  it('says how long ago an expired UserSig expired, and how many seconds in JSON', async () => {
    const userSig = sign({ expireSeconds: 3600 });
    const now = at(TIME + 3600 + 3 * 86_400 + 4 * 3600 + 5);
    const text = await runCli(['usersig', 'inspect', userSig], { now });
    assert.equal(text.code, 0, text.stderr);
    assert.equal(
      text.stdout,
      'identifier: administrator\n' +
        'SDKAppID:   1400000000\n' +
        'issued at:  2023-11-14T22:13:20Z\n' +
        'expires at: 2023-11-14T23:13:20Z\n' +
        'validity:   1h\n' +
        'time left:  expired 3d 4h ago\n' +
        'userbuf:    none\n' +
        'source:     argument\n',
    );
    const json = await runCli(['usersig', 'inspect', '--json', userSig], { now });
    assert.deepEqual(JSON.parse(json.stdout), {
      identifier: TEST_ADMIN,
      sdkAppId: TEST_SDKAPPID,
      issuedAt: '2023-11-14T22:13:20Z',
      expiresAt: '2023-11-14T23:13:20Z',
      expireSeconds: 3600,
      expired: true,
      secondsLeft: -(3 * 86_400 + 4 * 3600 + 5),
      userbuf: false,
    });
    assertNoLeak(text, [userSig]);
    assertNoLeak(json, [userSig]);
  });

  it('counts a UserSig as valid up to and including its last second', async () => {
    const userSig = sign({ expireSeconds: 60 });
    const last = await runCli(['usersig', 'inspect', '--json', userSig], { now: at(TIME + 60) });
    const after = await runCli(['usersig', 'inspect', '--json', userSig], { now: at(TIME + 61) });
    const pick = (r: RunResult) => {
      const { expired, secondsLeft } = JSON.parse(r.stdout) as { expired: boolean; secondsLeft: number };
      return { expired, secondsLeft };
    };
    assert.deepEqual(pick(last), { expired: false, secondsLeft: 0 });
    assert.deepEqual(pick(after), { expired: true, secondsLeft: -1 });
  });

  it('shows the size of a userbuf but not its content', async () => {
    const userSig = sign({ userbuf: Buffer.from('room-42') });
    const result = await runCli(['usersig', 'inspect', userSig], { now: at(TIME) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^userbuf: {4}7 bytes$/m);
    assert.equal(result.stdout.includes('room-42'), false);
  });

  it('quotes an identifier that holds control characters instead of sending them to the terminal', async () => {
    const userSig = sign({ identifier: 'evil\u001b[2J' });
    const result = await runCli(['usersig', 'inspect', userSig], { now: at(TIME) });
    assert.equal(result.stdout.split('\n')[0], 'identifier: "evil\\u001b[2J"');
  });

  const failures: Failure[] = [
    {
      name: 'is a config error (exit 3) when no UserSig is given or configured',
      args: [],
      code: 3,
      stderr:
        'im-attrs: no UserSig to inspect: none was given and userSig is not configured\n' +
        'hint: pass one, pipe it in with "-" (im-attrs usersig gen | im-attrs usersig inspect -), ' +
        'or set `userSig` (--usersig, IMADMIN_USERSIG, .imadminrc)\n',
    },
    {
      name: 'is a usage error (exit 2) when stdin is empty',
      args: ['-'],
      stdin: '\n',
      code: 2,
      stderr:
        'im-attrs: no UserSig on stdin: it is empty\n' +
        'hint: pass the UserSig, pipe it in with "-" (im-attrs usersig gen | im-attrs usersig inspect -), or configure one\n',
    },
    {
      name: 'is a usage error (exit 2), echoing none of the input, for text that is not a UserSig',
      args: [`${VECTOR.slice(0, 40)}!secret`],
      code: 2,
      stderr: 'im-attrs: not a UserSig: it contains a character outside [A-Za-z0-9*_-] at position 41 ("!")\n' + WHAT_A_USERSIG_IS,
    },
    {
      name: 'is a usage error (exit 2) that recognises a pasted secret key, without echoing it',
      args: [TEST_SECRET_KEY],
      code: 2,
      stderr:
        'im-attrs: not a UserSig: it does not decode (base64/zlib), or it is cut short\n' +
        'hint: This looks like a secret key (64 hex digits), not a UserSig: set it as secretKey and im-attrs signs for you.\n',
    },
  ];
  itFails('inspect', failures, (c) => c.args.filter((a) => a.length > 8));
});

describe('im-attrs usersig verify', () => {
  it('round-trips: gen, then inspect and verify what gen printed', async () => {
    const now = at(TIME);
    const gen = await runCli(['usersig', 'gen'], { env: CONFIGURED, now });
    assert.equal(gen.code, 0, gen.stderr);
    const userSig = gen.stdout.trim();

    const inspect = await runCli(['usersig', 'inspect', '-', '--json'], { stdin: gen.stdout, now: at(TIME + 60) });
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.deepEqual(JSON.parse(inspect.stdout), {
      identifier: TEST_ADMIN,
      sdkAppId: TEST_SDKAPPID,
      issuedAt: '2023-11-14T22:13:20Z',
      expiresAt: '2023-11-15T22:13:20Z',
      expireSeconds: 86_400,
      expired: false,
      secondsLeft: 86_340,
      userbuf: false,
    });

    const verify = await runCli(['usersig', 'verify', '-'], { env: CONFIGURED, stdin: gen.stdout, now: at(TIME + 60) });
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(
      verify.stdout,
      'valid: identifier "administrator", SDKAppID 1400000000, signed with the secret key from env IMADMIN_SECRET_KEY, ' +
        'expires 2023-11-15T22:13:20Z (23h 59m left)\n',
    );
    assert.equal(verify.stderr, '');
    for (const result of [inspect, verify]) assertNoLeak(result, [userSig]);
  });

  it('verifies the configured UserSig when none is given', async () => {
    const result = await runCli(['usersig', 'verify'], { env: { ...CONFIGURED, IMADMIN_USERSIG: VECTOR }, now: at(TIME) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      'valid: identifier "administrator", SDKAppID 1400000000, signed with the secret key from env IMADMIN_SECRET_KEY, ' +
        'expires 2024-05-12T22:13:20Z (180d left)\n',
    );
    assertNoLeak(result, [VECTOR]);
  });

  it('says which fields it could not compare when SDKAppID and identifier are not configured', async () => {
    const result = await runCli(['usersig', 'verify', VECTOR], { env: { IMADMIN_SECRET_KEY: TEST_SECRET_KEY }, now: at(TIME) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      'valid: identifier "administrator" (not compared: none configured), SDKAppID 1400000000 (not compared: none configured), ' +
        'signed with the secret key from env IMADMIN_SECRET_KEY, expires 2024-05-12T22:13:20Z (180d left)\n',
    );
  });

  const keySources: Array<[string, (file: string) => string[], string | undefined, (file: string) => string]> = [
    ['a file', (file) => [VECTOR, '--secret-key-file', file], undefined, (file) => `--secret-key-file ${file}`],
    ['stdin with "-"', () => [VECTOR, '--secret-key-file', '-'], `${TEST_SECRET_KEY}\n`, () => '--secret-key-file - (stdin)'],
  ];
  for (const [name, args, stdin, from] of keySources) {
    it(`checks with the secret key from ${name} (--secret-key-file), over the configured one`, async () => {
      const file = keyFile();
      const env = { ...CONFIGURED, IMADMIN_SECRET_KEY: OTHER_KEY };
      const result = await runCli(['usersig', 'verify', ...args(file)], { env, stdin, now: at(TIME) });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        `valid: identifier "administrator", SDKAppID 1400000000, signed with the secret key from ${from(file)}, ` +
          'expires 2024-05-12T22:13:20Z (180d left)\n',
      );
      assertNoLeak(result, [VECTOR]);
    });
  }

  const invalid: Array<{ name: string; userSig: string; args?: string[]; env?: Record<string, string>; now?: number; stderr: string }> = [
    {
      name: 'signed with another key',
      userSig: sign({ secretKey: OTHER_KEY }),
      stderr:
        'im-attrs: UserSig signature does not match the configured secret key: it was signed with another key, or altered after signing.\n' +
        'hint: check that the secret key (from env IMADMIN_SECRET_KEY) belongs to SDKAppID 1400000000 ' +
        '(Chat console → Application → Basic configuration), or sign a new UserSig with `im-attrs usersig gen`\n',
    },
    {
      name: 'made for another identifier',
      userSig: sign({ identifier: 'bob' }),
      stderr:
        'im-attrs: UserSig was made for identifier "bob", but the configured identifier is "administrator"\n' +
        'hint: sign one for this identifier with `im-attrs usersig gen`, or fix `identifier` (from env IMADMIN_IDENTIFIER)\n',
    },
    {
      name: 'made for another identifier than the --identifier flag',
      userSig: sign(),
      args: ['--identifier', 'ops_admin'],
      stderr:
        'im-attrs: UserSig was made for identifier "administrator", but the configured identifier is "ops_admin"\n' +
        'hint: sign one for this identifier with `im-attrs usersig gen`, or fix `identifier` (from flag --identifier)\n',
    },
    {
      name: 'made for another app',
      userSig: sign({ sdkAppId: 1400123456 }),
      stderr:
        'im-attrs: UserSig was made for SDKAppID 1400123456, but the configured SDKAppID is 1400000000\n' +
        'hint: sign one for this app with `im-attrs usersig gen`, or fix `sdkAppId` (from env IMADMIN_SDKAPPID)\n',
    },
    {
      name: 'expired',
      userSig: sign({ expireSeconds: 3600 }),
      now: TIME + 3600 + 90,
      stderr:
        'im-attrs: UserSig expired on 2023-11-14T23:13:20Z (1m 30s ago)\n' +
        'hint: sign a new one with `im-attrs usersig gen`, or leave `userSig` unset so im-attrs signs its own from `secretKey`\n',
    },
    {
      name: 'not a UserSig at all (garbage is "not valid" too: exit 4, not 2)',
      userSig: VECTOR.slice(0, 60),
      stderr: 'im-attrs: not a UserSig: it does not decode (base64/zlib), or it is cut short\n' + WHAT_A_USERSIG_IS,
    },
  ];
  for (const c of invalid) {
    it(`exits 4 and says why for a UserSig ${c.name}`, async () => {
      const result = await runCli(['usersig', 'verify', c.userSig, ...(c.args ?? [])], { env: CONFIGURED, now: at(c.now ?? TIME) });
      assert.equal(result.code, 4);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, c.stderr);
      assertNoLeak(result, [c.userSig]);
    });
  }

  const failures: Failure[] = [
    {
      name: 'is a config error (exit 3) when there is no secret key to check with',
      args: [VECTOR],
      env: { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN },
      code: 3,
      stderr:
        'im-attrs: no secret key to verify the UserSig with: secretKey is not configured\n' +
        `${SECRET_KEY_HINT}; without a key, \`im-attrs usersig inspect\` shows what the UserSig holds\n`,
    },
    {
      name: 'is a config error (exit 3) when no UserSig is given or configured',
      args: [],
      env: CONFIGURED,
      code: 3,
      stderr:
        'im-attrs: no UserSig to verify: none was given and userSig is not configured\n' +
        'hint: pass one, pipe it in with "-" (im-attrs usersig gen | im-attrs usersig verify -), ' +
        'or set `userSig` (--usersig, IMADMIN_USERSIG, .imadminrc)\n',
    },
    {
      name: 'is a usage error (exit 2) when the UserSig and the key would both come from stdin',
      args: ['-', '--secret-key-file', '-'],
      env: CONFIGURED,
      stdin: `${VECTOR}\n`,
      code: 2,
      stderr:
        'im-attrs: the UserSig and the secret key cannot both be read from stdin\n' +
        'hint: put the secret key in a file (--secret-key-file key.txt) or in `secretKey`\n',
    },
    {
      name: 'is a usage error (exit 2) when stdin is empty',
      args: ['-'],
      env: CONFIGURED,
      stdin: '',
      code: 2,
      stderr:
        'im-attrs: no UserSig on stdin: it is empty\n' +
        'hint: pass the UserSig, pipe it in with "-" (im-attrs usersig gen | im-attrs usersig verify -), or configure one\n',
    },
    {
      name: 'refuses a secret key given as a flag value (exit 2), without echoing it',
      args: [VECTOR, '--secret-key', OTHER_KEY],
      env: CONFIGURED,
      code: 2,
      stderr: SECRET_KEY_FLAG_REFUSED,
    },
  ];
  itFails('verify', failures, () => [VECTOR]);
});

describe('im-attrs usersig help', () => {
  for (const sub of ['gen', 'inspect', 'verify']) {
    for (const args of [['usersig', sub, '--help'], ['usersig', 'help', sub]]) {
      it(`prints ${sub}'s description, options and 2 to 4 examples on stdout for "${args.join(' ')}"`, async () => {
        const result = await runCli(args);
        assert.equal(result.code, 0);
        assert.equal(result.stderr, '');
        assert.ok(result.stdout.startsWith(`Usage: im-attrs usersig ${sub} [options]`), result.stdout);
        assert.match(result.stdout, /\nOptions:\n/);
        const examples = result.stdout.split('\nExamples:\n')[1] ?? '';
        const count = examples.split('\n').filter((line) => line.startsWith(`  $ `)).length;
        assert.ok(count >= 2 && count <= 4, `${count} examples`);
        assert.equal(result.stdout.includes('--secret-key <key>'), false, 'the refusing --secret-key option is hidden');
      });
    }
  }
});
