/**
 * Resolving settings: flags > IMADMIN_* environment > selected profile > top-level file keys >
 * defaults. Every value remembers where it came from so an error can say "sdkAppId "abc" (from
 * IMADMIN_SDKAPPID) is not a number" instead of leaving the user to guess which layer won.
 */
import { ConfigError } from '../errors.js';
import { maskUrlPassword } from '../redact.js';
import { isLoopbackHost } from '../util/net.js';
import { didYouMean } from '../util/suggest.js';

export { isLoopbackHost } from '../util/net.js';
import { describeRegions, findRegion, type Region } from './regions.js';
import type { LoadedConfigFile } from './load.js';

/** Keys a config file (or a profile inside it) may hold. */
export const SETTING_KEYS = [
  'region',
  'sdkAppId',
  'identifier',
  'userSig',
  'secretKey',
  'endpoint',
  'output',
  'usersigTtl',
  'timeout',
  'api',
  'rate',
  'pushEdition',
  'callbackToken',
  'journalDays',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** Top-level keys that are not settings. */
const FILE_ONLY_KEYS = ['profiles', 'defaultProfile', '$schema'] as const;

/** Environment variable for each setting (the secret key is never a flag, only env or file). */
export const ENV_VARS: Readonly<Record<SettingKey, string>> = {
  region: 'IMADMIN_REGION',
  sdkAppId: 'IMADMIN_SDKAPPID',
  identifier: 'IMADMIN_IDENTIFIER',
  userSig: 'IMADMIN_USERSIG',
  secretKey: 'IMADMIN_SECRET_KEY',
  endpoint: 'IMADMIN_ENDPOINT',
  output: 'IMADMIN_OUTPUT',
  usersigTtl: 'IMADMIN_USERSIG_TTL',
  timeout: 'IMADMIN_TIMEOUT',
  api: 'IMADMIN_API',
  rate: 'IMADMIN_RATE',
  pushEdition: 'IMADMIN_PUSH_EDITION',
  callbackToken: 'IMADMIN_CALLBACK_TOKEN',
  journalDays: 'IMADMIN_JOURNAL_DAYS',
};

/** Flag for each setting that has one. */
export const FLAG_NAMES: Partial<Record<SettingKey, string>> = {
  region: '--region',
  sdkAppId: '--sdkappid',
  identifier: '--identifier',
  userSig: '--usersig',
  endpoint: '--endpoint',
  timeout: '--timeout',
  api: '--api',
};

export type Source =
  | { kind: 'flag'; name: string }
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string; profile?: string | undefined }
  | { kind: 'default' };

export interface Sourced<T> {
  value: T;
  source: Source;
  /** A file value that pulled in an environment variable with ${NAME} (the trust model counts it). */
  expanded?: boolean;
}

/** "flag --region", "env IMADMIN_REGION", "/home/me/.imadminrc, profile \"prod\"", "default". */
export function describeSource(source: Source): string {
  switch (source.kind) {
    case 'flag':
      return `flag ${source.name}`;
    case 'env':
      return `env ${source.name}`;
    case 'file':
      return source.profile === undefined ? source.path : `${source.path}, profile "${source.profile}"`;
    case 'default':
      return 'default';
  }
}

/** Global flags as commander parses them. */
export interface GlobalFlags {
  region?: string | undefined;
  sdkappid?: string | undefined;
  identifier?: string | undefined;
  usersig?: string | undefined;
  endpoint?: string | undefined;
  profile?: string | undefined;
  config?: string | undefined;
  timeout?: string | undefined;
  api?: string | undefined;
}

/** Global flags: the root command's options (program.opts()), never a command's own. */
export interface GlobalOptions extends GlobalFlags {
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
  color?: 'auto' | 'always' | 'never';
  ca?: string;
  usersigFile?: string;
}

/** The raw, unvalidated winner for every key, plus what was loaded. */
export interface Settings {
  values: Partial<Record<SettingKey, Sourced<string>>>;
  file: LoadedConfigFile | undefined;
  profile: Sourced<string> | undefined;
  /** Profile names defined in the file. */
  profiles: string[];
  /**
   * Keys of the selected profile that an IMADMIN_* variable overrides, with the warning to give:
   * the precedence stays, but it is said (a variable left exported from another session, the
   * emulator's say, would otherwise quietly win over the profile the user just chose). Whoever
   * uses the key gives the warning (Runtime for the keys every API command uses, `get` for `output`).
   */
  overrides: Map<SettingKey, string>;
}

export interface ResolveContext {
  env: Readonly<Record<string, string | undefined>>;
  warn: (message: string) => void;
}

/** A `${NAME}` reference to an environment variable in a config value. */
export const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The only variables a project config file (README "Security model") may refer to. */
const PROJECT_ENV_PREFIX = 'IMADMIN_';

/** Profile names that are keys of every object: never a profile, whatever the file says. */
function isPrototypeKey(name: string): boolean {
  return name === '__proto__' || name === 'prototype' || name in Object.prototype;
}

/**
 * Replaces `${NAME}` with the environment variable, so a file can reference secrets it does not
 * hold. A project file may only name IMADMIN_* variables: a cloned repository must not be able
 * to send $AWS_SECRET_ACCESS_KEY anywhere.
 */
function expandEnv(text: string, key: string, source: Source, env: ResolveContext['env'], projectFile: boolean): string {
  return text.replace(ENV_REFERENCE, (_whole, name: string) => {
    if (projectFile && !name.startsWith(PROJECT_ENV_PREFIX)) {
      throw new ConfigError(`${key} (from ${describeSource(source)}) refers to \${${name}}; a project config file may only refer to IMADMIN_* variables`, {
        hint: 'use an IMADMIN_* variable, or move the setting to your own ~/.config/imadmin/config.json',
      });
    }
    const value = env[name];
    if (value === undefined) {
      throw Object.assign(
        new ConfigError(`${key} (from ${describeSource(source)}) refers to \${${name}}, which is not set`, {
          hint: `export ${name}=… before running im-attrs, or put the value in the file`,
        }),
        { unsetVariable: name },
      );
    }
    return value;
  });
}

function fileValue(raw: unknown, key: string, source: Source, env: ResolveContext['env'], projectFile = false): string {
  if (typeof raw === 'number' && (key === 'sdkAppId' || key === 'timeout' || key === 'usersigTtl' || key === 'rate' || key === 'journalDays')) return String(raw);
  if (typeof raw !== 'string') {
    const kind = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw;
    throw new ConfigError(`${key} (from ${describeSource(source)}) must be a string, not ${kind}`, {
      hint: 'see .imadminrc.example for the type of each key',
    });
  }
  return expandEnv(raw, key, source, env, projectFile);
}

/**
 * A file setting, remembering whether it pulled in the environment. A `${NAME}` whose variable is
 * not set fails only the command that reads this key (issue 14: `usersig gen --secret-key-file -`
 * or `--usersig SIG get` must not need the secret key's variable): reading `value` throws the
 * error naming the variable and the key. The other rules (a project file may only refer to
 * IMADMIN_* variables, value types) still fail at once.
 */
function fileSetting(raw: unknown, key: string, source: Source, env: ResolveContext['env'], projectFile: boolean): Sourced<string> {
  const expanded = typeof raw === 'string' && /\$\{[A-Za-z_]/.test(raw);
  let value: string;
  try {
    value = fileValue(raw, key, source, env, projectFile);
  } catch (error) {
    if (!(error instanceof ConfigError && 'unsetVariable' in error)) throw error;
    return {
      get value(): string {
        throw error;
      },
      source,
      expanded: true,
    };
  }
  return expanded ? { value, source, expanded: true } : { value, source };
}

/** A setting's value, or undefined when it is not set or cannot be read (an unset ${NAME}). */
export function valueIfReadable(setting: Sourced<string> | undefined): string | undefined {
  try {
    return setting?.value;
  } catch {
    return undefined;
  }
}

function checkKeys(obj: Record<string, unknown>, where: string, allowed: readonly string[], warn: ResolveContext['warn']): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      warn(`unknown key "${key}" in ${where}${didYouMean(key, allowed)}; it is ignored`);
    }
  }
}

/**
 * Whether a file value (after ${NAME} expansion) equals `value`. A file value that cannot be read
 * (an unset ${NAME}, a wrong type) equals nothing, and is no error here: it is not used.
 */
function sameValue(raw: unknown, value: string, key: string, source: Source, env: ResolveContext['env']): boolean {
  try {
    return fileValue(raw, key, source, env) === value;
  } catch {
    return false;
  }
}

/**
 * Collects every setting from flags, env and file, without validating the values yet. Warns when
 * an IMADMIN_* variable overrides a different value in the selected profile.
 */
export function collectSettings(flags: GlobalFlags, file: LoadedConfigFile | undefined, ctx: ResolveContext): Settings {
  const { env } = ctx;
  const values: Settings['values'] = {};
  const overrides: Settings['overrides'] = new Map();
  const data = file?.data ?? {};
  const profilesRaw = data.profiles;
  if (profilesRaw !== undefined && (typeof profilesRaw !== 'object' || profilesRaw === null || Array.isArray(profilesRaw))) {
    throw new ConfigError(`profiles in ${file?.filepath} must be an object of named profiles`, {
      hint: 'e.g. "profiles": { "prod": { "region": "sgp", … } }',
    });
  }
  const profiles = (profilesRaw ?? {}) as Record<string, unknown>;
  const profileNames = Object.keys(profiles);
  const projectFile = file?.kind === 'project';
  if (file) {
    checkKeys(data, file.filepath, [...SETTING_KEYS, ...FILE_ONLY_KEYS], ctx.warn);
  }

  let profile: Sourced<string> | undefined;
  if (flags.profile !== undefined) profile = { value: flags.profile, source: { kind: 'flag', name: '--profile' } };
  else if (env.IMADMIN_PROFILE) profile = { value: env.IMADMIN_PROFILE, source: { kind: 'env', name: 'IMADMIN_PROFILE' } };
  else if (typeof data.defaultProfile === 'string' && file) {
    profile = { value: data.defaultProfile, source: { kind: 'file', path: file.filepath } };
  }

  let profileData: Record<string, unknown> = {};
  if (profile && isPrototypeKey(profile.value)) {
    throw new ConfigError(`"${profile.value}" (from ${describeSource(profile.source)}) is not a valid profile name`, {
      hint: 'profile names are your own words, such as prod or staging',
    });
  }
  if (profile) {
    if (!file) {
      throw new ConfigError(`profile "${profile.value}" (from ${describeSource(profile.source)}) was asked for, but no config file was found`, {
        hint: 'create .imadminrc (see .imadminrc.example) or point --config at it',
      });
    }
    const found = Object.hasOwn(profiles, profile.value) ? profiles[profile.value] : undefined;
    if (found === undefined) {
      const known = profileNames.length ? `known profiles: ${profileNames.join(', ')}` : 'the file defines no profiles';
      throw new ConfigError(`unknown profile "${profile.value}" (from ${describeSource(profile.source)}) in ${file.filepath}${didYouMean(profile.value, profileNames)}`, {
        hint: known,
      });
    }
    if (typeof found !== 'object' || found === null || Array.isArray(found)) {
      throw new ConfigError(`profile "${profile.value}" in ${file.filepath} must be an object of settings`);
    }
    profileData = found as Record<string, unknown>;
    checkKeys(profileData, `profile "${profile.value}" of ${file.filepath}`, SETTING_KEYS, ctx.warn);
  }

  for (const key of SETTING_KEYS) {
    const flagName = FLAG_NAMES[key];
    const flagKey = flagName?.slice(2) as keyof GlobalFlags | undefined;
    const flagValue = flagKey === undefined ? undefined : flags[flagKey];
    if (flagValue !== undefined && flagName !== undefined) {
      values[key] = { value: flagValue, source: { kind: 'flag', name: flagName } };
      continue;
    }
    const envValue = env[ENV_VARS[key]];
    if (envValue !== undefined && envValue !== '') {
      values[key] = { value: envValue, source: { kind: 'env', name: ENV_VARS[key] } };
      if (file && profile && profileData[key] !== undefined) {
        const source: Source = { kind: 'file', path: file.filepath, profile: profile.value };
        if (!sameValue(profileData[key], envValue, key, source, env)) {
          overrides.set(key, `${ENV_VARS[key]} overrides ${key} of profile "${profile.value}" (${file.filepath}); unset it to use the profile's value`);
        }
      }
      continue;
    }
    if (file && profile && profileData[key] !== undefined) {
      const source: Source = { kind: 'file', path: file.filepath, profile: profile.value };
      values[key] = fileSetting(profileData[key], key, source, env, projectFile);
      continue;
    }
    if (file && data[key] !== undefined) {
      const source: Source = { kind: 'file', path: file.filepath };
      values[key] = fileSetting(data[key], key, source, env, projectFile);
    }
  }

  return { values, file, profile, profiles: profileNames, overrides };
}

/** A value that must be present, with a config error naming every way to set it. */
export function requireSetting(settings: Settings, key: SettingKey, what: string): Sourced<string> {
  const found = settings.values[key];
  if (found !== undefined && found.value.trim() !== '') return found;
  const ways = [FLAG_NAMES[key] && `the ${FLAG_NAMES[key]} flag`, `the ${ENV_VARS[key]} variable`, `"${key}" in .imadminrc`]
    .filter(Boolean)
    .join(', ');
  throw new ConfigError(`${what} is not configured`, { hint: `set it with ${ways} (see .imadminrc.example)` });
}

export function parseRegion(value: Sourced<string>): Region {
  const region = findRegion(value.value);
  if (!region) {
    throw new ConfigError(`unknown region "${value.value}" (from ${describeSource(value.source)})`, {
      hint: `valid regions: ${describeRegions()}`,
    });
  }
  return region;
}

/** SDKAppIDs are positive integers (1400000000 and up in practice). */
export function parseSdkAppId(value: Sourced<string>): number {
  const text = value.value.trim();
  if (!/^[0-9]+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) {
    throw new ConfigError(`sdkAppId "${value.value}" (from ${describeSource(value.source)}) is not a number`, {
      hint: 'use the numeric SDKAppID from the Chat console, e.g. 1400123456',
    });
  }
  return Number(text);
}

/** Checks an endpoint override and returns its origin-plus-path without a trailing slash. */
export function parseEndpoint(value: Sourced<string>): string {
  // Every message shows the endpoint without its password (a proxy URL may carry one).
  const shown = `endpoint "${maskUrlPassword(value.value)}" (from ${describeSource(value.source)})`;
  let url: URL;
  try {
    url = new URL(value.value.trim());
  } catch {
    throw new ConfigError(`${shown} is not a URL`, {
      hint: 'use a full URL such as https://adminapisgp.im.qcloud.com or http://127.0.0.1:8080',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${shown} must use https://`, {
      hint: 'use a full URL such as https://adminapisgp.im.qcloud.com',
    });
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(`${shown} uses plain http:// to a host that is not on this machine`, {
      hint: 'the UserSig travels in the URL: use https://, or http:// only for 127.0.0.1/localhost (the emulator)',
    });
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`${shown} must not carry a query, fragment or credentials`, {
      hint: 'give only the scheme, host, port and an optional path prefix',
    });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The longest per-request timeout: an hour is beyond any sane wait, and Node's timers cannot
 * count past 2^31-1 ms (24.8 days): beyond that every request failed at once.
 */
export const MAX_TIMEOUT_SECONDS = 3600;

/** Seconds as a positive number (fractions allowed, for tests and fast local endpoints), at most `max`. */
export function parseSeconds(value: Sourced<string>, key: string, max = MAX_TIMEOUT_SECONDS): number {
  const n = Number(value.value);
  if (!Number.isFinite(n) || n <= 0 || value.value.trim() === '') {
    throw new ConfigError(`${key} "${value.value}" (from ${describeSource(value.source)}) must be a positive number of seconds`);
  }
  if (n > max) {
    throw new ConfigError(`${key} "${value.value}" (from ${describeSource(value.source)}) must be at most ${max} seconds`);
  }
  return n;
}
