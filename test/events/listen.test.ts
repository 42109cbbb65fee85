import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import { callbackSign } from '../../src/events/sign.js';
import { useTempDir } from '../helpers/cli.js';
import { APP, callbackUrl, envWithToken, request, runEvents, sampleEvent, sendCallback, startListen, TOKEN } from './helpers.js';

const OK = { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0 };

/** C1 (DELIVERY.md, trtc.io/document/34354): the doc's token, time and Sign. */
const C1 = { token: 'xxxxyyyy', requestTime: 1669872112, sign: '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061' };

/** Our clock for a test: fixed, so RequestTime windows never depend on when the test runs. */
const NOW_SEC = 1_700_000_000;
const now = (): number => NOW_SEC * 1000;

const lines = (file: string): unknown[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as unknown)
    : [];

describe('push events listen', () => {
  const tmp = useTempDir();
  let n = 0;
  const outFile = (): string => path.join(tmp.dir, `events-${++n}.ndjson`);

  it('accepts the doc test vector C1 (token xxxxyyyy, RequestTime 1669872112, its Sign verbatim) and writes the event', async () => {
    assert.equal(callbackSign(C1.token, String(C1.requestTime)), C1.sign);
    const out = outFile();
    const listen = await startListen({ out }, { cwd: tmp.dir, env: envWithToken({ IMADMIN_CALLBACK_TOKEN: C1.token }), now: () => C1.requestTime * 1000 + 3000 });
    const answer = await sendCallback(listen.url, [sampleEvent()], { sign: C1.sign, requestTime: C1.requestTime, token: C1.token });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, OK);
    const result = await listen.stop();
    assert.equal(result.code, 0);
    assert.deepEqual(lines(out), [sampleEvent()]);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.match(result.stderr, /events: stopped; 1 request, 1 event written in 1 write; none refused\n$/);
  });

  it('refuses a tampered Sign, a missing one, an old or future RequestTime and another SdkAppid with 401, and writes nothing', async () => {
    const out = outFile();
    const listen = await startListen({ out }, { cwd: tmp.dir, env: envWithToken(), now });
    const good = callbackSign(TOKEN, String(NOW_SEC));
    const tampered = (good[0] === '0' ? '1' : '0') + good.slice(1);
    const cases: Array<[string, Parameters<typeof sendCallback>[2], string]> = [
      ['tampered Sign', { requestTime: NOW_SEC, sign: tampered }, 'Sign does not match the token and RequestTime: another token, or a forged or altered URL'],
      ['another token', { requestTime: NOW_SEC, token: 'someone-elses-token' }, 'Sign does not match the token and RequestTime: another token, or a forged or altered URL'],
      ['no Sign', { requestTime: NOW_SEC, sign: '' }, 'the URL has no Sign: is callback authentication on in the Chat console?'],
      ['95 s old', { requestTime: NOW_SEC - 95 }, 'RequestTime is 95 s in the past: clocks differ or a replay (at most 60 s allowed)'],
      ['61 s ahead', { requestTime: NOW_SEC + 61 }, 'RequestTime is 61 s in the future: clocks differ (check NTP on this machine) (at most 60 s allowed)'],
      ['another app', { requestTime: NOW_SEC, sdkAppId: 1400000001 }, 'SdkAppid "1400000001" is not this app (1400000000)'],
    ];
    for (const [name, options, why] of cases) {
      const answer = await sendCallback(listen.url, [sampleEvent()], options);
      assert.equal(answer.status, 401, name);
      assert.deepEqual(answer.json, { ActionStatus: 'FAIL', ErrorCode: 1, ErrorInfo: why }, name);
    }
    // 60 s either way is inside the window.
    assert.equal((await sendCallback(listen.url, [sampleEvent({ To_Account: 'edge-past' })], { requestTime: NOW_SEC - 60 })).status, 200);
    assert.equal((await sendCallback(listen.url, [sampleEvent({ To_Account: 'edge-future' })], { requestTime: NOW_SEC + 60 })).status, 200);
    const result = await listen.stop();
    assert.deepEqual(
      lines(out).map((e) => (e as { To_Account: string }).To_Account),
      ['edge-past', 'edge-future'],
    );
    assert.match(result.stderr, /events: stopped; 8 requests, 2 events written in 2 writes; refused: 2 bad Sign, 2 RequestTime out of the window, 1 without Sign, 1 another SdkAppid\n$/);
    assert.ok(!result.stderr.includes(TOKEN.slice(0, 8)));
  });

  it('answers 400 for bodies that are no callback, 413 when too large, 405 not POST, 404 another path, 200 on /healthz, and writes nothing', async () => {
    const out = outFile();
    const listen = await startListen({ out, path: '/cb' }, { cwd: tmp.dir, env: envWithToken(), now });
    const at = { requestTime: NOW_SEC, path: '/cb' };
    const hundredOne = Array.from({ length: 101 }, (_, i) => sampleEvent({ To_Account: `u${i}` }));
    const cases: Array<[string, Parameters<typeof sendCallback>[1], Parameters<typeof sendCallback>[2], number, string]> = [
      ['not JSON', undefined, { ...at, body: '{"Events":[' }, 400, 'the body is not JSON'],
      ['an array', undefined, { ...at, body: '[]' }, 400, 'the body is not a JSON object'],
      ['no Events', undefined, { ...at, body: '{"events":[]}' }, 400, 'the body has no Events array'],
      ['empty Events', [], at, 400, 'Events holds 0 events; a callback carries 1 to 100'],
      ['101 events', hundredOne, at, 400, 'Events holds 101 events; a callback carries 1 to 100'],
      ['a string event', [sampleEvent(), 'x'], at, 400, 'Events[1] is not an object'],
      ['no To_Account', [sampleEvent({ To_Account: undefined })], at, 400, 'Events[0] has no To_Account (a non-empty string)'],
      ['PushStage 4', [sampleEvent({ PushStage: 4 })], at, 400, 'Events[0]: PushStage must be 1 (sent), 2 (reached) or 3 (clicked)'],
      ['no PushStage', [sampleEvent({ PushStage: undefined })], at, 400, 'Events[0]: PushStage must be 1 (sent), 2 (reached) or 3 (clicked)'],
      ['TaskId a number', [sampleEvent({ TaskId: 7 })], at, 400, 'Events[0]: TaskId must be a string'],
      ['PushPlatform a string', [sampleEvent({ PushPlatform: '1' })], at, 400, 'Events[0]: PushPlatform must be a whole number'],
      ['another CallbackCommand', [sampleEvent()], { ...at, command: 'Group.CallbackAfterNewMemberJoin' }, 400, 'CallbackCommand "Group.CallbackAfterNewMemberJoin" is not Push.AllMemberPush'],
      ['over 1 MiB', undefined, { ...at, body: Buffer.alloc(1024 * 1024 + 1, 0x20) }, 413, 'the body is 1048577 bytes; at most 1048576'],
      ['GET', undefined, { ...at, method: 'GET', body: '' }, 405, 'GET is not POST'],
      ['another path', [sampleEvent()], { ...at, path: '/other' }, 404, 'no callback at /other'],
    ];
    for (const [name, events, options, status, why] of cases) {
      const answer = await sendCallback(listen.url, events, options);
      assert.equal(answer.status, status, name);
      assert.deepEqual(answer.json, { ActionStatus: 'FAIL', ErrorCode: 1, ErrorInfo: why }, name);
    }
    const health = await request(new URL('/healthz', listen.url).toString(), 'GET');
    assert.deepEqual([health.status, health.json], [200, { ok: true }]);
    await listen.stop();
    assert.deepEqual(lines(out), []);
  });

  it('refuses a body that grows past 1 MiB without a Content-Length (chunked), with 413', async () => {
    const out = outFile();
    const listen = await startListen({ out }, { cwd: tmp.dir, env: envWithToken(), now });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(callbackUrl(listen.url, { requestTime: NOW_SEC }), { method: 'POST', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      // 17 chunks of 64 KiB: one more than 1 MiB. The listener answers before the end; writes after that may fail.
      for (let i = 0; i < 17; i++) req.write(chunk);
      req.end();
    });
    assert.equal(status, 413);
    await listen.stop();
    assert.deepEqual(lines(out), []);
  });

  it('accepts events without TaskId, DataId or DeviceType and with a null ErrInfo, keeping them as sent', async () => {
    const out = outFile();
    const listen = await startListen({ out }, { cwd: tmp.dir, env: envWithToken(), now });
    const bare = { EventType: 2, EventTime: 1557481128, To_Account: 'user3', PushPlatform: 0, PushStage: 2, ErrCode: 0, ErrInfo: null };
    const answer = await sendCallback(listen.url, [bare, sampleEvent({ TaskId: null, DataId: null })], { requestTime: NOW_SEC, command: null });
    assert.deepEqual([answer.status, answer.json], [200, OK]);
    await listen.stop();
    assert.deepEqual(lines(out), [bare, sampleEvent({ TaskId: null, DataId: null })]);
  });

  it('acknowledges 40 concurrent requests of 100 events each only with all 4,000 lines on disk', async () => {
    const out = outFile();
    const listen = await startListen({ out }, { cwd: tmp.dir, env: envWithToken(), now });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, r) =>
        sendCallback(
          listen.url,
          Array.from({ length: 100 }, (_, i) => sampleEvent({ To_Account: `r${r}-u${i}` })),
          { requestTime: NOW_SEC },
        ).then((answer) => {
          // At the moment of each answer, its 100 lines are in the file.
          const onDisk = new Set(lines(out).map((e) => (e as { To_Account: string }).To_Account));
          for (let i = 0; i < 100; i++) assert.ok(onDisk.has(`r${r}-u${i}`), `r${r}-u${i} answered before it was written`);
          return answer;
        }),
      ),
    );
    assert.ok(answers.every((a) => a.status === 200));
    const result = await listen.stop();
    const written = lines(out).map((e) => (e as { To_Account: string }).To_Account);
    assert.equal(written.length, 4000);
    assert.equal(new Set(written).size, 4000);
    assert.match(result.stderr, /events: stopped; 40 requests, 4,000 events written in \d+ writes; none refused\n$/);
  });

  it('answers 500 and acknowledges nothing when the out file cannot be written (/dev/full), saying why on stderr', { skip: !existsSync('/dev/full') }, async () => {
    const listen = await startListen({ out: '/dev/full' }, { cwd: tmp.dir, env: envWithToken(), now });
    const answer = await sendCallback(listen.url, [sampleEvent()], { requestTime: NOW_SEC });
    assert.deepEqual([answer.status, answer.json], [500, { ActionStatus: 'FAIL', ErrorCode: 1, ErrorInfo: 'the events could not be written; send them again' }]);
    const result = await listen.stop();
    assert.match(result.stderr, /events: 1 events not written, answered 500 \(Tencent sends them again\): cannot append to \/dev\/full: ENOSPC: no space left on device, write\n/);
    assert.match(result.stderr, /events: stopped; 1 request, 0 events written in 0 writes; refused: 1 write failed\n$/);
  });

  it('refuses the batch written to an out file removed under it (500), then writes to the file created again', async () => {
    const out = outFile();
    const listen = await startListen({ out }, { cwd: tmp.dir, env: envWithToken(), now });
    assert.equal((await sendCallback(listen.url, [sampleEvent({ To_Account: 'before' })], { requestTime: NOW_SEC })).status, 200);
    rmSync(out);
    assert.equal((await sendCallback(listen.url, [sampleEvent({ To_Account: 'lost' })], { requestTime: NOW_SEC })).status, 500);
    assert.equal((await sendCallback(listen.url, [sampleEvent({ To_Account: 'resent' })], { requestTime: NOW_SEC })).status, 200);
    const result = await listen.stop();
    assert.deepEqual(lines(out).map((e) => (e as { To_Account: string }).To_Account), ['resent']);
    assert.match(result.stderr, / was removed while the listener ran; it is created again for the next events\n/);
  });

  it('on SIGTERM stops accepting, answers the request under way once written, and exits 0 with the counts', async () => {
    const out = outFile();
    const listen = await startListen({ out }, { cwd: tmp.dir, env: envWithToken(), now });
    const body = JSON.stringify({ Events: [sampleEvent({ To_Account: 'in-flight' })] });
    let headersSeen!: () => void;
    const arrived = new Promise<void>((resolve) => (headersSeen = resolve));
    const req = http.request(callbackUrl(listen.url, { requestTime: NOW_SEC }), { method: 'POST', agent: false, headers: { 'content-length': Buffer.byteLength(body) } });
    const answered = new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
    });
    req.flushHeaders();
    req.write(body.slice(0, 10));
    // Wait (on events, not on time) until the listener has the request's headers.
    const poll = (): void => {
      if (listen.listener.stats.requests > 0) headersSeen();
      else setImmediate(poll);
    };
    poll();
    await arrived;
    const stopped = listen.stop('SIGTERM');
    // A new connection is refused once stopping.
    await assert.rejects(request(callbackUrl(listen.url, { requestTime: NOW_SEC }), 'POST', body), /ECONNREFUSED/);
    req.end(body.slice(10));
    const answer = await answered;
    assert.deepEqual([answer.status, answer.connection, JSON.parse(answer.text)], [200, 'close', OK]);
    const result = await stopped;
    assert.equal(result.code, 0);
    assert.deepEqual(lines(out).map((e) => (e as { To_Account: string }).To_Account), ['in-flight']);
    assert.match(result.stderr, /events: stopping: answering the requests under way\nevents: stopped; 1 request, 1 event written in 1 write; none refused\n$/);
  });

  it('prints a line per request with -v, and the token nowhere: not in stderr, stdout, the file or the answers', async () => {
    const out = outFile();
    const listen = await startListen({ out }, { cwd: tmp.dir, env: envWithToken(), now, globals: { verbose: true, debug: true } });
    const answers = [
      await sendCallback(listen.url, [sampleEvent()], { requestTime: NOW_SEC }),
      await sendCallback(listen.url, [sampleEvent()], { requestTime: NOW_SEC, sign: callbackSign(TOKEN, String(NOW_SEC + 1)) }),
      await sendCallback(listen.url, [sampleEvent({ To_Account: TOKEN })], { requestTime: NOW_SEC - 600 }),
    ];
    const result = await listen.stop();
    assert.match(result.stderr, /events: POST 200 1 event \(\d+ ms\)\nevents: POST 401: Sign does not match the token and RequestTime: another token, or a forged or altered URL \(\d+ ms\)\nevents: POST 401: RequestTime is 600 s in the past/);
    for (const text of [result.stderr, result.stdout, readFileSync(out, 'utf8'), ...answers.map((a) => a.body)]) {
      assert.ok(!text.includes(TOKEN.slice(0, 8)) && !text.includes(TOKEN.slice(-8)), text);
    }
  });

  it('writes to stdout without --out', async () => {
    const listen = await startListen({}, { cwd: tmp.dir, env: envWithToken(), now });
    assert.equal((await sendCallback(listen.url, [sampleEvent()], { requestTime: NOW_SEC })).status, 200);
    const result = await listen.stop();
    assert.equal(result.stdout, `${JSON.stringify(sampleEvent())}\n`);
  });

  it('refuses to start without a token, with a token flag, with a short token, or without sdkAppId', async () => {
    const cases: Array<[string[], Record<string, string>, number, string]> = [
      [[], { IMADMIN_SDKAPPID: String(APP) }, 3, 'im-attrs: no callback token: `callbackToken` is not configured\nhint: set `callbackToken` in .imadminrc (e.g. "callbackToken": "${IMADMIN_CALLBACK_TOKEN}") or IMADMIN_CALLBACK_TOKEN, or pass --token-file FILE ("-" reads stdin); it is the token set for callback authentication in the Chat console\n'],
      [['--token', TOKEN], envWithToken(), 2, 'im-attrs: the callback token is never a flag value: on the command line it ends up in shell history and process lists\n'],
      [[], envWithToken({ IMADMIN_CALLBACK_TOKEN: 'short' }), 3, 'im-attrs: the callback token (from env IMADMIN_CALLBACK_TOKEN) is shorter than 8 characters\n'],
      [[], { IMADMIN_CALLBACK_TOKEN: TOKEN }, 3, 'im-attrs: sdkAppId (the SDKAppID whose callbacks are accepted) is not configured\n'],
      [['--port', '70000'], envWithToken(), 2, 'im-attrs: --port must be a whole number from 0 to 65535, not "70000"\n'],
      [['--path', 'cb'], envWithToken(), 2, 'im-attrs: --path "cb" must be a URL path starting with /, without a query\n'],
      [['--out', 'no/such/dir/events.ndjson'], envWithToken(), 2, `im-attrs: --out: ${path.join(tmp.dir, 'no/such/dir/events.ndjson')} cannot be opened for appending: no such file\nhint: give a file in a directory that exists and that you can write\n`],
    ];
    for (const [args, env, code, start] of cases) {
      const result = await runEvents(['events', 'listen', '--port', '0', ...args], { cwd: tmp.dir, env });
      assert.equal(result.code, code, result.stderr);
      assert.ok(result.stderr.startsWith(start), result.stderr);
      assert.ok(!result.stderr.includes(TOKEN.slice(0, 8)));
    }
  });

  it('reads the token from --token-file and from a config file with ${VAR}', async () => {
    const tokenFile = tmp.write('token.txt', `${TOKEN}\n`);
    const fromFile = await startListen({ tokenFile }, { cwd: tmp.dir, env: { IMADMIN_SDKAPPID: String(APP) }, now });
    assert.equal((await sendCallback(fromFile.url, [sampleEvent()], { requestTime: NOW_SEC })).status, 200);
    assert.match((await fromFile.stop()).stderr, /token from --token-file .*token\.txt;/);
    const config = tmp.write('rc.json', JSON.stringify({ sdkAppId: APP, callbackToken: '${MY_CB_TOKEN}' }));
    writeFileSync(config, JSON.stringify({ sdkAppId: APP, callbackToken: '${MY_CB_TOKEN}' }), { mode: 0o600 });
    const fromConfig = await startListen({}, { cwd: tmp.dir, env: { IMADMIN_CONFIG: config, MY_CB_TOKEN: TOKEN }, now });
    assert.equal((await sendCallback(fromConfig.url, [sampleEvent()], { requestTime: NOW_SEC })).status, 200);
    const stopped = await fromConfig.stop();
    assert.match(stopped.stderr, /token from .*rc\.json;/);
    assert.ok(!stopped.stderr.includes(TOKEN.slice(0, 8)));
  });
});

