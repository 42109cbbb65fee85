import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { CallbackEvent } from '../../src/emulator/callbacks.js';
import { callbackSign } from '../../src/events/sign.js';
import type { Emulator, EmulatorOptions } from '../../src/emulator/server.js';
import { formatUtc } from '../../src/emulator/time.js';
import { startTestEmulator } from '../helpers/cli.js';
import { getJson, post, TestClock } from '../helpers/emulator-api.js';

const TOKEN = 'callback-token-for-tests';

interface Received {
  query: Record<string, string>;
  events: CallbackEvent[];
}

/**
 * A tiny webhook receiver on loopback. It checks what a real one must (SdkAppid, the command,
 * Sign over RequestTime) and answers with `reply(n)` for its n-th request (0-based).
 */
async function startReceiver(reply: (n: number) => { status: number; body: string } | 'hold' = () => ({ status: 200, body: '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}' })) {
  const received: Received[] = [];
  const problems: string[] = [];
  const held: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://receiver');
      const query = Object.fromEntries(url.searchParams);
      const expected = createHash('sha256').update(`${TOKEN}${query.RequestTime}`).digest('hex');
      if (query.Sign !== expected) problems.push(`bad Sign ${query.Sign}`);
      if (query.SdkAppid !== '1400000000' || query.CallbackCommand !== 'Push.AllMemberPush' || query.contenttype !== 'json') problems.push(`bad query ${url.search}`);
      const { Events } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Events: CallbackEvent[] };
      if (Events.length < 1 || Events.length > 100) problems.push(`${Events.length} events in one request`);
      const n = received.length;
      received.push({ query, events: Events });
      const answer = reply(n);
      const send = (a: { status: number; body: string }): void => {
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(a.body);
      };
      if (answer === 'hold') held.push(() => send({ status: 200, body: '{"ErrorCode":0}' }));
      else send(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/callback?app=demo`,
    received,
    problems,
    held,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

const keyOf = (e: { TaskId: string; To_Account: string; PushStage: number }): string => `${e.TaskId}|${e.To_Account}|${e.PushStage}`;

describe('emulator: push-result callbacks (DELIVERY.md §5)', () => {
  it('signs with the C1 test vector', () => {
    assert.equal(callbackSign('xxxxyyyy', '1669872112'), '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061');
  });

  let receiver: Receiver;
  let emulator: Emulator;
  const clock = new TestClock();
  before(async () => {
    receiver = await startReceiver();
    emulator = await startTestEmulator({ seedUsers: 250, rateLimit: 0, now: clock.now, callbackUrl: receiver.url, callbackToken: TOKEN });
  });
  after(async () => {
    await emulator.close();
    await receiver.close();
  });

  it('sends every recipient\'s events exactly once, at most 100 a request, signed, consistent with the statistics', async () => {
    const push = await post(emulator, 'timpush/push', { MsgRandom: 1 });
    const TaskId = push.body.TaskId as string;
    await emulator.settleCallbacks();
    assert.deepEqual(receiver.problems, []);
    const events = receiver.received.flatMap((r) => r.events);
    const keys = events.map(keyOf);
    assert.equal(new Set(keys).size, keys.length, 'no event twice');
    assert.deepEqual(new Set(keys), new Set(emulator.callbacks.log.map(keyOf)));
    assert.ok(emulator.callbacks.log.every((e) => e.acknowledged && e.sends === 1));
    assert.deepEqual(
      { events: emulator.callbacks.events, requests: emulator.callbacks.requests, acknowledged: emulator.callbacks.acknowledged, failed: 0, duplicates: 0 },
      { events: keys.length, requests: receiver.received.length, acknowledged: keys.length, failed: 0, duplicates: 0 },
    );
    assert.deepEqual(await getJson(emulator, 'callbacks'), { events: keys.length, requests: receiver.received.length, acknowledged: keys.length, failed: 0, duplicates: 0 });
    assert.deepEqual(receiver.received.map((r) => r.query.RequestTime), receiver.received.map(() => String(Math.floor(clock.ms / 1000))));
    // Each recipient has a "sent" event; "reached" and "clicked" ones match the statistics.
    const stats = (await post(emulator, 'timpush/all_member_push_statistics', { TaskID: [TaskId] })).body.Results[0];
    const stage = (n: number, ok = false): number => events.filter((e) => e.PushStage === n && (!ok || e.ErrCode === 0)).length;
    assert.deepEqual([stage(1), stage(1, true), stage(2), stage(3)], [stats.TotalCount, stats.SentCount, stats.DeliveredCount, stats.ClickCount]);
    assert.equal(stage(1), 250);
    // F17's fields for one recipient: user000005, platform 6, offline, reached and clicked.
    const t = Math.floor(emulator.pushes[0]!.createdAt / 1000);
    const base = { CallbackCommand: 'Push.AllMemberPush', EventType: 1, TaskId, TaskTime: t, To_Account: 'user000005', PushPlatform: 6, DeviceType: 6, ErrCode: 0, ErrInfo: 'OK' };
    assert.deepEqual(
      events.filter((e) => e.To_Account === 'user000005'),
      [
        { ...base, EventTime: t + 2, PushStage: 1 },
        { ...base, EventTime: t + 3, PushStage: 2 },
        { ...base, EventTime: t + 60, PushStage: 3 },
      ],
    );
    assert.deepEqual(events.find((e) => e.To_Account === 'user000007'), { ...base, To_Account: 'user000007', PushPlatform: 8, DeviceType: 8, EventTime: t + 2, PushStage: 1, ErrCode: -2, ErrInfo: 'token not uploaded' });
  });

  it('carries a batch\'s DataId, and a fired sched task\'s events too', async () => {
    receiver.received.length = 0;
    const batch = await post(emulator, 'timpush/batch', { To_Account: ['user000001', 'user000002'], MsgRandom: 2, DataId: 'order-42' });
    await emulator.settleCallbacks();
    assert.deepEqual(
      receiver.received.flatMap((r) => r.events).map((e) => [e.TaskId, e.DataId, e.To_Account, e.PushStage]),
      [
        [batch.body.TaskId, 'order-42', 'user000001', 1],
        [batch.body.TaskId, 'order-42', 'user000001', 2],
        [batch.body.TaskId, 'order-42', 'user000002', 1],
        [batch.body.TaskId, 'order-42', 'user000002', 2],
      ],
    );
    receiver.received.length = 0;
    const add = await post(emulator, 'timpush/add_sched_task', { Sdkappid: 1400000000, Type: 'User', SchedAt: formatUtc(clock.ms + 60_000), Content: { To_Account: ['user000003'] } });
    assert.equal(add.body.ErrorCode, 0);
    emulator.advanceClock(60_000);
    await emulator.settleCallbacks();
    assert.deepEqual(receiver.received.flatMap((r) => r.events).map((e) => [e.TaskId, e.To_Account, e.PushStage]), [[emulator.pushes.at(-1)!.TaskId, 'user000003', 1], [emulator.pushes.at(-1)!.TaskId, 'user000003', 2]]);
  });
});

/** Runs one push to `seedUsers` users against a receiver that answers with `reply`. */
async function pushWith(reply: Parameters<typeof startReceiver>[0], options: EmulatorOptions, seedUsers = 10): Promise<{ receiver: Receiver; emulator: Emulator }> {
  const receiver = await startReceiver(reply);
  const emulator = await startTestEmulator({ seedUsers, rateLimit: 0, callbackUrl: receiver.url, callbackToken: TOKEN, callbackRetryBaseMs: 1, ...options });
  assert.equal((await post(emulator, 'timpush/push', { MsgRandom: 1 })).body.ErrorCode, 0);
  return { receiver, emulator };
}

describe('emulator: callback retries and duplicates', () => {
  it('re-sends after a 500 and after {"ErrorCode":1}, until acknowledged; every event arrives', async () => {
    const replies = [{ status: 500, body: 'oops' }, { status: 200, body: '{"ActionStatus":"FAIL","ErrorCode":1,"ErrorInfo":"busy"}' }];
    const { receiver, emulator } = await pushWith((n) => replies[n] ?? { status: 200, body: '{"ErrorCode":0}' }, {});
    try {
      await emulator.settleCallbacks();
      assert.equal(receiver.received.length, 3);
      assert.deepEqual(receiver.received[0]!.events, receiver.received[2]!.events);
      assert.notEqual(receiver.received[0]!.query.Sign, undefined);
      assert.deepEqual(receiver.problems, []);
      const c = emulator.callbacks;
      assert.deepEqual([c.events, c.requests, c.acknowledged, c.failed], [c.events, 3, c.events, 0]);
      assert.ok(c.log.every((e) => e.acknowledged && e.sends === 3));
    } finally {
      await emulator.close();
      await receiver.close();
    }
  });

  it('gives up after callbackRetries re-sends and counts the events failed', async () => {
    const { receiver, emulator } = await pushWith(() => ({ status: 503, body: '' }), { callbackRetries: 2 });
    try {
      await emulator.settleCallbacks();
      assert.equal(receiver.received.length, 3);
      const c = emulator.callbacks;
      assert.deepEqual([c.requests, c.acknowledged, c.failed], [3, 0, c.events]);
      assert.ok(c.log.every((e) => !e.acknowledged));
    } finally {
      await emulator.close();
      await receiver.close();
    }
  });

  it('callbackDuplicateFraction 1 sends every acknowledged request twice; a receiver deduplicating by event sees each once', async () => {
    const { receiver, emulator } = await pushWith(undefined, { callbackDuplicateFraction: 1 }, 250);
    try {
      await emulator.settleCallbacks();
      const keys = receiver.received.flatMap((r) => r.events).map(keyOf);
      const c = emulator.callbacks;
      assert.equal(keys.length, 2 * c.events);
      assert.equal(new Set(keys).size, c.events);
      assert.deepEqual([c.requests, c.duplicates, c.acknowledged], [receiver.received.length, c.events, c.events]);
      assert.equal(receiver.received.length % 2, 0);
    } finally {
      await emulator.close();
      await receiver.close();
    }
  });

  it('never holds up the API: the push is answered while the receiver holds every callback', async () => {
    const clock = new TestClock();
    const { receiver, emulator } = await pushWith(() => 'hold', { now: clock.now }, 900);
    try {
      // 8 requests in flight at most; the push was answered (pushWith awaited it).
      while (receiver.held.length < 8) await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(receiver.held.length, 8);
      clock.advance(1001);
      assert.equal((await post(emulator, 'timpush/push', { MsgRandom: 2 })).body.ErrorCode, 0);
      const settled = emulator.settleCallbacks();
      while (receiver.held.length > 0 || emulator.callbacks.acknowledged < emulator.callbacks.events) {
        receiver.held.splice(0).forEach((release) => release());
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await settled;
      assert.equal(emulator.callbacks.failed, 0);
    } finally {
      await emulator.close();
      await receiver.close();
    }
  });
});
