/**
 * Hostile networks: TLS that does not verify, plain http off loopback, forward proxies (a CONNECT
 * proxy on loopback that counts its tunnels), and a primary domain that does not resolve or
 * connect. The CLI runs in-process where the runtime wires the case; the client is built directly
 * where a case needs what only a test can inject (a resolver that never leaves the machine, the
 * proxy environment).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FAMILIES } from '../../src/api/families.js';
import type { AttrRecord } from '../../src/model.js';
import { ImClient, staticCredentials, type ClientOptions } from '../../src/api/client.js';
import { classify } from '../../src/api/policy.js';
import { proxySettings, usesProxy } from '../../src/api/proxy.js';
import type { Emulator } from '../../src/emulator/server.js';
import { ApiError, ConfigError, NetworkError } from '../../src/errors.js';
import { generate } from '../../src/usersig.js';
import { runCli, startTestEmulator, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';
import {
  closedPort,
  json,
  LEAK_SECRET_KEY,
  requestedAccounts,
  selfSignedCertificate,
  startConnectProxy,
  startScripted,
  type Certificate,
  type ScriptedServer,
} from './servers.js';

const ENV = { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_SECRET_KEY: LEAK_SECRET_KEY };
const ARGS = ['get', 'alice', 'bob', '--json', '--retries', '1', '--retry-delay', '1'];
const BOTH = '[\n  {"To_Account":"alice","Attrs":{"sex":"F"}},\n  {"To_Account":"bob","Attrs":{}}\n]\n';
/** A region domain, reached only through the test proxy or the test resolver: never the real one. */
const REGION_HOST = 'adminapisgp.im.qcloud.com';

const files = tempDir();
after(() => files.cleanup());
const certificate = selfSignedCertificate(files.dir, [REGION_HOST]);
const noTls = typeof certificate === 'string' ? certificate : false;
const cert = certificate as Certificate;

/** Answers every im_get_attr with alice's attributes and an empty set for the others. */
function answerAttrs(): Parameters<typeof startScripted>[0] {
  return (_req, res, received) =>
    json(res, {
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorInfo: '',
      UserAttrs: requestedAccounts(received).map((a) => ({ To_Account: a, Attrs: a === 'alice' ? { sex: 'F' } : {} })),
    });
}

/** A resolver that answers from a table and fails like getaddrinfo for anything else: no DNS traffic. */
function fakeDns(table: Record<string, string>, asked: string[] = []): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    asked.push(hostname);
    const address = table[hostname];
    if (address === undefined) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
      process.nextTick(() => callback(error));
    } else if (options.all) process.nextTick(() => callback(null, [{ address, family: 4 }]));
    else process.nextTick(() => callback(null, address, 4));
  }) as LookupFunction;
}

function client(options: Partial<ClientOptions> & { baseUrl: string }): ImClient {
  return new ImClient({
    sdkAppId: TEST_SDKAPPID,
    identifier: TEST_ADMIN,
    credentials: staticCredentials(generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 86_400 })),
    userAgent: 'im-attrs-test',
    timeoutMs: 5_000,
    ...options,
  });
}

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a rejection');
}

describe('TLS: certificates are always verified', { skip: noTls }, () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScripted(answerAttrs(), cert);
  });
  after(() => server.close());

  const untrusted = (port: number): string =>
    `im-attrs: im_get_attr: the TLS certificate of 127.0.0.1:${port} is not signed by a trusted CA (DEPTH_ZERO_SELF_SIGNED_CERT)\n` +
    'hint: for a private CA or a TLS-inspecting proxy, pass its CA certificate with --ca <file> (or NODE_EXTRA_CA_CERTS); im-attrs never skips verification\n';

  it('refuses a self-signed certificate without --ca: exit 3, nothing sent', async () => {
    const before = server.requests.length;
    const result = await runCli([...ARGS, '--endpoint', server.url], { env: ENV });
    assert.equal(result.stderr, untrusted(server.port));
    assert.equal(result.code, 3);
    assert.equal(result.stdout, '[]\n');
    assert.equal(server.requests.length, before, 'no request reached the server');
  });

  it('trusts the certificate given with --ca', async () => {
    const result = await runCli([...ARGS, '--endpoint', server.url, '--ca', cert.certPath], { env: ENV });
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.equal(result.stdout, BOTH);
  });

  it('still refuses it when NODE_TLS_REJECT_UNAUTHORIZED=0 is set in the process', async () => {
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    const warn = process.emitWarning;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    process.emitWarning = () => undefined; // Node's own warning about the variable is not ours to test.
    try {
      const result = await runCli([...ARGS, '--endpoint', server.url], { env: { ...ENV, NODE_TLS_REJECT_UNAUTHORIZED: '0' } });
      assert.equal(result.stderr, untrusted(server.port));
      assert.equal(result.code, 3);
    } finally {
      process.emitWarning = warn;
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    }
  });

  it('refuses a --ca file that holds no certificate the server was signed with', async () => {
    const other = path.join(files.dir, 'not-a-cert.pem');
    writeFileSync(other, 'this is not a PEM file\n');
    const result = await runCli([...ARGS, '--endpoint', server.url, '--ca', other], { env: ENV });
    assert.equal(result.code, 3);
    assert.equal(result.stderr, untrusted(server.port));
  });

  it('names a certificate for another host name', async () => {
    const api = client({ baseUrl: `https://wrong.example:${server.port}`, ca: cert.cert, lookup: fakeDns({ 'wrong.example': '127.0.0.1' }) });
    try {
      const error = await failure(getAttrs(api, ['alice']));
      assert.ok(error instanceof NetworkError);
      assert.equal(error.message, `im_get_attr: the TLS certificate of wrong.example:${server.port} is for another host name (ERR_TLS_CERT_ALTNAME_INVALID)`);
      assert.equal(error.hint, 'check `endpoint`: the server answering is not the one named there');
      assert.equal(classify(error).action, 'config');
    } finally {
      api.close();
    }
  });
});

describe('plain http:// only on loopback', () => {
  it('is a configuration error for another host', async () => {
    const result = await runCli([...ARGS, '--endpoint', 'http://api.example.com'], { env: ENV });
    assert.equal(result.code, 3);
    assert.equal(
      result.stderr,
      'im-attrs: endpoint "http://api.example.com" (from flag --endpoint) uses plain http:// to a host that is not on this machine\n' +
        'hint: the UserSig travels in the URL: use https://, or http:// only for 127.0.0.1/localhost (the emulator)\n',
    );
  });

  it('is refused by the client itself too, for the primary and the backup address', () => {
    for (const urls of [{ baseUrl: 'http://api.example.com' }, { baseUrl: 'https://api.example.com', backupBaseUrl: 'http://backup.example.com' }]) {
      assert.throws(() => client(urls), (error: unknown) => error instanceof ConfigError && /is not an https:\/\/ address/.test(error.message));
    }
  });

  it('talks TLS only to TLS servers: an https:// endpoint on a plain http server fails the handshake', async () => {
    const plain = await startScripted(answerAttrs());
    try {
      const result = await runCli([...ARGS, '--retries', '0', '--endpoint', plain.url.replace('http:', 'https:')], { env: ENV });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^failed: 2 accounts \(the TLS handshake failed \((EPROTO|ERR_SSL_WRONG_VERSION_NUMBER)\): is it an https:\/\/ server\? \(127\.0\.0\.1:\d+\)\): alice bob\n/);
      assert.equal(plain.requests.length, 0);
    } finally {
      await plain.close();
    }
  });
});

describe('HTTPS_PROXY and NO_PROXY', { skip: noTls }, () => {
  let server: ScriptedServer;
  let base: string;
  before(async () => {
    server = await startScripted(answerAttrs(), cert);
    base = `https://${REGION_HOST}:${server.port}`;
  });
  after(() => server.close());

  it('tunnels through the proxy with CONNECT, one tunnel kept alive for every request, no DNS of its own', async () => {
    const proxy = await startConnectProxy();
    const asked: string[] = [];
    const api = client({ baseUrl: base, ca: cert.cert, proxyEnv: { HTTPS_PROXY: proxy.url }, lookup: fakeDns({}, asked) });
    try {
      const before = server.requests.length;
      for (let i = 0; i < 5; i++) {
        const { records } = await getAttrs(api, ['alice', 'bob']);
        assert.deepEqual(records, [
          { To_Account: 'alice', Attrs: { sex: 'F' } },
          { To_Account: 'bob', Attrs: {} },
        ]);
      }
      assert.equal(server.requests.length - before, 5);
      assert.deepEqual(proxy.tunnels, [{ target: `${REGION_HOST}:${server.port}`, authorization: undefined }]);
      assert.deepEqual(proxy.plainRequests, [], 'the proxy never saw a URL (or its UserSig) in clear');
      assert.deepEqual(asked, [], 'the proxy resolves the API host, not im-attrs');
    } finally {
      api.close();
      await proxy.close();
    }
  });

  it('prefers https_proxy to HTTPS_PROXY, as curl does, and sends the proxy credentials', async () => {
    const proxy = await startConnectProxy();
    const wrong = await closedPort();
    const withUser = proxy.url.replace('http://', 'http://ops:p%40ss@');
    const api = client({ baseUrl: base, ca: cert.cert, proxyEnv: { https_proxy: withUser, HTTPS_PROXY: `http://127.0.0.1:${wrong}` }, lookup: fakeDns({}) });
    try {
      await getAttrs(api, ['alice']);
      assert.deepEqual(proxy.tunnels, [{ target: `${REGION_HOST}:${server.port}`, authorization: `Basic ${Buffer.from('ops:p@ss').toString('base64')}` }]);
    } finally {
      api.close();
      await proxy.close();
    }
  });

  it('connects directly to a host listed in NO_PROXY', async () => {
    const proxy = await startConnectProxy();
    const asked: string[] = [];
    const api = client({
      baseUrl: base,
      ca: cert.cert,
      proxyEnv: { HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost, .qcloud.com' },
      lookup: fakeDns({ [REGION_HOST]: '127.0.0.1' }, asked),
    });
    try {
      await getAttrs(api, ['alice']);
      assert.deepEqual(proxy.tunnels, []);
      assert.deepEqual(asked, [REGION_HOST]);
    } finally {
      api.close();
      await proxy.close();
    }
  });

  const proxyCases: Array<{ name: string; refuse?: number; down?: boolean; type: abstract new (...args: never[]) => Error; message: (p: string) => string; hint: string }> = [
    {
      name: 'a proxy that wants credentials (407) is a configuration error',
      refuse: 407,
      type: ConfigError,
      message: (p) => `im_get_attr: the proxy ${p} (HTTPS_PROXY) wants credentials (HTTP 407)`,
      hint: 'give them in HTTPS_PROXY: http://user:password@host:port',
    },
    {
      name: 'a proxy that cannot open the tunnel (502) is a network error, retried',
      refuse: 502,
      type: NetworkError,
      message: (p) => `im_get_attr: the proxy ${p} (HTTPS_PROXY) could not open a tunnel to ${REGION_HOST}:PORT (HTTP 502)`,
      hint: `check that the proxy allows ${REGION_HOST}:PORT, or add it to NO_PROXY to connect directly`,
    },
    {
      name: 'a proxy that is down is named, and the backup domain is not tried through it',
      down: true,
      type: NetworkError,
      message: (p) => `im_get_attr: cannot connect to the proxy ${p} (HTTPS_PROXY): connection refused`,
      hint: `check HTTPS_PROXY, or unset it (or list ${REGION_HOST}:PORT in NO_PROXY) to connect directly`,
    },
  ];
  for (const c of proxyCases) {
    it(c.name, async () => {
      const proxy = c.down ? undefined : await startConnectProxy({ refuse: c.refuse });
      const proxyUrl = proxy?.url ?? `http://127.0.0.1:${await closedPort()}`;
      const notices: string[] = [];
      const api = client({
        baseUrl: base,
        backupBaseUrl: `https://adminapisgp.my-imcloud.com:${server.port}`,
        ca: cert.cert,
        // Credentials in the proxy URL must never show in a message.
        proxyEnv: { HTTPS_PROXY: proxyUrl.replace('http://', 'http://ops:hunter2@') },
        lookup: fakeDns({}),
        notice: (line) => notices.push(line),
      });
      try {
        const error = await failure(getAttrs(api, ['alice']));
        assert.ok(error instanceof c.type, `${error.name}: ${error.message}`);
        const port = String(server.port);
        assert.equal(error.message.replaceAll(`:${port}`, ':PORT'), c.message(proxyUrl));
        assert.equal((error as ConfigError).hint?.replaceAll(`:${port}`, ':PORT'), c.hint);
        assert.ok(!`${error.message} ${(error as ConfigError).hint}`.includes('hunter2'));
        assert.deepEqual(notices, []);
        assert.equal(proxy?.tunnels.length ?? 0, c.down ? 0 : 1);
      } finally {
        api.close();
        await proxy?.close();
      }
    });
  }

  it(
    'is used by the CLI, which hands the client its environment (not process.env)',
    async () => {
      const proxy = await startConnectProxy();
      try {
        const result = await runCli([...ARGS, '--endpoint', server.url, '--ca', cert.certPath], { env: { ...ENV, HTTPS_PROXY: proxy.url } });
        assert.equal(result.stderr, '');
        assert.equal(result.code, 0);
        assert.equal(result.stdout, BOTH);
        assert.deepEqual(proxy.tunnels, [{ target: `127.0.0.1:${server.port}`, authorization: undefined }]);
      } finally {
        await proxy.close();
      }
    },
  );

  it('never proxies plain http:// (loopback only) and refuses proxy URLs it cannot use', async () => {
    const plain = await startScripted(answerAttrs());
    const proxy = await startConnectProxy();
    const api = client({ baseUrl: plain.url, proxyEnv: { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url } });
    try {
      await getAttrs(api, ['alice']);
      assert.equal(plain.requests.length, 1);
      assert.deepEqual(proxy.tunnels, []);
      assert.deepEqual(proxy.plainRequests, []);
    } finally {
      api.close();
      await proxy.close();
      await plain.close();
    }
    const bad: Array<[string, string, string]> = [
      ['socks5://127.0.0.1:1080', 'HTTPS_PROXY uses socks5://, which im-attrs does not support', 'use an HTTP proxy (http:// or https://) that supports CONNECT'],
      ['http://[oops', 'HTTPS_PROXY is not a proxy URL', 'use http://host:port (or http://user:password@host:port), or unset HTTPS_PROXY'],
    ];
    for (const [value, message, hint] of bad) {
      assert.throws(
        () => client({ baseUrl: base, proxyEnv: { HTTPS_PROXY: value } }),
        (error: unknown) => error instanceof ConfigError && error.message === message && error.hint === hint,
      );
    }
  });
});

describe('NO_PROXY matching', () => {
  const cases: Array<[string, string, boolean]> = [
    ['', 'https://adminapisgp.im.qcloud.com', true],
    ['*', 'https://adminapisgp.im.qcloud.com', false],
    ['adminapisgp.im.qcloud.com', 'https://adminapisgp.im.qcloud.com', false],
    ['qcloud.com', 'https://adminapisgp.im.qcloud.com', false],
    ['.qcloud.com', 'https://adminapisgp.im.qcloud.com', false],
    ['*.qcloud.com', 'https://qcloud.com', true],
    ['.qcloud.com', 'https://qcloud.com', true],
    ['cloud.com', 'https://adminapisgp.im.qcloud.com', true],
    ['adminapisgp.im.qcloud.com:8443', 'https://adminapisgp.im.qcloud.com', true],
    ['adminapisgp.im.qcloud.com:443', 'https://adminapisgp.im.qcloud.com', false],
    ['ADMINAPISGP.IM.QCLOUD.COM', 'https://adminapisgp.im.qcloud.com', false],
    ['example.org other.org,  127.0.0.1', 'https://127.0.0.1:8443', false],
    ['::1', 'https://[::1]:8443', false],
    ['[::1]:8443', 'https://[::1]:8443', false],
    ['[::1]:9443', 'https://[::1]:8443', true],
  ];
  for (const [noProxy, target, proxied] of cases) {
    it(`NO_PROXY="${noProxy}" ${proxied ? 'proxies' : 'does not proxy'} ${target}`, () => {
      const settings = proxySettings({ HTTPS_PROXY: 'proxy.internal:3128', NO_PROXY: noProxy });
      assert.equal(settings?.url.href, 'http://proxy.internal:3128/');
      assert.equal(usesProxy(settings, new URL(target)), proxied);
    });
  }
  it('no_proxy wins over NO_PROXY, and no proxy variable means no proxy', () => {
    assert.equal(usesProxy(proxySettings({ HTTPS_PROXY: 'http://p:1', no_proxy: 'a.com', NO_PROXY: '*' }), new URL('https://a.com')), false);
    assert.equal(usesProxy(proxySettings({ HTTPS_PROXY: 'http://p:1', no_proxy: 'a.com', NO_PROXY: '*' }), new URL('https://b.com')), true);
    assert.equal(proxySettings({ HTTP_PROXY: 'http://p:1', ALL_PROXY: 'http://p:1', https_proxy: ' ' }), undefined);
  });
});

describe('backup domain when the primary does not resolve or connect', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startTestEmulator({ seedUsers: 3, rateLimit: 0 });
  });
  after(() => emulator.close());
  const emulatorHost = (): string => new URL(emulator.url).host;

  it('retries a refused connection on the backup, says so once, and stays there', async () => {
    const port = await closedPort();
    const notices: string[] = [];
    const api = client({ baseUrl: `http://127.0.0.1:${port}`, backupBaseUrl: emulator.url, notice: (l) => notices.push(l) });
    try {
      emulator.resetLog();
      for (let i = 0; i < 3; i++) {
        const { records } = await getAttrs(api, ['user000001']);
        assert.deepEqual(records, [{ To_Account: 'user000001', Attrs: { sex: 'M', city: 'Shenzhen' } }]);
      }
      assert.deepEqual(notices, [`127.0.0.1:${port} is unreachable (ECONNREFUSED); using the backup domain ${emulatorHost()} from now on`]);
      assert.equal(emulator.requests.length, 3);
    } finally {
      api.close();
    }
  });

  it('retries a name that does not resolve (ENOTFOUND) on the backup', async () => {
    const notices: string[] = [];
    const api = client({ baseUrl: 'http://localhost:9', backupBaseUrl: emulator.url, lookup: fakeDns({}), notice: (l) => notices.push(l) });
    try {
      const { records } = await getAttrs(api, ['user000002']);
      assert.equal(records.length, 1);
      assert.deepEqual(notices, [`localhost:9 does not resolve (ENOTFOUND); using the backup domain ${emulatorHost()} from now on`]);
    } finally {
      api.close();
    }
  });

  it('classifies ENOTFOUND without a backup as a retryable network error that names the host', async () => {
    const api = client({ baseUrl: 'http://localhost:9', lookup: fakeDns({}) });
    try {
      const error = await failure(getAttrs(api, ['user000002']));
      assert.ok(error instanceof NetworkError);
      assert.equal(error.netCode, 'ENOTFOUND');
      assert.equal(error.message, 'im_get_attr: the host name does not resolve (DNS) (localhost:9)');
      assert.equal(error.hint, 'check that localhost:9 is reachable from here (network, proxy, firewall), or set `region`/`endpoint`');
      // notSent: the request never left, so even an operation not safe to repeat (a push) may retry it.
      assert.deepEqual(classify(error), { action: 'retry', reason: 'the host name does not resolve (DNS) (localhost:9)', notSent: true });
    } finally {
      api.close();
    }
  });

  it('does not switch for an answer from the primary (HTTP 500), and reports the backup failing too', async () => {
    const failing = await startScripted((_req, res) => res.writeHead(500).end());
    const closed = await closedPort();
    const notices: string[] = [];
    const api = client({ baseUrl: failing.url, backupBaseUrl: `http://127.0.0.1:${closed}`, notice: (l) => notices.push(l) });
    const dead = client({ baseUrl: `http://127.0.0.1:${await closedPort()}`, backupBaseUrl: `http://127.0.0.1:${closed}`, notice: (l) => notices.push(l) });
    try {
      const error = await failure(getAttrs(api, ['user000001']));
      assert.ok(error instanceof ApiError && error.status === 500);
      assert.deepEqual(notices, []);
      const both = await failure(getAttrs(dead, ['user000001']));
      assert.equal(both.message, `im_get_attr: connection refused (127.0.0.1:${closed})`);
      assert.equal(notices.length, 1);
    } finally {
      api.close();
      dead.close();
      await failing.close();
    }
  });
});

describe('a proxy setting that plain http does not use', () => {
  it('does not stop a loopback http endpoint (the emulator), even when it is unusable', async () => {
    const { startTestEmulator, emulatorEnv } = await import('../helpers/cli.js');
    const emulator = await startTestEmulator({ seedUsers: 2 });
    try {
      const result = await runCli(['get', 'user000001', '--json'], { env: { ...emulatorEnv(emulator), HTTPS_PROXY: 'socks5://127.0.0.1:1080' } });
      assert.equal(result.code, 0, result.stderr);
    } finally {
      await emulator.close();
    }
  });
});

/** get-attributes as the tests knew it: records and missing accounts of one call. */
async function getAttrs(client: ImClient, accounts: readonly string[]): Promise<{ records: AttrRecord[]; missing: { account: string; reason: string }[] }> {
  const { results, failures } = await client.callBatch(FAMILIES.all_member_push.getAttrs!, accounts, undefined);
  return { records: results, missing: failures.map((f) => ({ account: accounts[f.index]!, reason: f.reason })) };
}
