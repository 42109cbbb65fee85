import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestLog, useEmulator } from '../helpers/cli.js';
import { OK, post } from '../helpers/emulator-api.js';

const tags = (n: number, prefix = 't'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const accounts = (n: number): string[] => Array.from({ length: n }, (_, i) => `acct${i}`);

describe('emulator: all_member_push tags', () => {
  const app = useEmulator({ seedUsers: 12, rateLimit: 0 }, { perTest: true });

  it('im_get_tag answers the seeded tags, and 70107 for an account never imported', async () => {
    const answer = await post(app.emulator, 'all_member_push/im_get_tag', { To_Account: ['user000001', 'user000011', 'user000005', 'nobody'] });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      ...OK,
      UserTags: [
        { To_Account: 'user000001', Tags: ['lang-zh', 'cohort-1', 'beta'] },
        { To_Account: 'user000011', Tags: [] },
        { To_Account: 'user000005', Tags: ['lang-es', 'cohort-5', 'vip', 'beta'] },
      ],
      ErrorList: [{ To_Account: 'nobody', ErrorCode: 70107, ErrorInfo: 'account not imported' }],
    });
    assert.deepEqual(requestLog(app.emulator), [['im_get_tag', { To_Account: ['user000001', 'user000011', 'user000005', 'nobody'] }]]);
    assert.equal(app.emulator.requests[0]?.path, '/v4/all_member_push/im_get_tag');
  });

  it('im_add_tag adds without duplicates, imports a new account, and im_remove_tag / im_remove_all_tags remove', async () => {
    const e = app.emulator;
    assert.deepEqual((await post(e, 'all_member_push/im_add_tag', { UserTags: [{ To_Account: 'user000002', Tags: ['vip', 'lang-es', 'new'] }, { To_Account: 'fresh', Tags: ['a'] }] })).body, OK);
    assert.deepEqual((await post(e, 'all_member_push/im_get_tag', { To_Account: ['user000002', 'fresh'] })).body.UserTags, [
      { To_Account: 'user000002', Tags: ['lang-es', 'cohort-2', 'vip', 'new'] },
      { To_Account: 'fresh', Tags: ['a'] },
    ]);
    assert.deepEqual((await post(e, 'all_member_push/im_remove_tag', { UserTags: [{ To_Account: 'user000002', Tags: ['vip', 'absent'] }, { To_Account: 'nobody', Tags: ['x'] }] })).body, OK);
    assert.deepEqual((await post(e, 'all_member_push/im_remove_all_tags', { To_Account: ['fresh', 'nobody'] })).body, OK);
    assert.deepEqual((await post(e, 'all_member_push/im_get_tag', { To_Account: ['user000002', 'fresh', 'nobody'] })).body, {
      ...OK,
      UserTags: [
        { To_Account: 'user000002', Tags: ['lang-es', 'cohort-2', 'new'] },
        { To_Account: 'fresh', Tags: [] },
      ],
      ErrorList: [{ To_Account: 'nobody', ErrorCode: 70107, ErrorInfo: 'account not imported' }],
    });
    assert.deepEqual(requestLog(e).map(([command]) => command), ['im_add_tag', 'im_get_tag', 'im_remove_tag', 'im_remove_all_tags', 'im_get_tag']);
    assert.deepEqual(e.stats().requests, { im_add_tag: 1, im_get_tag: 2, im_remove_tag: 1, im_remove_all_tags: 1 });
  });

  // One row per documented limit: [name, path, body, code, ErrorInfo].
  const limits: Array<[string, string, unknown, number, string]> = [
    ['im_get_tag with 101 accounts', 'im_get_tag', { To_Account: accounts(101) }, 90018, 'too many accounts: 101 > 100'],
    ['im_get_tag without To_Account', 'im_get_tag', {}, 90001, 'Invalid format of To_Account'],
    ['im_add_tag for 101 accounts', 'im_add_tag', { UserTags: accounts(101).map((a) => ({ To_Account: a, Tags: ['x'] })) }, 90018, 'too many accounts: 101 > 100'],
    ['im_add_tag with 11 tags for one user', 'im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: tags(11) }] }, 90032, 'user000001: 11 tags in one request; at most 10'],
    ['im_add_tag with a 51-byte tag', 'im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: ['x'.repeat(51)] }] }, 90034, `user000001: tag "${'x'.repeat(51)}" is empty or longer than 50 bytes`],
    ['im_add_tag with an empty tag', 'im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: [''] }] }, 90034, 'user000001: tag "" is empty or longer than 50 bytes'],
    ['im_add_tag with Tags not an array', 'im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: 'vip' }] }, 90001, 'Invalid format of Tags'],
    ['im_add_tag without To_Account', 'im_add_tag', { UserTags: [{ Tags: ['a'] }] }, 90001, 'Invalid format of To_Account'],
    ['im_remove_tag for 101 accounts', 'im_remove_tag', { UserTags: accounts(101).map((a) => ({ To_Account: a, Tags: ['x'] })) }, 90018, 'too many accounts: 101 > 100'],
    ['im_remove_all_tags with 101 accounts', 'im_remove_all_tags', { To_Account: accounts(101) }, 90018, 'too many accounts: 101 > 100'],
    ['im_remove_all_tags with a string (the 2020 page)', 'im_remove_all_tags', { To_Account: 'user000001' }, 90001, 'Invalid format of To_Account'],
  ];
  for (const [name, command, body, code, info] of limits) {
    it(`${name} → ${code}, nothing changed`, async () => {
      const answer = await post(app.emulator, `all_member_push/${command}`, body);
      assert.deepEqual(answer.body, { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info });
      assert.deepEqual(app.emulator.state.tagsOf('user000001'), ['lang-zh', 'cohort-1', 'beta']);
    });
  }

  it('im_add_tag takes exactly 10 tags and 100 accounts', async () => {
    assert.deepEqual((await post(app.emulator, 'all_member_push/im_add_tag', { UserTags: accounts(100).map((a) => ({ To_Account: a, Tags: tags(10) })) })).body, OK);
    assert.deepEqual(app.emulator.state.tagsOf('acct99'), tags(10));
  });

  it('refuses the add that would give a user a 101st tag (90032), and takes the 100th', async () => {
    const e = app.emulator;
    for (let i = 0; i < 10; i++) {
      const Tags = tags(10, `b${i}-`).slice(0, i === 9 ? 7 : 10); // 97 tags + 3 seeded = 100
      assert.deepEqual((await post(e, 'all_member_push/im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags }] })).body, OK);
    }
    assert.equal(e.state.tagsOf('user000001').length, 100);
    const over = await post(e, 'all_member_push/im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: ['one-more'] }] });
    assert.deepEqual(over.body, { ActionStatus: 'FAIL', ErrorCode: 90032, ErrorInfo: 'user000001 would have 101 tags; at most 100 (remove old tags first)' });
    // A tag the user already has is no new tag.
    assert.deepEqual((await post(e, 'all_member_push/im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: ['beta'] }] })).body, OK);
  });

  it('a bad entry anywhere rejects the whole im_add_tag request', async () => {
    const answer = await post(app.emulator, 'all_member_push/im_add_tag', { UserTags: [{ To_Account: 'user000002', Tags: ['ok'] }, { To_Account: 'user000003', Tags: tags(11) }] });
    assert.equal(answer.body.ErrorCode, 90032);
    assert.deepEqual(app.emulator.state.tagsOf('user000002'), ['lang-es', 'cohort-2']);
  });

  it('seeded tags stay removed: im_remove_all_tags, and an account made not imported then imported again', async () => {
    const e = app.emulator;
    assert.deepEqual((await post(e, 'all_member_push/im_remove_all_tags', { To_Account: ['user000001'] })).body, OK);
    e.state.unimport('user000002');
    assert.deepEqual((await post(e, 'all_member_push/im_add_tag', { UserTags: [{ To_Account: 'user000002', Tags: ['back'] }] })).body, OK);
    assert.deepEqual((await post(e, 'all_member_push/im_get_tag', { To_Account: ['user000001', 'user000002'] })).body.UserTags, [
      { To_Account: 'user000001', Tags: [] },
      { To_Account: 'user000002', Tags: ['back'] },
    ]);
    assert.deepEqual(e.state.timpush.tagsOf('user000002'), []);
    assert.deepEqual(e.state.timpush.attrsOf('user000002'), {});
  });
});
