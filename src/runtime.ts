/**
 * What a command gets: the injected deps, the global flags, a stderr logger that redacts
 * secrets, and lazy access to the resolved configuration and an API client. One Runtime per run,
 * made by main.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChalkInstance } from 'chalk';
import { Chalk } from 'chalk';
import { DEFAULT_TIMEOUT_MS, ImClient, staticCredentials, type Credentials } from './api/client.js';
import { operationFor, parseApiFamily, type FamilyOperations, type OperationName } from './api/families.js';
import { API_FAMILIES, DEFAULT_API_FAMILY, type ApiFamily } from './api/operation.js';
import { loadConfigFile } from './config/load.js';
import { applyUsersigFile, warnIfArgv } from './config/secret-input.js';
import { assertTrusted } from './config/trust.js';
import { checkUserSig, resolveTarget, sharedSecretFile, USERSIG_FIXES } from './config/validate.js';
import {
  collectSettings,
  describeSource,
  parseSdkAppId,
  parseSeconds,
  requireSetting,
  valueIfReadable,
  type GlobalFlags,
  type SettingKey,
  type Settings,
} from './config/resolve.js';
import type { Deps } from './deps.js';
import { AuthError, ConfigError, UsageError } from './errors.js';
import { Secrets } from './redact.js';
import { DEFAULT_ADMIN_TTL_SECONDS, generate, parseDuration, isoSeconds } from './usersig.js';
import { VERSION } from './version.js';

/** Global flags: the root command's options (program.opts()), never a command's own. */
export interface GlobalOptions extends GlobalFlags {
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
  color?: 'auto' | 'always' | 'never';
  ca?: string;
  usersigFile?: string;
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

export class Runtime {
  readonly deps: Deps;
  readonly secrets = new Secrets();
  private globals: GlobalOptions = {};
  private settingsPromise: Promise<Settings> | undefined;
  private chalkInstance: ChalkInstance | undefined;
  private warned = new Set<string>();

  /** Aborted when a stopped run closes its input (see closeInput). */
  private readonly inputAbort = new AbortController();

  constructor(deps: Deps) {
    this.deps = deps;
    // Secrets given through the environment are known before anything can print them.
    this.secrets.add(deps.env.IMADMIN_SECRET_KEY);
    this.secrets.add(deps.env.IMADMIN_USERSIG);
  }

  /** Files opened for input listen to this: closeInput() closes them. */
  get inputSignal(): AbortSignal {
    return this.inputAbort.signal;
  }

  /**
   * Stops reading input: closes stdin and every file opened with inputSignal. A stopped run calls
   * it once the input has been idle a while, so that an idle stdin, a FIFO or a producer that
   * never ends cannot keep it waiting; what was already read is kept.
   */
  closeInput(): void {
    this.inputAbort.abort();
    (this.deps.io.stdin as { destroy?: () => void }).destroy?.();
  }

  /** Called by program.ts once commander has parsed the global flags. */
  setGlobals(globals: GlobalOptions): void {
    this.globals = globals;
    this.secrets.add(globals.usersig);
    this.chalkInstance = undefined;
  }

  get options(): GlobalOptions {
    return this.globals;
  }

  /** Colours for stderr: --color, then NO_COLOR/FORCE_COLOR, then whether stderr is a TTY. */
  get chalk(): ChalkInstance {
    if (!this.chalkInstance) {
      const mode = this.globals.color ?? 'auto';
      const env = this.deps.env;
      let enabled: boolean;
      if (mode === 'always') enabled = true;
      else if (mode === 'never') enabled = false;
      else if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') enabled = false;
      else if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') enabled = true;
      else enabled = this.deps.io.color;
      this.chalkInstance = new Chalk({ level: enabled ? 1 : 0 });
    }
    return this.chalkInstance;
  }

  /** Writes one line to stderr, secrets redacted. */
  stderr(line: string): void {
    this.deps.io.stderr.write(`${this.secrets.redact(line)}\n`);
  }

  /** A warning: always shown (even with --quiet), once per distinct text. */
  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.stderr(`${this.chalk.yellow('warning:')} ${message}`);
  }

  /** Progress and summaries: hidden by --quiet. */
  info(message: string): void {
    if (!this.globals.quiet) this.stderr(message);
  }

  /** Per-batch detail: only with --verbose or --debug. */
  verbose(message: string): void {
    if (this.globals.verbose || this.globals.debug) this.stderr(this.chalk.dim(message));
  }

  /** Request traces: only with --debug. */
  debug(message: string): void {
    if (this.globals.debug) this.stderr(this.chalk.dim(`debug: ${message}`));
  }

  /** Loads the config file and collects every setting (once per run). */
  settings(): Promise<Settings> {
    this.settingsPromise ??= (async () => {
      const explicit = this.globals.config ?? (this.deps.env.IMADMIN_CONFIG || undefined);
      const file = await loadConfigFile(this.deps, explicit);
      const settings = collectSettings(this.globals, file, { env: this.deps.env, warn: (m) => this.warn(m) });
      for (const [key, warning] of settings.overrides) if (!COMMAND_SCOPED_KEYS.has(key)) this.warn(warning);
      const shared = sharedSecretFile(file);
      if (shared) this.warn(`${shared.file} holds credentials but is readable by others (mode ${shared.mode.toString(8)}); fix it with: chmod 600 ${shared.file}`);
      await applyUsersigFile(this, settings);
      // Readable ones only: an unset ${NAME} fails the command that uses the key, not every command.
      this.secrets.add(valueIfReadable(settings.values.secretKey));
      this.secrets.add(valueIfReadable(settings.values.userSig));
      if (file) this.debug(`config file: ${file.filepath}${settings.profile ? ` (profile "${settings.profile.value}")` : ''}`);
      return settings;
    })();
    return this.settingsPromise;
  }

  /** The API family of this run (`api`: flag --api, IMADMIN_API, config), all_member_push by default. */
  async family(): Promise<ApiFamily> {
    const value = (await this.settings()).values.api;
    if (value === undefined || value.value.trim() === '') return DEFAULT_API_FAMILY;
    const family = parseApiFamily(value.value.trim());
    if (family === undefined) {
      throw new ConfigError(`api "${value.value}" (from ${describeSource(value.source)}) is not an API family`, {
        hint: `use one of ${API_FAMILIES.join(', ')}`,
      });
    }
    return family;
  }

  /** The operation `name` of this run's API family. */
  async operation<N extends OperationName>(name: N): Promise<FamilyOperations[N]> {
    return operationFor(await this.family(), name);
  }

  /** Validates everything an API call needs; errors name the key and where its value came from. */
  async apiConfig(): Promise<ApiConfig> {
    const settings = await this.settings();
    // Before anything is signed or sent: a stranger's config file must not route the credentials.
    assertTrusted(this.deps, settings);
    const v = settings.values;
    const { baseUrl, backupBaseUrl, target, endpointOverridesRegion, regionOverridesEndpoint } = resolveTarget(settings);
    if (endpointOverridesRegion) this.debug(`endpoint overrides region ${v.region!.value}`);
    if (regionOverridesEndpoint) this.warn(regionOverridesEndpoint);
    const sdkAppId = parseSdkAppId(requireSetting(settings, 'sdkAppId', 'sdkAppId (the SDKAppID of your Chat app)'));
    const identifier = requireSetting(settings, 'identifier', 'identifier (an app administrator account)').value.trim();
    const timeoutMs = v.timeout ? parseSeconds(v.timeout, 'timeout') * 1000 : undefined;
    const credentials = this.credentials(settings, sdkAppId, identifier);
    let ca: Buffer | undefined;
    if (this.globals.ca) {
      const caPath = path.resolve(this.deps.cwd, this.globals.ca);
      try {
        ca = readFileSync(caPath);
      } catch (error) {
        throw new ConfigError(`--ca ${caPath} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    return { baseUrl, backupBaseUrl, sdkAppId, identifier, credentials, timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS, ca, target };
  }

  /**
   * A fixed UserSig is decoded before the first request, so an expired or mismatched one fails
   * fast with the field that is wrong (the server would only say 70001/70013/70014). With only a
   * secret key, im-attrs signs its own admin UserSig.
   */
  private credentials(settings: Settings, sdkAppId: number, identifier: string): Credentials {
    const v = settings.values;
    const ttlSeconds = v.usersigTtl ? this.ttl(v.usersigTtl.value) : DEFAULT_ADMIN_TTL_SECONDS;
    // With a UserSig given, a secret key whose ${NAME} is unset is no error: it is only the renewal.
    const secretKey = (v.userSig !== undefined ? valueIfReadable(v.secretKey) : v.secretKey?.value)?.trim() || undefined;
    const signer = secretKey
      ? new SigningCredentials({ secretKey, sdkAppId, identifier, ttlSeconds, now: this.deps.now })
      : undefined;
    const userSig = v.userSig?.value.trim() || undefined;
    if (userSig === undefined) {
      if (signer) return signer;
      throw new ConfigError('neither userSig nor secretKey is configured', {
        hint: 'set `secretKey` (IMADMIN_SECRET_KEY or .imadminrc) so im-attrs signs for you, or `userSig` (--usersig, IMADMIN_USERSIG)',
      });
    }
    const from = describeSource(v.userSig!.source);
    const checked = checkUserSig(userSig, { sdkAppId, identifier, nowSec: Math.floor(this.deps.now() / 1000) });
    if (!checked.ok) {
      if (checked.reason === 'expired' && signer) {
        this.warn(`the UserSig (from ${from}) expired on ${isoSeconds(checked.decoded!.expiresAt)}; signing a new one with the secret key`);
        return signer;
      }
      throw new AuthError(`the UserSig (from ${from}) ${checked.detail}`, { hint: USERSIG_FIXES[checked.reason] });
    }
    const fixed = staticCredentials(userSig);
    warnIfArgv(this, v.userSig!.source);
    // With a secret key at hand, a UserSig the server calls expired (70001) is replaced once.
    return signer ? { current: () => (signer.signed > 0 ? signer.current() : fixed.current()), renew: () => signer.renew() } : fixed;
  }

  private ttl(text: string): number {
    try {
      return parseDuration(text);
    } catch (error) {
      throw new ConfigError(`usersigTtl: ${(error as Error).message}`);
    }
  }

  /** Reads a secret key from a file or stdin ("-"): the first line, trimmed, registered as a secret. */
  async readSecretKeyFile(file: string): Promise<string> {
    let text: string;
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of this.deps.io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      text = Buffer.concat(chunks).toString('utf8');
    } else {
      const resolved = path.resolve(this.deps.cwd, file);
      try {
        text = readFileSync(resolved, 'utf8');
      } catch (error) {
        throw new UsageError(`--secret-key-file ${resolved} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    const key = text.split(/\r?\n/)[0]?.trim() ?? '';
    if (!key) throw new UsageError(`--secret-key-file ${file}: the file is empty`);
    this.secrets.add(key);
    return key;
  }

  /** An API client for the resolved configuration. Close it when done. */
  async client(options: { maxSockets?: number } = {}): Promise<ImClient> {
    const config = await this.apiConfig();
    this.debug(`target: ${config.target}, sdkAppId ${config.sdkAppId}, identifier ${config.identifier}`);
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
      proxyEnv: this.deps.env,
      debug: this.globals.debug ? (line) => this.debug(line) : undefined,
      notice: (line) => this.warn(line),
      secrets: this.secrets,
    });
  }
}

/** Parses an integer option within bounds, as a usage error naming the flag. */
export function parseIntOption(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return n;
}
