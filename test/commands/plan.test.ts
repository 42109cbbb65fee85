/**
 * plan, apply and diff: the server made to match a desired state, changing only what differs.
 * Seeded emulator, real CLI in-process; every assertion is against the emulator's state and the
 * exact requests it received.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ownRequests, requestLog, runCli, seededIds, tempDir, useEmulator, useTempDir } from '../helpers/cli.js';

const files = useTempDir();

/** The seeded users of the big test (50,000 as the issue asks; --rate 0 against rateLimit 0). */
const USERS = 50_000;

interface State {
  attrsOf(id: string): Record<string, string> | undefined;
  tagsOf(id: string): readonly string[];
}

/** Each seeded account's attributes and tags, as the emulator holds them. */
function snapshot(state: State, ids: readonly string[]): unknown[] {
  return ids.map((id) => [id, state.attrsOf(id) ?? null, [...state.tagsOf(id)]]);
}

/** Write requests (set_attr, remove_attr, add_tag, remove_tag…) as [command, account] pairs. */
function writtenAccounts(requests: Array<[string, unknown]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [command, body] of requests) {
    const b = body as { UserAttrs?: Array<{ To_Account: string }>; UserTags?: Array<{ To_Account: string }>; To_Account?: string[] };
    if (command.includes('get_')) continue;
    for (const item of b.UserAttrs ?? b.UserTags ?? []) out.push([command, item.To_Account]);
    if (Array.isArray(b.To_Account)) for (const a of b.To_Account) out.push([command, a]);
  }
  return out;
}

describe('plan and apply over 50,000 seeded accounts, 1 % of them different', () => {
  const app = useEmulator({ seedUsers: USERS, rateLimit: 0 });

  it('plan lists exactly the differences, apply sends only them, a second plan has none, undo restores the seed', async () => {
    const home = tempDir();
    const env = { ...app.env, XDG_STATE_HOME: path.join(home.dir, 'state') };
    const state = app.emulator.state as unknown as State;
    const ids = seededIds(1, USERS);
    const seed = snapshot(state, ids);
    // 1 %: every 100th account (those without attributes left out), four kinds of change in turn.
    const expected: string[] = [];
    const changed = { set: new Map<string, Record<string, string>>(), remove: new Set<string>(), addTags: new Set<string>(), removeTags: new Set<string>() };
    let text = '';
    ids.forEach((id, index) => {
      const i = index + 1;
      const attrs = { ...state.attrsOf(id) };
      let tags = [...state.tagsOf(id)];
      if (i % 100 === 50 && i % 7 !== 0) {
        switch (Math.floor(i / 100) % 4) {
          case 0:
            expected.push(`~ ${id}  city: ${JSON.stringify(attrs.city).replace(/^"(\S+)"$/, '$1')} → Lyon`);
            attrs.city = 'Lyon';
            changed.set.set(id, { city: 'Lyon' });
            break;
          case 1:
            expected.push(attrs.level === undefined ? `+ ${id}  level=gold` : `~ ${id}  level: ${attrs.level} → gold`);
            attrs.level = 'gold';
            changed.set.set(id, { level: 'gold' });
            break;
          case 2:
            expected.push(`- ${id}  sex`);
            delete attrs.sex;
            changed.remove.add(id);
            break;
          case 3:
            // Seeded accounts 50, 150, … are multiples of 5: "vip", unless they have no tags at all (every 11th).
            expected.push(`+ ${id}  tag deadline:2026-12`);
            changed.addTags.add(id);
            if (tags.includes('vip')) {
              expected.push(`- ${id}  tag vip`);
              changed.removeTags.add(id);
            }
            tags = [...tags.filter((t) => t !== 'vip'), 'deadline:2026-12'];
            break;
        }
      }
      text += `${JSON.stringify({ To_Account: id, Attrs: attrs, Tags: tags })}\n`;
    });
    const accounts = new Set([...changed.set.keys(), ...changed.remove, ...changed.addTags]);
    assert.ok(accounts.size >= USERS / 100 - USERS / 700 - 1 && accounts.size <= USERS / 100);
    files.write('desired.ndjson', text);

    const plan = await runCli(['plan', '--file', 'desired.ndjson', '--prune', '--out', 'plan.ndjson', '--detailed-exitcode', '--rate', '0'], { env, cwd: files.dir });
    assert.equal(plan.code, 6, plan.stderr);
    assert.deepEqual(plan.stdout.trim().split('\n').sort(), expected.sort());
    assert.match(plan.stderr, new RegExp(`plan: 50,000 accounts read: ${(USERS - accounts.size).toLocaleString('en-US')} unchanged, ${accounts.size} to change \\(set ${changed.set.size} attributes on ${changed.set.size} accounts, remove ${changed.remove.size} attributes from ${changed.remove.size} accounts, add ${changed.addTags.size} tags to ${changed.addTags.size} accounts, remove ${changed.removeTags.size} tags from ${changed.removeTags.size} accounts\\)\n`));
    // The plan file: a header, one line per changed account (with the state it was computed from), the counts.
    const lines = readFileSync(path.join(files.dir, 'plan.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual({ ...lines[0], time: undefined, endpoint: undefined }, { plan: 1, time: undefined, sdkAppId: 1400000000, family: 'all_member_push', endpoint: undefined, prune: true, tagPrefix: null, tags: true, inputs: ['desired.ndjson'] });
    assert.equal(lines.length, accounts.size + 2);
    const first = lines.find((l) => l.To_Account === [...changed.set.keys()][0]);
    assert.deepEqual(first, {
      To_Account: [...changed.set.keys()][0],
      set: [...changed.set.values()][0],
      remove: [],
      addTags: [],
      removeTags: [],
      before: { Attrs: state.attrsOf([...changed.set.keys()][0]!), Tags: [...state.tagsOf([...changed.set.keys()][0]!)] },
    });
    // Reads only: one im_get_attr_name, then get_attr and get_tag for the same 500 batches.
    const reads = requestLog(app.emulator).map(([command]) => command);
    assert.deepEqual([...new Set(reads)].sort(), ['im_get_attr', 'im_get_attr_name', 'im_get_tag']);
    assert.equal(reads.filter((c) => c === 'im_get_attr').length, USERS / 100);
    assert.equal(reads.filter((c) => c === 'im_get_tag').length, USERS / 100);

    app.emulator.resetLog();
    const apply = await runCli(['apply', 'plan.ndjson', '--rate', '0', '--yes'], { env, cwd: files.dir });
    assert.equal(apply.code, 0, apply.stderr);
    const log = requestLog(app.emulator);
    // The re-read: exactly the plan's accounts.
    const reread = log.filter(([c]) => c === 'im_get_attr').flatMap(([, b]) => (b as { To_Account: string[] }).To_Account);
    assert.deepEqual(reread.sort(), [...accounts].sort());
    // Writes: no untouched account in any write call, and each change sent once, with only what changed.
    const written = writtenAccounts(log);
    for (const [, account] of written) assert.ok(accounts.has(account), `${account} was not in the plan`);
    const by = (command: string): string[] => written.filter(([c]) => c === command).map(([, a]) => a).sort();
    assert.deepEqual(by('im_set_attr'), [...changed.set.keys()].sort());
    assert.deepEqual(by('im_remove_attr'), [...changed.remove].sort());
    assert.deepEqual(by('im_add_tag'), [...changed.addTags].sort());
    assert.deepEqual(by('im_remove_tag'), [...changed.removeTags].sort());
    for (const [command, body] of log) {
      if (command === 'im_set_attr') for (const u of (body as { UserAttrs: Array<{ To_Account: string; Attrs: object }> }).UserAttrs) assert.deepEqual(u.Attrs, changed.set.get(u.To_Account));
      if (command === 'im_remove_attr') for (const u of (body as { UserAttrs: Array<{ Attrs: string[] }> }).UserAttrs) assert.deepEqual(u.Attrs, ['sex']);
      if (command === 'im_add_tag') for (const u of (body as { UserTags: Array<{ Tags: string[] }> }).UserTags) assert.deepEqual(u.Tags, ['deadline:2026-12']);
      if (command === 'im_remove_tag') for (const u of (body as { UserTags: Array<{ Tags: string[] }> }).UserTags) assert.deepEqual(u.Tags, ['vip']);
    }
    // The fewest calls: one per 100 accounts per kind, against the 500 a full `set --file` would make.
    const writes = log.filter(([c]) => !c.includes('get_')).length;
    assert.equal(writes, Math.ceil(changed.set.size / 100) + Math.ceil(changed.remove.size / 100) + Math.ceil(changed.addTags.size / 100) + Math.ceil(changed.removeTags.size / 100));
    assert.ok(writes <= USERS / 100 / 50, `${writes} write calls, at most 2 % of the ${USERS / 100} of a full set`);

    // The server now matches: a second plan has no changes, and says so with exit 0.
    const again = await runCli(['plan', '--file', 'desired.ndjson', '--prune', '--detailed-exitcode', '--rate', '0'], { env, cwd: files.dir });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /plan: 50,000 accounts read: 50,000 unchanged, 0 to change\nno changes: the server matches the desired state\n/);

    // undo last: every account as seeded (values, attributes that had none, tags).
    const undo = await runCli(['undo', 'last', '--rate', '0', '--yes'], { env });
    assert.equal(undo.code, 0, undo.stderr);
    assert.deepEqual(snapshot(state, ids), seed);
    home.cleanup();
  });
});

describe('plan and apply, one account at a time', () => {
  const app = useEmulator({ seedUsers: 400, rateLimit: 0 }, { perTest: true });
  const desired = (records: object[]): string => files.write('d.ndjson', records.map((r) => JSON.stringify(r)).join('\n') + '\n');

  it('an account changed on the server between plan and apply is not written, and is named', async () => {
    const env = { ...app.env, XDG_STATE_HOME: path.join(files.dir, 'state-moved') };
    desired([
      { To_Account: 'user000001', Attrs: { sex: 'M', city: 'Lyon' } },
      { To_Account: 'user000002', Attrs: { sex: 'F', city: 'Lyon' } },
      { To_Account: 'user000003', Attrs: { sex: 'M', city: 'Lyon', level: 'bronze' } },
    ]);
    const plan = await runCli(['plan', '--file', 'd.ndjson', '--out', 'moved.ndjson', '--rate', '0'], { env, cwd: files.dir });
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(plan.stdout, '~ user000001  city: Shenzhen → Lyon\n~ user000002  city: Singapore → Lyon\n~ user000003  city: Tokyo → Lyon\n');
    assert.equal((await runCli(['set', 'user000002', 'city=Berlin'], { env })).code, 0);
    app.emulator.resetLog();
    const apply = await runCli(['apply', 'moved.ndjson', '--rate', '0', '--failures', 'not-applied.ndjson'], { env, cwd: files.dir });
    assert.equal(apply.code, 5, apply.stderr);
    assert.match(apply.stderr, /not written: user000002: changed on the server since the plan \(city: "Singapore" → "Berlin"\)\n/);
    assert.match(apply.stderr, /im-attrs: 1 account of the plan not written \(1 changed on the server since the plan\); the others were applied\n/);
    assert.deepEqual(writtenAccounts(requestLog(app.emulator)), [['im_set_attr', 'user000001'], ['im_set_attr', 'user000003']]);
    assert.equal(app.emulator.state.attrsOf('user000002')?.city, 'Berlin');
    assert.deepEqual(JSON.parse(readFileSync(path.join(files.dir, 'not-applied.ndjson'), 'utf8')), {
      account: 'user000002',
      code: null,
      reason: 'changed on the server since the plan (city: "Singapore" → "Berlin")',
      retriable: false,
    });
  });

  it('apply stopped by Ctrl-C in its first pass names every account of the plan not written (the rest of that pass and the passes not run), once', async () => {
    const env = { ...app.env, XDG_STATE_HOME: path.join(files.dir, 'state-stop') };
    const ids = seededIds(1, 200);
    // The first 100 need a tag too; the other 100 only the set pass (their names come from its unsent calls).
    desired(ids.map((id, i) => ({ To_Account: id, Attrs: { city: 'Oslo' }, Tags: i < 100 ? ['zz-new'] : [] })));
    const plan = await runCli(['plan', '--file', 'd.ndjson', '--out', 'stop.ndjson', '--rate', '0', '--tag-prefix', 'zz-'], { env, cwd: files.dir });
    assert.equal(plan.code, 0, plan.stderr);
    let signals: { emit(signal: 'SIGINT'): void } | undefined;
    let sets = 0;
    const apply = await runCli(['apply', 'stop.ndjson', '--no-refresh', '--yes', '--batch-size', '10', '--rate', '5', '--save-failed', 'stop-sf.txt', '--failures', 'stop-ff.ndjson'], {
      env,
      cwd: files.dir,
      onSignals: (s) => (signals = s),
      proxy: (command) => {
        if (command === 'im_set_attr' && ++sets === 2) signals!.emit('SIGINT');
        return undefined;
      },
    });
    assert.equal(apply.code, 130, apply.stderr);
    assert.equal(ownRequests(app.emulator).filter((r) => r.command === 'im_add_tag').length, 0, 'the tags pass did not run');
    // The 20 written still need their tag; the 180 others were not sent: all 200 named, each once.
    const saved = readFileSync(path.join(files.dir, 'stop-sf.txt'), 'utf8').trim().split('\n');
    assert.deepEqual([...saved].sort(), [...ids].sort());
    const failures = readFileSync(path.join(files.dir, 'stop-ff.ndjson'), 'utf8').trim().split('\n');
    assert.equal(failures.length, 200);
  });

  it('--tag-prefix changes only the tags with that prefix (all_member_push: remove_tag, then add_tag)', async () => {
    const env = { ...app.env, XDG_STATE_HOME: path.join(files.dir, 'state-prefix') };
    const seedTags = [...app.emulator.state.tagsOf('user000001')];
    desired([{ To_Account: 'user000001', Tags: ['deadline:a'] }]);
    const first = await runCli(['apply', '--file', 'd.ndjson', '--tag-prefix', 'deadline:', '--rate', '0', '--yes'], { env, cwd: files.dir });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '+ user000001  tag deadline:a\n');
    assert.deepEqual(app.emulator.state.tagsOf('user000001'), [...seedTags, 'deadline:a']);
    desired([{ To_Account: 'user000001', Tags: ['deadline:b', 'vip'] }]);
    app.emulator.resetLog();
    const plan = await runCli(['plan', '--file', 'd.ndjson', '--tag-prefix', 'deadline:', '--out', 'prefix.ndjson', '--rate', '0'], { env, cwd: files.dir });
    assert.equal(plan.stdout, '+ user000001  tag deadline:b\n- user000001  tag deadline:a\n');
    app.emulator.resetLog();
    assert.equal((await runCli(['apply', 'prefix.ndjson', '--rate', '0'], { env, cwd: files.dir })).code, 0);
    assert.deepEqual(requestLog(app.emulator).filter(([c]) => !c.includes('get_')), [
      ['im_remove_tag', { UserTags: [{ To_Account: 'user000001', Tags: ['deadline:a'] }] }],
      ['im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: ['deadline:b'] }] }],
    ]);
    assert.deepEqual(app.emulator.state.tagsOf('user000001'), [...seedTags, 'deadline:b']);
  });

  it('TIMPush: a tag change with adds and removes is one add_tag Replace: 1 with the whole list; undo restores it', async () => {
    const env = { ...app.env, XDG_STATE_HOME: path.join(files.dir, 'state-timpush'), IMADMIN_API: 'timpush' };
    const tp = app.emulator.state.timpush;
    const seedTags = [...tp.tagsOf('user000001')];
    const seedAttrs = tp.attrsOf('user000001');
    desired([{ To_Account: 'user000001', Attrs: { sex: 'M', city: 'Lyon' }, Tags: ['deadline:b'] }]);
    assert.equal((await runCli(['tags', 'add', 'user000001', 'deadline:a'], { env })).code, 0);
    app.emulator.resetLog();
    const apply = await runCli(['apply', '--file', 'd.ndjson', '--tag-prefix', 'deadline:', '--rate', '0', '--yes'], { env, cwd: files.dir });
    assert.equal(apply.code, 0, apply.stderr);
    assert.equal(apply.stdout, '~ user000001  city: Shenzhen → Lyon\n+ user000001  tag deadline:b\n- user000001  tag deadline:a\n');
    assert.deepEqual(requestLog(app.emulator).filter(([c]) => !c.includes('get_')), [
      ['timpush/set_attr', { UserAttrs: [{ To_Account: 'user000001', Attrs: { city: 'Lyon' } }] }],
      ['timpush/add_tag', { Replace: 1, UserTags: [{ To_Account: 'user000001', Tags: [...seedTags, 'deadline:b'] }] }],
    ]);
    assert.deepEqual(tp.tagsOf('user000001'), [...seedTags, 'deadline:b']);
    assert.equal((await runCli(['undo', 'last', '--yes'], { env })).code, 0);
    assert.deepEqual([tp.attrsOf('user000001'), tp.tagsOf('user000001')], [seedAttrs, [...seedTags, 'deadline:a']]);
  });

  it('plans a CRM export: --id-column user_id --columns city,level (email and plan left out); --map renames a column', async () => {
    const env = { ...app.env, XDG_STATE_HOME: path.join(files.dir, 'state-crm') };
    files.write('crm.csv', 'user_id,email,city,level,plan\nuser000003,a@example.com,Paris,gold,pro\nuser000004,b@example.com,Berlin,,free\nuser000005,c@example.com,Paris,,free\n');
    const refused = await runCli(['plan', '--file', 'crm.csv', '--id-column', 'user_id', '--rate', '0'], { env, cwd: files.dir });
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr,
      `im-attrs: line 1 of crm.csv (the csv header): "email", "plan" are not among the app's attributes: leave them out with --columns city,level, or map each to one with --map email=NAME\n` +
        "hint: the app's attributes are sex, city, level (im-attrs names); pick columns with --columns, rename them with --map COLUMN=ATTRIBUTE\n",
    );
    assert.deepEqual(ownRequests(app.emulator).map((r) => r.command), ['im_get_attr_name']);
    const plan = await runCli(['plan', '--file', 'crm.csv', '--id-column', 'user_id', '--columns', 'city,level', '--prune', '--rate', '0'], { env, cwd: files.dir });
    assert.equal(plan.code, 0, plan.stderr);
    // --prune removes only among the columns read: user000003's level is given; sex is not a column, so never removed.
    assert.equal(plan.stdout, '~ user000003  city: Tokyo → Paris\n~ user000003  level: bronze → gold\n~ user000005  city: "São Paulo" → Paris\n');
    files.write('crm2.csv', 'user_id,crm_city\nuser000003,Lyon\n');
    const mapped = await runCli(['set', '--file', 'crm2.csv', '--id-column', 'user_id', '--map', 'crm_city=city', '--rate', '0'], { env, cwd: files.dir });
    assert.equal(mapped.code, 0, mapped.stderr);
    assert.equal(app.emulator.state.attrsOf('user000003')?.city, 'Lyon');
  });

  it('diff compares two snapshots offline, sorted or not', async () => {
    files.write('before.ndjson', ['{"To_Account":"a","Attrs":{"city":"Paris","sex":"F"},"Tags":["vip"]}', '{"To_Account":"b","Attrs":{}}', '{"To_Account":"c","Attrs":{"city":"Oslo"}}'].join('\n') + '\n');
    files.write('after.ndjson', ['{"To_Account":"a","Attrs":{"city":"Lyon"},"Tags":["vip","beta"]}', '{"To_Account":"b","Attrs":{"level":"gold"}}'].join('\n') + '\n');
    files.write('after-unsorted.ndjson', ['{"To_Account":"b","Attrs":{"level":"gold"}}', '{"To_Account":"a","Attrs":{"city":"Lyon"},"Tags":["vip","beta"]}'].join('\n') + '\n');
    for (const after of ['after.ndjson', 'after-unsorted.ndjson']) {
      const result = await runCli(['diff', 'before.ndjson', after, '--detailed-exitcode'], { cwd: files.dir });
      assert.equal(result.code, 6, result.stderr);
      assert.deepEqual(result.stdout.trim().split('\n').sort(), ['~ a  city: Paris → Lyon', '- a  sex', '+ a  tag beta', '+ b  level=gold'].sort());
      assert.match(result.stderr, new RegExp(`diff: 2 accounts in ${after}: 0 unchanged, 2 changed, 1 only in before.ndjson \\(not shown\\)\n`));
    }
    assert.equal(app.emulator.requests.length, 0);
  });
});
