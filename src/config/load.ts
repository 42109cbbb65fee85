/**
 * Finding and reading the config file (cosmiconfig, module name `imadmin`).
 *
 * Search order: `--config <path>` or `IMADMIN_CONFIG` when given; otherwise each directory from
 * the current one up to the home directory (or the file-system root when the current directory is
 * not below home), then `$XDG_CONFIG_HOME/imadmin/` (default `~/.config/imadmin/`).
 * We walk the directories ourselves instead of using cosmiconfig's "global" strategy because that
 * one reads the real home directory and environment, which tests could not redirect.
 */
import { statSync } from 'node:fs';
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
  // Parse errors from cosmiconfig's JSON and YAML loaders carry the line and column in the message.
  const message = String(err.message ?? error).split('\n')[0];
  return new ConfigError(`config file ${filepath} is not valid: ${message}`, {
    hint: 'fix the syntax (see .imadminrc.example for the format)',
    cause: error,
  });
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
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig(MODULE_NAME, { searchPlaces: [...SEARCH_PLACES], searchStrategy: 'none', cache: false });
  if (explicitPath !== undefined) {
    const filepath = path.resolve(deps.cwd, explicitPath);
    try {
      // cosmiconfig reports a directory as ENOENT-like noise; say it plainly.
      if (statSync(filepath).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      const result = await explorer.load(filepath);
      return { filepath, data: asObject(filepath, result?.config) };
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw describeLoadError(filepath, error);
    }
  }
  const globalDir = globalConfigDir(deps);
  const globalExplorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: [...GLOBAL_SEARCH_PLACES],
    searchStrategy: 'none',
    cache: false,
  });
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
      try {
        const result = await (dir === globalDir ? globalExplorer : explorer).load(filepath);
        // package.json without an "imadmin" key is not a config file: keep looking.
        if (place === 'package.json' && (result === null || result.config === undefined)) continue;
        return { filepath, data: asObject(filepath, result?.config) };
      } catch (error) {
        throw describeLoadError(filepath, error);
      }
    }
  }
  return undefined;
}
