/**
 * The half of Runtime that reaches for the config and the server: loading the settings, checking
 * everything an API call needs, signing UserSigs and making the client. Runtime loads this module
 * the first time a command asks for settings or a client, so that `--help`, `--version` and the
 * offline commands' help load none of it (cold start, measured in `npm run bench`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_TIMEOUT_MS, ImClient, staticCredentials, type Credentials } from '../api/client.js';
import { API_FAMILIES, DEFAULT_API_FAMILY, parseApiFamily, type ApiFamily } from '../api/operation.js';
import type { Deps } from '../deps.js';
import { AuthError, ConfigError } from '../errors.js';
import type { Secrets } from '../redact.js';
import { DEFAULT_ADMIN_TTL_SECONDS, generate, isoSeconds, parseDuration } from '../usersig.js';
import { VERSION } from '../version.js';
import { loadConfigFile } from '../config/load.js';
import {
  collectSettings,
  describeSource,
  parseSdkAppId,
  parseSeconds,
  requireSetting,
  valueIfReadable,
  type GlobalOptions,
  type SettingKey,
  type Settings,
} from '../config/resolve.js';
import { applyUsersigFile, warnIfArgv } from '../config/secret-input.js';
import { assertTrusted } from '../config/trust.js';
import { checkUserSig, resolveTarget, sharedSecretFile, USERSIG_FIXES } from '../config/validate.js';

/** What these functions need of the Runtime: its deps, global flags, secrets and logger. */
export interface Host {
  readonly deps: Deps;
  readonly options: GlobalOptions;
  readonly secrets: Secrets;
  warn(message: string): void;
  debug(message: string): void;
}

/** The settings an API call needs, validated. */
export interface ApiConfig {
  baseUrl: string;
  backupBaseUrl: string | undefined;
  sdkAppId: number;
  identifier: string;
  credentials: Credentials;
  timeoutMs: number;
  ca: Buffer | undefined;
  /** Where the base URL came from, for messages. */
  target: string;
}

/**
 * Settings only some commands read, and only when no flag of theirs decides: those commands warn
 * about an IMADMIN_* variable overriding the profile's value, when they use it.
 */
const COMMAND_SCOPED_KEYS: ReadonlySet<SettingKey> = new Set(['output']);

/** Signs a fresh UserSig more than this long before the current one expires. */
const RENEW_BEFORE_FRACTION = 0.1;

/** Signs admin UserSigs from the secret key, and again before they expire or when the server says so. */
export class SigningCredentials implements Credentials {
  private sig: string | undefined;
  private issuedAt = 0;
  /** How many UserSigs were signed (1 for a short run). */
  signed = 0;

  constructor(
    private readonly options: { secretKey: string; sdkAppId: number; identifier: string; ttlSeconds: number; now: () => number },
  ) {}

  current(): string {
    const nowSec = Math.floor(this.options.now() / 1000);
    if (this.sig === undefined || nowSec >= this.issuedAt + this.options.ttlSeconds * (1 - RENEW_BEFORE_FRACTION)) this.sign(nowSec);
    return this.sig!;
  }

  renew(): boolean {
    this.sign(Math.floor(this.options.now() / 1000));
    return true;
  }

  private sign(nowSec: number): void {
    this.sig = generate({
      sdkAppId: this.options.sdkAppId,
      identifier: this.options.identifier,
      secretKey: this.options.secretKey,
      expireSeconds: this.options.ttlSeconds,
      now: nowSec,
    });
    this.issuedAt = nowSec;
    this.signed++;
  }
}

/** Loads the config file and collects every setting (Runtime.settings() calls it once per run). */
export async function loadSettings(host: Host): Promise<Settings> {
  const explicit = host.options.config ?? (host.deps.env.IMADMIN_CONFIG || undefined);
  const file = await loadConfigFile(host.deps, explicit);
  const settings = collectSettings(host.options, file, { env: host.deps.env, warn: (m) => host.warn(m) });
  for (const [key, warning] of settings.overrides) if (!COMMAND_SCOPED_KEYS.has(key)) host.warn(warning);
  const shared = sharedSecretFile(file);
  if (shared) host.warn(`${shared.file} holds credentials but is readable by others (mode ${shared.mode.toString(8)}); fix it with: chmod 600 ${shared.file}`);
  await applyUsersigFile(host, settings);
  // Readable ones only: an unset ${NAME} fails the command that uses the key, not every command.
  host.secrets.add(valueIfReadable(settings.values.secretKey));
  host.secrets.add(valueIfReadable(settings.values.userSig));
  host.secrets.add(valueIfReadable(settings.values.callbackToken));
  if (file) host.debug(`config file: ${file.filepath}${settings.profile ? ` (profile "${settings.profile.value}")` : ''}`);
  return settings;
}

/** The API family of the run (`api`: flag --api, IMADMIN_API, config), all_member_push by default. */
export function apiFamily(settings: Settings): ApiFamily {
  const value = settings.values.api;
  if (value === undefined || value.value.trim() === '') return DEFAULT_API_FAMILY;
  const family = parseApiFamily(value.value.trim());
  if (family === undefined) {
    throw new ConfigError(`api "${value.value}" (from ${describeSource(value.source)}) is not an API family`, {
      hint: `use one of ${API_FAMILIES.join(', ')}`,
    });
  }
  return family;
}

/** Validates everything an API call needs; errors name the key and where its value came from. */
export function apiConfig(host: Host, settings: Settings): ApiConfig {
  // Before anything is signed or sent: a stranger's config file must not route the credentials.
  assertTrusted(host.deps, settings);
  const v = settings.values;
  const { baseUrl, backupBaseUrl, target, endpointOverridesRegion, regionOverridesEndpoint } = resolveTarget(settings);
  if (endpointOverridesRegion) host.debug(`endpoint overrides region ${v.region!.value}`);
  if (regionOverridesEndpoint) host.warn(regionOverridesEndpoint);
  const sdkAppId = parseSdkAppId(requireSetting(settings, 'sdkAppId', 'sdkAppId (the SDKAppID of your Chat app)'));
  const identifier = requireSetting(settings, 'identifier', 'identifier (an app administrator account)').value.trim();
  const timeoutMs = v.timeout ? parseSeconds(v.timeout, 'timeout') * 1000 : undefined;
  const credentials = credentialsFor(host, settings, sdkAppId, identifier);
  const ca = host.options.ca ? readCaFile(host.deps.cwd, host.options.ca) : undefined;
  return { baseUrl, backupBaseUrl, sdkAppId, identifier, credentials, timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS, ca, target };
}

/** The certificates of `--ca` (PEM), or a ConfigError naming the file and why it cannot be read. */
export function readCaFile(cwd: string, file: string): Buffer {
  const caPath = path.resolve(cwd, file);
  try {
    return readFileSync(caPath);
  } catch (error) {
    throw new ConfigError(`--ca ${caPath} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/**
 * A fixed UserSig is decoded before the first request, so an expired or mismatched one fails
 * fast with the field that is wrong (the server would only say 70001/70013/70014). With only a
 * secret key, im-attrs signs its own admin UserSig.
 */
function credentialsFor(host: Host, settings: Settings, sdkAppId: number, identifier: string): Credentials {
  const v = settings.values;
  const ttlSeconds = v.usersigTtl ? ttl(v.usersigTtl.value) : DEFAULT_ADMIN_TTL_SECONDS;
  // With a UserSig given, a secret key whose ${NAME} is unset is no error: it is only the renewal.
  const secretKey = (v.userSig !== undefined ? valueIfReadable(v.secretKey) : v.secretKey?.value)?.trim() || undefined;
  const signer = secretKey ? new SigningCredentials({ secretKey, sdkAppId, identifier, ttlSeconds, now: host.deps.now }) : undefined;
  const userSig = v.userSig?.value.trim() || undefined;
  if (userSig === undefined) {
    if (signer) return signer;
    throw new ConfigError('neither userSig nor secretKey is configured', {
      hint: 'set `secretKey` (IMADMIN_SECRET_KEY or .imadminrc) so im-attrs signs for you, or `userSig` (--usersig, IMADMIN_USERSIG)',
    });
  }
  const from = describeSource(v.userSig!.source);
  const checked = checkUserSig(userSig, { sdkAppId, identifier, nowSec: Math.floor(host.deps.now() / 1000) });
  if (!checked.ok) {
    if (checked.reason === 'expired' && signer) {
      host.warn(`the UserSig (from ${from}) expired on ${isoSeconds(checked.decoded!.expiresAt)}; signing a new one with the secret key`);
      return signer;
    }
    throw new AuthError(`the UserSig (from ${from}) ${checked.detail}`, { hint: USERSIG_FIXES[checked.reason] });
  }
  const fixed = staticCredentials(userSig);
  warnIfArgv(host, v.userSig!.source);
  // With a secret key at hand, a UserSig the server calls expired (70001) is replaced once.
  return signer ? { current: () => (signer.signed > 0 ? signer.current() : fixed.current()), renew: () => signer.renew() } : fixed;
}

function ttl(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new ConfigError(`usersigTtl: ${(error as Error).message}`);
  }
}

/** An API client for a validated configuration. */
export function newClient(host: Host, config: ApiConfig, options: { maxSockets?: number }): ImClient {
  host.debug(`target: ${config.target}, sdkAppId ${config.sdkAppId}, identifier ${config.identifier}`);
  return new ImClient({
    baseUrl: config.baseUrl,
    backupBaseUrl: config.backupBaseUrl,
    sdkAppId: config.sdkAppId,
    identifier: config.identifier,
    credentials: config.credentials,
    timeoutMs: config.timeoutMs,
    userAgent: `im-attrs/${VERSION}`,
    maxSockets: options.maxSockets,
    ca: config.ca,
    proxyEnv: host.deps.env,
    debug: host.options.debug ? (line) => host.debug(line) : undefined,
    notice: (line) => host.warn(line),
    secrets: host.secrets,
  });
}
