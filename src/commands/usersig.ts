/**
 * `im-attrs usersig gen|inspect|verify`: sign, read and check admin UserSigs offline, with the
 * same configuration (SDKAppID, identifier, secret key) the API commands use.
 *
 * The secret key is never a flag value (it would end up in shell history and `ps`): it comes from
 * `secretKey` (IMADMIN_SECRET_KEY, .imadminrc) or `--secret-key-file <path>` ("-" = stdin). A
 * UserSig is printed only by `gen`, on stdout; every other message names its fields, never the
 * UserSig or the key, and both are registered for redaction as soon as they are known.
 */
import { Command, Option } from 'commander';
import { readAll } from '../util/fs.js';
import { describeSource, parseSdkAppId, requireSetting, type Settings } from '../config/resolve.js';
import { AuthError, ConfigError, UsageError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import {
  DEFAULT_ADMIN_TTL_SECONDS,
  decode,
  formatDuration,
  isoSeconds,
  generate,
  parseDuration,
  verify,
  type DecodedUserSig,
  type VerifyFailure,
} from '../usersig.js';

export interface UsersigGenOptions {
  expire?: string;
  secretKeyFile?: string;
  /** Hidden: only there to refuse a secret key given on the command line with a useful message. */
  secretKey?: string;
}

export interface UsersigInspectOptions {
  json?: boolean;
}

export interface UsersigVerifyOptions {
  secretKeyFile?: string;
  /** Hidden, as for gen. */
  secretKey?: string;
}

/** What `usersig inspect --json` prints: the UserSig's fields, never the UserSig itself. */
export interface UsersigInspection {
  identifier: string;
  sdkAppId: number;
  /** `TLS.time`, ISO 8601 in UTC without milliseconds. */
  issuedAt: string;
  /** `TLS.time + TLS.expire`, the last second at which it is valid. */
  expiresAt: string;
  /** `TLS.expire`: validity in seconds from issuedAt. */
  expireSeconds: number;
  expired: boolean;
  /** Seconds from now to expiresAt; negative once expired (how long ago). */
  secondsLeft: number;
  /** Whether a `TLS.userbuf` is present (its content is not printed). */
  userbuf: boolean;
}

const GEN_EXAMPLES = `
Examples:
  $ im-attrs usersig gen
  $ export IMADMIN_USERSIG="$(im-attrs usersig gen --expire 12h)"
  $ im-attrs usersig gen --identifier ops_admin --expire 180d --sdkappid 1400123456
  $ vault kv get -field=key secret/chat | im-attrs usersig gen --secret-key-file -
`;

const INSPECT_EXAMPLES = `
Examples:
  $ im-attrs usersig inspect
  $ pbpaste | im-attrs usersig inspect -
  $ im-attrs usersig inspect --json | jq .secondsLeft
`;

const VERIFY_EXAMPLES = `
Examples:
  $ im-attrs usersig verify
  $ im-attrs usersig gen --expire 1h | im-attrs usersig verify -
  $ im-attrs usersig verify - --secret-key-file key.txt < usersig.txt
  $ im-attrs usersig verify >/dev/null 2>&1 || export IMADMIN_USERSIG="$(im-attrs usersig gen)"
`;

const GROUP_EXAMPLES = `
Examples:
  $ im-attrs usersig gen --expire 180d
  $ im-attrs usersig inspect --json
  $ im-attrs usersig gen | im-attrs usersig verify -
`;

/** Where a secret key may come from, said in every error about a missing one. */
const SECRET_KEY_WAYS =
  'set `secretKey` (IMADMIN_SECRET_KEY or .imadminrc), or pass --secret-key-file <path> ("-" reads stdin); ' +
  'the Chat console shows the key under Application → Basic configuration';

/** Why `--secret-key` does not exist, and what to use instead. */
function refuseSecretKeyFlag(rt: Runtime, value: string | undefined): void {
  if (value === undefined) return;
  rt.secrets.add(value);
  throw new UsageError('the secret key is never a flag value: on the command line it ends up in shell history and process lists', {
    hint: SECRET_KEY_WAYS,
  });
}

export function newUsersigCommand(rt: Runtime): Command {
  const group = new Command('usersig')
    .summary('sign, inspect and verify UserSigs offline')
    .description(
      'Sign, inspect and verify admin UserSigs (TLSSigAPIv2) offline, with the SDKAppID, identifier and ' +
        'secret key the other commands use. With `secretKey` configured the other commands sign their own ' +
        'UserSig and you need none of this; use it to hand a UserSig to another tool, or to find out why ' +
        'one is refused.',
    )
    .addHelpText('after', GROUP_EXAMPLES);

  const gen = new Command('gen')
    .summary('print a new UserSig for the configured app and identifier')
    .description(
      'Print a new UserSig on stdout (alone, with a newline, for $(...)), signed with the secret key for the ' +
        'configured SDKAppID (--sdkappid, IMADMIN_SDKAPPID, .imadminrc) and identifier. On a terminal, stderr ' +
        'also says until when it is valid.\n\n' +
        'It is valid for 1 day unless --expire or `usersigTtl` says otherwise: the same validity im-attrs gives ' +
        'the UserSigs it signs for itself, and the recommended minimum, so a leaked one soon stops working. ' +
        "Tencent's own tools default to 180 days; ask for that with --expire 180d.",
    )
    .option('--identifier <id>', 'the account to sign for (default: the configured identifier)')
    .option(
      '--expire <duration>',
      'validity: seconds (3600) or with units s, m, h, d, w (90m, 12h, 1d, 180d) (default: usersigTtl, else 1d)',
    )
    .option('--secret-key-file <path>', 'read the secret key from this file\'s first line; "-" reads stdin (default: secretKey)')
    .addOption(new Option('--secret-key <key>').hideHelp())
    .addHelpText('after', GEN_EXAMPLES)
    .action(async (options: UsersigGenOptions) => {
      await usersigGenRun(rt, options);
    });

  const inspect = new Command('inspect')
    .summary('show who and what a UserSig was made for, and until when')
    .description(
      'Show what a UserSig holds: identifier, SDKAppID, when it was issued, when it expires and how long is left ' +
        '(or how long ago it expired), and whether it carries a userbuf. It needs no secret key and does not ' +
        'check the signature: `im-attrs usersig verify` does.\n\n' +
        'The UserSig is the argument, stdin with "-", or else the configured one (--usersig, IMADMIN_USERSIG, ' +
        '.imadminrc). It is never printed. Exit 2 when the input is not a UserSig.',
    )
    .argument('[usersig]', 'the UserSig; "-" reads stdin (default: the configured userSig)')
    .option('--json', 'print the fields as JSON: identifier, sdkAppId, issuedAt, expiresAt, expireSeconds, expired, secondsLeft (negative once expired), userbuf')
    .addHelpText('after', INSPECT_EXAMPLES)
    .action(async (userSig: string | undefined, options: UsersigInspectOptions) => {
      await usersigInspectRun(rt, userSig, options);
    });

  const verifyCommand = new Command('verify')
    .summary('check a UserSig against the secret key, SDKAppID and identifier')
    .description(
      'Check a UserSig as the server would: its signature against the secret key, its SDKAppID and identifier ' +
        'against the configured ones (when configured), and its expiry against the clock.\n\n' +
        'Exit 0 and a "valid: …" line on stdout when it is good; exit 4 with the reason when it is not, including ' +
        'when the input is not a UserSig at all, so `verify || renew` covers every bad credential. ' +
        'Exit 3 when there is no secret key to check with, 2 for bad flags or empty input.\n\n' +
        'The UserSig is the argument, stdin with "-", or else the configured one (--usersig, IMADMIN_USERSIG, .imadminrc).',
    )
    .argument('[usersig]', 'the UserSig; "-" reads stdin (default: the configured userSig)')
    .option('--secret-key-file <path>', 'read the secret key from this file\'s first line; "-" reads stdin (default: secretKey)')
    .addOption(new Option('--secret-key <key>').hideHelp())
    .addHelpText('after', VERIFY_EXAMPLES)
    .action(async (userSig: string | undefined, options: UsersigVerifyOptions) => {
      await usersigVerifyRun(rt, userSig, options);
    });

  for (const command of [gen, inspect, verifyCommand]) group.addCommand(command);
  return group;
}

/** `usersig gen`: prints a UserSig for the configured app and identifier. */
export async function usersigGenRun(rt: Runtime, options: UsersigGenOptions): Promise<void> {
  refuseSecretKeyFlag(rt, options.secretKey);
  const settings = await rt.settings();
  const sdkAppId = parseSdkAppId(requireSetting(settings, 'sdkAppId', 'sdkAppId (the SDKAppID of your Chat app)'));
  // --identifier, before or after `usersig gen`, arrives here through the global flags.
  const identifier = requireSetting(settings, 'identifier', 'identifier (the account to sign for)').value.trim();
  const expireSeconds = genValidity(settings, options.expire);
  const key = await resolveSecretKey(rt, settings, options.secretKeyFile, 'sign');
  const now = nowSeconds(rt);
  const userSig = generate({ sdkAppId, identifier, secretKey: key.value, expireSeconds, now });
  rt.secrets.add(userSig);
  rt.deps.io.stdout.write(`${userSig}\n`);
  if (rt.deps.io.stderrIsTTY) rt.info(`valid until ${isoSeconds(now + expireSeconds)} (${formatDuration(expireSeconds)})`);
}

/** --expire, else `usersigTtl`, else one day: what auto-signing uses, so both agree. */
function genValidity(settings: Settings, expire: string | undefined): number {
  if (expire !== undefined) {
    try {
      return parseDuration(expire);
    } catch (error) {
      throw new UsageError(`--expire: ${(error as Error).message}`);
    }
  }
  const ttl = settings.values.usersigTtl;
  if (ttl === undefined) return DEFAULT_ADMIN_TTL_SECONDS;
  try {
    return parseDuration(ttl.value);
  } catch (error) {
    throw new ConfigError(`usersigTtl (from ${describeSource(ttl.source)}): ${(error as Error).message}`);
  }
}

/** `usersig inspect`: prints the fields of a UserSig, as aligned lines or JSON. */
export async function usersigInspectRun(rt: Runtime, arg: string | undefined, options: UsersigInspectOptions): Promise<void> {
  const input = await resolveUserSig(rt, arg, 'inspect');
  const decoded = decode(input.value);
  const report = inspection(decoded, nowSeconds(rt));
  const out = rt.deps.io.stdout;
  if (options.json) {
    out.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const rows: Array<[string, string]> = [
    ['identifier', printable(report.identifier)],
    ['SDKAppID', String(report.sdkAppId)],
    ['issued at', report.issuedAt],
    ['expires at', report.expiresAt],
    ['validity', formatDuration(report.expireSeconds)],
    ['time left', report.expired ? `expired ${formatDuration(-report.secondsLeft)} ago` : formatDuration(report.secondsLeft)],
    ['userbuf', decoded.userbuf === undefined ? 'none' : `${decoded.userbuf.length} bytes`],
    ['source', input.from],
  ];
  const width = Math.max(...rows.map(([key]) => key.length)) + 2;
  out.write(rows.map(([key, value]) => `${`${key}:`.padEnd(width)}${value}\n`).join(''));
}

function inspection(decoded: DecodedUserSig, now: number): UsersigInspection {
  return {
    identifier: decoded.identifier,
    sdkAppId: decoded.sdkAppId,
    issuedAt: isoSeconds(decoded.time),
    expiresAt: isoSeconds(decoded.expiresAt),
    expireSeconds: decoded.expire,
    // Valid while now <= time + expire (API.md section 4.6).
    expired: now > decoded.expiresAt,
    secondsLeft: decoded.expiresAt - now,
    userbuf: decoded.userbuf !== undefined,
  };
}

/** `usersig verify`: exit 0 with a summary when the UserSig is good, AuthError (exit 4) when not. */
export async function usersigVerifyRun(rt: Runtime, arg: string | undefined, options: UsersigVerifyOptions): Promise<void> {
  refuseSecretKeyFlag(rt, options.secretKey);
  if (arg === '-' && options.secretKeyFile === '-') {
    throw new UsageError('the UserSig and the secret key cannot both be read from stdin', {
      hint: 'put the secret key in a file (--secret-key-file key.txt) or in `secretKey`',
    });
  }
  const settings = await rt.settings();
  const v = settings.values;
  const sdkAppIdSetting = v.sdkAppId !== undefined && v.sdkAppId.value.trim() !== '' ? v.sdkAppId : undefined;
  const sdkAppId = sdkAppIdSetting === undefined ? undefined : parseSdkAppId(sdkAppIdSetting);
  const identifier = v.identifier?.value.trim() || undefined;
  const key = await resolveSecretKey(rt, settings, options.secretKeyFile, 'verify');
  const input = await resolveUserSig(rt, arg, 'verify');

  const now = nowSeconds(rt);
  const result = verify(input.value, { secretKey: key.value, sdkAppId, identifier, now });
  if (!result.ok) throw verifyError(result, input.value, settings, key.from);

  const { decoded } = result;
  const notCompared = ' (not compared: none configured)';
  rt.deps.io.stdout.write(
    `valid: identifier ${JSON.stringify(decoded.identifier)}${identifier === undefined ? notCompared : ''}, ` +
      `SDKAppID ${decoded.sdkAppId}${sdkAppId === undefined ? notCompared : ''}, ` +
      `signed with the secret key from ${key.from}, ` +
      `expires ${isoSeconds(decoded.expiresAt)} (${formatDuration(decoded.expiresAt - now)} left)\n`,
  );
}

/** The AuthError for a failed verify: verify()'s message, and a hint for its reason. */
function verifyError(result: VerifyFailure, userSig: string, settings: Settings, keyFrom: string): AuthError {
  const v = settings.values;
  const from = (key: 'sdkAppId' | 'identifier'): string => {
    const setting = v[key];
    return setting === undefined ? '' : ` (from ${describeSource(setting.source)})`;
  };
  let hint: string;
  switch (result.reason) {
    case 'malformed':
      hint = decodeHint(userSig);
      break;
    case 'bad-signature':
      hint =
        `check that the secret key (from ${keyFrom}) belongs to SDKAppID ${result.decoded?.sdkAppId ?? ''} ` +
        '(Chat console → Application → Basic configuration), or sign a new UserSig with `im-attrs usersig gen`';
      break;
    case 'sdkappid-mismatch':
      hint = `sign one for this app with \`im-attrs usersig gen\`, or fix \`sdkAppId\`${from('sdkAppId')}`;
      break;
    case 'identifier-mismatch':
      hint = `sign one for this identifier with \`im-attrs usersig gen\`, or fix \`identifier\`${from('identifier')}`;
      break;
    case 'expired':
      hint = 'sign a new one with `im-attrs usersig gen`, or leave `userSig` unset so im-attrs signs its own from `secretKey`';
      break;
  }
  return new AuthError(result.message, { hint });
}

/** decode()'s own hint (it tells a pasted secret key from other garbage). */
function decodeHint(userSig: string): string {
  try {
    decode(userSig);
  } catch (error) {
    if (error instanceof UsageError && error.hint) return error.hint;
  }
  return 'copy the whole UserSig again, or sign a new one with `im-attrs usersig gen`';
}

interface Resolved {
  value: string;
  /** Where it came from, for messages: "env IMADMIN_SECRET_KEY", "--secret-key-file key.txt", "stdin". */
  from: string;
}

/** --secret-key-file wins over `secretKey`; neither is a ConfigError (exit 3). */
async function resolveSecretKey(rt: Runtime, settings: Settings, file: string | undefined, purpose: 'sign' | 'verify'): Promise<Resolved> {
  if (file !== undefined) {
    const value = await rt.readSecretKeyFile(file);
    return { value, from: file === '-' ? '--secret-key-file - (stdin)' : `--secret-key-file ${file}` };
  }
  const setting = settings.values.secretKey;
  const value = setting?.value.trim();
  if (setting === undefined || !value) {
    throw new ConfigError(`no secret key to ${purpose} the UserSig with: secretKey is not configured`, {
      hint:
        purpose === 'verify'
          ? `${SECRET_KEY_WAYS}; without a key, \`im-attrs usersig inspect\` shows what the UserSig holds`
          : SECRET_KEY_WAYS,
    });
  }
  rt.secrets.add(value);
  return { value, from: describeSource(setting.source) };
}

/**
 * The UserSig to inspect or verify: the argument, stdin for "-", else the configured one.
 * Registered for redaction before anything can print it.
 */
async function resolveUserSig(rt: Runtime, arg: string | undefined, verb: 'inspect' | 'verify'): Promise<Resolved> {
  const emptyHint = `pass the UserSig, pipe it in with "-" (im-attrs usersig gen | im-attrs usersig ${verb} -), or configure one`;
  if (arg === '-') {
    const value = (await readStdin(rt)).trim();
    rt.secrets.add(value);
    if (value === '') throw new UsageError('no UserSig on stdin: it is empty', { hint: emptyHint });
    return { value, from: 'stdin' };
  }
  if (arg !== undefined) {
    const value = arg.trim();
    rt.secrets.add(value);
    if (value === '') throw new UsageError('the UserSig argument is empty', { hint: emptyHint });
    return { value, from: 'argument' };
  }
  const settings = await rt.settings();
  const setting = settings.values.userSig;
  const value = setting?.value.trim();
  if (setting === undefined || !value) {
    throw new ConfigError(`no UserSig to ${verb}: none was given and userSig is not configured`, {
      hint: `pass one, pipe it in with "-" (im-attrs usersig gen | im-attrs usersig ${verb} -), or set \`userSig\` (--usersig, IMADMIN_USERSIG, .imadminrc)`,
    });
  }
  return { value, from: describeSource(setting.source) };
}

function readStdin(rt: Runtime): Promise<string> {
  return readAll(rt.deps.io.stdin);
}

function nowSeconds(rt: Runtime): number {
  return Math.floor(rt.deps.now() / 1000);
}


/** An identifier as is, or quoted when it holds control characters that would act on a terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f]/.test(text) ? JSON.stringify(text) : text;
}
