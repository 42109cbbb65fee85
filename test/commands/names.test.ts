import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAMILIES } from '../../src/api/families.js';
import { assertRawAnswer, emulatorEnv, requestLog, runCli, startTestEmulator, useEmulator, useTempDir } from '../helpers/cli.js';

/** The question, on its own line, naming the app the change touches (the emulator's, on loopback). */
const RENAME_QUESTION =
  '\nRename 1 attribute name? Inputs and push conditions using the old names stop working, and values under a cleared name are lost.\nTarget: app 1400000000 at HOST. [y/N] ';

describe('im-attrs names', () => {
  // A fresh app per test: these tests change its names.
  const app = useEmulator({ seedUsers: 10, rateLimit: 0 }, { perTest: true });
  const files = useTempDir();

  describe('listing', () => {
    const cases: Array<{ name: string; args: string[]; tty?: boolean; stdout: string }> = [
      { name: 'tsv when stdout is not a terminal', args: [], stdout: 'slot\tname\n0\tsex\n1\tcity\n2\tlevel\n' },
      { name: 'the AttrNames object with --json', args: ['--json'], stdout: '{\n  "0": "sex",\n  "1": "city",\n  "2": "level"\n}\n' },
      {
        name: 'a table on a terminal',
        args: [],
        tty: true,
        stdout: [
          'slot  name',
          '────  ─────',
          '0     sex',
          '1     city',
          '2     level',
          '',
        ].join('\n'),
      },
    ];
    for (const c of cases) {
      it(`prints ${c.name}, after exactly one im_get_attr_name`, async () => {
        const result = await runCli(['names', ...c.args], { env: app.env, stdoutIsTTY: c.tty ?? false });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, c.stdout);
        assert.equal(result.stderr, '');
        assert.deepEqual(requestLog(app.emulator), [['im_get_attr_name', {}]]);
        assert.equal(app.emulator.requests[0]?.path, '/v4/all_member_push/im_get_attr_name');
      });
    }

    it('says how to define names when the app has none', async () => {
      const empty = await startTestEmulator({ attrNames: {} });
      try {
        const result = await runCli(['names', '--json'], { env: emulatorEnv(empty) });
        assert.equal(result.code, 0);
        assert.equal(result.stdout, '{}\n');
        assert.equal(result.stderr, 'the app has no attribute names yet; define them with `im-attrs names set 0=sex 1=city`\n');
      } finally {
        await empty.close();
      }
    });
  });

  it('adds names without asking, sending the complete map, and reads it back', async () => {
    const result = await runCli(['names', 'set', '3=vip', '4=tier'], { env: app.env, stdinIsTTY: true });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'attribute names, before → after:\n  slot 3: (none) → "vip" (added)\n  slot 4: (none) → "tier" (added)\nattribute names updated: 2 added\n',
    );
    assert.deepEqual(requestLog(app.emulator), [
      ['im_get_attr_name', {}],
      ['im_set_attr_name', { AttrNames: { '0': 'sex', '1': 'city', '2': 'level', '3': 'vip', '4': 'tier' } }],
      ['im_get_attr_name', {}],
    ]);
    assert.equal(app.emulator.requests[1]?.path, '/v4/all_member_push/im_set_attr_name');
  });

  describe('asks before renaming or clearing', () => {
    const cases: Array<{ name: string; args?: string[]; stdinIsTTY: boolean; answer?: string; sent: boolean; code: number; tail: string }> = [
      { name: 'goes ahead on "y" at a terminal', stdinIsTTY: true, answer: 'y\n', sent: true, code: 0, tail: `${RENAME_QUESTION}attribute names updated: 1 renamed\n` },
      { name: 'goes ahead on " YES " at a terminal', stdinIsTTY: true, answer: ' YES \n', sent: true, code: 0, tail: `${RENAME_QUESTION}attribute names updated: 1 renamed\n` },
      { name: 'stops on "n" at a terminal', stdinIsTTY: true, answer: 'n\n', sent: false, code: 2, tail: `${RENAME_QUESTION}im-attrs: not confirmed; nothing was changed\n` },
      { name: 'stops when the terminal closes without an answer', stdinIsTTY: true, answer: '', sent: false, code: 2, tail: `${RENAME_QUESTION}im-attrs: not confirmed; nothing was changed\n` },
      {
        name: 'refuses without a terminal and without --yes',
        stdinIsTTY: false,
        answer: 'y\n',
        sent: false,
        code: 2,
        tail:
          'im-attrs: this needs confirmation, and stdin is not a terminal: nothing was changed\n' +
          'hint: check what it would do (--dry-run), then pass --yes\n',
      },
      { name: 'does not ask with --yes, without a terminal', args: ['--yes'], stdinIsTTY: false, sent: true, code: 0, tail: 'attribute names updated: 1 renamed\n' },
      { name: 'does not ask with -y, at a terminal', args: ['-y'], stdinIsTTY: true, answer: 'n\n', sent: true, code: 0, tail: 'attribute names updated: 1 renamed\n' },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const result = await runCli(['names', 'set', '1=town', ...(c.args ?? [])], { env: app.env, stdinIsTTY: c.stdinIsTTY, stdin: c.answer });
        assert.equal(result.code, c.code);
        const host = new URL(app.emulator.url).host;
        assert.equal(result.stderr, `attribute names, before → after:\n  slot 1: "city" → "town" (renamed)\n${c.tail.replace('HOST', host)}`);
        const sets = app.emulator.requests.filter((r) => r.command === 'im_set_attr_name');
        assert.deepEqual(sets.map((r) => r.body), c.sent ? [{ AttrNames: { '0': 'sex', '1': 'town', '2': 'level' } }] : []);
        assert.equal(app.emulator.state.names.get('1'), c.sent ? 'town' : 'city');
      });
    }
  });

  it('clears a slot by sending "" for it; the emulator drops its values', async () => {
    assert.deepEqual(app.emulator.state.attrsOf('user000003'), { sex: 'M', city: 'Tokyo', level: 'bronze' });
    const result = await runCli(['names', 'set', '--clear', '2', '0=gender', '--yes'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stderr,
      'attribute names, before → after:\n  slot 0: "sex" → "gender" (renamed)\n  slot 2: "level" → (none) (cleared)\nattribute names updated: 1 renamed, 1 cleared\n',
    );
    assert.deepEqual(requestLog(app.emulator)[1], ['im_set_attr_name', { AttrNames: { '0': 'gender', '1': 'city', '2': '' } }]);
    assert.deepEqual(app.emulator.state.attrsOf('user000003'), { gender: 'M', city: 'Tokyo' });
  });

  describe('--from takes the complete names', () => {
    const cases: Array<{ name: string; text: string; stdin?: boolean }> = [
      { name: 'a bare AttrNames object', text: '{"0":"gender","1":"city","5":"vip"}' },
      { name: 'the request body shape', text: '\uFEFF{"AttrNames":{"0":"gender","1":"city","5":"vip"}}' },
      { name: 'an object on stdin', text: '{"0":"gender","5":"vip","1":"city"}\n', stdin: true },
    ];
    for (const c of cases) {
      it(`reads ${c.name}, clearing the slots it leaves out`, async () => {
        const from = c.stdin ? '-' : files.write('names.json', c.text);
        const result = await runCli(['names', 'set', '--from', from, '--yes'], { env: app.env, stdin: c.stdin ? c.text : undefined });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(requestLog(app.emulator)[1], ['im_set_attr_name', { AttrNames: { '0': 'gender', '1': 'city', '2': '', '5': 'vip' } }]);
        const listed = await runCli(['names', '--json'], { env: app.env });
        assert.equal(listed.stdout, '{\n  "0": "gender",\n  "1": "city",\n  "5": "vip"\n}\n');
      });
    }

    it('round-trips: names --json from one app, names set --from into another', async () => {
      const other = await startTestEmulator({ attrNames: { '0': 'old' } });
      try {
        const exported = await runCli(['names', '--json'], { env: app.env });
        const result = await runCli(['names', 'set', '--from', '-', '--yes'], { env: emulatorEnv(other), stdin: exported.stdout });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(Object.fromEntries(other.state.names), { '0': 'sex', '1': 'city', '2': 'level' });
      } finally {
        await other.close();
      }
    });
  });

  describe('checks everything before sending', () => {
    const fiftyOne = 'é'.repeat(25) + 'x';
    const cases: Array<{ args: string[]; fromText?: string; sent: string[]; stderr: string }> = [
      { args: ['10=x'], sent: [], stderr: 'im-attrs: "10=x": slot "10" is not one of 0-9\nhint: an app has at most 10 attributes, in slots 0-9\n' },
      { args: ['a=x'], sent: [], stderr: 'im-attrs: "a=x": slot "a" is not one of 0-9\nhint: an app has at most 10 attributes, in slots 0-9\n' },
      { args: ['sex'], sent: [], stderr: 'im-attrs: "sex" is not SLOT=NAME\nhint: e.g. im-attrs names set 0=sex 1=city\n' },
      { args: ['3='], sent: [], stderr: 'im-attrs: "3=": the name is empty\nhint: to clear a slot, use --clear SLOT (or leave it out of --from)\n' },
      { args: [`3=${fiftyOne}`], sent: [], stderr: `im-attrs: "3=${fiftyOne}": the name is 51 bytes, over the limit of 50\n` },
      { args: ['1=x', '1=y'], sent: [], stderr: 'im-attrs: slot 1 is given twice\n' },
      { args: ['1=x', '--clear', '1'], sent: [], stderr: 'im-attrs: slot 1 is both named and cleared\n' },
      { args: ['--clear', '0,12'], sent: [], stderr: 'im-attrs: --clear: slot "12" is not one of 0-9\nhint: an app has at most 10 attributes, in slots 0-9\n' },
      { args: [], sent: [], stderr: 'im-attrs: no names given\nhint: im-attrs names set 0=sex 1=city, --clear 2, or --from names.json\n' },
      { args: ['0=x', '--from', 'FROM'], fromText: '{}', sent: [], stderr: 'im-attrs: --from gives the complete names: no SLOT=NAME or --clear with it\n' },
      {
        args: ['--from', 'FROM'],
        fromText: '{"0":"sex",',
        sent: [],
        stderr: 'im-attrs: --from FROM is not valid JSON\nhint: it holds an object like {"0":"sex","1":"city"}, as `im-attrs names --json` prints it\n',
      },
      { args: ['--from', 'FROM'], fromText: '["sex"]', sent: [], stderr: 'im-attrs: --from FROM must hold an object like {"0":"sex","1":"city"}\n' },
      { args: ['--from', 'FROM'], fromText: '{"0":"sex","1":7}', sent: [], stderr: 'im-attrs: --from FROM, slot 1: the name must be a string\n' },
      { args: ['--from', 'nope.json'], sent: [], stderr: 'im-attrs: --from nope.json cannot be read: no such file\n' },
      {
        args: ['3=sex'],
        sent: ['im_get_attr_name'],
        stderr: 'im-attrs: "sex" would be the name of slots 0 and 3; names must be unique\nhint: rename or clear slot 0 as well\n',
      },
      {
        args: ['--from', 'FROM'],
        fromText: '{"0":"a","4":"a"}',
        sent: ['im_get_attr_name'],
        stderr: 'im-attrs: "a" would be the name of slots 0 and 4; names must be unique\nhint: rename or clear slot 4 as well\n',
      },
    ];
    for (const c of cases) {
      it(`names set ${c.args.join(' ')}${c.fromText ? ` (${c.fromText})` : ''}`, async () => {
        const from = c.fromText === undefined ? undefined : files.write('from.json', c.fromText);
        const args = c.args.map((a) => (a === 'FROM' && from ? from : a));
        const result = await runCli(['names', 'set', ...args], { env: app.env, cwd: files.dir });
        assert.equal(result.code, 2);
        assert.equal(result.stderr, from ? c.stderr.replaceAll('FROM', from) : c.stderr);
        assert.deepEqual(app.emulator.requests.map((r) => r.command), c.sent);
      });
    }
  });

  it('changes nothing when the names are already as asked', async () => {
    const result = await runCli(['names', 'set', '0=sex', '1=city'], { env: app.env });
    assert.equal(result.code, 0);
    assert.equal(result.stderr, 'the attribute names are already as asked; nothing to change\n');
    assert.deepEqual(requestLog(app.emulator), [['im_get_attr_name', {}]]);
  });

  it('with --dry-run, shows the change and the request, asks nothing and sends nothing', async () => {
    const result = await runCli(['names', 'set', '1=town', '--clear', '2', '--dry-run'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { AttrNames: { '0': 'sex', '1': 'town', '2': '' } });
    assert.equal(
      result.stderr,
      'attribute names, before → after:\n  slot 1: "city" → "town" (renamed)\n  slot 2: "level" → (none) (cleared)\n' +
        `--dry-run: POST v4/all_member_push/im_set_attr_name (to app 1400000000 at ${new URL(app.emulator.url).host}); nothing was sent\n`,
    );
    assert.deepEqual(requestLog(app.emulator), [['im_get_attr_name', {}]]);
  });

  it('fails when the names read back are not what was sent', async () => {
    // A server that accepts im_set_attr_name but keeps its names (the proxy answers every
    // request itself): the read-back must catch it.
    const result = await runCli(['names', 'set', '1=city'], {
      env: app.env,
      proxy: (command) => ({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...(command === 'im_get_attr_name' ? { AttrNames: { '0': 'sex' } } : {}) }),
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      'attribute names, before → after:\n  slot 1: (none) → "city" (added)\n' +
        'im-attrs: the server\'s attribute names differ from what was sent:\n  slot 1: "city" → (none) (cleared)\n' +
        'hint: check them with `im-attrs names`; the server may not support clearing a slot with ""\n',
    );
  });

  describe('the emulator enforces the im_set_attr_name rules', () => {
    const cases: Array<{ name: string; names: Record<string, string>; code?: number; after?: Record<string, string> }> = [
      { name: 'merges a partial map into the names', names: { '4': 'vip' }, after: { '0': 'sex', '1': 'city', '2': 'level', '4': 'vip' } },
      { name: 'clears a slot given as ""', names: { '1': '' }, after: { '0': 'sex', '2': 'level' } },
      { name: 'a name of 50 bytes', names: { '3': 'é'.repeat(25) }, after: { '0': 'sex', '1': 'city', '2': 'level', '3': 'é'.repeat(25) } },
      { name: 'slot "10": 90033', names: { '10': 'x' }, code: 90033 },
      { name: 'a name of 51 bytes: 90033', names: { '3': 'é'.repeat(25) + 'x' }, code: 90033 },
      { name: 'a duplicate name: 90033', names: { '3': 'city' }, code: 90033 },
    ];
    for (const c of cases) {
      it(`answers ${c.name}`, async () => {
        await assertRawAnswer(app.emulator, (client) => client.call(FAMILIES.all_member_push.setAttrNames!, c.names), c.code);
        assert.deepEqual(Object.fromEntries(app.emulator.state.names), c.after ?? { '0': 'sex', '1': 'city', '2': 'level' });
      });
    }
  });

  it('has a description and examples in --help, for names and names set', async () => {
    const list = await runCli(['names', '--help']);
    assert.equal(list.code, 0);
    assert.ok(list.stdout.startsWith("Usage: im-attrs names [options] [command]\n\nList the app's attribute names: slot (0-9) and name."), list.stdout);
    assert.ok(list.stdout.includes('  set [options] [slot=name...]  define, rename or clear attribute names\n'));
    assert.ok(list.stdout.includes('  $ im-attrs names --json > names.json\n'));
    const set = await runCli(['names', 'set', '--help']);
    assert.equal(set.code, 0);
    assert.equal(set.stderr, '');
    assert.ok(set.stdout.startsWith('Usage: im-attrs names set [options] [slot=name...]\n\nDefine, rename or clear attribute names.'), set.stdout);
    assert.ok(set.stdout.includes('  $ im-attrs names set 1=town --yes\n'));
  });

  it('reports an unknown option of names set as a usage error, without exiting the process', async () => {
    const result = await runCli(['names', 'set', '--bogus']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "im-attrs: unknown option '--bogus'\n");
  });
});
