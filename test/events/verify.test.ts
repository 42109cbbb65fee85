import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FileSink } from '../../src/events/appender.js';
import { callbackSign } from '../../src/events/sign.js';
import { useTempDir } from '../helpers/cli.js';
import { APP, runEvents } from './helpers.js';

/** C1 (DELIVERY.md, trtc.io/document/34354). */
const C1_SIGN = '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061';
const C1_TIME = 1669872112;
const C1_URL = `https://www.example.com/?SdkAppid=${APP}&CallbackCommand=Push.AllMemberPush&contenttype=json&Sign=${C1_SIGN}&RequestTime=${C1_TIME}`;
const env = { IMADMIN_SDKAPPID: String(APP), IMADMIN_CALLBACK_TOKEN: 'xxxxyyyy' };
const at = (seconds: number) => () => seconds * 1000;

describe('push events verify', () => {
  const tmp = useTempDir();

  it('says valid for the doc test vector C1, with what it checked', async () => {
    const result = await runEvents(['events', 'verify', C1_URL], { cwd: tmp.dir, env, now: at(C1_TIME + 3) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      'valid: Sign matches the token (from env IMADMIN_CALLBACK_TOKEN); RequestTime is 3 s in the past, within 60 s (2022-12-01T05:21:52Z); SdkAppid 1400000000 is this app\n',
    );
    assert.equal(result.stderr, '');
  });

  it('says invalid, exit 4, with every reason: a tampered Sign, an old RequestTime, another app, another command', async () => {
    const tampered = C1_URL.replace('Sign=1', 'Sign=2').replace(`SdkAppid=${APP}`, 'SdkAppid=1400000009').replace('Push.AllMemberPush', 'State.StateChange');
    const result = await runEvents(['events', 'verify', tampered], { cwd: tmp.dir, env, now: at(C1_TIME + 95) });
    assert.equal(result.code, 4);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'im-attrs: invalid: Sign does not match the token (from env IMADMIN_CALLBACK_TOKEN) and RequestTime: another token, or an altered URL; ' +
        'RequestTime is 95 s in the past: clocks differ or a replay (at most 60 s allowed) (2022-12-01T05:21:52Z); ' +
        'SdkAppid "1400000009" is not this app (1400000000); CallbackCommand "State.StateChange" is not Push.AllMemberPush\n' +
        "hint: a URL from a log is older than the window: --max-skew SECONDS checks it anyway; a live one that is off means this clock or the sender's is wrong\n",
    );
  });

  it('checks an old URL from a log with a wider --max-skew, and a bare query', async () => {
    const old = await runEvents(['events', 'verify', '--max-skew', '31536000', C1_URL], { cwd: tmp.dir, env, now: at(C1_TIME + 86_400) });
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, /^valid: .*RequestTime is 86400 s in the past, within 31536000 s/);
    const bare = await runEvents(['events', 'verify', `?Sign=${C1_SIGN}&RequestTime=${C1_TIME}`], { cwd: tmp.dir, env: { IMADMIN_CALLBACK_TOKEN: 'xxxxyyyy' }, now: at(C1_TIME) });
    assert.equal(bare.stdout, 'valid: Sign matches the token (from env IMADMIN_CALLBACK_TOKEN); RequestTime is 0 s in the past, within 60 s (2022-12-01T05:21:52Z); SdkAppid (none) (not compared: sdkAppId is not configured)\n');
  });

  it('says what is missing from a URL without Sign, and needs a token (exit 3) that is never a flag (exit 2)', async () => {
    const unsigned = await runEvents(['events', 'verify', `https://x/?SdkAppid=${APP}`], { cwd: tmp.dir, env, now: at(C1_TIME) });
    assert.equal(unsigned.code, 4);
    assert.match(unsigned.stderr, /^im-attrs: invalid: the URL has no Sign \(is callback authentication on in the Chat console\?\); the URL has no RequestTime\n/);
    const noToken = await runEvents(['events', 'verify', C1_URL], { cwd: tmp.dir, env: { IMADMIN_SDKAPPID: String(APP) } });
    assert.equal(noToken.code, 3);
    const flag = await runEvents(['events', 'verify', '--token', 'xxxxyyyy', C1_URL], { cwd: tmp.dir, env });
    assert.equal(flag.code, 2);
    assert.ok(!flag.stderr.includes('xxxxyyyy'));
  });

  it('reads the token from --token-file', async () => {
    const file = tmp.write('token.txt', 'xxxxyyyy\n');
    const result = await runEvents(['events', 'verify', '--token-file', file, C1_URL], { cwd: tmp.dir, env: { IMADMIN_SDKAPPID: String(APP) }, now: at(C1_TIME) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^valid: Sign matches the token \(from --token-file .*token\.txt\);/);
  });
});

describe('callbackSign', () => {
  it('is sha256 over the token then RequestTime, lowercase hex (C1); the reverse order is not', () => {
    assert.equal(callbackSign('xxxxyyyy', '1669872112'), C1_SIGN);
    assert.notEqual(callbackSign('1669872112', 'xxxxyyyy'), C1_SIGN);
  });
});

describe('FileSink (group commit)', () => {
  const tmp = useTempDir();

  it('joins the appends made while a commit runs into the next one, and creates the file with mode 600', async () => {
    const file = path.join(tmp.dir, 'group.ndjson');
    const sink = await FileSink.open(file);
    // All ten in one tick: the first starts a commit at once, the nine that arrive while it runs share the second.
    await Promise.all(Array.from({ length: 10 }, (_, i) => sink.append(`{"n":${i}}\n`)));
    assert.equal(sink.commits, 2);
    await sink.close();
    assert.equal(readFileSync(file, 'utf8'), Array.from({ length: 10 }, (_, i) => `{"n":${i}}\n`).join(''));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('appends to an existing file and warns when others can read it', async () => {
    const file = tmp.write('shared.ndjson', '{"old":1}\n');
    chmodSync(file, 0o644);
    const warnings: string[] = [];
    const sink = await FileSink.open(file, (m) => warnings.push(m));
    await sink.append('{"new":1}\n');
    await sink.close();
    assert.equal(readFileSync(file, 'utf8'), '{"old":1}\n{"new":1}\n');
    assert.deepEqual(warnings, [`${file} is readable by others (mode 644) and the events name your users; fix it with: chmod 600 ${file}`]);
  });
});
