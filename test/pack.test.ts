/**
 * `npm pack` makes a package that installs globally and runs: the tarball is installed into a
 * temporary prefix with `npm install --global`, exactly as the README says, then its `im-attrs`
 * prints its version and reads attributes from the emulator started here, and `man` finds its page.
 * `npm test` builds before the suite runs, so dist/cli/cli.cjs (the bundle the bin runs) is packed.
 *
 * Offline, on a fresh clone after `npm ci`: npm resolves the tarball's dependency ranges from
 * registry documents (packuments) that `npm ci` never fetches (the lock file names exact
 * versions), so `npm install --offline` fails with ENOTCACHED even with every tarball cached.
 * So the install runs against a registry on 127.0.0.1 made here from what the clone has: a
 * packument per package of package-lock.json (its versions, dependencies, engines, bins), and
 * each tarball from the npm cache `npm ci` filled (checked by the lock's integrity), else packed
 * from node_modules. Nothing reaches the internet; nothing is skipped.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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


interface LockEntry {
  version?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, unknown>;
  engines?: unknown;
  os?: string[];
  cpu?: string[];
  bin?: Record<string, string> | string;
}

/** The npm cache's copy of a tarball, found by its integrity (cacache's content-v2 layout). */
function cachedTarball(cache: string, integrity: string | undefined): Buffer | undefined {
  const [algorithm, digest] = integrity?.split('-', 2) ?? [];
  if (!algorithm || !digest) return undefined;
  const hex = Buffer.from(digest, 'base64').toString('hex');
  const file = path.join(cache, '_cacache', 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
  return existsSync(file) ? readFileSync(file) : undefined;
}

/**
 * A registry on 127.0.0.1 serving the packages of the clone's package-lock.json: a packument per
 * name, each tarball from the npm cache (with the lock's integrity), else `npm pack` of the
 * installed copy in node_modules.
 */
async function startLockRegistry(cache: string, packDir: string): Promise<{ url: string; served: string[]; close: () => Promise<void> }> {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const versions = new Map<string, Map<string, { entry: LockEntry; dir: string }>>();
  for (const [location, entry] of Object.entries(lock.packages)) {
    if (!location.startsWith('node_modules/') || entry.link || !entry.version) continue;
    const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!versions.has(name)) versions.set(name, new Map());
    versions.get(name)!.set(entry.version, { entry, dir: path.join(ROOT, location) });
  }
  const served: string[] = [];
  let url = '';
  const tarballOf = (name: string, version: string): Buffer | undefined => {
    const found = versions.get(name)?.get(version);
    if (!found) return undefined;
    const cached = cachedTarball(cache, found.entry.integrity);
    if (cached) return cached;
    if (!existsSync(found.dir)) return undefined;
    const packed = spawnSync(NPM, ['pack', found.dir, '--json', '--ignore-scripts', '--pack-destination', packDir, '--loglevel=error'], { env: npmEnv(), encoding: 'utf8' });
    if (packed.status !== 0) return undefined;
    return readFileSync(path.join(packDir, (JSON.parse(packed.stdout) as PackResult[])[0]!.filename));
  };
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://registry').pathname).slice(1);
    const tarball = /^(.+)\/-\/[^/]+-(\d[^/]*)\.tgz$/.exec(pathname);
    if (tarball) {
      const bytes = tarballOf(tarball[1]!, tarball[2]!);
      if (!bytes) return void res.writeHead(404).end();
      served.push(`${tarball[1]!}@${tarball[2]!}`);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      return void res.end(bytes);
    }
    const known = versions.get(pathname);
    if (!known) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    const docs: Record<string, object> = {};
    for (const [version, { entry }] of known) {
      const inCache = cachedTarball(cache, entry.integrity) !== undefined;
      const { dependencies, optionalDependencies, peerDependencies, peerDependenciesMeta, engines, os, cpu, bin } = entry;
      docs[version] = {
        name: pathname,
        version,
        ...{ dependencies, optionalDependencies, peerDependencies, peerDependenciesMeta, engines, os, cpu, bin },
        // The lock's integrity holds for the cached bytes; a tarball packed here has its own.
        dist: { tarball: `${url}/${pathname}/-/${pathname.split('/').pop()!}-${version}.tgz`, ...(inCache ? { integrity: entry.integrity } : {}) },
      };
    }
    const latest = [...known.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).pop()!;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: pathname, 'dist-tags': { latest }, versions: docs }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    served,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
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

  it('packs bin, the dist/cli bundle, the docs and man page, README.md, LICENSE and .imadminrc.example, and no sources, tests or unbundled modules', (t) => {
    if (whyNot) return t.skip(whyNot);
    const files = packed!.files.map((f) => f.path);
    for (const expected of ['bin/im-attrs.js', 'dist/cli/cli.cjs', 'docs/im-attrs.1', 'docs/reference/im-attrs.md', 'README.md', 'LICENSE', '.imadminrc.example', 'package.json']) {
      assert.ok(files.includes(expected), `${expected} is not in the package`);
    }
    const unexpected = files.filter((f) => /^(src|test|dist\/test|dist\/src)\//.test(f) || f.endsWith('.ts') || f.startsWith('node_modules/'));
    assert.deepEqual(unexpected, []);
  });

  it('installs globally into a prefix, offline, and runs --version, get against the emulator, and man', async (t) => {
    if (whyNot) return t.skip(whyNot);
    const prefix = path.join(work.dir, 'prefix');
    const tarball = path.join(work.dir, packed!.filename);
    const cache = spawnSync(NPM, ['config', 'get', 'cache'], { env: npmEnv(), encoding: 'utf8' }).stdout.trim();
    const registry = await startLockRegistry(cache, work.dir);
    try {
      // Asynchronously: the registry answers from this process's event loop. A cache of its own, so
      // that the user's npm cache gets nothing from this registry.
      await run(
        NPM,
        ['install', '--global', '--prefix', prefix, tarball, '--registry', registry.url, '--cache', path.join(work.dir, 'npm-cache'), '--no-audit', '--no-fund', '--loglevel=error'],
        { cwd: work.dir, env: { ...npmEnv(), NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' }, timeout: 90_000 },
      ).catch((error: { stderr?: string; message: string }) => assert.fail(`npm install -g failed:\n${error.stderr ?? error.message}`));
    } finally {
      await registry.close();
    }
    for (const dependency of ['chalk', 'commander', 'cosmiconfig', 'got', 'hpagent', 'ora']) {
      assert.ok(registry.served.some((p) => p.startsWith(`${dependency}@`)), `${dependency} was not installed from the local registry`);
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

    // package.json's "man": npm links the page into the prefix, where man finds it.
    assert.ok(existsSync(path.join(prefix, 'share', 'man', 'man1', 'im-attrs.1')), 'the man page is not installed');
    const man = await run('man', ['im-attrs'], { env: { ...env, MANPATH: path.join(prefix, 'share', 'man'), MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80' } });
    assert.match(man.stdout, /^ {3}im-attrs push send$/m);
  });
});
