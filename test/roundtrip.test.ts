/**
 * The copy an admin makes between apps: `get --profile test --output F > backup` then
 * `set --file backup --profile prod` leaves prod with exactly test's attributes, in every format,
 * with values that break naive formats. And the emulator's `--data` file survives a kill -9.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '../src/emulator/server.js';
import { EmulatorState } from '../src/emulator/state.js';
import { emulatorEnv, runCli, startTestEmulator, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from './helpers/cli.js';

const NAMES = { '0': 'sex', '1': 'city', '2': 'level', '3': 'note' };

/** Accounts and attributes that break naive csv, tsv and json handling. */
const DATA: Record<string, Record<string, string>> = {
  'rt-comma': { city: 'Paris, France', note: 'a,b,,c' },
  'rt-quote': { city: 'say "hi"', note: '"' },
  'rt-tab': { city: 'tab\there', note: 'back\\slash \\t not a tab' },
  'rt-lines': { note: 'line1\nline2\r\nline3\r' },
  'rt-utf8': { sex: 'F', city: 'São Paulo', note: '用户😀é\u2028' },
  'rt-space': { city: ' leading', note: 'trailing ' },
  'rt-limit': { note: 'é'.repeat(25) },
  'rt-empty': {},
  'rt,"odd"\tid': { level: 'gold' },
};

function load(emulator: Emulator, data: Record<string, Record<string, string>>): void {
  for (const [account, attrs] of Object.entries(data)) {
    const values = new Map<string, string>();
    for (const [name, value] of Object.entries(attrs)) values.set(emulator.state.slotOf(name)!, value);
    emulator.state.users.set(account, values);
  }
}

describe('get → set round trip between two apps', () => {
  let test: Emulator;
  const files = tempDir();
  const ids = Object.keys(DATA);

  before(async () => {
    test = await startTestEmulator({ attrNames: NAMES, rateLimit: 0 });
    load(test, DATA);
    writeFileSync(path.join(files.dir, 'ids.txt'), ids.join('\n') + '\n');
  });
  after(async () => {
    await test.close();
    files.cleanup();
  });

  /** A config file with a test and a prod profile, as an admin has it. */
  function config(prod: Emulator): void {
    writeFileSync(
      path.join(files.dir, '.imadminrc.json'),
      JSON.stringify({
        sdkAppId: TEST_SDKAPPID,
        identifier: TEST_ADMIN,
        secretKey: TEST_SECRET_KEY,
        profiles: { test: { endpoint: test.url }, prod: { endpoint: prod.url } },
      }),
      { mode: 0o600 },
    );
  }

  for (const format of ['ndjson', 'json', 'csv', 'tsv'] as const) {
    it(`restores exactly the same attributes through ${format}`, async () => {
      // prod has the same users (imported), none of their attributes yet.
      const prod = await startTestEmulator({ attrNames: NAMES, rateLimit: 0 });
      try {
        for (const id of ids) prod.state.users.set(id, new Map());
        config(prod);
        const run = (args: string[]) => runCli(args, { cwd: files.dir });
        const backup = await run(['get', '--profile', 'test', '--file', 'ids.txt', '--output', format]);
        assert.equal(backup.code, 0, backup.stderr);
        writeFileSync(path.join(files.dir, `backup.${format}`), backup.stdout);

        const restore = await run(['set', '--file', `backup.${format}`, '--profile', 'prod']);
        assert.equal(restore.code, 0, restore.stderr);
        assert.equal(restore.stderr, 'set: 8 accounts updated, 0 skipped (bad input), 1 skipped (nothing to set), 0 failed\n');
        assert.deepEqual(prod.requests.filter((r) => r.purpose !== 'before-state').map((r) => r.command), ['im_get_attr_name', 'im_set_attr']);

        const before = await run(['get', '--profile', 'test', '--file', 'ids.txt', '--output', 'ndjson']);
        const afterwards = await run(['get', '--profile', 'prod', '--file', 'ids.txt', '--output', 'ndjson']);
        assert.equal(afterwards.code, 0, afterwards.stderr);
        assert.equal(afterwards.stdout, before.stdout);
        assert.deepEqual(prod.state.toJSON().users, test.state.toJSON().users);
      } finally {
        await prod.close();
      }
    });
  }

  it('keeps an empty value through ndjson and json (csv and tsv read an empty cell as "unchanged")', async () => {
    for (const format of ['ndjson', 'json'] as const) {
      const source = await startTestEmulator({ attrNames: NAMES });
      const target = await startTestEmulator({ attrNames: NAMES });
      try {
        load(source, { blank: { city: '', sex: 'M' } });
        const backup = await runCli(['get', 'blank', '--output', format], { env: emulatorEnv(source) });
        const restore = await runCli(['set', '-'], { env: emulatorEnv(target), stdin: backup.stdout });
        assert.equal(restore.code, 0, restore.stderr);
        assert.deepEqual(target.state.attrsOf('blank'), { sex: 'M', city: '' });
      } finally {
        await source.close();
        await target.close();
      }
    }
  });
});

describe('the emulator --data file', () => {
  const files = tempDir();
  const bin = fileURLToPath(new URL('../../bin/im-attrs.js', import.meta.url));
  after(() => files.cleanup());

  /** Starts `im-attrs emulator --data FILE` as a real process; resolves with its URL. */
  async function spawnEmulator(dataFile: string): Promise<{ child: ChildProcess; url: string }> {
    const child = spawn(process.execPath, [bin, 'emulator', '--data', dataFile, '--rate-limit', '0'], {
      env: { PATH: process.env.PATH, IMADMIN_SECRET_KEY: TEST_SECRET_KEY, IMADMIN_SDKAPPID: String(TEST_SDKAPPID) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
      child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${err}`)));
    });
    return { child, url };
  }

  function kill(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  const env = (url: string) => ({
    IMADMIN_ENDPOINT: url,
    IMADMIN_SDKAPPID: String(TEST_SDKAPPID),
    IMADMIN_IDENTIFIER: TEST_ADMIN,
    IMADMIN_SECRET_KEY: TEST_SECRET_KEY,
  });

  async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  const saved = (file: string): { attrNames: Record<string, string>; users: Record<string, Record<string, string>> } | undefined => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as never;
    } catch {
      return undefined;
    }
  };

  it('persists names and attributes set through the CLI, and a kill -9 leaves a whole file that loads again', async () => {
    const dataFile = path.join(files.dir, 'state.json');
    const first = await spawnEmulator(dataFile);
    try {
      let result = await runCli(['names', 'set', '3=vip'], { env: env(first.url) });
      assert.equal(result.code, 0, result.stderr);
      result = await runCli(['set', 'alice', 'city=Paris', 'vip=yes'], { env: env(first.url) });
      assert.equal(result.code, 0, result.stderr);
      await waitFor(() => saved(dataFile)?.users.alice?.vip === 'yes');
    } finally {
      await kill(first.child);
    }
    assert.deepEqual(saved(dataFile), { attrNames: { '0': 'sex', '1': 'city', '2': 'level', '3': 'vip' }, users: { alice: { city: 'Paris', vip: 'yes' } } });

    // Killed while it keeps saving: whatever moment the kill lands on, the file is whole.
    const second = await spawnEmulator(dataFile);
    try {
      for (let i = 0; i < 6; i++) {
        const result = await runCli(['set', `bulk${i}`, `city=C${i}`], { env: env(second.url) });
        assert.equal(result.code, 0, result.stderr);
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    } finally {
      await kill(second.child);
    }
    const state = saved(dataFile);
    assert.ok(state, 'the data file must parse after kill -9');
    assert.deepEqual(state.users.alice, { city: 'Paris', vip: 'yes' });
    assert.deepEqual(readdirSync(files.dir).filter((f) => f.startsWith('state.json') && f !== 'state.json' && !f.endsWith('.tmp')), []);

    // Loaded again by a new emulator, `get` sees it all.
    const third = await startTestEmulator({ dataFile });
    try {
      const result = await runCli(['get', 'alice', '--output', 'ndjson'], { env: emulatorEnv(third) });
      assert.equal(result.stdout, '{"To_Account":"alice","Attrs":{"city":"Paris","vip":"yes"}}\n');
      assert.deepEqual(EmulatorState.load(dataFile).attrsOf('alice'), { city: 'Paris', vip: 'yes' });
    } finally {
      await third.close();
    }
  });
});
