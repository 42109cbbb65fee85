import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EmulatorState, type StateFile } from '../../src/emulator/state.js';
import { requestLog, startTestEmulator, useEmulator, useTempDir } from '../helpers/cli.js';
import { getJson, OK, post } from '../helpers/emulator-api.js';

describe('emulator: account_check', () => {
  const app = useEmulator({ seedUsers: 3, rateLimit: 0, notImported: ['user000002'], registrationIds: ['reg-1'] });

  it('answers Imported / NotImported from the store (F19)', async () => {
    const body = { CheckItem: [{ UserID: 'user000001' }, { UserID: 'user000002' }, { UserID: 'nobody' }, { UserID: 'reg-1' }] };
    assert.deepEqual((await post(app.emulator, 'im_open_login_svc/account_check', body)).body, {
      ...OK,
      ResultItem: [
        { UserID: 'user000001', ResultCode: 0, ResultInfo: '', AccountStatus: 'Imported' },
        { UserID: 'user000002', ResultCode: 0, ResultInfo: '', AccountStatus: 'NotImported' },
        { UserID: 'nobody', ResultCode: 0, ResultInfo: '', AccountStatus: 'NotImported' },
        { UserID: 'reg-1', ResultCode: 0, ResultInfo: '', AccountStatus: 'NotImported' },
      ],
    });
    assert.deepEqual(requestLog(app.emulator), [['im_open_login_svc/account_check', body]]);
    assert.equal(app.emulator.requests[0]?.path, '/v4/im_open_login_svc/account_check');
    assert.deepEqual(app.emulator.stats().requests, { 'im_open_login_svc/account_check': 1 });
  });

  const invalid: Array<[string, unknown, string]> = [
    ['101 items', { CheckItem: Array.from({ length: 101 }, (_, i) => ({ UserID: `u${i}` })) }, 'too many accounts: 101 > 100'],
    ['an item without UserID', { CheckItem: [{ Account: 'a' }] }, 'Invalid format of CheckItem'],
    ['no CheckItem', {}, 'Invalid format of CheckItem'],
  ];
  for (const [name, body, info] of invalid) {
    it(`refuses ${name} with 70402`, async () => {
      assert.deepEqual((await post(app.emulator, 'im_open_login_svc/account_check', body)).body, { ActionStatus: 'FAIL', ErrorCode: 70402, ErrorInfo: info });
    });
  }

  it('answers 404 / 60002 for an unknown command, and for a command under another service', async () => {
    for (const path of ['timpush/no_such', 'im_get_tag', 'all_member_push/timpush/get_tag', 'timpush/im_get_tag', 'all_member_push/nope']) {
      const answer = await post(app.emulator, path, { To_Account: ['user000001'] });
      assert.equal(answer.status, 404, path);
      assert.deepEqual(answer.body, { ActionStatus: 'FAIL', ErrorCode: 60002, ErrorInfo: `no such command: /v4/${path}` });
    }
    assert.deepEqual(app.emulator.stats().requests, {
      '/v4/timpush/no_such': 1,
      '/v4/im_get_tag': 1,
      '/v4/all_member_push/timpush/get_tag': 1,
      '/v4/timpush/im_get_tag': 1,
      nope: 1,
    });
  });

  it('counts the new endpoints in /_emulator/stats (requests, batch sizes, errors)', async () => {
    const e = app.emulator;
    await post(e, 'timpush/get_attr', { To_Account: ['user000001', 'user000003', 'user000002'] });
    await post(e, 'timpush/get_tag', { To_Account: Array.from({ length: 101 }, (_, i) => `u${i}`) });
    const stats = (await getJson(e, 'stats')) as Record<string, unknown>;
    assert.deepEqual(stats.requests, { 'timpush/get_attr': 1, 'timpush/get_tag': 1 });
    assert.equal(stats.largestBatch, 3);
    assert.equal(stats.accountsServed, 2);
    assert.deepEqual(stats.errors, { '90018': 1 });
    assert.deepEqual(e.requests.map((r) => r.outcome), ['0', '90018']);
  });
});

describe('emulator: --envelope', () => {
  /** The envelope keys and ErrorInfo of `n` answers to the same call. */
  async function shapes(envelope: 'strict' | 'loose', faultSeed: number, n: number): Promise<string[]> {
    const e = await startTestEmulator({ envelope, faultSeed, rateLimit: 0, seedUsers: 1 });
    try {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const { body } = await post(e, 'all_member_push/im_get_tag', { To_Account: i === 0 ? [''] : ['user000001'] });
        out.push(`${'ActionStatus' in body ? 'A' : '-'}${'ErrorInfo' in body ? `I(${body.ErrorInfo as string})` : '-'}${body.ErrorCode as number}`);
      }
      return out;
    } finally {
      await e.close();
    }
  }

  it('strict: every answer has ActionStatus, ErrorCode and ErrorInfo', async () => {
    assert.deepEqual(await shapes('strict', 1, 6), ['AI(Invalid format of To_Account)90001', 'AI()0', 'AI()0', 'AI()0', 'AI()0', 'AI()0']);
  });

  it('loose: a seeded mix of missing ActionStatus, "sucess", missing ErrorInfo and full envelopes, the same for the same seed', async () => {
    const first = await shapes('loose', 1, 12);
    assert.deepEqual(first, await shapes('loose', 1, 12));
    assert.deepEqual(first, [
      'AI(Invalid format of To_Account)90001',
      '-I()0',
      'AI(sucess)0',
      '-I()0',
      'AI()0',
      'AI(sucess)0',
      'AI(sucess)0',
      '-I()0',
      'AI(sucess)0',
      'A-0',
      '-I()0',
      '-I()0',
    ]);
  });
});

describe('emulator: --latency-in', () => {
  it('holds a request before the rate limiter and the log see it, for a seeded ± jitter', async () => {
    const held: Array<{ serve: () => void; ms: number }> = [];
    const clock = { ms: 1_000_000 };
    const e = await startTestEmulator({ latencyInMs: 40, jitterInMs: 20, rateLimit: 1, now: () => clock.ms, scheduleInbound: (serve, ms) => held.push({ serve, ms }) });
    try {
      const first = post(e, 'all_member_push/im_get_attr_name', {});
      const second = post(e, 'all_member_push/im_get_attr_name', {});
      while (held.length < 2) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(await getJson(e, 'requests'), [], 'nothing reached the emulator yet');
      // The seeded jitter: the same numbers on every run with the default --fault-seed.
      assert.deepEqual(held.map((h) => Math.round(h.ms * 1000) / 1000), [56.945, 33.322]);
      // Released one second apart, both pass a 1/s limiter: it counts arrivals, not sends.
      clock.ms += 40;
      held[1]!.serve();
      clock.ms += 1000;
      held[0]!.serve();
      assert.equal((await first).body.ErrorCode, 0);
      assert.equal((await second).body.ErrorCode, 0);
      assert.deepEqual(e.requests.map((r) => r.receivedAt), [1_000_040, 1_001_040]);
      // Each logged with the delay it was held for (the bench takes it off the dating delay).
      assert.deepEqual(e.requests.map((r) => Math.round(r.heldInMs! * 1000) / 1000), [33.322, 56.945]);
      assert.equal(e.stats().rejectedForRate, 0);
    } finally {
      await e.close();
    }
  });
});

describe('emulator: --data file with tags, TIMPush and import flags', () => {
  const files = useTempDir();

  it('loads today\'s files unchanged and saves them without new fields', () => {
    const file = files.write('old.json', JSON.stringify({ attrNames: { '0': 'sex' }, users: { alice: { sex: 'F' } } }));
    const state = EmulatorState.load(file);
    const out = path.join(files.dir, 'old-out.json');
    state.save(out);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { attrNames: { '0': 'sex' }, users: { alice: { sex: 'F' } } });
  });

  it('reads tags, notImported and the timpush section, and writes them back', () => {
    const data: StateFile = {
      attrNames: { '0': 'sex' },
      users: { alice: { sex: 'F' }, gone: {} },
      tags: { alice: ['vip'], bob: ['beta'] },
      notImported: ['gone'],
      timpush: {
        attrNames: { '0': 'sex', '1': 'device' },
        attrTypes: { '1': 1 },
        users: { alice: { sex: 'F' }, 'reg-1': { device: 'ios' } },
        tags: { carol: ['t'] },
        registrationIds: ['reg-1'],
      },
    };
    const state = EmulatorState.load(files.write('new.json', JSON.stringify(data)));
    assert.deepEqual([...state.users.keys()], ['alice', 'bob', 'carol']);
    assert.equal(state.isImported('reg-1'), false);
    assert.deepEqual(state.timpush.attrsOf('reg-1'), { device: 'ios' });
    const out = path.join(files.dir, 'new-out.json');
    state.save(out);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), {
      attrNames: { '0': 'sex' },
      users: { alice: { sex: 'F' }, bob: {}, carol: {} },
      tags: { alice: ['vip'], bob: ['beta'] },
      timpush: {
        attrNames: { '0': 'sex', '1': 'device' },
        attrTypes: { '1': 1 },
        users: { alice: { sex: 'F' }, 'reg-1': { device: 'ios' } },
        tags: { carol: ['t'] },
        registrationIds: ['reg-1'],
      },
    });
  });
});
