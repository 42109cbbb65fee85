import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { emulatorEnv, runCli, seededIds, startTestEmulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, useEmulator, useTempDir } from '../helpers/cli.js';

describe('im-attrs get', () => {
  const app = useEmulator({ seedUsers: 400, rateLimit: 0 });
  const files = useTempDir();

  const getRequests = () => app.emulator.requests.filter((r) => r.command === 'im_get_attr');

  it('sends im_get_attr with the exact envelope and body, and prints a tsv when stdout is not a TTY', async () => {
    const result = await runCli(['get', 'user000001', 'user000002'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'account\tsex\tcity\tlevel\nuser000001\tM\tShenzhen\t\nuser000002\tF\tSingapore\t\n');
    assert.equal(result.stderr, '');
    const [names, get] = app.emulator.requests;
    assert.equal(names?.path, '/v4/all_member_push/im_get_attr_name');
    assert.deepEqual(names?.body, {});
    assert.equal(get?.path, '/v4/all_member_push/im_get_attr');
    assert.deepEqual(get?.body, { To_Account: ['user000001', 'user000002'] });
    assert.deepEqual(Object.keys(get!.query), ['sdkappid', 'identifier', 'usersig', 'random', 'contenttype']);
    assert.equal(get?.query.sdkappid, String(TEST_SDKAPPID));
    assert.equal(get?.query.identifier, TEST_ADMIN);
    assert.equal(get?.query.contenttype, 'json');
    assert.match(get!.query.random!, /^[0-9]+$/);
    assert.ok(Number(get!.query.random) < 2 ** 32);
    assert.notEqual(names?.query.random, get?.query.random);
  });

  it('splits 250 IDs into 3 requests of at most 100 and prints them in input order although the emulator shuffles', async () => {
    const ids = seededIds(1, 250).reverse();
    const result = await runCli(['get', '--output', 'ndjson'], { env: app.env, stdin: ids.join('\n') + '\n' });
    assert.equal(result.code, 0, result.stderr);
    const requests = getRequests();
    assert.deepEqual(
      requests.map((r) => (r.body as { To_Account: string[] }).To_Account.length),
      [100, 100, 50],
    );
    assert.deepEqual(requests.flatMap((r) => (r.body as { To_Account: string[] }).To_Account), ids);
    const printed = result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { To_Account: string }).To_Account);
    assert.deepEqual(printed, ids);
  });

  it('reads accounts from arguments, --file (repeatable) and "-" (stdin), skipping blanks and duplicates', async () => {
    const a = files.write('a.txt', '\ufeffuser000003\r\n\r\n  user000004  \nuser000001\n');
    const b = files.write('b.txt', 'user000005\nuser000003\n');
    const result = await runCli(['get', 'user000001', '-', '--file', a, '-f', b, '-o', 'ndjson', '--attrs', 'city'], {
      env: app.env,
      stdin: 'user000006\n\nuser000002\n',
    });
    assert.equal(result.code, 0, result.stderr);
    const printed = result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { To_Account: string }).To_Account);
    assert.deepEqual(printed, ['user000001', 'user000003', 'user000004', 'user000005', 'user000006', 'user000002']);
    assert.equal(result.stderr, 'warning: skipped 2 duplicate account IDs\n');
  });

  it('prints what it fetched before a bad input line, then stops with exit 2 naming the line', async () => {
    const ids = seededIds(1, 300);
    const lines = [...ids.slice(0, 149), 'user\u0000oops', ...ids.slice(149)];
    const file = files.write('binary.txt', `${lines.join('\n')}\n`);
    const result = await runCli(['get', '--file', file, '--json'], { env: app.env });
    assert.equal(result.code, 2);
    assert.deepEqual(
      (JSON.parse(result.stdout) as Array<{ To_Account: string }>).map((r) => r.To_Account),
      ids.slice(0, 149),
      'every good account read before the bad line is printed (the 49 of the unfinished batch too); the JSON array is closed',
    );
    assert.equal(result.stderr, `im-attrs: line 150 of ${file} contains a NUL byte; is this a binary file?\nhint: give a text file with one account ID per line\n`);
  });

  it('keeps only the --attrs attributes in every format and drops repeats', async () => {
    const result = await runCli(['get', 'user000003', '-o', 'ndjson', '--attrs', 'level,city,level'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '{"To_Account":"user000003","Attrs":{"level":"bronze","city":"Tokyo"}}\n');
    assert.equal(result.stderr, '');
  });

  it('refuses an --attrs name the app lacks, with did-you-mean, as set and remove do (before any im_get_attr)', async () => {
    const result = await runCli(['get', 'user000003', '-o', 'ndjson', '--attrs', 'level,citty'], { env: app.env });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'im-attrs: --attrs: "citty" is not one of the app\'s attributes (did you mean "city"?)\nhint: the app\'s attributes are sex, city, level (im-attrs names)\n',
    );
    assert.deepEqual(app.emulator.requests.map((r) => r.command), ['im_get_attr_name']);
  });

  it('refuses an unreadable --file before any request, printing nothing on stdout', async () => {
    const result = await runCli(['get', '--file', '/nonexistent/ids.txt', '--json'], { env: app.env });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'im-attrs: cannot read account IDs from /nonexistent/ids.txt: no such file\n');
    assert.equal(app.emulator.requests.length, 0);
  });

  it('saves every account to --save-failed when the run fails before its first batch', async () => {
    const faulty = await startTestEmulator({ seedUsers: 5, faults: [{ kind: 'code:91000', fraction: 1 }] });
    try {
      const saved = files.write('before-first-batch.txt', 'stale\n');
      const result = await runCli(['get', '--retries', '0', '--save-failed', saved, '-o', 'tsv'], {
        env: emulatorEnv(faulty),
        stdin: 'user000001\nuser000002\nuser000003\n',
      });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '', 'no header without columns');
      assert.equal(readFileSync(saved, 'utf8'), 'user000001\nuser000002\nuser000003\n');
      assert.equal(result.stderr, 'im-attrs: im_get_attr_name: error 91000: injected fault 91000\n');
    } finally {
      await faulty.close();
    }
  });

  it('reads stdin when no account is given and stdin is not a terminal', async () => {
    const result = await runCli(['get', '--json'], { env: app.env, stdin: 'user000010\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '[\n  {"To_Account":"user000010","Attrs":{"sex":"F","city":"Tokyo"}}\n]\n');
  });

  it('is a usage error with an example when no account is given at all', async () => {
    const result = await runCli(['get'], { env: app.env, stdinIsTTY: true });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'im-attrs: no accounts given\nhint: name them (im-attrs get alice bob), use --file ids.txt, or pipe them: cut -f1 users.tsv | im-attrs get\n',
    );
    assert.equal(app.emulator.requests.length, 0);
  });

  describe('formats', () => {
    const ids = ['user000002', 'user000007', 'user000003'];
    const cases: Array<{ name: string; args: string[]; tty?: boolean; expected: string }> = [
      {
        name: 'tsv (default when stdout is not a TTY)',
        args: [],
        expected: 'account\tsex\tcity\tlevel\nuser000002\tF\tSingapore\t\nuser000007\t\t\t\nuser000003\tM\tTokyo\tbronze\n',
      },
      {
        name: 'csv',
        args: ['--output', 'csv'],
        expected: 'account,sex,city,level\nuser000002,F,Singapore,\nuser000007,,,\nuser000003,M,Tokyo,bronze\n',
      },
      {
        name: 'json',
        args: ['--json'],
        expected:
          '[\n' +
          '  {"To_Account":"user000002","Attrs":{"sex":"F","city":"Singapore"}},\n' +
          '  {"To_Account":"user000007","Attrs":{}},\n' +
          '  {"To_Account":"user000003","Attrs":{"sex":"M","city":"Tokyo","level":"bronze"}}\n' +
          ']\n',
      },
      {
        name: 'ndjson',
        args: ['-o', 'ndjson'],
        expected:
          '{"To_Account":"user000002","Attrs":{"sex":"F","city":"Singapore"}}\n' +
          '{"To_Account":"user000007","Attrs":{}}\n' +
          '{"To_Account":"user000003","Attrs":{"sex":"M","city":"Tokyo","level":"bronze"}}\n',
      },
      {
        name: 'tsv with --attrs choosing and ordering columns',
        args: ['--attrs', 'level,sex'],
        expected: 'account\tlevel\tsex\nuser000002\t\tF\nuser000007\t\t\nuser000003\tbronze\tM\n',
      },
      {
        name: 'table (default when stdout is a TTY)',
        args: [],
        tty: true,
        expected: [
          'account     sex  city       level',
          '──────────  ───  ─────────  ──────',
          'user000002  F    Singapore',
          'user000007',
          'user000003  M    Tokyo      bronze',
          '',
        ].join('\n'),
      },
    ];
    for (const c of cases) {
      it(`prints ${c.name} exactly`, async () => {
        const result = await runCli(['get', ...ids, ...c.args], { env: app.env, stdoutIsTTY: c.tty ?? false });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, c.expected);
      });
    }

    it('takes the default format from the config file\'s "output" key', async () => {
      const result = await runCli(['get', 'user000002'], { env: { ...app.env, IMADMIN_OUTPUT: 'ndjson' } });
      assert.equal(result.stdout, '{"To_Account":"user000002","Attrs":{"sex":"F","city":"Singapore"}}\n');
    });

    it('refuses --json with a contradicting --output', async () => {
      const result = await runCli(['get', 'user000002', '--json', '--output', 'table'], { env: app.env });
      assert.equal(result.code, 2);
      assert.equal(result.stderr, 'im-attrs: --json and --output table contradict each other\nhint: give one of them\n');
    });
  });

  describe('failures', () => {
    it('names an account missing from the response, prints the others and exits 5', async () => {
      const result = await runCli(['get', 'user000001', 'ghost', 'user000002', '-o', 'ndjson'], { env: app.env });
      assert.equal(result.code, 5);
      assert.equal(
        result.stdout,
        '{"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"}}\n{"To_Account":"user000002","Attrs":{"sex":"F","city":"Singapore"}}\n',
      );
      assert.equal(
        result.stderr,
        'failed: 1 account (70107 account not imported): ghost\n' +
          'im-attrs: 1 account failed (1 × 70107 account not imported); the others were printed\n' +
          'hint: use --save-failed <path> to collect them for a re-run\n',
      );
    });

    it('writes failed accounts to --save-failed, one per line, ready for --file', async () => {
      const saved = path.join(files.dir, 'failed.txt');
      const result = await runCli(['get', 'ghost1', 'user000001', 'ghost2', '--json', '--save-failed', saved], { env: app.env });
      assert.equal(result.code, 5);
      const { readFileSync } = await import('node:fs');
      assert.equal(readFileSync(saved, 'utf8'), 'ghost1\nghost2\n');
      assert.deepEqual(JSON.parse(result.stdout), [{ To_Account: 'user000001', Attrs: { sex: 'M', city: 'Shenzhen' } }]);
    });

    const codeCases: Array<{ code: number; exit: number; sent: number; stderr: string }> = [
      {
        code: 90033,
        exit: 1,
        sent: 1,
        stderr:
          'failed: 2 accounts (90033 injected fault 90033): user000001 user000002\n' +
          'im-attrs: all 2 accounts failed (2 × 90033 injected fault 90033)\n' +
          'hint: use --save-failed <path> to collect them for a re-run\n',
      },
      {
        code: 60010,
        exit: 4,
        sent: 1,
        stderr:
          'im-attrs: im_get_attr: error 60010: injected fault 60010\n' +
          'hint: set `identifier` to an administrator account (Chat console → Account Management)\n',
      },
      {
        code: 70020,
        exit: 3,
        sent: 1,
        stderr: 'im-attrs: im_get_attr: error 70020: injected fault 70020\nhint: check `region`: this SDKAppID probably lives in another data center\n',
      },
      {
        code: 91000,
        exit: 1,
        sent: 3,
        stderr:
          'failed: 2 accounts (91000 injected fault 91000 (after 3 attempts)): user000001 user000002\n' +
          'im-attrs: all 2 accounts failed (2 × 91000 injected fault 91000 (after 3 attempts))\n' +
          'hint: use --save-failed <path> to collect them for a re-run\n',
      },
    ];
    for (const c of codeCases) {
      it(`turns error ${c.code} on every request into exit ${c.exit} after ${c.sent} request(s)`, async () => {
        const faulty = await startTestEmulator({ seedUsers: 5, faults: [{ kind: `code:${c.code}`, fraction: 1 }] });
        try {
          const result = await runCli(['get', 'user000001', 'user000002', '--json', '--retries', '2', '--retry-delay', '1'], {
            env: emulatorEnv(faulty),
          });
          assert.equal(result.code, c.exit);
          assert.equal(result.stderr, c.stderr);
          assert.equal(faulty.requests.filter((r) => r.command === 'im_get_attr').length, c.sent);
          assert.deepEqual(JSON.parse(result.stdout), []);
        } finally {
          await faulty.close();
        }
      });
    }

    it('never prints the UserSig or the secret key, whatever fails', async () => {
      const cases: string[][] = [
        ['get', 'ghost', '--debug', '--verbose'],
        ['get', 'user000001', '--debug', '--endpoint', 'http://127.0.0.1:1'],
        ['get', 'user000001', '--debug', '--usersig', 'not-a-usersig-but-secret-looking'],
      ];
      for (const args of cases) {
        const result = await runCli([...args, '--retries', '0'], { env: app.env });
        const all = result.stdout + result.stderr;
        assert.ok(!all.includes(TEST_SECRET_KEY), `${args.join(' ')} leaked the key`);
        for (const request of app.emulator.requests) assert.ok(!all.includes(request.query.usersig!), `${args.join(' ')} leaked a UserSig`);
        assert.ok(!all.includes('not-a-usersig-but-secret-looking'), `${args.join(' ')} leaked --usersig`);
        assert.match(result.stderr, /usersig=<redacted>|not a valid UserSig|im-attrs:/);
      }
    });

    it('--debug says when each request left, in UTC to the millisecond, to line it up with the server log', async () => {
      const before = app.emulator.requests.length;
      const started = Date.now();
      const result = await runCli(['get', 'user000001', 'user000002', '--debug'], { env: app.env });
      const finished = Date.now();
      assert.equal(result.code, 0, result.stderr);
      const requests = app.emulator.requests.slice(before);
      assert.deepEqual(
        requests.map((r) => r.command),
        ['im_get_attr_name', 'im_get_attr'],
      );
      for (const request of requests) {
        const line = result.stderr.split('\n').find((l) => l.includes(`&random=${request.query.random}&`));
        assert.ok(line, `a trace line for random=${request.query.random}:\n${result.stderr}`);
        const sent = /\) sent (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) → OK 0 in \d+ ms$/.exec(line)?.[1];
        assert.ok(sent, line);
        const at = Date.parse(sent);
        assert.ok(started <= at && at <= finished, `${sent} within the run`);
      }
    });
  });
});

describe('im-attrs get: the table on a terminal', () => {
  const TEN = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), `attribute_${i}`]));
  const app = useEmulator({ seedUsers: 0, rateLimit: 0, attrNames: TEN });

  it('fits 80 columns with 10 attributes: every line at most 80 characters, one line per row, all 150 rows', async () => {
    const records = Array.from({ length: 150 }, (_, r) => ({
      To_Account: `user${String(r).padStart(6, '0')}`,
      Attrs: Object.fromEntries(Object.values(TEN).map((n, i) => [n, String(i).repeat(50)])),
    }));
    const set = await runCli(['set', '--format', 'ndjson'], { env: app.env, stdin: records.map((r) => JSON.stringify(r)).join('\n') + '\n' });
    assert.equal(set.code, 0, set.stderr);
    const ids = records.map((r) => r.To_Account);
    const result = await runCli(['get', ...ids], { env: app.env, stdoutIsTTY: true, columns: 80 });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n').slice(0, -1);
    assert.equal(lines.length, 152);
    for (const line of lines) assert.ok(line.length <= 80, `${line.length} > 80: ${line}`);
    assert.equal(lines[2], 'user000000  0000…  1111…  2222…  3333…  4444…  5555…  6666…  7777…  8888…  9999…');
    const wide = await runCli(['get', 'user000000', '--wide'], { env: app.env, stdoutIsTTY: true, columns: 80 });
    assert.equal(wide.stdout.split('\n')[2], ['user000000', ...Object.values(TEN).map((_, i) => String(i).repeat(50))].join('  '));
  });

  it('streams: rows are on stdout as batches complete, and Ctrl-C keeps every fetched row (the table is never held back to the end)', async () => {
    const ids = seededIds(1, 150);
    const slow = await startTestEmulator({ rateLimit: 0, latencyMs: 100, seedUsers: 150 });
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await runCli(['get', ...ids, '--batch-size', '10', '--concurrency', '1'], {
        env: emulatorEnv(slow),
        stdoutIsTTY: true,
        columns: 80,
        // Ctrl-C once the third batch has reached the server: two batches fetched, the third in flight.
        onSignals: (signals) => {
          timer = setInterval(() => {
            if (slow.requests.filter((r) => r.command === 'im_get_attr').length >= 3) {
              clearInterval(timer);
              signals.emit('SIGINT');
            }
          }, 5);
        },
      });
      assert.equal(result.code, 130, result.stderr);
      const rows = result.stdout.split('\n').slice(2, -1);
      assert.deepEqual(rows.map((r) => r.split(' ')[0]), ids.slice(0, 30), 'the three batches sent, every row printed, one line each');
    } finally {
      clearInterval(timer);
      await slow.close();
    }
  });
});
