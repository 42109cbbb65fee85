/**
 * `im-attrs emulator`: the local emulator of the REST API, for demos, scripts and tests.
 * Prints its base URL on stdout (one line, for scripts) and serves until SIGINT/SIGTERM.
 */
import path from 'node:path';
import { untilStopped } from '../deps.js';
import { Command, Option } from 'commander';
import { readSecretInput } from '../config/secret-input.js';
import { DEFAULT_CALLBACK_RETRIES } from '../emulator/callbacks.js';
import { readAccounts } from '../input/accounts.js';
import { UsageError } from '../errors.js';
import {
  BATCH_CALLS_PER_SECOND,
  DEFAULT_PUSH_EDITION,
  DEFAULT_PUSH_QUOTA,
  PUSH_EDITIONS,
  SCHED_LIST_MAX_SPAN_DAYS,
  type PushEdition,
} from '../emulator/limits.js';
import { CONDITION_READINGS, NULL_FIELDS_NOTE } from '../push/condition.js';
import {
  DEFAULT_EMULATOR_IDENTIFIER,
  DEFAULT_EMULATOR_RATE_LIMIT,
  DEFAULT_EMULATOR_SDKAPPID,
  parseFault,
  startEmulator,
  type Fault,
} from '../emulator/server.js';
import { parseIntOption, type Runtime } from '../runtime/runtime.js';
import { collect } from '../util/text.js';

export interface EmulatorCommandOptions {
  host: string;
  port: string;
  sdkappid: string;
  identifier: string;
  data?: string;
  seedUsers?: string;
  secretKeyFile?: string;
  latency: string;
  jitter: string;
  rateLimit: string;
  fail?: string[];
  faultSeed: string;
  latencyIn: string;
  jitterIn: string;
  envelope: string;
  pushQuota: string;
  notImported?: string;
  registrationIds?: string;
  sharedPushStores?: boolean;
  pushEdition: string;
  clockOffset?: string;
  callbackUrl?: string;
  callbackTokenFile?: string;
  callbackDuplicates: string;
  callbackRetries: string;
}

/** `--callback-url`: an http(s) URL, its query kept (the emulator adds SdkAppid, Sign, …). */
function parseCallbackUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--callback-url "${text}" is not a URL`, { hint: 'e.g. --callback-url http://127.0.0.1:8080/im/callback' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--callback-url "${text}": only http and https URLs are supported`);
  return url.toString();
}

/** `--callback-duplicates`: a fraction 0..1. */
function parseFraction(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) throw new UsageError(`${flag} "${text}": expected a fraction between 0 and 1, e.g. 0.05`);
  return value;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--clock-offset`: milliseconds, or a number with ms, s, m, h or d (`90s`, `-2h`, `3d`). */
export function parseDurationMs(flag: string, text: string): number {
  const match = /^(-?\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 'ms']! : NaN;
  if (!Number.isSafeInteger(ms)) throw new UsageError(`${flag} "${text}": expected milliseconds or a duration such as 90s, 15m, 2h, 3d or -1h`);
  return ms;
}

const EXAMPLES = `
Examples:
  $ im-attrs emulator --seed-users 1000
  $ echo "$SECRET" > key.txt && im-attrs emulator --secret-key-file key.txt --data state.json
  $ im-attrs emulator --latency 60 --jitter 30 --fail 91000:0.1 --fail reset:0.02 --fault-seed 7

Then point im-attrs at it:
  $ IMADMIN_ENDPOINT=http://127.0.0.1:PORT IMADMIN_SDKAPPID=${DEFAULT_EMULATOR_SDKAPPID} \\
    IMADMIN_IDENTIFIER=${DEFAULT_EMULATOR_IDENTIFIER} IMADMIN_SECRET_KEY=… im-attrs get user000001

With --callback-url it POSTs signed Push.AllMemberPush events (sent, reached, clicked; at most 100
per request) for every TIMPush push, batch and fired scheduled task, Sign = sha256(token +
RequestTime) with the token of --callback-token-file; a request counts only when answered HTTP 200
{"ErrorCode":0}, else it is re-sent (--callback-retries, 2 s timeout). GET /_emulator/callbacks
answers the counts.

GET /_emulator/stats answers request counts, the busiest one-second window, rate rejections and
faults injected; GET /_emulator/requests the request log (UserSig redacted); GET /_emulator/pushes
every accepted push (TaskId, family, condition, time) with its full list of recipients.

The emulator's clock is the real one plus --clock-offset; POST /_emulator/clock {"advanceMs": n} or
{"offsetMs": n} moves it (GET answers it). Scheduled tasks fire when the clock passes their SchedAt
(UTC), checked on every request and clock move: pending, then dispatching (one second per 200
recipients), then dispatched. list_sched_task takes BeginTime..EndTime of at most
${SCHED_LIST_MAX_SPAN_DAYS} days (the real maximum is unconfirmed) and OrderBy schedat/createat in either casing.
timpush/batch runs at the --push-edition's rate (free ${BATCH_CALLS_PER_SECOND.free}, standard ${BATCH_CALLS_PER_SECOND.standard}, advanced ${BATCH_CALLS_PER_SECOND.advanced} calls/s) and does not
count against the daily push quota, nor do fired scheduled tasks (both unconfirmed). Statistics,
loss and trace report TIMPush pushes, batch_ tasks and fired scheduled tasks (batch: unconfirmed),
from each recipient's simulated device (platform, online, token, certificate).

The all_member_push and v4/timpush families keep separate attribute and tag stores (whether
Tencent shares them is unconfirmed). Push conditions are read as follows where the docs are silent:
${CONDITION_READINGS.map((r) => `  - ${r}`).join('\n')}
${NULL_FIELDS_NOTE}
`;

export function newEmulatorCommand(rt: Runtime): Command {
  const command = new Command('emulator')
    .summary('run a local emulator of the REST API, for demos, scripts and tests')
    .description(
      'Run a local emulator of the Chat REST API push commands on loopback: all_member_push attributes ' +
        '(im_get_attr_name, im_set_attr_name, im_get_attr, im_set_attr, im_remove_attr), tags (im_get_tag, ' +
        'im_add_tag, im_remove_tag, im_remove_all_tags) and im_push; the v4/timpush family (get_attr_name, ' +
        'set_attr_name, get_attr, set_attr, remove_attr, get_tag, add_tag, remove_tag, clear_all_tags, push, batch, ' +
        'revoke, add/get/list/modify/delete_sched_task, all_member_push_statistics, all_member_push_loss, ' +
        'all_member_push_trace); and im_open_login_svc/account_check. It prints its base URL ' +
        'on stdout and serves until Ctrl-C or SIGTERM.',
    )
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port; 0 picks a free one').default('0'))
    .addOption(new Option('--sdkappid <n>', 'the SDKAppID it answers for').default(String(DEFAULT_EMULATOR_SDKAPPID)))
    .addOption(new Option('--identifier <admin>', 'the administrator account').default(DEFAULT_EMULATOR_IDENTIFIER))
    .option('--data <file.json>', 'load state from this file and save every change to it (atomically)')
    .option('--seed-users <n>', 'create N deterministic users user000001… with a few attributes and tags (in both families)')
    .option('--not-imported <ids-file>', 'make these accounts (one per line) not imported: no data, 70107 on timpush, NotImported in account_check')
    .option('--shared-push-stores', 'let v4/timpush read and write the all_member_push attributes and tags (default: separate stores; unconfirmed which is real)')
    .option('--registration-ids <ids-file>', 'make these accounts (one per line) TIMPush RegistrationIDs (account type 1), not IM accounts')
    .option('--secret-key-file <path>', 'verify every UserSig with this secret key ("-" reads stdin; default: IMADMIN_SECRET_KEY); without one only presence is checked')
    .addOption(new Option('--latency <ms>', 'delay before each answer').default('0'))
    .addOption(new Option('--jitter <ms>', 'random ± added to the latency').default('0'))
    .addOption(new Option('--latency-in <ms>', 'delay before a request reaches the rate limiter (network on the way in)').default('0'))
    .addOption(new Option('--jitter-in <ms>', 'random ± added to --latency-in').default('0'))
    .addOption(new Option('--envelope <mode>', 'strict: every answer has ActionStatus, ErrorCode, ErrorInfo; loose: some omit ActionStatus or ErrorInfo, some successes say "sucess" (seeded by --fault-seed)').choices(['strict', 'loose']).default('strict'))
    .addOption(new Option('--push-edition <edition>', 'TIMPush edition: sets timpush/batch calls per second (free 10, standard 30, advanced 40)').choices(PUSH_EDITIONS).default(DEFAULT_PUSH_EDITION))
    .option('--clock-offset <duration>', 'start the emulator\'s clock this far from now: milliseconds or 90s, 15m, 2h, 3d, -1h')
    .option('--callback-url <url>', 'POST push-result callbacks (Push.AllMemberPush) here')
    .option('--callback-token-file <path>', 'the callback token that signs them, first line of the file ("-" reads stdin); never printed')
    .addOption(new Option('--callback-duplicates <fraction>', 'send this share of acknowledged callback requests again, as Tencent\'s retries do').default('0'))
    .addOption(new Option('--callback-retries <n>', 're-sends of a callback request that failed or timed out').default(String(DEFAULT_CALLBACK_RETRIES)))
    .addOption(new Option('--push-quota <n>', 'pushes a day per family (im_push, timpush/push)').default(String(DEFAULT_PUSH_QUOTA)))
    .addOption(new Option('--rate-limit <calls/s>', 'per command, over any one-second window; 0 = off').default(String(DEFAULT_EMULATOR_RATE_LIMIT)))
    .option('--fail <what:fraction>', 'inject faults: an error code (91000), http502, http503, reset, timeout or garbage (repeatable)', collect)
    .addOption(new Option('--fault-seed <n>', 'seed for reproducible faults, jitter and loose envelopes').default('1'));
  command.addHelpText('after', EXAMPLES);
  command.action(async (options: EmulatorCommandOptions) => {
    await emulatorRun(rt, options);
  });
  return command;
}

export async function emulatorRun(rt: Runtime, options: EmulatorCommandOptions): Promise<void> {
  const { deps } = rt;
  let faults: Fault[];
  try {
    faults = (options.fail ?? []).map(parseFault);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let secretKey: string | undefined;
  if (options.secretKeyFile !== undefined) {
    secretKey = await rt.readSecretKeyFile(options.secretKeyFile);
  } else if (deps.env.IMADMIN_SECRET_KEY) {
    secretKey = deps.env.IMADMIN_SECRET_KEY.trim();
  }
  rt.secrets.add(secretKey);
  const idsOf = async (file: string | undefined): Promise<string[] | undefined> => {
    if (file === undefined) return undefined;
    const ids: string[] = [];
    for await (const id of readAccounts([{ kind: 'file', path: path.resolve(deps.cwd, file) }])) ids.push(id);
    return ids;
  };
  const callbackUrl = options.callbackUrl === undefined ? undefined : parseCallbackUrl(options.callbackUrl);
  if (options.callbackTokenFile !== undefined && callbackUrl === undefined) throw new UsageError('--callback-token-file needs --callback-url');
  const callbackToken = options.callbackTokenFile === undefined ? undefined : await readSecretInput(deps, options.callbackTokenFile, '--callback-token-file');
  rt.secrets.add(callbackToken);
  const callbackDuplicateFraction = parseFraction('--callback-duplicates', options.callbackDuplicates);
  const callbackRetries = parseIntOption('--callback-retries', options.callbackRetries, 0, 100);
  const clockOffsetMs = options.clockOffset === undefined ? 0 : parseDurationMs('--clock-offset', options.clockOffset);
  const notImported = await idsOf(options.notImported);
  const registrationIds = await idsOf(options.registrationIds);
  // --sdkappid and --identifier are also global options, and commander hands a value given after
  // `emulator` to the program: take it from there when it was given.
  const sdkappid = rt.options.sdkappid ?? options.sdkappid;
  const identifier = rt.options.identifier ?? options.identifier;
  const emulator = await startEmulator({
    host: options.host,
    port: parseIntOption('--port', options.port, 0, 65535),
    sdkAppId: parseIntOption('--sdkappid', sdkappid, 1, Number.MAX_SAFE_INTEGER),
    identifier,
    dataFile: options.data ? path.resolve(deps.cwd, options.data) : undefined,
    seedUsers: options.seedUsers ? parseIntOption('--seed-users', options.seedUsers, 0, 10_000_000) : 0,
    secretKey,
    latencyMs: parseIntOption('--latency', options.latency, 0, 60_000),
    jitterMs: parseIntOption('--jitter', options.jitter, 0, 60_000),
    rateLimit: parseIntOption('--rate-limit', options.rateLimit, 0, 1_000_000),
    faults,
    faultSeed: parseIntOption('--fault-seed', options.faultSeed, 0, 2 ** 31),
    latencyInMs: parseIntOption('--latency-in', options.latencyIn, 0, 60_000),
    jitterInMs: parseIntOption('--jitter-in', options.jitterIn, 0, 60_000),
    envelope: options.envelope === 'loose' ? 'loose' : 'strict',
    pushQuota: parseIntOption('--push-quota', options.pushQuota, 0, 1_000_000),
    pushEdition: options.pushEdition as PushEdition,
    ...(callbackUrl === undefined ? {} : { callbackUrl, callbackToken, callbackDuplicateFraction, callbackRetries }),
    clockOffsetMs,
    notImported,
    registrationIds,
    sharedStores: options.sharedPushStores === true,
    // A long-running emulator keeps the last requests only, so a benchmark cannot fill memory.
    logLimit: 10_000,
  }).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`the emulator cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`);
  });
  deps.io.stdout.write(`${emulator.url}\n`);
  rt.info(
    `emulator: SDKAppID ${sdkappid}, administrator "${identifier}", ${emulator.state.users.size} users, ` +
      `UserSig ${secretKey ? 'verified with the secret key' : 'checked for presence only'}; Ctrl-C stops it`,
  );
  await untilStopped(deps.signals);
  await emulator.close();
  rt.info('emulator: stopped');
}
