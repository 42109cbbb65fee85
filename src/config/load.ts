/**
 * Finding and reading the config file (cosmiconfig, module name `imadmin`).
 *
 * Search order: `--config <path>` or `IMADMIN_CONFIG` when given; otherwise each directory from
 * the current one up to the home directory (or the file-system root when the current directory is
 * not below home), then `$XDG_CONFIG_HOME/imadmin/` (default `~/.config/imadmin/`).
 * We walk the directories ourselves instead of using cosmiconfig's "global" strategy because that
 * one reads the real home directory and environment, which tests could not redirect.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, fstatSync, openSync, readFileSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { describeType } from '../util/fs.js';
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

/**
 * Whose file it is (README "Security model"): `explicit` was named with --config or
 * IMADMIN_CONFIG; `own` is in the home directory itself or the user's config folder; `project`
 * was found walking up from the current directory, so anyone who wrote that tree may have put it
 * there.
 */
export type ConfigKind = 'explicit' | 'own' | 'project';

export interface LoadedConfigFile {
  filepath: string;
  /** The parsed object (empty object for an empty file). */
  data: Record<string, unknown>;
  kind: ConfigKind;
  /** SHA-256 of the file's bytes, hex: what `config trust` records. */
  sha256: string;
  /** The file's real path (symlinks resolved): the key of the trust list. */
  realpath: string;
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

/** A config file larger than this is refused: real ones are a few hundred bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Extensions of config files that are code: they load only from the user's own folder or --config. */
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/**
 * The bytes of a config file, read without following it anywhere it could hang or grow: opened
 * non-blocking (a FIFO with no writer would block open()), checked to be a regular file owned by
 * the user, and read up to MAX_CONFIG_BYTES (a file that grows while read stops there).
 */
function readConfigBytes(deps: Pick<Deps, 'uid'>, filepath: string): { bytes: Buffer; stat: Stats } {
  const fd = openSync(filepath, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!stat.isFile()) {
      throw new ConfigError(`config file ${filepath} is ${describeType(stat)}, not a regular file`, {
        hint: 'point --config at a file such as .imadminrc',
      });
    }
    if (deps.uid !== undefined && stat.uid !== deps.uid) {
      throw new ConfigError(`config file ${filepath} belongs to another user (uid ${stat.uid}); im-attrs reads only config files you own`, {
        hint: `read it, then copy it to a file of yours: cp ${filepath} ~/.config/imadmin/config.json`,
      });
    }
    if (stat.size > MAX_CONFIG_BYTES) throw tooLarge(filepath);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_CONFIG_BYTES) throw tooLarge(filepath);
      chunks.push(chunk.subarray(0, n));
    }
    return { bytes: Buffer.concat(chunks), stat };
  } finally {
    closeSync(fd);
  }
}

function tooLarge(filepath: string): ConfigError {
  return new ConfigError(`config file ${filepath} is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MB`, {
    hint: 'a config file holds a few settings: point --config at the right file',
  });
}

/**
 * Reads one config file: JSON.parse for a .json file that parses, else cosmiconfig's loaders,
 * chosen by extension (none: YAML, which also reads JSON). Not through cosmiconfig(): building
 * an explorer reads the package.json and .config/ of process.cwd() (cosmiconfig's "meta
 * config"), which is not deps.cwd and can break or redirect the run. Empty file: undefined. package.json: its "imadmin" key.
 * A JavaScript file runs only when `kind` allows it (see the README's "Security model").
 */
async function readConfig(
  deps: Pick<Deps, 'uid' | 'env' | 'homeDir'>,
  filepath: string,
  kind: ConfigKind,
  runCode = true,
): Promise<{ config: unknown; sha256: string }> {
  const { bytes, stat } = readConfigBytes(deps, filepath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const content = bytes.toString('utf8');
  if (content.trim() === '') return { config: undefined, sha256 };
  const ext = path.extname(filepath);
  if (JS_EXTENSIONS.has(ext)) {
    if (!runCode) throw new ConfigError(`${filepath} is a JavaScript config; it is not run here (shell completion never runs one)`);
    checkCodeFile(deps, filepath, kind, stat);
  }
  const config = (ext === '.json' ? parseJson(content) : undefined) ?? (await loadWithCosmiconfig(filepath, ext, content));
  if (path.basename(filepath) !== 'package.json') return { config: config.value, sha256 };
  const value = config.value;
  return { config: value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[MODULE_NAME] : undefined, sha256 };
}

/**
 * A JSON file (package.json, .imadminrc.json) that JSON.parse reads: its value, wrapped so that
 * `null` stays a value. Most runs meet a project's package.json on the way up and this keeps them
 * from loading cosmiconfig's loaders (parse-json, @babel/code-frame and more: a tenth of the
 * start-up of `get alice`); invalid JSON goes on to cosmiconfig's loader, for its message.
 */
function parseJson(content: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(content) as unknown };
  } catch {
    return undefined;
  }
}

async function loadWithCosmiconfig(filepath: string, ext: string, content: string): Promise<{ value: unknown }> {
  const { defaultLoaders } = await import('cosmiconfig');
  const loader = defaultLoaders[ext as keyof typeof defaultLoaders] ?? defaultLoaders.noExt;
  return { value: (await loader(filepath, content)) as unknown };
}

/** A JS config is code: only the user's own folder or --config, and never one others can change. */
function checkCodeFile(deps: Pick<Deps, 'env' | 'homeDir'>, filepath: string, kind: ConfigKind, stat: Stats): void {
  if (kind === 'project') {
    throw new ConfigError(`${filepath} is a JavaScript config in a project directory; im-attrs does not run it`, {
      hint: `JavaScript configs load only from ${globalConfigDir(deps)} or with --config; use .imadminrc (JSON or YAML) here`,
    });
  }
  if (process.platform !== 'win32' && stat.mode & 0o022) {
    throw new ConfigError(`${filepath} is a JavaScript config that others can change (mode ${(stat.mode & 0o777).toString(8)}); im-attrs does not run it`, {
      hint: `make it yours alone: chmod go-w ${filepath}`,
    });
  }
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

function realpathOf(filepath: string): string {
  try {
    return realpathSync(filepath);
  } catch {
    return filepath;
  }
}

/**
 * Loads the config file: the explicit one when `explicitPath` is given (an error when it cannot
 * be read), else the first one found by the search. Returns undefined when there is none.
 */
export async function loadConfigFile(
  deps: Pick<Deps, 'env' | 'homeDir' | 'cwd' | 'uid'>,
  explicitPath: string | undefined,
  { runCode = true }: { runCode?: boolean } = {},
): Promise<LoadedConfigFile | undefined> {
  // cosmiconfig (and its YAML/TS loaders) is only loaded by commands that need configuration.
  if (explicitPath !== undefined) {
    const filepath = path.resolve(deps.cwd, explicitPath);
    try {
      const { config, sha256 } = await readConfig(deps, filepath, 'explicit', runCode);
      return { filepath, data: asObject(filepath, config), kind: 'explicit', sha256, realpath: realpathOf(filepath) };
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw describeLoadError(filepath, error);
    }
  }
  const globalDir = globalConfigDir(deps);
  const home = path.resolve(deps.homeDir);
  for (const dir of searchDirectories(deps)) {
    const places = dir === globalDir ? GLOBAL_SEARCH_PLACES : SEARCH_PLACES;
    const kind: ConfigKind = dir === globalDir || dir === home ? 'own' : 'project';
    for (const place of places) {
      const filepath = path.join(dir, place);
      let isFile = false;
      try {
        const stat = statSync(filepath);
        // A FIFO or device where a config file would be is said, not skipped (nor read: it could hang).
        isFile = stat.isFile() || (!stat.isDirectory() && place !== 'package.json');
      } catch {
        continue;
      }
      if (!isFile) continue;
      let loaded: { config: unknown; sha256: string };
      try {
        // JS in home is not the user's config folder: it is treated like a project file.
        const codeKind = kind === 'own' && dir === home && JS_EXTENSIONS.has(path.extname(place)) ? 'project' : kind;
        loaded = await readConfig(deps, filepath, codeKind, runCode);
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        throw describeLoadError(filepath, error);
      }
      // package.json without an "imadmin" key is not a config file: keep looking.
      if (place === 'package.json' && loaded.config === undefined) continue;
      return { filepath, data: asObject(filepath, loaded.config), kind, sha256: loaded.sha256, realpath: realpathOf(filepath) };
    }
  }
  return undefined;
}
