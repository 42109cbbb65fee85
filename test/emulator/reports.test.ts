import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PushEdition } from '../../src/emulator/server.js';
import { formatUtc } from '../../src/emulator/time.js';
import { startTestEmulator, useEmulator } from '../helpers/cli.js';
import { post, TestClock } from '../helpers/emulator-api.js';

describe('emulator: timpush/batch runs at the edition\'s rate (DELIVERY.md §1)', () => {
  const cases: Array<[PushEdition | undefined, number]> = [
    [undefined, 10],
    ['free', 10],
    ['standard', 30],
    ['advanced', 40],
  ];
  for (const [edition, perSecond] of cases) {
    it(`${edition ?? 'no edition (free)'}: ${perSecond} calls in a second, the next one 60007`, async () => {
      const clock = new TestClock();
      const e = await startTestEmulator({ seedUsers: 1, now: clock.now, ...(edition ? { pushEdition: edition } : {}) });
      try {
        const codes: number[] = [];
        for (let i = 0; i <= perSecond; i++) codes.push((await post(e, 'timpush/batch', { To_Account: ['user000001'], MsgRandom: i })).body.ErrorCode as number);
        assert.deepEqual(codes, [...new Array<number>(perSecond).fill(0), 60007]);
        assert.equal(e.pushes.length, perSecond);
        clock.advance(1000);
        assert.equal((await post(e, 'timpush/batch', { To_Account: ['user000001'], MsgRandom: 1 })).body.ErrorCode, 0);
      } finally {
        await e.close();
      }
    });
  }

  it('does not count against the daily push quota (the reading the help states)', async () => {
    const clock = new TestClock();
    const e = await startTestEmulator({ seedUsers: 1, now: clock.now, pushQuota: 1, rateLimit: 0 });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await post(e, 'timpush/batch', { To_Account: ['user000001'], MsgRandom: i })).body.ErrorCode, 0);
      assert.equal((await post(e, 'timpush/push', { MsgRandom: 1 })).body.ErrorCode, 0);
      clock.advance(1001);
      assert.equal((await post(e, 'timpush/push', { MsgRandom: 2 })).body.ErrorCode, 90047);
    } finally {
      await e.close();
    }
  });
});

describe('emulator: reports of batch tasks, and all_member_push_trace (C4)', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 20, rateLimit: 0, now: clock.now });

  it('statistics and loss accept a batch_ TaskId, counted from its recipients', async () => {
    const batch = await post(app.emulator, 'timpush/batch', { To_Account: ['user000007', 'user000013', 'user000015', 'user000016', 'ghost'], MsgRandom: 5 });
    const id = batch.body.TaskId as string;
    assert.match(id, /^batch_/);
    const stats = await post(app.emulator, 'timpush/all_member_push_statistics', { TaskID: [id] });
    assert.deepEqual(stats.body.Results, [
      {
        TaskID: id,
        TotalCount: 4,
        SentCount: 3,
        DeliveredCount: 2,
        ClickCount: 1,
        PlatformStatistics: [
          { EventType: 1, PushPlatform: 6, TotalCount: 1, SentCount: 1, DeliveredCount: 0, ClickCount: 0 },
          { EventType: 1, PushPlatform: 8, TotalCount: 2, SentCount: 1, DeliveredCount: 1, ClickCount: 1 },
          { EventType: 2, PushPlatform: 0, TotalCount: 1, SentCount: 1, DeliveredCount: 1, ClickCount: 0 },
        ],
      },
    ]);
    const loss = await post(app.emulator, 'timpush/all_member_push_loss', { TaskID: [id] });
    assert.deepEqual(loss.body.Results[0].ReadyToSendLoss, [{ ErrCode: '-2', ErrCount: 1, ErrInfo: 'token not uploaded' }]);
    assert.deepEqual(loss.body.Results[0].PostSendDeliveredLoss, [{ ErrCode: '1', ErrCount: 1, ErrInfo: 'regid_invalid' }]);
  });

  it('trace answers one InstanceTrace per recipient device in C4\'s shape, "sucess" included', async () => {
    clock.advance(1001);
    const push = await post(app.emulator, 'timpush/push', { MsgRandom: 9, Condition: { TagsOr: ['vip'] } });
    const TaskID = push.body.TaskId as string;
    const t = app.emulator.pushes.at(-1)!.createdAt;
    const at = (s: number): string => formatUtc(t + s * 1000);
    const done = (s: number): object => ({ PushStatus: 1, ErrorCode: 0, ErrorInfo: 'success', EventTime: at(s) });
    const none = { PushStatus: 0, ErrorCode: 0, ErrorInfo: '', EventTime: '' };
    // user000015: platform 8, offline, reached and clicked.
    assert.deepEqual((await post(app.emulator, 'timpush/all_member_push_trace', { TaskID, UserID: 'user000015' })).body, {
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorInfo: 'sucess',
      InstanceTrace: [
        {
          InstanceId: '15',
          PushTime: at(0),
          DeviceModel: '',
          System: 'Android',
          SystemVersion: '',
          EventType: 1,
          PushPlatform: 8,
          Token: 'token-f',
          CertId: '1008',
          SdkVersion: '8.0.1',
          PushVersion: '8.0.1',
          NotificationStatus: 1,
          last_active_terminal: 1,
          IMCommitStat: { IMStat: done(2) },
          OfflinePushStat: { OfflineStat: done(2), ChannelStat: done(2), DeviceStat: done(3), ClickStat: done(60) },
          OnlinePushStat: { OnlineStat: none },
        },
      ],
    });
    // user000020: online (EventType 2, PushPlatform 0).
    const online = (await post(app.emulator, 'timpush/all_member_push_trace', { TaskID, UserID: 'user000020' })).body.InstanceTrace[0];
    assert.deepEqual([online.EventType, online.PushPlatform, online.OnlinePushStat, online.OfflinePushStat.ClickStat], [2, 0, { OnlineStat: done(3) }, none]);
  });

  it('trace: a lost push shows the failed step with its code; a non-recipient, an unknown task or one older than 7 days gives none', async () => {
    const batch = await post(app.emulator, 'timpush/batch', { To_Account: ['user000007', 'user000013'], MsgRandom: 1 });
    const TaskID = batch.body.TaskId as string;
    const t = app.emulator.pushes.at(-1)!.createdAt;
    const noToken = (await post(app.emulator, 'timpush/all_member_push_trace', { TaskID, UserID: 'user000007' })).body.InstanceTrace[0];
    assert.deepEqual([noToken.Token, noToken.OfflinePushStat.OfflineStat], ['', { PushStatus: 2, ErrorCode: -2, ErrorInfo: 'token not uploaded', EventTime: formatUtc(t + 2000) }]);
    const lost = (await post(app.emulator, 'timpush/all_member_push_trace', { TaskID, UserID: 'user000013' })).body.InstanceTrace[0];
    assert.deepEqual(lost.OfflinePushStat.DeviceStat, { PushStatus: 2, ErrorCode: 1, ErrorInfo: 'regid_invalid', EventTime: formatUtc(t + 3000) });
    for (const body of [{ TaskID, UserID: 'user000001' }, { TaskID: 'no-such-task', UserID: 'user000007' }]) {
      assert.deepEqual((await post(app.emulator, 'timpush/all_member_push_trace', body)).body, { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: 'sucess', InstanceTrace: [] });
    }
    clock.advance(7 * 86_400_000 + 1);
    assert.deepEqual((await post(app.emulator, 'timpush/all_member_push_trace', { TaskID, UserID: 'user000007' })).body.InstanceTrace, []);
    assert.deepEqual((await post(app.emulator, 'timpush/all_member_push_trace', { TaskID })).body, { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'Invalid format of UserID' });
  });
});

describe('emulator: all_member_push_trace is limited to 1 call a second', () => {
  const clock = new TestClock();
  const app = useEmulator({ now: clock.now });
  it('answers the second call in a second with 60007', async () => {
    assert.equal((await post(app.emulator, 'timpush/all_member_push_trace', { TaskID: 'a', UserID: 'b' })).body.ErrorCode, 0);
    assert.equal((await post(app.emulator, 'timpush/all_member_push_trace', { TaskID: 'a', UserID: 'b' })).body.ErrorCode, 60007);
  });
});
