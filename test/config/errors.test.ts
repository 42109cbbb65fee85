/**
 * Configuration errors through the real CLI: the exact lines on stderr (naming the key and where
 * its value came from), the exit code, and that no UserSig or secret key is ever printed.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Emulator } from '../../src/emulator/server.js';
import { generate } from '../../src/usersig.js';
import { runCli, startTestEmulator, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';
import { leakedSecrets, PROFILE, VALID_REGIONS, writeConfig } from './fixtures.js';

/** A fixed clock, so expiry messages are exact. */
const NOW_MS = Date.UTC(2026, 4, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;
const USERSIG = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 86_400, now: NOW });
const OTHER_APP_USERSIG = generate({ sdkAppId: 1400000099, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 86_400, now: NOW });
/** Signed 2 h 30 min before NOW for one hour: expired 1 h 30 min ago. */
const EXPIRED_USERSIG = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 3_600, now: NOW - 9_000 });
const GARBAGE_USERSIG = 'eJyrVspxzSvJLE4tUrJSMjQwMDCyMDY0MDRQqgUA-not-really';
/** The password of a proxy URL given as the endpoint. */
const PROXY_PASSWORD = 'hunter2';
const PROXY_WITH_PASSWORD = `https://admin:${PROXY_PASSWORD}@proxy.example.com`;
const PROXY_CREDENTIALS_REFUSED = (from: string) =>
  `im-attrs: endpoint "https://admin:***@proxy.example.com" (from ${from}) must not carry a query, fragment or credentials\n` +
  'hint: give only the scheme, host, port and an optional path prefix\n';
/** Every secret any case uses: none may appear on stdout or stderr, in whole or in part. */
const SECRETS = [TEST_SECRET_KEY, USERSIG, OTHER_APP_USERSIG, EXPIRED_USERSIG, GARBAGE_USERSIG, PROXY_PASSWORD];
/** Pieces of the secret key: a parse error quoting the file around the key must not show them either. */
const KEY_PIECES = [TEST_SECRET_KEY.slice(0, 12), TEST_SECRET_KEY.slice(26, 38), TEST_SECRET_KEY.slice(-12)];

const FIX_SYNTAX = 'hint: fix the syntax (see .imadminrc.example for the format)';

interface ErrorCase {
  name: string;
  /** After `im-attrs get user000001`. */
  args?: (p: Project) => string[];
  env?: (p: Project) => Record<string, string>;
  /** `.imadminrc` (or another name) in the project directory: content, written with mode 0600. */
  file?: { name?: string; content: string | object };
  code: number;
  stderr: (p: Project) => string;
  /** Why the case cannot pass yet (a bug in src/, see the report). */
  todo?: string;
  /** The file does not parse: its parse error must not quote it, even as a --debug cause. */
  parseError?: true;
}

interface Project {
  dir: string;
  /** The config file's path (whether or not the case writes it). */
  file: string;
  emulator: string;
}

const IDENTIFIER_MISSING =
  'im-attrs: identifier (an app administrator account) is not configured\n' +
  'hint: set it with the --identifier flag, the IMADMIN_IDENTIFIER variable, "identifier" in .imadminrc (see .imadminrc.example)\n';

const CASES: ErrorCase[] = [
  {
    name: 'an unknown region from a flag names the flag and lists the valid regions',
    args: () => ['--region', 'mars'],
    env: () => ({ IMADMIN_ENDPOINT: '', IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    code: 3,
    stderr: () => `im-attrs: unknown region "mars" (from flag --region)\nhint: valid regions: ${VALID_REGIONS}\n`,
  },
  {
    name: 'an unknown region from the selected profile names the file and the profile',
    env: () => ({ IMADMIN_ENDPOINT: '' }),
    file: { content: { defaultProfile: PROFILE, profiles: { [PROFILE]: { region: 'singapur', secretKey: TEST_SECRET_KEY } } } },
    code: 3,
    stderr: (p) => `im-attrs: unknown region "singapur" (from ${p.file}, profile "prod")\nhint: valid regions: ${VALID_REGIONS}\n`,
  },
  {
    name: 'a non-numeric SDKAppID from the environment names the variable',
    env: () => ({ IMADMIN_SDKAPPID: '14000abc', IMADMIN_USERSIG: USERSIG }),
    code: 3,
    stderr: () => 'im-attrs: sdkAppId "14000abc" (from env IMADMIN_SDKAPPID) is not a number\nhint: use the numeric SDKAppID from the Chat console, e.g. 1400123456\n',
  },
  {
    name: 'an SDKAppID in scientific notation from a flag is not a number',
    args: () => ['--sdkappid', '1.4e9', '--usersig', USERSIG],
    code: 3,
    stderr: () => 'im-attrs: sdkAppId "1.4e9" (from flag --sdkappid) is not a number\nhint: use the numeric SDKAppID from the Chat console, e.g. 1400123456\n',
  },
  {
    name: 'an SDKAppID of 0 in the file is not a number either',
    env: () => ({ IMADMIN_SDKAPPID: '' }),
    file: { content: { sdkAppId: 0, secretKey: TEST_SECRET_KEY } },
    code: 3,
    stderr: (p) => `im-attrs: sdkAppId "0" (from ${p.file}) is not a number\nhint: use the numeric SDKAppID from the Chat console, e.g. 1400123456\n`,
  },
  {
    name: 'a missing SDKAppID names every way to set it',
    env: () => ({ IMADMIN_SDKAPPID: '', IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    code: 3,
    stderr: () =>
      'im-attrs: sdkAppId (the SDKAppID of your Chat app) is not configured\n' +
      'hint: set it with the --sdkappid flag, the IMADMIN_SDKAPPID variable, "sdkAppId" in .imadminrc (see .imadminrc.example)\n',
  },
  {
    name: 'a missing identifier names every way to set it',
    env: () => ({ IMADMIN_IDENTIFIER: '', IMADMIN_SECRET_KEY: TEST_SECRET_KEY, IMADMIN_USERSIG: USERSIG }),
    code: 3,
    stderr: () => IDENTIFIER_MISSING,
  },
  {
    name: 'an identifier of only spaces counts as missing',
    args: () => ['--identifier', '   '],
    env: () => ({ IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    code: 3,
    stderr: () => IDENTIFIER_MISSING,
  },
  {
    name: 'no region and no endpoint says how to set either',
    env: () => ({ IMADMIN_ENDPOINT: '', IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    code: 3,
    stderr: () =>
      'im-attrs: no region or endpoint is configured\n' +
      'hint: set `region` (cn, sgp, kr, jpn, ger, usa, idn, ind, ksa) with --region, IMADMIN_REGION or .imadminrc, or `endpoint` for a proxy or the emulator\n',
  },
  {
    name: 'neither a UserSig nor a secret key says how to set each',
    code: 3,
    stderr: () =>
      'im-attrs: neither userSig nor secretKey is configured\n' +
      'hint: set `secretKey` (IMADMIN_SECRET_KEY or .imadminrc) so im-attrs signs for you, or `userSig` (--usersig, IMADMIN_USERSIG)\n',
  },
  {
    name: 'empty IMADMIN_USERSIG and IMADMIN_SECRET_KEY count as neither',
    env: () => ({ IMADMIN_USERSIG: '', IMADMIN_SECRET_KEY: '' }),
    code: 3,
    stderr: () =>
      'im-attrs: neither userSig nor secretKey is configured\n' +
      'hint: set `secretKey` (IMADMIN_SECRET_KEY or .imadminrc) so im-attrs signs for you, or `userSig` (--usersig, IMADMIN_USERSIG)\n',
  },
  {
    name: 'a bad endpoint URL in the file names the file',
    env: () => ({ IMADMIN_ENDPOINT: '' }),
    file: { content: { endpoint: 'https//gw.example.com', secretKey: TEST_SECRET_KEY, userSig: USERSIG } },
    code: 3,
    stderr: (p) =>
      `im-attrs: endpoint "https//gw.example.com" (from ${p.file}) is not a URL\n` +
      'hint: use a full URL such as https://adminapisgp.im.qcloud.com or http://127.0.0.1:8080\n',
  },
  {
    name: 'an endpoint with a password from a flag shows the user name but not the password',
    args: () => ['--endpoint', PROXY_WITH_PASSWORD],
    env: () => ({ IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    code: 3,
    stderr: () => PROXY_CREDENTIALS_REFUSED('flag --endpoint'),
  },
  {
    name: 'an endpoint with a password from IMADMIN_ENDPOINT does not show the password',
    env: () => ({ IMADMIN_ENDPOINT: PROXY_WITH_PASSWORD, IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    code: 3,
    stderr: () => PROXY_CREDENTIALS_REFUSED('env IMADMIN_ENDPOINT'),
  },
  {
    name: 'an endpoint with a password in the selected profile does not show the password',
    env: () => ({ IMADMIN_ENDPOINT: '' }),
    file: { content: { defaultProfile: PROFILE, profiles: { [PROFILE]: { endpoint: PROXY_WITH_PASSWORD, secretKey: TEST_SECRET_KEY } } } },
    code: 3,
    stderr: (p) => PROXY_CREDENTIALS_REFUSED(`${p.file}, profile "prod"`),
  },
  {
    name: 'an endpoint with a password that is not a URL does not show the password either',
    args: () => ['--endpoint', `https://admin:${PROXY_PASSWORD}@proxy.example.com:99999`],
    env: () => ({ IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    code: 3,
    stderr: () =>
      'im-attrs: endpoint "https://admin:***@proxy.example.com:99999" (from flag --endpoint) is not a URL\n' +
      'hint: use a full URL such as https://adminapisgp.im.qcloud.com or http://127.0.0.1:8080\n',
  },
  {
    name: 'a config path that is a directory (--config) says so',
    args: (p) => ['--config', p.dir],
    env: () => ({ IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    code: 3,
    stderr: (p) => `im-attrs: config file ${p.dir} is a directory, not a file\nhint: point --config at a file such as .imadminrc\n`,
  },
  {
    name: 'a config path that does not exist (IMADMIN_CONFIG) says so',
    env: (p) => ({ IMADMIN_CONFIG: path.join(p.dir, 'missing.yaml'), IMADMIN_USERSIG: USERSIG }),
    code: 3,
    stderr: (p) => `im-attrs: config file ${path.join(p.dir, 'missing.yaml')} does not exist\nhint: check the path given with --config or IMADMIN_CONFIG\n`,
  },
  {
    name: 'an unknown profile from a flag lists the known profiles',
    args: () => ['--profile', 'dev'],
    file: { content: { secretKey: TEST_SECRET_KEY, profiles: { prod: {}, staging: {} } } },
    code: 3,
    stderr: (p) => `im-attrs: unknown profile "dev" (from flag --profile) in ${p.file}\nhint: known profiles: prod, staging\n`,
  },
  {
    name: 'an unknown profile from IMADMIN_PROFILE suggests the closest known one',
    env: () => ({ IMADMIN_PROFILE: 'prd', IMADMIN_USERSIG: USERSIG }),
    file: { content: { profiles: { prod: {}, staging: {} } } },
    code: 3,
    stderr: (p) => `im-attrs: unknown profile "prd" (from env IMADMIN_PROFILE) in ${p.file} (did you mean "prod"?)\nhint: known profiles: prod, staging\n`,
  },
  {
    name: 'a defaultProfile that names no profile gives the file as its source',
    file: { content: { defaultProfile: 'live', secretKey: TEST_SECRET_KEY, profiles: { prod: {} } } },
    code: 3,
    stderr: (p) => `im-attrs: unknown profile "live" (from ${p.file}) in ${p.file}\nhint: known profiles: prod\n`,
  },
  {
    name: 'a profile asked of a file that defines none says so',
    args: () => ['--profile', 'prod'],
    file: { content: { secretKey: TEST_SECRET_KEY } },
    code: 3,
    stderr: (p) => `im-attrs: unknown profile "prod" (from flag --profile) in ${p.file}\nhint: the file defines no profiles\n`,
  },
  {
    name: 'a profile asked for when there is no config file at all',
    env: () => ({ IMADMIN_PROFILE: 'prod', IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    code: 3,
    stderr: () =>
      'im-attrs: profile "prod" (from env IMADMIN_PROFILE) was asked for, but no config file was found\n' +
      'hint: create .imadminrc (see .imadminrc.example) or point --config at it\n',
  },
  {
    name: 'a ${VAR} reference to an unset variable names the key, the file and the variable',
    // No UserSig: the command needs the secret key (with one, the unset reference is no error: issue 14).
    env: () => ({}),
    file: { content: { secretKey: '${IMADMIN_TEST_UNSET_KEY}' } },
    code: 3,
    stderr: (p) =>
      `im-attrs: secretKey (from ${p.file}) refers to \${IMADMIN_TEST_UNSET_KEY}, which is not set\n` +
      'hint: export IMADMIN_TEST_UNSET_KEY=… before running im-attrs, or put the value in the file\n',
  },
  {
    name: 'a ${VAR} reference in the selected profile names the profile',
    env: () => ({ IMADMIN_IDENTIFIER: '', IMADMIN_SECRET_KEY: TEST_SECRET_KEY }),
    file: { content: { defaultProfile: PROFILE, profiles: { [PROFILE]: { identifier: 'ops-${TEAM}' } } } },
    code: 3,
    stderr: (p) =>
      `im-attrs: identifier (from ${p.file}, profile "prod") refers to \${TEAM}, which is not set\n` +
      'hint: export TEAM=… before running im-attrs, or put the value in the file\n',
  },
  {
    name: 'a value of the wrong type names the key and the file',
    env: () => ({ IMADMIN_IDENTIFIER: '' }),
    file: { content: { identifier: 42, secretKey: TEST_SECRET_KEY } },
    code: 3,
    stderr: (p) => `im-attrs: identifier (from ${p.file}) must be a string, not number\nhint: see .imadminrc.example for the type of each key\n`,
  },
  {
    name: 'a file given with --config holding a list instead of settings says so',
    args: (p) => ['--config', p.file],
    file: { content: `- secretKey: ${TEST_SECRET_KEY}\n- region: sgp\n` },
    code: 3,
    stderr: (p) => `im-attrs: config file ${p.file} must hold an object of settings, not an array\nhint: see .imadminrc.example for the format\n`,
  },
  {
    name: 'a file found by the search holding a list instead of settings says so',
    file: { content: `- secretKey: ${TEST_SECRET_KEY}\n- region: sgp\n` },
    code: 3,
    stderr: (p) => `im-attrs: config file ${p.file} must hold an object of settings, not an array\nhint: see .imadminrc.example for the format\n`,
    todo: 'src/config/load.ts wraps the ConfigError of asObject in a second "is not valid" error during the search',
  },
  {
    name: 'profiles that are not an object of named profiles say so',
    file: { content: { secretKey: TEST_SECRET_KEY, profiles: ['prod'] } },
    code: 3,
    stderr: (p) => `im-attrs: profiles in ${p.file} must be an object of named profiles\nhint: e.g. "profiles": { "prod": { "region": "sgp", … } }\n`,
  },
  {
    name: 'an output format that does not exist is a usage error naming the file',
    file: { content: { output: 'xml', secretKey: TEST_SECRET_KEY } },
    code: 2,
    stderr: (p) => `im-attrs: output "xml" (from ${p.file}) is not a format\nhint: use one of table, tsv, csv, json, ndjson\n`,
  },
  {
    name: 'a UserSig that does not decode is an auth error naming its source',
    args: () => ['--usersig', GARBAGE_USERSIG],
    code: 4,
    stderr: () =>
      'im-attrs: the UserSig (from flag --usersig) is not a valid UserSig: not a UserSig: it does not decode (base64/zlib), or it is cut short\n' +
      'hint: copy the whole UserSig again, or set `secretKey` so im-attrs signs for you\n',
  },
  {
    name: 'a UserSig made for another app names both SDKAppIDs',
    env: () => ({ IMADMIN_USERSIG: OTHER_APP_USERSIG }),
    code: 4,
    stderr: () =>
      'im-attrs: the UserSig (from env IMADMIN_USERSIG) was made for SDKAppID 1400000099, but sdkAppId is 1400000000\n' +
      'hint: sign one for this app with `im-attrs usersig gen`, or fix `sdkAppId`\n',
  },
  {
    name: 'an expired UserSig in the file, with no secret key, says when it expired',
    file: { content: { userSig: EXPIRED_USERSIG } },
    code: 4,
    stderr: (p) =>
      `im-attrs: the UserSig (from ${p.file}) expired on 2026-05-01T10:30:00Z (1h 30m ago)\n` +
      'hint: set `secretKey` so im-attrs signs for you, or run `im-attrs usersig gen` for a new one\n',
  },
  {
    name: 'a malformed .imadminrc.json gives the path, the parse error and its position',
    file: { name: '.imadminrc.json', content: `{\n  "region": "sgp",\n  "secretKey": "${TEST_SECRET_KEY}"\n  "identifier": "administrator"\n}\n` },
    code: 3,
    stderr: (p) => `im-attrs: config file ${p.file} is not valid: Expected ',' or '}' after property value at line 4, column 3\n${FIX_SYNTAX}\n`,
    todo: 'src/config/load.ts keeps only the first line of the parse error ("JSON Error in <path>:")',
    parseError: true,
  },
  {
    name: 'a malformed .imadminrc.yaml gives the path, the parse error and its position',
    file: { name: '.imadminrc.yaml', content: `region: sgp\nsecretKey: ${TEST_SECRET_KEY}\n  identifier: administrator\n` },
    code: 3,
    stderr: (p) => `im-attrs: config file ${p.file} is not valid: bad indentation of a mapping entry at line 3, column 13\n${FIX_SYNTAX}\n`,
    todo: 'src/config/load.ts keeps only the first line of the parse error ("YAML Error in <path>:")',
    parseError: true,
  },
  {
    name: 'a truncated .imadminrc in JSON syntax gives the path, the parse error and its position',
    file: { content: `{\n  "region": "sgp",\n  "secretKey": "${TEST_SECRET_KEY}",\n` },
    code: 3,
    stderr: (p) => `im-attrs: config file ${p.file} is not valid: unexpected end of the stream within a flow collection at line 4, column 1\n${FIX_SYNTAX}\n`,
    todo: 'src/config/load.ts keeps only the first line of the parse error ("YAML Error in <path>:")',
    parseError: true,
  },
];

describe('configuration errors', () => {
  const tmp = tempDir();
  let emulator: Emulator;
  before(async () => {
    emulator = await startTestEmulator({ seedUsers: 1, rateLimit: 0 });
  });
  after(async () => {
    await emulator.close();
    tmp.cleanup();
  });

  let caseNumber = 0;
  function project(c: ErrorCase): Project {
    const dir = path.join(tmp.dir, `case-${++caseNumber}`);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, c.file?.name ?? '.imadminrc');
    if (c.file) writeConfig(file, c.file.content);
    return { dir, file, emulator: emulator.url };
  }

  /** Everything but the credentials points at the emulator; a case overrides what it tests. */
  function envFor(c: ErrorCase, p: Project): Record<string, string> {
    return {
      IMADMIN_ENDPOINT: p.emulator,
      IMADMIN_SDKAPPID: String(TEST_SDKAPPID),
      IMADMIN_IDENTIFIER: TEST_ADMIN,
      ...c.env?.(p),
    };
  }

  for (const c of CASES) {
    const options = {};
    it(`${c.name}, exit ${c.code}`, options, async () => {
      const p = project(c);
      emulator.resetLog();
      const result = await runCli(['get', 'user000001', ...(c.args?.(p) ?? [])], { env: envFor(c, p), cwd: p.dir, homeDir: p.dir, now: () => NOW_MS });
      assert.deepEqual(result, { code: c.code, stdout: '', stderr: c.stderr(p) });
      assert.deepEqual(emulator.requests, [], 'nothing is sent when the configuration is wrong');
      assert.deepEqual(leakedSecrets(result, [...SECRETS, ...KEY_PIECES]), []);
    });
  }

  describe('with --debug, which prints the cause of an error, secrets still do not leak', () => {
    for (const c of CASES) {
      const options = {};
      it(c.name, options, async () => {
        const p = project(c);
        const result = await runCli(['get', 'user000001', '--debug', ...(c.args?.(p) ?? [])], {
          env: envFor(c, p),
          cwd: p.dir,
          homeDir: p.dir,
          now: () => NOW_MS,
        });
        assert.equal(result.code, c.code);
        assert.deepEqual(leakedSecrets(result, [...SECRETS, ...KEY_PIECES]), []);
      });
    }
  });
});
