import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Emulator } from '../../src/emulator/server.js';
import { generate } from '../../src/usersig.js';
import { emulatorEnv, runCli, startTestEmulator, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';

/** Another well-formed key: the emulator rejects what it signs with 70009. */
const WRONG_KEY = 'f'.repeat(64);

/** The lines every run against a healthy emulator starts with (no config file, env settings). */
/**
 * `im-attrs doctor` through runCli, with its output unwrapped: doctor wraps each check at 80
 * columns off a terminal (tested below); these tests compare each check as one line.
 */
async function runDoctor(...args: Parameters<typeof runCli>): ReturnType<typeof runCli> {
  const result = await runCli(...args);
  return { ...result, stdout: unwrapChecks(result.stdout) };
}

/** Joins the continuation lines of doctor's checks (indented past "fix:") to the line they continue. */
export function unwrapChecks(text: string): string {
  return text.replace(/\n {16}(?!fix: )(?! )/g, ' ').replace(/\n {21}(?! )/g, ' ');
}

function emulatorPreamble(url: string): string[] {
  return [
    '✓ config file   none found: the settings come from flags and the environment',
    '- permissions   skipped: no config file',
    `✓ settings      endpoint ${url}, SDKAppID ${TEST_SDKAPPID}, identifier "${TEST_ADMIN}"`,
    '✓ credentials   secret key from env IMADMIN_SECRET_KEY: im-attrs signs its own UserSigs (valid 1d, renewed as needed)',
    `- network       skipped: ${url} is plain http on this machine (the emulator?): no DNS or TLS to check`,
    '- clock         skipped: the endpoint runs on this machine, by the same clock',
  ];
}

describe('im-attrs doctor', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startTestEmulator({ rateLimit: 0 });
  });
  after(() => emulator.close());
  beforeEach(() => emulator.resetLog());

  it('passes against a healthy emulator with one get_attr_name per family, and says DNS and TLS were skipped', async () => {
    const result = await runDoctor(['doctor'], { env: emulatorEnv(emulator) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        ...emulatorPreamble(emulator.url),
        '✓ API           im_get_attr_name OK: "administrator" is an app administrator, the endpoint knows the SDKAppID, push to all users is enabled (attributes: sex, city, level)',
        '✓ API family    all_member_push (in use) and timpush both answer; the two may not share attributes and tags: keep using one',
        '',
        'No problems found (3 skipped).',
        '',
      ].join('\n'),
    );
    assert.equal(result.stderr, '');
    assert.deepEqual(
      emulator.requests.map((r) => [r.path, r.body]),
      [
        ['/v4/all_member_push/im_get_attr_name', {}],
        ['/v4/timpush/get_attr_name', {}],
      ],
    );
  });

  const NOT_ENABLED = { ActionStatus: 'FAIL', ErrorCode: 90045, ErrorInfo: 'push to all users is not enabled' };
  it('tells which family the app has: timpush answers 90045, all_member_push answers, so api: all_member_push is right', async () => {
    const result = await runDoctor(['doctor'], { env: emulatorEnv(emulator), proxy: (command) => (command === 'get_attr_name' ? NOT_ENABLED : undefined) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout.split('\n').at(-4),
      '✓ API family    all_member_push is the family this app has enabled (timpush answers 90045): `api: all_member_push` is right',
    );
  });

  it('says to set api: timpush when all_member_push answers 90045 and timpush answers, exit 3', async () => {
    const result = await runDoctor(['doctor'], { env: emulatorEnv(emulator), proxy: (command) => (command === 'im_get_attr_name' ? NOT_ENABLED : undefined) });
    assert.equal(result.code, 3);
    assert.deepEqual(result.stdout.split('\n').slice(-5), [
      '✗ API           im_get_attr_name: error 90045: push to all users is not enabled',
      '                fix: enable "Push to all users" in the Chat console (Pro, Pro Plus or Enterprise edition; older apps: a configuration change ticket, enabled up to 48 h after approval), or try the other API family: --api timpush / --api all_member_push (`im-attrs doctor` tells which one answers)',
      '✗ API family    this app has the timpush family enabled, not all_member_push (90045)',
      '                fix: set `api: timpush` in the config (or IMADMIN_API=timpush, or --api timpush)',
      '',
    ]);
    assert.equal(result.stderr, 'im-attrs: 2 of 5 checks failed: API, API family\nhint: fix each ✗ line as its fix: says and run `im-attrs doctor` again; a check that needs a failed one was skipped\n');
  });

  it('fails the API check against an emulator with another key, with the fix, exit 4', async () => {
    const result = await runDoctor(['doctor'], { env: emulatorEnv(emulator, { IMADMIN_SECRET_KEY: WRONG_KEY }) });
    assert.equal(result.code, 4);
    assert.equal(
      result.stdout,
      [
        ...emulatorPreamble(emulator.url),
        '✗ API           im_get_attr_name: error 70009: UserSig verification failed',
        '                fix: the UserSig was signed with another key: check `secretKey` for this SDKAppID',
        '',
      ].join('\n'),
    );
    assert.equal(
      result.stderr,
      'im-attrs: 1 of 4 checks failed: API\n' +
        'hint: fix each ✗ line as its fix: says and run `im-attrs doctor` again; a check that needs a failed one was skipped\n',
    );
    assert.ok(!result.stdout.includes(WRONG_KEY) && !result.stderr.includes(WRONG_KEY));
  });

  it('fails with a fix naming the emulator when nothing listens on the port, exit 1', async () => {
    const closed = await startTestEmulator();
    const url = closed.url;
    await closed.close();
    const result = await runDoctor(['doctor'], { env: emulatorEnv(emulator, { IMADMIN_ENDPOINT: url }) });
    assert.equal(result.code, 1);
    assert.equal(
      result.stdout,
      [
        ...emulatorPreamble(url),
        `✗ API           im_get_attr_name: connection refused (${new URL(url).host})`,
        `                fix: nothing answers at ${url}: start the emulator (im-attrs emulator) or fix \`endpoint\` (from env IMADMIN_ENDPOINT)`,
        '',
      ].join('\n'),
    );
  });

  describe('reads the API error code', () => {
    const cases: Array<{ name: string; code: number; exit: number; line: string; fix: string }> = [
      {
        name: '70020 as the wrong region',
        code: 70020,
        exit: 3,
        line: '✗ API           im_get_attr_name: error 70020: injected fault 70020; this SDKAppID is not known at the endpoint ',
        fix: '                fix: set `region` to the data center shown next to the SDKAppID in the Chat console (cn, sgp, kr, jpn, ger, usa, idn, ind, ksa)',
      },
      {
        name: '60017 as push to all users not enabled',
        code: 60017,
        exit: 3,
        line: '✗ API           im_get_attr_name: error 60017: injected fault 60017; push to all users is not available to this app',
        fix: '                fix: enable "Push to all users" in the Chat console; it needs the Pro, Pro Plus or Enterprise edition',
      },
      {
        name: '91000 as a passing server problem',
        code: 91000,
        exit: 1,
        line: '✗ API           im_get_attr_name: error 91000: injected fault 91000',
        fix: '                fix: a passing problem on the server: run `im-attrs doctor` again',
      },
    ];
    for (const c of cases) {
      it(`reads ${c.name}`, async () => {
        const faulty = await startTestEmulator({ faults: [{ kind: `code:${c.code}`, fraction: 1 }] });
        try {
          const result = await runDoctor(['doctor'], { env: emulatorEnv(faulty) });
          assert.equal(result.code, c.exit, result.stderr);
          const lines = result.stdout.split('\n');
          assert.equal(lines[6], c.code === 70020 ? `${c.line}${faulty.url}` : c.line);
          assert.equal(lines[7], c.fix);
        } finally {
          await faulty.close();
        }
      });
    }

    it('reads 60010 as an identifier that is not an administrator, exit 4', async () => {
      const result = await runDoctor(['doctor'], { env: emulatorEnv(emulator, { IMADMIN_IDENTIFIER: 'alice' }) });
      assert.equal(result.code, 4);
      assert.match(result.stdout, /\n✗ API {11}im_get_attr_name: error 60010: alice is not an app administrator; "alice" is not an app administrator\n {16}fix: set `identifier` to an administrator account/);
    });
  });

  describe('local checks', () => {
    let home: ReturnType<typeof tempDir>;
    beforeEach(() => {
      home = tempDir();
    });
    afterEach(() => home.cleanup());

    it('fails a config file that holds the secret key and is readable by others, with chmod as the fix', async () => {
      const file = path.join(home.dir, '.imadminrc');
      writeFileSync(file, JSON.stringify({ endpoint: emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY }), { mode: 0o644 });
      const result = await runDoctor(['doctor', '--offline'], { homeDir: home.dir });
      assert.equal(result.code, 3);
      assert.equal(
        result.stdout.split('\n').slice(0, 3).join('\n'),
        [
          `✓ config file   ${file}; your own file (home directory or config folder): trusted`,
          `✗ permissions   ${file} holds a secret key or UserSig and is readable by others (mode 644)`,
          `                fix: chmod 600 ${file}`,
        ].join('\n'),
      );
      assert.ok(!result.stdout.includes(TEST_SECRET_KEY) && !result.stderr.includes(TEST_SECRET_KEY));
    });

    it('passes a file that only refers to the secret key, whatever its mode', async () => {
      const file = path.join(home.dir, '.imadminrc');
      writeFileSync(file, JSON.stringify({ endpoint: emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: '${APP_KEY}' }), { mode: 0o644 });
      const result = await runDoctor(['doctor'], { homeDir: home.dir, env: { APP_KEY: TEST_SECRET_KEY } });
      assert.equal(result.code, 0, result.stdout);
      assert.equal(result.stdout.split('\n')[1], '✓ permissions   mode 644; the file holds no secret (only ${…} references, if any)');
    });

    it('fails an expired UserSig without a secret key and skips the API call, exit 4', async () => {
      const now = Date.UTC(2026, 5, 1);
      const sig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 3600, now: now / 1000 - 7200 });
      const result = await runDoctor(['doctor'], {
        now: () => now,
        env: { IMADMIN_ENDPOINT: emulator.url, IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_USERSIG: sig },
      });
      assert.equal(result.code, 4);
      const lines = result.stdout.split('\n');
      assert.equal(lines[3], '✗ credentials   UserSig (from env IMADMIN_USERSIG): expired on 2026-05-31T23:00:00Z (1h ago)');
      assert.equal(lines[4], '                fix: set the secret key so im-attrs signs for itself, or make a new UserSig with `im-attrs usersig gen`');
      assert.equal(lines.at(-2), '- API           skipped: fix the settings and credentials first');
      assert.equal(emulator.requests.length, 0);
    });

    it('reports a good UserSig with its time left', async () => {
      const now = Date.UTC(2026, 5, 1);
      const sig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 10 * 86_400, now: now / 1000 });
      const result = await runDoctor(['doctor', '--offline'], {
        now: () => now,
        env: { IMADMIN_ENDPOINT: emulator.url, IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_USERSIG: sig },
      });
      assert.equal(result.code, 0, result.stdout);
      assert.equal(
        result.stdout.split('\n')[3],
        '✓ credentials   UserSig from env IMADMIN_USERSIG for "administrator" and SDKAppID 1400000000, expires 2026-06-11T00:00:00Z (in 10d)',
      );
    });

    it('names every missing setting, each with its fix, and skips everything that needs them, exit 3', async () => {
      const result = await runDoctor(['doctor'], { homeDir: home.dir, env: { IMADMIN_SDKAPPID: String(TEST_SDKAPPID) } });
      assert.equal(result.code, 3);
      assert.equal(
        result.stdout,
        [
          '✓ config file   none found: the settings come from flags and the environment',
          '- permissions   skipped: no config file',
          '✗ settings      no region or endpoint is configured',
          '                fix: set `region` (cn, sgp, kr, jpn, ger, usa, idn, ind, ksa) with --region, IMADMIN_REGION or .imadminrc, or `endpoint` for a proxy or the emulator',
          '✗ settings      identifier (an app administrator account) is not configured',
          '                fix: set it with the --identifier flag, the IMADMIN_IDENTIFIER variable, "identifier" in .imadminrc (see .imadminrc.example)',
          '- credentials   skipped: needs a valid SDKAppID and identifier',
          '- network       skipped: needs a valid region or endpoint',
          '- clock         skipped: needs a valid region or endpoint',
          '- API           skipped: fix the settings and credentials first',
          '',
        ].join('\n'),
      );
    });

    it('--json prints the checks for scripts and still exits non-zero on a failure', async () => {
      const result = await runDoctor(['doctor', '--json'], { env: emulatorEnv(emulator, { IMADMIN_SECRET_KEY: WRONG_KEY }) });
      assert.equal(result.code, 4);
      const doc = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ id: string; status: string }> };
      assert.equal(doc.ok, false);
      assert.deepEqual(
        doc.checks.map((c) => `${c.id}:${c.status}`),
        ['config:pass', 'permissions:skip', 'settings:pass', 'credentials:pass', 'network:skip', 'clock:skip', 'api:fail'],
      );
    });
  });

  describe('DNS, TLS and clock against a local https server', () => {
    let server: https.Server | undefined;
    let certFile = '';
    let endpoint = '';
    const certs = tempDir();
    const env = (): Record<string, string> => ({
      IMADMIN_ENDPOINT: endpoint,
      IMADMIN_SDKAPPID: String(TEST_SDKAPPID),
      IMADMIN_IDENTIFIER: TEST_ADMIN,
      IMADMIN_SECRET_KEY: TEST_SECRET_KEY,
    });

    before(async () => {
      certFile = path.join(certs.dir, 'cert.pem');
      const keyFile = path.join(certs.dir, 'key.pem');
      try {
        execFileSync(
          'openssl',
          ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
            '-days', '30', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
          { stdio: 'ignore' },
        );
      } catch {
        return; // no openssl: the tests below skip
      }
      server = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AttrNames: { '0': 'tier' } }));
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      endpoint = `https://localhost:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      certs.cleanup();
    });

    it('checks DNS and the certificate (trusted with --ca), warns about a clock 10 minutes ahead, then calls the API', async (t) => {
      if (!server) return t.skip('openssl is not installed: cannot make a test certificate');
      const result = await runDoctor(['doctor', '--ca', certFile], { env: env(), now: () => Date.now() + 600_000 });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const lines = result.stdout.split('\n');
      assert.equal(lines[4], '✓ DNS           localhost resolves to 127.0.0.1');
      assert.match(lines[5]!, new RegExp(`^✓ TLS {11}localhost:${new URL(endpoint).port}: TLSv1\\.[23], certificate for localhost valid until \\d{4}-\\d\\d-\\d\\d \\((29|30) days\\)$`));
      assert.match(lines[6]!, /^! clock {9}this clock is 10m( 1s)? ahead of localhost$/);
      assert.equal(lines[7], '                fix: sync it (e.g. timedatectl set-ntp true): a UserSig carries its signing time, so a wrong clock makes it expire early or start late');
      assert.match(lines[8]!, /^✓ API {11}im_get_attr_name OK: .*\(attributes: tier\)$/);
      assert.equal(lines.at(-2), 'No problems found (1 warning, 1 skipped).');
    });

    it('fails TLS for an untrusted certificate, pointing at --ca, and skips the API call, exit 3', async (t) => {
      if (!server) return t.skip('openssl is not installed: cannot make a test certificate');
      const result = await runDoctor(['doctor'], { env: env() });
      assert.equal(result.code, 3);
      const lines = result.stdout.split('\n');
      assert.equal(lines[5], `✗ TLS           localhost:${new URL(endpoint).port}: DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate`);
      assert.equal(lines[6], '                fix: a TLS-inspecting proxy or private CA? Trust its CA with --ca <file> or NODE_EXTRA_CA_CERTS=<file>');
      assert.equal(lines[7], '- clock         skipped: no answer from localhost');
      assert.equal(lines[8], '- API           skipped: localhost cannot be reached');
    });
  });
});

describe('doctor on a narrow screen', () => {
  it('wraps each check under its message column: 80 columns piped, the width of the terminal on one', async () => {
    for (const [options, width] of [[{}, 80], [{ stdoutIsTTY: true, columns: 60 }, 60]] as const) {
      const result = await runCli(['doctor'], { ...options, env: { IMADMIN_SDKAPPID: 'abc', IMADMIN_ENDPOINT: 'http://127.0.0.1:9', IMADMIN_IDENTIFIER: 'administrator', IMADMIN_SECRET_KEY: TEST_SECRET_KEY } });
      assert.equal(result.code, 3);
      const long = result.stdout.split('\n').filter((line) => line.length > width);
      assert.deepEqual(long, []);
      assert.match(unwrapChecks(result.stdout), /^✗ settings {6}sdkAppId "abc" \(from env IMADMIN_SDKAPPID\) is not a number\n {16}fix: /m);
    }
  });
});
