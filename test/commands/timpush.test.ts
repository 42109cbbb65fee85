import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, seededIds, useEmulator, useTempDir, ownRequests } from '../helpers/cli.js';

const REG = 'reg-379C2F0D';

describe('--api timpush: every command on v4/timpush/*, ErrorList entries as named failures', () => {
  const app = useEmulator({ seedUsers: 120, rateLimit: 0, registrationIds: [REG], notImported: ['user000010', 'user000050', 'user000090'] }, { perTest: true });
  const files = useTempDir();
  const env = (): Record<string, string> => ({ ...app.env, IMADMIN_API: 'timpush' });

  it('get: a batch of 100 with 3 ErrorList entries prints 97 records, names the 3, saves them, exits 5', async () => {
    const ids = seededIds(1, 100);
    const saved = path.join(files.dir, 'get-failed.txt');
    const result = await runCli(['get', '--file', files.write('ids.txt', ids.join('\n')), '--output', 'ndjson', '--save-failed', saved], { env: env() });
    assert.equal(result.code, 5);
    const printed = result.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { To_Account: string }).To_Account);
    assert.deepEqual(printed, ids.filter((id) => !['user000010', 'user000050', 'user000090'].includes(id)));
    assert.equal(
      result.stderr,
      'failed: 3 accounts (70107 account not imported): user000010 user000050 user000090\n' +
        `wrote 3 accounts to ${saved}; re-run with --file ${saved}\n` +
        `im-attrs: 3 accounts failed (3 × 70107 account not imported); the others were printed\nhint: re-run them with --file ${saved}\n`,
    );
    assert.equal(readFileSync(saved, 'utf8'), 'user000010\nuser000050\nuser000090\n');
    assert.deepEqual(
      ownRequests(app.emulator).map((r) => r.path),
      ['/v4/timpush/get_attr'],
    );
    assert.equal((ownRequests(app.emulator)[0]?.body as { To_Account: string[] }).To_Account.length, 100);
  });

  it('tags add: 97 accounts updated, 2 not imported and 1 of the other account type named with their codes and saved as records', async () => {
    const ids = [...seededIds(1, 99), REG];
    const saved = path.join(files.dir, 'add-failed.ndjson');
    const result = await runCli(['tags', 'add', '--tags', 'vip', '--file', files.write('ids2.txt', ids.filter((id) => id !== 'user000090').concat('user000100').join('\n')), '--save-failed', saved], {
      env: env(),
    });
    assert.equal(result.code, 5);
    assert.equal(
      result.stderr,
      'failed: 2 accounts (70107 account not imported): user000010 user000050\n' +
        `failed: 1 account (90035 the attribute or tag belongs to another account type (UserID vs RegistrationID)): ${REG}\n` +
        'tags add: 97 accounts updated, 0 skipped (bad input), 3 failed\n' +
        `wrote 3 records to ${saved}; re-run them: im-attrs tags add --file ${saved}\n` +
        'im-attrs: 3 accounts failed (2 × 70107 account not imported; 1 × 90035 the attribute or tag belongs to another account type (UserID vs RegistrationID)); the others were updated\n' +
        `hint: re-run them: im-attrs tags add --file ${saved}\n`,
    );
    assert.equal(
      readFileSync(saved, 'utf8'),
      `{"To_Account":"user000010","Tags":["vip"]}\n{"To_Account":"user000050","Tags":["vip"]}\n{"To_Account":"${REG}","Tags":["vip"]}\n`,
    );
    assert.deepEqual(ownRequests(app.emulator).map((r) => r.path), ['/v4/timpush/add_tag']);
    assert.deepEqual(ownRequests(app.emulator)[0]?.body, { Replace: 0, UserTags: ids.filter((id) => id !== 'user000090').concat('user000100').map((id) => ({ To_Account: id, Tags: ['vip'] })) });
  });

  const paths: Array<[string, string[], string[]]> = [
    ['set', ['set', 'user000001', 'city=Paris'], ['/v4/timpush/get_attr_name', '/v4/timpush/set_attr']],
    ['remove', ['remove', 'user000001', '--attrs', 'city'], ['/v4/timpush/get_attr_name', '/v4/timpush/remove_attr']],
    ['tags get', ['tags', 'get', 'user000001'], ['/v4/timpush/get_tag']],
    ['tags remove', ['tags', 'remove', 'user000001', 'beta'], ['/v4/timpush/remove_tag']],
    ['tags clear', ['tags', 'clear', 'user000001'], ['/v4/timpush/clear_all_tags']],
    ['get --tags', ['get', 'user000001', '--tags', '--json'], ['/v4/timpush/get_attr', '/v4/timpush/get_tag']],
  ];
  for (const [name, args, expected] of paths) {
    it(`${name} goes to ${expected.join(' + ')}`, async () => {
      const result = await runCli(args, { env: env() });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(ownRequests(app.emulator).map((r) => r.path), expected);
    });
  }

  it('names shows AttrTypes; names set --types sets a new slot\'s type and refuses to change an existing one before sending', async () => {
    const list = await runCli(['names'], { env: env() });
    assert.equal(list.stdout, 'slot\tname\ttype\n0\tsex\tUserID\n1\tcity\tUserID\n2\tlevel\tUserID\n');
    const json = await runCli(['names', '--json'], { env: env() });
    assert.deepEqual(JSON.parse(json.stdout), { AttrNames: { '0': 'sex', '1': 'city', '2': 'level' }, AttrTypes: { '0': 0, '1': 0, '2': 0 } });
    app.emulator.resetLog();
    const set = await runCli(['names', 'set', '3=device', '--types', '3=1'], { env: env() });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stderr, 'attribute names, before → after:\n  slot 3: (none) → "device" (added), type RegistrationID\nattribute names updated: 1 added\n');
    assert.deepEqual(ownRequests(app.emulator).map((r) => [r.path, r.body]), [
      ['/v4/timpush/get_attr_name', {}],
      ['/v4/timpush/set_attr_name', { AttrNames: { '0': 'sex', '1': 'city', '2': 'level', '3': 'device' }, AttrTypes: { '0': 0, '1': 0, '2': 0, '3': 1 } }],
      ['/v4/timpush/get_attr_name', {}],
    ]);
    app.emulator.resetLog();
    const refused = await runCli(['names', 'set', '1=town', '--types', '1=1', '--yes'], { env: env() });
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr,
      'im-attrs: an attribute\'s account type cannot be changed: slot 1 ("city") is UserID, not RegistrationID; nothing was sent\n' +
        'hint: to change it, clear the slot (im-attrs names set --clear SLOT; its values are lost), then define it again with --types\n',
    );
    assert.deepEqual(ownRequests(app.emulator).map((r) => r.path), ['/v4/timpush/get_attr_name']);
  });

  it('names set --types is refused on all_member_push, which has no account types', async () => {
    const result = await runCli(['names', 'set', '3=device', '--types', '3=1'], { env: app.env });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'im-attrs: account types (AttrTypes) exist only on the TIMPush family\nhint: leave out --types, or use --api timpush if the app runs on TIMPush\n');
  });
});
