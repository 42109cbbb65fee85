/**
 * A batch write that is not safe to repeat (`retrySafe: false`, as a list push is): a call whose
 * request may have reached the server without an answer ends "may have been sent". It is never
 * sent again, kept apart from the failures, out of --save-failed, in --failures with
 * retriable:false, and no message tells anyone to re-run those accounts.
 *
 * The descriptor here is a test's own row over the emulator's im_set_attr: a new batch endpoint
 * is a descriptor and nothing else (no edit of the runner, the engine or the writers).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { batchWrite } from '../../src/api/operation.js';
import { createTestSignals } from '../../src/deps.js';
import { createTestIO } from '../../src/io.js';
import { runJob } from '../../src/jobs/runner.js';
import { withRun } from '../../src/jobs/run.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { startProxy, useEmulator, useTempDir } from '../helpers/cli.js';

const files = useTempDir();

interface Item {
  account: string;
}

/** im_set_attr as if it were a push: each call creates something, so it is not safe to repeat. */
const once = batchWrite<Item>({
  family: 'all_member_push',
  path: 'v4/all_member_push/im_set_attr',
  maxItems: 2,
  callsPerSecond: 100,
  retrySafe: false,
  codes: [],
  wording: { done: 'sent' },
  accountOf: (item) => item.account,
  itemBody: (item) => ({ To_Account: item.account, Attrs: { city: 'X' } }),
  body: (items) => ({ UserAttrs: items.map((item) => ({ To_Account: item.account, Attrs: { city: 'X' } })) }),
});

async function* items(accounts: string[]): AsyncGenerator<Item> {
  for (const account of accounts) yield { account };
}

describe('a write not safe to repeat whose request may have arrived', () => {
  const app = useEmulator({ seedUsers: 6, rateLimit: 0 });

  it('is "may have been sent": not retried, not in --save-failed, in --failures with retriable:false, exit 1', async () => {
    let calls = 0;
    // The second call's connection is reset after the request arrived (the proxy answers with garbage).
    const proxy = await startProxy(app.emulator.url, (command) => (command === 'im_set_attr' && ++calls === 2 ? ({ not: 'an envelope' } as object) : undefined));
    try {
      const io = createTestIO();
      const rt = new Runtime({ io, env: { ...app.env, IMADMIN_ENDPOINT: proxy.url }, cwd: files.dir, homeDir: files.dir, now: () => Date.now(), signals: createTestSignals() });
      rt.setGlobals({});
      const saveFailed = path.join(files.dir, 'rerun.ndjson');
      const failures = path.join(files.dir, 'failures.ndjson');
      const flags = { concurrency: '1', rate: '0', retries: '3', retryDelay: '0', retryMaxDelay: '0', saveFailed, failures };
      await assert.rejects(
        withRun(rt, flags, (run) => runJob(run, { operation: once, verb: 'send', items: items(['user000001', 'user000002', 'user000003', 'user000004', 'user000005']) })),
        (error: Error) => error.name === 'MaybeSentError' && /^2 accounts may have been sent; the others were sent$/.test(error.message),
      );
      // Three calls and no retry of the second, though --retries allows three.
      assert.equal(calls, 3);
      assert.equal(app.emulator.requests.filter((r) => r.command === 'im_set_attr').length, 2);
      assert.match(io.err(), /^send: 3 accounts sent, 0 skipped \(bad input\), 0 failed, 2 may have been sent$/m);
      assert.match(io.err(), /^may have been sent: 2 accounts: user000003 user000004 \(their request left and no answer came; im_set_attr is not safe to repeat, so they were not sent again; listed in .*failures\.ndjson\)$/m);
      assert.doesNotMatch(io.err(), /re-run/);
      // Nothing failed, so nothing to re-run: the file is there, and empty (it describes this run).
      assert.equal(readFileSync(saveFailed, 'utf8'), '');
      const lines = readFileSync(failures, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { account: string; retriable: boolean; reason: string });
      assert.deepEqual(lines.map((l) => [l.account, l.retriable]), [['user000003', false], ['user000004', false]]);
      assert.match(lines[0]!.reason, /^may have been sent: /);
    } finally {
      await proxy.close();
    }
  });
});
