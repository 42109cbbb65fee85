import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { assertRawAnswer, requestLog, runCli, seededIds, useEmulator, useTempDir, ownRequests } from '../helpers/cli.js';

describe('im-attrs remove', () => {
  const app = useEmulator({ seedUsers: 400, rateLimit: 0 });
  const files = useTempDir();

  it('sends im_remove_attr with the names of --attrs for every account given', async () => {
    const result = await runCli(['remove', 'user000001', 'user000002', '--attrs', 'sex, city,sex'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'remove: 2 accounts updated, 0 skipped (bad input), 0 failed\n');
    assert.deepEqual(requestLog(app.emulator), [
      ['im_get_attr_name', {}],
      [
        'im_remove_attr',
        {
          UserAttrs: [
            { To_Account: 'user000001', Attrs: ['sex', 'city'] },
            { To_Account: 'user000002', Attrs: ['sex', 'city'] },
          ],
        },
      ],
    ]);
    assert.equal(ownRequests(app.emulator)[1]?.path, '/v4/all_member_push/im_remove_attr');
    assert.deepEqual(app.emulator.state.attrsOf('user000001'), {});
    assert.deepEqual(app.emulator.state.attrsOf('user000003'), { sex: 'M', city: 'Tokyo', level: 'bronze' });
  });

  it('reads account IDs from --file and stdin with --attrs, in batches of at most 100', async () => {
    const ids = seededIds(101, 250);
    const result = await runCli(['remove', '--attrs', 'level', '--file', files.write('ids.txt', ids.slice(0, 120).join('\n')), '-'], {
      env: app.env,
      stdin: ids.slice(100).join('\n') + '\n',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, 'warning: skipped 20 duplicate account IDs\nremove: 150 accounts updated, 0 skipped (bad input), 0 failed\n');
    const bodies = ownRequests(app.emulator)
      .filter((r) => r.command === 'im_remove_attr')
      .map((r) => (r.body as { UserAttrs: Array<{ To_Account: string; Attrs: string[] }> }).UserAttrs);
    assert.deepEqual(bodies.map((b) => b.length), [100, 50]);
    assert.deepEqual(bodies.flat().map((e) => e.To_Account), ids);
    assert.ok(bodies.flat().every((e) => e.Attrs.length === 1 && e.Attrs[0] === 'level'));
  });

  describe('reads records without --attrs', () => {
    const cases: Array<{ format: string; name: string; text: string; expected: Array<{ To_Account: string; Attrs: string[] }> }> = [
      {
        format: 'ndjson with a list of names or an object (what get prints)',
        name: 'r.ndjson',
        text: '{"To_Account":"user000260","Attrs":["level","sex"]}\n{"To_Account":"user000261","Attrs":{"city":"Tokyo"}}\n',
        expected: [
          { To_Account: 'user000260', Attrs: ['level', 'sex'] },
          { To_Account: 'user000261', Attrs: ['city'] },
        ],
      },
      {
        format: 'a json array',
        name: 'r.json',
        text: '[{"To_Account":"user000262","Attrs":["city"]}]',
        expected: [{ To_Account: 'user000262', Attrs: ['city'] }],
      },
      {
        format: 'csv, where a non-empty cell marks the attribute',
        name: 'r.csv',
        text: 'account,sex,city,level\nuser000263,F,,x\nuser000264,,,\n',
        expected: [{ To_Account: 'user000263', Attrs: ['sex', 'level'] }],
      },
      {
        format: 'tsv',
        name: 'r.tsv',
        text: 'account\tcity\nuser000265\tany\n',
        expected: [{ To_Account: 'user000265', Attrs: ['city'] }],
      },
    ];
    for (const c of cases) {
      it(`reads ${c.format}`, async () => {
        const result = await runCli(['remove', '--file', files.write(c.name, c.text)], { env: app.env });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(requestLog(app.emulator), [['im_get_attr_name', {}], ['im_remove_attr', { UserAttrs: c.expected }]]);
      });
    }
  });

  describe('refuses bad input before sending anything', () => {
    const cases: Array<{ args: string[]; stdin?: string; tty?: boolean; code: number; sent: string[]; stderr: string }> = [
      {
        args: ['user000001', '--attrs', 'sex,citty'],
        code: 2,
        sent: ['im_get_attr_name'],
        stderr: 'im-attrs: unknown attribute "citty" (did you mean "city"?)\nhint: the app\'s attributes are sex, city, level (im-attrs names)\n',
      },
      {
        args: ['user000001'],
        code: 2,
        sent: [],
        stderr: 'im-attrs: which attributes? name them with --attrs\nhint: im-attrs remove user000001 --attrs sex,city\n',
      },
      { args: ['user000001', '--attrs', ' , '], code: 2, sent: [], stderr: 'im-attrs: --attrs names no attribute\nhint: e.g. --attrs sex,city\n' },
      {
        args: ['--attrs', 'sex', '--format', 'csv', 'user000001'],
        code: 2,
        sent: [],
        stderr: 'im-attrs: --format is for records; with --attrs, --file and stdin hold account IDs, one per line\n',
      },
      {
        args: ['--attrs', 'sex'],
        tty: true,
        code: 2,
        sent: [],
        stderr:
          'im-attrs: no accounts given\nhint: name them (im-attrs remove alice bob --attrs sex), use --file ids.txt, or pipe them: cut -f1 users.tsv | im-attrs remove --attrs sex\n',
      },
      {
        args: ['--strict'],
        stdin: '{"To_Account":"user000001","Attrs":["sex"]}\n{"To_Account":"user000002","Attrs":"sex"}\n{"To_Account":"user000003","Attrs":["levl"]}\n',
        code: 2,
        sent: ['im_get_attr_name'],
        stderr:
          'line 2: "Attrs" must be a list of names or an object, not a string\n' +
          'line 3: unknown attribute "levl" (did you mean "level"?)\n' +
          'im-attrs: 2 bad records in the input; nothing was sent (--strict)\n' +
          'hint: fix the records listed above, or leave out --strict to send the good ones and skip the bad\n',
      },
      {
        args: [],
        stdin: '{"To_Account":"user000002","Attrs":[1]}\n',
        code: 2,
        sent: ['im_get_attr_name'],
        stderr: 'line 1: attribute names must be strings, not a number\nim-attrs: no good records, 1 bad one; nothing was sent\nhint: fix the records listed above\n',
      },
    ];
    for (const c of cases) {
      it(`remove ${c.args.join(' ')}${c.stdin ? ' < records' : ''}`, async () => {
        const result = await runCli(['remove', ...c.args], { env: app.env, stdin: c.stdin, stdinIsTTY: c.tty ?? false });
        assert.equal(result.code, c.code);
        assert.equal(result.stderr, c.stderr);
        assert.deepEqual(ownRequests(app.emulator).map((r) => r.command), c.sent);
      });
    }
  });

  it('skips bad records, removes the rest and exits 5', async () => {
    const result = await runCli(['remove'], {
      env: app.env,
      stdin: '{"To_Account":"user000270","Attrs":["sex"]}\n{"To_Account":"user000271","Attrs":["sx"]}\n{"To_Account":"user000272","Attrs":[]}\n',
    });
    assert.equal(result.code, 5);
    assert.equal(
      result.stderr,
      'line 2: unknown attribute "sx" (did you mean "sex"?)\n' +
        'remove: 1 account updated, 1 skipped (bad input), 1 skipped (nothing to remove), 0 failed\n' +
        'im-attrs: 1 bad record was skipped; the other accounts were updated\n' +
        'hint: fix the records listed above and run again (remove is idempotent), or use --strict to refuse any input with a bad record\n',
    );
    assert.deepEqual(requestLog(app.emulator)[1], ['im_remove_attr', { UserAttrs: [{ To_Account: 'user000270', Attrs: ['sex'] }] }]);
  });

  it('with --dry-run, prints the requests and sends nothing but im_get_attr_name', async () => {
    const result = await runCli(['remove', 'user000001', 'user000005', 'user000009', '--attrs', 'city', '--dry-run', '--batch-size', '2'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      'im_remove_attr request 1 (2 accounts)\n' +
        '  {"To_Account":"user000001","Attrs":["city"]}\n' +
        '  {"To_Account":"user000005","Attrs":["city"]}\n' +
        'im_remove_attr request 2 (1 account)\n' +
        '  {"To_Account":"user000009","Attrs":["city"]}\n',
    );
    assert.equal(result.stderr, 'remove --dry-run: 3 accounts in 2 requests would be updated, 0 skipped (bad input); nothing was sent\n');
    assert.deepEqual(requestLog(app.emulator), [['im_get_attr_name', {}]]);
    assert.deepEqual(app.emulator.state.attrsOf('user000005'), { sex: 'M', city: 'São Paulo' });
  });

  it('writes the records of failed accounts to --save-failed, exits 5, and the file re-runs without --attrs', async () => {
    const result = await runCli(
      ['remove', 'user000011', 'user000012', 'user000013', '--attrs', 'sex', '--batch-size', '2', '--concurrency', '1', '--save-failed', 'failed.txt'],
      {
        env: app.env,
        cwd: files.dir,
        proxy: (command, body) =>
          command === 'im_remove_attr' && body.includes('user000013') ? { ActionStatus: 'FAIL', ErrorCode: 90033, ErrorInfo: 'injected' } : undefined,
      },
    );
    assert.equal(result.code, 5);
    assert.equal(
      result.stderr,
      'failed: 1 account (90033 injected): user000013\n' +
        'remove: 2 accounts updated, 0 skipped (bad input), 1 failed\n' +
        'wrote 1 record to failed.txt; re-run them: im-attrs remove --file failed.txt\n' +
        'im-attrs: 1 account failed (1 × 90033 injected); the others were updated\n' +
        'hint: re-run them: im-attrs remove --file failed.txt\n',
    );
    assert.equal(readFileSync(path.join(files.dir, 'failed.txt'), 'utf8'), '{"To_Account":"user000013","Attrs":["sex"]}\n');
    assert.deepEqual(app.emulator.state.attrsOf('user000013'), { sex: 'M', city: 'Seoul' });
    const rerun = await runCli(['remove', '--file', 'failed.txt'], { env: app.env, cwd: files.dir });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(app.emulator.state.attrsOf('user000013'), { city: 'Seoul' });
  });

  describe('the emulator enforces the im_remove_attr rules', () => {
    const entries = (n: number, attrs: unknown[] = ['sex']) => Array.from({ length: n }, (_, i) => ({ To_Account: `user${String(i + 1).padStart(6, '0')}`, Attrs: attrs }));
    const cases: Array<{ name: string; body: unknown[]; code: number | undefined }> = [
      { name: '100 accounts', body: entries(100, ['level']), code: undefined },
      { name: '101 accounts: 90018', body: entries(101), code: 90018 },
      { name: 'a name that is not an app attribute: 90033', body: entries(1, ['citty']), code: 90033 },
      { name: 'a name that is not a string: 90033', body: entries(1, [3]), code: 90033 },
    ];
    for (const c of cases) {
      it(`answers ${c.name}`, () => assertRawAnswer(app.emulator, (client) => client.post('v4/all_member_push/im_remove_attr', { UserAttrs: c.body }), c.code));
    }
  });

  it('has a description, defaults and examples in --help', async () => {
    const result = await runCli(['remove', '--help'], { env: app.env });
    assert.equal(result.code, 0);
    assert.ok(result.stdout.startsWith('Usage: im-attrs remove [options] [accounts...]\n\nRemove push attributes of accounts, by name.\n'), result.stdout);
    assert.ok(result.stdout.includes('  $ im-attrs remove alice bob --attrs sex,city\n'));
    assert.ok(result.stdout.includes('  $ im-attrs remove --file crm-export.csv\n'));
  });
});
