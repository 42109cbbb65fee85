#!/usr/bin/env node
// Shebang shim: everything lives in src/main.ts; this file only hands it the real process.
import v8 from 'node:v8';

// Favour a small heap over raw speed: the API caps a run at 10,000 accounts/s, far below what the
// client can do, and with V8's default growth a 1,000,000-ID run peaked at 320 MB RSS (160 MB
// with this; measured by `npm run bench`). Set here, before anything big is allocated.
v8.setFlagsFromString('--optimize-for-size');

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
