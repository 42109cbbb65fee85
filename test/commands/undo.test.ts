/**
 * The write journal, `history` and `undo`: a write records its accounts' before-state before each
 * call leaves; `undo` puts back exactly that (values set back, attributes that had none removed,
 * tags replaced), through the same runner, and is journaled itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ownRequests, runCli, seededIds, tempDir, useEmulator, useTempDir } from '../helpers/cli.js';

const files = useTempDir();
const BIN = fileURLToPath(new URL('../../../bin/im-attrs.js', import.meta.url));

/** Every account's attributes and tags, as the emulator holds them. */
function snapshot(app: { emulator: { state: { attrsOf(id: string): unknown; tagsOf(id: string): unknown } } }, ids: readonly string[]): unknown[] {
  return ids.map((id) => [app.emulator.state.attrsOf(id) ?? null, app.emulator.state.tagsOf(id)]);
}

describe('im-attrs undo and history', () => {
  const app = useEmulator({ seedUsers: 400, rateLimit: 0 }, { perTest: true });

  it('undo restores the seed exactly (values, attributes that had none, tags); the undo is journaled and can be undone', async () => {
    const home = tempDir();
    const env = { ...app.env, XDG_STATE_HOME: path.join(home.dir, 'state') };
    const ids = seededIds(1, 250);
    const seed = snapshot(app, ids);
    files.write('ids.txt', `${ids.join('\n')}\n`);
    assert.equal((await runCli(['set', '--file', 'ids.txt', 'level=gold', 'city=Lyon', '--yes'], { env, cwd: files.dir })).code, 0);
    assert.equal((await runCli(['tags', 'set', '--file', 'ids.txt', '--tags', 'vip', '--yes'], { env, cwd: files.dir })).code, 0);
    assert.notDeepEqual(snapshot(app, ids), seed);

    const history = await runCli(['history'], { env });
    assert.equal(history.code, 0, history.stderr);
    const rows = history.stdout.trim().split('\n').slice(1).map((l) => l.split('\t'));
    assert.deepEqual(rows.map((r) => [r[2], r[4]]), [['tags set', '250'], ['set', '250']]);
    const [tagsId, setId] = rows.map((r) => r[0]!);

    assert.equal((await runCli(['undo', tagsId!, '--yes'], { env })).code, 0);
    const undone = await runCli(['undo', setId!, '--yes'], { env });
    assert.equal(undone.code, 0, undone.stderr);
    assert.deepEqual(snapshot(app, ids), seed, 'every account as it was seeded');

    // The undo was journaled: undoing it gives the write back.
    const redo = await runCli(['undo', 'last', '--yes'], { env });
    assert.equal(redo.code, 0, redo.stderr);
    assert.ok(ids.every((id) => (app.emulator.state.attrsOf(id) as Record<string, string>).city === 'Lyon'));

    // Journals are the user's alone, and hold no secret.
    const dir = path.join(home.dir, 'state', 'im-attrs', 'journal');
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok(!readFileSync(file, 'utf8').includes(app.env.IMADMIN_SECRET_KEY!));
    }
    home.cleanup();
  });

  it('after Ctrl-C (with --backup and --save-failed) no request starts, the journal and the backup name exactly the accounts of the calls sent, and undo restores exactly those', async () => {
    const home = tempDir();
    const env = { ...app.env, XDG_STATE_HOME: path.join(home.dir, 'state') };
    const ids = seededIds(1, 400);
    const seed = snapshot(app, ids);
    files.write('all.txt', `${ids.join('\n')}\n`);
    let signals: { emit(signal: 'SIGINT'): void } | undefined;
    let sets = 0;
    let afterStop = 0;
    let stopped = false;
    const result = await runCli(['set', '--file', 'all.txt', 'level=x', '--batch-size', '20', '--concurrency', '1', '--yes', '--backup', 'bk.ndjson', '--save-failed', 'rest.ndjson'], {
      env,
      cwd: files.dir,
      onSignals: (s) => (signals = s),
      proxy: (command) => {
        if (stopped) afterStop++;
        if (command === 'im_set_attr' && ++sets === 5) {
          stopped = true;
          signals!.emit('SIGINT');
        }
        return undefined;
      },
    });
    assert.equal(result.code, 130, result.stderr);
    assert.equal(afterStop, 0, 'no request of any kind after the stop');
    const written = ownRequests(app.emulator)
      .filter((r) => r.command === 'im_set_attr')
      .flatMap((r) => (r.body as { UserAttrs: Array<{ To_Account: string }> }).UserAttrs.map((u) => u.To_Account));
    // One call at a time, so that "after the stop" at the proxy means "started after the stop".
    assert.equal(written.length, 100);
    assert.match(result.stderr, new RegExp(`interrupted: ${written.length} accounts done, ${400 - written.length} accounts not done`));
    // The backup holds the accounts written, no more; --save-failed the records not written, whole.
    const backup = readFileSync(path.join(files.dir, 'bk.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { To_Account: string }).To_Account);
    assert.deepEqual(backup.sort(), [...written].sort());
    const rest = readFileSync(path.join(files.dir, 'rest.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { To_Account: string }).To_Account);
    assert.deepEqual(new Set([...rest, ...written]), new Set(ids));
    assert.equal(rest.length + written.length, 400);
    const dir = path.join(home.dir, 'state', 'im-attrs', 'journal');
    const journal = readFileSync(path.join(dir, readdirSync(dir)[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { accounts?: string[] });
    assert.deepEqual(journal.flatMap((l) => l.accounts ?? []).sort(), [...written].sort());
    const undo = await runCli(['undo', 'last', '--yes'], { env });
    assert.equal(undo.code, 0, undo.stderr);
    assert.deepEqual(snapshot(app, ids), seed);
    home.cleanup();
  });

  it('an undo whose set-back pass partly fails still runs its remove and tags passes, names the accounts not restored once, and can be re-run', async () => {
    const home = tempDir();
    const env = { ...app.env, XDG_STATE_HOME: path.join(home.dir, 'state') };
    const ids = seededIds(1, 250);
    const seed = snapshot(app, ids);
    files.write('ids2.txt', `${ids.join('\n')}\n`);
    assert.equal((await runCli(['set', '--file', 'ids2.txt', 'level=gold', 'city=Lyon', '--yes'], { env, cwd: files.dir })).code, 0);
    const undo = await runCli(['undo', 'last', '--yes', '--batch-size', '10', '--retries', '0', '--save-failed', 'nr.txt', '--failures', 'nr.ndjson'], {
      env,
      cwd: files.dir,
      proxy: (command, body) => (command === 'im_set_attr' && body.includes('"user000001"') ? { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'Invalid format' } : undefined),
    });
    assert.equal(undo.code, 5, undo.stderr);
    assert.ok(ownRequests(app.emulator).some((r) => r.command === 'im_remove_attr'), 'the remove pass ran after the set pass partly failed');
    const notRestored = readFileSync(path.join(files.dir, 'nr.txt'), 'utf8').trim().split('\n');
    assert.equal(notRestored.length, 10);
    assert.ok(notRestored.includes('user000001'));
    const failures = readFileSync(path.join(files.dir, 'nr.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { account: string; code: number });
    assert.deepEqual(failures.map((f) => [f.account, f.code]), notRestored.map((id) => [id, 90001]));
    const restored = ids.filter((id) => !notRestored.includes(id));
    assert.deepEqual(snapshot(app, restored), restored.map((id) => seed[ids.indexOf(id)]));
    assert.match(undo.stderr, /^im-attrs: 10 accounts not restored; the others were\nhint: re-run the same undo \(im-attrs undo \S+\)/m);
    const again = await runCli(['undo', undo.stderr.match(/im-attrs undo (\S+)\)/)![1]!, '--yes'], { env, cwd: files.dir });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(snapshot(app, ids), seed, 'every account as it was seeded');
    home.cleanup();
  });

  it('a run of two passes (tags set on all_member_push) has one journal: one header, one end line with the summed counts; a condition push is journaled with its TaskId', async () => {
    const home = tempDir();
    const env = { ...app.env, XDG_STATE_HOME: path.join(home.dir, 'state') };
    const tags = await runCli(['tags', 'set', '--file', '-', '--batch-size', '2'], { env, stdin: '{"To_Account":"user000001","Tags":["x"]}\n{"To_Account":"user000002","Tags":[]}\n{"To_Account":"user000003","Tags":["y"]}\n' });
    assert.equal(tags.code, 0, tags.stderr);
    const push = await runCli(['push', 'send', '--tags-or', 'vip', '--text', 'hi', '--yes'], { env });
    assert.equal(push.code, 0, push.stderr);
    const dir = path.join(home.dir, 'state', 'im-attrs', 'journal');
    const [tagsFile, pushFile] = readdirSync(dir).sort();
    const lines = (name: string): Array<Record<string, unknown>> => readFileSync(path.join(dir, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const tagLines = lines(tagsFile!);
    assert.equal(tagLines.filter((l) => l.journal !== undefined).length, 1, 'one header');
    assert.deepEqual(tagLines.filter((l) => l.end).map((l) => l.counts), [{ done: 5, failed: 0, unknown: 0, unsent: 0, bad: 0 }], 'one end line: 3 cleared + 2 added');
    assert.equal(tagLines[tagLines.length - 1]!.end, true);
    assert.deepEqual(tagLines.filter((l) => l.accounts).map((l) => l.call), [1, 2, 3], 'two clear calls and one add call, numbered through the run');
    const pushLines = lines(pushFile!);
    assert.deepEqual(pushLines.slice(1).map((l) => [l.request, l.state, typeof l.result]), [['im_push', 'sending', 'undefined'], ['im_push', 'done', 'string'], [undefined, undefined, 'undefined']]);
    assert.equal(pushLines[0]!.verb, 'push send');
    assert.deepEqual(pushLines[pushLines.length - 1], { end: true, counts: { done: 1 } });
    const history = await runCli(['history', '--json'], { env });
    assert.deepEqual(history.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { verb: string; accounts: number }).verb), ['push send', 'tags set']);
    const nothing = await runCli(['undo', 'last', '--yes'], { env });
    assert.equal(nothing.code, 0, nothing.stderr);
    assert.match(nothing.stderr, /\(push send\) holds no account state to restore: nothing to undo \(a push is recalled: im-attrs push revoke TASKID\); im-attrs history lists the other journals/);
    home.cleanup();
  });

  it('refuses a journal of another app, and says so when there is none', async () => {
    const home = tempDir();
    const env = { ...app.env, XDG_STATE_HOME: path.join(home.dir, 'state') };
    const none = await runCli(['undo', 'last'], { env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /there is no journal yet/);
    assert.equal((await runCli(['set', 'user000001', 'city=X'], { env })).code, 0);
    const other = await runCli(['undo', 'last', '--yes'], { env: { ...env, IMADMIN_SDKAPPID: '1400000099' } });
    assert.equal(other.code, 3);
    assert.match(other.stderr, /the journal .* is of app 1400000000 .*; this run is configured for app 1400000099/);
    home.cleanup();
  });
});

describe('im-attrs undo after SIGKILL', () => {
  const app = useEmulator({ seedUsers: 20_000, rateLimit: 0, latencyMs: 30 }, { perTest: true });

  it('a set of 20,000 records killed with SIGKILL mid-run: undo restores the seed for every account the server saw written', { timeout: 120_000 }, async () => {
    const home = tempDir();
    const env = { ...app.env, XDG_STATE_HOME: path.join(home.dir, 'state') };
    const ids = seededIds(1, 20_000);
    const seed = snapshot(app, ids);
    const records = files.write('kill.ndjson', ids.map((id, i) => `${JSON.stringify({ To_Account: id, Attrs: { city: `K${i}`, level: 'platinum' } })}\n`).join(''));
    const child = spawn(process.execPath, [BIN, 'set', '--file', records, '--yes', '--rate', '0', '--concurrency', '4', '-q'], { env, stdio: 'ignore' });
    // Killed once a good part of it is written, with calls in flight.
    while (ownRequests(app.emulator).filter((r) => r.command === 'im_set_attr').length < 40) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 100));
    const written = new Set(
      ownRequests(app.emulator)
        .filter((r) => r.command === 'im_set_attr')
        .flatMap((r) => (r.body as { UserAttrs: Array<{ To_Account: string }> }).UserAttrs.map((u) => u.To_Account)),
    );
    assert.ok(written.size > 0 && written.size < 20_000, `${written.size} written before the kill`);
    const undo = await runCli(['undo', 'last', '--yes', '--rate', '0'], { env });
    assert.equal(undo.code, 0, undo.stderr);
    assert.deepEqual(snapshot(app, ids), seed, 'every account as seeded: the written ones restored, the others untouched');
    home.cleanup();
  });
});
