/**
 * Two edges of the accounting (the write-safety issue): a directory given as stdin to a write is
 * a clear error (exit 2) and nothing is sent, as for get; and `get --json` prints a valid JSON
 * document (`[]`) even when the run fails at its first call.
 */
import assert from 'node:assert/strict';
import { createReadStream, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, useEmulator, useTempDir } from '../helpers/cli.js';

const files = useTempDir();

describe('accounting at the edges', () => {
  const app = useEmulator({ seedUsers: 5, rateLimit: 0 });

  for (const args of [['set', '--yes'], ['remove', '--yes'], ['tags', 'add', '--yes']]) {
    it(`${args.slice(0, -1).join(' ')} with a directory as stdin: exit 2, nothing sent`, async () => {
      const dir = path.join(files.dir, `dir-${args[0]}-${args.length}`);
      mkdirSync(dir, { recursive: true });
      const stdin = createReadStream('', { fd: openSync(dir, 'r') });
      const result = await runCli(args, { env: app.env, stdin });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^im-attrs: cannot read records from <stdin>: it is a directory\n/);
      assert.equal(app.emulator.requests.length, 0);
    });
  }

  it('get --json prints [] when its first call (the attribute names) fails', async () => {
    const result = await runCli(['get', 'user000001', '--json', '--attrs', 'city'], {
      env: app.env,
      proxy: (command) => (command === 'im_get_attr_name' ? { ActionStatus: 'FAIL', ErrorCode: 90009, ErrorInfo: 'not an admin' } : undefined),
    });
    assert.equal(result.code, 4, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), []);
  });
});
