import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { requestLog, runCli, seededIds, useEmulator, useTempDir, ownRequests } from '../helpers/cli.js';

const tagList = (n: number, prefix = 't'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('im-attrs tags (all_member_push)', () => {
  const app = useEmulator({ seedUsers: 20, rateLimit: 0 }, { perTest: true });
  const files = useTempDir();

  it('tags get prints tags in input order, in every format, and names an account never imported', async () => {
    const args = ['tags', 'get', 'user000005', 'user000001', 'user000011'];
    const ndjson = await runCli([...args, '--output', 'ndjson'], { env: app.env });
    assert.equal(ndjson.code, 0, ndjson.stderr);
    assert.equal(
      ndjson.stdout,
      '{"To_Account":"user000005","Tags":["lang-es","cohort-5","vip","beta"]}\n{"To_Account":"user000001","Tags":["lang-zh","cohort-1","beta"]}\n{"To_Account":"user000011","Tags":[]}\n',
    );
    assert.deepEqual(requestLog(app.emulator), [['im_get_tag', { To_Account: ['user000005', 'user000001', 'user000011'] }]]);
    assert.equal(ownRequests(app.emulator)[0]?.path, '/v4/all_member_push/im_get_tag');
    const tsv = await runCli([...args, '--output', 'tsv'], { env: app.env });
    assert.equal(tsv.stdout, 'account\ttags\nuser000005\tlang-es,cohort-5,vip,beta\nuser000001\tlang-zh,cohort-1,beta\nuser000011\t\n');
    const csv = await runCli([...args, '--output', 'csv'], { env: app.env });
    assert.equal(csv.stdout, 'account,tags\nuser000005,"lang-es,cohort-5,vip,beta"\nuser000001,"lang-zh,cohort-1,beta"\nuser000011,\n');
    const missing = await runCli(['tags', 'get', 'user000002', 'nobody', '--json'], { env: app.env });
    assert.equal(missing.code, 5);
    assert.equal(missing.stdout, '[\n  {"To_Account":"user000002","Tags":["lang-es","cohort-2"]}\n]\n');
    assert.match(missing.stderr, /^failed: 1 account \(70107 account not imported\): nobody\n/);
  });

  it('tags add splits a user\'s 25 tags into three add calls of at most 10, in order', async () => {
    const tags = tagList(25);
    const dry = await runCli(['tags', 'add', 'user000002', ...tags, '--dry-run'], { env: app.env });
    assert.equal(
      dry.stdout,
      [tags.slice(0, 10), tags.slice(10, 20), tags.slice(20)].map((part, i) => `im_add_tag request ${i + 1} (1 account)\n  ${JSON.stringify({ To_Account: 'user000002', Tags: part })}\n`).join(''),
    );
    assert.equal(dry.stderr, 'tags add --dry-run: 1 account in 3 requests would be updated, 0 skipped (bad input); nothing was sent\n');
    const result = await runCli(['tags', 'add', 'user000002', ...tags], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, 'tags add: 1 account updated, 0 skipped (bad input), 0 failed\n');
    assert.deepEqual(requestLog(app.emulator), [
      ['im_add_tag', { UserTags: [{ To_Account: 'user000002', Tags: tags.slice(0, 10) }] }],
      ['im_add_tag', { UserTags: [{ To_Account: 'user000002', Tags: tags.slice(10, 20) }] }],
      ['im_add_tag', { UserTags: [{ To_Account: 'user000002', Tags: tags.slice(20) }] }],
    ]);
    assert.deepEqual(app.emulator.state.tagsOf('user000002'), ['lang-es', 'cohort-2', ...tags]);
  });

  it('tags add/remove --tags gives many accounts the same tags, and --dry-run sends nothing', async () => {
    const ids = files.write('ids.txt', 'user000003\nuser000004\n');
    const dry = await runCli(['tags', 'add', '--file', ids, '--tags', 'vip,a\\,b', '--dry-run'], { env: app.env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout, 'im_add_tag request 1 (2 accounts)\n  {"To_Account":"user000003","Tags":["vip","a,b"]}\n  {"To_Account":"user000004","Tags":["vip","a,b"]}\n');
    assert.equal(dry.stderr, 'tags add --dry-run: 2 accounts in 1 request would be updated, 0 skipped (bad input); nothing was sent\n');
    assert.deepEqual(requestLog(app.emulator), []);
    const add = await runCli(['tags', 'add', '--file', ids, '--tags', 'vip,a\\,b'], { env: app.env });
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stderr, 'tags add: 2 accounts updated, 0 skipped (bad input), 0 failed\n');
    const remove = await runCli(['tags', 'remove', 'user000003', 'user000004', '--tags', 'lang-en'], { env: app.env });
    assert.equal(remove.code, 0, remove.stderr);
    assert.deepEqual(requestLog(app.emulator).slice(1), [
      ['im_remove_tag', { UserTags: [{ To_Account: 'user000003', Tags: ['lang-en'] }, { To_Account: 'user000004', Tags: ['lang-en'] }] }],
    ]);
    assert.deepEqual(app.emulator.state.tagsOf('user000003'), ['cohort-3', 'vip', 'a,b']);
  });

  it('reports bad tag records with line numbers before sending anything (--strict sends nothing)', async () => {
    const file = files.write('bad.ndjson', `{"To_Account":"user000001","Tags":["ok"]}\n{"To_Account":"user000002","Tags":["${'x'.repeat(51)}"]}\n{"To_Account":"","Tags":[""]}\n{"Tags":"vip"}\n`);
    const strict = await runCli(['tags', 'add', '--file', file, '--strict'], { env: app.env });
    assert.equal(strict.code, 2);
    assert.equal(
      strict.stderr,
      `line 2: the tag "${'x'.repeat(51)}" is 51 bytes, over the limit of 50\n` +
        'line 3: the account is empty; a tag is empty (tags are 1-50 bytes)\n' +
        'line 4: "To_Account" is missing; "Tags" must be a list of strings, not a string\n' +
        'im-attrs: 3 bad records in the input; nothing was sent (--strict)\n' +
        'hint: fix the records listed above, or leave out --strict to send the good ones and skip the bad\n',
    );
    assert.deepEqual(requestLog(app.emulator), []);
    const lax = await runCli(['tags', 'add', '--file', file], { env: app.env });
    assert.equal(lax.code, 5);
    assert.deepEqual(requestLog(app.emulator), [['im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: ['ok'] }] }]]);
  });

  for (const format of ['ndjson', 'json', 'csv', 'tsv']) {
    it(`tags get --output ${format} then tags set --file is a lossless round trip`, async () => {
      const tricky = ['a,b', 'back\\slash', 'quote"d', '中文', ' edge '];
      const seed = await runCli(['tags', 'set', 'user000007', ...tricky], { env: app.env });
      assert.equal(seed.code, 0, seed.stderr);
      const saved = await runCli(['tags', 'get', 'user000007', 'user000011', 'user000003', '--output', format], { env: app.env });
      assert.equal(saved.code, 0, saved.stderr);
      const file = files.write(`saved.${format}`, saved.stdout);
      // Change them, then restore from the file.
      assert.equal((await runCli(['tags', 'add', 'user000007', 'extra'], { env: app.env })).code, 0);
      assert.equal((await runCli(['tags', 'clear', 'user000003'], { env: app.env })).code, 0);
      const restore = await runCli(['tags', 'set', '--file', file], { env: app.env });
      assert.equal(restore.code, 0, restore.stderr);
      assert.deepEqual(app.emulator.state.tagsOf('user000007'), tricky);
      assert.deepEqual(app.emulator.state.tagsOf('user000011'), []);
      assert.deepEqual(app.emulator.state.tagsOf('user000003'), ['lang-en', 'cohort-3']);
    });
  }

  it('tags set on all_member_push clears then adds, says it is not atomic, and does not add an account whose clear failed', async () => {
    const out = files.write('failed.ndjson', '');
    const result = await runCli(['tags', 'set', '--file', '-', '--save-failed', out], {
      env: app.env,
      stdin: '{"To_Account":"user000001","Tags":["x","y"]}\n{"To_Account":"user000002","Tags":[]}\n{"To_Account":"user000003","Tags":["z"]}\n',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stderr,
      'warning: tags set on all_member_push is not atomic: every tag of each account is removed first (im_remove_all_tags), then its list is added (im_add_tag); an account whose add fails is left with no tags (saved with --save-failed)\n' +
        'tags set, step 1 of 2: remove every tag of the accounts\n' +
        'tags set: 3 accounts updated, 0 skipped (bad input), 0 failed\n' +
        'tags set, step 2 of 2: add the new tags\n' +
        'tags set: 2 accounts updated, 0 skipped (bad input), 0 failed\n' +
        'tags set: 3 accounts had their tags replaced in two steps (not atomic on all_member_push)\n',
    );
    assert.deepEqual(requestLog(app.emulator), [
      ['im_remove_all_tags', { To_Account: ['user000001', 'user000002', 'user000003'] }],
      ['im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: ['x', 'y'] }, { To_Account: 'user000003', Tags: ['z'] }] }],
    ]);
    assert.deepEqual(app.emulator.state.tagsOf('user000002'), []);
    assert.equal(readFileSync(out, 'utf8'), '');
  });

  it('tags set: accounts whose clear failed are not added, are reported as failed and saved as records', async () => {
    const out = path.join(files.dir, 'set-failed.ndjson');
    const result = await runCli(['tags', 'set', '--file', '-', '--save-failed', out, '--batch-size', '1'], {
      env: app.env,
      stdin: '{"To_Account":"user000001","Tags":["x"]}\n{"To_Account":"user000003","Tags":["z"]}\n',
      proxy: (command, body) => (command === 'im_remove_all_tags' && body.includes('user000003') ? { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'Invalid format' } : undefined),
    });
    assert.equal(result.code, 5, result.stderr);
    assert.deepEqual(requestLog(app.emulator), [
      ['im_remove_all_tags', { To_Account: ['user000001'] }],
      ['im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: ['x'] }] }],
    ]);
    assert.match(result.stderr, /^failed: 1 account \(90001 Invalid format\): user000003$/m);
    assert.match(result.stderr, /^tags set: 1 account updated, 0 skipped \(bad input\), 1 failed$/m);
    assert.equal(readFileSync(out, 'utf8'), '{"To_Account":"user000003","Tags":["z"]}\n');
    assert.deepEqual(app.emulator.state.tagsOf('user000003'), ['lang-en', 'cohort-3']);
  });

  it('tags set: a failed clear is failed on both families: exit 5, one --failures and one --save-failed for the whole command', async () => {
    for (const api of ['all_member_push', 'timpush']) {
      const sf = path.join(files.dir, `clear-sf-${api}.ndjson`);
      const ff = path.join(files.dir, `clear-ff-${api}.ndjson`);
      const result = await runCli(['tags', 'set', '--file', '-', '--save-failed', sf, '--failures', ff, '--batch-size', '1', '--api', api], {
        env: app.env,
        stdin: '{"To_Account":"user000001","Tags":["x"]}\n{"To_Account":"user000002","Tags":[]}\n{"To_Account":"user000003","Tags":["z"]}\n',
        proxy: (command, body) => (/clear_all_tags|remove_all_tags/.test(command) && body.includes('user000002') ? { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'Invalid format' } : undefined),
      });
      assert.equal(result.code, 5, `${api}: ${result.stderr}`);
      assert.match(result.stderr, /^im-attrs: 1 account failed \(.*90001 Invalid format.*\)/m, api);
      assert.equal(readFileSync(sf, 'utf8'), '{"To_Account":"user000002","Tags":[]}\n', api);
      const failures = readFileSync(ff, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { account: string; code: number });
      assert.deepEqual(failures.map((f) => [f.account, f.code]), [['user000002', 90001]], api);
      assert.deepEqual(app.emulator.state.tagsOf('user000001'), ['x'], api);
      assert.deepEqual(app.emulator.state.tagsOf('user000003'), ['z'], api);
    }
    // Only clears: the first pass is the whole run, and its files are written.
    const sf = path.join(files.dir, 'clear-only.ndjson');
    const only = await runCli(['tags', 'set', '--file', '-', '--save-failed', sf, '--api', 'timpush'], {
      env: app.env,
      stdin: '{"To_Account":"user000002","Tags":[]}\n',
      proxy: (command) => (command === 'clear_all_tags' ? { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'Invalid format' } : undefined),
    });
    assert.equal(only.code, 1, only.stderr);
    assert.match(only.stderr, /^im-attrs: all 1 account failed/m);
    assert.equal(readFileSync(sf, 'utf8'), '{"To_Account":"user000002","Tags":[]}\n');
  });

  it('tags set --dry-run shows both steps on both families', async () => {
    for (const [api, clear, add] of [['all_member_push', 'im_remove_all_tags', 'im_add_tag'], ['timpush', 'clear_all_tags', 'add_tag']] as const) {
      const result = await runCli(['tags', 'set', '--file', '-', '--dry-run', '--api', api], { env: app.env, stdin: '{"To_Account":"user000001","Tags":["a","b"]}\n{"To_Account":"user000002","Tags":[]}\n' });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^${clear} request 1 `, 'm'), `${api}: the clear step`);
      assert.match(result.stdout, new RegExp(`^${add} request 1 \\(1 account\\)\\n  \\{"To_Account":"user000001","Tags":\\["a","b"\\]\\}$`, 'm'), `${api}: the add step, with the new list`);
    }
    assert.equal(ownRequests(app.emulator).length, 0);
  });

  it('tags set stopped in its clear step writes --save-failed and --failures: every account not done, the cleared ones named', async () => {
    const ids = seededIds(1, 30);
    let signals: { emit(signal: 'SIGINT'): void } | undefined;
    let clears = 0;
    const result = await runCli(['tags', 'set', '--file', '-', '--batch-size', '1', '--rate', '5', '--save-failed', 'between.ndjson', '--failures', 'between-f.ndjson'], {
      env: app.env,
      cwd: files.dir,
      stdin: ids.map((id) => JSON.stringify({ To_Account: id, Tags: ['new'] })).join('\n') + '\n',
      onSignals: (s) => (signals = s),
      proxy: (command) => {
        if (command === 'im_remove_all_tags' && ++clears === 3) signals!.emit('SIGINT');
        return undefined;
      },
    });
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, new RegExp(`^warning: ${clears} accounts had their tags removed and the new ones not added \\(the run stopped between the two steps\\): in between.ndjson$`, 'm'));
    assert.match(result.stderr, /hint: re-run them: im-attrs tags set --file between.ndjson/);
    const saved = readFileSync(path.join(files.dir, 'between.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { To_Account: string; Tags: string[] });
    assert.deepEqual(saved.map((r) => r.To_Account), ids);
    assert.equal(readFileSync(path.join(files.dir, 'between-f.ndjson'), 'utf8').trim().split('\n').length, 30);
    const again = await runCli(['tags', 'set', '--file', 'between.ndjson', '--rate', '0'], { env: app.env, cwd: files.dir });
    assert.equal(again.code, 0, again.stderr);
    assert.ok(ids.every((id) => JSON.stringify(app.emulator.state.tagsOf(id)) === '["new"]'));
  });

  it('tags set on TIMPush is one add_tag with Replace: 1 per list; an empty list is a clear_all_tags', async () => {
    const env = { ...app.env, IMADMIN_API: 'timpush' };
    const result = await runCli(['tags', 'set', '-'], { env, stdin: '{"To_Account":"user000001","Tags":["a","b"]}\n{"To_Account":"user000002","Tags":[]}\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      ownRequests(app.emulator).map((r) => [r.path, r.body]),
      [
        ['/v4/timpush/clear_all_tags', { To_Account: ['user000002'] }],
        ['/v4/timpush/add_tag', { Replace: 1, UserTags: [{ To_Account: 'user000001', Tags: ['a', 'b'] }] }],
      ],
    );
    const only = await runCli(['tags', 'set', 'user000003', 'v'], { env });
    assert.equal(only.stderr, 'tags set: 1 account updated, 0 skipped (bad input), 0 failed\n');
  });

  it('tags clear sends im_remove_all_tags and saves failed accounts as IDs for --file', async () => {
    const result = await runCli(['tags', 'clear', 'user000001', 'user000002'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, 'tags clear: 2 accounts updated, 0 skipped (bad input), 0 failed\n');
    assert.deepEqual(requestLog(app.emulator), [['im_remove_all_tags', { To_Account: ['user000001', 'user000002'] }]]);
    assert.equal(ownRequests(app.emulator)[0]?.path, '/v4/all_member_push/im_remove_all_tags');
    assert.deepEqual(app.emulator.state.tagsOf('user000001'), []);
  });

  it('get --tags prints attributes and tags in one record, two calls per batch', async () => {
    const result = await runCli(['get', 'user000001', 'user000011', '--tags', '--output', 'ndjson'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      '{"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"},"Tags":["lang-zh","cohort-1","beta"]}\n' +
        '{"To_Account":"user000011","Attrs":{"sex":"M","city":"Berlin"},"Tags":[]}\n',
    );
    assert.deepEqual(requestLog(app.emulator), [
      ['im_get_attr', { To_Account: ['user000001', 'user000011'] }],
      ['im_get_tag', { To_Account: ['user000001', 'user000011'] }],
    ]);
    const tsv = await runCli(['get', 'user000001', '--tags', '--output', 'tsv'], { env: app.env });
    assert.equal(tsv.stdout, 'account\tsex\tcity\tlevel\ttags\nuser000001\tM\tShenzhen\t\tlang-zh,cohort-1,beta\n');
  });

  it('tags add --save-failed keeps the failed part of a split list even when a later part succeeded', async () => {
    const tags = tagList(25);
    const saved = path.join(files.dir, 'parts.ndjson');
    const result = await runCli(['tags', 'add', 'user000002', ...tags, '--save-failed', saved, '--retries', '0'], {
      env: app.env,
      // The second call (t10-t19) is refused; the first and third go through.
      proxy: (command, body) => (command === 'im_add_tag' && body.includes('"t10"') ? { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'Invalid format' } : undefined),
    });
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /^tags add: 0 accounts updated, 0 skipped \(bad input\), 1 failed$/m);
    assert.equal(readFileSync(saved, 'utf8'), `${JSON.stringify({ To_Account: 'user000002', Tags: tags.slice(10, 20) })}\n`);
    assert.deepEqual(app.emulator.state.tagsOf('user000002'), ['lang-es', 'cohort-2', ...tags.slice(0, 10), ...tags.slice(20)]);
  });

  it('tags get reads accounts from --file and stdin, as get does', async () => {
    const result = await runCli(['tags', 'get', '--file', files.write('g.txt', 'user000001\n'), '-', '--output', 'tsv'], { env: app.env, stdin: 'user000011\nuser000001\n' });
    assert.equal(result.code, 0, result.stderr);
    // Files first, then stdin; the repeated user000001 is dropped (with a warning).
    assert.equal(result.stdout, 'account\ttags\nuser000001\tlang-zh,cohort-1,beta\nuser000011\t\n');
    assert.equal(result.stderr, 'warning: skipped 1 duplicate account ID\n');
  });

  it('warns on TIMPush before a run whose input has more than 1,000 distinct tags', async () => {
    const lines = Array.from({ length: 11 }, (_, i) => JSON.stringify({ To_Account: `user00000${(i % 9) + 1}`, Tags: tagList(95, `g${i}-`) }));
    const result = await runCli(['tags', 'add', '--file', files.write('many.ndjson', `${lines.join('\n')}\n`), '--dry-run', '--api', 'timpush'], { env: app.env });
    assert.equal(
      result.stderr.split('\n')[1],
      'warning: the input has 1,045 distinct tags; a TIMPush app may have at most 1,000 in all, so some adds will fail once the app reaches that (tags already in the app count too)',
    );
    assert.deepEqual(requestLog(app.emulator), []);
  });

  it('refuses a csv whose header has no tags column, naming the line, before anything is sent', async () => {
    const file = files.write('bad.csv', 'account,labels\nuser000001,vip\n');
    const result = await runCli(['tags', 'set', '--file', file], { env: app.env });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `im-attrs: line 1 of ${file} (the csv header): a "tags" column is missing\nhint: the header is \`account,tags\`, as \`im-attrs tags get --output csv\` prints it\n`,
    );
    assert.deepEqual(requestLog(app.emulator), []);
  });

  it('get --tags names an account that either call did not answer, and prints the others', async () => {
    const result = await runCli(['get', 'user000001', 'nobody', '--tags', '--output', 'ndjson'], { env: app.env });
    assert.equal(result.code, 5);
    assert.equal(result.stdout, '{"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"},"Tags":["lang-zh","cohort-1","beta"]}\n');
    assert.match(result.stderr, /^failed: 1 account \(.*\): nobody$/m);
  });
});
