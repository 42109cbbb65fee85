/**
 * Which value wins: flags > IMADMIN_* environment > selected profile > top-level file keys >
 * defaults, and which profile is selected: --profile > IMADMIN_PROFILE > defaultProfile.
 * The same ladder is checked on collectSettings (every key, with its recorded source) and through
 * the real CLI against real emulators (what the server received shows which layer won).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { collectSettings, ENV_VARS, FLAG_NAMES, SETTING_KEYS, type GlobalFlags, type SettingKey, type Source } from '../../src/config/resolve.js';
import type { Emulator } from '../../src/emulator/server.js';
import { generate, verify } from '../../src/usersig.js';
import { runCli, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';
import { EmulatorPool, getUser1, PROFILE, received, USER1_NDJSON, VALID_REGIONS, writeConfig, type Layer } from './fixtures.js';

const LAYERS: readonly Layer[] = ['flag', 'env', 'profile', 'file'];

interface LadderRow {
  name: string;
  layers: readonly Layer[];
  wins: Layer;
}

/** The same key set at several layers; the highest one set wins. */
const LADDER: readonly LadderRow[] = [
  { name: 'a flag beats the environment, the selected profile and the top-level key', layers: ['flag', 'env', 'profile', 'file'], wins: 'flag' },
  { name: 'the environment beats the selected profile and the top-level key', layers: ['env', 'profile', 'file'], wins: 'env' },
  { name: 'the selected profile beats the top-level key', layers: ['profile', 'file'], wins: 'profile' },
  { name: 'the top-level key applies when nothing above sets it', layers: ['file'], wins: 'file' },
  { name: 'a flag beats the top-level key with nothing in between', layers: ['flag', 'file'], wins: 'flag' },
];

/**
 * The warning when an IMADMIN_* variable beats a different value in the selected profile: the
 * ladder stands, but a variable left exported must not quietly override the profile chosen.
 */
function overrides(key: SettingKey, file: string): string {
  return `${ENV_VARS[key]} overrides ${key} of profile "${PROFILE}" (${file}); unset it to use the profile's value`;
}

/** Whether a ladder row has the environment beat the selected profile (and so warns). */
function envBeatsProfile(row: LadderRow): boolean {
  return row.wins === 'env' && row.layers.includes('profile');
}

/** stderr for a CLI run of `row` on `key`: the override warning, or nothing. */
function stderrFor(row: LadderRow, key: SettingKey, file: string): string {
  return envBeatsProfile(row) ? `warning: ${overrides(key, file)}\n` : '';
}

/** Where each layer puts a value: a flag, an env var, the selected profile, the top level. */
interface Layout {
  args: string[];
  env: Record<string, string>;
  top: Record<string, unknown>;
  profile: Record<string, unknown>;
}

function emptyLayout(): Layout {
  return { args: [], env: {}, top: {}, profile: {} };
}

/** Puts `values[layer]` for `key` into each layer, using the key's flag (`--output` is the command's). */
function place(layout: Layout, key: SettingKey, values: Partial<Record<Layer, string | number>>): Layout {
  const flag = key === 'output' ? '--output' : FLAG_NAMES[key];
  for (const [layer, value] of Object.entries(values) as Array<[Layer, string | number]>) {
    if (layer === 'flag') {
      assert.ok(flag, `${key} has no flag`);
      layout.args.push(flag, String(value));
    } else if (layer === 'env') layout.env[ENV_VARS[key]] = String(value);
    else if (layer === 'profile') layout.profile[key] = value;
    else layout.top[key] = value;
  }
  return layout;
}

function pick<T>(all: Record<Layer, T>, layers: readonly Layer[]): Partial<Record<Layer, T>> {
  return Object.fromEntries(layers.map((l) => [l, all[l]]));
}

/** The file every CLI case reads: top-level keys plus the profile that defaultProfile selects. */
function fileData(layout: Layout): Record<string, unknown> {
  return { ...layout.top, defaultProfile: PROFILE, profiles: { [PROFILE]: layout.profile } };
}

describe('configuration precedence', () => {
  const tmp = tempDir();
  const pool = new EmulatorPool();
  let caseNumber = 0;
  /** A fresh project directory (used as cwd and home) holding `.imadminrc.json`. */
  function project(layout: Layout): { cwd: string; homeDir: string; file: string } {
    const cwd = path.join(tmp.dir, `case-${++caseNumber}`);
    const file = writeConfig(path.join(cwd, '.imadminrc.json'), fileData(layout));
    return { cwd, homeDir: cwd, file };
  }

  after(async () => {
    await pool.close();
    tmp.cleanup();
  });

  describe('collectSettings records the winning value and its source', () => {
    const filepath = path.join(tmp.dir, 'never-written.json');
    const SOURCE = (key: SettingKey): Record<Layer, Source> => ({
      flag: { kind: 'flag', name: FLAG_NAMES[key] ?? '' },
      env: { kind: 'env', name: ENV_VARS[key] },
      profile: { kind: 'file', path: filepath, profile: PROFILE },
      file: { kind: 'file', path: filepath },
    });

    function collect(key: SettingKey, layers: readonly Layer[], extraEnv: Record<string, string> = {}) {
      const layout = place(emptyLayout(), key, Object.fromEntries(layers.map((l) => [l, `${l}-value`])));
      const flags: GlobalFlags = {};
      for (let i = 0; i < layout.args.length; i += 2) flags[layout.args[i]!.slice(2) as keyof GlobalFlags] = layout.args[i + 1];
      const warnings: string[] = [];
      const settings = collectSettings(flags, { filepath, data: fileData(layout), kind: 'own', sha256: '', realpath: filepath }, { env: { ...layout.env, ...extraEnv }, warn: (m) => warnings.push(m) });
      // Override warnings are handed to whoever uses the key (Runtime, or get for output).
      return { settings, warnings: [...warnings, ...settings.overrides.values()] };
    }

    for (const key of SETTING_KEYS) {
      for (const row of LADDER) {
        if (row.layers.includes('flag') && FLAG_NAMES[key] === undefined) continue;
        it(`${key}: ${row.name}`, () => {
          const { settings, warnings } = collect(key, row.layers);
          assert.deepEqual(settings.values[key], { value: `${row.wins}-value`, source: SOURCE(key)[row.wins] });
          assert.deepEqual(warnings, envBeatsProfile(row) ? [overrides(key, filepath)] : []);
        });
      }
      it(`${key}: an empty ${ENV_VARS[key]} counts as unset, so the selected profile wins`, () => {
        const { settings } = collect(key, ['profile', 'file'], { [ENV_VARS[key]]: '' });
        assert.deepEqual(settings.values[key], { value: 'profile-value', source: SOURCE(key).profile });
      });
    }

    it('leaves a key that no layer sets undefined, for the command to apply its default', () => {
      const { settings } = collect('region', ['file']);
      assert.deepEqual(Object.keys(settings.values), ['region']);
      assert.deepEqual(settings.profile, { value: PROFILE, source: { kind: 'file', path: filepath } });
      assert.deepEqual(settings.profiles, [PROFILE]);
    });

    it('has no flag for the secret key: it is only read from the environment or a file', () => {
      assert.equal(FLAG_NAMES.secretKey, undefined);
    });
  });

  describe('identifier and sdkAppId, as the emulator receives them', () => {
    const IDENTIFIER: Record<Layer, string> = { flag: 'admin_flag', env: 'admin_env', profile: 'admin_profile', file: 'admin_file' };
    const SDKAPPID: Record<Layer, number> = { flag: 1400000011, env: 1400000012, profile: 1400000013, file: 1400000014 };

    // The environment warns when it beats the selected profile: sdkAppId first, as SETTING_KEYS lists it.
    const CASES: Array<{ name: string; identifier: Layer[]; sdkAppId: Layer[]; wins: { identifier: Layer; sdkAppId: Layer }; warns?: SettingKey[] }> = [
      { name: 'flags win when every layer sets both keys', identifier: [...LAYERS], sdkAppId: [...LAYERS], wins: { identifier: 'flag', sdkAppId: 'flag' } },
      { name: 'the environment wins over the selected profile and the top-level keys', identifier: ['env', 'profile', 'file'], sdkAppId: ['env', 'profile', 'file'], wins: { identifier: 'env', sdkAppId: 'env' }, warns: ['sdkAppId', 'identifier'] },
      { name: 'the selected profile wins over the top-level keys', identifier: ['profile', 'file'], sdkAppId: ['profile', 'file'], wins: { identifier: 'profile', sdkAppId: 'profile' } },
      { name: 'the top-level keys apply when nothing above sets them', identifier: ['file'], sdkAppId: ['file'], wins: { identifier: 'file', sdkAppId: 'file' } },
      { name: 'a flag wins over a top-level key with no layer in between', identifier: ['flag', 'file'], sdkAppId: ['flag', 'file'], wins: { identifier: 'flag', sdkAppId: 'flag' } },
      { name: 'each key resolves on its own: identifier from a flag, sdkAppId from the profile', identifier: ['flag', 'profile', 'file'], sdkAppId: ['profile', 'file'], wins: { identifier: 'flag', sdkAppId: 'profile' } },
      { name: 'each key resolves on its own: identifier from the top level, sdkAppId from the environment', identifier: ['file'], sdkAppId: ['env', 'profile', 'file'], wins: { identifier: 'file', sdkAppId: 'env' }, warns: ['sdkAppId'] },
    ];

    for (const c of CASES) {
      it(c.name, async () => {
        const layout = place(place(emptyLayout(), 'identifier', pick(IDENTIFIER, c.identifier)), 'sdkAppId', pick(SDKAPPID, c.sdkAppId));
        const emulator = await pool.get({ sdkAppId: SDKAPPID[c.wins.sdkAppId], identifier: IDENTIFIER[c.wins.identifier] });
        const { cwd, homeDir, file } = project(layout);
        const env = { IMADMIN_ENDPOINT: emulator.url, IMADMIN_SECRET_KEY: TEST_SECRET_KEY, ...layout.env };
        const result = await getUser1(layout.args, { env, cwd, homeDir });
        assert.deepEqual(received(emulator), [
          { command: 'im_get_attr', sdkappid: String(SDKAPPID[c.wins.sdkAppId]), identifier: IDENTIFIER[c.wins.identifier] },
        ]);
        const stderr = (c.warns ?? []).map((key) => `warning: ${overrides(key, file)}\n`).join('');
        assert.deepEqual(result, { code: 0, stdout: USER1_NDJSON, stderr });
      });
    }
  });

  describe('profile selection: --profile > IMADMIN_PROFILE > defaultProfile', () => {
    const CASES: Array<{ name: string; flag?: string; env?: string; defaultProfile?: string; identifier: string }> = [
      { name: '--profile wins over IMADMIN_PROFILE and defaultProfile', flag: 'blue', env: 'green', defaultProfile: 'red', identifier: 'admin_blue' },
      { name: 'IMADMIN_PROFILE wins over defaultProfile', env: 'green', defaultProfile: 'red', identifier: 'admin_green' },
      { name: 'defaultProfile applies when neither --profile nor IMADMIN_PROFILE is given', defaultProfile: 'red', identifier: 'admin_red' },
      { name: 'an empty IMADMIN_PROFILE counts as unset', env: '', defaultProfile: 'red', identifier: 'admin_red' },
      { name: 'with no profile selected only the top-level keys apply', identifier: 'admin_top' },
    ];

    for (const c of CASES) {
      it(c.name, async () => {
        const emulator = await pool.get({ identifier: c.identifier });
        const cwd = path.join(tmp.dir, `case-${++caseNumber}`);
        // sdkAppId is only at the top level: a selected profile inherits the keys it leaves out.
        writeConfig(path.join(cwd, '.imadminrc.json'), {
          sdkAppId: TEST_SDKAPPID,
          identifier: 'admin_top',
          ...(c.defaultProfile === undefined ? {} : { defaultProfile: c.defaultProfile }),
          profiles: { blue: { identifier: 'admin_blue' }, green: { identifier: 'admin_green' }, red: { identifier: 'admin_red' } },
        });
        const env: Record<string, string> = { IMADMIN_ENDPOINT: emulator.url, IMADMIN_SECRET_KEY: TEST_SECRET_KEY };
        if (c.env !== undefined) env.IMADMIN_PROFILE = c.env;
        const result = await getUser1(c.flag === undefined ? [] : ['--profile', c.flag], { env, cwd, homeDir: cwd });
        assert.deepEqual(received(emulator), [{ command: 'im_get_attr', sdkappid: String(TEST_SDKAPPID), identifier: c.identifier }]);
        assert.deepEqual(result, { code: 0, stdout: USER1_NDJSON, stderr: '' });
      });
    }
  });

  describe('the same ladder through the CLI for every other key', () => {
    const base = { IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN };

    describe('endpoint: the emulator that receives the request is the winner', () => {
      for (const row of LADDER) {
        it(row.name, async () => {
          const emulators = {} as Record<Layer, Emulator>;
          for (const layer of LAYERS) emulators[layer] = await pool.get({ label: layer });
          const urls = Object.fromEntries(LAYERS.map((l) => [l, emulators[l].url])) as Record<Layer, string>;
          const layout = place(emptyLayout(), 'endpoint', pick(urls, row.layers));
          const { cwd, homeDir, file } = project(layout);
          const result = await getUser1(layout.args, { env: { ...base, IMADMIN_SECRET_KEY: TEST_SECRET_KEY, ...layout.env }, cwd, homeDir });
          assert.deepEqual(LAYERS.filter((l) => emulators[l].requests.length > 0), [row.wins]);
          assert.deepEqual(result, { code: 0, stdout: USER1_NDJSON, stderr: stderrFor(row, 'endpoint', file) });
        });
      }
    });

    describe('userSig: the emulator receives the winning UserSig', () => {
      const now = Math.floor(Date.now() / 1000);
      // Four valid UserSigs that differ only in their validity.
      const SIGS = Object.fromEntries(
        LAYERS.map((l, i) => [l, generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 86_400 + i, now })]),
      ) as Record<Layer, string>;

      for (const row of LADDER) {
        it(row.name, async () => {
          const emulator = await pool.get();
          const layout = place(emptyLayout(), 'userSig', pick(SIGS, row.layers));
          const { cwd, homeDir, file } = project(layout);
          const result = await getUser1(layout.args, { env: { ...base, IMADMIN_ENDPOINT: emulator.url, ...layout.env }, cwd, homeDir });
          const sent = emulator.requests.map((r) => r.query.usersig);
          assert.deepEqual(sent.map((s) => LAYERS.filter((l) => SIGS[l] === s)), [[row.wins]]);
          // Issue 11: a UserSig used from argv is said to be visible to other users (ps).
          const argv = row.wins === 'flag' ? 'warning: --usersig on the command line can be read by other users of this machine (ps); prefer --usersig-file PATH or IMADMIN_USERSIG\n' : '';
          assert.deepEqual(result, { code: 0, stdout: USER1_NDJSON, stderr: stderrFor(row, 'userSig', file) + argv });
        });
      }
    });

    describe('secretKey: the UserSig the emulator receives is signed with the winning key', () => {
      const KEYS: Record<Layer, string> = {
        flag: 'unused: the secret key has no flag',
        env: `env-${TEST_SECRET_KEY.slice(4)}`,
        profile: `pro-${TEST_SECRET_KEY.slice(4)}`,
        file: `top-${TEST_SECRET_KEY.slice(4)}`,
      };
      for (const row of LADDER.filter((r) => !r.layers.includes('flag'))) {
        it(row.name, async () => {
          const emulator = await pool.get({ secretKey: KEYS[row.wins] });
          const layout = place(emptyLayout(), 'secretKey', pick(KEYS, row.layers));
          const { cwd, homeDir, file } = project(layout);
          const result = await getUser1([], { env: { ...base, IMADMIN_ENDPOINT: emulator.url, ...layout.env }, cwd, homeDir });
          const sent = emulator.requests.map((r) => r.query.usersig ?? '');
          assert.deepEqual(sent.map((s) => LAYERS.filter((l) => verify(s, { secretKey: KEYS[l] }).ok)), [[row.wins]]);
          assert.deepEqual(result, { code: 0, stdout: USER1_NDJSON, stderr: stderrFor(row, 'secretKey', file) });
        });
      }

      it('refuses a --secret-key flag, without echoing the key', async () => {
        const result = await getUser1(['--secret-key', TEST_SECRET_KEY], { env: base });
        assert.deepEqual(result, { code: 2, stdout: '', stderr: "im-attrs: unknown option '--secret-key'\n" });
      });
    });

    describe('region: the error names the winning value and its source', () => {
      const REGIONS: Record<Layer, string> = { flag: 'flagland', env: 'envland', profile: 'profileland', file: 'fileland' };
      for (const row of LADDER) {
        it(row.name, async () => {
          const layout = place(emptyLayout(), 'region', pick(REGIONS, row.layers));
          const { cwd, homeDir, file } = project(layout);
          const result = await getUser1(layout.args, { env: { ...base, IMADMIN_SECRET_KEY: TEST_SECRET_KEY, ...layout.env }, cwd, homeDir });
          const from: Record<Layer, string> = { flag: 'flag --region', env: 'env IMADMIN_REGION', profile: `${file}, profile "${PROFILE}"`, file };
          assert.deepEqual(result, {
            code: 3,
            stdout: '',
            stderr: `${stderrFor(row, 'region', file)}im-attrs: unknown region "${REGIONS[row.wins]}" (from ${from[row.wins]})\nhint: valid regions: ${VALID_REGIONS}\n`,
          });
        });
      }
    });

    describe('output: the format on stdout is the winner, and the default depends on the terminal', () => {
      const FORMATS: Record<Layer, string> = { flag: 'json', env: 'ndjson', profile: 'csv', file: 'tsv' };
      const PRINTED: Record<string, string> = {
        json: '[\n  {"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"}}\n]\n',
        ndjson: USER1_NDJSON,
        csv: 'account,sex,city,level\nuser000001,M,Shenzhen,\n',
        tsv: 'account\tsex\tcity\tlevel\nuser000001\tM\tShenzhen\t\n',
      };
      const rows: Array<LadderRow | { name: string; layers: readonly Layer[]; wins: 'default'; tty: boolean; printed: string }> = [
        ...LADDER,
        { name: 'with nothing set, a pipe gets tsv', layers: [], wins: 'default', tty: false, printed: PRINTED.tsv! },
        {
          name: 'with nothing set, a terminal gets a table',
          layers: [],
          wins: 'default',
          tty: true,
          printed: [
            'account     sex  city      level',
            '──────────  ───  ────────  ─────',
            'user000001  M    Shenzhen',
            '',
          ].join('\n'),
        },
      ];
      for (const row of rows) {
        it(row.name, async () => {
          const emulator = await pool.get();
          const layout = place(emptyLayout(), 'output', pick(FORMATS, row.layers));
          const { cwd, homeDir, file } = project(layout);
          const env = { ...base, IMADMIN_ENDPOINT: emulator.url, IMADMIN_SECRET_KEY: TEST_SECRET_KEY, ...layout.env };
          const tty = 'tty' in row ? row.tty : false;
          const result = await runCli(['get', 'user000001', ...layout.args], { env, cwd, homeDir, stdoutIsTTY: tty });
          const printed = row.wins === 'default' ? (row as { printed: string }).printed : PRINTED[FORMATS[row.wins]];
          // A --output flag means neither the variable nor the profile is used: no warning then.
          const stderr = row.wins === 'default' ? '' : stderrFor(row, 'output', file);
          assert.deepEqual(result, { code: 0, stdout: printed, stderr });
        });
      }
    });
  });
});
