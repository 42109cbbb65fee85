import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatUtc } from '../../src/emulator/time.js';
import { useEmulator } from '../helpers/cli.js';
import { getJson, OK, post, TestClock } from '../helpers/emulator-api.js';

const APP = 1400000000;
/** A fixed start: 2026-12-03 04:00:00 UTC. */
const START = Date.UTC(2026, 11, 3, 4, 0, 0);
const MINUTE = 60_000;
const tagContent = { From_Account: 'administrator', Condition: { TagsAnd: ['vip'] }, OfflinePushInfo: { Title: 'Offline Push Title', Desc: 'Offline Push Content' } };

describe('emulator: scheduled tasks (DELIVERY.md §2)', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 20, rateLimit: 0, now: clock.now }, { perTest: true });
  const sched = async (cmd: string, body: Record<string, unknown>): Promise<Record<string, unknown>> => (await post(app.emulator, `timpush/${cmd}_sched_task`, body)).body;
  const add = async (minutes: number, extra: Record<string, unknown> = {}): Promise<number> => {
    const body = await sched('add', { Sdkappid: APP, Type: 'Tag', SchedAt: formatUtc(START + minutes * MINUTE), Content: tagContent, ...extra });
    assert.equal(body.ErrorCode, 0, JSON.stringify(body));
    return body.TaskID as number;
  };

  it('add answers an integer TaskID; get answers F16\'s TaskInfo, "pending", MsgRandom filled in', async () => {
    clock.ms = START;
    const TaskID = await add(60);
    assert.equal(TaskID, 1234567890);
    assert.deepEqual(await sched('get', { Sdkappid: APP, TaskID }), {
      ...OK,
      TaskInfo: {
        TaskID,
        Sdkappid: APP,
        CreateAt: '2026-12-03 04:00:00',
        Type: 'Tag',
        SchedAt: '2026-12-03 05:00:00',
        Content: { ...tagContent, MsgRandom: 1234567890 },
        Title: 'Offline Push Title',
        Desc: 'Offline Push Content',
        Status: 'pending',
        DispatchSuccess: 0,
        DispatchErr: '',
        PushTaskID: '',
      },
    });
    assert.deepEqual(app.emulator.requests.map((r) => r.path), ['/v4/timpush/add_sched_task', '/v4/timpush/get_sched_task']);
  });

  const refusals: Array<[string, Record<string, unknown>, string]> = [
    ['another Sdkappid', { Sdkappid: 88888888 }, 'Invalid format of Sdkappid: it must be 1400000000, the sdkappid in the URL'],
    ['Sdkappid as a string', { Sdkappid: '1400000000' }, 'Invalid format of Sdkappid: it must be 1400000000, the sdkappid in the URL'],
    ['Type "Everyone"', { Type: 'Everyone' }, 'Invalid format of Type: All, Tag or User'],
    ['a SchedAt in the past', { SchedAt: '2026-12-03 03:59:59' }, 'Invalid format of SchedAt: 2026-12-03 03:59:59 UTC is not in the future'],
    ['a SchedAt of now', { SchedAt: '2026-12-03 04:00:00' }, 'Invalid format of SchedAt: 2026-12-03 04:00:00 UTC is not in the future'],
    ['a SchedAt that is no date', { SchedAt: '2027-02-30 10:00:00' }, 'Invalid format of SchedAt: "YYYY-MM-DD HH:MM:SS" in UTC'],
    ['a SchedAt in ISO form', { SchedAt: '2027-01-01T10:00:00Z' }, 'Invalid format of SchedAt: "YYYY-MM-DD HH:MM:SS" in UTC'],
    ['no Content', { Content: undefined }, 'Invalid format of Content'],
    ['a Tag task without tags', { Content: { Condition: { AttrsAnd: { sex: 'F' } } } }, 'Invalid format of Condition: a Tag task needs TagsOr, TagsAnd or TagsNot'],
    ['an All task with tags', { Type: 'All' }, 'Invalid format of Condition: an All task takes no tags; use Type Tag'],
    ['a User task with 501 accounts', { Type: 'User', Content: { To_Account: Array.from({ length: 501 }, (_, i) => `u${i}`) } }, 'Invalid format of To_Account: 1 to 500 accounts'],
    ['a User task with none', { Type: 'User', Content: { To_Account: [] } }, 'Invalid format of To_Account: 1 to 500 accounts'],
  ];
  for (const [name, extra, info] of refusals) {
    it(`add refuses ${name} with 90001`, async () => {
      clock.ms = START;
      const body = { Sdkappid: APP, Type: 'Tag', SchedAt: '2026-12-03 05:00:00', Content: tagContent, ...extra };
      assert.deepEqual(await sched('add', body), { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: info });
      assert.equal(app.emulator.schedTasks.size, 0);
    });
  }

  it('add refuses a 65-byte DataId with 90057 and takes From_Account as an integer (F16)', async () => {
    clock.ms = START;
    const body = { Sdkappid: APP, Type: 'Tag', SchedAt: '2026-12-03 05:00:00' };
    assert.deepEqual(await sched('add', { ...body, Content: { ...tagContent, DataId: 'd'.repeat(65) } }), { ActionStatus: 'FAIL', ErrorCode: 90057, ErrorInfo: 'DataId is longer than 64 bytes' });
    assert.equal((await sched('add', { ...body, Content: { ...tagContent, From_Account: 12345 } })).ErrorCode, 0);
  });

  it('fires when the clock passes SchedAt (POST /_emulator/clock), then dispatching, then dispatched; modify and delete then answer 90107 (C2)', async () => {
    clock.ms = START;
    const TaskID = await add(1);
    const move = async (advanceMs: number): Promise<unknown> => (await fetch(`${app.emulator.url}/_emulator/clock`, { method: 'POST', body: JSON.stringify({ advanceMs }) })).json();
    assert.deepEqual(await move(MINUTE - 1), { now: START + MINUTE - 1, time: new Date(START + MINUTE - 1).toISOString(), offsetMs: MINUTE - 1 });
    assert.equal(app.emulator.pushes.length, 0);
    await move(1);
    const task = app.emulator.pushes.at(-1)!;
    assert.deepEqual([task.kind, task.schedTaskId, task.createdAt, task.condition], ['push', TaskID, START + MINUTE, { TagsAnd: ['vip'] }]);
    assert.deepEqual(task.recipients, ['user000005', 'user000010', 'user000015', 'user000020']);
    const info = (await sched('get', { Sdkappid: APP, TaskID })).TaskInfo as Record<string, unknown>;
    assert.deepEqual([info.Status, info.PushTaskID, info.DispatchSuccess], ['dispatching', task.TaskId, 0]);
    assert.deepEqual(await sched('delete', { Sdkappid: APP, TaskID, Type: 'Tag' }), { ActionStatus: 'FAIL', ErrorInfo: 'delete failed: task dispatching', ErrorCode: 90107, TaskID: 0 });
    assert.deepEqual(await sched('modify', { Sdkappid: APP, TaskID, Type: 'Tag', SchedAt: '2026-12-04 00:00:00' }), { ActionStatus: 'FAIL', ErrorInfo: 'modify failed: task dispatching', ErrorCode: 90107, TaskID: 0 });
    // 4 recipients dispatch in one second of the emulator's clock.
    app.emulator.advanceClock(1000);
    assert.deepEqual(await sched('get', { Sdkappid: APP, TaskID }).then((b) => [(b.TaskInfo as Record<string, unknown>).Status, (b.TaskInfo as Record<string, unknown>).DispatchSuccess]), ['dispatched', 1]);
    assert.deepEqual(await sched('delete', { Sdkappid: APP, TaskID, Type: 'Tag' }), { ActionStatus: 'FAIL', ErrorInfo: 'delete failed: task dispatched', ErrorCode: 90107, TaskID: 0 });
    assert.equal(app.emulator.pushes.length, 1, 'fired once');
  });

  it('fires on the next request when the injected clock has moved, a User task as a batch_ task of its known accounts', async () => {
    clock.ms = START;
    const body = await sched('add', { Sdkappid: APP, Type: 'User', SchedAt: '2026-12-03 04:00:30', Content: { To_Account: ['user000002', 'nobody', 'user000002', 'user000003'], DataId: 'order-7' } });
    clock.advance(30_000);
    assert.equal(app.emulator.pushes.length, 0, 'nothing runs on a timer');
    const info = (await sched('get', { Sdkappid: APP, TaskID: body.TaskID })).TaskInfo as Record<string, unknown>;
    const task = app.emulator.pushes.at(-1)!;
    assert.equal(info.PushTaskID, task.TaskId);
    assert.match(task.TaskId, /^batch_/);
    assert.deepEqual([task.kind, task.recipients, task.dataId], ['batch', ['user000002', 'user000003'], 'order-7']);
  });

  it('modify changes SchedAt and merges Content while pending; Type must stay; delete removes the task', async () => {
    clock.ms = START;
    const TaskID = await add(60);
    assert.deepEqual(await sched('modify', { Sdkappid: APP, TaskID, Type: 'All' }), { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: "Invalid format of Type: it must be Tag, the task's type", TaskID: 0 });
    assert.deepEqual(await sched('modify', { Sdkappid: APP, TaskID: 99, Type: 'Tag' }), { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'Invalid format of TaskID: no task 99', TaskID: 0 });
    assert.deepEqual(await sched('modify', { Sdkappid: APP, TaskID, Type: 'Tag', SchedAt: '2026-12-03 06:30:00', Content: { OfflinePushInfo: { Title: 'New', Desc: 'Changed' } } }), { ...OK, TaskID });
    const info = (await sched('get', { Sdkappid: APP, TaskID })).TaskInfo as Record<string, unknown>;
    assert.deepEqual([info.SchedAt, info.Title, info.Desc, (info.Content as Record<string, unknown>).Condition], ['2026-12-03 06:30:00', 'New', 'Changed', { TagsAnd: ['vip'] }]);
    assert.deepEqual(await sched('delete', { Sdkappid: APP, TaskID, Type: 'Tag' }), { ...OK, TaskID });
    assert.deepEqual(await sched('get', { Sdkappid: APP, TaskID }), { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: `Invalid format of TaskID: no task ${TaskID}` });
    clock.advance(3 * 3600_000);
    await sched('list', { Sdkappid: APP, BeginTime: '2026-12-03 00:00:00', EndTime: '2026-12-04 00:00:00' });
    assert.equal(app.emulator.pushes.length, 0, 'a deleted task never fires');
  });

  it('list pages with Offset/Want, orders by schedat or createAt in either casing, filters by Keyword and BeginTime..EndTime', async () => {
    clock.ms = START;
    const ids: number[] = [];
    // Created a minute apart, scheduled in the reverse order: 3 h, 2 h, 1 h from START.
    for (const [hours, title] of [[3, 'Sale A'], [2, 'News'], [1, 'Sale B']] as const) {
      ids.push(await add(hours * 60, { Content: { ...tagContent, OfflinePushInfo: { Title: title, Desc: 'd' } } }));
      clock.advance(MINUTE);
    }
    const list = async (extra: Record<string, unknown>): Promise<[unknown, number[]]> => {
      const body = await sched('list', { Sdkappid: APP, BeginTime: '2026-12-03 00:00:00', EndTime: '2026-12-04 00:00:00', ...extra });
      assert.equal(body.ErrorCode, 0, JSON.stringify(body));
      return [body.Total, (body.Tasks as Array<{ TaskID: number }>).map((t) => t.TaskID)];
    };
    const [a, b, c] = ids as [number, number, number];
    assert.deepEqual(await list({}), [3, [a, b, c]], 'default: schedat, descending');
    assert.deepEqual(await list({ OrderBy: 'schedAt', Asc: true }), [3, [c, b, a]]);
    assert.deepEqual(await list({ OrderBy: 'createat', Asc: true }), [3, [a, b, c]]);
    assert.deepEqual(await list({ OrderBy: 'createAt' }), [3, [c, b, a]]);
    assert.deepEqual(await list({ Offset: 1, Want: 1 }), [3, [b]]);
    assert.deepEqual(await list({ Offset: 5 }), [3, []]);
    assert.deepEqual(await list({ Keyword: 'Sale' }), [2, [a, c]]);
    assert.deepEqual(await list({ BeginTime: '2026-12-03 05:00:00', EndTime: '2026-12-03 06:00:00' }), [2, [b, c]], 'inclusive at both ends, by SchedAt');
    const first = (await sched('list', { Sdkappid: APP, BeginTime: '2026-12-03 00:00:00', EndTime: '2026-12-04 00:00:00', Want: 1 })).Tasks as unknown[];
    assert.deepEqual(first, [(await sched('get', { Sdkappid: APP, TaskID: a })).TaskInfo]);
  });

  const listRefusals: Array<[string, Record<string, unknown>, string]> = [
    ['no BeginTime', { BeginTime: undefined }, 'Invalid format of BeginTime: required, "YYYY-MM-DD HH:MM:SS" in UTC'],
    ['no EndTime', { EndTime: undefined }, 'Invalid format of EndTime: required, "YYYY-MM-DD HH:MM:SS" in UTC'],
    ['BeginTime after EndTime', { BeginTime: '2026-12-05 00:00:00' }, 'Invalid format of BeginTime: it is later than EndTime'],
    ['a span of 90 days and a second', { BeginTime: '2026-09-04 23:59:59' }, 'Invalid format of EndTime: BeginTime..EndTime spans more than 90 days'],
    ['OrderBy "title"', { OrderBy: 'title' }, 'Invalid format of OrderBy: schedat or createat (schedAt, createAt)'],
    ['Want 101', { Want: 101 }, 'Invalid format of Want: 1 to 100'],
    ['Offset -1', { Offset: -1 }, 'Invalid format of Offset'],
    ['Asc "true"', { Asc: 'true' }, 'Invalid format of Asc'],
  ];
  for (const [name, extra, info] of listRefusals) {
    it(`list refuses ${name} with 90001`, async () => {
      const body = { Sdkappid: APP, BeginTime: '2026-12-03 00:00:00', EndTime: '2026-12-04 00:00:00', ...extra };
      assert.deepEqual(await sched('list', body), { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: info });
    });
  }

  it('takes a span of exactly 90 days', async () => {
    assert.equal((await sched('list', { Sdkappid: APP, BeginTime: '2026-09-06 00:00:00', EndTime: '2026-12-05 00:00:00' })).ErrorCode, 0);
  });
});

describe('emulator: sched tasks are limited to 5 calls a second each', () => {
  const clock = new TestClock();
  const app = useEmulator({ now: clock.now });
  it('answers the 6th get_sched_task in a second with 60007, and takes list meanwhile', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await post(app.emulator, 'timpush/get_sched_task', { Sdkappid: APP, TaskID: 1 })).body.ErrorCode as number);
    assert.deepEqual(codes, [90001, 90001, 90001, 90001, 90001, 60007]);
    assert.equal((await post(app.emulator, 'timpush/list_sched_task', { Sdkappid: APP })).body.ErrorCode, 90001);
    clock.advance(1000);
    assert.equal((await post(app.emulator, 'timpush/get_sched_task', { Sdkappid: APP, TaskID: 1 })).body.ErrorCode, 90001);
  });
});

describe('emulator: the clock', () => {
  const clock = new TestClock();
  const app = useEmulator({ now: clock.now, clockOffsetMs: 5000 });
  it('starts at now + clockOffsetMs; POST /_emulator/clock sets or advances it; bad bodies get 400', async () => {
    clock.ms = START;
    assert.deepEqual(await getJson(app.emulator, 'clock'), { now: START + 5000, time: new Date(START + 5000).toISOString(), offsetMs: 5000 });
    const postClock = async (body: string): Promise<[number, unknown]> => {
      const response = await fetch(`${app.emulator.url}/_emulator/clock`, { method: 'POST', body });
      return [response.status, await response.json()];
    };
    assert.deepEqual(await postClock('{"offsetMs": -1000}'), [200, { now: START - 1000, time: new Date(START - 1000).toISOString(), offsetMs: -1000 }]);
    app.emulator.advanceClock(3000);
    assert.equal(app.emulator.now(), START + 2000);
    for (const [body, error] of [
      ['{}', 'give exactly one of advanceMs and offsetMs'],
      ['{"advanceMs": 1, "offsetMs": 1}', 'give exactly one of advanceMs and offsetMs'],
      ['{"advanceMs": "1h"}', 'advanceMs must be an integer number of milliseconds'],
      ['nope', 'the body must be JSON: {"advanceMs": n} or {"offsetMs": n}'],
    ]) {
      assert.deepEqual(await postClock(body!), [400, { error }], body);
    }
    assert.equal(app.emulator.now(), START + 2000);
  });
});
