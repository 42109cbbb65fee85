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
 * - chalk, got, cosmiconfig, ora and hpagent stay in node_modules: they are ESM (or need no
 *   bundling) and load by `import()` only when a command needs them.
 * - commander is bundled; its `require('node:child_process')` (for executable subcommands, which
 *   im-attrs has none of) gets a stub that says so if it is ever called, which saves loading
 *   child_process, net and dgram on every start.
 * - `import.meta.url` (src/version.ts reads package.json beside it) becomes the bundle's own file URL.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const noChildProcess: Plugin = {
  name: 'no-child-process',
  setup(on) {
    on.onResolve({ filter: /^(node:)?child_process$/ }, () => ({ path: 'child_process', namespace: 'stub' }));
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
  external: ['chalk', 'got', 'cosmiconfig', 'ora', 'hpagent'],
  plugins: [noChildProcess],
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
  logLevel: 'warning',
});
