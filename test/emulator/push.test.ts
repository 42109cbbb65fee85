import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition } from '../../src/push/condition.js';
import { seededIds, useEmulator } from '../helpers/cli.js';
import { getJson, OK, post, TestClock, type RawAnswer } from '../helpers/emulator-api.js';

const TEXT = [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } }];
const SEEDED = 60;
const REG = 'reg-device-1';

/** The seed rules of state.ts, written out again, so recipients are checked against an independent oracle. */
function seededUser(i: number): { id: string; attrs: Record<string, string>; tags: string[] } {
  const attrs: Record<string, string> = {};
  if (i % 7 !== 0) {
    attrs.sex = i % 2 === 0 ? 'F' : 'M';
    attrs.city = ['Paris', 'Shenzhen', 'Singapore', 'Tokyo', 'Berlin', 'São Paulo', 'Seoul'][i % 7]!;
    if (i % 3 === 0) attrs.level = 'bronze';
  }
  const tags = i % 11 === 0 ? [] : [`lang-${['en', 'zh', 'es'][i % 3]!}`, `cohort-${i % 10}`, ...(i % 5 === 0 ? ['vip'] : []), ...(i % 4 === 1 ? ['beta'] : [])];
  return { id: `user${String(i).padStart(6, '0')}`, attrs, tags };
}
const USERS = Array.from({ length: SEEDED }, (_, k) => seededUser(k + 1)).filter((u) => u.id !== 'user000004');
type User = (typeof USERS)[number];

/** [name, condition, who should receive it (plain JS, not matches())]. */
const CONDITIONS: Array<[string, Condition | undefined, (u: User) => boolean]> = [
  ['no condition: every imported account', undefined, () => true],
  ['{}', {}, () => true],
  ['TagsOr', { TagsOr: ['vip', 'cohort-3'] }, (u) => u.tags.includes('vip') || u.tags.includes('cohort-3')],
  ['TagsAnd', { TagsAnd: ['lang-zh', 'beta'] }, (u) => u.tags.includes('lang-zh') && u.tags.includes('beta')],
  ['TagsAnd + TagsOr', { TagsAnd: ['vip'], TagsOr: ['lang-en', 'lang-zh'] }, (u) => u.tags.includes('vip') && (u.tags.includes('lang-en') || u.tags.includes('lang-zh'))],
  ['AttrsAnd', { AttrsAnd: { sex: 'F', city: 'Seoul' } }, (u) => u.attrs.sex === 'F' && u.attrs.city === 'Seoul'],
  ['AttrsOr', { AttrsOr: { level: 'bronze', city: 'Tokyo' } }, (u) => u.attrs.level === 'bronze' || u.attrs.city === 'Tokyo'],
  ['AttrsAnd + AttrsOr', { AttrsAnd: { sex: 'M' }, AttrsOr: { city: 'Berlin', level: 'bronze' } }, (u) => u.attrs.sex === 'M' && (u.attrs.city === 'Berlin' || u.attrs.level === 'bronze')],
  ['a value nobody has', { AttrsAnd: { city: 'Paris' } }, () => false],
];

describe('emulator: push recipients', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: SEEDED, rateLimit: 0, now: clock.now, notImported: ['user000004'], registrationIds: [REG] });

  for (const family of ['all_member_push', 'timpush'] as const) {
    const path = family === 'timpush' ? 'timpush/push' : 'all_member_push/im_push';
    for (const [name, condition, who] of CONDITIONS) {
      it(`${path}: ${name}`, async () => {
        clock.advance(1001);
        const answer = await post(app.emulator, path, { MsgRandom: 7, MsgBody: TEXT, ...(condition ? { Condition: condition } : {}) });
        assert.equal(answer.body.ErrorCode, 0, JSON.stringify(answer.body));
        const task = app.emulator.pushes.at(-1)!;
        assert.equal(task.TaskId, answer.body.TaskId);
        const expected = USERS.filter(who).map((u) => u.id);
        // TIMPush also reaches RegistrationIDs; they have no tags or attributes here.
        if (family === 'timpush' && (condition === undefined || Object.keys(condition).length === 0)) expected.push(REG);
        assert.deepEqual(task.recipients, expected);
      });
    }
  }

  it('pins a few recipient lists exactly', async () => {
    const cases: Array<[Condition, string[]]> = [
      [{ TagsAnd: ['vip', 'beta'] }, ['user000005', 'user000025', 'user000045']],
      [{ AttrsAnd: { sex: 'F', city: 'Seoul' } }, ['user000006', 'user000020', 'user000034', 'user000048']],
    ];
    for (const [Condition, recipients] of cases) {
      clock.advance(1001);
      assert.equal((await post(app.emulator, 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT, Condition })).body.ErrorCode, 0);
      assert.deepEqual(app.emulator.pushes.at(-1)!.recipients, recipients);
    }
  });

  it('timpush/push: TagsNot excludes anyone with any listed tag, and reads the TIMPush store', async () => {
    const e = app.emulator;
    assert.deepEqual((await post(e, 'timpush/add_tag', { UserTags: [{ To_Account: 'user000002', Tags: ['vip'] }] })).body, OK);
    clock.advance(1001);
    assert.equal((await post(e, 'timpush/push', { MsgRandom: 2, Condition: { TagsOr: ['vip'], TagsNot: ['beta', 'lang-zh'] } })).body.ErrorCode, 0);
    const expected = USERS.filter((u) => (u.tags.includes('vip') || u.id === 'user000002') && !u.tags.includes('beta') && !u.tags.includes('lang-zh')).map((u) => u.id);
    assert.deepEqual(e.pushes.at(-1)!.recipients, expected);
    assert.equal(expected[0], 'user000002');
  });

  it('GET /_emulator/pushes lists every task with its full recipient list', async () => {
    const e = app.emulator;
    clock.advance(1001);
    const answer = await post(e, 'timpush/push', { MsgRandom: 255, Condition: { TagsAnd: ['vip', 'beta'] }, OfflinePushInfo: { Title: 't' } });
    const listing = (await getJson(e, 'pushes')) as { tasks: Array<Record<string, unknown>> };
    assert.deepEqual(listing.tasks.at(-1), {
      TaskId: answer.body.TaskId,
      family: 'timpush',
      kind: 'push',
      condition: { TagsAnd: ['vip', 'beta'] },
      recipients: ['user000005', 'user000025', 'user000045'],
      createdAt: clock.ms,
      msgRandom: 255,
      time: new Date(clock.ms).toISOString(),
      recipientCount: 3,
    });
    assert.equal(listing.tasks.length, e.pushes.length);
    assert.match(answer.body.TaskId as string, /^[0-9a-f]+_53724e00_[0-9a-f]+_ff$/);
  });
});

describe('emulator: push request validation', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 5, rateLimit: 0, now: clock.now });
  const TAG_51 = 't'.repeat(51);
  const ELEVEN = Array.from({ length: 11 }, (_, i) => `t${i}`);
  const cases: Array<[string, string, Record<string, unknown>, number]> = [
    ['MsgRandom missing', 'all_member_push/im_push', { MsgBody: TEXT }, 90001],
    ['MsgRandom a string', 'timpush/push', { MsgRandom: 'x' }, 90001],
    ['MsgBody missing', 'all_member_push/im_push', { MsgRandom: 1 }, 90002],
    ['tags and attributes mixed', 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT, Condition: { TagsOr: ['a'], AttrsOr: { sex: 'F' } } }, 90039],
    ['11 tags', 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT, Condition: { TagsOr: ELEVEN } }, 90032],
    ['a 51-byte tag', 'timpush/push', { MsgRandom: 1, Condition: { TagsAnd: [TAG_51] } }, 90020],
    ['an empty tag', 'timpush/push', { MsgRandom: 1, Condition: { TagsOr: [''] } }, 90040],
    ['a tag in TagsOr and TagsAnd', 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT, Condition: { TagsOr: ['a'], TagsAnd: ['a'] } }, 90022],
    ['an unknown attribute', 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT, Condition: { AttrsAnd: { colour: 'red' } } }, 90033],
    ['TagsNot on all_member_push', 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT, Condition: { TagsNot: ['a'] } }, 90001],
    ['MsgLifeTime over 7 days', 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT, MsgLifeTime: 604801 }, 90026],
    ['MsgLifeTime not an integer', 'timpush/push', { MsgRandom: 1, MsgLifeTime: 0.5 }, 90044],
    ['a TIMPush body over 10 KB', 'timpush/push', { MsgRandom: 1, OfflinePushInfo: { Desc: 'd'.repeat(10 * 1024) } }, 90056],
  ];
  for (const [name, path, body, code] of cases) {
    it(`${path}: ${name} → ${code}, no task`, async () => {
      clock.advance(1001);
      const answer = await post(app.emulator, path, body);
      assert.equal(answer.body.ActionStatus, 'FAIL');
      assert.equal(answer.body.ErrorCode, code, answer.body.ErrorInfo);
      assert.deepEqual(app.emulator.pushes, []);
    });
  }

  it('answers exact messages', async () => {
    clock.advance(1001);
    assert.deepEqual((await post(app.emulator, 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT, MsgLifeTime: 604801 })).body, {
      ActionStatus: 'FAIL',
      ErrorCode: 90026,
      ErrorInfo: 'MsgLifeTime 604801 is outside 0..604800 seconds (7 days)',
    });
  });
});

describe('emulator: push quota and spacing', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 3, rateLimit: 0, now: clock.now, pushQuota: 3 }, { perTest: true });
  const amp = (): Promise<RawAnswer> => post(app.emulator, 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT });
  const tim = (): Promise<RawAnswer> => post(app.emulator, 'timpush/push', { MsgRandom: 1 });

  it('refuses a push 1000 ms after the last with 90024 and takes one 1001 ms after; each family apart', async () => {
    clock.ms = Date.UTC(2026, 11, 3, 4, 0, 0);
    assert.equal((await amp()).body.ErrorCode, 0);
    assert.equal((await tim()).body.ErrorCode, 0);
    clock.advance(1000);
    assert.deepEqual((await amp()).body, { ActionStatus: 'FAIL', ErrorCode: 90024, ErrorInfo: 'pushes must be more than 1000 ms apart; the last was 1000 ms ago' });
    clock.advance(1);
    assert.equal((await amp()).body.ErrorCode, 0);
    // The refused push did not move the spacing window.
    assert.deepEqual(app.emulator.pushes.map((t) => t.family), ['all_member_push', 'timpush', 'all_member_push']);
  });

  it('refuses the push over the daily quota with 90047 until the next UTC+8 day; refused pushes do not count', async () => {
    clock.ms = Date.UTC(2026, 11, 3, 15, 0, 0); // 23:00 in UTC+8
    assert.equal((await post(app.emulator, 'all_member_push/im_push', { MsgBody: TEXT })).body.ErrorCode, 90001);
    for (let n = 0; n < 3; n++) {
      assert.equal((await amp()).body.ErrorCode, 0);
      clock.advance(1001);
    }
    assert.deepEqual((await amp()).body, { ActionStatus: 'FAIL', ErrorCode: 90047, ErrorInfo: 'the daily push limit (3) is reached' });
    assert.equal((await tim()).body.ErrorCode, 0, 'timpush has a quota of its own');
    clock.ms = Date.UTC(2026, 11, 3, 16, 0, 0); // midnight in UTC+8
    assert.equal((await amp()).body.ErrorCode, 0);
  });
});

describe('emulator: timpush revoke and statistics', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 20, now: clock.now }, { perTest: true });
  const push = async (body: Record<string, unknown> = {}): Promise<string> => {
    clock.advance(1001);
    const answer = await post(app.emulator, 'timpush/push', { MsgRandom: 3, ...body });
    assert.equal(answer.body.ErrorCode, 0);
    return answer.body.TaskId as string;
  };
  const revoke = async (TaskId: unknown, offline = true): Promise<RawAnswer['body']> =>
    (await post(app.emulator, 'timpush/revoke', { TaskId, ...(offline ? { OfflinePushInfo: { Title: 'recalled' } } : {}) })).body;

  it('revokes a task once, within 24 h, at most once a second (F13)', async () => {
    const first = await push();
    const second = await push();
    clock.advance(1001);
    assert.equal((await post(app.emulator, 'all_member_push/im_push', { MsgRandom: 1, MsgBody: TEXT })).body.ErrorCode, 0);
    const ampTask = app.emulator.pushes.at(-1)!.TaskId;
    clock.advance(1000);
    assert.deepEqual(await revoke(first), OK);
    assert.equal(app.emulator.pushes[0]!.revokedAt, clock.ms);
    assert.deepEqual(await revoke(second), { ActionStatus: 'FAIL', ErrorCode: 90051, ErrorInfo: 'revoke is limited to 1 call per second' });
    const steps: Array<[unknown, boolean, number]> = [
      [first, true, 90050],
      ['no-such-task', true, 90049],
      [ampTask, true, 90049],
      [second, false, 90053],
      [42, true, 90001],
    ];
    for (const [TaskId, offline, code] of steps) {
      clock.advance(1000);
      assert.equal((await revoke(TaskId, offline)).ErrorCode, code, String(TaskId));
    }
    clock.advance(24 * 3600 * 1000 - 5000);
    assert.deepEqual(await revoke(second), { ActionStatus: 'FAIL', ErrorCode: 90052, ErrorInfo: `task ${second} started more than 24 hours ago` });
  });

  // Seeded users 1..20 by delivery.ts's rules: 4, 8, 12, 16, 20 online; 7, 14 no token; 11 no
  // certificate; 13 lost after sending; 5, 10, 15 clicked. Platform = n mod 8 + 1.
  const channel = (EventType: number, PushPlatform: number, TotalCount: number, SentCount: number, DeliveredCount: number, ClickCount: number): object => ({
    EventType,
    PushPlatform,
    TotalCount,
    SentCount,
    DeliveredCount,
    ClickCount,
  });

  it('all_member_push_statistics answers F14\'s shape, "sucess" included, with counts per channel from the recipients', async () => {
    const id = await push();
    assert.equal(app.emulator.pushes.at(-1)!.recipients.length, 20);
    assert.deepEqual((await post(app.emulator, 'timpush/all_member_push_statistics', { TaskID: [id, 'unknown'] })).body, {
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorInfo: 'sucess',
      Results: [
        {
          TaskID: id,
          TotalCount: 20,
          SentCount: 17,
          DeliveredCount: 16,
          ClickCount: 3,
          PlatformStatistics: [channel(1, 2, 3, 3, 3, 0), channel(1, 3, 3, 3, 3, 1), channel(1, 4, 3, 2, 2, 0), channel(1, 6, 2, 2, 1, 1), channel(1, 7, 2, 1, 1, 0), channel(1, 8, 2, 1, 1, 1), channel(2, 0, 5, 5, 5, 0)],
        },
      ],
    });
    // One call a second (EN/71894): the next one in the same second is rate limited.
    assert.equal((await post(app.emulator, 'timpush/all_member_push_statistics', {})).body.ErrorCode, 60007);
    clock.advance(1000);
    const all = await post(app.emulator, 'timpush/all_member_push_statistics', {});
    assert.deepEqual(all.body.Results.map((r: { TaskID: string }) => r.TaskID), [id]);
  });

  it('all_member_push_loss answers F15\'s shape with each recipient\'s loss reason, overall and per channel', async () => {
    const id = await push();
    assert.deepEqual((await post(app.emulator, 'timpush/all_member_push_loss', { TaskID: [id] })).body, {
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorInfo: 'sucess',
      Results: [
        {
          TaskID: id,
          ReadyToSendLoss: [
            { ErrCode: '-2', ErrCount: 2, ErrInfo: 'token not uploaded' },
            { ErrCode: '-1', ErrCount: 1, ErrInfo: 'Certificate id not set' },
          ],
          PostSendDeliveredLoss: [{ ErrCode: '1', ErrCount: 1, ErrInfo: 'regid_invalid' }],
          PlatformReadyToSendLoss: [
            { EventType: 1, PushPlatform: 4, ErrCode: '-1', ErrCount: 1, ErrInfo: 'Certificate id not set' },
            { EventType: 1, PushPlatform: 7, ErrCode: '-2', ErrCount: 1, ErrInfo: 'token not uploaded' },
            { EventType: 1, PushPlatform: 8, ErrCode: '-2', ErrCount: 1, ErrInfo: 'token not uploaded' },
          ],
          PlatformPostSendDeliveredLoss: [{ EventType: 1, PushPlatform: 6, ErrCode: '1', ErrCount: 1, ErrInfo: 'regid_invalid' }],
        },
      ],
    });
    assert.equal((await post(app.emulator, 'timpush/all_member_push_loss', {})).body.ErrorCode, 60007, 'one call a second (EN/71895)');
    clock.advance(1000);
    assert.equal((await post(app.emulator, 'timpush/all_member_push_loss', { StartTime: 0, EndTime: 7 * 86400 + 1 })).body.ErrorInfo, 'StartTime..EndTime spans more than 7 days');
  });

  const invalid: Array<[string, Record<string, unknown>]> = [
    ['6 TaskIDs', { TaskID: ['a', 'b', 'c', 'd', 'e', 'f'] }],
    ['a span over 30 days', { StartTime: 0, EndTime: 30 * 86400 + 1 }],
    ['EndTime before StartTime', { StartTime: 10, EndTime: 9 }],
    ['TaskID not an array', { TaskID: 'a' }],
  ];
  for (const [name, body] of invalid) {
    it(`all_member_push_statistics refuses ${name} with 90001`, async () => {
      assert.equal((await post(app.emulator, 'timpush/all_member_push_statistics', body)).body.ErrorCode, 90001);
    });
  }
});

describe('emulator: a 5,000-user seed has varied tags', () => {
  const app = useEmulator({ seedUsers: 5000, rateLimit: 0 });
  it('spreads tags deterministically in both families', () => {
    const count = new Map<string, number>();
    for (const id of seededIds(1, 5000)) for (const t of app.emulator.state.tagsOf(id)) count.set(t, (count.get(t) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...count].sort(([a], [b]) => a.localeCompare(b))), {
      beta: 1137,
      'cohort-0': 455,
      'cohort-1': 454,
      'cohort-2': 454,
      'cohort-3': 454,
      'cohort-4': 454,
      'cohort-5': 455,
      'cohort-6': 455,
      'cohort-7': 455,
      'cohort-8': 455,
      'cohort-9': 455,
      'lang-en': 1515,
      'lang-es': 1515,
      'lang-zh': 1516,
      vip: 910,
    });
    assert.equal(app.emulator.state.timpush.tagUsers.get('vip'), 910);
    assert.deepEqual(app.emulator.state.timpush.tagsOf('user004999'), app.emulator.state.tagsOf('user004999'));
  });
});

describe('emulator: timpush/batch', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 3, rateLimit: 0, now: clock.now });

  it('pushes to the listed accounts, with 70107 for an unknown one (F12), and is listed as a batch task', async () => {
    const answer = await post(app.emulator, 'timpush/batch', { From_Account: 'admin', To_Account: ['user000002', 'user', 'user000001'], MsgRandom: 9, OfflinePushInfo: { Title: 'hi' }, DataId: 'd'.repeat(64) });
    assert.deepEqual(answer.body, { ...OK, TaskId: answer.body.TaskId, ErrorList: [{ To_Account: 'user', ErrorCode: 70107, ErrorInfo: 'account not imported' }] });
    assert.match(answer.body.TaskId as string, /^batch_[0-9a-f]+_53724e00_[0-9a-f]+_9$/);
    const task = app.emulator.pushes.at(-1)!;
    assert.deepEqual([task.kind, task.recipients], ['batch', ['user000002', 'user000001']]);
    // Not a condition push: no spacing against it, and revoke does not take it.
    assert.equal((await post(app.emulator, 'timpush/push', { MsgRandom: 1 })).body.ErrorCode, 0);
    assert.equal((await post(app.emulator, 'timpush/revoke', { TaskId: answer.body.TaskId, OfflinePushInfo: {} })).body.ErrorCode, 90049);
  });

  const invalid: Array<[string, Record<string, unknown>, number, string]> = [
    ['no accounts', { To_Account: [], MsgRandom: 1 }, 90001, 'Invalid format of To_Account: 1 to 500 accounts'],
    ['501 accounts', { To_Account: Array.from({ length: 501 }, (_, i) => `a${i}`), MsgRandom: 1 }, 90001, 'Invalid format of To_Account: 1 to 500 accounts'],
    ['no MsgRandom (F12)', { To_Account: ['user000001'] }, 90001, 'Invalid format of MsgRandom'],
    ['a 65-byte DataId', { To_Account: ['user000001'], MsgRandom: 1, DataId: 'd'.repeat(65) }, 90057, 'DataId is longer than 64 bytes'],
  ];
  for (const [name, body, code, info] of invalid) {
    it(`refuses ${name} with ${code} and an empty TaskId`, async () => {
      assert.deepEqual((await post(app.emulator, 'timpush/batch', body)).body, { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info, TaskId: '' });
    });
  }
});
