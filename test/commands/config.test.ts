import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Emulator } from '../../src/emulator/server.js';
import { generate } from '../../src/usersig.js';
import { runCli, startTestEmulator, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, type RunOptions } from '../helpers/cli.js';

/** What the region question prints before asking. */
const REGION_LIST = [
  'Data center of the Chat app (the console shows it next to the SDKAppID):',
  '   1) cn        China           console.tim.qq.com',
  '   2) sgp       Singapore       adminapisgp.im.qcloud.com',
  '   3) kr        Seoul           adminapikr.im.qcloud.com',
  '   4) jpn       Tokyo           adminapijpn.im.qcloud.com',
  '   5) ger       Frankfurt       adminapiger.im.qcloud.com',
  '   6) usa       Silicon Valley  adminapiusa.im.qcloud.com',
  '   7) idn       Jakarta         adminapiidn.im.qcloud.com',
  '   8) ind       Mumbai          adminapiind.im.qcloud.com',
  '   9) ksa       Riyadh          adminapiksa.im.qcloud.com',
  '  10) endpoint  another URL: a proxy, or the local emulator',
];

const AUTH_LIST = [
  'How should im-attrs authenticate?',
  '  1) secret-key-env  secret key from an environment variable (recommended: the file holds no secret)',
  '  2) secret-key      secret key stored in the config file (mode 600)',
  '  3) usersig         a UserSig (it expires, and cannot be renewed without the key)',
];

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

describe('im-attrs config', () => {
  let home: ReturnType<typeof tempDir>;
  let globalFile: string;
  /** Runs in the temporary home, with an empty environment unless given. */
  const run = (args: string[], options: RunOptions = {}) => runCli(args, { homeDir: home.dir, ...options });
  /** A terminal on stdin and stderr, with the answers typed in. */
  const tty = (answers: string[], options: RunOptions = {}): RunOptions => ({
    stdinIsTTY: true,
    stderrIsTTY: true,
    stdin: answers.map((a) => `${a}\n`).join(''),
    ...options,
  });

  beforeEach(() => {
    home = tempDir();
    globalFile = path.join(home.dir, '.config', 'imadmin', 'config.json');
  });
  afterEach(() => home.cleanup());

  describe('init on a terminal', () => {
    it('asks for region, SDKAppID, administrator and authentication, and writes a ${} reference, mode 600', async () => {
      const result = await run(['config', 'init'], tty(['sgp', '1400000000', '', '', '']));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, '');
      assert.equal(
        result.stderr,
        [
          ...REGION_LIST,
          '? Region: ',
          '? SDKAppID (Chat console → Applications): ',
          '? Administrator account [administrator]: ',
          ...AUTH_LIST,
          '? Authentication [1]: ',
          '? Environment variable holding the secret key [IMADMIN_SECRET_KEY]: ',
          `✓ wrote ${globalFile} (mode 600):`,
          '  region      sgp',
          '  sdkAppId    1400000000',
          '  identifier  administrator',
          '  secretKey   ${IMADMIN_SECRET_KEY}',
          'The secret key is read from $IMADMIN_SECRET_KEY at run time: export IMADMIN_SECRET_KEY=… (it is not set now).',
          'Check it with: im-attrs doctor',
          '',
        ].join('\n'),
      );
      assert.deepEqual(readJson(globalFile), {
        region: 'sgp',
        sdkAppId: 1400000000,
        identifier: 'administrator',
        secretKey: '${IMADMIN_SECRET_KEY}',
      });
      assert.equal(modeOf(globalFile), 0o600);
    });

    it('asks again after a wrong answer, and stores the secret key only when chosen, never echoing it', async () => {
      const result = await run(['config', 'init'], tty(['mars', '5', 'abc', '1400000002', 'ops-admin', '2', TEST_SECRET_KEY]));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stderr,
        [
          ...REGION_LIST,
          '? Region: ',
          '  ✗ "mars" is not one of the choices: give a number from 1 to 10',
          '? Region: ',
          '? SDKAppID (Chat console → Applications): ',
          '  ✗ sdkAppId "abc" is not a number (use the numeric SDKAppID from the Chat console, e.g. 1400123456)',
          '? SDKAppID (Chat console → Applications): ',
          '? Administrator account [administrator]: ',
          ...AUTH_LIST,
          '? Authentication [1]: ',
          '? Secret key (Chat console → Basic Configuration; not echoed): ',
          `✓ wrote ${globalFile} (mode 600):`,
          '  region      ger',
          '  sdkAppId    1400000002',
          '  identifier  ops-admin',
          '  secretKey   <set, 64 chars>',
          'Check it with: im-attrs doctor',
          '',
        ].join('\n'),
      );
      assert.ok(!result.stderr.includes(TEST_SECRET_KEY.slice(-8)));
      assert.deepEqual(readJson(globalFile), { region: 'ger', sdkAppId: 1400000002, identifier: 'ops-admin', secretKey: TEST_SECRET_KEY });
      assert.equal(modeOf(globalFile), 0o600);
    });

    it('checks a pasted UserSig against the SDKAppID and administrator before writing it', async () => {
      const now = Date.UTC(2026, 0, 1);
      const forOther = generate({ sdkAppId: TEST_SDKAPPID, identifier: 'someone', secretKey: TEST_SECRET_KEY, expireSeconds: 30 * 86_400, now: now / 1000 });
      const good = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 30 * 86_400, now: now / 1000 });
      const result = await run(['config', 'init', '--region', 'sgp', '--sdkappid', String(TEST_SDKAPPID)], tty(['', '3', forOther, good], { now: () => now }));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stderr,
        [
          '? Administrator account [administrator]: ',
          ...AUTH_LIST,
          '? Authentication [1]: ',
          '? UserSig (not echoed): ',
          '  ✗ the UserSig was made for identifier "someone", but identifier is "administrator" (sign one for this identifier with `im-attrs usersig gen`, or fix `identifier`)',
          '? UserSig (not echoed): ',
          `✓ wrote ${globalFile} (mode 600):`,
          '  region      sgp',
          '  sdkAppId    1400000000',
          '  identifier  administrator',
          `  userSig     <set, ${good.length} chars>`,
          'Check it with: im-attrs doctor',
          '',
        ].join('\n'),
      );
      assert.deepEqual(readJson(globalFile), { region: 'sgp', sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, userSig: good });
    });

    it('adds a named profile to an existing file, keeping what is there', async () => {
      mkdirSync(path.dirname(globalFile), { recursive: true });
      writeFileSync(globalFile, JSON.stringify({ region: 'sgp', sdkAppId: 1400000000, identifier: 'administrator', profiles: { test: { sdkAppId: 1400000001 } } }), { mode: 0o644 });
      const result = await run(['config', 'init'], tty(['prod', 'ger', '1400000002', '', '1', 'PROD_KEY']));
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stderr.startsWith(`${globalFile} exists; the new settings are added to it as a profile.\n? Name of the profile to add: \n`), result.stderr);
      assert.ok(result.stderr.endsWith('Select the profile with --profile prod or IMADMIN_PROFILE=prod.\nCheck it with: im-attrs doctor\n'), result.stderr);
      assert.deepEqual(readJson(globalFile), {
        region: 'sgp',
        sdkAppId: 1400000000,
        identifier: 'administrator',
        profiles: {
          test: { sdkAppId: 1400000001 },
          prod: { region: 'ger', sdkAppId: 1400000002, identifier: 'administrator', secretKey: '${PROD_KEY}' },
        },
      });
      assert.equal(modeOf(globalFile), 0o600);
    });

    it('asks before replacing a profile, and writes nothing on "no"', async () => {
      mkdirSync(path.dirname(globalFile), { recursive: true });
      const before = JSON.stringify({ profiles: { prod: { region: 'ger' } } });
      writeFileSync(globalFile, before);
      const result = await run(['config', 'init', '--profile', 'prod'], tty(['n']));
      assert.equal(result.code, 2);
      assert.equal(
        result.stderr,
        `? Profile "prod" exists in ${globalFile}. Replace it? (y/N) [n]: \n` +
          `im-attrs: profile "prod" exists in ${globalFile}; nothing was written\n` +
          'hint: choose another name with --profile <name>, or replace it with --force\n',
      );
      assert.equal(readFileSync(globalFile, 'utf8'), before);
    });

    it('writes nothing when stdin ends before the last answer', async () => {
      const result = await run(['config', 'init'], tty(['sgp']));
      assert.equal(result.code, 2);
      assert.ok(
        result.stderr.endsWith(
          'im-attrs: stdin ended before every question was answered: nothing was written\n' +
            'hint: answer each question on its own line, or run without a terminal and pass the values as flags\n',
        ),
      );
      assert.throws(() => statSync(globalFile), { code: 'ENOENT' });
    });
  });

  describe('init without a terminal', () => {
    it('takes the values from flags and IMADMIN_* variables', async () => {
      const result = await run(['config', 'init', '--region', 'Singapore'], { env: { IMADMIN_SDKAPPID: '1400000000', IMADMIN_IDENTIFIER: 'ops' } });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(readJson(globalFile), { region: 'sgp', sdkAppId: 1400000000, identifier: 'ops', secretKey: '${IMADMIN_SECRET_KEY}' });
      assert.equal(modeOf(globalFile), 0o600);
    });

    it('names the flags it needs', async () => {
      const result = await run(['config', 'init', '--identifier', 'ops']);
      assert.equal(result.code, 2);
      assert.equal(
        result.stderr,
        'im-attrs: config init needs --region (or --endpoint) and --sdkappid when stdin and stderr are not a terminal\n' +
          'hint: e.g. im-attrs config init --region sgp --sdkappid 1400123456 --identifier administrator (or IMADMIN_REGION, IMADMIN_SDKAPPID, …)\n',
      );
    });

    it('never overwrites an existing file without --profile or --force', async () => {
      mkdirSync(path.dirname(globalFile), { recursive: true });
      writeFileSync(globalFile, '{"region":"cn"}\n');
      const refused = await run(['config', 'init', '--region', 'sgp', '--sdkappid', '1400000000']);
      assert.equal(refused.code, 2);
      assert.equal(
        refused.stderr,
        `im-attrs: ${globalFile} exists\n` +
          'hint: name a profile to add to it with --profile <name>, replace it with --force, or write elsewhere with --config <path> or --local\n',
      );
      assert.equal(readFileSync(globalFile, 'utf8'), '{"region":"cn"}\n');

      const added = await run(['config', 'init', '--region', 'sgp', '--sdkappid', '1400000000', '--profile', 'sg']);
      assert.equal(added.code, 0, added.stderr);
      const again = await run(['config', 'init', '--region', 'kr', '--sdkappid', '1400000000', '--profile', 'sg']);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /^im-attrs: profile "sg" exists in .*\nhint: choose another name with --profile <name>, or replace it with --force\n$/);
      const forced = await run(['config', 'init', '--region', 'kr', '--sdkappid', '1400000000', '--profile', 'sg', '--force']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(readJson(globalFile), {
        region: 'cn',
        profiles: { sg: { region: 'kr', sdkAppId: 1400000000, identifier: 'administrator', secretKey: '${IMADMIN_SECRET_KEY}' } },
      });
      const replaced = await run(['config', 'init', '--endpoint', 'http://127.0.0.1:9', '--sdkappid', '1400000000', '--force']);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.deepEqual(readJson(globalFile), { endpoint: 'http://127.0.0.1:9', sdkAppId: 1400000000, identifier: 'administrator', secretKey: '${IMADMIN_SECRET_KEY}' });
    });

    it('--local writes ./.imadminrc; a new file with --profile makes it the default profile', async () => {
      const project = path.join(home.dir, 'project');
      mkdirSync(project);
      const result = await run(['config', 'init', '--local', '--region', 'jpn', '--sdkappid', '1400000003', '--profile', 'tokyo', '--secret-key-env', 'TOKYO_KEY'], {
        cwd: project,
      });
      assert.equal(result.code, 0, result.stderr);
      const file = path.join(project, '.imadminrc');
      assert.deepEqual(readJson(file), {
        defaultProfile: 'tokyo',
        profiles: { tokyo: { region: 'jpn', sdkAppId: 1400000003, identifier: 'administrator', secretKey: '${TOKYO_KEY}' } },
      });
      assert.equal(modeOf(file), 0o600);
    });

    it('stores the secret key itself only with --auth secret-key, reading it from the environment', async () => {
      const missing = await run(['config', 'init', '--region', 'sgp', '--sdkappid', '1400000000', '--auth', 'secret-key']);
      assert.equal(missing.code, 2);
      assert.equal(
        missing.stderr,
        'im-attrs: --auth secret-key stores the secret key from $IMADMIN_SECRET_KEY, which is not set\n' +
          'hint: export IMADMIN_SECRET_KEY=… first (never pass a secret as a flag), or keep the default --auth secret-key-env\n',
      );
      const stored = await run(['config', 'init', '--region', 'sgp', '--sdkappid', '1400000000', '--auth', 'secret-key'], {
        env: { IMADMIN_SECRET_KEY: TEST_SECRET_KEY },
      });
      assert.equal(stored.code, 0, stored.stderr);
      assert.ok(stored.stderr.includes('  secretKey   <set, 64 chars>\n'));
      assert.ok(!stored.stderr.includes(TEST_SECRET_KEY));
      assert.equal((readJson(globalFile) as { secretKey: string }).secretKey, TEST_SECRET_KEY);
    });

    it('refuses to edit a YAML file', async () => {
      const file = path.join(home.dir, '.imadminrc');
      writeFileSync(file, 'region: sgp\n');
      const result = await run(['config', 'init', '--local', '--region', 'sgp', '--sdkappid', '1400000000', '--profile', 'x']);
      assert.equal(result.code, 3);
      assert.equal(
        result.stderr,
        `im-attrs: ${file} is not a JSON object (YAML or JavaScript?): config init only edits JSON files\n` +
          'hint: add the profile by hand (see .imadminrc.example), write another file with --config <path>, or replace this one with --force\n',
      );
      assert.equal(readFileSync(file, 'utf8'), 'region: sgp\n');
    });
  });

  describe('a file written by init', () => {
    let emulator: Emulator;
    before(async () => {
      emulator = await startTestEmulator({ seedUsers: 3, rateLimit: 0 });
    });
    after(() => emulator.close());

    it('is what get then uses, with the secret key from the environment', async () => {
      const init = await run(['config', 'init', '--endpoint', emulator.url, '--sdkappid', String(TEST_SDKAPPID), '--identifier', TEST_ADMIN]);
      assert.equal(init.code, 0, init.stderr);
      const get = await run(['get', 'user000001', '--json'], { env: { IMADMIN_SECRET_KEY: TEST_SECRET_KEY } });
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout, '[\n  {"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"}}\n]\n');
    });
  });

  describe('show', () => {
    it('prints every setting with its source: flag, env, file and profile, ${} reference, default; secrets masked', async () => {
      const file = path.join(home.dir, '.imadminrc');
      writeFileSync(
        file,
        JSON.stringify({
          region: 'sgp',
          identifier: 'administrator',
          timeout: 5,
          callbackToken: 'cb-token-in-clear-1234',
          profiles: { prod: { sdkAppId: 1400000002, secretKey: '${PROD_KEY}' } },
        }),
        { mode: 0o600 },
      );
      const result = await run(['config', 'show', '--profile', 'prod', '--region', 'ger'], {
        env: { PROD_KEY: TEST_SECRET_KEY, IMADMIN_OUTPUT: 'csv' },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        [
          `file     ${file}`,
          'trust    your own file (home directory or config folder): trusted',
          'profile  prod (from flag --profile)',
          '',
          'KEY            VALUE            SOURCE',
          'region         ger              flag --region',
          `sdkAppId       1400000002       ${file}, profile "prod"`,
          `identifier     administrator    ${file}`,
          'userSig        (not set)        -',
          `secretKey      <set, 64 chars>  ${file}, profile "prod" via \${PROD_KEY}`,
          'endpoint       (not set)        -',
          'output         csv              env IMADMIN_OUTPUT',
          'usersigTtl     1d               default',
          `timeout        5                ${file}`,
          'api            all_member_push  default',
          'rate           (not set)        -',
          'pushEdition    (not set)        -',
          `callbackToken  <set, 22 chars>  ${file}`,
          'journalDays    (not set)        -',
          '',
        ].join('\n'),
      );
      assert.ok(!result.stdout.includes(TEST_SECRET_KEY) && !result.stderr.includes(TEST_SECRET_KEY));
      assert.ok(!result.stdout.includes('cb-token') && !result.stderr.includes('cb-token'));
    });

    it('--json gives scripts the values, structured sources and profiles', async () => {
      const sig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 3600 });
      const result = await run(['config', 'show', '--json', '--usersig', sig], { env: { IMADMIN_REGION: 'kr' } });
      assert.equal(result.code, 0, result.stderr);
      const doc = JSON.parse(result.stdout) as { file: unknown; profile: unknown; profiles: unknown; settings: Record<string, unknown> };
      assert.equal(doc.file, null);
      assert.equal(doc.profile, null);
      assert.deepEqual(doc.profiles, []);
      assert.deepEqual(doc.settings.region, { value: 'kr', secret: false, source: { kind: 'env', name: 'IMADMIN_REGION' }, from: 'env IMADMIN_REGION' });
      assert.deepEqual(doc.settings.userSig, { value: `<set, ${sig.length} chars>`, secret: true, source: { kind: 'flag', name: '--usersig' }, from: 'flag --usersig' });
      assert.deepEqual(doc.settings.sdkAppId, { value: null, secret: false, source: null, from: null });
      assert.deepEqual(doc.settings.output, { value: null, secret: false, source: { kind: 'default' }, from: 'default: table on a terminal, tsv otherwise' });
      assert.ok(!result.stdout.includes(sig));
    });
  });

  describe('path and profiles', () => {
    it('path prints the file in use, and exits 3 when there is none', async () => {
      const none = await run(['config', 'path']);
      assert.equal(none.code, 3);
      assert.equal(none.stdout, '');
      assert.match(none.stderr, /^im-attrs: no config file found\nhint: looked for \.imadminrc/);
      mkdirSync(path.dirname(globalFile), { recursive: true });
      writeFileSync(globalFile, '{}');
      assert.deepEqual(await run(['config', 'path']), { code: 0, stdout: `${globalFile}\n`, stderr: '' });
      const local = path.join(home.dir, '.imadminrc');
      writeFileSync(local, 'region: sgp\n');
      assert.deepEqual(await run(['config', 'path']), { code: 0, stdout: `${local}\n`, stderr: '' });
      assert.deepEqual(await run(['config', 'path', '--config', globalFile]), { code: 0, stdout: `${globalFile}\n`, stderr: '' });
    });

    it('profiles lists the names one per line (the default marked on a terminal) or as JSON', async () => {
      const file = path.join(home.dir, '.imadminrc');
      writeFileSync(file, 'defaultProfile: test\nprofiles:\n  test: {sdkAppId: 1}\n  prod: {sdkAppId: 2}\n');
      assert.deepEqual(await run(['config', 'profiles']), { code: 0, stdout: 'test\nprod\n', stderr: '' });
      assert.deepEqual(await run(['config', 'profiles'], { stdoutIsTTY: true }), { code: 0, stdout: 'test (default)\nprod\n', stderr: '' });
      const json = await run(['config', 'profiles', '--json']);
      assert.deepEqual(JSON.parse(json.stdout), { file, profiles: ['test', 'prod'], defaultProfile: 'test' });
      // An unknown --profile must not break the listing (completion calls it mid-typing).
      assert.deepEqual(await run(['config', 'profiles', '--profile', 'nope']), { code: 0, stdout: 'test\nprod\n', stderr: '' });
    });

    it('profiles prints nothing on stdout without a config file', async () => {
      assert.deepEqual(await run(['config', 'profiles']), { code: 0, stdout: '', stderr: 'no config file found; `im-attrs config init` creates one\n' });
    });
  });
});
