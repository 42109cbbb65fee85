/**
 * The one validation of a resolved configuration. Every command that calls the API (through
 * Runtime.apiConfig), `doctor` and `config show`/`config init` use these functions, so that they
 * can never disagree on whether a configuration works:
 *
 * - `resolveTarget`: region or endpoint → the base URL (and backup) requests go to;
 * - `checkUserSig`: a fixed UserSig decoded and compared with the app, the administrator and the clock;
 * - `secretInClear`: whether a config file holds a secret key or UserSig itself (and so must be
 *   private), as opposed to `${NAME}` references to the environment.
 */
import { statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { decode, formatDuration, isoSeconds, type DecodedUserSig } from '../usersig.js';
import { isLoopbackHost } from '../util/net.js';
import { maskUrlPassword } from '../redact.js';
import { REGION_IDS } from './regions.js';
import type { LoadedConfigFile } from './load.js';
import { describeSource, parseEndpoint, parseRegion, type Settings, ENV_REFERENCE } from './resolve.js';

/** Where API requests go. */
export interface ApiTarget {
  baseUrl: string;
  /** The region's backup domain (API.md section 1), tried when the primary does not resolve or connect. */
  backupBaseUrl: string | undefined;
  primary: { host: string; port: number };
  backup: { host: string; port: number } | undefined;
  /** Plain http to this machine (the emulator): no DNS or TLS to check. */
  localHttp: boolean;
  /** "endpoint http://…" or "region sgp (adminapisgp.im.qcloud.com)", for doctor. */
  describe: string;
  /** The same with where the value came from, for --debug. */
  target: string;
  /** Whether an endpoint replaced a configured region. */
  endpointOverridesRegion: boolean;
  /** The warning when a --region flag replaced an endpoint from the environment or a config file. */
  regionOverridesEndpoint?: string | undefined;
}

/** Region or endpoint → where requests go. ConfigError when neither is usable. */
export function resolveTarget(settings: Settings): ApiTarget {
  const v = settings.values;
  // A --region typed on the command line is the user's word for this run: it beats an endpoint
  // from IMADMIN_ENDPOINT or a profile (said with a warning). Both as flags: the endpoint, as before.
  const regionFlagWins = v.region?.source.kind === 'flag' && v.endpoint !== undefined && v.endpoint.source.kind !== 'flag' && v.endpoint.value.trim() !== '';
  if (v.endpoint !== undefined && v.endpoint.value.trim() !== '' && !regionFlagWins) {
    const baseUrl = parseEndpoint(v.endpoint);
    const url = new URL(baseUrl);
    return {
      baseUrl,
      backupBaseUrl: undefined,
      primary: { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 443) },
      backup: undefined,
      localHttp: url.protocol === 'http:' && isLoopbackHost(url.hostname),
      describe: `endpoint ${baseUrl}`,
      target: `${baseUrl} (endpoint from ${describeSource(v.endpoint.source)})`,
      endpointOverridesRegion: v.region !== undefined,
    };
  }
  if (v.region === undefined) {
    throw new ConfigError('no region or endpoint is configured', {
      hint: `set \`region\` (${REGION_IDS.join(', ')}) with --region, IMADMIN_REGION or .imadminrc, or \`endpoint\` for a proxy or the emulator`,
    });
  }
  const region = parseRegion(v.region);
  return {
    baseUrl: `https://${region.primary}`,
    backupBaseUrl: region.backup === undefined ? undefined : `https://${region.backup}`,
    primary: { host: region.primary, port: 443 },
    backup: region.backup === undefined ? undefined : { host: region.backup, port: 443 },
    localHttp: false,
    describe: `region ${region.id} (${region.primary})`,
    target: `${region.primary} (region ${region.id} from ${describeSource(v.region.source)})`,
    endpointOverridesRegion: false,
    regionOverridesEndpoint: regionFlagWins
      ? `--region ${region.id} replaces endpoint ${maskUrlPassword(v.endpoint!.value)} (from ${describeSource(v.endpoint!.source)}) for this run`
      : undefined,
  };
}

export type UserSigProblemReason = 'malformed' | 'sdkappid-mismatch' | 'identifier-mismatch' | 'expired';

/** What is wrong with a fixed UserSig, in one sentence without "UserSig" at the front. */
export interface UserSigProblem {
  ok: false;
  reason: UserSigProblemReason;
  /** "was made for SDKAppID 1, but sdkAppId is 2", "expired on 2026-05-01T00:00:00Z (3 days ago)". */
  detail: string;
  decoded: DecodedUserSig | undefined;
}

/** The hint for each problem (what to do next). */
export const USERSIG_FIXES: Readonly<Record<UserSigProblemReason, string>> = {
  malformed: 'copy the whole UserSig again, or set `secretKey` so im-attrs signs for you',
  'sdkappid-mismatch': 'sign one for this app with `im-attrs usersig gen`, or fix `sdkAppId`',
  'identifier-mismatch': 'sign one for this identifier with `im-attrs usersig gen`, or fix `identifier`',
  expired: 'set `secretKey` so im-attrs signs for you, or run `im-attrs usersig gen` for a new one',
};

/**
 * Decodes a fixed UserSig and compares it with the configured app and administrator and with
 * the clock: the server would only say 70001/70013/70014, after the first request.
 */
export function checkUserSig(
  userSig: string,
  expected: { sdkAppId: number; identifier: string; nowSec: number },
): { ok: true; decoded: DecodedUserSig } | UserSigProblem {
  let decoded: DecodedUserSig;
  try {
    decoded = decode(userSig);
  } catch (error) {
    return { ok: false, reason: 'malformed', detail: `is not a valid UserSig: ${(error as Error).message}`, decoded: undefined };
  }
  if (decoded.sdkAppId !== expected.sdkAppId) {
    return { ok: false, reason: 'sdkappid-mismatch', detail: `was made for SDKAppID ${decoded.sdkAppId}, but sdkAppId is ${expected.sdkAppId}`, decoded };
  }
  if (decoded.identifier !== expected.identifier) {
    return { ok: false, reason: 'identifier-mismatch', detail: `was made for identifier "${decoded.identifier}", but identifier is "${expected.identifier}"`, decoded };
  }
  if (expected.nowSec > decoded.expiresAt) {
    return { ok: false, reason: 'expired', detail: `expired on ${isoSeconds(decoded.expiresAt)} (${formatDuration(expected.nowSec - decoded.expiresAt)} ago)`, decoded };
  }
  return { ok: true, decoded };
}

/** `${NAME}` references in a config value. */

/**
 * Whether a config file holds a secret key, UserSig or callback token in clear, at the top level or in any
 * profile: whichever layer wins a run, the file still holds it. A value made only of `${NAME}`
 * references (`"${KEYA}${KEYB}"` too) holds no secret: the environment does.
 */
export function secretInClear(data: Readonly<Record<string, unknown>>): boolean {
  const layers: unknown[] = [data];
  const profiles = data.profiles;
  if (typeof profiles === 'object' && profiles !== null && !Array.isArray(profiles)) layers.push(...Object.values(profiles as Record<string, unknown>));
  const inClear = (value: unknown): boolean => typeof value === 'string' && value.replace(ENV_REFERENCE, '').trim() !== '';
  return layers.some((layer) => {
    if (typeof layer !== 'object' || layer === null) return false;
    const { secretKey, userSig, callbackToken } = layer as Record<string, unknown>;
    return inClear(secretKey) || inClear(userSig) || inClear(callbackToken);
  });
}

/** A config file that holds a secret in clear and that others can read. */
export interface SharedSecretFile {
  file: string;
  /** The permission bits, e.g. 0o644. */
  mode: number;
}

/**
 * Like ssh: a file that holds credentials must not be readable by group or others. Undefined
 * when the file holds no secret in clear (secretInClear), is private, or on Windows.
 */
export function sharedSecretFile(file: LoadedConfigFile | undefined): SharedSecretFile | undefined {
  if (!file || process.platform === 'win32' || !secretInClear(file.data)) return undefined;
  try {
    const mode = statSync(file.filepath).mode & 0o777;
    return mode & 0o077 ? { file: file.filepath, mode } : undefined;
  } catch {
    // The file was just read; if it vanished since, there is nothing to say.
    return undefined;
  }
}
