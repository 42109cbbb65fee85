/**
 * What bin/im-attrs.js runs: main and the real process's deps. `npm run build` bundles this
 * entry, with commander, into one CommonJS file, dist/cli/cli.cjs (test/build/bundle.ts says
 * why): one file to read instead of some fifty modules, which is most of what a short command
 * spends over bare node (cold start in `npm run bench`). In-process tests import dist/src; the
 * tests that spawn the bin run the bundle.
 */
export { main } from './main.js';
export { systemDeps } from './deps.js';
