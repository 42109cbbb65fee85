import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createTestSignals } from '../../src/deps.js';
import { createTestIO } from '../../src/io.js';
import { main } from '../../src/main.js';
import { runCli, TEST_SECRET_KEY, useTempDir } from '../helpers/cli.js';

/** Runs `im-attrs emulator <args>` in-process until `use(url)` is done, then sends SIGINT. */
async function withEmulatorCommand(args: string[], use: (url: string) => Promise<void>): Promise<{ code: number; stderr: string }> {
  const stdout = new PassThrough();
  const io = { ...createTestIO(), stdout };
  const errors: string[] = [];
  io.stderr = new PassThrough().on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const signals = createTestSignals();
  const running = main(['node', 'im-attrs', 'emulator', ...args], { io, env: {}, cwd: '/', homeDir: '/', now: () => Date.now(), signals });
  const url = await new Promise<string>((resolve) => stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
  try {
    await use(url);
  } finally {
    signals.emit('SIGINT');
  }
  return { code: await running, stderr: errors.join('') };
}

describe('im-attrs emulator', () => {
  it('answers for the --sdkappid and --identifier it is given, and prints its URL alone on stdout', async () => {
    const result = await withEmulatorCommand(['--sdkappid', '1400000002', '--identifier', 'ops', '--seed-users', '3'], async (url) => {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const env = { IMADMIN_ENDPOINT: url, IMADMIN_SDKAPPID: '1400000002', IMADMIN_IDENTIFIER: 'ops', IMADMIN_SECRET_KEY: TEST_SECRET_KEY };
      const ok = await runCli(['get', 'user000001', '--json'], { env });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, '[\n  {"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"}}\n]\n');
      const otherApp = await runCli(['get', 'user000001', '--json'], { env: { ...env, IMADMIN_SDKAPPID: '1400000000' } });
      assert.equal(otherApp.code, 4);
    });
    assert.equal(result.code, 0);
    assert.equal(
      result.stderr,
      'emulator: SDKAppID 1400000002, administrator "ops", 3 users, UserSig checked for presence only; Ctrl-C stops it\nemulator: stopped\n',
    );
  });

  it('refuses a bad --fail with a usage error', async () => {
    const result = await runCli(['emulator', '--fail', 'bogus:0.5']);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'im-attrs: --fail "bogus:0.5": unknown fault "bogus"; use an error code (91000, 70169, …), http502, http503, reset, timeout or garbage\n',
    );
  });

  const files = useTempDir();

  it('--not-imported and --registration-ids read one account per line; --envelope loose loosens answers', async () => {
    const notImported = files.write('not-imported.txt', 'user000002\n\n  user000003  \n');
    const registrationIds = files.write('reg.txt', 'reg-1\n');
    const args = ['--seed-users', '3', '--not-imported', notImported, '--registration-ids', registrationIds, '--envelope', 'loose', '--fault-seed', '1'];
    const result = await withEmulatorCommand(args, async (url) => {
      const query = 'sdkappid=1400000000&identifier=administrator&usersig=presence-only&random=1&contenttype=json';
      const check = await fetch(`${url}/v4/im_open_login_svc/account_check?${query}`, {
        method: 'POST',
        body: JSON.stringify({ CheckItem: [{ UserID: 'user000001' }, { UserID: 'user000002' }, { UserID: 'user000003' }, { UserID: 'reg-1' }] }),
      });
      // Seed 1's first loose answer has no ErrorInfo, its second no ActionStatus (misc.test.ts pins more).
      assert.deepEqual(await check.json(), {
        ActionStatus: 'OK',
        ErrorCode: 0,
        ResultItem: [
          { UserID: 'user000001', ResultCode: 0, ResultInfo: '', AccountStatus: 'Imported' },
          { UserID: 'user000002', ResultCode: 0, ResultInfo: '', AccountStatus: 'NotImported' },
          { UserID: 'user000003', ResultCode: 0, ResultInfo: '', AccountStatus: 'NotImported' },
          { UserID: 'reg-1', ResultCode: 0, ResultInfo: '', AccountStatus: 'NotImported' },
        ],
      });
      const tags = await fetch(`${url}/v4/timpush/get_tag?${query}`, { method: 'POST', body: JSON.stringify({ To_Account: ['reg-1', 'user000002'] }) });
      assert.deepEqual(await tags.json(), {
        ErrorCode: 0,
        ErrorInfo: '',
        UserTags: [{ To_Account: 'reg-1', Tags: [] }],
        ErrorList: [{ To_Account: 'user000002', ErrorCode: 70107, ErrorInfo: 'account not imported' }],
      });
    });
    assert.equal(result.code, 0);
    assert.match(result.stderr, /^emulator: SDKAppID 1400000000, administrator "administrator", 1 users,/);
  });

  it('refuses an unknown --envelope with a usage error', async () => {
    const result = await runCli(['emulator', '--envelope', 'sloppy']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "im-attrs: option '--envelope <mode>' argument 'sloppy' is invalid. Allowed choices are strict, loose.\n");
  });

  it('--clock-offset, --push-edition and --callback-url with --callback-token-file: the clock is moved, batch runs at the edition\'s rate, callbacks are signed with the token', async () => {
    const received: Array<{ query: URLSearchParams; body: string }> = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ query: new URL(req.url!, 'http://r').searchParams, body: Buffer.concat(chunks).toString() });
        res.end('{"ErrorCode":0}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb`;
    const tokenFile = files.write('token.txt', 'tok-en-1\n');
    const args = ['--seed-users', '2', '--clock-offset', '2d', '--push-edition', 'standard', '--callback-url', callbackUrl, '--callback-token-file', tokenFile, '--rate-limit', '100'];
    const before = Date.now();
    const result = await withEmulatorCommand(args, async (url) => {
      const clock = (await (await fetch(`${url}/_emulator/clock`)).json()) as { now: number; offsetMs: number };
      assert.equal(clock.offsetMs, 2 * 86_400_000);
      assert.ok(clock.now >= before + clock.offsetMs);
      const query = 'sdkappid=1400000000&identifier=administrator&usersig=presence-only&random=1&contenttype=json';
      const codes: number[] = [];
      for (let i = 0; i < 31; i++) {
        const answer = await fetch(`${url}/v4/timpush/batch?${query}`, { method: 'POST', body: JSON.stringify({ To_Account: ['user000001'], MsgRandom: i }) });
        codes.push(((await answer.json()) as { ErrorCode: number }).ErrorCode);
      }
      // 30 a second (standard); a slow machine may spread them over two seconds, never 31 in one.
      assert.ok(codes.filter((c) => c === 0).length >= 30, String(codes));
      while (((await (await fetch(`${url}/_emulator/callbacks`)).json()) as { acknowledged: number; events: number }).acknowledged < 1) await new Promise((r) => setTimeout(r, 5));
    });
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    assert.equal(result.code, 0);
    const first = received[0]!.query;
    assert.equal(first.get('Sign'), createHash('sha256').update(`tok-en-1${first.get('RequestTime')}`).digest('hex'));
    assert.ok(Number(first.get('RequestTime')) * 1000 >= before + 2 * 86_400_000 - 1000, 'RequestTime is the emulator\'s clock');
    assert.equal(result.stderr.includes('tok-en-1'), false);
  });

  const refusals: Array<[string[], string]> = [
    [['--push-edition', 'premium'], "im-attrs: option '--push-edition <edition>' argument 'premium' is invalid. Allowed choices are free, standard, advanced.\n"],
    [['--clock-offset', '2 weeks'], 'im-attrs: --clock-offset "2 weeks": expected milliseconds or a duration such as 90s, 15m, 2h, 3d or -1h\n'],
    [['--callback-url', 'ftp://x/cb'], 'im-attrs: --callback-url "ftp://x/cb": only http and https URLs are supported\n'],
    [['--callback-token-file', 'token.txt'], 'im-attrs: --callback-token-file needs --callback-url\n'],
    [['--callback-url', 'http://127.0.0.1:9/cb', '--callback-duplicates', '1.5'], 'im-attrs: --callback-duplicates "1.5": expected a fraction between 0 and 1, e.g. 0.05\n'],
  ];
  for (const [args, stderr] of refusals) {
    it(`refuses ${args.join(' ')} with a usage error`, async () => {
      const result = await runCli(['emulator', ...args]);
      assert.deepEqual([result.code, result.stderr], [2, stderr]);
    });
  }
});
