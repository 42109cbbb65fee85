import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useEmulator } from '../helpers/cli.js';
import { OK, post, TestClock } from '../helpers/emulator-api.js';

const TEXT = [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } }];

describe('emulator: a JSON null is an absent field, on every endpoint', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 10, rateLimit: 0, now: clock.now });

  it('timpush/batch takes "DataId": null like timpush/push does, and records no DataId', async () => {
    const batch = await post(app.emulator, 'timpush/batch', { To_Account: ['user000001'], MsgRandom: 1, DataId: null, OfflinePushInfo: null });
    assert.deepEqual(batch.body, { ...OK, TaskId: batch.body.TaskId });
    assert.equal('dataId' in app.emulator.pushes.at(-1)!, false);
    clock.advance(1001);
    assert.equal((await post(app.emulator, 'timpush/push', { MsgRandom: 1, DataId: null })).body.ErrorCode, 0);
  });

  it('takes a Condition with null fields (Go structs without omitempty) on both families', async () => {
    const Condition = { TagsAnd: null, TagsOr: ['vip'], TagsNot: null, AttrsAnd: null, AttrsOr: null };
    clock.advance(1001);
    assert.equal((await post(app.emulator, 'timpush/push', { MsgRandom: 2, Condition })).body.ErrorCode, 0);
    assert.deepEqual(app.emulator.pushes.at(-1)!.recipients, ['user000005', 'user000010']);
    assert.deepEqual(app.emulator.pushes.at(-1)!.condition, { TagsOr: ['vip'] });
    clock.advance(1001);
    assert.equal((await post(app.emulator, 'all_member_push/im_push', { MsgRandom: 3, MsgBody: TEXT, MsgLifeTime: null, Condition })).body.ErrorCode, 0);
    assert.deepEqual(app.emulator.pushes.at(-1)!.recipients, ['user000005', 'user000010']);
  });

  it('reads a null Replace or AttrTypes as absent, and still refuses a null account', async () => {
    assert.deepEqual((await post(app.emulator, 'timpush/add_tag', { Replace: null, UserTags: [{ To_Account: 'user000001', Tags: ['n'] }] })).body, OK);
    assert.deepEqual((await post(app.emulator, 'timpush/set_attr_name', { AttrNames: { '3': 'x' }, AttrTypes: null })).body, OK);
    assert.deepEqual((await post(app.emulator, 'timpush/get_tag', { To_Account: ['user000001', null] })).body, { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'Invalid format of To_Account' });
  });
});

describe('emulator: ErrorInfo says "Invalid format of <Field>" (R1, F12) on every family', () => {
  const app = useEmulator({ seedUsers: 3, rateLimit: 0 });
  const cases: Array<[string, unknown, string]> = [
    ['all_member_push/im_get_attr', {}, 'Invalid format of To_Account'],
    ['all_member_push/im_set_attr', { UserAttrs: 'alice' }, 'Invalid format of UserAttrs'],
    ['all_member_push/im_set_attr', { UserAttrs: [{ Attrs: { sex: 'F' } }] }, 'Invalid format of To_Account'],
    ['all_member_push/im_set_attr', { UserAttrs: [{ To_Account: 'user000001', Attrs: ['sex'] }] }, 'Invalid format of Attrs'],
    ['all_member_push/im_remove_attr', { UserAttrs: [{ To_Account: 'user000001', Attrs: { sex: 'F' } }] }, 'Invalid format of Attrs: an array of names'],
    ['all_member_push/im_set_attr_name', { AttrNames: ['sex'] }, 'Invalid format of AttrNames'],
    ['timpush/set_attr', { UserAttrs: {} }, 'Invalid format of UserAttrs'],
    ['timpush/all_member_push_trace', { TaskID: 1, UserID: 'u' }, 'Invalid format of TaskID'],
    ['all_member_push/im_get_attr_name', '[1]', 'Invalid format of the request body: not a JSON object'],
    ['all_member_push/im_get_attr_name', 'not json', 'Invalid format of the request body: not a JSON object'],
  ];
  for (const [path, body, info] of cases) {
    it(`${path} ${JSON.stringify(body)} → 90001 "${info}"`, async () => {
      assert.deepEqual((await post(app.emulator, path, body)).body, { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: info });
    });
  }
});

describe('emulator: im_push TaskIds', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 1, rateLimit: 0, now: clock.now });

  it('count up the middle field of F4\'s shape past 2^53, one per push (BigInt, not a Number)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1001);
      const answer = await post(app.emulator, 'all_member_push/im_push', { MsgRandom: 15723514, MsgBody: TEXT });
      ids.push(answer.body.TaskId as string);
    }
    const seconds = (offset: number): number => Math.floor((clock.ms - offset) / 1000);
    assert.deepEqual(ids, [
      `1400000000_144115212910570001_${seconds(2002)}_15723514`,
      `1400000000_144115212910570002_${seconds(1001)}_15723514`,
      `1400000000_144115212910570003_${seconds(0)}_15723514`,
    ]);
  });
});
