/**
 * Issue 11, "Secret fragments": a server that echoes part of the UserSig (cut, %2A-encoded, split)
 * or of the secret key gets none of it printed, 8 characters or more, with or without --debug; and
 * the UserSig can be read from a file or stdin instead of argv (visible to every user in ps).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FragmentIndex, REDACTED, Secrets } from '../../src/redact.js';
import { generate } from '../../src/usersig.js';
import { runCli, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';
import { json, LEAK_SECRET_KEY, startScripted, type Received } from './servers.js';

const files = tempDir();
after(() => files.cleanup());

/** A UserSig with '*' in it (the standard base64 '+'), so that %2A has something to encode. */
function sigWithStar(): string {
  for (let ttl = 86_400; ; ttl++) {
    const sig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: LEAK_SECRET_KEY, expireSeconds: ttl });
    if (sig.slice(20, 200).includes('*')) return sig;
  }
}
const SIG = sigWithStar();

/** Every 8-character window of the secret that appears in the text, raw or percent-decoded. */
function windowsIn(text: string, secret: string): string[] {
  const decoded = text.replace(/%25([0-9a-f]{2})/gi, '%$1').replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  const found: string[] = [];
  for (let i = 0; i + 8 <= secret.length; i++) {
    const w = secret.slice(i, i + 8);
    if (text.includes(w) || decoded.includes(w)) found.push(w);
  }
  return found;
}

const pctStar = (s: string) => s.replace(/\*/g, '%2A');
const at = (s: string) => s.indexOf('*', 20);

describe('secret fragments: no piece of 8 characters or more is ever shown', () => {
  const ECHOES: Array<{ name: string; info: (sig: string) => string }> = [
    { name: 'a cut piece of the UserSig', info: (sig) => `bad sig ${sig.slice(30, 90)}` },
    { name: 'a %2A-encoded piece', info: (sig) => `bad sig ${pctStar(sig.slice(at(sig) - 20, at(sig) + 30))}` },
    { name: 'a %252A (double-encoded) piece, lower case', info: (sig) => `bad ${sig.slice(at(sig) - 12, at(sig) + 12).replace(/\*/g, '%252a')}` },
    { name: 'a piece split in two around other text', info: (sig) => `part ${sig.slice(40, 52)} and part ${sig.slice(52, 64)}` },
    { name: 'JSON- and HTML-escaped pieces', info: (sig) => `${sig.slice(at(sig) - 9, at(sig))}\\u002a${sig.slice(at(sig) + 1, at(sig) + 10)} ${sig.slice(at(sig) - 9, at(sig))}&#42;${sig.slice(at(sig) + 1, at(sig) + 10)}` },
    { name: 'a piece of the secret key in upper case', info: () => `key ${LEAK_SECRET_KEY.slice(20, 44).toUpperCase()}` },
  ];
  for (const c of ECHOES) {
    it(`redacts ${c.name} from ErrorInfo`, async () => {
      const server = await startScripted((_req, res, r: Received) =>
        json(res, { ActionStatus: 'FAIL', ErrorCode: 90033, ErrorInfo: c.info(r.query.usersig ?? '') }),
      );
      try {
        const result = await runCli(['get', 'alice', '--retries', '0', '--endpoint', server.url, '--debug'], {
          env: { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_USERSIG: SIG, IMADMIN_SECRET_KEY: LEAK_SECRET_KEY },
        });
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /error 90033: .*<redacted>/);
        assert.deepEqual(windowsIn(result.stdout + result.stderr, SIG), []);
        assert.deepEqual(windowsIn((result.stdout + result.stderr).toLowerCase(), LEAK_SECRET_KEY.toLowerCase()), []);
      } finally {
        await server.close();
      }
    });
  }

  it('redacts before cutting: the --debug body excerpt shows no piece of a UserSig that starts near the cut', async () => {
    const server = await startScripted((_req, res, r: Received) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${'x'.repeat(100)}${r.query.usersig}`));
    try {
      const result = await runCli(['get', 'alice', '--retries', '0', '--endpoint', server.url, '--debug'], {
        env: { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_USERSIG: SIG },
      });
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`body starts "${'x'.repeat(100)}<redacted>"`));
      assert.deepEqual(windowsIn(result.stderr, SIG), []);
    } finally {
      await server.close();
    }
  });

  it('finds a piece in a 10 MB text (one pass; its speed is measured in the benchmark, not here)', () => {
    const index = new FragmentIndex([SIG, TEST_SECRET_KEY]);
    // Spaces around the piece: the filler's letters are in the UserSig alphabet, and a filler
    // character that happens to continue the UserSig would rightly be redacted with the piece.
    const filler = 'abcdefghij0123456789 '.repeat(500_000);
    const text = `${filler} ${SIG.slice(100, 140)} ${filler}`;
    assert.equal(index.redact(text), `${filler} ${REDACTED} ${filler}`);
  });

  it('leaves text without secrets, and pieces shorter than 8 characters, alone', () => {
    const secrets = new Secrets();
    secrets.add(TEST_SECRET_KEY);
    const short = TEST_SECRET_KEY.slice(0, 7);
    assert.equal(secrets.redact(`ordinary text 100% fine & \\u00e9 ${short}`), `ordinary text 100% fine & \\u00e9 ${short}`);
  });
});

describe('--usersig-file keeps the UserSig out of argv', () => {
  const sig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 3600 });
  const ok = (_req: unknown, res: Parameters<typeof json>[0]) => json(res, { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', UserAttrs: [{ To_Account: 'alice', Attrs: {} }] });
  const env = { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN };

  for (const [name, args, stdin] of [
    ['from a file', () => ['--usersig-file', path.join(files.dir, 'sig.txt')], undefined],
    ['from stdin with "-"', () => ['--usersig-file', '-'], `${sig}\n`],
  ] as const) {
    it(`reads the UserSig ${name}, without the argv warning`, async () => {
      writeFileSync(path.join(files.dir, 'sig.txt'), `${sig}\n`);
      const server = await startScripted(ok);
      try {
        const result = await runCli(['get', 'alice', '-o', 'ndjson', '--endpoint', server.url, ...args()], { env, stdin });
        assert.deepEqual({ code: result.code, stderr: result.stderr }, { code: 0, stderr: '' });
        assert.deepEqual(server.requests.map((r) => r.query.usersig), [sig]);
      } finally {
        await server.close();
      }
    });
  }

  it('warns when --usersig is on the command line', async () => {
    const server = await startScripted(ok);
    try {
      const result = await runCli(['get', 'alice', '-o', 'ndjson', '--endpoint', server.url, '--usersig', sig], { env });
      assert.deepEqual(
        { code: result.code, stderr: result.stderr },
        { code: 0, stderr: 'warning: --usersig on the command line can be read by other users of this machine (ps); prefer --usersig-file PATH or IMADMIN_USERSIG\n' },
      );
    } finally {
      await server.close();
    }
  });

  it('refuses --usersig together with --usersig-file', async () => {
    const result = await runCli(['get', 'alice', '--usersig', sig, '--usersig-file', '-'], { env });
    assert.deepEqual(result, {
      code: 2,
      stdout: '',
      stderr: 'im-attrs: --usersig and --usersig-file contradict each other\nhint: give one of them (--usersig-file keeps the UserSig out of ps)\n',
    });
  });
});
