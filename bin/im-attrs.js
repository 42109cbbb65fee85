#!/usr/bin/env node
// Shebang shim: everything lives in src/main.ts; this file only hands it the real process.
// dist/cli/cli.cjs is the bundle of dist/src/cli.js that `npm run build` makes (see
// test/build/bundle.ts): one CommonJS file, read with require.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let entry;
try {
  entry = require('../dist/cli/cli.cjs');
} catch (error) {
  // Only when the bundle itself is missing: a missing package required by it is another story.
  const missing = /Cannot find module '([^']*)'/.exec(String(error?.message))?.[1]?.replaceAll('\\', '/');
  if (error?.code !== 'MODULE_NOT_FOUND' || !missing?.endsWith('/dist/cli/cli.cjs')) throw error;
  process.stderr.write('im-attrs: not built yet: run `npm ci && npm run build` in the repository first\n');
  process.exit(1);
}
const { main, systemDeps } = entry;

// A UserSig given as --usersig is readable by every user in /proc/PID/cmdline (ps) for as long as
// the run lasts (a long write lasts minutes): retitle the process at once. On Linux libuv writes
// the title over the whole argument area, so the UserSig is there for the first milliseconds only.
// The warning about --usersig still stands: it is in the shell's history, and briefly in ps.
if (process.argv.some((arg) => arg === '--usersig' || arg.startsWith('--usersig='))) process.title = 'im-attrs';

// A write error on stdout outside a batch run (which watches stdout itself, saves what was not
// printed and reports it): `… | head` is the reader's choice, stop quietly like any Unix filter
// killed by SIGPIPE; anything else (a full disk) is said plainly, without a stack trace.
process.stdout.on('error', (error) => {
  if (process.stdout.listenerCount('error') > 1) return;
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`im-attrs: cannot write the output: ${error.code ?? error.message}\n`);
  process.exit(1);
});

process.exitCode = await main(process.argv, systemDeps());
