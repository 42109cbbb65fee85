/**
 * `npm pack` makes a package that installs globally and runs: the tarball is installed into a
 * temporary prefix (offline, from the npm cache), then its `im-attrs` prints its version and
 * reads attributes from the emulator started here. `npm test` builds before the suite runs, so
 * dist/cli/cli.cjs (the bundle the bin runs) is what gets packed.
 *
 * Installing needs every dependency in the npm cache (`npm ci` puts them there). When it is not,
 * the install test is skipped with the reason, never failed: CI without a warm cache stays green.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { emulatorEnv, startTestEmulator, tempDir } from './helpers/cli.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The environment without what `npm test` exports for its own run (prefix, global, …), which would redirect the install. */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_registry']);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_') || keep.has(name.toLowerCase())));
}

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

describe('npm pack', { timeout: 120_000 }, () => {
  const work = tempDir('im-attrs-pack-');
  const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  let packed: PackResult | undefined;
  let whyNot: string | undefined;

  before(async () => {
    if (spawnSync(NPM, ['--version'], { stdio: 'ignore' }).status !== 0) {
      whyNot = 'npm is not on PATH';
      return;
    }
    if (!existsSync(path.join(ROOT, 'dist', 'cli', 'cli.cjs'))) {
      whyNot = 'dist/cli is not built: run npm run build (npm test does)';
      return;
    }
    // --ignore-scripts: `npm test` has just built dist/; prepack's rebuild would rewrite it under the other tests.
    const { stdout } = await run(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', work.dir, '--loglevel=error'], { cwd: ROOT, env: npmEnv() });
    packed = (JSON.parse(stdout) as PackResult[])[0];
  });
  after(() => work.cleanup());

  it('packs bin, the dist/cli bundle, README.md, LICENSE and .imadminrc.example, and no sources, tests or unbundled modules', (t) => {
    if (whyNot) return t.skip(whyNot);
    const files = packed!.files.map((f) => f.path);
    for (const expected of ['bin/im-attrs.js', 'dist/cli/cli.cjs', 'README.md', 'LICENSE', '.imadminrc.example', 'package.json']) {
      assert.ok(files.includes(expected), `${expected} is not in the package`);
    }
    const unexpected = files.filter((f) => /^(src|test|dist\/test|dist\/src)\//.test(f) || f.endsWith('.ts') || f.startsWith('node_modules/'));
    assert.deepEqual(unexpected, []);
  });

  it('installs globally into a prefix and runs --version and get against the emulator', async (t) => {
    if (whyNot) return t.skip(whyNot);
    const prefix = path.join(work.dir, 'prefix');
    const tarball = path.join(work.dir, packed!.filename);
    const install = spawnSync(NPM, ['install', '--global', '--prefix', prefix, tarball, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: work.dir,
      env: npmEnv(),
      encoding: 'utf8',
      timeout: 90_000,
    });
    if (install.status !== 0) {
      const reason = `${install.stderr ?? ''}${install.error?.message ?? ''}`;
      if (/ENOTCACHED|offline|ETIMEDOUT|ENOTFOUND|EAI_AGAIN/i.test(reason) || install.error) {
        return t.skip(`the dependencies are not in the npm cache (npm ci fills it), so an offline install is impossible: ${reason.split('\n')[0]}`);
      }
      assert.fail(`npm install -g failed:\n${reason}`);
    }
    const bin = process.platform === 'win32' ? path.join(prefix, 'im-attrs.cmd') : path.join(prefix, 'bin', 'im-attrs');
    const home = path.join(work.dir, 'home');
    const env = { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };

    const versionRun = await run(bin, ['--version'], { env, cwd: work.dir });
    assert.equal(versionRun.stdout, `${version}\n`);

    const emulator = await startTestEmulator({ seedUsers: 3, rateLimit: 0 });
    try {
      // Asynchronously: the emulator answers from this process's event loop.
      const get = await run(bin, ['get', 'user000001', 'user000003', '--json'], { env: { ...env, ...emulatorEnv(emulator) }, cwd: work.dir });
      assert.equal(
        get.stdout,
        '[\n  {"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"}},\n  {"To_Account":"user000003","Attrs":{"sex":"M","city":"Tokyo","level":"bronze"}}\n]\n',
      );
      assert.deepEqual(
        emulator.requests.map((r) => r.command),
        ['im_get_attr'],
      );
    } finally {
      await emulator.close();
    }
  });
});
