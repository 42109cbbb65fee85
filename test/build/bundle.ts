/**
 * `npm run build`, after tsc: bundles dist/src/cli.js, with commander, into one CommonJS file,
 * dist/cli/cli.cjs, which bin/im-attrs.js requires. The package ships it (not dist/src).
 *
 * Why one CommonJS file. Node 20's ESM loader resolves, reads, translates and links every module
 * one by one: split into ESM chunks at each lazy import (the bundle before), `get alice` still
 * loaded some twenty of them, and that loader was the largest part of a short command's profile.
 * One file that `require` reads and V8 parses lazily took, in whole-process timing of alternated
 * pairs (31-51 pairs each, 2026-12-03): `get alice` against the loopback emulator 0.86× the time of
 * the ESM chunks, `--help` 1.01×, `get --help` 0.92×.
 *
 * - chalk, got, cosmiconfig, ora and hpagent stay in node_modules and load by `import()` only when a
 *   command needs them. The build fails on any other import of them: chalk, got and ora are ESM
 *   only, and the `require()` a static import becomes here loads ESM only from Node 20.19 on.
 * - commander is bundled; its `require('node:child_process')` (for executable subcommands, which
 *   im-attrs has none of) gets a stub that says so if it is ever called, which saves loading
 *   child_process, net and dgram on every start. Only commander's: the build fails on any other.
 * - `import.meta.url` (src/version.ts reads package.json two levels up, as it lies in the package)
 *   becomes the bundle's own file URL; the banner that defines it keeps "use strict" first.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Packages left in node_modules, loaded only by `import()`. */
const LAZY_PACKAGES = /^(chalk|got|cosmiconfig|ora|hpagent)(\/.*)?$/;

const lazyPackages: Plugin = {
  name: 'lazy-packages',
  setup(on) {
    on.onResolve({ filter: LAZY_PACKAGES }, (args) =>
      args.kind === 'dynamic-import'
        ? { path: args.path, external: true }
        : { errors: [{ text: `${args.path} is imported statically by ${path.relative(root, args.importer)}: load it with import() where it is needed (see test/build/bundle.ts)` }] },
    );
  },
};

const commanderChildProcess: Plugin = {
  name: 'commander-child-process',
  setup(on) {
    on.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.split(path.sep).join('/').includes('/node_modules/commander/')
        ? { path: 'child_process', namespace: 'stub' }
        : { errors: [{ text: `child_process is stubbed for commander only, and ${path.relative(root, args.importer)} imports it: see test/build/bundle.ts` }] },
    );
    on.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: "const none = () => { throw new Error('im-attrs bundles no child_process'); };\nmodule.exports = { spawn: none, execFile: none, exec: none, fork: none };",
      loader: 'js',
    }));
  },
};

rmSync(path.join(root, 'dist/cli'), { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist/src/cli.js')],
  outfile: path.join(root, 'dist/cli/cli.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  plugins: [lazyPackages, commanderChildProcess],
  banner: { js: "'use strict';\nconst __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
  logLevel: 'warning',
});
