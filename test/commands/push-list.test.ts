/**
 * `push send --to`: a push to an exact list (TIMPush timpush/batch). Every account of the roster
 * goes in exactly one call of at most 500 (the emulator's request log says so), accounts the
 * answer names are failures, a stopped run resumes from its manifest without sending a chunk
 * twice, and a call that may have arrived is never sent again.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, seededIds, useEmulator, useTempDir } from '../helpers/cli.js';

const files = useTempDir();

/** The accounts of every timpush/batch request the emulator received, per call. */
function batchCalls(emulator: { requests: ReadonlyArray<{ command: string; body: unknown }> }): string[][] {
  return emulator.requests.filter((r) => r.command === 'timpush/batch').map((r) => (r.body as { To_Account: string[] }).To_Account);
}

describe('im-attrs push send --to (list push)', () => {
  const app = useEmulator({ seedUsers: 12_300, rateLimit: 0, pushEdition: 'advanced' }, { perTest: true });
  const env = (): Record<string, string> => ({ ...app.env, IMADMIN_API: 'timpush', IMADMIN_PUSH_EDITION: 'advanced' });
  const ghosts = Array.from({ length: 45 }, (_, i) => `ghost${i}`);

  /** 12,345 accounts as `get -o ndjson` prints them, piped: 12,300 known, 45 never imported. */
  async function roster(): Promise<string> {
    const got = await runCli(['get', '-', '-o', 'ndjson'], { env: app.env, stdin: `${seededIds(1, 12_300).join('\n')}\n` });
    assert.equal(got.code, 0, got.stderr);
    app.emulator.resetLog();
    return got.stdout + ghosts.map((g) => `${JSON.stringify({ To_Account: g, Attrs: {} })}\n`).join('');
  }

  it('sends 12,345 accounts from a pipe in 25 calls of at most 500, each account once; the 45 not imported are named and saved, exit 5', async () => {
    const stdin = await roster();
    const saved = path.join(files.dir, 'not-sent.txt');
    const manifest = path.join(files.dir, 'full.manifest.ndjson');
    const result = await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes', '--save-failed', saved, '--manifest', manifest], { env: env(), stdin, cwd: files.dir });
    assert.equal(result.code, 5, result.stderr);
    const calls = batchCalls(app.emulator);
    assert.equal(calls.length, 25);
    assert.ok(calls.every((c) => c.length <= 500));
    const all = calls.flat();
    assert.equal(all.length, 12_345);
    assert.equal(new Set(all).size, 12_345);
    assert.deepEqual(new Set(all), new Set([...seededIds(1, 12_300), ...ghosts]));
    assert.match(result.stderr, /^push send: 12,300 accounts sent, 0 skipped \(bad input\), 45 failed$/m);
    assert.match(result.stderr, /failed: 45 accounts \(70107 account not imported\): ghost0 ghost1 ghost2 ghost3 ghost4 … and 40 more/);
    assert.equal(readFileSync(saved, 'utf8'), `${ghosts.join('\n')}\n`);
    // One TaskId per call on stdout, and a manifest line per call end naming it.
    const taskIds = result.stdout.trim().split('\n');
    assert.equal(taskIds.length, 25);
    assert.ok(taskIds.every((t) => t.startsWith('batch_')));
    const ends = readFileSync(manifest, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state?: string; TaskId?: string });
    assert.deepEqual(ends.filter((l) => l.state === 'sent').map((l) => l.TaskId).sort(), [...taskIds].sort());
    // Each call carries its own MsgRandom.
    const randoms = app.emulator.requests.filter((r) => r.command === 'timpush/batch').map((r) => (r.body as { MsgRandom: number }).MsgRandom);
    assert.equal(new Set(randoms).size, 25);
  });

  it('stopped after 10 calls (SIGINT) and resumed with the manifest, sends exactly the remaining chunks: no account twice, none missing', async () => {
    const stdin = await roster();
    const manifest = path.join(files.dir, 'stopped.manifest.ndjson');
    let signals: { emit(signal: 'SIGINT'): void } | undefined;
    let calls = 0;
    const first = await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes', '--manifest', manifest, '--concurrency', '2'], {
      env: env(),
      stdin,
      cwd: files.dir,
      onSignals: (s) => (signals = s),
      proxy: (command) => {
        if (command === 'batch' && ++calls === 10) signals!.emit('SIGINT');
        return undefined;
      },
    });
    assert.equal(first.code, 130, first.stderr);
    const before = batchCalls(app.emulator);
    assert.ok(before.length >= 10 && before.length < 25, `${before.length} calls before the stop`);
    const second = await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes', '--resume', manifest], { env: env(), stdin, cwd: files.dir });
    assert.equal(second.code, 5, second.stderr);
    const all = batchCalls(app.emulator).flat();
    assert.equal(all.length, 12_345, 'every account once across both runs');
    assert.equal(new Set(all).size, 12_345);
    assert.match(second.stderr, /^push to: at least 5 accounts .*\(resuming .*: [\d,]+ accounts already sent or started\)/m);
  });

  it('a call answered with a reset after its body left is not sent again and is named "may have been sent"; a resume skips it', async () => {
    const stdin = `${seededIds(1, 1200).join('\n')}\n`;
    const manifest = path.join(files.dir, 'maybe.manifest.ndjson');
    const failures = path.join(files.dir, 'maybe.failures.ndjson');
    let calls = 0;
    const result = await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes', '--manifest', manifest, '--failures', failures, '--concurrency', '1'], {
      env: env(),
      stdin,
      cwd: files.dir,
      // The second call gets an answer that is not an envelope: it may have been served.
      proxy: (command) => (command === 'batch' && ++calls === 2 ? ({ not: 'an envelope' } as object) : undefined),
    });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(calls, 3, 'three calls, the second never sent again');
    assert.match(result.stderr, /^push send: 700 accounts sent, 0 skipped \(bad input\), 0 failed, 500 may have been sent$/m);
    assert.match(result.stderr, /im-attrs: 500 accounts may have been sent; the others were sent\n/);
    assert.doesNotMatch(result.stderr, /re-run/);
    const lines = readFileSync(failures, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { retriable: boolean });
    assert.equal(lines.length, 500);
    assert.ok(lines.every((l) => l.retriable === false));
    const states = readFileSync(manifest, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { state?: string }).state).filter(Boolean);
    assert.deepEqual(states, ['sending', 'sent', 'sending', 'may-have-been-sent', 'sending', 'sent']);
    app.emulator.resetLog();
    const resumed = await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes', '--resume', manifest], { env: env(), stdin, cwd: files.dir });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /nothing left to send/);
    assert.equal(batchCalls(app.emulator).length, 0);
  });

  it('refuses on all_member_push, a condition with --to, a roster over --max-recipients, and a resume with another message: nothing sent', async () => {
    const stdin = `${seededIds(1, 20).join('\n')}\n`;
    const amp = await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes'], { env: app.env, stdin });
    assert.equal(amp.code, 3);
    assert.match(amp.stderr, /the all_member_push family has no list push/);
    const both = await runCli(['push', 'send', '--to', '-', '--tags-or', 'vip', '--text', 'Hi', '--yes'], { env: env(), stdin });
    assert.equal(both.code, 2);
    const over = await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes', '--max-recipients', '10'], { env: env(), stdin });
    assert.equal(over.code, 2);
    assert.match(over.stderr, /the roster has more than 10 accounts, over --max-recipients 10; nothing was sent/);
    const manifest = path.join(files.dir, 'other.manifest.ndjson');
    assert.equal((await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes', '--manifest', manifest], { env: env(), stdin })).code, 0);
    const other = await runCli(['push', 'send', '--to', '-', '--text', 'Bye', '--yes', '--resume', manifest], { env: env(), stdin });
    assert.equal(other.code, 2);
    assert.match(other.stderr, /the message differs from the one the manifest .* was sent with; nothing was sent/);
    // A manifest is one push's: a new push naming an existing one is refused, nothing sent.
    const reused = await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes', '--manifest', manifest], { env: env(), stdin });
    assert.equal(reused.code, 2, reused.stderr);
    assert.match(reused.stderr, /the manifest .* already exists \(another push's\): nothing was sent\nhint: go on with that push: --resume /);
    assert.equal(batchCalls(app.emulator).length, 1);
    // Two headers (written by an older version, or by hand): not resumable.
    writeFileSync(manifest, readFileSync(manifest, 'utf8') + readFileSync(manifest, 'utf8').split('\n')[0] + '\n');
    const twice = await runCli(['push', 'send', '--to', '-', '--text', 'Hi', '--yes', '--resume', manifest], { env: env(), stdin });
    assert.equal(twice.code, 2, twice.stderr);
    assert.match(twice.stderr, /holds more than one push/);
    assert.equal(batchCalls(app.emulator).length, 1);
  });
});
