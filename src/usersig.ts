/**
 * UserSig, Tencent Cloud Chat's admin credential, in the TLSSigAPIv2 format: generate one from
 * the secret key, decode one to see who and what it was made for, and verify one against the
 * configured secret key, SDKAppID and identifier.
 *
 * `generate` is byte-identical to the official `tls-sig-api-v2` npm package (TLSSigAPIv2.js):
 * same JSON key order, same number/string types, same zlib default level. The official package
 * cannot decode or verify; those follow the reference API.md section 4 (signing, reversed), with
 * the base64url un-escaping done correctly (API.md notes the Go port's helper is buggy).
 *
 * Only node:crypto and node:zlib: the credential code has no third-party dependency.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { UsageError } from './errors.js';

/**
 * How long a UserSig that im-attrs signs for itself (from `secretKey`) stays valid: one day.
 * Short enough that a leaked one soon stops working, and equal to the "recommended minimum
 * 24 hours" of API.md section 4.7, so a run never outlives its own credential.
 */
export const DEFAULT_ADMIN_TTL_SECONDS = 86_400;

/**
 * The validity Tencent's own tools give a UserSig when nobody says otherwise: 180 days
 * (API.md section 4.7; the console's UserSig tool). Used to explain where a long-lived one came from.
 */
export const TENCENT_DEFAULT_TTL_SECONDS = 180 * 86_400;

/** The `TLS.ver` that TLSSigAPIv2 writes, and the only one this module understands. */
export const USERSIG_VERSION = '2.0';

/** HMAC-SHA256 digests are 32 bytes; a `TLS.sig` of any other length cannot be one. */
const HMAC_SHA256_BYTES = 32;

/**
 * A real UserSig's JSON is about 200 bytes. Refuse to inflate past this, so that a zlib bomb
 * pasted where a UserSig belongs cannot eat the process's memory.
 */
const MAX_INFLATED_BYTES = 64 * 1024;

/**
 * Largest plausible Unix time in seconds (year 5138). A larger `now` is almost surely
 * milliseconds (`Date.now()`, `deps.now()`) passed by mistake, which would make every UserSig
 * look expired or signed 50,000 years ahead.
 */
const MAX_PLAUSIBLE_UNIX_SECONDS = 100_000_000_000;

/** Characters a UserSig may contain (API.md section 4.5): base64 with `+/=` swapped for `*-_`. */
const USERSIG_ALPHABET = /^[A-Za-z0-9*_-]*$/;

/** Canonical standard base64, padding included (what Buffer#toString('base64') writes). */
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A TLSSigAPIv2 secret key as the console shows it: 64 hex digits. Used only to give a hint. */
export const SECRET_KEY_SHAPE = /^[0-9a-f]{64}$/i;

/** Said with every decode error: where a real UserSig comes from. */
const DECODE_HINT =
  'A UserSig is the long [A-Za-z0-9*_-] string from `im-attrs usersig gen`, the console\'s UserSig tool ' +
  'or TLSSigAPIv2 genUserSig; check that it was copied whole, or set secretKey so im-attrs signs for you.';

/** What `generate` needs. */
export interface GenerateOptions {
  /** The app's SDKAppID, as a number or a string of decimal digits. */
  sdkAppId: number | string;
  /** The account the UserSig is for (the app admin, for im-attrs). */
  identifier: string;
  /** The app's secret key, used as UTF-8 text (not hex-decoded), as the official package does. */
  secretKey: string;
  /** Validity in seconds from `now` (a duration, not a timestamp). */
  expireSeconds: number;
  /** Signing time, Unix seconds. Default: the current time. */
  now?: number | undefined;
  /** Optional userbuf (TRTC PrivateMapKey); signed and carried as `TLS.userbuf`. */
  userbuf?: Buffer | undefined;
}

/** The contents of a UserSig. Nothing here is checked against a key: see `verify`. */
export interface DecodedUserSig {
  /** `TLS.ver`, always "2.0". */
  version: string;
  /** `TLS.identifier`: the account it was made for. */
  identifier: string;
  /** `TLS.sdkappid`: the app it was made for. */
  sdkAppId: number;
  /** `TLS.time`: when it was signed, Unix seconds. */
  time: number;
  /** `TLS.expire`: validity in seconds from `time`. */
  expire: number;
  /** `time + expire`: the last second at which it is still valid, Unix seconds. */
  expiresAt: number;
  /** `TLS.sig`: the base64 HMAC-SHA256. */
  sig: string;
  /** `TLS.userbuf`, decoded, when present. */
  userbuf?: Buffer;
}

/** What `verify` checks the UserSig against. */
export interface VerifyOptions {
  /** The secret key the UserSig should have been signed with. */
  secretKey: string;
  /** The configured SDKAppID; not compared when undefined. */
  sdkAppId?: number | string | undefined;
  /** The configured identifier; not compared when undefined. */
  identifier?: string | undefined;
  /** The time to check expiry at, Unix seconds. Default: the current time. */
  now?: number | undefined;
}

/** Why a UserSig failed `verify`, in the order they are checked. */
export type VerifyFailureReason =
  | 'malformed'
  | 'bad-signature'
  | 'sdkappid-mismatch'
  | 'identifier-mismatch'
  | 'expired';

/** The UserSig is good for the configured app, identifier and key, now. */
export interface VerifySuccess {
  ok: true;
  decoded: DecodedUserSig;
}

/** The UserSig is not usable; `message` names the field and both values. */
export interface VerifyFailure {
  ok: false;
  reason: VerifyFailureReason;
  message: string;
  /** What the UserSig contains; absent only when it is `malformed`. */
  decoded?: DecodedUserSig;
}

/** The outcome of `verify`. Never throws for a bad UserSig: callers choose the error and hint. */
export type VerifyResult = VerifySuccess | VerifyFailure;

/**
 * Makes a TLSSigAPIv2 UserSig, byte-identical to the official package's
 * `new Api(sdkAppId, secretKey).genSig(identifier, expireSeconds, userbuf)` at the same time.
 *
 * @throws UsageError when an argument cannot make a usable UserSig (empty key or identifier,
 *   SDKAppID not a positive integer, validity not a positive whole number of seconds).
 */
export function generate(options: GenerateOptions): string {
  const sdkAppId = parseSdkAppId(options.sdkAppId, 'SDKAppID');
  const { identifier, secretKey, expireSeconds, userbuf } = options;
  if (identifier === '') throw new UsageError('cannot sign a UserSig: the identifier is empty');
  // A line break would let the identifier spell out other fields of the signed text.
  if (/[\r\n]/.test(identifier)) {
    throw new UsageError('cannot sign a UserSig: the identifier contains a line break');
  }
  if (secretKey === '') throw new UsageError('cannot sign a UserSig: the secret key is empty');
  if (!Number.isSafeInteger(expireSeconds) || expireSeconds <= 0) {
    throw new UsageError(
      `cannot sign a UserSig: the validity must be a positive whole number of seconds, got ${String(expireSeconds)}`,
    );
  }
  const time = options.now === undefined ? currentUnixSeconds() : checkUnixSeconds(options.now);
  const userbufBase64 = userbuf === undefined ? undefined : userbuf.toString('base64');

  // Key order and types exactly as TLSSigAPIv2.js builds its sigDoc: ver and identifier as
  // strings, the rest as numbers, userbuf (when any) before sig.
  const doc: Record<string, string | number> = {
    'TLS.ver': USERSIG_VERSION,
    'TLS.identifier': identifier,
    'TLS.sdkappid': sdkAppId,
    'TLS.time': time,
    'TLS.expire': expireSeconds,
  };
  if (userbufBase64 !== undefined) doc['TLS.userbuf'] = userbufBase64;
  doc['TLS.sig'] = hmacSha256(secretKey, signedText(identifier, sdkAppId, time, expireSeconds, userbufBase64))
    .toString('base64');

  // deflateSync with no options = zlib's default level, as the official package uses.
  const base64 = deflateSync(Buffer.from(JSON.stringify(doc), 'utf8')).toString('base64');
  return base64.replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

/**
 * Reads a UserSig without checking its signature: who, which app, when, for how long.
 * Surrounding whitespace (a pasted newline) is ignored.
 *
 * @throws UsageError "not a UserSig: …" when the text is not a TLSSigAPIv2 UserSig. The message
 *   never repeats the input, since what was pasted may be a credential.
 */
export function decode(userSig: string): DecodedUserSig {
  const text = userSig.trim();
  if (text === '') throw notAUserSig('it is empty');
  if (!USERSIG_ALPHABET.test(text)) {
    const at = [...text].findIndex((ch) => !USERSIG_ALPHABET.test(ch));
    throw notAUserSig(
      `it contains a character outside [A-Za-z0-9*_-] at position ${at + 1} (${describeChar([...text][at] ?? '')})`,
    );
  }
  const base64 = text.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  // Padding may be left off, but only at the end and never more than base64 allows.
  const unpadded = base64.replace(/=+$/, '');
  const paddingOk =
    !unpadded.includes('=') &&
    unpadded.length % 4 !== 1 &&
    (base64.length === unpadded.length || base64.length % 4 === 0);
  if (!paddingOk) throw notAUserSig('it does not decode (base64/zlib): misplaced padding or wrong length', text);

  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.from(base64, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    const tooBig = (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
    throw notAUserSig(
      tooBig
        ? `it inflates to more than ${MAX_INFLATED_BYTES} bytes`
        : 'it does not decode (base64/zlib), or it is cut short',
      text,
      error,
    );
  }

  let json: string;
  try {
    // Fatal, not U+FFFD replacement: a mangled identifier must not pass for the one that was signed.
    json = new TextDecoder('utf-8', { fatal: true }).decode(inflated);
  } catch {
    throw notAUserSig('it decodes, but not to UTF-8 text');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    // No cause: V8's JSON errors quote the input, and the input may hold a signature.
    throw notAUserSig('it decodes, but not to JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw notAUserSig('it decodes to JSON that is not an object');
  }
  const fields = doc as Record<string, unknown>;
  if (!Object.hasOwn(fields, 'TLS.ver') && Object.hasOwn(fields, 'TLS.version')) {
    throw notAUserSig(
      'it is a version 1 (ECDSA) UserSig, which Tencent retired; make a TLSSigAPIv2 one from the secret key',
    );
  }

  const version = field(fields, 'TLS.ver', 'string');
  if (version !== USERSIG_VERSION) {
    throw notAUserSig(`TLS.ver is ${JSON.stringify(version)}, and only "${USERSIG_VERSION}" is understood`);
  }
  const identifier = field(fields, 'TLS.identifier', 'string');
  if (identifier === '') throw notAUserSig('TLS.identifier is empty');
  const sdkAppId = field(fields, 'TLS.sdkappid', 'number');
  if (!Number.isSafeInteger(sdkAppId) || sdkAppId <= 0) {
    throw notAUserSig(`TLS.sdkappid must be a positive integer, got ${sdkAppId}`);
  }
  const time = field(fields, 'TLS.time', 'number');
  if (!Number.isSafeInteger(time) || time < 0) {
    throw notAUserSig(`TLS.time must be a Unix time in whole seconds, got ${time}`);
  }
  const expire = field(fields, 'TLS.expire', 'number');
  if (!Number.isSafeInteger(expire) || expire < 0 || !Number.isSafeInteger(time + expire)) {
    throw notAUserSig(`TLS.expire must be a whole number of seconds, got ${expire}`);
  }
  const sig = field(fields, 'TLS.sig', 'string');
  if (!CANONICAL_BASE64.test(sig) || Buffer.from(sig, 'base64').length !== HMAC_SHA256_BYTES) {
    throw notAUserSig(`TLS.sig is not a base64 HMAC-SHA256 (${HMAC_SHA256_BYTES} bytes)`);
  }

  const decoded: DecodedUserSig = { version, identifier, sdkAppId, time, expire, expiresAt: time + expire, sig };
  if (Object.hasOwn(fields, 'TLS.userbuf')) {
    const userbuf = field(fields, 'TLS.userbuf', 'string');
    // Canonical only: verify signs `userbuf.toString('base64')`, which must equal what was signed.
    if (!CANONICAL_BASE64.test(userbuf)) throw notAUserSig('TLS.userbuf is not base64');
    decoded.userbuf = Buffer.from(userbuf, 'base64');
  }
  return decoded;
}

/**
 * Checks a UserSig against the secret key and, when given, the configured SDKAppID and
 * identifier, at `now`. A UserSig is valid while `now <= time + expire`.
 *
 * The checks run in this order, and the first failure is the one reported:
 * malformed → bad-signature → sdkappid-mismatch → identifier-mismatch → expired.
 * The signature comes before the fields because, until it checks out, the fields are only claims
 * (and a wrong key is the one problem no other fix cures). The app and identifier come before
 * expiry because re-signing fixes expiry but not a UserSig made for someone else: reporting
 * "expired" first would send the user to regenerate a credential that still would not work.
 *
 * @throws UsageError when the options themselves are unusable (empty secret key, SDKAppID not a
 *   positive integer); a bad UserSig is a result, not an exception.
 */
export function verify(userSig: string, options: VerifyOptions): VerifyResult {
  const { secretKey, identifier } = options;
  if (secretKey === '') throw new UsageError('cannot verify a UserSig: the secret key is empty');
  const sdkAppId = options.sdkAppId === undefined ? undefined : parseSdkAppId(options.sdkAppId, 'SDKAppID');
  const now = options.now === undefined ? currentUnixSeconds() : checkUnixSeconds(options.now);

  let decoded: DecodedUserSig;
  try {
    decoded = decode(userSig);
  } catch (error) {
    if (error instanceof UsageError) return { ok: false, reason: 'malformed', message: error.message };
    throw error;
  }

  const userbufBase64 = decoded.userbuf?.toString('base64');
  const expected = hmacSha256(
    secretKey,
    signedText(decoded.identifier, decoded.sdkAppId, decoded.time, decoded.expire, userbufBase64),
  );
  const actual = Buffer.from(decoded.sig, 'base64');
  // timingSafeEqual throws on unequal lengths; decode already insists on 32 bytes, but a length
  // check here keeps verify safe on its own.
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    const otherApp =
      sdkAppId !== undefined && sdkAppId !== decoded.sdkAppId
        ? ` It was also made for SDKAppID ${decoded.sdkAppId}, but the configured SDKAppID is ${sdkAppId}.`
        : '';
    return {
      ok: false,
      reason: 'bad-signature',
      message:
        'UserSig signature does not match the configured secret key: it was signed with another key, ' +
        `or altered after signing.${otherApp}`,
      decoded,
    };
  }

  if (sdkAppId !== undefined && sdkAppId !== decoded.sdkAppId) {
    return {
      ok: false,
      reason: 'sdkappid-mismatch',
      message: `UserSig was made for SDKAppID ${decoded.sdkAppId}, but the configured SDKAppID is ${sdkAppId}`,
      decoded,
    };
  }
  if (identifier !== undefined && identifier !== decoded.identifier) {
    return {
      ok: false,
      reason: 'identifier-mismatch',
      message:
        `UserSig was made for identifier ${JSON.stringify(decoded.identifier)}, ` +
        `but the configured identifier is ${JSON.stringify(identifier)}`,
      decoded,
    };
  }
  if (now > decoded.expiresAt) {
    return {
      ok: false,
      reason: 'expired',
      message: `UserSig expired on ${isoSeconds(decoded.expiresAt)} (${formatDuration(now - decoded.expiresAt)} ago)`,
      decoded,
    };
  }
  return { ok: true, decoded };
}

/** Seconds per unit that `parseDuration` accepts, largest first (the order compounds must use). */
const DURATION_UNITS = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 } as const;
type DurationUnit = keyof typeof DURATION_UNITS;
const DURATION_UNIT_ORDER = Object.keys(DURATION_UNITS) as DurationUnit[];

/** What `parseDuration` accepts, said in its error message. */
const DURATION_FORMS =
  'use a whole number of seconds (3600) or whole numbers with units s, m, h, d, w ' +
  '(90s, 90m, 12h, 1d, 180d, 1w, 1d12h)';

/**
 * Reads a validity such as `3600` (seconds), `90s`, `90m`, `12h`, `1d`, `180d`, `1w`, or a
 * compound with units largest first, like `1d12h` or `3d 4h` (what `formatDuration` writes).
 *
 * @returns the duration in seconds, at least 1.
 * @throws UsageError naming the input and the accepted forms for anything else: zero, negative,
 *   fractions, unknown units, repeated or out-of-order units, or more than 2^53 seconds.
 */
export function parseDuration(text: string): number {
  const input = text.trim();
  const invalid = (why: string): UsageError =>
    new UsageError(`invalid duration ${JSON.stringify(text)}: ${why}; ${DURATION_FORMS}`);

  if (/^\d+$/.test(input)) {
    const seconds = Number(input);
    if (!Number.isSafeInteger(seconds)) throw invalid('it is too long');
    if (seconds === 0) throw invalid('it must be more than zero');
    return seconds;
  }
  if (!/^(?:\d+\s*[A-Za-z]\s*)+$/.test(input)) throw invalid('it is not a duration');

  let seconds = 0;
  let lastUnit = -1;
  for (const [, digits = '', letter = ''] of input.matchAll(/(\d+)\s*([A-Za-z])/g)) {
    // Case-sensitive: "5M" could mean months, so it is an unknown unit rather than 5 minutes.
    const unit = letter as DurationUnit;
    const order = DURATION_UNIT_ORDER.indexOf(unit);
    if (order === -1) throw invalid(`unknown unit "${letter}"`);
    if (order <= lastUnit) throw invalid('units must each appear once, largest first');
    lastUnit = order;
    seconds += Number(digits) * DURATION_UNITS[unit];
  }
  if (!Number.isSafeInteger(seconds)) throw invalid('it is too long');
  if (seconds === 0) throw invalid('it must be more than zero');
  return seconds;
}

/** Units `formatDuration` writes, largest first; weeks are left out since "180d" reads better. */
const FORMAT_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/**
 * Writes a duration for people, as its two largest units from the first non-zero one, rounded
 * down: `3d 4h`, `59m 10s`, `12s`, `2h` (for 2h 0m 30s), `0s`. Negative durations get a `-`.
 * Rounding down means "time left" is never overstated. `parseDuration` reads the result back.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) throw new RangeError(`formatDuration: not a finite number: ${seconds}`);
  if (seconds < 0) return `-${formatDuration(-seconds)}`;
  let rest = Math.floor(seconds);
  const parts: string[] = [];
  for (const [unit, size] of FORMAT_UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (parts.length > 0 || count > 0) parts.push(count > 0 ? `${count}${unit}` : '');
    if (parts.length === 2) break;
  }
  const text = parts.filter((part) => part !== '').join(' ');
  return text === '' ? '0s' : text;
}

/** The text TLSSigAPIv2 signs (API.md section 4.2): every line ends in "\n", the last one too. */
function signedText(
  identifier: string,
  sdkAppId: number,
  time: number,
  expire: number,
  userbufBase64: string | undefined,
): string {
  let text = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  if (userbufBase64 !== undefined) text += `TLS.userbuf:${userbufBase64}\n`;
  return text;
}

/** HMAC-SHA256 of the signed text, keyed with the secret key as UTF-8 text (not hex-decoded). */
function hmacSha256(secretKey: string, text: string): Buffer {
  return createHmac('sha256', secretKey).update(text, 'utf8').digest();
}

/**
 * A positive integer SDKAppID from a number or decimal string. Strings are normalised
 * ("01400000000" → 1400000000) because a verifier rebuilds the signed text from the JSON
 * number, so signing the string as written would make a UserSig that never verifies.
 */
function parseSdkAppId(value: number | string, what: string): number {
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number <= 0) {
    throw new UsageError(`the ${what} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

/** Rejects a `now` that is not whole Unix seconds; it is a caller's bug, not the user's. */
function checkUnixSeconds(now: number): number {
  if (!Number.isSafeInteger(now) || now < 0) {
    throw new RangeError(`usersig: now must be whole Unix seconds, got ${now}`);
  }
  if (now > MAX_PLAUSIBLE_UNIX_SECONDS) {
    throw new RangeError(`usersig: now must be Unix seconds, and ${now} looks like milliseconds`);
  }
  return now;
}

function currentUnixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** `2026-05-01T00:00:00Z`: ISO 8601 without the milliseconds a UserSig never has. */
export function isoSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Reads one JSON field, insisting on its presence and type. */
function field(fields: Record<string, unknown>, name: string, type: 'string'): string;
function field(fields: Record<string, unknown>, name: string, type: 'number'): number;
function field(fields: Record<string, unknown>, name: string, type: 'string' | 'number'): string | number {
  if (!Object.hasOwn(fields, name)) throw notAUserSig(`missing ${name}`);
  const value = fields[name];
  if (typeof value !== type) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    throw notAUserSig(`${name} must be a ${type}, got ${got}`);
  }
  return value as string | number;
}

/** Names a character without echoing anything else of the input. */
function describeChar(ch: string): string {
  if (/^[\x21-\x7e]$/.test(ch)) return JSON.stringify(ch);
  const code = ch.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The decode error. `text`, when given, only steers the hint: a secret key pasted as a UserSig
 * gets told so. Neither the text nor any signature goes into the message.
 */
function notAUserSig(why: string, text?: string, cause?: unknown): UsageError {
  const hint =
    text !== undefined && SECRET_KEY_SHAPE.test(text)
      ? 'This looks like a secret key (64 hex digits), not a UserSig: set it as secretKey and im-attrs signs for you.'
      : DECODE_HINT;
  return new UsageError(`not a UserSig: ${why}`, { hint, cause });
}
