/**
 * Issue 11, "no run loses an account": every account read ends printed or saved, exactly once,
 * whatever stops the run (a signal with stdin idle, a bad input line, a broken stdout).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { runCli, seededIds, useEmulator, useTempDir } from '../helpers/cli.js';

const files = useTempDir();

/** The accounts of a JSON array printed by `get --json`. */
function printedAccounts(stdout: string): string[] {
  return (JSON.parse(stdout) as Array<{ To_Account: string }>).map((r) => r.To_Account);
}

function savedAccounts(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('no account read is ever dropped', () => {
  const app = useEmulator({ seedUsers: 300, rateLimit: 0 });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} with stdin open but idle ends the run: JSON closed, every account read printed or saved, exit 130`, async () => {
      const ids = seededIds(1, 150);
      const stdin = new PassThrough();
      // 150 IDs and no end: 100 go out, 50 wait for more input that never comes.
      stdin.write(`${ids.join('\n')}\n`);
      const saved = path.join(files.dir, `idle-${signal}.txt`);
      const result = await runCli(['get', '--json', '--rate', '0', '--save-failed', saved], {
        env: app.env,
        stdin,
        onSignals: (signals) => {
          const timer = setInterval(() => {
            if (app.emulator.requests.length >= 1) {
              clearInterval(timer);
              setTimeout(() => signals.emit(signal), 50);
            }
          }, 2);
        },
      });
      assert.equal(result.code, 130, result.stderr);
      const printed = printedAccounts(result.stdout);
      assert.deepEqual([...printed, ...savedAccounts(saved)], ids, 'printed + saved = input, in order, none twice');
      assert.equal(printed.length, 100);
    });
  }

  it('a NUL line ends the run with exit 2 after the good accounts before it are printed', async () => {
    const ids = seededIds(1, 150);
    const saved = path.join(files.dir, 'nul.txt');
    const result = await runCli(['get', '--json', '--rate', '0', '--save-failed', saved], {
      env: app.env,
      stdin: Buffer.concat([Buffer.from(`${ids.join('\n')}\n`), Buffer.from('bad\0line\n'), Buffer.from('user000200\n')]),
    });
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(printedAccounts(result.stdout), ids, 'the 150 good accounts read before the bad line are all printed');
    assert.match(result.stderr, /im-attrs: line 151 of <stdin> contains a NUL byte; is this a binary file\?/);
  });

  it('an over-long line in the middle of a batch: the 99 good accounts before it are sent, not dropped', async () => {
    const ids = seededIds(1, 99);
    const result = await runCli(['get', '--json', '--rate', '0'], { env: app.env, stdin: `${ids.join('\n')}\n${'x'.repeat(5000)}\n` });
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(printedAccounts(result.stdout), ids);
  });

  it('stdin that is a directory is a clear error, exit 2, and nothing is sent', async () => {
    const dir = path.join(files.dir, 'a-dir');
    mkdirSync(dir, { recursive: true });
    const result = await runCli(['get', '--file', dir], { env: app.env });
    assert.deepEqual(result, { code: 2, stdout: '', stderr: `im-attrs: cannot read account IDs from ${dir}: it is a directory\n` });
    assert.equal(app.emulator.requests.length, 0);
  });

  it('a stdout write error other than a closed pipe is a clear error, exit 1, with the unprinted accounts saved', async () => {
    const ids = seededIds(1, 250);
    const saved = path.join(files.dir, 'enospc.txt');
    let written = '';
    let writes = 0;
    // Takes the first batch, then fails like a full disk.
    const stdout = new Writable({
      write(chunk: Buffer, _enc, cb) {
        writes++;
        if (written.split('\n').length > 100) return cb(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
        written += chunk.toString();
        cb();
      },
    });
    const result = await runCli(['get', '-o', 'ndjson', '--rate', '0', '--concurrency', '1', '--save-failed', saved], {
      env: app.env,
      stdin: ids.join('\n'),
      stdout,
    });
    assert.ok(writes > 0);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /im-attrs: cannot write the output: ENOSPC/);
    const printed = written.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { To_Account: string }).To_Account);
    assert.deepEqual([...printed, ...savedAccounts(saved)].sort(), ids, 'printed + saved = input, none twice');
  });

  it('a closed pipe (EPIPE) stops quietly with exit 0, and saves the unprinted accounts when --save-failed is given', async () => {
    const ids = seededIds(1, 250);
    const saved = path.join(files.dir, 'epipe.txt');
    let written = '';
    const stdout = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (written !== '') return cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        written += chunk.toString();
        cb();
      },
    });
    const result = await runCli(['get', '-o', 'ndjson', '--rate', '0', '--concurrency', '1', '--save-failed', saved], {
      env: app.env,
      stdin: ids.join('\n'),
      stdout,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /im-attrs:/);
    const printed = written.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { To_Account: string }).To_Account);
    assert.deepEqual([...printed, ...savedAccounts(saved)].sort(), ids, 'printed + saved = input, none twice');
  });
});

describe('a stopped run never waits on its input', () => {
  const app = useEmulator({ seedUsers: 300, rateLimit: 0 });

  it('an auth error with stdin open but idle ends the run at once with exit 4 (nothing to save: the input is not read on)', async () => {
    const stdin = new PassThrough();
    stdin.write(`${seededIds(1, 150).join('\n')}\n`);
    const result = await runCli(['get', '-o', 'ndjson', '--rate', '0'], { env: { ...app.env, IMADMIN_IDENTIFIER: 'nobody' }, stdin });
    assert.equal(result.code, 4, result.stderr);
    assert.equal(result.stdout, '');
  });

  it('with --save-failed, an auth error saves every account read from an idle stdin, then closes it', async () => {
    const ids = seededIds(1, 150);
    const stdin = new PassThrough();
    stdin.write(`${ids.join('\n')}\n`);
    const saved = path.join(files.dir, 'auth-idle.txt');
    const result = await runCli(['get', '-o', 'ndjson', '--rate', '0', '--save-failed', saved], { env: { ...app.env, IMADMIN_IDENTIFIER: 'nobody' }, stdin });
    assert.equal(result.code, 4, result.stderr);
    assert.deepEqual(savedAccounts(saved), ids);
  });

  /**
   * A writer that opens the FIFO, sends `ids` and then holds it open for good: only the test
   * kills it. (Reading a pipe through the thread pool once kept a stopped run waiting until its
   * writer exited; a time bound in the harness, not a clock in the assertions, catches that.)
   */
  function holdingWriter(fifo: string, ids: string): ChildProcess {
    const script = `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(fifo)},'w');fs.writeSync(fd,${JSON.stringify(ids)});setInterval(()=>{},1<<30);`;
    const writer = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    writers.push(writer);
    return writer;
  }
  const writers: ChildProcess[] = [];
  const fifos: string[] = [];
  // When a test times out, its own cleanup never runs: without this, a writer left alive or a
  // read of a FIFO still blocked in the thread pool would keep the whole test file from ending.
  after(() => {
    for (const writer of writers) writer.kill();
    for (const fifo of fifos) {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // No reader waits on it.
      }
    }
  });
  const makeFifo = (name: string): string => {
    const fifo = path.join(files.dir, name);
    execFileSync('mkfifo', [fifo]);
    fifos.push(fifo);
    return fifo;
  };

  it('SIGINT with a --file that is a FIFO whose writer never finishes ends the run with exit 130', { timeout: 30_000 }, async () => {
    const fifo = makeFifo('ids.fifo');
    const writer = holdingWriter(fifo, 'user000001\n');
    try {
      const saved = path.join(files.dir, 'fifo-saved.txt');
      const result = await runCli(['get', '--json', '--rate', '0', '--file', fifo, '--save-failed', saved], {
        env: app.env,
        stdinIsTTY: true,
        onSignals: (signals) => setTimeout(() => signals.emit('SIGINT'), 300),
      });
      assert.equal(result.code, 130, result.stderr);
      assert.deepEqual([...printedAccounts(result.stdout), ...savedAccounts(saved)], ['user000001']);
    } finally {
      writer.kill();
    }
  });

  it('SIGINT with a --file FIFO of records (--id-column) whose writer never finishes ends the run with exit 130', { timeout: 30_000 }, async () => {
    const fifo = makeFifo('records.fifo');
    holdingWriter(fifo, 'id,city\nuser000001,Seoul\n');
    const saved = path.join(files.dir, 'records-saved.txt');
    const result = await runCli(['get', '--json', '--rate', '0', '--file', fifo, '--id-column', 'id', '--save-failed', saved], {
      env: app.env,
      stdinIsTTY: true,
      onSignals: (signals) => setTimeout(() => signals.emit('SIGINT'), 300),
    });
    assert.equal(result.code, 130, result.stderr);
    assert.deepEqual([...printedAccounts(result.stdout), ...savedAccounts(saved)], ['user000001']);
  });

  it('SIGINT with a --file that is a FIFO no writer ever opens ends the run with exit 130', { timeout: 30_000 }, async () => {
    const fifo = makeFifo('unopened.fifo');
    const saved = path.join(files.dir, 'unopened-saved.txt');
    const result = await runCli(['get', '--json', '--rate', '0', '--file', fifo, '--save-failed', saved], {
      env: app.env,
      stdinIsTTY: true,
      onSignals: (signals) => setTimeout(() => signals.emit('SIGINT'), 300),
    });
    assert.equal(result.code, 130, result.stderr);
    assert.deepEqual([...printedAccounts(result.stdout), ...savedAccounts(saved)], []);
  });
});
