/**
 * Hostile servers, one case each: the real CLI (`get alice bob --json`) against a scripted
 * node:http server on loopback that answers garbage, lies, stalls, redirects or floods. Every case
 * must end with the exact exit code and the exact stderr below, stdout must still be valid JSON,
 * and no output (with or without --debug) may hold the UserSig, the secret key or a stack trace.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { MAX_RESPONSE_BYTES } from '../../src/api/client.js';
import { runCli, tempDir, TEST_ADMIN, TEST_SDKAPPID } from '../helpers/cli.js';
import { json, LEAK_SECRET_KEY, requestedAccounts, startScripted, type Received, type ScriptedServer } from './servers.js';

const ACCOUNTS = ['alice', 'bob'];
const ENV = { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_SECRET_KEY: LEAK_SECRET_KEY };
const ARGS = ['get', ...ACCOUNTS, '--json', '--retries', '1', '--retry-delay', '1'];
const NO_SAVE_HINT = 'hint: use --save-failed <path> to collect them for a re-run\n';

/** stderr when both accounts failed the same way after the one retry. */
function retriedOut(reason: string): string {
  return `failed: 2 accounts (${reason} (after 2 attempts)): alice bob\nim-attrs: all 2 accounts failed (2 × ${reason} (after 2 attempts))\n${NO_SAVE_HINT}`;
}

/** stderr when both accounts failed at once (an error the policy does not retry). */
function batchOut(reason: string): string {
  return `failed: 2 accounts (${reason}): alice bob\nim-attrs: all 2 accounts failed (2 × ${reason})\n${NO_SAVE_HINT}`;
}

const OK = { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' };

/** Answers im_get_attr with these UserAttrs (and any extra envelope fields). */
function attrs(userAttrs: unknown, extra: Record<string, unknown> = {}): Script {
  return (_req, res) => json(res, { ...OK, UserAttrs: userAttrs, ...extra });
}

function body(status: number, text: string | Buffer, headers: http.OutgoingHttpHeaders = {}): Script {
  return (_req, res) => {
    res.writeHead(status, { 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
}

type Script = (req: http.IncomingMessage, res: http.ServerResponse, received: Received) => void;

interface Case {
  name: string;
  script: Script | ((server: { otherUrl: string }) => Script);
  extraArgs?: string[];
  exit: number;
  stdout: string;
  stderr: string | ((url: string) => string);
  /** Requests the server must have received. */
  requests: number;
  /** A line --debug must add (the detail behind a short message). */
  debugDetail?: string;
}

const EMPTY = '[]\n';
const alice = '{"To_Account":"alice","Attrs":{"sex":"F"}}';
const bob = '{"To_Account":"bob","Attrs":{"city":"Paris"}}';
const BOTH = `[\n  ${alice},\n  ${bob}\n]\n`;
const host = (url: string): string => new URL(url).host;

/** A gzip body that inflates to 64 MB of zeros: it must never be inflated. */
const GZIP_BOMB = gzipSync(Buffer.alloc(64 * 1024 * 1024));

const cases: Case[] = [
  // Bodies that are not an envelope: retried (a proxy hiccup may pass), then the batch fails.
  {
    name: 'an HTML error page with status 200',
    script: body(200, '<!DOCTYPE html><html><body><h1>Welcome to Hotel WiFi</h1></body></html>', { 'content-type': 'text/html' }),
    exit: 1,
    stdout: EMPTY,
    stderr: retriedOut('the response is an HTML page, not JSON'),
    requests: 2,
    debugDetail: 'the response is an HTML page, not JSON; body starts "<!DOCTYPE html><html><body><h1>Welcome to Hotel WiFi',
  },
  {
    name: 'truncated JSON',
    script: body(200, '{"ActionStatus":"OK","ErrorCode":0,"UserAttrs":[{"To_Account":"ali'),
    exit: 1,
    stdout: EMPTY,
    stderr: retriedOut('the response is cut short or not valid JSON'),
    requests: 2,
    debugDetail: 'the response is cut short or not valid JSON',
  },
  { name: 'an empty body', script: body(200, ''), exit: 1, stdout: EMPTY, stderr: retriedOut('the response is empty'), requests: 2, debugDetail: 'the response is empty' },
  {
    name: 'a JSON array instead of an envelope',
    script: body(200, '[1,2,3]'),
    exit: 1,
    stdout: EMPTY,
    stderr: retriedOut('the response is JSON but not an API envelope (an array)'),
    requests: 2,
    debugDetail: 'the response is JSON but not an API envelope (an array)',
  },
  {
    // A user reported real answers like this (PUSH-FAMILY.md, Corrections 5a): ErrorCode decides.
    name: 'an envelope without ActionStatus (ErrorCode 0 is a success)',
    script: body(200, '{"ErrorCode":0,"UserAttrs":[{"To_Account":"alice","Attrs":{"sex":"F"}},{"To_Account":"bob","Attrs":{"city":"Paris"}}]}'),
    exit: 0,
    stdout: BOTH,
    stderr: '',
    requests: 1,
  },
  {
    name: 'a JSON object with no envelope field at all',
    script: body(200, '{"UserAttrs":[]}'),
    exit: 1,
    stdout: EMPTY,
    stderr: retriedOut('the response is JSON but not an API envelope (no ErrorCode)'),
    requests: 2,
    debugDetail: 'not an API envelope (no ErrorCode)',
  },
  {
    name: 'ActionStatus OK without an ErrorCode (a missing code is a failure)',
    script: body(200, '{"ActionStatus":"OK","UserAttrs":[]}'),
    exit: 1,
    stdout: EMPTY,
    stderr: batchOut('-1 the response has no ErrorCode'),
    requests: 1,
  },
  {
    name: 'an ErrorCode that is not an integer',
    script: body(200, '{"ActionStatus":"OK","ErrorCode":"zero"}'),
    exit: 1,
    stdout: EMPTY,
    stderr: retriedOut("the response's ErrorCode is not an integer"),
    requests: 2,
    debugDetail: "the response's ErrorCode is not an integer",
  },
  {
    name: 'UserAttrs that is not an array',
    script: attrs({ alice: { sex: 'F' } }),
    exit: 1,
    stdout: EMPTY,
    stderr: retriedOut('unexpected response shape: UserAttrs is not an array'),
    requests: 2,
    debugDetail: 'im_get_attr: unexpected response shape: UserAttrs is not an array',
  },
  {
    name: 'a UserAttrs entry without To_Account',
    script: attrs([{ Attrs: { sex: 'F' } }]),
    exit: 1,
    stdout: EMPTY,
    stderr: retriedOut('unexpected response shape: an entry of UserAttrs has no To_Account string'),
    requests: 2,
    debugDetail: 'an entry of UserAttrs has no To_Account string',
  },
  {
    name: 'a gzip bomb the client never asked for',
    script: body(200, GZIP_BOMB, { 'content-encoding': 'gzip', 'content-type': 'application/json' }),
    exit: 1,
    stdout: EMPTY,
    stderr: retriedOut('the response is not JSON'),
    requests: 2,
    debugDetail: 'the response is not JSON',
  },
  {
    name: 'a body that never ends (refused past the 10 MB cap, not buffered)',
    script: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.write('{"ActionStatus":"OK","ErrorCode":0,"UserAttrs":[');
      pump();
    },
    exit: 1,
    stdout: EMPTY,
    stderr: (url) => retriedOut(`the response is larger than 10 MB; refused (${new URL(url).host})`),
    requests: 2,
    debugDetail: `refused: response over ${MAX_RESPONSE_BYTES} bytes`,
  },
  {
    name: 'a Content-Length over the 10 MB cap (refused before reading)',
    script: (_req, res) => {
      res.writeHead(200, { 'content-length': String(MAX_RESPONSE_BYTES + 1) });
      res.write('{');
    },
    exit: 1,
    stdout: EMPTY,
    stderr: (url) => retriedOut(`the response is larger than 10 MB; refused (${new URL(url).host})`),
    requests: 2,
  },
  {
    name: 'a connection reset in the middle of the body',
    script: (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('{"ActionStatus":"OK",', () => res.socket?.destroy());
    },
    exit: 1,
    stdout: EMPTY,
    stderr: (url) => retriedOut(`the connection was reset (${new URL(url).host})`),
    requests: 2,
  },
  {
    name: 'a connection closed before any answer',
    script: (_req, res) => res.socket?.destroy(),
    exit: 1,
    stdout: EMPTY,
    stderr: (url) => retriedOut(`the connection was reset (${new URL(url).host})`),
    requests: 2,
  },
  {
    name: 'a server that dribbles a byte at a time past --timeout',
    script: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 20);
      res.on('close', () => clearInterval(timer));
    },
    extraArgs: ['--timeout', '0.2'],
    exit: 1,
    stdout: EMPTY,
    stderr: (url) => retriedOut(`no complete answer within 0.2 s (${new URL(url).host})`),
    requests: 2,
  },
  { name: 'HTTP 502 with an HTML page', script: body(502, '<html>Bad Gateway</html>'), exit: 1, stdout: EMPTY, stderr: retriedOut('HTTP 502'), requests: 2 },
  { name: 'HTTP 429', script: body(429, ''), exit: 1, stdout: EMPTY, stderr: retriedOut('HTTP 429'), requests: 2 },

  // Statuses that will not get better: the run stops with the server's status and a hint.
  {
    name: 'a 302 redirect to another host, which is not followed',
    script: ({ otherUrl }: { otherUrl: string }): Script => (_req, res) => {
      res.writeHead(302, { location: `${otherUrl}/v4/all_member_push/im_get_attr?usersig=stolen`, 'content-length': '0' });
      res.end();
    },
    exit: 1,
    stdout: EMPTY,
    stderr: (url) =>
      `im-attrs: im_get_attr: HTTP 302 redirect to http://127.0.0.1:OTHER from ${host(url)}, not followed\n` +
      'hint: im-attrs does not follow redirects with the UserSig attached: set `endpoint` to the address that answers\n',
    requests: 1,
  },
  {
    name: 'HTTP 404',
    script: body(404, 'Not Found'),
    exit: 1,
    stdout: EMPTY,
    stderr: (url) =>
      `im-attrs: im_get_attr: HTTP 404 from ${host(url)}\nhint: check \`endpoint\`: it must be the API origin, e.g. https://adminapisgp.im.qcloud.com\n`,
    requests: 1,
  },
  {
    name: 'HTTP 403 from a gateway',
    script: body(403, 'Forbidden'),
    exit: 1,
    stdout: EMPTY,
    stderr: (url) =>
      `im-attrs: im_get_attr: HTTP 403 from ${host(url)}\n` +
      `hint: something in front of the API refused the request: check \`endpoint\` and any gateway or proxy on the way to ${host(url)}\n`,
    requests: 1,
  },
  { name: 'HTTP 400', script: body(400, ''), exit: 1, stdout: EMPTY, stderr: (url) =>
      `im-attrs: im_get_attr: HTTP 400 from ${host(url)}\n` +
      'hint: check `endpoint`: the Chat REST API answers 200 even to bad requests, so this is something else\n', requests: 1 },

  // Envelopes that contradict themselves, or codes nobody documented.
  {
    name: 'ActionStatus OK with a non-zero ErrorCode (the code wins)',
    script: body(200, '{"ActionStatus":"OK","ErrorCode":90033,"ErrorInfo":"invalid attr"}'),
    exit: 1,
    stdout: EMPTY,
    stderr: batchOut('90033 invalid attr'),
    requests: 1,
  },
  {
    name: 'ActionStatus OK with a retryable ErrorCode sent as a string',
    script: body(200, '{"ActionStatus":"OK","ErrorCode":"91000","ErrorInfo":"busy"}'),
    exit: 1,
    stdout: EMPTY,
    stderr: retriedOut('91000 busy'),
    requests: 2,
  },
  {
    // A self-contradicting answer is read as a failure, named with the server's text.
    name: 'ActionStatus FAIL with ErrorCode 0 is a failure, whatever else it holds',
    script: body(200, '{"ActionStatus":"FAIL","ErrorCode":0,"ErrorInfo":"sucess","UserAttrs":[{"To_Account":"alice","Attrs":{"sex":"F"}},{"To_Account":"bob","Attrs":{"city":"Paris"}}]}'),
    exit: 1,
    stdout: EMPTY,
    stderr: batchOut('-1 ActionStatus "FAIL" with ErrorCode 0: sucess'),
    requests: 1,
  },
  {
    // The bad byte reads as U+FFFD, and the account is named: never taken for what the server holds.
    name: 'a value that is not UTF-8 is printed with U+FFFD and its account named in a warning',
    script: body(
      200,
      Buffer.concat([
        Buffer.from('{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserAttrs":[{"To_Account":"alice","Attrs":{"city":"Par'),
        Buffer.from([0xff]),
        Buffer.from('s"}},{"To_Account":"bob","Attrs":{}}]}'),
      ]),
    ),
    exit: 0,
    stdout: '[\n  {"To_Account":"alice","Attrs":{"city":"Par\ufffds"}},\n  {"To_Account":"bob","Attrs":{}}\n]\n',
    stderr: 'warning: the server sent bytes that are not UTF-8 for account "alice": shown as U+FFFD (\ufffd), not what the server holds\n',
    requests: 1,
  },
  {
    name: 'ActionStatus FAIL without an ErrorCode but with an ErrorInfo',
    script: body(200, '{"ActionStatus":"FAIL","ErrorInfo":"something broke"}'),
    exit: 1,
    stdout: EMPTY,
    stderr: batchOut('-1 something broke'),
    requests: 1,
  },
  {
    name: 'an unknown error code without ErrorInfo',
    script: body(200, '{"ActionStatus":"FAIL","ErrorCode":12345}'),
    exit: 1,
    stdout: EMPTY,
    stderr: batchOut('12345 unknown error code'),
    requests: 1,
  },
  {
    name: 'an ErrorInfo that echoes the UserSig, with terminal escapes, 5,000 characters long',
    script: (_req, res, received) =>
      json(res, {
        ActionStatus: 'FAIL',
        ErrorCode: 90033,
        ErrorInfo: `bad sig ${received.query.usersig} \u001b]0;pwned\u0007\u001b[2J\u202e${'x'.repeat(5000)}`,
      }),
    exit: 1,
    stdout: EMPTY,
    stderr: batchOut(`90033 bad sig <redacted> \\u001b]0;pwned\\u0007\\u001b[2J\\u202e${'x'.repeat(146)}…`),
    requests: 1,
  },

  // Per-account trouble: that account fails with the reason, the others are printed.
  {
    name: 'Attrs that is not an object for one account',
    script: attrs([{ To_Account: 'alice', Attrs: 'sex=F' }, { To_Account: 'bob', Attrs: { city: 'Paris' } }]),
    exit: 5,
    stdout: `[\n  ${bob}\n]\n`,
    stderr:
      'failed: 1 account (unexpected response shape: Attrs is a string, not an object): alice\n' +
      'im-attrs: 1 account failed (1 × unexpected response shape: Attrs is a string, not an object); the others were printed\n' +
      NO_SAVE_HINT,
    requests: 1,
  },
  {
    name: 'an attribute value that is an object',
    script: attrs([{ To_Account: 'alice', Attrs: { sex: { value: 'F' } } }, { To_Account: 'bob', Attrs: { city: 'Paris' } }]),
    exit: 5,
    stdout: `[\n  ${bob}\n]\n`,
    stderr:
      'failed: 1 account (unexpected response shape: attribute "sex" is an object, not a string): alice\n' +
      'im-attrs: 1 account failed (1 × unexpected response shape: attribute "sex" is an object, not a string); the others were printed\n' +
      NO_SAVE_HINT,
    requests: 1,
  },
  {
    name: 'numbers and booleans as attribute values (kept as text)',
    script: attrs([{ To_Account: 'bob', Attrs: { level: 3, vip: true } }, { To_Account: 'alice', Attrs: { sex: 'F' } }]),
    exit: 0,
    stdout: `[\n  ${alice},\n  {"To_Account":"bob","Attrs":{"level":"3","vip":"true"}}\n]\n`,
    stderr: '',
    requests: 1,
  },
  {
    name: 'accounts that were not requested (ignored, never printed)',
    script: attrs([
      { To_Account: 'mallory', Attrs: { sex: 'M' } },
      { To_Account: '__proto__', Attrs: { sex: 'M' } },
      { To_Account: 'bob', Attrs: { city: 'Paris' } },
      { To_Account: 'alice', Attrs: { sex: 'F' } },
    ]),
    exit: 0,
    stdout: BOTH,
    stderr: '',
    requests: 1,
    debugDetail: 'im_get_attr: ignored 2 entries for accounts not requested and 0 duplicates',
  },
  {
    name: 'a duplicated account (the first answer is kept)',
    script: attrs([
      { To_Account: 'alice', Attrs: { sex: 'F' } },
      { To_Account: 'bob', Attrs: { city: 'Paris' } },
      { To_Account: 'alice', Attrs: { sex: 'M' } },
    ]),
    exit: 0,
    stdout: BOTH,
    stderr: '',
    requests: 1,
    debugDetail: 'im_get_attr: ignored 0 entries for accounts not requested and 1 duplicate',
  },
  {
    name: 'a requested account missing from the answer, with its ErrorList entry',
    script: attrs([{ To_Account: 'bob', Attrs: { city: 'Paris' } }], {
      ErrorList: [{ To_Account: 'alice', ErrorCode: 70107, ErrorInfo: 'account not imported' }],
    }),
    exit: 5,
    stdout: `[\n  ${bob}\n]\n`,
    stderr:
      'failed: 1 account (70107 account not imported): alice\n' +
      'im-attrs: 1 account failed (1 × 70107 account not imported); the others were printed\n' +
      NO_SAVE_HINT,
    requests: 1,
  },
];

/** Lines of a JavaScript stack trace: never shown, even with --debug the message carries the detail. */
const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

describe('hostile servers: every bad answer ends with a clear message', () => {
  let other: ScriptedServer;
  const files = tempDir();
  before(async () => {
    // The redirect target: it must never receive a request (the UserSig would go with it).
    other = await startScripted((_req, res) => json(res, OK));
  });
  after(async () => {
    await other.close();
    files.cleanup();
  });

  for (const c of cases) {
    it(`${c.name}: exit ${c.exit}`, async () => {
      const script = c.script.length === 1 ? (c.script as (s: { otherUrl: string }) => Script)({ otherUrl: other.url }) : (c.script as Script);
      const server = await startScripted(script);
      try {
        const args = [...ARGS, ...(c.extraArgs ?? []), '--endpoint', server.url];
        const result = await runCli(args, { env: ENV });
        const expected = typeof c.stderr === 'function' ? c.stderr(server.url) : c.stderr;
        assert.equal(result.stderr.replace(`:${other.port}`, ':OTHER'), expected);
        assert.equal(result.code, c.exit);
        assert.equal(result.stdout, c.stdout);
        JSON.parse(result.stdout);
        assert.equal(server.requests.length, c.requests);
        for (const r of server.requests) {
          assert.equal(r.path, '/v4/all_member_push/im_get_attr');
          assert.deepEqual(requestedAccounts(r), ACCOUNTS);
          assert.equal(r.headers['accept-encoding'], undefined, 'no compression asked for');
        }
        assert.equal(other.requests.length, 0, 'the redirect was not followed');

        // The same case with --debug --verbose and --save-failed: more detail, still no secret.
        const saved = path.join(files.dir, 'failed.txt');
        const debug = await runCli([...args, '--debug', '--verbose', '--save-failed', saved], { env: ENV });
        assert.equal(debug.code, c.exit);
        assert.equal(debug.stdout, c.stdout);
        const everything = debug.stdout + debug.stderr + result.stderr + readFileSync(saved, 'utf8');
        assert.ok(!everything.includes(LEAK_SECRET_KEY), 'the secret key leaked');
        for (const sig of server.userSigs()) assert.ok(!everything.includes(sig), 'a UserSig leaked');
        assert.doesNotMatch(everything, STACK_LINE);
        assert.match(debug.stderr, /debug: POST http:\/\/127\.0\.0\.1:\d+\/v4\/all_member_push\/im_get_attr\?sdkappid=1400000000&identifier=administrator&usersig=<redacted>&random=\d+&contenttype=json/);
        if (c.debugDetail) assert.ok(debug.stderr.includes(c.debugDetail), `--debug shows "${c.debugDetail}":\n${debug.stderr}`);
      } finally {
        await server.close();
      }
    });
  }
});
