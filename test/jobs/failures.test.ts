import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, useEmulator, useTempDir } from '../helpers/cli.js';

describe('failure reporting', () => {
  const app = useEmulator({ seedUsers: 5, rateLimit: 0 });
  const files = useTempDir();

  it('lists the first 5 accounts per reason with "… and N more", quotes ambiguous IDs, and writes every one to --failures', async () => {
    const ghosts = ['ghost one', ...Array.from({ length: 11 }, (_, i) => `ghost${i + 2}`)];
    const result = await runCli(['get', 'user000001', ...ghosts, '-o', 'ndjson', '--failures', 'f.ndjson'], { env: app.env, cwd: files.dir });
    assert.equal(result.code, 5);
    assert.equal(
      result.stderr,
      'warning: 1 account ID has characters other than the recommended letters, digits, "_", "-", "@" and ".": "ghost one"\n' +
        'failed: 12 accounts (70107 account not imported): "ghost one" ghost2 ghost3 ghost4 ghost5 … and 7 more\n' +
        'wrote 12 failed accounts to f.ndjson (ndjson: account, code, reason, retriable); re-run them with --file f.ndjson\n' +
        'im-attrs: 12 accounts failed (12 × 70107 account not imported); the others were printed\n' +
        'hint: use --save-failed <path> to collect them for a re-run\n',
    );
    const lines = readFileSync(path.join(files.dir, 'f.ndjson'), 'utf8').split('\n').slice(0, -1);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as unknown),
      ghosts.map((account) => ({ account, code: 70107, reason: '70107 account not imported', retriable: false })),
    );
    const rerun = await runCli(['get', '--file', 'f.ndjson', '-o', 'ndjson', '--save-failed', 'again.txt'], { env: app.env, cwd: files.dir });
    assert.equal(rerun.code, 1, '--file reads the report back: the same 12 accounts fail again');
    assert.equal(readFileSync(path.join(files.dir, 'again.txt'), 'utf8'), ghosts.join('\n') + '\n');
  });

  it('marks a transient whole-call failure retriable, with its code', async () => {
    const result = await runCli(['get', 'user000001', 'user000002', '--json', '--retries', '1', '--retry-delay', '1', '--failures', 'busy.ndjson'], {
      env: app.env,
      cwd: files.dir,
      proxy: (command) => (command === 'im_get_attr' ? { ActionStatus: 'FAIL', ErrorCode: 91000, ErrorInfo: 'busy' } : undefined),
    });
    assert.equal(result.code, 1);
    assert.equal(
      readFileSync(path.join(files.dir, 'busy.ndjson'), 'utf8'),
      '{"account":"user000001","code":91000,"reason":"91000 busy (after 2 attempts)","retriable":true}\n' +
        '{"account":"user000002","code":91000,"reason":"91000 busy (after 2 attempts)","retriable":true}\n',
    );
  });

  it('prints at most 30 lines on stderr for 100,000 failed accounts; --failures holds all 100,000', async () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `nobody${i}`);
    const result = await runCli(['get', '-o', 'ndjson', '--rate', '0', '--failures', 'all.ndjson', '--save-failed', 'all.txt'], {
      env: app.env,
      cwd: files.dir,
      stdin: ids.join('\n') + '\n',
    });
    assert.equal(result.code, 1);
    const lines = result.stderr.split('\n').slice(0, -1);
    assert.ok(lines.length <= 30, `${lines.length} lines`);
    assert.equal(lines[0], 'failed: 100,000 accounts (70107 account not imported): nobody0 nobody1 nobody2 nobody3 nobody4 … and 99,995 more');
    const saved = readFileSync(path.join(files.dir, 'all.ndjson'), 'utf8').split('\n').slice(0, -1);
    assert.equal(saved.length, 100_000);
    const rerun = await runCli(['get', '--file', 'all.ndjson', '-o', 'ndjson', '--rate', '0', '--save-failed', 'again.txt'], { env: app.env, cwd: files.dir });
    assert.equal(rerun.code, 1);
    assert.equal(readFileSync(path.join(files.dir, 'again.txt'), 'utf8'), ids.join('\n') + '\n', '--file reads all 100,000 back');
    assert.equal(readFileSync(path.join(files.dir, 'all.txt'), 'utf8'), ids.join('\n') + '\n', '--save-failed stays the plain ID list');
  });

  it('writes a write\'s failed accounts to --failures too, while --save-failed keeps their records', async () => {
    const records = ['p1', 'p2', 'p3'].map((a) => JSON.stringify({ To_Account: a, Attrs: { city: `C-${a}` } })).join('\n') + '\n';
    const result = await runCli(['set', '--batch-size', '1', '--concurrency', '1', '--failures', 'set-f.ndjson', '--save-failed', 'set-r.ndjson'], {
      env: app.env,
      stdin: records,
      cwd: files.dir,
      proxy: (command, body) => (command === 'im_set_attr' && body.includes('"p2"') ? { ActionStatus: 'FAIL', ErrorCode: 90033, ErrorInfo: 'injected' } : undefined),
    });
    assert.equal(result.code, 5);
    assert.equal(
      result.stderr,
      'failed: 1 account (90033 injected): p2\n' +
        'set: 2 accounts updated, 0 skipped (bad input), 1 failed\n' +
        'wrote 1 record to set-r.ndjson; re-run them: im-attrs set --file set-r.ndjson\n' +
        'wrote 1 failed account to set-f.ndjson (ndjson: account, code, reason, retriable)\n' +
        'im-attrs: 1 account failed (1 × 90033 injected); the others were updated\n' +
        'hint: re-run them: im-attrs set --file set-r.ndjson\n',
    );
    assert.equal(readFileSync(path.join(files.dir, 'set-f.ndjson'), 'utf8'), '{"account":"p2","code":90033,"reason":"90033 injected","retriable":false}\n');
    assert.equal(readFileSync(path.join(files.dir, 'set-r.ndjson'), 'utf8'), '{"To_Account":"p2","Attrs":{"city":"C-p2"}}\n');
  });
});
