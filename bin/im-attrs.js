#!/usr/bin/env node
// Shebang shim: everything lives in src/main.ts; this file only hands it the real process.
import { main } from '../dist/src/main.js';
import { systemDeps } from '../dist/src/deps.js';

// `im-attrs get … | head`: the reader went away. That is not an error worth a stack trace;
// stop quietly, like any Unix filter killed by SIGPIPE would.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv, systemDeps());
