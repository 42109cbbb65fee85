import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { assertRawAnswer, emulatorEnv, requestLog, runCli, startTestEmulator, useEmulator, useTempDir, withRawClient, ownRequests } from '../helpers/cli.js';

describe('im-attrs set', () => {
  const app = useEmulator({ seedUsers: 300, rateLimit: 0 });
  const files = useTempDir();

  it('fetches the names once, then sends im_set_attr with exactly the attributes given', async () => {
    const result = await runCli(['set', 'user000001', 'city=Paris, "the" city', 'level=金'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'set: 1 account updated, 0 skipped (bad input), 0 failed\n');
    assert.deepEqual(requestLog(app.emulator), [
      ['im_get_attr_name', {}],
      ['im_set_attr', { UserAttrs: [{ To_Account: 'user000001', Attrs: { city: 'Paris, "the" city', level: '金' } }] }],
    ]);
    assert.equal(ownRequests(app.emulator)[1]?.path, '/v4/all_member_push/im_set_attr');
    assert.deepEqual(app.emulator.state.attrsOf('user000001'), { sex: 'M', city: 'Paris, "the" city', level: '金' });
  });

  describe('refuses bad arguments before sending anything', () => {
    const fiftyOne = 'é'.repeat(25) + 'x';
    const cases: Array<{ args: string[]; sent: string[]; stderr: string; tty?: boolean }> = [
      {
        args: ['user000001', 'citty=Paris', 'level=' + fiftyOne],
        sent: ['im_get_attr_name'],
        stderr:
          'im-attrs: unknown attribute "citty" (did you mean "city"?); the value of "level" is 51 bytes, over the limit of 50\n' +
          "hint: the app's attributes are sex, city, level (im-attrs names)\n",
      },
      { args: ['user000001', 'city'], sent: [], stderr: 'im-attrs: "city" is not name=value\nhint: e.g. im-attrs set user000001 city=Paris\n' },
      { args: ['user000001'], sent: [], stderr: 'im-attrs: nothing to set for "user000001"\nhint: give name=value pairs: im-attrs set user000001 city=Paris\n' },
      { args: ['user000001', 'city=a', 'city=b'], sent: [], stderr: 'im-attrs: attribute "city" is given twice\n' },
      { args: [' ', 'city=a'], sent: [], stderr: 'im-attrs: the account is empty\n' },
      { args: ['user000001', 'city=a', '--file', 'x.csv'], sent: [], stderr: 'im-attrs: give an account with name=value pairs, or --file records, not both\n' },
      {
        args: [],
        tty: true,
        sent: [],
        stderr:
          'im-attrs: no records given\nhint: name an account (im-attrs set alice city=Paris), use --file attrs.csv, or pipe records: im-attrs get --output ndjson … | im-attrs set\n',
      },
    ];
    for (const c of cases) {
      it(`set ${c.args.join(' ')}`, async () => {
        const result = await runCli(['set', ...c.args], { env: app.env, stdinIsTTY: c.tty ?? false });
        assert.equal(result.code, 2);
        assert.equal(result.stderr, c.stderr);
        assert.deepEqual(ownRequests(app.emulator).map((r) => r.command), c.sent);
      });
    }
  });

  it('splits 250 ndjson records from stdin into 3 requests of at most 100, in input order', async () => {
    const lines = Array.from({ length: 250 }, (_, i) => JSON.stringify({ To_Account: `bulk${i}`, Attrs: { level: `L${i}` } }));
    const result = await runCli(['set', '--concurrency', '3'], { env: app.env, stdin: lines.join('\n') + '\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, 'set: 250 accounts updated, 0 skipped (bad input), 0 failed\n');
    const sets = ownRequests(app.emulator).filter((r) => r.command === 'im_set_attr');
    const bodies = sets.map((r) => (r.body as { UserAttrs: Array<{ To_Account: string }> }).UserAttrs);
    assert.deepEqual(bodies.map((b) => b.length), [100, 100, 50]);
    assert.deepEqual(bodies.flat().map((e) => e.To_Account), lines.map((_, i) => `bulk${i}`));
    assert.deepEqual(app.emulator.state.attrsOf('bulk249'), { level: 'L249' });
  });

  it('reports each bad record with its line number, sends the others and exits 5', async () => {
    const input = files.write(
      'mixed.ndjson',
      [
        '{"To_Account":"good1","Attrs":{"city":"Paris"}}',
        '{"To_Account":"bad1","Attrs":{"citty":"Paris"}}',
        '',
        '{"To_Account":"","Attrs":{"city":"x"}}',
        '{"To_Account":"bad3","Attrs":{"sex":1}}',
        '{"To_Account":"bad4","Attrs":{"sex":"' + 'x'.repeat(51) + '"}}',
        '{"To_Account":"bad5","Attrs":["sex"]}',
        'To_Account=bad6',
        '{"To_Account":"good2","Attrs":{"sex":"F","level":""}}',
        '{"To_Account":"empty","Attrs":{}}',
      ].join('\n'),
    );
    const result = await runCli(['set', '--file', input], { env: app.env });
    assert.equal(result.code, 5);
    assert.equal(
      result.stderr,
      'line 2: unknown attribute "citty" (did you mean "city"?)\n' +
        'line 4: the account is empty\n' +
        'line 5: the value of "sex" must be a string, not a number\n' +
        'line 6: the value of "sex" is 51 bytes, over the limit of 50\n' +
        'line 7: "Attrs" must be an object of name → value, not an array\n' +
        'line 8: not valid JSON\n' +
        'set: 2 accounts updated, 6 skipped (bad input), 1 skipped (nothing to set), 0 failed\n' +
        'im-attrs: 6 bad records were skipped; the other accounts were updated\n' +
        'hint: fix the records listed above and run again (set is idempotent), or use --strict to refuse any input with a bad record\n',
    );
    assert.deepEqual(requestLog(app.emulator), [
      ['im_get_attr_name', {}],
      [
        'im_set_attr',
        {
          UserAttrs: [
            { To_Account: 'good1', Attrs: { city: 'Paris' } },
            { To_Account: 'good2', Attrs: { sex: 'F', level: '' } },
          ],
        },
      ],
    ]);
  });

  it('lists the first 100 bad records, counts the rest, and lists them all with --verbose', async () => {
    const stdin = Array.from({ length: 105 }, (_, i) => `{"To_Account":"b${i}","Attrs":{"x":"1"}}`).join('\n') + '\n{"To_Account":"ok","Attrs":{"sex":"F"}}\n';
    const result = await runCli(['set', '--dry-run'], { env: app.env, stdin });
    const lines = result.stderr.split('\n');
    assert.equal(lines[0], 'line 1: unknown attribute "x"');
    assert.equal(lines[99], 'line 100: unknown attribute "x"');
    assert.equal(lines[100], '… and 5 more bad records (--verbose lists them all)');
    assert.equal(lines[101], 'set --dry-run: 1 account in 1 request would be updated, 105 skipped (bad input); nothing was sent');
    const verbose = await runCli(['set', '--dry-run', '--verbose'], { env: app.env, stdin });
    assert.equal(verbose.stderr.split('\n')[104], 'line 105: unknown attribute "x"');
  });

  it('with --strict, sends nothing at all when any record is bad', async () => {
    const input = files.write('strict.csv', 'account,city\ngood,Paris\nbad,"unclosed\n');
    const ok = files.write('strict2.csv', 'account,city,citty\ngood,Paris,\n');
    let result = await runCli(['set', '--file', input, '--strict'], { env: app.env });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'im-attrs: line 3 of ' + input + ': a quoted field starts in this record and is never closed\n' +
        'hint: in CSV, a field that contains `"` must be quoted and each `"` inside it doubled: "say ""hi"""\n',
    );
    result = await runCli(['set', '-', '--strict'], { env: app.env, stdin: '{"To_Account":"good","Attrs":{"city":"Rome"}}\n{"To_Account":"bad","Attrs":{"citi":"Rome"}}\n' });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'line 2: unknown attribute "citi" (did you mean "city"?)\n' +
        'im-attrs: 1 bad record in the input; nothing was sent (--strict)\n' +
        'hint: fix the records listed above, or leave out --strict to send the good ones and skip the bad\n',
    );
    result = await runCli(['set', '--file', ok], { env: app.env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^im-attrs: line 1 of .*strict2\.csv \(the csv header\): unknown attribute "citty" \(did you mean "city"\?\)\n/);
    assert.deepEqual(ownRequests(app.emulator).map((r) => r.command), ['im_get_attr_name', 'im_get_attr_name', 'im_get_attr_name']);
    assert.equal(app.emulator.state.attrsOf('good'), undefined);
  });

  it('with --dry-run, prints the requests it would send and sends nothing but im_get_attr_name', async () => {
    const input = 'account\tsex\tcity\nd1\tF\tParis\nd2\t\tRome\nd3\t\t\nd4\tM\tTab\\there\nd5\tM\n';
    const result = await runCli(['set', '--dry-run', '--batch-size', '2'], { env: app.env, stdin: input });
    assert.equal(result.code, 5);
    assert.equal(
      result.stdout,
      'im_set_attr request 1 (2 accounts)\n' +
        '  {"To_Account":"d1","Attrs":{"sex":"F","city":"Paris"}}\n' +
        '  {"To_Account":"d2","Attrs":{"city":"Rome"}}\n' +
        'im_set_attr request 2 (1 account)\n' +
        '  {"To_Account":"d4","Attrs":{"sex":"M","city":"Tab\\there"}}\n',
    );
    assert.equal(
      result.stderr,
      'line 6: 2 fields, but the header has 3\n' +
        'set --dry-run: 3 accounts in 2 requests would be updated, 1 skipped (bad input), 1 skipped (nothing to set); nothing was sent\n' +
        'im-attrs: 1 bad record would be skipped; the other accounts would be updated\n' +
        'hint: fix the records listed above and run again (set is idempotent), or use --strict to refuse any input with a bad record\n',
    );
    assert.deepEqual(requestLog(app.emulator), [['im_get_attr_name', {}]]);
  });

  it('leaves an attribute unchanged where a csv or tsv cell is empty', async () => {
    assert.deepEqual(app.emulator.state.attrsOf('user000003'), { sex: 'M', city: 'Tokyo', level: 'bronze' });
    const result = await runCli(['set', '--file', files.write('partial.csv', 'account,sex,city,level\r\nuser000003,,Paris,\r\n')], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(requestLog(app.emulator)[1], ['im_set_attr', { UserAttrs: [{ To_Account: 'user000003', Attrs: { city: 'Paris' } }] }]);
    assert.deepEqual(app.emulator.state.attrsOf('user000003'), { sex: 'M', city: 'Paris', level: 'bronze' });
  });

  describe('reads the same records in every format', () => {
    const expected = { UserAttrs: [{ To_Account: 'f1', Attrs: { sex: 'F', city: 'Rome, "Italy"' } }, { To_Account: 'f2', Attrs: { level: 'x\ty' } }] };
    const cases: Array<{ format: string; name: string; text: string; args?: string[] }> = [
      { format: 'ndjson', name: 'r.txt', text: '{"To_Account":"f1","Attrs":{"sex":"F","city":"Rome, \\"Italy\\""}}\n{"To_Account":"f2","Attrs":{"level":"x\\ty"}}\n' },
      { format: 'json', name: 'r.json', text: '[\n  {"To_Account":"f1","Attrs":{"sex":"F","city":"Rome, \\"Italy\\""}},\n  {"To_Account":"f2","Attrs":{"level":"x\\ty"}}\n]\n' },
      { format: 'csv', name: 'r.csv', text: 'account,sex,city,level\nf1,F,"Rome, ""Italy""",\nf2,,,x\ty\n' },
      { format: 'tsv', name: 'r.tsv', text: 'account\tsex\tcity\tlevel\nf1\tF\tRome, "Italy"\t\nf2\t\t\tx\\ty\n' },
      { format: 'csv given with --format', name: 'r.txt', text: 'account\nf0\n', args: ['--format', 'csv'] },
    ];
    for (const c of cases) {
      it(`reads ${c.format}`, async () => {
        const result = await runCli(['set', '--file', files.write(c.name, c.text), ...(c.args ?? [])], { env: app.env });
        assert.equal(result.code, 0, result.stderr);
        if (c.args) {
          assert.equal(result.stderr, 'set: 0 accounts updated, 0 skipped (bad input), 1 skipped (nothing to set), 0 failed\n');
          assert.deepEqual(requestLog(app.emulator), [['im_get_attr_name', {}]]);
        } else {
          assert.deepEqual(requestLog(app.emulator), [['im_get_attr_name', {}], ['im_set_attr', expected]]);
        }
      });
    }
  });

  it('sends an account on several lines once, at its last line, the lines merged', async () => {
    const result = await runCli(['set'], {
      env: app.env,
      stdin:
        '{"To_Account":"dup","Attrs":{"city":"Paris","sex":"F"}}\n' +
        '{"To_Account":"other","Attrs":{"city":"Rome"}}\n' +
        '{"To_Account":"dup","Attrs":{"city":"Lyon"}}\n',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stderr,
      'warning: 1 record repeats the account of an earlier one; each account is sent once, at its last record, with its records merged (later values win)\n' +
        'set: 2 accounts updated, 0 skipped (bad input), 0 failed\n',
    );
    assert.deepEqual(requestLog(app.emulator)[1], [
      'im_set_attr',
      { UserAttrs: [{ To_Account: 'other', Attrs: { city: 'Rome' } }, { To_Account: 'dup', Attrs: { city: 'Lyon', sex: 'F' } }] },
    ]);
  });

  describe('failures', () => {
    const records = ['p1', 'p2', 'p3', 'p4', 'p5'].map((a) => `{"To_Account":"${a}","Attrs":{"city":"C-${a}"}}\n`).join('');

    it('writes the records of failed accounts to --save-failed as ndjson, exits 5, and the file re-runs', async () => {
      const result = await runCli(['set', '--batch-size', '2', '--concurrency', '1', '--save-failed', 'failed.ndjson'], {
        env: app.env,
        stdin: records,
        cwd: files.dir,
        proxy: (command, body) => (command === 'im_set_attr' && body.includes('"p3"') ? { ActionStatus: 'FAIL', ErrorCode: 90033, ErrorInfo: 'injected' } : undefined),
      });
      assert.equal(result.code, 5);
      assert.equal(
        result.stderr,
        'failed: 2 accounts (90033 injected): p3 p4\n' +
          'set: 3 accounts updated, 0 skipped (bad input), 2 failed\n' +
          'wrote 2 records to failed.ndjson; re-run them: im-attrs set --file failed.ndjson\n' +
          'im-attrs: 2 accounts failed (2 × 90033 injected); the others were updated\n' +
          'hint: re-run them: im-attrs set --file failed.ndjson\n',
      );
      const saved = readFileSync(path.join(files.dir, 'failed.ndjson'), 'utf8');
      assert.equal(saved, '{"To_Account":"p3","Attrs":{"city":"C-p3"}}\n{"To_Account":"p4","Attrs":{"city":"C-p4"}}\n');
      assert.deepEqual(app.emulator.state.attrsOf('p3'), undefined);
      const rerun = await runCli(['set', '--file', 'failed.ndjson'], { env: app.env, cwd: files.dir });
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(app.emulator.state.attrsOf('p4'), { city: 'C-p4' });
    });

    it('on a fatal error, saves the failed and the unsent records and exits with that error', async () => {
      let sets = 0;
      const result = await runCli(['set', '--batch-size', '2', '--concurrency', '1', '--save-failed', 'fatal.ndjson'], {
        env: app.env,
        stdin: records.replaceAll('C-', 'D-'),
        cwd: files.dir,
        proxy: (command) => (command === 'im_set_attr' && ++sets === 2 ? { ActionStatus: 'FAIL', ErrorCode: 60010, ErrorInfo: 'not an admin' } : undefined),
      });
      assert.equal(result.code, 4);
      assert.equal(
        result.stderr,
        'set: 2 accounts updated, 0 skipped (bad input), 2 failed, 1 not sent\n' +
          'wrote 3 records to fatal.ndjson; re-run them: im-attrs set --file fatal.ndjson\n' +
          'im-attrs: im_set_attr: error 60010: not an admin\n' +
          'hint: set `identifier` to an administrator account (Chat console → Account Management)\n',
      );
      assert.equal(
        readFileSync(path.join(files.dir, 'fatal.ndjson'), 'utf8'),
        '{"To_Account":"p3","Attrs":{"city":"D-p3"}}\n{"To_Account":"p4","Attrs":{"city":"D-p4"}}\n{"To_Account":"p5","Attrs":{"city":"D-p5"}}\n',
      );
    });

    it('on Ctrl-C, lets the request in flight finish and saves the records not sent', async () => {
      const slow = await startTestEmulator({ rateLimit: 0, latencyMs: 150 });
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await runCli(['set', '--batch-size', '1', '--concurrency', '1', '--save-failed', 'int.ndjson'], {
          env: emulatorEnv(slow),
          stdin: records,
          cwd: files.dir,
          // Ctrl-C as soon as the first im_set_attr has reached the server.
          onSignals: (signals) => {
            timer = setInterval(() => {
              if (slow.requests.some((r) => r.command === 'im_set_attr')) {
                clearInterval(timer);
                signals.emit('SIGINT');
              }
            }, 5);
          },
        });
        assert.equal(result.code, 130);
        assert.equal(
          result.stderr,
          'stopping: no new requests; waiting for those in flight (press Ctrl-C again to abort them)\n' +
            'set: 1 account updated, 0 skipped (bad input), 0 failed, 4 not sent\n' +
            'wrote 4 records to int.ndjson; re-run them: im-attrs set --file int.ndjson\n' +
            'im-attrs: interrupted: 1 account done, 4 accounts not done\n' +
            'hint: re-run them: im-attrs set --file int.ndjson\n',
        );
        assert.deepEqual(slow.state.attrsOf('p1'), { city: 'C-p1' });
        assert.equal(readFileSync(path.join(files.dir, 'int.ndjson'), 'utf8'), records.split('\n').slice(1).join('\n'));
      } finally {
        clearInterval(timer);
        await slow.close();
      }
    });

    it('stop means stop: at a low rate with a deep pacer queue, no call leaves after Ctrl-C but the one in flight', async () => {
      const many = Array.from({ length: 200 }, (_, i) => JSON.stringify({ To_Account: `q${i}`, Attrs: { city: 'Q' } })).join('\n') + '\n';
      let signals: { emit(signal: 'SIGINT'): void } | undefined;
      let sets = 0;
      let atSignal = -1;
      const result = await runCli(['set', '--batch-size', '1', '--concurrency', '30', '--rate', '5', '--save-failed', 'deep.ndjson'], {
        env: app.env,
        stdin: many,
        cwd: files.dir,
        onSignals: (s) => (signals = s),
        proxy: (command) => {
          if (command === 'im_set_attr' && ++sets === 3) {
            atSignal = sets;
            signals!.emit('SIGINT');
          }
          return undefined;
        },
      });
      assert.equal(result.code, 130, result.stderr);
      // Calls are 200 ms apart: at most the one that had already left when the signal came.
      assert.ok(sets - atSignal <= 1, `${sets - atSignal} calls after the stop`);
      assert.match(result.stderr, new RegExp(`^set: ${sets} accounts updated, 0 skipped \\(bad input\\), 0 failed, ${200 - sets} not sent$`, 'm'));
      assert.equal(readFileSync(path.join(files.dir, 'deep.ndjson'), 'utf8').trim().split('\n').length, 200 - sets);
    });

    it('a call stopped before its retry is failed, not "not sent": its first attempt reached the server', async () => {
      let signals: { emit(signal: 'SIGINT'): void } | undefined;
      const result = await runCli(['set', '--file', '-', '--retries', '3', '--retry-delay', '60000', '--save-failed', 'retry-stop.ndjson'], {
        env: app.env,
        stdin: records,
        cwd: files.dir,
        onSignals: (s) => (signals = s),
        proxy: (command) => {
          if (command !== 'im_set_attr') return undefined;
          signals!.emit('SIGINT');
          return { ActionStatus: 'FAIL', ErrorCode: 91000, ErrorInfo: 'busy' };
        },
      });
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stderr, /^set: 0 accounts updated, 0 skipped \(bad input\), 5 failed$/m);
      assert.match(result.stderr, /^failed: 5 accounts \(91000 busy \(stopped before retrying\)\)/m);
      assert.equal(readFileSync(path.join(files.dir, 'retry-stop.ndjson'), 'utf8').trim().split('\n').length, 5);
    });

    it('Ctrl-C during a single call (the attribute names read, about to be retried) stops the run with exit 130: no retry, no write', async () => {
      let signals: { emit(signal: 'SIGINT'): void } | undefined;
      let reads = 0;
      const result = await runCli(['set', '--file', '-', '--retries', '3', '--retry-delay', '60000'], {
        env: app.env,
        stdin: records,
        onSignals: (s) => (signals = s),
        proxy: (command) => {
          if (command !== 'im_get_attr_name') return undefined;
          reads++;
          signals!.emit('SIGINT');
          return { ActionStatus: 'FAIL', ErrorCode: 91000, ErrorInfo: 'busy' };
        },
      });
      assert.equal(result.code, 130, result.stderr);
      assert.equal(reads, 1);
      assert.match(result.stderr, /^stopping: no new requests/m);
      assert.match(result.stderr, /stopped before retrying \(91000 busy\)/);
      assert.deepEqual(ownRequests(app.emulator).filter((r) => r.command === 'im_set_attr'), []);
    });

    it('retries 91000 and counts an account as failed only after the retries', async () => {
      let sets = 0;
      const result = await runCli(['set', 'r1', 'city=x', '--retries', '2', '--retry-delay', '1'], {
        env: app.env,
        proxy: (command) => (command === 'im_set_attr' && ++sets <= 2 ? { ActionStatus: 'FAIL', ErrorCode: 91000, ErrorInfo: 'busy' } : undefined),
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, 'set: 1 account updated, 0 skipped (bad input), 0 failed\n');
      assert.equal(sets, 3);
    });
  });

  describe('the emulator enforces the im_set_attr rules', () => {
    const entries = (n: number, attrs: Record<string, unknown> = { sex: 'F' }) => Array.from({ length: n }, (_, i) => ({ To_Account: `raw${i}`, Attrs: attrs }));
    const cases: Array<{ name: string; body: unknown[]; code: number | undefined }> = [
      { name: '100 accounts', body: entries(100), code: undefined },
      { name: '101 accounts: 90018', body: entries(101), code: 90018 },
      { name: 'a name that is not an app attribute: 90033', body: entries(1, { citty: 'x' }), code: 90033 },
      { name: 'a value of 50 bytes', body: entries(1, { city: 'é'.repeat(25) }), code: undefined },
      { name: 'a value of 51 bytes: 90033', body: entries(1, { city: 'é'.repeat(25) + 'x' }), code: 90033 },
      { name: 'a value that is not a string: 90033', body: entries(1, { city: 5 }), code: 90033 },
    ];
    for (const c of cases) {
      it(`answers ${c.name}`, () => assertRawAnswer(app.emulator, (client) => client.post('v4/all_member_push/im_set_attr', { UserAttrs: c.body }), c.code));
    }

    it('applies nothing of a request with one bad entry', async () => {
      await withRawClient(app.emulator, async (client) => {
        await assert.rejects(client.post('v4/all_member_push/im_set_attr', { UserAttrs: [{ To_Account: 'atomic1', Attrs: { city: 'x' } }, { To_Account: 'atomic2', Attrs: { nope: 'x' } }] }));
      });
      assert.equal(app.emulator.state.attrsOf('atomic1'), undefined);
    });
  });

  it('has a description, defaults and examples in --help', async () => {
    const result = await runCli(['set', '--help'], { env: app.env });
    assert.equal(result.code, 0);
    assert.ok(result.stdout.startsWith('Usage: im-attrs set [options] [account] [name=value...]\n\nSet push attributes:'), result.stdout);
    for (const line of [
      "  --batch-size <n>        accounts per request (default and most: the endpoint's",
      '  $ im-attrs set alice city=Paris sex=F',
      '  $ im-attrs get --file ids.txt --output ndjson > backup.ndjson && im-attrs set --file backup.ndjson --profile prod',
    ]) {
      // An example wider than 80 columns continues on the next line after a backslash (still one shell command).
      assert.ok(result.stdout.replace(/ \\\n {6}/g, ' ').includes(`${line}\n`), `missing: ${line}\n${result.stdout}`);
    }
    // Help wraps at 80 columns off a terminal (issue 14): the words may continue on the next line.
    assert.match(result.stdout, /--save-failed <path> +write the records of the accounts that failed or\s+were\s+not\s+sent,\s+as\s+ndjson/);
  });
});
