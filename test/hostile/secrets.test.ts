/**
 * Secrets under every error path: a recognisable UserSig (from the environment or --usersig) and
 * a recognisable secret key must never appear in stdout, stderr, --debug traces, error messages
 * or the --save-failed file, even when the server echoes the UserSig back in ErrorInfo, in an
 * HTML page or in a redirect. (test/hostile/responses.test.ts scans every bad-answer case with a
 * signing key; this file adds a fixed UserSig and the servers that echo it.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { generate } from '../../src/usersig.js';
import { runCli, tempDir, TEST_ADMIN, TEST_SDKAPPID } from '../helpers/cli.js';
import { closedPort, json, LEAK_SECRET_KEY, selfSignedCertificate, startScripted, type Received, type Script } from './servers.js';

const files = tempDir();
after(() => files.cleanup());
const certificate = selfSignedCertificate(files.dir, []);

/** A valid admin UserSig for a day, signed with the recognisable key. */
const LEAK_USERSIG = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: LEAK_SECRET_KEY, expireSeconds: 86_400 });

const echoUrl = (req: { url?: string | undefined }): string => `http://api.example${req.url ?? ''}`;

const servers: Array<{ name: string; script: Script; exit: number; tls?: boolean }> = [
  {
    name: 'ErrorInfo that echoes the UserSig',
    script: (_req, res, r: Received) => json(res, { ActionStatus: 'FAIL', ErrorCode: 90033, ErrorInfo: `bad usersig ${r.query.usersig} (${encodeURIComponent(r.query.usersig ?? '')})` }),
    exit: 1,
  },
  {
    name: 'an HTML page that echoes the whole URL',
    script: (req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>you asked for ${echoUrl(req)}</html>`),
    exit: 1,
  },
  {
    name: 'a redirect whose Location carries the UserSig',
    script: (req, res) => res.writeHead(307, { location: echoUrl(req) }).end(),
    exit: 1,
  },
  { name: 'UserSig expired (70001) again and again', script: (_req, res) => json(res, { ActionStatus: 'FAIL', ErrorCode: 70001, ErrorInfo: 'sig expired' }), exit: 4 },
  { name: 'wrong administrator (60010)', script: (_req, res) => json(res, { ActionStatus: 'FAIL', ErrorCode: 60010, ErrorInfo: 'not admin' }), exit: 4 },
  { name: 'a reset connection', script: (_req, res) => res.socket?.destroy(), exit: 1 },
  { name: 'HTTP 500', script: (_req, res) => res.writeHead(500).end(), exit: 1 },
  { name: 'a self-signed certificate', script: (_req, res) => json(res, {}), exit: 3, tls: true },
];

const credentials: Array<{ name: string; env: Record<string, string>; args: string[] }> = [
  { name: 'IMADMIN_USERSIG', env: { IMADMIN_USERSIG: LEAK_USERSIG }, args: [] },
  { name: '--usersig', env: {}, args: ['--usersig', LEAK_USERSIG] },
  { name: 'a UserSig and the secret key (re-signed on 70001)', env: { IMADMIN_USERSIG: LEAK_USERSIG, IMADMIN_SECRET_KEY: LEAK_SECRET_KEY }, args: [] },
];

/**
 * Where a secret could hide in a message: the value, its URL-encoded form, and its last 40
 * characters (a message cut short mid-secret; the first characters of every UserSig for one app
 * are the same zlib header and are no secret).
 */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), secret.slice(-40)];
}

describe('no secret in any output, whatever fails', () => {
  for (const s of servers) {
    for (const c of credentials) {
      it(`${s.name}, with ${c.name}`, { skip: s.tls && typeof certificate === 'string' ? certificate : false }, async () => {
        const server = await startScripted(s.script, s.tls && typeof certificate !== 'string' ? certificate : undefined);
        const saved = path.join(files.dir, 'failed.txt');
        rmSync(saved, { force: true });
        try {
          const result = await runCli(
            ['get', 'alice', 'bob', '--json', '--retries', '1', '--retry-delay', '1', '--endpoint', server.url, '--debug', '--verbose', '--save-failed', saved, ...c.args],
            { env: { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, ...c.env } },
          );
          assert.equal(result.code, s.exit, result.stderr);
          const output = result.stdout + result.stderr + (existsSync(saved) ? readFileSync(saved, 'utf8') : '');
          for (const secret of [LEAK_USERSIG, LEAK_SECRET_KEY, ...server.userSigs()]) {
            for (const form of forms(secret)) assert.ok(!output.includes(form), `leaked ${form.slice(0, 12)}…:\n${output}`);
          }
          assert.match(result.stderr, /usersig=<redacted>/);
        } finally {
          await server.close();
        }
      });
    }
  }

  it('keeps the UserSig out of a connection error against a closed port', async () => {
    const port = await closedPort();
    const result = await runCli(['get', 'alice', '--retries', '0', '--endpoint', `http://127.0.0.1:${port}`, '--debug'], {
      env: { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_USERSIG: LEAK_USERSIG },
    });
    assert.equal(result.code, 1);
    for (const form of forms(LEAK_USERSIG)) assert.ok(!result.stderr.includes(form));
  });
});
