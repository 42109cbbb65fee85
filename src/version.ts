/**
 * The package version, read once from package.json: two levels up from dist/src/ (tests) and
 * from dist/cli/cli.cjs (the bundle the bin runs, where import.meta.url is its own file URL).
 */
import { readFileSync } from 'node:fs';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
