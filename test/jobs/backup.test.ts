import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { requestLog, runCli, seededIds, useEmulator, useTempDir } from '../helpers/cli.js';

describe('undo for writes', () => {
  const app = useEmulator({ seedUsers: 1200, rateLimit: 0 }, { perTest: true });
  const files = useTempDir();

  it('set --backup writes the previous values, fetched before the write; set --file of it is a full revert', async () => {
    // Accounts with both attributes set: set restores values; one with no value needs remove (next tests).
    const ids = seededIds(1, 300).filter((id) => { const a = app.emulator.state.attrsOf(id); return a?.sex !== undefined && a.city !== undefined; }).slice(0, 150);
    const before = ids.map((id) => app.emulator.state.attrsOf(id));
    files.write('ids.txt', ids.join('\n') + '\n');
    const result = await runCli(['set', '--file', 'ids.txt', 'sex=X', 'city=Nowhere', '--backup', 'before.ndjson'], { env: app.env, cwd: files.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stderr,
      'set: 150 accounts updated, 0 skipped (bad input), 0 failed\nwrote the previous values of 150 accounts to before.ndjson (im-attrs undo last restores them, unset ones included)\n',
    );
    // Each batch's accounts are fetched before that batch is written.
    const log = requestLog(app.emulator, { journal: true });
    const accountsOf = (body: unknown): string[] =>
      ((body as { To_Account?: string[]; UserAttrs?: Array<{ To_Account: string }> }).To_Account ?? (body as { UserAttrs: Array<{ To_Account: string }> }).UserAttrs.map((u) => u.To_Account));
    for (const id of ids) {
      const got = log.findIndex(([c, b]) => c === 'im_get_attr' && accountsOf(b).includes(id));
      const set = log.findIndex(([c, b]) => c === 'im_set_attr' && accountsOf(b).includes(id));
      assert.ok(got >= 0 && got < set, `${id}: fetched before the write`);
    }
    assert.deepEqual(log.filter(([c]) => c === 'im_get_attr').map(([, b]) => accountsOf(b).length), [100, 50]);
    const lines = readFileSync(path.join(files.dir, 'before.ndjson'), 'utf8').split('\n').slice(0, -1);
    assert.equal(lines.length, 150);
    assert.equal(lines[0], JSON.stringify({ To_Account: ids[0], Attrs: { sex: before[0]!.sex, city: before[0]!.city } }));
    assert.equal(app.emulator.state.attrsOf(ids[0]!)!.city, 'Nowhere');
    const revert = await runCli(['set', '--file', 'before.ndjson'], { env: app.env, cwd: files.dir });
    assert.equal(revert.code, 0, revert.stderr);
    assert.deepEqual(ids.map((id) => app.emulator.state.attrsOf(id)), before);
  });

  it('remove --backup keeps the removed values; set --file of it puts them back', async () => {
    const before = app.emulator.state.attrsOf('user000003');
    const result = await runCli(['remove', 'user000003', '--attrs', 'city,level', '--backup', 'rm.ndjson'], { env: app.env, cwd: files.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(path.join(files.dir, 'rm.ndjson'), 'utf8'), '{"To_Account":"user000003","Attrs":{"city":"Tokyo","level":"bronze"}}\n');
    assert.equal(app.emulator.state.attrsOf('user000003')!.city, undefined);
    const revert = await runCli(['set', '--file', 'rm.ndjson'], { env: app.env, cwd: files.dir });
    assert.equal(revert.code, 0, revert.stderr);
    assert.deepEqual(app.emulator.state.attrsOf('user000003'), before);
  });

  it('lists attributes an account did not have under "Unset" and says how to remove them', async () => {
    const result = await runCli(['set', 'newcomer', 'city=Paris', '--backup', 'new.ndjson'], { env: app.env, cwd: files.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(path.join(files.dir, 'new.ndjson'), 'utf8'), '{"To_Account":"newcomer","Attrs":{},"Unset":["city"]}\n');
    assert.equal(
      result.stderr,
      'set: 1 account updated, 0 skipped (bad input), 0 failed\n' +
        'wrote the previous values of 1 account to new.ndjson (im-attrs undo last restores them, unset ones included)\n' +
        '1 account had no value for some of these attributes ("Unset" in new.ndjson, which set ignores; im-attrs undo removes them)\n',
    );
  });

  it('asks once on a terminal before writing more than 1,000 accounts, with the count; "n" sends nothing, --yes skips the question', async () => {
    files.write('many.txt', seededIds(1, 1001).join('\n') + '\n');
    const tty = { stdinIsTTY: true, stderrIsTTY: true };
    const no = await runCli(['remove', '--file', 'many.txt', '--attrs', 'level'], { env: app.env, cwd: files.dir, ...tty, stdin: 'n\n' });
    assert.equal(no.code, 2);
    assert.equal(
      no.stderr,
      // The question stands on its own line and names the app; with the count known, it comes before anything is read.
      '\nremove 1,001 accounts? This changes their push attributes (--backup <path> keeps the old values).\n' +
        `Target: app 1400000000 at ${new URL(app.emulator.url).host}. [y/N] ` +
        'im-attrs: not confirmed; nothing was changed\nhint: pass --yes to skip the question\n',
    );
    assert.deepEqual(requestLog(app.emulator, { journal: true }).map(([c]) => c), ['im_get_attr_name']);
    const yes = await runCli(['remove', '--file', 'many.txt', '--attrs', 'level', '--yes'], { env: app.env, cwd: files.dir, ...tty });
    assert.equal(yes.code, 0, yes.stderr);
    // On a terminal the summary names the app it wrote to.
    assert.equal(yes.stderr, `remove: 1,001 accounts updated, 0 skipped (bad input), 0 failed (app 1400000000 at ${new URL(app.emulator.url).host})\n`);
    const piped = await runCli(['remove', '--file', 'many.txt', '--attrs', 'level'], { env: app.env, cwd: files.dir });
    assert.equal(piped.code, 0, 'without a terminal it proceeds as before');
    // From a stream (no count up front) it reads ahead past 1,000 before asking; "n" still sends nothing.
    app.emulator.resetLog();
    const streamed = await runCli(['remove', '--file', '-', '--attrs', 'level'], { env: app.env, cwd: files.dir, stdinIsTTY: true, stderrIsTTY: true, stdin: 'user000001\n' });
    assert.equal(streamed.code, 0, streamed.stderr);
  });
});
