/**
 * Finding the config file: --config / IMADMIN_CONFIG, else every directory from the current one
 * up to home, then $XDG_CONFIG_HOME/imadmin (default ~/.config/imadmin); nearest wins. Each file
 * in a case names a different identifier, and the emulator shows which one was read.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { GLOBAL_SEARCH_PLACES, globalConfigDir, SEARCH_PLACES, searchDirectories } from '../../src/config/load.js';
import { tempDir, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';
import { EmulatorPool, getUser1, received, trustProjectFile, USER1_NDJSON, writeConfig } from './fixtures.js';

describe('config file search', () => {
  describe('the directories searched (searchDirectories)', () => {
    const CASES: Array<{ name: string; cwd: string; home: string; env: Record<string, string>; dirs: string[] }> = [
      {
        name: 'walks from the current directory up to home, then ~/.config/imadmin',
        cwd: '/home/me/work/app',
        home: '/home/me',
        env: {},
        dirs: ['/home/me/work/app', '/home/me/work', '/home/me', '/home/me/.config/imadmin'],
      },
      {
        name: 'uses $XDG_CONFIG_HOME/imadmin as the user-wide directory when it is set',
        cwd: '/home/me/app',
        home: '/home/me',
        env: { XDG_CONFIG_HOME: '/xdg' },
        dirs: ['/home/me/app', '/home/me', '/xdg/imadmin'],
      },
      {
        name: 'treats an empty XDG_CONFIG_HOME as unset',
        cwd: '/home/me',
        home: '/home/me',
        env: { XDG_CONFIG_HOME: '' },
        dirs: ['/home/me', '/home/me/.config/imadmin'],
      },
      {
        name: 'walks up to the root when the current directory is not below home',
        cwd: '/srv/deploy/app',
        home: '/home/me',
        env: {},
        dirs: ['/srv/deploy/app', '/srv/deploy', '/srv', '/', '/home/me/.config/imadmin'],
      },
      {
        name: 'resolves a relative current directory and a trailing slash',
        cwd: '/home/me/work/../app/',
        home: '/home/me/',
        env: {},
        dirs: ['/home/me/app', '/home/me', '/home/me/.config/imadmin'],
      },
    ];
    for (const c of CASES) {
      it(c.name, () => {
        assert.deepEqual(searchDirectories({ cwd: c.cwd, homeDir: c.home, env: c.env }), c.dirs);
        assert.equal(globalConfigDir({ homeDir: c.home, env: c.env }), c.dirs.at(-1));
      });
    }

    it('tries the documented file names, in this order, in each directory', () => {
      assert.deepEqual(SEARCH_PLACES, [
        'package.json',
        '.imadminrc',
        '.imadminrc.json',
        '.imadminrc.yaml',
        '.imadminrc.yml',
        'imadmin.config.js',
        'imadmin.config.mjs',
      ]);
      assert.deepEqual(GLOBAL_SEARCH_PLACES, ['config', 'config.json', 'config.yaml', 'config.yml', 'config.js', 'config.mjs']);
    });
  });

  describe('which file the CLI reads', () => {
    const tmp = tempDir();
    const pool = new EmulatorPool();
    after(async () => {
      await pool.close();
      tmp.cleanup();
    });

    /** File contents that set `identifier`, in each syntax. */
    const json = (id: string) => `${JSON.stringify({ identifier: id })}\n`;
    const yaml = (id: string) => `# YAML\nidentifier: ${id}\n`;
    const cjs = (id: string) => `module.exports = { identifier: '${id}' };\n`;
    const esm = (id: string) => `export default { identifier: '${id}' };\n`;
    const pkg = (id: string) => `${JSON.stringify({ name: 'app', version: '1.0.0', imadmin: { identifier: id } })}\n`;
    const pkgWithoutKey = () => `${JSON.stringify({ name: 'app', version: '1.0.0', scripts: { test: 'node --test' } })}\n`;

    /**
     * Places a case can put files in. `root` holds `home` (home/work/app is the usual cwd) and
     * `elsewhere` (a directory outside home); `xdg` is the user-wide config directory.
     */
    interface Places {
      root: string;
      home: string;
      parent: string;
      cwd: string;
      xdg: string;
      elsewhere: string;
    }

    interface SearchCase {
      name: string;
      /** `place/name` → content; file i sets identifier `admin_i`. */
      files: Array<[string, (id: string) => string]>;
      /** Index of the file that must be read; undefined when none may be. */
      reads: number | undefined;
      /** Where the user-wide directory is: XDG_CONFIG_HOME set to root/xdg (default), or unset. */
      xdgHome?: 'set' | 'unset';
      /** The file read is JavaScript in a project directory: refused, exit 3, nothing sent. */
      refusesCode?: boolean;
      /** Run from `elsewhere/app`, outside home. */
      outsideHome?: boolean;
      args?: (p: Places) => string[];
      env?: (p: Places) => Record<string, string>;
    }

    const CASES: SearchCase[] = [
      // Formats, each alone in the current directory.
      { name: 'reads .imadminrc written as JSON', files: [['cwd/.imadminrc', json]], reads: 0 },
      { name: 'reads .imadminrc written as YAML', files: [['cwd/.imadminrc', yaml]], reads: 0 },
      { name: 'reads .imadminrc.json', files: [['cwd/.imadminrc.json', json]], reads: 0 },
      { name: 'reads .imadminrc.yaml', files: [['cwd/.imadminrc.yaml', yaml]], reads: 0 },
      { name: 'reads .imadminrc.yml', files: [['cwd/.imadminrc.yml', yaml]], reads: 0 },
      // Issue 11: a JS file in a project directory is code anyone who wrote the tree could have put there.
      { name: 'refuses imadmin.config.js (CommonJS) in a project directory: it is never run', files: [['cwd/imadmin.config.js', cjs]], reads: 0, refusesCode: true },
      { name: 'refuses imadmin.config.mjs (ES module) in a project directory: it is never run', files: [['cwd/imadmin.config.mjs', esm]], reads: 0, refusesCode: true },
      { name: 'reads the "imadmin" key of package.json', files: [['cwd/package.json', pkg]], reads: 0 },
      {
        name: 'skips a package.json without an "imadmin" key for the next file in the same directory',
        files: [['cwd/package.json', pkgWithoutKey], ['cwd/.imadminrc.yml', yaml]],
        reads: 1,
      },
      {
        name: 'skips a package.json without an "imadmin" key for a file further up',
        files: [['cwd/package.json', pkgWithoutKey], ['parent/.imadminrc', yaml]],
        reads: 1,
      },
      {
        name: 'tries the names of one directory in order: .imadminrc.json before .imadminrc.yaml',
        files: [['cwd/.imadminrc.yaml', yaml], ['cwd/.imadminrc.json', json]],
        reads: 1,
      },
      // Nearest wins.
      {
        name: 'prefers the current directory to its parent, home and the user-wide directory',
        files: [['xdg/config', yaml], ['home/.imadminrc', json], ['parent/.imadminrc.json', json], ['cwd/.imadminrc.yaml', yaml]],
        reads: 3,
      },
      {
        name: 'prefers the nearest directory even when its file name comes later in the list',
        files: [['parent/package.json', pkg], ['cwd/.imadminrc.yml', yaml]],
        reads: 1,
      },
      { name: 'prefers a parent directory to home and the user-wide directory', files: [['xdg/config', yaml], ['home/.imadminrc', json], ['parent/.imadminrc', yaml]], reads: 2 },
      { name: 'prefers the home directory to the user-wide directory', files: [['xdg/config.yaml', yaml], ['home/.imadminrc.yml', yaml]], reads: 1 },
      { name: 'reads $XDG_CONFIG_HOME/imadmin/config (YAML) when no directory has a file', files: [['xdg/config', yaml]], reads: 0 },
      { name: 'reads $XDG_CONFIG_HOME/imadmin/config written as JSON', files: [['xdg/config', json]], reads: 0 },
      { name: 'reads $XDG_CONFIG_HOME/imadmin/config.json', files: [['xdg/config.json', json]], reads: 0 },
      { name: 'reads $XDG_CONFIG_HOME/imadmin/config.yaml', files: [['xdg/config.yaml', yaml]], reads: 0 },
      { name: 'reads $XDG_CONFIG_HOME/imadmin/config.yml', files: [['xdg/config.yml', yaml]], reads: 0 },
      { name: 'reads $XDG_CONFIG_HOME/imadmin/config.mjs', files: [['xdg/config.mjs', esm]], reads: 0 },
      { name: 'reads ~/.config/imadmin/config when XDG_CONFIG_HOME is not set', files: [['xdg/config', yaml]], reads: 0, xdgHome: 'unset' },
      {
        name: 'does not read ~/.config/imadmin when XDG_CONFIG_HOME points elsewhere',
        files: [['home/.config/imadmin/config', yaml]],
        reads: undefined,
      },
      { name: 'does not read a directory above home', files: [['root/.imadminrc', yaml]], reads: undefined },
      { name: 'does not read the user-wide names (config) in an ordinary directory', files: [['cwd/config', yaml], ['cwd/config.json', json]], reads: undefined },
      {
        name: 'walks up to the root when the current directory is outside home',
        files: [['elsewhere/.imadminrc', yaml]],
        reads: 0,
        outsideHome: true,
      },
      // Explicit paths.
      {
        name: '--config reads the file it names and skips the search',
        files: [['cwd/.imadminrc', yaml], ['elsewhere/team.yaml', yaml]],
        reads: 1,
        args: (p) => ['--config', path.join(p.elsewhere, 'team.yaml')],
      },
      {
        name: '--config resolves a relative path against the current directory',
        files: [['cwd/.imadminrc', yaml], ['parent/settings.json', json]],
        reads: 1,
        args: () => ['--config', '../settings.json'],
      },
      {
        name: '--config reads a file without an extension as YAML (which also parses JSON)',
        files: [['elsewhere/imadmin-prod', json]],
        reads: 0,
        args: (p) => ['--config', path.join(p.elsewhere, 'imadmin-prod')],
      },
      {
        name: 'IMADMIN_CONFIG reads the file it names and skips the search',
        files: [['cwd/.imadminrc', yaml], ['elsewhere/team.json', json]],
        reads: 1,
        env: (p) => ({ IMADMIN_CONFIG: path.join(p.elsewhere, 'team.json') }),
      },
      {
        name: '--config wins over IMADMIN_CONFIG',
        files: [['elsewhere/from-env.yaml', yaml], ['elsewhere/from-flag.yaml', yaml]],
        reads: 1,
        args: (p) => ['--config', path.join(p.elsewhere, 'from-flag.yaml')],
        env: (p) => ({ IMADMIN_CONFIG: path.join(p.elsewhere, 'from-env.yaml') }),
      },
      { name: 'an empty IMADMIN_CONFIG counts as unset', files: [['cwd/.imadminrc', yaml]], reads: 0, env: () => ({ IMADMIN_CONFIG: '' }) },
    ];

    let caseNumber = 0;
    for (const c of CASES) {
      it(c.name, async () => {
        const root = path.join(tmp.dir, `case-${++caseNumber}`);
        const home = path.join(root, 'home');
        const places: Places = {
          root,
          home,
          parent: path.join(home, 'work'),
          cwd: path.join(home, 'work', 'app'),
          xdg: c.xdgHome === 'unset' ? path.join(home, '.config', 'imadmin') : path.join(root, 'xdg', 'imadmin'),
          elsewhere: path.join(root, 'elsewhere'),
        };
        const cwd = c.outsideHome ? path.join(places.elsewhere, 'app') : places.cwd;
        mkdirSync(cwd, { recursive: true });
        const written = c.files.map(([spec, content], i) => {
          const [place, ...rest] = spec.split('/');
          return writeConfig(path.join(places[place as keyof Places], ...rest), content(`admin_${i}`), 0o644);
        });

        const identifier = c.reads === undefined ? 'nobody' : `admin_${c.reads}`;
        const emulator = await pool.get({ identifier });
        const env: Record<string, string | undefined> = {
          IMADMIN_ENDPOINT: emulator.url,
          IMADMIN_SDKAPPID: String(TEST_SDKAPPID),
          IMADMIN_SECRET_KEY: TEST_SECRET_KEY,
          XDG_CONFIG_HOME: c.xdgHome === 'unset' ? undefined : path.join(root, 'xdg'),
          ...c.env?.(places),
        };
        // These files set identifier while the key comes from IMADMIN_SECRET_KEY: project files must be trusted (issue 11).
        for (const file of written) await trustProjectFile(file, { env, homeDir: home, cwd });
        const result = await getUser1(c.args?.(places) ?? [], { env, cwd, homeDir: home });

        if (c.refusesCode) {
          const file = written[c.reads!]!;
          assert.deepEqual(received(emulator), []);
          assert.deepEqual(result, {
            code: 3,
            stdout: '',
            stderr:
              `im-attrs: ${file} is a JavaScript config in a project directory; im-attrs does not run it\n` +
              `hint: JavaScript configs load only from ${places.xdg} or with --config; use .imadminrc (JSON or YAML) here\n`,
          });
        } else if (c.reads === undefined) {
          assert.deepEqual(received(emulator), []);
          assert.deepEqual(result, {
            code: 3,
            stdout: '',
            stderr:
              'im-attrs: identifier (an app administrator account) is not configured\n' +
              'hint: set it with the --identifier flag, the IMADMIN_IDENTIFIER variable, "identifier" in .imadminrc (see .imadminrc.example)\n',
          });
        } else {
          assert.deepEqual(received(emulator), [{ command: 'im_get_attr', sdkappid: String(TEST_SDKAPPID), identifier }]);
          assert.deepEqual(result, { code: 0, stdout: USER1_NDJSON, stderr: '' });
        }
      });
    }

    it(
      'ignores a package.json in the process\'s own directory: only the injected cwd is searched',
      {},
      async () => {
        const processDir = path.join(tmp.dir, 'process-cwd');
        writeConfig(path.join(processDir, 'package.json'), '{"name": "half-written",\n');
        const project = path.join(tmp.dir, 'injected-cwd');
        writeConfig(path.join(project, '.imadminrc'), yaml('administrator'));
        const emulator = await pool.get();
        const env = { IMADMIN_ENDPOINT: emulator.url, IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_SECRET_KEY: TEST_SECRET_KEY };
        const before = process.cwd();
        process.chdir(processDir);
        try {
          const result = await getUser1([], { env, cwd: project, homeDir: project });
          assert.deepEqual(result, { code: 0, stdout: USER1_NDJSON, stderr: '' });
        } finally {
          process.chdir(before);
        }
      },
    );
  });
});
