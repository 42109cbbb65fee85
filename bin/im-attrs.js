#!/usr/bin/env node
// Shebang shim: everything lives in src/main.ts; this file only hands it the real process.
import { main } from '../dist/src/main.js';
import { systemDeps } from '../dist/src/deps.js';

process.exitCode = await main(process.argv, systemDeps());
