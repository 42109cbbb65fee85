/**
 * Finding and reading the config file (cosmiconfig, module name `imadmin`).
 *
 * Search order: `--config <path>` or `IMADMIN_CONFIG` when given; otherwise each directory from
 * the current one up to the home directory (or the file-system root when the current directory is
 * not below home), then `$XDG_CONFIG_HOME/imadmin/` (default `~/.config/imadmin/`).
 * We walk the directories ourselves instead of using cosmiconfig's "global" strategy because that
 * one reads the real home directory and environment, which tests could not redirect.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Deps } from '../deps.js';

export const MODULE_NAME = 'imadmin';

/** Per-directory file names, in the order they are tried. */
export const SEARCH_PLACES = [
  'package.json',
  '.imadminrc',
  '.imadminrc.json',
  '.imadminrc.yaml',
  '.imadminrc.yml',
  'imadmin.config.js',
  'imadmin.config.mjs',
] as const;

/** File names tried in the user-wide directory `~/.config/imadmin/`. */
export const GLOBAL_SEARCH_PLACES = ['config', 'config.json', 'config.yaml', 'config.yml', 'config.js', 'config.mjs'] as const;

export interface LoadedConfigFile {
  filepath: string;
  /** The parsed object (empty object for an empty file). */
  data: Record<string, unknown>;
}

/** The user-wide config directory: `$XDG_CONFIG_HOME/imadmin` or `~/.config/imadmin`. */
export function globalConfigDir(deps: Pick<Deps, 'env' | 'homeDir'>): string {
  const base = deps.env.XDG_CONFIG_HOME || path.join(deps.homeDir, '.config');
  return path.join(base, MODULE_NAME);
}

/** Directories searched, nearest first. */
export function searchDirectories(deps: Pick<Deps, 'env' | 'homeDir' | 'cwd'>): string[] {
  const dirs: string[] = [];
  const stop = path.resolve(deps.homeDir);
  let dir = path.resolve(deps.cwd);
  for (;;) {
    dirs.push(dir);
    if (dir === stop) break;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  dirs.push(globalConfigDir(deps));
  return dirs;
}

function describeLoadError(filepath: string, error: unknown): ConfigError {
  const err = error as NodeJS.ErrnoException & { mark?: { line: number; column: number } };
  if (err.code === 'ENOENT') {
    return new ConfigError(`config file ${filepath} does not exist`, {
      hint: 'check the path given with --config or IMADMIN_CONFIG',
    });
  }
  if (err.code === 'EISDIR') {
    return new ConfigError(`config file ${filepath} is a directory, not a file`, {
      hint: 'point --config at a file such as .imadminrc',
    });
  }
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new ConfigError(`config file ${filepath} cannot be read: permission denied`, {
      hint: `make it readable by you: chmod 600 ${filepath}`,
    });
  }
  // No `cause`: --debug prints the cause's stack, and a parse error's message quotes the file,
  // which may hold a secret key.
  return new ConfigError(`config file ${filepath} is not valid: ${parseErrorDetail(filepath, error)}`, {
    hint: 'fix the syntax (see .imadminrc.example for the format)',
  });
}

/**
 * The reason and position of a parse error, without the excerpt of the file that the loaders put
 * in their messages (js-yaml's snippet, parse-json's code frame and "while parsing '…'").
 */
function parseErrorDetail(filepath: string, error: unknown): string {
  const err = error as { reason?: unknown; mark?: { line: number; column: number }; message?: unknown };
  // js-yaml (.yaml, .yml, and files without an extension): a reason and a 0-based mark.
  if (typeof err.reason === 'string' && err.mark) {
    return `${err.reason} at line ${err.mark.line + 1}, column ${err.mark.column + 1}`;
  }
  const message = String(err.message ?? error);
  // parse-json (.json, package.json): "<reason> in JSON at position <n> while parsing '<excerpt>'".
  const json = /([^\n]*?) in JSON at position (\d+)/.exec(message);
  if (json) {
    let before = '';
    try {
      before = readFileSync(filepath, 'utf8').slice(0, Number(json[2]));
    } catch {
      // Unreadable since it was parsed: report line 1 rather than fail while reporting.
    }
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    return `${json[1]} at line ${line}, column ${column}`;
  }
  // Anything else (truncated JSON, a JS syntax error, an error thrown by a .js config): its first
  // line that is not the loader's "JSON Error in <path>:" header or part of a code frame.
  const lines = message
    .replace(/^(?:JSON|YAML) Error in [^\n]*:/, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^>?\s*\d*\s*\|/.test(l));
  return (lines[0] ?? 'it cannot be parsed').replace(/ while parsing .*$/, '');
}

/**
 * Reads one config file with cosmiconfig's loaders, chosen by extension (none: YAML, which also
 * reads JSON). Not through cosmiconfig(): building an explorer reads the package.json and
 * .config/ of process.cwd() (cosmiconfig's "meta config"), which is not deps.cwd and can break
 * or redirect the run. Empty file: undefined. package.json: its "imadmin" key.
 */
async function readConfig(filepath: string): Promise<unknown> {
  const { defaultLoaders } = await import('cosmiconfig');
  const content = readFileSync(filepath, 'utf8');
  if (content.trim() === '') return undefined;
  const ext = path.extname(filepath);
  const loader = defaultLoaders[ext as keyof typeof defaultLoaders] ?? defaultLoaders.noExt;
  const config: unknown = await loader(filepath, content);
  if (path.basename(filepath) !== 'package.json') return config;
  return config !== null && typeof config === 'object' ? (config as Record<string, unknown>)[MODULE_NAME] : undefined;
}

function asObject(filepath: string, value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`config file ${filepath} must hold an object of settings, not ${Array.isArray(value) ? 'an array' : typeof value}`, {
      hint: 'see .imadminrc.example for the format',
    });
  }
  return value as Record<string, unknown>;
}

/**
 * Loads the config file: the explicit one when `explicitPath` is given (an error when it cannot
 * be read), else the first one found by the search. Returns undefined when there is none.
 */
export async function loadConfigFile(
  deps: Pick<Deps, 'env' | 'homeDir' | 'cwd'>,
  explicitPath: string | undefined,
): Promise<LoadedConfigFile | undefined> {
  // cosmiconfig (and its YAML/TS loaders) is only loaded by commands that need configuration.
  if (explicitPath !== undefined) {
    const filepath = path.resolve(deps.cwd, explicitPath);
    try {
      // cosmiconfig reports a directory as ENOENT-like noise; say it plainly.
      if (statSync(filepath).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      return { filepath, data: asObject(filepath, await readConfig(filepath)) };
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw describeLoadError(filepath, error);
    }
  }
  const globalDir = globalConfigDir(deps);
  for (const dir of searchDirectories(deps)) {
    const places = dir === globalDir ? GLOBAL_SEARCH_PLACES : SEARCH_PLACES;
    for (const place of places) {
      const filepath = path.join(dir, place);
      let isFile = false;
      try {
        isFile = statSync(filepath).isFile();
      } catch {
        continue;
      }
      if (!isFile) continue;
      let config: unknown;
      try {
        config = await readConfig(filepath);
      } catch (error) {
        throw describeLoadError(filepath, error);
      }
      // package.json without an "imadmin" key is not a config file: keep looking.
      if (place === 'package.json' && config === undefined) continue;
      return { filepath, data: asObject(filepath, config) };
    }
  }
  return undefined;
}
