/**
 * The package version, read once from package.json: two levels up from dist/src/ (tests) and
 * from dist/cli/ (the bundle the bin runs, whose chunks all sit in that one folder).
 */
import { readFileSync } from 'node:fs';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
