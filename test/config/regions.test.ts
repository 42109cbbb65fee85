/**
 * Regions and endpoints: every id and long name maps to the domains of API.md section 1, the
 * resolved configuration targets https://<primary> with the backup domain, an endpoint replaces
 * the domain, and plain http:// is allowed only to this machine. An endpoint that carries a
 * password is refused, and no message shows the password.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findRegion, REGION_IDS } from '../../src/config/regions.js';
import { isLoopbackHost, parseEndpoint, type Source } from '../../src/config/resolve.js';
import { createTestSignals } from '../../src/deps.js';
import type { Emulator } from '../../src/emulator/server.js';
import { ConfigError } from '../../src/errors.js';
import { createTestIO } from '../../src/io.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { generate } from '../../src/usersig.js';
import { startTestEmulator, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';
import { getUser1, leakedSecrets, USER1_NDJSON, writeConfig } from './fixtures.js';

/** API.md section 1, "Domains" (and PUSH-FAMILY.md for Riyadh): every accepted spelling → id, primary, backup. */
const DOMAINS: Array<{ spellings: string[]; id: string; primary: string; backup: string | undefined }> = [
  { spellings: ['cn', 'china'], id: 'cn', primary: 'console.tim.qq.com', backup: 'adminapi.my-imcloud.com' },
  { spellings: ['sgp', 'singapore'], id: 'sgp', primary: 'adminapisgp.im.qcloud.com', backup: 'adminapisgp.my-imcloud.com' },
  { spellings: ['kr', 'seoul'], id: 'kr', primary: 'adminapikr.im.qcloud.com', backup: 'adminapikr.my-imcloud.com' },
  { spellings: ['jpn', 'tokyo'], id: 'jpn', primary: 'adminapijpn.im.qcloud.com', backup: 'adminapijpn.my-imcloud.com' },
  { spellings: ['ger', 'frankfurt'], id: 'ger', primary: 'adminapiger.im.qcloud.com', backup: 'adminapiger.my-imcloud.com' },
  { spellings: ['usa', 'siliconvalley', 'silicon-valley'], id: 'usa', primary: 'adminapiusa.im.qcloud.com', backup: 'adminapiusa.my-imcloud.com' },
  { spellings: ['idn', 'jakarta'], id: 'idn', primary: 'adminapiidn.im.qcloud.com', backup: 'adminapiidn.my-imcloud.com' },
  { spellings: ['ind', 'mumbai'], id: 'ind', primary: 'adminapiind.im.qcloud.com', backup: 'adminapiind.my-imcloud.com' },
  // No official page documents a backup domain for Riyadh: none is tried.
  { spellings: ['ksa', 'riyadh'], id: 'ksa', primary: 'adminapiksa.im.qcloud.com', backup: undefined },
];

const tmp = tempDir();
after(() => tmp.cleanup());

/** A Runtime over the given environment, with no config file anywhere. */
function runtime(env: Record<string, string>, globals: Record<string, string> = {}): Runtime {
  const rt = new Runtime({
    io: createTestIO(),
    env: { XDG_CONFIG_HOME: path.join(tmp.dir, 'xdg'), ...env },
    cwd: tmp.dir,
    homeDir: tmp.dir,
    now: () => Date.now(),
    signals: createTestSignals(),
  });
  rt.setGlobals(globals);
  return rt;
}

const credentials = { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_SECRET_KEY: TEST_SECRET_KEY };

describe('regions', () => {
  it('has exactly the regions of API.md and PUSH-FAMILY.md (Riyadh added)', () => {
    assert.deepEqual(REGION_IDS, DOMAINS.map((d) => d.id));
  });

  for (const d of DOMAINS) {
    for (const spelling of d.spellings) {
      it(`maps "${spelling}" to ${d.primary}, backup ${d.backup}`, async () => {
        assert.deepEqual(
          { ...findRegion(spelling) },
          { id: d.id, name: findRegion(d.id)?.name, aliases: findRegion(d.id)?.aliases, primary: d.primary, backup: d.backup },
        );
        const config = await runtime({ ...credentials, IMADMIN_REGION: spelling }).apiConfig();
        assert.deepEqual(
          { baseUrl: config.baseUrl, backupBaseUrl: config.backupBaseUrl, target: config.target },
          { baseUrl: `https://${d.primary}`, backupBaseUrl: d.backup === undefined ? undefined : `https://${d.backup}`, target: `${d.primary} (region ${d.id} from env IMADMIN_REGION)` },
        );
      });
    }
  }

  const LOOKUPS: Array<{ name: string; text: string; id: string | undefined }> = [
    { name: 'ignores case in an id', text: 'SGP', id: 'sgp' },
    { name: 'ignores case in a long name', text: 'Frankfurt', id: 'ger' },
    { name: 'ignores surrounding whitespace', text: '  tokyo\n', id: 'jpn' },
    { name: 'knows no region "us"', text: 'us', id: undefined },
    { name: 'knows no region by its display name with a space', text: 'Silicon Valley', id: undefined },
    { name: 'knows no region by its domain', text: 'adminapisgp.im.qcloud.com', id: undefined },
    { name: 'knows no empty region', text: '', id: undefined },
  ];
  for (const l of LOOKUPS) {
    it(`findRegion ${l.name}`, () => {
      assert.equal(findRegion(l.text)?.id, l.id);
    });
  }

  it('resolves a region given as a flag, with the flag named as its source', async () => {
    const config = await runtime({ ...credentials, IMADMIN_REGION: 'cn' }, { region: 'Mumbai' }).apiConfig();
    assert.deepEqual(
      { baseUrl: config.baseUrl, backupBaseUrl: config.backupBaseUrl, target: config.target, sdkAppId: config.sdkAppId, identifier: config.identifier, timeoutMs: config.timeoutMs },
      {
        baseUrl: 'https://adminapiind.im.qcloud.com',
        backupBaseUrl: 'https://adminapiind.my-imcloud.com',
        target: 'adminapiind.im.qcloud.com (region ind from flag --region)',
        sdkAppId: TEST_SDKAPPID,
        identifier: TEST_ADMIN,
        timeoutMs: 10_000,
      },
    );
  });
});

describe('endpoint', () => {
  const from: Source = { kind: 'flag', name: '--endpoint' };
  const endpoint = (value: string) => parseEndpoint({ value, source: from });

  it('replaces the region domain, and has no backup domain', async () => {
    const config = await runtime({ ...credentials, IMADMIN_REGION: 'sgp', IMADMIN_ENDPOINT: 'https://im-proxy.example.com/tencent/' }).apiConfig();
    assert.deepEqual(
      { baseUrl: config.baseUrl, backupBaseUrl: config.backupBaseUrl, target: config.target },
      { baseUrl: 'https://im-proxy.example.com/tencent', backupBaseUrl: undefined, target: 'https://im-proxy.example.com/tencent (endpoint from env IMADMIN_ENDPOINT)' },
    );
  });

  const ACCEPTED: Array<{ name: string; value: string; base: string }> = [
    { name: 'an https URL as it is', value: 'https://adminapisgp.im.qcloud.com', base: 'https://adminapisgp.im.qcloud.com' },
    { name: 'an https URL without its trailing slashes', value: 'https://adminapisgp.im.qcloud.com//', base: 'https://adminapisgp.im.qcloud.com' },
    { name: 'a path prefix for a proxy', value: 'https://gw.example.com/im/v1/', base: 'https://gw.example.com/im/v1' },
    { name: 'an https URL with a port, lower-casing scheme and host', value: ' HTTPS://GW.Example.COM:8443 ', base: 'https://gw.example.com:8443' },
    { name: 'plain http to 127.0.0.1', value: 'http://127.0.0.1:8080', base: 'http://127.0.0.1:8080' },
    { name: 'plain http to anywhere in 127.0.0.0/8', value: 'http://127.5.6.7:8080/', base: 'http://127.5.6.7:8080' },
    { name: 'plain http to localhost', value: 'http://localhost:8080', base: 'http://localhost:8080' },
    { name: 'plain http to [::1]', value: 'http://[::1]:8080', base: 'http://[::1]:8080' },
  ];
  for (const a of ACCEPTED) {
    it(`accepts ${a.name}`, () => {
      assert.equal(endpoint(a.value), a.base);
    });
  }

  const PLAIN_HTTP_HINT = 'the UserSig travels in the URL: use https://, or http:// only for 127.0.0.1/localhost (the emulator)';
  const CREDENTIALS_HINT = 'give only the scheme, host, port and an optional path prefix';
  /** `password`, when given, must appear in neither the message nor the hint. */
  const REFUSED: Array<{ name: string; value: string; message: string; hint: string; password?: string }> = [
    ...['http://adminapisgp.im.qcloud.com', 'http://10.0.0.7:8080', 'http://0.0.0.0:8080', 'http://localhost.example.com', 'http://127.0.0.1.nip.io', 'http://[::2]:8080'].map(
      (value) => ({
        name: `plain http to ${value.slice('http://'.length)}, which is not this machine`,
        value,
        message: `endpoint "${value}" (from flag --endpoint) uses plain http:// to a host that is not on this machine`,
        hint: PLAIN_HTTP_HINT,
      }),
    ),
    {
      name: 'a host without a scheme',
      value: 'adminapisgp.im.qcloud.com',
      message: 'endpoint "adminapisgp.im.qcloud.com" (from flag --endpoint) is not a URL',
      hint: 'use a full URL such as https://adminapisgp.im.qcloud.com or http://127.0.0.1:8080',
    },
    {
      name: 'text that is not a URL',
      value: 'not a url',
      message: 'endpoint "not a url" (from flag --endpoint) is not a URL',
      hint: 'use a full URL such as https://adminapisgp.im.qcloud.com or http://127.0.0.1:8080',
    },
    {
      name: 'a scheme other than http and https',
      value: 'ftp://adminapisgp.im.qcloud.com',
      message: 'endpoint "ftp://adminapisgp.im.qcloud.com" (from flag --endpoint) must use https://',
      hint: 'use a full URL such as https://adminapisgp.im.qcloud.com',
    },
    {
      name: 'a query string',
      value: 'https://gw.example.com/?region=sgp',
      message: 'endpoint "https://gw.example.com/?region=sgp" (from flag --endpoint) must not carry a query, fragment or credentials',
      hint: 'give only the scheme, host, port and an optional path prefix',
    },
    {
      name: 'credentials in the URL, showing the user name but not the password',
      value: 'https://admin:hunter2@proxy.example.com',
      message: 'endpoint "https://admin:***@proxy.example.com" (from flag --endpoint) must not carry a query, fragment or credentials',
      hint: CREDENTIALS_HINT,
      password: 'hunter2',
    },
    {
      name: 'a user name without a password, showing it as given',
      value: 'https://admin@proxy.example.com',
      message: 'endpoint "https://admin@proxy.example.com" (from flag --endpoint) must not carry a query, fragment or credentials',
      hint: CREDENTIALS_HINT,
    },
    {
      name: 'a password without a user name',
      value: 'https://:hunter2@proxy.example.com',
      message: 'endpoint "https://:***@proxy.example.com" (from flag --endpoint) must not carry a query, fragment or credentials',
      hint: CREDENTIALS_HINT,
      password: 'hunter2',
    },
    {
      name: 'a password holding an @, hidden up to the last @ of the host part',
      value: 'https://admin:hunter@2@proxy.example.com/im@v1',
      message: 'endpoint "https://admin:***@proxy.example.com/im@v1" (from flag --endpoint) must not carry a query, fragment or credentials',
      hint: CREDENTIALS_HINT,
      password: 'hunter@2',
    },
    {
      name: 'credentials over plain http to a remote host, without the password',
      value: 'http://admin:hunter2@gw.example.com',
      message: 'endpoint "http://admin:***@gw.example.com" (from flag --endpoint) uses plain http:// to a host that is not on this machine',
      hint: PLAIN_HTTP_HINT,
      password: 'hunter2',
    },
    {
      name: 'credentials with a scheme other than https, without the password',
      value: 'ftp://admin:hunter2@gw.example.com',
      message: 'endpoint "ftp://admin:***@gw.example.com" (from flag --endpoint) must use https://',
      hint: 'use a full URL such as https://adminapisgp.im.qcloud.com',
      password: 'hunter2',
    },
    {
      name: 'credentials without a scheme, without the password',
      value: 'admin:hunter2@proxy.example.com',
      message: 'endpoint "admin:***@proxy.example.com" (from flag --endpoint) must use https://',
      hint: 'use a full URL such as https://adminapisgp.im.qcloud.com',
      password: 'hunter2',
    },
    {
      name: 'credentials in text that is not a URL (a port out of range), without the password',
      value: 'https://admin:hunter2@proxy.example.com:99999',
      message: 'endpoint "https://admin:***@proxy.example.com:99999" (from flag --endpoint) is not a URL',
      hint: 'use a full URL such as https://adminapisgp.im.qcloud.com or http://127.0.0.1:8080',
      password: 'hunter2',
    },
    {
      name: 'a password holding # / and ?, which keep it from parsing, without the password',
      value: 'https://admin:hu#nt/er?2@proxy.example.com',
      message: 'endpoint "https://admin:***@proxy.example.com" (from flag --endpoint) is not a URL',
      hint: 'use a full URL such as https://adminapisgp.im.qcloud.com or http://127.0.0.1:8080',
      password: 'hu#nt/er?2',
    },
  ];
  for (const r of REFUSED) {
    it(`refuses ${r.name}`, () => {
      assert.throws(() => endpoint(r.value), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual({ message: error.message, hint: error.hint, exitCode: error.exitCode }, { message: r.message, hint: r.hint, exitCode: 3 });
        if (r.password !== undefined) assert.ok(!`${error.message}\n${error.hint}`.includes(r.password), 'the password is not shown');
        return true;
      });
    });
  }

  it('counts only loopback names and addresses as this machine', () => {
    const hosts = ['localhost', '127.0.0.1', '127.255.0.9', '[::1]', '::1', 'LOCALHOST.', '0.0.0.0', '128.0.0.1', 'localhost.localdomain'];
    assert.deepEqual(
      hosts.filter((h) => isLoopbackHost(h)),
      ['localhost', '127.0.0.1', '127.255.0.9', '[::1]', '::1'],
    );
  });

  describe('through the CLI', () => {
    let emulator: Emulator;
    const userSig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 86_400 });
    before(async () => {
      emulator = await startTestEmulator({ seedUsers: 1, rateLimit: 0 });
    });
    after(() => emulator.close());

    it('sends requests to the endpoint even when a region is set too', async () => {
      emulator.resetLog();
      const result = await getUser1(['--region', 'sgp', '--endpoint', emulator.url], { env: credentials });
      assert.deepEqual(result, { code: 0, stdout: USER1_NDJSON, stderr: '' });
      assert.deepEqual(emulator.requests.map((r) => r.path), ['/v4/all_member_push/im_get_attr']);
    });

    const project = path.join(tmp.dir, 'http-project');
    const file = path.join(project, '.imadminrc');
    const CASES: Array<{ name: string; args: string[]; env: Record<string, string>; fileText?: string; from: string }> = [
      { name: 'from a flag', args: ['--endpoint', 'http://im.example.com:8080'], env: { IMADMIN_USERSIG: userSig }, from: 'flag --endpoint' },
      { name: 'from IMADMIN_ENDPOINT', args: ['--usersig', userSig], env: { IMADMIN_ENDPOINT: 'http://im.example.com:8080' }, from: 'env IMADMIN_ENDPOINT' },
      { name: 'from the config file', args: [], env: {}, fileText: `endpoint: http://im.example.com:8080\nuserSig: ${userSig}\n`, from: file },
    ];
    for (const c of CASES) {
      it(`refuses plain http to a remote host ${c.name}, with exit 3 and no request sent`, async () => {
        writeConfig(file, c.fileText ?? '{}\n');
        emulator.resetLog();
        const result = await getUser1(c.args, { env: { ...credentials, ...c.env }, cwd: project, homeDir: project });
        assert.deepEqual(result, {
          code: 3,
          stdout: '',
          stderr: `im-attrs: endpoint "http://im.example.com:8080" (from ${c.from}) uses plain http:// to a host that is not on this machine\nhint: ${PLAIN_HTTP_HINT}\n`,
        });
        assert.deepEqual(leakedSecrets(result, [userSig, TEST_SECRET_KEY]), []);
      });
    }
  });
});
