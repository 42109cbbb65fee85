#!/usr/bin/env node
// Shebang shim: everything lives in src/main.ts; this file only hands it the real process.
let entry;
try {
  entry = await Promise.all([import('../dist/src/main.js'), import('../dist/src/deps.js')]);
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/src/')) throw error;
  process.stderr.write('im-attrs: not built yet: run `npm ci && npm run build` in the repository first\n');
  process.exit(1);
}
const [{ main }, { systemDeps }] = entry;

// `im-attrs get … | head`: the reader went away. That is not an error worth a stack trace;
// stop quietly, like any Unix filter killed by SIGPIPE would.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv, systemDeps());
