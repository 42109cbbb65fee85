#!/usr/bin/env node
// Shebang shim: everything lives in src/main.ts; this file only hands it the real process.
// dist/cli is the bundle of dist/src/cli.js that `npm run build` makes (see src/cli.ts).
let entry;
try {
  entry = await import('../dist/cli/cli.js');
} catch (error) {
  // Only when the bundle itself is missing: a missing package imported by it is another story.
  const missing = /Cannot find module '([^']*)'/.exec(String(error?.message))?.[1]?.replaceAll('\\', '/');
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !missing?.endsWith('/dist/cli/cli.js')) throw error;
  process.stderr.write('im-attrs: not built yet: run `npm ci && npm run build` in the repository first\n');
  process.exit(1);
}
const { main, systemDeps } = entry;

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
