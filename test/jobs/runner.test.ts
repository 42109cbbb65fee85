/**
 * The job runner with an operation that splits an account's request into parts (add tags: at most
 * 10 per user per call): parts never share a call, and when one part fails its account is failed
 * and exactly the failed part is saved for a re-run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FAMILIES } from '../../src/api/families.js';
import type { TagEntry } from '../../src/api/tags.js';
import { createTestSignals } from '../../src/deps.js';
import { createTestIO } from '../../src/io.js';
import { runJob } from '../../src/jobs/runner.js';
import { withRun } from '../../src/jobs/run.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { requestLog, useEmulator, useTempDir } from '../helpers/cli.js';

const files = useTempDir();

async function* items(list: TagEntry[]): AsyncGenerator<TagEntry> {
  yield* list;
}

describe('runJob with per-item caps (add tags, 10 per user per call)', () => {
  const app = useEmulator({ seedUsers: 2, rateLimit: 0 });

  it('sends the parts of one account in separate calls, fails the account whose part failed, and saves exactly that part', async () => {
    const io = createTestIO();
    const rt = new Runtime({ io, env: app.env, cwd: files.dir, homeDir: files.dir, now: () => Date.now(), signals: createTestSignals() });
    rt.setGlobals({});
    const saved = path.join(files.dir, 'failed-parts.ndjson');
    const flags = { batchSize: '1', concurrency: '1', rate: '0', retries: '0', retryDelay: '0', retryMaxDelay: '0', saveFailed: saved };
    const tooLong = 'x'.repeat(60);
    const alice = Array.from({ length: 12 }, (_, i) => (i === 11 ? tooLong : `a${i}`));
    await assert.rejects(
      withRun(rt, flags, (run) =>
        runJob(run, {
          operation: FAMILIES.all_member_push.addTags!,
          verb: 'tags add',
          items: items([
            { account: 'user000001', tags: alice },
            { account: 'user000002', tags: ['b1'] },
          ]),
        }),
      ),
      { name: 'PartialFailureError' },
    );
    assert.deepEqual(requestLog(app.emulator), [
      ['im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: alice.slice(0, 10) }] }],
      ['im_add_tag', { UserTags: [{ To_Account: 'user000001', Tags: alice.slice(10) }] }],
      ['im_add_tag', { UserTags: [{ To_Account: 'user000002', Tags: ['b1'] }] }],
    ]);
    assert.match(io.err(), /tags add: 1 account updated, 0 skipped \(bad input\), 1 failed\n/);
    assert.equal(readFileSync(saved, 'utf8'), `${JSON.stringify({ To_Account: 'user000001', Tags: alice.slice(10) })}\n`);
  });
});
