import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { countAccounts, detectIdFile } from '../../src/input/id-files.js';
import { requestLog, runCli, useEmulator, useTempDir } from '../helpers/cli.js';

const getBodies = (log: Array<[string, unknown]>): string[] =>
  log.filter(([c]) => c === 'im_get_attr').flatMap(([, body]) => (body as { To_Account: string[] }).To_Account);

describe('account IDs from the files people have', () => {
  const app = useEmulator({ seedUsers: 10, rateLimit: 0 }, { perTest: true });
  const files = useTempDir();

  describe('get --file', () => {
    const cases: Array<{ name: string; file: string; content: string; args?: string[] }> = [
      {
        name: 'a CRM export with --id-column user_id (quoted fields, commas inside)',
        file: 'export.csv',
        content: 'name,user_id,note\r\n"Doe, Jane",user000002,"said ""hi"""\r\nBob,user000003,\r\n',
        args: ['--id-column', 'user_id'],
      },
      { name: "get's own ndjson output (a backup)", file: 'backup.ndjson', content: '{"To_Account":"user000002","Attrs":{"sex":"F"}}\n\n{"To_Account":"user000003","Attrs":{}}\n' },
      { name: "get's own json output", file: 'backup.json', content: '[{"To_Account":"user000002","Attrs":{}},{"To_Account":"user000003","Attrs":{}}]\n' },
      { name: "get's own tsv output", file: 'attrs.tsv', content: 'account\tsex\tcity\tlevel\nuser000002\tF\tSingapore\t\nuser000003\tM\tTokyo\tbronze\n' },
      { name: "get's own csv output", file: 'attrs.csv', content: 'account,sex\nuser000002,F\nuser000003,M\n' },
      { name: 'a one-column "account" list', file: 'one.tsv', content: 'account\nuser000002\nuser000003\n' },
      { name: 'a --failures report', file: 'failed.ndjson', content: '{"account":"user000002","code":91000,"reason":"x","retriable":true}\n{"account":"user000003","code":null,"reason":"not sent","retriable":true}\n' },
      { name: 'a plain list (unchanged)', file: 'ids.txt', content: 'user000002\n user000003 \n' },
    ];
    for (const c of cases) {
      it(`reads the account column of ${c.name}`, async () => {
        const file = files.write(c.file, c.content);
        const result = await runCli(['get', '--file', file, '-o', 'tsv', ...(c.args ?? [])], { env: app.env });
        assert.equal(result.stderr, '');
        assert.equal(result.code, 0);
        assert.equal(result.stdout, 'account\tsex\tcity\tlevel\nuser000002\tF\tSingapore\t\nuser000003\tM\tTokyo\tbronze\n');
        assert.deepEqual(getBodies(requestLog(app.emulator)), ['user000002', 'user000003']);
      });
    }

    it('reads a pipe (--file <(…)) once, never sniffing it: no ID is lost', async () => {
      const fifo = path.join(files.dir, 'ids.fifo');
      execFileSync('mkfifo', [fifo]);
      const writer = createWriteStream(fifo);
      writer.end('user000002\nuser000003\n');
      const result = await runCli(['get', '--file', fifo, '-o', 'tsv', '--attrs', 'city'], { env: app.env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'account\tcity\nuser000002\tSingapore\nuser000003\tTokyo\n');
    });

    it('reads stdin with -f -', async () => {
      const result = await runCli(['get', '-f', '-', '-o', 'tsv', '--attrs', 'city'], { env: app.env, stdin: 'user000002\n' });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'account\tcity\nuser000002\tSingapore\n');
    });

    it('reads records from stdin with --id-column', async () => {
      const result = await runCli(['get', '-o', 'tsv', '--attrs', 'city', '--id-column', 'uid'], { env: app.env, stdin: 'uid,x\nuser000003,1\n' });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'account\tcity\nuser000003\tTokyo\n');
    });

    it('refuses an --id-column the header lacks, before any request', async () => {
      const file = files.write('crm.csv', 'name,uid\nx,user000001\n');
      const result = await runCli(['get', '--file', file, '--id-column', 'user_id'], { env: app.env });
      assert.equal(result.code, 2);
      assert.equal(
        result.stderr,
        `im-attrs: ${file}: no column "user_id" in its header ("name", "uid")\nhint: name the column that holds the account IDs with --id-column\n`,
      );
      assert.equal(app.emulator.requests.length, 0);
    });

    it('names the line of an ndjson record without an account', async () => {
      const file = files.write('bad.ndjson', '{"To_Account":"user000001"}\n{"id":"x"}\n');
      const result = await runCli(['get', '--file', file, '-o', 'ndjson'], { env: app.env });
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '{"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"}}\n');
      assert.equal(result.stderr, `im-attrs: ${file} line 2: no "To_Account" or "account" field\nhint: name the field that holds the account IDs with --id-column\n`);
    });
  });

  it('set --file ids.txt level=gold city= applies one assignment to every account read', async () => {
    const file = files.write('ids.txt', 'user000001\nuser000002\n\nuser000001\n');
    const result = await runCli(['set', '--file', file, 'level=gold', 'city='], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, 'warning: skipped 1 duplicate account ID\nset: 2 accounts updated, 0 skipped (bad input), 0 failed\n');
    assert.deepEqual(requestLog(app.emulator).filter(([c]) => c === 'im_set_attr'), [
      [
        'im_set_attr',
        {
          UserAttrs: [
            { To_Account: 'user000001', Attrs: { level: 'gold', city: '' } },
            { To_Account: 'user000002', Attrs: { level: 'gold', city: '' } },
          ],
        },
      ],
    ]);
    assert.deepEqual(app.emulator.state.attrsOf('user000002'), { sex: 'F', city: '', level: 'gold' });
  });

  it('set --file with an attribute the app lacks refuses before any write', async () => {
    const file = files.write('ids2.txt', 'user000001\n');
    const result = await runCli(['set', '--file', file, 'levle=gold'], { env: app.env });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'im-attrs: unknown attribute "levle"\nhint: the app\'s attributes are sex, city, level (im-attrs names)\n');
    assert.deepEqual(requestLog(app.emulator).map(([c]) => c), ['im_get_attr_name']);
  });

  it('remove --file export.csv --id-column uid --attrs city reads the column', async () => {
    const file = files.write('rm.csv', 'uid,name\nuser000004,x\n');
    const result = await runCli(['remove', '--file', file, '--id-column', 'uid', '--attrs', 'city'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(requestLog(app.emulator).filter(([c]) => c === 'im_remove_attr'), [['im_remove_attr', { UserAttrs: [{ To_Account: 'user000004', Attrs: ['city'] }] }]]);
  });
});

describe('detectIdFile', () => {
  const cases: Array<[string, string, string | undefined, ReturnType<typeof detectIdFile>]> = [
    ['plain ids', 'u1\nu2\n', undefined, { kind: 'plain' }],
    ['ids with commas but no account column', 'a,b\nc,d\n', undefined, { kind: 'plain' }],
    ['csv with To_Account', 'x,To_Account\n', undefined, { kind: 'csv', column: 1 }],
    ['tsv with account', '\uFEFFaccount\tsex\n', undefined, { kind: 'tsv', column: 0 }],
    ['a json array', '  [ {', undefined, { kind: 'json' }],
    ['ndjson', '{"a":1}\n', undefined, { kind: 'ndjson' }],
    ['a one-column header', 'account\r\nu1\n', undefined, { kind: 'header' }],
  ];
  for (const [name, head, column, expected] of cases) {
    it(`tells ${name}`, () => assert.deepEqual(detectIdFile(head, 'f', column), expected));
  }
});

describe('countAccounts (the progress total)', () => {
  const files = useTempDir();
  it('counts arguments and file lines up front, less a header; unknown with stdin or a json array', async () => {
    const plain = files.write('plain.txt', 'a\nb\nc');
    const csv = files.write('x.csv', 'account,sex\na,F\nb,M\n');
    const json = files.write('x.json', '[{"To_Account":"a"}]');
    assert.equal(await countAccounts([{ kind: 'arg', values: ['a', 'b', 'a'] }, { kind: 'file', path: plain }, { kind: 'file', path: csv }], undefined), 7);
    assert.equal(await countAccounts([{ kind: 'file', path: json }], undefined), undefined);
    assert.equal(await countAccounts([{ kind: 'stdin', stream: process.stdin }], undefined), undefined);
  });
});
