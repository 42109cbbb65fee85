import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, seededIds, useEmulator, useTempDir } from '../helpers/cli.js';
import { TestClock } from '../helpers/emulator-api.js';
import { CONDITION_READINGS } from '../../src/push/condition.js';

const ROSTER = 5000;

/** Account IDs of an ndjson/json listing, in order. */
function accountsOf(ndjson: string): string[] {
  return ndjson
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { To_Account: string }).To_Account);
}

/**
 * The "done when": for each condition, the preview's accounts are exactly the accounts the
 * emulator's push reaches, account for account (the roster is every seeded account, so the
 * emulator's recipients — every imported account that matches — are the same population).
 */
describe('audience then push send: the preview is exactly who the push reaches (5,000 seeded users)', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: ROSTER, rateLimit: 0, now: clock.now });
  const files = useTempDir();
  const roster = (): string => files.write('roster.txt', `${seededIds(1, ROSTER).join('\n')}\n`);

  const cases: Array<{ name: string; api: 'all_member_push' | 'timpush'; flags: string[]; fetches: string[] }> = [
    { name: 'AttrsAnd', api: 'all_member_push', flags: ['--attrs-and', 'sex=F', '--attrs-and', 'city=Seoul'], fetches: ['im_get_attr'] },
    { name: 'AttrsOr', api: 'all_member_push', flags: ['--attrs-or', 'city=Tokyo', '--attrs-or', 'level=bronze'], fetches: ['im_get_attr'] },
    { name: 'AttrsAnd + AttrsOr', api: 'all_member_push', flags: ['--attrs-and', 'sex=M', '--attrs-or', 'city=Berlin', '--attrs-or', 'level=bronze'], fetches: ['im_get_attr'] },
    { name: 'TagsAnd', api: 'all_member_push', flags: ['--tags-and', 'lang-zh', '--tags-and', 'beta'], fetches: ['im_get_tag'] },
    { name: 'TagsOr', api: 'all_member_push', flags: ['--tags-or', 'vip', '--tags-or', 'cohort-3'], fetches: ['im_get_tag'] },
    { name: 'TagsAnd + TagsOr', api: 'all_member_push', flags: ['--tags-and', 'vip', '--tags-or', 'lang-en', '--tags-or', 'lang-zh'], fetches: ['im_get_tag'] },
    { name: 'TIMPush TagsOr + TagsNot', api: 'timpush', flags: ['--tags-or', 'vip', '--tags-or', 'cohort-1', '--tags-not', 'beta', '--tags-not', 'lang-zh'], fetches: ['timpush/get_tag'] },
    { name: 'TIMPush TagsNot alone', api: 'timpush', flags: ['--tags-not', 'beta'], fetches: ['timpush/get_tag'] },
    { name: 'TIMPush AttrsAnd', api: 'timpush', flags: ['--attrs-and', 'city=Tokyo'], fetches: ['timpush/get_attr'] },
  ];

  for (const { name, api, flags, fetches } of cases) {
    it(`${name} (${api})`, async () => {
      const file = roster();
      const env = { ...app.env, IMADMIN_API: api };
      const preview = await runCli(['audience', '--file', file, '-o', 'ndjson', ...flags], { env });
      assert.equal(preview.code, 0, preview.stderr);
      const previewed = accountsOf(preview.stdout);
      assert.ok(previewed.length > 0 && previewed.length < ROSTER, `a discriminating condition (${previewed.length})`);
      // Only what the condition needs, 100 accounts per call (plus get_attr_name to check attribute names).
      const calls = app.emulator.requests.map((r) => r.command).filter((c) => !c.endsWith('get_attr_name'));
      assert.deepEqual([...new Set(calls)], fetches);
      assert.equal(calls.length, ROSTER / 100);
      assert.match(preview.stderr, new RegExp(`^${previewed.length.toLocaleString('en-US')} of 5,000 accounts match the condition `));

      const count = await runCli(['audience', '--file', file, '--count', ...flags], { env });
      assert.equal(count.code, 0, count.stderr);
      assert.equal(count.stdout, `${previewed.length}\n`);

      app.emulator.resetLog();
      clock.advance(1001);
      const push = await runCli(['push', 'send', '--yes', '--text', `hello ${name}`, ...flags], { env });
      assert.equal(push.code, 0, push.stderr);
      const task = app.emulator.pushes.at(-1)!;
      assert.equal(push.stdout, `${task.TaskId}\n`);
      assert.equal(task.family, api);
      assert.deepEqual(task.recipients, previewed);
      assert.equal(app.emulator.requests.filter((r) => r.command.endsWith('push')).length, 1);
    });
  }

  it('a --condition file feeds the preview and the push alike (tags and attributes fetched together when --by needs them)', async () => {
    const file = roster();
    const condition = files.write('cond.json', JSON.stringify({ TagsOr: ['vip'], TagsAnd: ['lang-es'] }));
    const preview = await runCli(['audience', '--file', file, '--condition', condition, '--json', '--by', 'city'], { env: app.env });
    assert.equal(preview.code, 0, preview.stderr);
    const commands = app.emulator.requests.map((r) => r.command);
    assert.equal(commands.filter((c) => c === 'im_get_attr').length, 50);
    assert.equal(commands.filter((c) => c === 'im_get_tag').length, 50);
    const listing = await runCli(['audience', '--file', file, '--condition', condition, '-o', 'ndjson'], { env: app.env });
    const previewed = accountsOf(listing.stdout);
    const byCity = JSON.parse(preview.stdout) as Array<{ city: string | null; accounts: number }>;
    assert.equal(byCity.reduce((n, row) => n + row.accounts, 0), previewed.length);
    clock.advance(1001);
    const push = await runCli(['push', 'send', '--yes', '--condition', condition, '--text', 'hola'], { env: app.env });
    assert.equal(push.code, 0, push.stderr);
    assert.deepEqual(app.emulator.pushes.at(-1)!.recipients, previewed);
    assert.deepEqual(app.emulator.pushes.at(-1)!.condition, { TagsOr: ['vip'], TagsAnd: ['lang-es'] });
  });
});

describe('im-attrs audience: output, counts and failures', () => {
  const app = useEmulator({ seedUsers: 60, rateLimit: 0 });
  const files = useTempDir();
  const ids = seededIds(1, 42);

  it('prints the matched accounts with their attributes as tsv, and the summary with a count per clause on stderr', async () => {
    const result = await runCli(['audience', ...ids, '--attrs-and', 'city=Seoul', '--attrs-and', 'sex=F'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'account\tsex\tcity\tlevel\nuser000006\tF\tSeoul\tbronze\nuser000020\tF\tSeoul\t\nuser000034\tF\tSeoul\t\n');
    assert.equal(result.stderr, '3 of 42 accounts match the condition {"AttrsAnd":{"city":"Seoul","sex":"F"}}\n  AttrsAnd city=Seoul: 6\n  AttrsAnd sex=F: 18\n');
    assert.deepEqual(app.emulator.requests.map((r) => r.command), ['im_get_attr_name', 'im_get_attr']);
  });

  it('--by counts matched accounts per attribute value, most first, on stdout and in the summary', async () => {
    const result = await runCli(['audience', ...ids, '--tags-or', 'vip', '--by', 'city'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    // vip: every 5th seeded user (not every 11th, who has no tags): 5, 10, 15, 20, 25, 30, 35, 40.
    assert.equal(result.stdout, 'city\taccounts\tpercent\nSão Paulo\t2\t25.0\nBerlin\t1\t12.5\nSeoul\t1\t12.5\nShenzhen\t1\t12.5\nSingapore\t1\t12.5\nTokyo\t1\t12.5\n\t1\t12.5\n');
    assert.equal(
      result.stderr,
      '8 of 42 accounts match the condition {"TagsOr":["vip"]}\n  TagsOr vip: 8\n  city: São Paulo 2, Berlin 1, Seoul 1, Shenzhen 1, Singapore 1, Tokyo 1, (none) 1\n',
    );
  });

  it('--by on a terminal: a table with counts, shares, a bar per value and the total', async () => {
    const result = await runCli(['audience', ...ids, '--tags-or', 'vip', '--by', 'city', '-q'], { env: app.env, stdoutIsTTY: true, columns: 80 });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        'city       accounts   share',
        '─────────  ────────  ──────  ────────────────────────',
        'São Paulo         2   25.0%  ████████████████████████',
        'Berlin            1   12.5%  ████████████',
        'Seoul             1   12.5%  ████████████',
        'Shenzhen          1   12.5%  ████████████',
        'Singapore         1   12.5%  ████████████',
        'Tokyo             1   12.5%  ████████████',
        '(none)            1   12.5%  ████████████',
        'total             8  100.0%',
        '',
      ].join('\n'),
    );
  });

  it('--by city,level: a cross-tab with totals in a table, a row per pair in the other formats', async () => {
    const table = await runCli(['audience', ...ids, '--tags-or', 'vip', '--by', 'city,level', '-o', 'table'], { env: app.env });
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split('\n');
    assert.equal(lines[0]!.replace(/ +/g, ' '), 'city \\ level (none) bronze total');
    assert.equal(lines.at(-2)!.replace(/ +/g, ' '), 'total 6 2 8');
    const json = await runCli(['audience', ...ids, '--tags-or', 'vip', '--by', 'city,level', '--json'], { env: app.env });
    const rows = JSON.parse(json.stdout) as Array<{ city: string | null; level: string | null; accounts: number; percent: number }>;
    assert.equal(rows.reduce((n, r) => n + r.accounts, 0), 8);
    assert.deepEqual(Object.keys(rows[0]!), ['city', 'level', 'accounts', 'percent']);
    const bad = await runCli(['audience', ...ids, '--by', 'city,level,sex'], { env: app.env });
    assert.equal(bad.code, 2);
  });

  it('--count honours -o: a number, or {"matched","evaluated","failed"} in json', async () => {
    const plain = await runCli(['audience', ...ids, '--attrs-and', 'city=Seoul', '--count'], { env: app.env });
    assert.equal(plain.stdout, '6\n');
    const json = await runCli(['audience', ...ids, '--attrs-and', 'city=Seoul', '--count', '-o', 'json'], { env: app.env });
    assert.deepEqual(JSON.parse(json.stdout), { matched: 6, evaluated: 42, failed: 0 });
    const ndjson = await runCli(['audience', ...ids, '--attrs-and', 'city=Seoul', '--count', '-o', 'ndjson'], { env: app.env });
    assert.equal(ndjson.stdout, '{"matched":6,"evaluated":42,"failed":0}\n');
  });

  it('names the values that differ only in letter case when nothing matches', async () => {
    const result = await runCli(['audience', ...ids, '--attrs-and', 'city=seoul', '--count'], { env: app.env });
    assert.equal(result.code, 0);
    assert.equal(result.stdout, '0\n');
    assert.equal(
      result.stderr,
      '0 of 42 accounts match the condition {"AttrsAnd":{"city":"seoul"}}\n  AttrsAnd city=seoul: 0\n' +
        'no account has city=seoul; 6 have city=Seoul (values are compared exactly, letter case included)\n',
    );
  });

  it('prints tags (and only tags) for a tag condition, in json', async () => {
    const result = await runCli(['audience', 'user000005', 'user000011', 'user000015', '--tags-and', 'vip', '--tags-not', 'beta', '--json', '--api', 'timpush'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '[\n  {"To_Account":"user000015","Tags":["lang-en","cohort-5","vip"]}\n]\n');
    assert.equal(result.stderr, '1 of 3 accounts match the condition {"TagsAnd":["vip"],"TagsNot":["beta"]}\n  TagsAnd vip: 2\n  TagsNot beta (have it, left out): 1\n');
    assert.deepEqual(app.emulator.requests.map((r) => [r.path, r.body]), [['/v4/timpush/get_tag', { To_Account: ['user000005', 'user000011', 'user000015'] }]]);
  });

  it('counts accounts that could not be fetched as failures (exit 5, --save-failed), never as "not matched"', async () => {
    const saved = path.join(files.dir, 'failed.txt');
    const result = await runCli(['audience', 'user000006', 'ghost', 'user000013', '--attrs-and', 'city=Seoul', '--count', '--save-failed', saved], { env: app.env });
    assert.equal(result.code, 5);
    assert.equal(result.stdout, '2\n');
    assert.equal(
      result.stderr,
      'failed: 1 account (70107 account not imported): ghost\n' +
        `wrote 1 account to ${saved}; re-run with --file ${saved}\n` +
        '2 of 2 accounts match the condition {"AttrsAnd":{"city":"Seoul"}}; 1 account could not be fetched (not counted: see above)\n' +
        '  AttrsAnd city=Seoul: 2\n' +
        `im-attrs: 1 account failed (1 × 70107 account not imported); the others were printed\nhint: re-run them with --file ${saved}\n`,
    );
    assert.equal(readFileSync(saved, 'utf8'), 'ghost\n');
  });

  it('--check-imported runs account_check (100 per call) over the matched accounts and lists those not imported', async () => {
    const matched = seededIds(1, 60).filter((id) => Number(id.slice(4)) % 7 === 6);
    const result = await runCli(['audience', ...seededIds(1, 60), '--attrs-and', 'city=Seoul', '--count', '--check-imported'], {
      env: app.env,
      // The emulator's reads fail for accounts that are not imported, so the answer that says so is scripted.
      proxy: (command, body) =>
        command === 'account_check'
          ? {
              ActionStatus: 'OK',
              ErrorCode: 0,
              ErrorInfo: '',
              ResultItem: (JSON.parse(body) as { CheckItem: Array<{ UserID: string }> }).CheckItem.map(({ UserID }) => ({
                UserID,
                ResultCode: 0,
                ResultInfo: '',
                AccountStatus: UserID === 'user000013' || UserID === 'user000055' ? 'NotImported' : 'Imported',
              })),
            }
          : undefined,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${matched.length}\n`);
    assert.match(result.stderr, /\naccount_check: 2 matched accounts not imported \(a push does not reach them\): user000013 user000055\n$/);
  });

  it('sends account_check with CheckItem, at most 100 accounts per call', async () => {
    const result = await runCli(['audience', ...seededIds(1, 60), '--tags-or', 'cohort-1', '--check-imported', '-o', 'ndjson'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    const checks = app.emulator.requests.filter((r) => r.command === 'im_open_login_svc/account_check' || r.path.endsWith('/account_check'));
    assert.equal(checks.length, 1);
    assert.equal(checks[0]!.path, '/v4/im_open_login_svc/account_check');
    assert.deepEqual(checks[0]!.body, { CheckItem: accountsOf(result.stdout).map((UserID) => ({ UserID })) });
    assert.match(result.stderr, /\naccount_check: all 5 matched accounts are imported\n$/);
  });
});

describe('audience and push send refuse every documented Condition error locally (exit 2, no request)', () => {
  const app = useEmulator({ seedUsers: 5, rateLimit: 0 });
  const files = useTempDir();
  const T51 = 't'.repeat(51);
  const eleven = Array.from({ length: 11 }, (_, i) => ['--tags-or', `t${i}`]).flat();
  const hint = 'hint: see the condition rules in --help\n';
  const cases: Array<[rule: string, flags: string[], stderr: string, api?: string]> = [
    ['tags and attributes cannot be mixed (90039)', ['--tags-or', 'vip', '--attrs-and', 'sex=F'], 'im-attrs: invalid condition: Message push by attribute and message push by tag are mutually exclusive (the API would answer 90039)\n' + hint],
    ['at most 10 tags per list (90032)', eleven, 'im-attrs: invalid condition: Condition.TagsOr has 11 tags; at most 10 (the API would answer 90032)\n' + hint],
    ['a tag is at most 50 bytes (90020)', ['--tags-and', T51], `im-attrs: invalid condition: Condition.TagsAnd tag "${T51}" is longer than 50 bytes (the API would answer 90020)\n` + hint],
    ['a tag is not empty (90040)', ['--tags-or', ''], 'im-attrs: invalid condition: Condition.TagsOr has an empty tag (the API would answer 90040)\n' + hint],
    ['no tag in both TagsOr and TagsAnd (90022)', ['--tags-or', 'vip', '--tags-and', 'vip'], 'im-attrs: invalid condition: tag "vip" is in both TagsOr and TagsAnd (the API would answer 90022)\n' + hint],
    ['no tag in TagsNot and TagsOr (TIMPush, 90022)', ['--tags-or', 'vip', '--tags-not', 'vip'], 'im-attrs: invalid condition: tag "vip" is in TagsNot and in TagsOr or TagsAnd (the API would answer 90022)\n' + hint, 'timpush'],
    [
      'TagsNot is TIMPush only',
      ['--tags-not', 'beta'],
      'im-attrs: invalid condition: Invalid format of Condition: unknown field TagsNot (TagsNot is TIMPush only) (the API would answer 90001)\nhint: TagsNot needs the TIMPush family: --api timpush\n',
    ],
    ['an attribute given two values in --attrs-and', ['--attrs-and', 'city=Paris', '--attrs-and', 'city=Lyon'], 'im-attrs: --attrs-and gives city twice ("Paris" and "Lyon")\nhint: an account has one city: use --attrs-or for "either value"\n'],
    ['NAME=VALUE', ['--attrs-or', 'city'], 'im-attrs: --attrs-or "city": expected NAME=VALUE\nhint: e.g. --attrs-or city=Paris\n'],
  ];
  for (const command of [['audience', 'user000001'], ['push', 'send', '--yes', '--text', 'x']]) {
    for (const [rule, flags, stderr, api] of cases) {
      it(`${command.slice(0, 2).join(' ')}: ${rule}`, async () => {
        const result = await runCli([...command, ...flags], { env: { ...app.env, ...(api ? { IMADMIN_API: api } : {}) } });
        assert.equal(result.code, 2);
        assert.equal(result.stdout, '');
        assert.equal(result.stderr, stderr);
        assert.equal(app.emulator.requests.length, 0);
      });
    }
  }

  it('refuses an attribute name the app does not have (90033), asking get_attr_name only, with did-you-mean', async () => {
    for (const command of [['audience', 'user000001'], ['push', 'send', '--yes', '--text', 'x']]) {
      app.emulator.resetLog();
      const result = await runCli([...command, '--attrs-and', 'cty=Paris', '--attrs-or', 'lvel=gold'], { env: app.env });
      assert.equal(result.code, 2);
      assert.equal(
        result.stderr,
        'im-attrs: unknown attributes:\n  AttrsAnd: "cty" is not one of the app\'s attributes (did you mean "city"?)\n  AttrsOr: "lvel" is not one of the app\'s attributes (did you mean "level"?)\n' +
          "hint: the app's attributes: sex, city, level (`im-attrs names`)\n",
      );
      assert.deepEqual(app.emulator.requests.map((r) => r.command), ['im_get_attr_name']);
    }
  });

  it('refuses a --condition file that is not a Condition object, and --condition together with flags', async () => {
    const cases: Array<[string, string]> = [
      ['{"TagsOr":"vip"}', 'invalid condition: Invalid format of Condition.TagsOr: it must be an array of strings (the API would answer 90001)'],
      ['{"Tags":["vip"]}', 'invalid condition: Invalid format of Condition: unknown field Tags (the API would answer 90001)'],
      ['["vip"]', 'must hold a JSON object'],
      ['{"TagsOr":', 'is not JSON'],
    ];
    for (const [text, message] of cases) {
      const file = files.write('bad.json', text);
      const result = await runCli(['audience', 'user000001', '--condition', file], { env: app.env });
      assert.equal(result.code, 2, text);
      assert.ok(result.stderr.includes(message), result.stderr);
    }
    const file = files.write('ok.json', '{"TagsOr":["vip"]}');
    const both = await runCli(['audience', 'user000001', '--condition', file, '--tags-or', 'beta'], { env: app.env });
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'im-attrs: --condition and the --attrs-*/--tags-* flags contradict each other\nhint: give the whole condition in the file, or only flags\n');
    assert.equal(app.emulator.requests.length, 0);
  });
});

describe('audience and push send --help', () => {
  it('print every reading of src/push/condition.ts (the one the emulator\'s push uses), and stay within 100 columns', async () => {
    for (const command of [['audience'], ['push', 'send']]) {
      const help = await runCli([...command, '--help']);
      assert.equal(help.code, 0);
      const flat = help.stdout.replace(/\s+/g, ' ');
      for (const reading of CONDITION_READINGS) assert.ok(flat.includes(reading), `${command.join(' ')} --help lacks: ${reading}`);
      const wide = help.stdout.split('\n').filter((line) => line.length > 100 && !line.startsWith('  $ '));
      assert.deepEqual(wide, []);
    }
  });
});
