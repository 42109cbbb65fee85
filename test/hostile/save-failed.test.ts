/**
 * Issue 11, "Input destroyed": --save-failed never destroys anything. It refuses a path that is
 * also an input (by device and inode: the same path, a symlink, a hard link, stdin redirected from
 * it), refuses a FIFO, a device (/dev/full) or a directory, replaces an existing file only when the
 * run has accounts to save (atomically, through a symlink rather than over it), and leaves it alone
 * when nothing fails.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { runCli, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, useEmulator } from '../helpers/cli.js';
import { json, startScripted } from './servers.js';

describe('--save-failed never destroys anything', () => {
  const fixture = useEmulator({ seedUsers: 3, rateLimit: 0 });
  const tmp = tempDir();
  after(() => tmp.cleanup());
  let n = 0;
  const dir = (): string => {
    const d = path.join(tmp.dir, `case-${++n}`);
    mkdirSync(d);
    return d;
  };
  const IDS = 'user000001\nnobody-1\nuser000002\n';

  const inputCases: Array<{ name: string; target: (d: string, input: string) => string; label: string }> = [
    { name: 'the same path', target: (_d, input) => input, label: 'ids.txt' },
    { name: 'a symlink to the input', target: (d, input) => (symlinkSync(input, path.join(d, 'link.txt')), path.join(d, 'link.txt')), label: 'ids.txt' },
    { name: 'a hard link to the input', target: (d, input) => (linkSync(input, path.join(d, 'hard.txt')), path.join(d, 'hard.txt')), label: 'ids.txt' },
  ];
  for (const c of inputCases) {
    it(`get refuses --save-failed that is ${c.name} of --file: exit 2, nothing sent, the input intact`, async () => {
      const d = dir();
      const input = path.join(d, 'ids.txt');
      writeFileSync(input, IDS);
      const target = c.target(d, input);
      const result = await runCli(['get', '--file', 'ids.txt', '--save-failed', path.basename(target), '-o', 'ndjson'], { cwd: d, env: fixture.env });
      assert.deepEqual(result, {
        code: 2,
        stdout: '',
        stderr:
          `im-attrs: --save-failed ${target} is also an input (${c.label}); writing it would destroy the accounts being read\n` +
          `hint: save to another file, e.g. --save-failed failed-${path.basename(target)}\n`,
      });
      assert.equal(readFileSync(input, 'utf8'), IDS);
      assert.equal(fixture.emulator.requests.length, 0);
    });
  }

  it('set and remove refuse to overwrite their own --file', async () => {
    for (const verb of ['set', 'remove']) {
      const d = dir();
      const records = '{"To_Account":"user000001","Attrs":{"city":"Rome"}}\n';
      writeFileSync(path.join(d, 'recs.ndjson'), records);
      const result = await runCli([verb, '--file', 'recs.ndjson', '--save-failed', 'recs.ndjson'], { cwd: d, env: fixture.env });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr.split('\n')[0], `im-attrs: --save-failed ${path.join(d, 'recs.ndjson')} is also an input (recs.ndjson); writing it would destroy the accounts being read`);
      assert.equal(readFileSync(path.join(d, 'recs.ndjson'), 'utf8'), records);
    }
    // Refused before any request, the attribute-name lookup included.
    assert.deepEqual(fixture.emulator.requests, []);
  });

  it('refuses the file stdin is redirected from (< ids.txt)', async () => {
    const d = dir();
    const input = path.join(d, 'ids.txt');
    writeFileSync(input, IDS);
    const stdin = createReadStream('', { fd: openSync(input, 'r') });
    const result = await runCli(['get', '--save-failed', input, '-o', 'ndjson'], { cwd: d, env: fixture.env, stdin });
    stdin.destroy();
    assert.equal(result.code, 2);
    assert.equal(result.stderr.split('\n')[0], `im-attrs: --save-failed ${input} is also an input (stdin); writing it would destroy the accounts being read`);
    assert.equal(readFileSync(input, 'utf8'), IDS);
  });

  const badTargets: Array<{ name: string; make: (d: string) => string; what: string }> = [
    { name: 'a FIFO', make: (d) => (execFileSync('mkfifo', [path.join(d, 'fifo')]), path.join(d, 'fifo')), what: 'a FIFO' },
    {
      name: 'a symlink to a FIFO',
      make: (d) => (execFileSync('mkfifo', [path.join(d, 'fifo')]), symlinkSync(path.join(d, 'fifo'), path.join(d, 'link')), path.join(d, 'link')),
      what: 'a FIFO',
    },
    { name: '/dev/full', make: () => '/dev/full', what: 'a device' },
    { name: 'a directory', make: (d) => d, what: 'a directory' },
  ];
  for (const c of badTargets) {
    it(`refuses ${c.name} as --save-failed before sending anything (it never says "wrote N accounts")`, async () => {
      const d = dir();
      const target = c.make(d);
      const result = await runCli(['get', 'user000001', 'nobody-1', '--save-failed', target, '-o', 'ndjson'], { cwd: d, env: fixture.env });
      assert.deepEqual(result, {
        code: 2,
        stdout: '',
        stderr: `im-attrs: --save-failed ${target} is ${c.what}, not a regular file\nhint: give a path to a regular file, or a new one\n`,
      });
      assert.equal(fixture.emulator.requests.length, 0);
      if (c.name.includes('symlink')) assert.ok(lstatSync(target).isSymbolicLink());
    });
  }

  // The file describes this run: a stale one, re-run by a script, would re-apply old records.
  it('empties an existing file when nothing fails (mode 600), and leaves no temporary file', async () => {
    const d = dir();
    const saved = path.join(d, 'failed.txt');
    writeFileSync(saved, 'from-an-earlier-run\n');
    const result = await runCli(['get', 'user000001', '--save-failed', saved, '-o', 'ndjson'], { cwd: d, env: fixture.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(saved, 'utf8'), '');
    assert.equal(statSync(saved).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(d), ['failed.txt']);
  });

  it('replaces it whole when accounts fail, writing through a symlink rather than over it', async () => {
    const d = dir();
    const real = path.join(d, 'real.txt');
    writeFileSync(real, 'old\n');
    symlinkSync(real, path.join(d, 'failed.txt'));
    const result = await runCli(['get', 'user000001', 'nobody-1', '--save-failed', 'failed.txt', '-o', 'ndjson'], { cwd: d, env: fixture.env });
    assert.equal(result.code, 5, result.stderr);
    assert.ok(lstatSync(path.join(d, 'failed.txt')).isSymbolicLink());
    assert.equal(readFileSync(real, 'utf8'), 'nobody-1\n');
    assert.deepEqual(readdirSync(d).sort(), ['failed.txt', 'real.txt']);
    assert.equal(existsSync(path.join(d, 'failed.txt')), true);
  });

  it('reports a file that could not be written as an error (exit 2), never "wrote N accounts"', async () => {
    const d = dir();
    const saveDir = path.join(d, 'out');
    mkdirSync(saveDir);
    // The folder vanishes while the run is under way (a full disk, an unmounted volume): the save cannot complete.
    const server = await startScripted((_req, res) => {
      rmSync(saveDir, { recursive: true, force: true });
      json(res, { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', UserAttrs: [] });
    });
    try {
      const target = path.join(saveDir, 'failed.txt');
      const result = await runCli(['get', 'nobody-1', '--save-failed', target, '-o', 'ndjson', '--endpoint', server.url, '--verbose'], {
        cwd: d,
        env: { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_SECRET_KEY: TEST_SECRET_KEY },
      });
      assert.equal(result.code, 2, result.stderr);
      assert.ok(!result.stderr.includes('wrote'), result.stderr);
      assert.ok(
        result.stderr.endsWith(
          `im-attrs: --save-failed ${target} cannot be written: ENOENT\nhint: the accounts were not saved there; free some space or choose another path, and run again\n`,
        ),
        result.stderr,
      );
    } finally {
      await server.close();
    }
  });
});
