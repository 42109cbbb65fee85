/**
 * What bin/im-attrs.js runs: main and the real process's deps. `npm run build` bundles this
 * entry into dist/cli/ (esbuild, ESM, split at every lazy import, packages left in
 * node_modules): a few files to load instead of some fifty modules, which is most of what a short
 * command spends over bare node (cold start in `npm run bench`). In-process tests import
 * dist/src; the tests that spawn the bin run the bundle.
 */
export { main } from './main.js';
export { systemDeps } from './deps.js';
