import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAMILIES } from '../../src/api/families.js';
import { joinOutcomes, readAccountCheck, readStatistics } from '../../src/api/push.js';
import type { Envelope } from '../../src/api/envelope.js';

const ctx = { clean: (text: string) => text, trace: () => undefined, warn: () => undefined };
const OK = { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' };

describe('push operations: descriptors', () => {
  it('pins paths, retry safety and batch limits in both family tables', () => {
    const amp = FAMILIES.all_member_push;
    const tp = FAMILIES.timpush;
    assert.deepEqual([amp.push?.path, amp.push?.retrySafe, amp.push?.writes], ['v4/all_member_push/im_push', false, true]);
    assert.deepEqual([tp.push?.path, tp.push?.retrySafe, tp.push?.writes], ['v4/timpush/push', false, true]);
    assert.equal(tp.revokePush?.path, 'v4/timpush/revoke');
    assert.deepEqual([tp.pushStatistics?.path, tp.pushStatistics?.maxItems], ['v4/timpush/all_member_push_statistics', 5]);
    assert.equal(amp.revokePush, undefined);
    assert.equal(amp.pushStatistics, undefined);
    // account_check is outside both prefixes: the same endpoint in both tables.
    for (const family of [amp, tp]) {
      assert.deepEqual([family.accountCheck?.path, family.accountCheck?.maxItems], ['v4/im_open_login_svc/account_check', 100]);
      assert.deepEqual(family.accountCheck?.body(['a', 'b']), { CheckItem: [{ UserID: 'a' }, { UserID: 'b' }] });
    }
  });
});

describe('push operations: readers', () => {
  it('reads statistics (F14, "sucess" included) per TaskID asked for; one left out fails', () => {
    const envelope: Envelope = {
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorInfo: 'sucess',
      Results: [{ TaskID: 'xxx-yyy-zzz', TotalCount: 2670, SentCount: 2213, DeliveredCount: 532, ClickCount: 206, PlatformStatistics: [] }],
    };
    const outcome = readStatistics('all_member_push_statistics', envelope, ['xxx-yyy-zzz', 'gone']);
    assert.deepEqual(
      outcome.results.map(({ raw: _raw, ...counts }) => counts),
      [{ TaskID: 'xxx-yyy-zzz', TotalCount: 2670, SentCount: 2213, DeliveredCount: 532, ClickCount: 206 }],
    );
    assert.deepEqual(outcome.failures.map((f) => f.index), [1]);
    assert.equal(readStatistics('s', envelope, []).results.length, 1);
  });

  it('reads account_check (F19) in request order; a ResultCode or a missing account fails', () => {
    const envelope: Envelope = {
      ...OK,
      ResultItem: [
        { UserID: 'UserID_2', ResultCode: 0, ResultInfo: '', AccountStatus: 'NotImported' },
        { UserID: 'UserID_1', ResultCode: 0, ResultInfo: '', AccountStatus: 'Imported' },
        { UserID: 'bad', ResultCode: 70402, ResultInfo: 'invalid', AccountStatus: '' },
      ],
    };
    const outcome = readAccountCheck('account_check', envelope, ['UserID_1', 'UserID_2', 'bad', 'gone'], ctx);
    assert.deepEqual(outcome.results, [
      { UserID: 'UserID_1', AccountStatus: 'Imported' },
      { UserID: 'UserID_2', AccountStatus: 'NotImported' },
    ]);
    assert.deepEqual(outcome.failures, [
      { index: 2, code: 70402, reason: '70402 invalid' },
      { index: 3, reason: 'not in the response' },
    ]);
  });

  it('joins attributes and tags per account: a result only when both answered', () => {
    const outcome = joinOutcomes(
      ['a', 'b', 'c'],
      { results: [{ To_Account: 'a', Attrs: { city: 'Paris' } }, { To_Account: 'c', Attrs: {} }], failures: [{ index: 1, reason: '70107 account not imported' }] },
      { results: [{ To_Account: 'a', Tags: ['vip'] }, { To_Account: 'b', Tags: [] }], failures: [{ index: 2, reason: '91000 internal service error' }] },
    );
    assert.deepEqual(outcome.results, [{ To_Account: 'a', Attrs: { city: 'Paris' }, Tags: ['vip'] }]);
    assert.deepEqual(outcome.failures.map((f) => [['a', 'b', 'c'][f.index], f.reason]), [
      ['b', '70107 account not imported'],
      ['c', '91000 internal service error'],
    ]);
  });
});
