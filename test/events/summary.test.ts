import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventSummary, hash64, HashSet64 } from '../../src/events/summary.js';
import { useTempDir } from '../helpers/cli.js';
import { runEvents, sampleEvent } from './helpers.js';

const A = 'batch_695610d8_5f5fe251_200000e87f01f12_cf7963dc_386ba222';
const B = '657bf434_537529d8_2000005e80aa873_2780d131_bc614e';

/** An event of push `task` for `account` at `stage` on `platform`. */
const ev = (task: string | undefined, account: string, stage: 1 | 2 | 3, platform: number, dataId = 'campaign-7'): string =>
  JSON.stringify(sampleEvent({ TaskId: task, To_Account: account, PushStage: stage, PushPlatform: platform, DataId: dataId, EventTime: 1557481128 + stage }));

/**
 * Push A: 3 APNs accounts sent, 2 reached, 1 clicked; 2 FCM sent, 1 reached. Push B: 1 Huawei
 * sent. One event without TaskId. The first batch of A came twice (a retried callback), and one
 * line is repeated on its own.
 */
function fixture(): string {
  const a = [ev(A, 'u1', 1, 1), ev(A, 'u2', 1, 1), ev(A, 'u3', 1, 1), ev(A, 'u4', 1, 4), ev(A, 'u5', 1, 4)];
  const later = [ev(A, 'u1', 2, 1), ev(A, 'u2', 2, 1), ev(A, 'u1', 3, 1), ev(A, 'u4', 2, 4), ev(B, 'u9', 1, 3, 'campaign-8'), ev(undefined, 'u7', 1, 0, 'campaign-8')];
  return [...a, ...a, ...later, later[0]!, ''].join('\n');
}

describe('push events summary', () => {
  const tmp = useTempDir();

  it('counts sent, reached and clicked per TaskId and platform, each event once (tsv off a terminal)', async () => {
    const file = tmp.write('events.ndjson', fixture());
    const result = await runEvents(['events', 'summary', file], { cwd: tmp.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        'TaskId\tPlatform\tSent\tReached\tClicked',
        '\tunknown\t1\t0\t0',
        `${B}\tHuawei\t1\t0\t0`,
        `${A}\tAPNs\t3\t2\t1`,
        `${A}\tFCM\t2\t1\t0`,
        '',
      ].join('\n'),
    );
    assert.equal(result.stderr, 'summary: 11 events from 1 file, 6 repeats left out\n');
  });

  it('prints json, ndjson and csv, and sums per DataId with --by data-id', async () => {
    const file = tmp.write('events2.ndjson', fixture());
    const json = await runEvents(['events', 'summary', '--json', '--by', 'data-id', file], { cwd: tmp.dir });
    assert.equal(
      json.stdout,
      '[\n' +
        '  {"DataId":"campaign-7","PushPlatform":1,"Platform":"APNs","Sent":3,"Reached":2,"Clicked":1},\n' +
        '  {"DataId":"campaign-7","PushPlatform":4,"Platform":"FCM","Sent":2,"Reached":1,"Clicked":0},\n' +
        '  {"DataId":"campaign-8","PushPlatform":0,"Platform":"unknown","Sent":1,"Reached":0,"Clicked":0},\n' +
        '  {"DataId":"campaign-8","PushPlatform":3,"Platform":"Huawei","Sent":1,"Reached":0,"Clicked":0}\n' +
        ']\n',
    );
    const ndjson = await runEvents(['events', 'summary', '-o', 'ndjson', file], { cwd: tmp.dir });
    assert.equal(ndjson.stdout.split('\n')[2], `{"TaskId":"${A}","PushPlatform":1,"Platform":"APNs","Sent":3,"Reached":2,"Clicked":1}`);
    const csv = await runEvents(['events', 'summary', '-o', 'csv', file], { cwd: tmp.dir });
    assert.equal(csv.stdout.split('\n').slice(0, 2).join('\n'), 'TaskId,Platform,Sent,Reached,Clicked\n,unknown,1,0,0');
  });

  it('draws a table and a bar chart on a terminal', async () => {
    const file = tmp.write('events3.ndjson', fixture());
    const result = await runEvents(['events', 'summary', file], { cwd: tmp.dir, stdoutIsTTY: true, columns: 80 });
    assert.equal(
      result.stdout,
      [
        'TaskId                                          Platform  Sent  Reached  Clicked',
        '──────────────────────────────────────────────  ────────  ────  ───────  ───────',
        '(none)                                          unknown   1     0        0',
        '657bf434_537529d8_2000005e80aa873_2780d131_bc…  Huawei    1     0        0',
        'batch_695610d8_5f5fe251_200000e87f01f12_cf796…  APNs      3     2        1',
        'batch_695610d8_5f5fe251_200000e87f01f12_cf796…  FCM       2     1        0',
        '',
        '(none)                    sent     ██████████████████████████████ 1',
        '                          reached                                 0 0%',
        '                          clicked                                 0 0%',
        '657bf434_537529d8_20000…  sent     ██████████████████████████████ 1',
        '                          reached                                 0 0%',
        '                          clicked                                 0 0%',
        'batch_695610d8_5f5fe251…  sent     ██████████████████████████████ 5',
        '                          reached  ██████████████████             3 60%',
        '                          clicked  ██████                         1 20%',
        '',
      ].join('\n'),
    );
  });

  it('streams several files and stdin, skips lines that are not events and names them', async () => {
    const one = tmp.write('one.ndjson', `${ev(A, 'u1', 1, 1)}\nnot json\n{"To_Account":"x"}\n`);
    const result = await runEvents(['events', 'summary', one, '-'], { cwd: tmp.dir, stdin: `${ev(A, 'u1', 1, 1)}\n${ev(A, 'u2', 1, 1)}\n` });
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `TaskId\tPlatform\tSent\tReached\tClicked\n${A}\tAPNs\t2\t0\t0\n`);
    assert.equal(
      result.stderr,
      `warning: ${one}:2: skipped, not JSON\n` +
        `warning: ${one}:3: skipped, PushStage must be 1 (sent), 2 (reached) or 3 (clicked)\n` +
        'summary: 2 events from 2 files, 1 repeat left out, 2 lines skipped\n',
    );
  });

  it('refuses a file it cannot read with a usage error', async () => {
    const result = await runEvents(['events', 'summary', 'nosuch.ndjson'], { cwd: tmp.dir });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'im-attrs: nosuch.ndjson cannot be read: no such file\n');
  });
});

describe('the dedupe set', () => {
  it('keeps 300,000 distinct keys apart and knows each again, growing from 65,536 slots', () => {
    const set = new HashSet64();
    for (let i = 0; i < 300_000; i++) assert.ok(set.add(...hash64(`task\u0001user${i}\u00011\u00011\u0001${1557481128 + (i % 7)}`)));
    for (let i = 0; i < 300_000; i += 997) assert.equal(set.add(...hash64(`task\u0001user${i}\u00011\u00011\u0001${1557481128 + (i % 7)}`)), false);
    assert.equal(set.size, 300_000);
    // 300,000 / 0.7 needs 2^19 slots of 8 bytes.
    assert.equal(set.bytes, 2 ** 19 * 8);
  });

  it('tells apart events that differ in any one of TaskId, To_Account, PushStage, EventType, EventTime', () => {
    const summary = new EventSummary();
    const base = { TaskId: 't', To_Account: 'u', PushStage: 1 as const, EventType: 1, EventTime: 10, PushPlatform: 1 };
    assert.ok(summary.add({ ...base }));
    assert.equal(summary.add({ ...base, PushPlatform: 2, ErrInfo: 'other' }), false);
    for (const change of [{ TaskId: 't2' }, { To_Account: 'u2' }, { PushStage: 2 as const }, { EventType: 2 }, { EventTime: 11 }]) assert.ok(summary.add({ ...base, ...change }));
    assert.equal(summary.events, 6);
    assert.equal(summary.duplicates, 1);
  });
});
