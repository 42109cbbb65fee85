/**
 * `im-attrs push events listen|summary|verify`: receive Tencent's push-result callbacks
 * (`Push.AllMemberPush`, DELIVERY.md §5) without losing one, sum them up per push, and check a
 * callback URL's signature offline.
 *
 * The callback token is a secret: it comes from the config (`callbackToken`, `${VAR}` allowed,
 * IMADMIN_CALLBACK_TOKEN) or `--token-file`, never from a flag (ps shows flags), and is registered
 * for redaction before anything can print it.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { untilStopped } from '../deps.js';
import { Command, Option } from 'commander';
import { readSecretInput } from '../config/secret-input.js';
import { describeSource, isLoopbackHost, parseSdkAppId, requireSetting, type Settings } from '../config/resolve.js';
import { AuthError, ConfigError, UsageError } from '../errors.js';
import { FileSink, SinkWriteError, StreamSink, type EventSink } from '../events/appender.js';
import { MAX_EVENTS_PER_REQUEST, platformName, PUSH_STAGES } from '../events/events.js';
import { EventSummary, totalsByKey, type SummaryKey, type SummaryRow } from '../events/summary.js';
import { addOutputOptions, resolveOutputFormat, tableLayout } from '../jobs/read-options.js';
import { truncate, writeRows, type OutputFormat, type TableLayout } from '../output/index.js';
import { fsReason } from '../util/fs.js';
import { HEALTH_PATH, MAX_BODY_BYTES, REFUSAL_WORDS, startEventsListener, type EventsListener, type RefusalReason } from '../events/server.js';
import { checkRequestTime, DEFAULT_MAX_SKEW_SECONDS, MIN_TOKEN_LENGTH, PUSH_CALLBACK_COMMAND, signMatches } from '../events/sign.js';
import { parseIntOption, type Runtime } from '../runtime/runtime.js';
import { plural, thousands } from '../util/text.js';

/** The default port of `listen`: an unprivileged one, free on most machines. */
export const DEFAULT_EVENTS_PORT = 8787;

/** The widest --max-skew: a year, for `verify` of a URL kept in a log. */
const MAX_SKEW_LIMIT_SECONDS = 366 * 86_400;

/** At most one "write failed" line on stderr per this many milliseconds (a full disk fails every batch). */
const WRITE_ERROR_REPORT_INTERVAL_MS = 1000;

export interface EventsListenOptions {
  host: string;
  port: string;
  path: string;
  out?: string;
  tokenFile?: string;
  maxSkew: string;
  /** Refused: the token is never a flag value. */
  token?: string;
}

export interface EventsSummaryOptions {
  by: string;
  output?: string;
  json?: boolean;
  wide?: boolean;
}

export interface EventsVerifyOptions {
  tokenFile?: string;
  maxSkew: string;
  token?: string;
}

/** Where the token may come from, said in every error about a missing one. */
const TOKEN_WAYS =
  'set `callbackToken` in .imadminrc (e.g. "callbackToken": "${IMADMIN_CALLBACK_TOKEN}") or IMADMIN_CALLBACK_TOKEN, ' +
  'or pass --token-file FILE ("-" reads stdin); it is the token set for callback authentication in the Chat console';

const LISTEN_EXAMPLES = `
Examples:
  $ IMADMIN_CALLBACK_TOKEN=… im-attrs push events listen --out events.ndjson
  $ im-attrs push events listen --token-file token.txt --port 0 --path /im/push --out events.ndjson -v
  $ im-attrs push events listen --host 0.0.0.0 --out /var/lib/im-attrs/events.ndjson

Put it behind your HTTPS reverse proxy or tunnel, and set the callback URL in the
Chat console to https://your.domain/PATH: Tencent adds SdkAppid, CallbackCommand,
contenttype, Sign and RequestTime.
`;

const SUMMARY_EXAMPLES = `
Examples:
  $ im-attrs push events summary events.ndjson
  $ im-attrs push events summary --by data-id events-*.ndjson -o csv > funnel.csv
  $ im-attrs push events summary events.ndjson --json | jq '.[] | select(.Platform == "APNs")'
`;

const VERIFY_EXAMPLES = `
Examples:
  $ im-attrs push events verify 'https://cb.example.com/?SdkAppid=1400000000&Sign=…&RequestTime=…'
  $ im-attrs push events verify --token-file token.txt --max-skew 86400 "$URL_FROM_THE_LOG"
`;

/** `push events` and its subcommands. The lead wires it under `push`. */
export function newPushEventsCommand(rt: Runtime): Command {
  const group = new Command('events')
    .summary("receive Tencent's push-result callbacks, sum them up, check their signatures")
    .description(
      "Receive Tencent's push-result callbacks (Push.AllMemberPush: sent, reached, clicked per account), " +
        'sum them up per push and platform, and check a callback URL offline. The callback token comes from ' +
        '`callbackToken` (config, IMADMIN_CALLBACK_TOKEN) or --token-file, never from a flag.',
    );

  const listen = new Command('listen')
    .summary('receive push-result callbacks and append their events to an ndjson file')
    .description(
      'Serve HTTP for Tencent\'s push-result callbacks and append each event, one JSON object a line, to --out ' +
        '(or stdout). A callback is answered {"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0} only once its ' +
        'events are written and synced to disk (requests that arrive during a sync share the next one); when ' +
        'they cannot be written it is answered 500 so Tencent sends it again, and stderr says why.\n\n' +
        'Every request is checked: Sign = sha256(token + RequestTime) (401 when missing or wrong), RequestTime ' +
        'within --max-skew of this clock (401), SdkAppid equal to `sdkAppId` (401), CallbackCommand ' +
        `${PUSH_CALLBACK_COMMAND} when given (400), a body of at most ${MAX_BODY_BYTES / 1024 / 1024} MiB (413) ` +
        `holding {"Events":[…]} with 1 to ${MAX_EVENTS_PER_REQUEST} events (400). Each event needs To_Account ` +
        '(a string) and PushStage (1 sent, 2 reached, 3 clicked); TaskId and DataId (strings), EventType, ' +
        'EventTime and PushPlatform (whole numbers) are checked when present, and may be absent; other fields ' +
        'are kept as they came. Not POST: 405; another path: 404. ' +
        `GET ${HEALTH_PATH} answers 200.\n\n` +
        'It listens on 127.0.0.1 unless --host says otherwise: put your HTTPS reverse proxy or tunnel in front. ' +
        'Ctrl-C or SIGTERM stops it: no new requests, those under way are answered and written, then the ' +
        'counts are printed. With stdout instead of --out, a batch counts as written once stdout has taken it ' +
        '(nothing is synced). -v prints a line per request.',
    )
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port; 0 picks a free one (the URL is printed on stderr)').default(String(DEFAULT_EVENTS_PORT)))
    .addOption(new Option('--path <path>', 'the callback path; other paths answer 404').default('/'))
    .option('--out <file>', 'append events here (created with mode 600); default: stdout')
    .option('--token-file <file>', 'read the callback token from this file\'s first line; "-" reads stdin (default: callbackToken)')
    .addOption(new Option('--max-skew <seconds>', 'how far RequestTime may be from this clock').default(String(DEFAULT_MAX_SKEW_SECONDS)))
    .addOption(new Option('--token <token>').hideHelp())
    .addHelpText('after', LISTEN_EXAMPLES)
    .action(async (options: EventsListenOptions) => {
      await eventsListenRun(rt, options);
    });

  const verify = new Command('verify')
    .summary("check a callback URL's Sign, RequestTime and SdkAppid offline")
    .description(
      'Check one callback URL as `listen` would: its Sign against the token, its RequestTime against this ' +
        'clock (--max-skew), its SdkAppid against `sdkAppId` (when configured) and its CallbackCommand. For ' +
        'debugging your own receiver. Exit 0 and "valid: …" on stdout when it would be accepted; exit 4 with ' +
        'every reason when not; exit 3 without a token, 2 for a URL that is not one.',
    )
    .argument('<url>', 'the callback URL as your receiver got it (quote it: it holds &)')
    .option('--token-file <file>', 'read the callback token from this file\'s first line; "-" reads stdin (default: callbackToken)')
    .addOption(new Option('--max-skew <seconds>', 'how far RequestTime may be from this clock').default(String(DEFAULT_MAX_SKEW_SECONDS)))
    .addOption(new Option('--token <token>').hideHelp())
    .addHelpText('after', VERIFY_EXAMPLES)
    .action(async (url: string, options: EventsVerifyOptions) => {
      await eventsVerifyRun(rt, url, options);
    });

  const summary = new Command('summary')
    .summary('sent, reached and clicked per push and platform, from the files listen wrote')
    .description(
      'Read the ndjson files `push events listen` wrote and print, per push (TaskId, or DataId with --by ' +
        'data-id) and platform, how many events said sent, reached and clicked (PushStage 1, 2, 3). Platforms ' +
        `by PushPlatform: ${['0 unknown', ...[1, 2, 3, 4, 5, 6, 7, 8].map((p) => `${p} ${platformName(p)}`)].join(', ')}. ` +
        'An event counts once per TaskId, To_Account, PushStage, EventType and EventTime: Tencent sends a ' +
        'callback again when it got no OK, so files hold repeats. The files are streamed (memory: the pushes ' +
        'and platforms, plus some 11-23 bytes per distinct event); lines that are not events are skipped and ' +
        'named on stderr. On a terminal, the table is followed by a bar chart per push: sent → reached → clicked.',
    )
    .argument('<files...>', 'ndjson files written by `push events listen`; "-" reads stdin')
    .addOption(new Option('--by <key>', 'task: a row per TaskId and platform; data-id: per DataId and platform').choices(['task', 'data-id']).default('task'));
  addOutputOptions(summary)
    .addHelpText('after', SUMMARY_EXAMPLES)
    .action(async (files: string[], options: EventsSummaryOptions) => {
      await eventsSummaryRun(rt, files, options);
    });

  return group.addCommand(listen).addCommand(summary).addCommand(verify);
}

/** Why `--token` does not exist, and what to use instead. */
function refuseTokenFlag(rt: Runtime, value: string | undefined): void {
  if (value === undefined) return;
  rt.secrets.add(value);
  throw new UsageError('the callback token is never a flag value: on the command line it ends up in shell history and process lists', { hint: TOKEN_WAYS });
}

/** The callback token: --token-file, else `callbackToken`; registered as a secret before anything else. */
export async function resolveCallbackToken(rt: Runtime, settings: Settings, tokenFile: string | undefined): Promise<{ value: string; from: string }> {
  let value: string;
  let from: string;
  if (tokenFile !== undefined) {
    value = await readSecretInput(rt.deps, tokenFile, '--token-file');
    from = tokenFile === '-' ? '--token-file - (stdin)' : `--token-file ${tokenFile}`;
  } else {
    const setting = settings.values.callbackToken;
    // Reading the value throws the ConfigError naming an unset ${VAR}.
    value = setting?.value.trim() ?? '';
    if (setting === undefined || value === '') throw new ConfigError('no callback token: `callbackToken` is not configured', { hint: TOKEN_WAYS });
    from = describeSource(setting.source);
  }
  rt.secrets.add(value);
  if (value.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(`the callback token (from ${from}) is shorter than ${MIN_TOKEN_LENGTH} characters`, {
      hint: 'set a longer token for callback authentication in the Chat console: a short one can be guessed from one callback URL',
    });
  }
  return { value, from };
}

function parseMaxSkew(text: string): number {
  return parseIntOption('--max-skew', text, 1, MAX_SKEW_LIMIT_SECONDS);
}

/** Hooks for tests and the bench: told the listener once it listens. */
export interface ListenHooks {
  onListening?: (listener: EventsListener) => void;
}

/** `push events listen`: serves until SIGINT/SIGTERM, then prints the counts. */
export async function eventsListenRun(rt: Runtime, options: EventsListenOptions, hooks: ListenHooks = {}): Promise<void> {
  const { deps } = rt;
  refuseTokenFlag(rt, options.token);
  const port = parseIntOption('--port', options.port, 0, 65535);
  const maxSkewSeconds = parseMaxSkew(options.maxSkew);
  if (!options.path.startsWith('/') || /[?#\s]/.test(options.path)) {
    throw new UsageError(`--path "${options.path}" must be a URL path starting with /, without a query`, { hint: 'e.g. --path / or --path /im/push-events' });
  }
  const settings = await rt.settings();
  const sdkAppId = parseSdkAppId(requireSetting(settings, 'sdkAppId', 'sdkAppId (the SDKAppID whose callbacks are accepted)'));
  const token = await resolveCallbackToken(rt, settings, options.tokenFile);
  if (!isLoopbackHost(options.host)) {
    rt.warn(`listening on ${options.host}, not loopback: callbacks arrive in plain HTTP; put an HTTPS reverse proxy or tunnel in front`);
  }

  let sink: EventSink;
  if (options.out === undefined) {
    sink = new StreamSink(deps.io.stdout);
  } else {
    const file = path.resolve(deps.cwd, options.out);
    try {
      sink = await FileSink.open(file, (message) => rt.warn(message));
    } catch (error) {
      if (!(error instanceof SinkWriteError)) throw error;
      throw new UsageError(`--out: ${error.message}`, { hint: 'give a file in a directory that exists and that you can write' });
    }
  }

  let lastReport = -Infinity;
  let unreported = 0;
  const listener = await startEventsListener({
    host: options.host,
    port,
    path: options.path,
    token: token.value,
    sdkAppId,
    maxSkewSeconds,
    sink,
    now: deps.now,
    onRequest: (line) => rt.verbose(`events: ${line}`),
    onWriteError: (message) => {
      const now = deps.now();
      if (now - lastReport < WRITE_ERROR_REPORT_INTERVAL_MS) {
        unreported++;
        return;
      }
      const more = unreported > 0 ? ` (and ${plural(unreported, 'other failed write')} since the last line)` : '';
      lastReport = now;
      unreported = 0;
      rt.stderr(`${rt.chalk.red('events:')} ${message}${more}`);
    },
  }).catch(async (error: NodeJS.ErrnoException) => {
    await sink.close();
    throw new UsageError(`cannot listen on ${options.host}:${port}: ${error.code ?? error.message}`, {
      hint: error.code === 'EADDRINUSE' ? 'another process uses this port: pick another with --port, or --port 0 for any free one' : 'check --host and --port',
    });
  });

  // The URL is what the user came for with --port 0: printed even with --quiet.
  rt.stderr(`events: listening on ${listener.url} for SdkAppid ${sdkAppId}, token from ${token.from}; events to ${sink.label}; Ctrl-C stops`);
  hooks.onListening?.(listener);
  await untilStopped(deps.signals);
  rt.info('events: stopping: answering the requests under way');
  await listener.close();
  if (unreported > 0) rt.stderr(`${rt.chalk.red('events:')} ${plural(unreported, 'more failed write')} (see above)`);
  rt.info(listenSummary(listener, sink));
}

/** "events: stopped; 12 requests, 1,100 events written in 9 syncs; refused: 2 bad Sign". */
export function listenSummary(listener: EventsListener, sink: EventSink): string {
  const { stats } = listener;
  const refused = [...stats.refused].sort(([, a], [, b]) => b - a).map(([reason, n]: [RefusalReason, number]) => `${n} ${REFUSAL_WORDS[reason]}`);
  return (
    `events: stopped; ${plural(stats.requests, 'request')}, ${plural(stats.eventsWritten, 'event')} written ` +
    `in ${plural(sink.commits, 'write')}${refused.length ? `; refused: ${refused.join(', ')}` : '; none refused'}`
  );
}

/** `push events verify URL`: "valid: …" on stdout, or an AuthError (exit 4) naming every problem. */
export async function eventsVerifyRun(rt: Runtime, input: string, options: EventsVerifyOptions): Promise<void> {
  refuseTokenFlag(rt, options.token);
  const maxSkewSeconds = parseMaxSkew(options.maxSkew);
  let url: URL;
  try {
    // A bare query (what a log line may keep) is read against a placeholder origin.
    url = new URL(input.trim(), 'http://callback.invalid/');
  } catch {
    throw new UsageError('the argument is not a URL', { hint: "pass the whole callback URL, quoted: 'https://…/?SdkAppid=…&Sign=…&RequestTime=…'" });
  }
  const settings = await rt.settings();
  const sdkAppIdSetting = settings.values.sdkAppId;
  const sdkAppId = sdkAppIdSetting !== undefined && sdkAppIdSetting.value.trim() !== '' ? parseSdkAppId(sdkAppIdSetting) : undefined;
  const token = await resolveCallbackToken(rt, settings, options.tokenFile);

  const q = url.searchParams;
  const problems: string[] = [];
  const good: string[] = [];
  const sign = q.get('Sign');
  const time = q.get('RequestTime');
  if (!sign) problems.push('the URL has no Sign (is callback authentication on in the Chat console?)');
  if (!time) problems.push('the URL has no RequestTime');
  if (sign && time) {
    if (signMatches(token.value, time, sign)) good.push(`Sign matches the token (from ${token.from})`);
    else problems.push(`Sign does not match the token (from ${token.from}) and RequestTime: another token, or an altered URL`);
  }
  if (time) {
    const check = checkRequestTime(time, rt.deps.now(), maxSkewSeconds);
    const when = check.requestTime === undefined ? '' : ` (${new Date(check.requestTime * 1000).toISOString().replace('.000', '')})`;
    if (check.ok) good.push(`${check.detail}${when}`);
    else problems.push(`${check.detail}${when}`);
  }
  const appText = q.get('SdkAppid');
  if (sdkAppId === undefined) good.push(`SdkAppid ${appText ?? '(none)'} (not compared: sdkAppId is not configured)`);
  else if (appText?.trim() === String(sdkAppId)) good.push(`SdkAppid ${sdkAppId} is this app`);
  else problems.push(appText ? `SdkAppid ${JSON.stringify(appText.slice(0, 20))} is not this app (${sdkAppId})` : `the URL has no SdkAppid (this app is ${sdkAppId})`);
  const command = q.get('CallbackCommand');
  if (command !== null && command !== PUSH_CALLBACK_COMMAND) problems.push(`CallbackCommand ${JSON.stringify(command.slice(0, 60))} is not ${PUSH_CALLBACK_COMMAND}`);

  if (problems.length > 0) {
    throw new AuthError(`invalid: ${problems.join('; ')}`, {
      hint: problems.some((p) => p.startsWith('RequestTime'))
        ? 'a URL from a log is older than the window: --max-skew SECONDS checks it anyway; a live one that is off means this clock or the sender\'s is wrong'
        : `check the token with the one set for callback authentication in the Chat console (${TOKEN_WAYS.split(';')[0]})`,
    });
  }
  rt.deps.io.stdout.write(`valid: ${good.join('; ')}\n`);
}

/** How many bad lines are named on stderr one by one; the rest are counted. */
const MAX_BAD_LINES_SHOWN = 5;

/** `push events summary FILE…`: the counts on stdout, what was read on stderr. */
export async function eventsSummaryRun(rt: Runtime, files: readonly string[], options: EventsSummaryOptions): Promise<void> {
  const { deps } = rt;
  const format = await resolveOutputFormat(rt, options);
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('"-" (stdin) can be given once');
  const by: SummaryKey = options.by === 'data-id' ? 'data-id' : 'task';
  const summary = new EventSummary(by);
  for (const file of files) {
    let input: NodeJS.ReadableStream;
    let close = async (): Promise<void> => undefined;
    if (file === '-') {
      input = deps.io.stdin;
    } else {
      const resolved = path.resolve(deps.cwd, file);
      try {
        const handle = await open(resolved, 'r');
        input = handle.createReadStream();
        close = () => handle.close().catch(() => undefined);
      } catch (error) {
        throw new UsageError(`${file} cannot be read: ${fsReason(error)}`);
      }
    }
    try {
      let n = 0;
      for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
        const bad = summary.addLine(line, file, ++n);
        if (bad && summary.bad <= MAX_BAD_LINES_SHOWN) rt.warn(`${bad.source}:${bad.line}: skipped, ${bad.why}`);
      }
    } catch (error) {
      throw new UsageError(`${file} cannot be read: ${fsReason(error)}`);
    } finally {
      await close();
    }
  }
  const rows = summary.rows();
  writeSummary(rt, format, by, rows, tableLayout(rt, options));
  if (summary.bad > MAX_BAD_LINES_SHOWN) rt.warn(`${plural(summary.bad - MAX_BAD_LINES_SHOWN, 'more line')} skipped: not events`);
  rt.info(
    `summary: ${plural(summary.events, 'event')} from ${plural(files.length, 'file')}` +
      `, ${plural(summary.duplicates, 'repeat')} left out${summary.bad ? `, ${plural(summary.bad, 'line')} skipped` : ''}`,
  );
  rt.debug(`summary: the dedupe table holds ${thousands(summary.dedupeBytes)} bytes`);
}

/** The summary's table (or tsv, csv, json, ndjson), and the bar chart after a table on a terminal. */
function writeSummary(rt: Runtime, format: OutputFormat, by: SummaryKey, rows: readonly SummaryRow[], layout: TableLayout): void {
  const { io } = rt.deps;
  const keyName = by === 'task' ? 'TaskId' : 'DataId';
  const table = format === 'table';
  const count = (n: number): string => (table ? thousands(n) : String(n));
  writeRows(
    io.stdout,
    format,
    {
      header: [keyName, 'Platform', 'Sent', 'Reached', 'Clicked'],
      cells: (r: SummaryRow) => [table && r.key === '' ? '(none)' : r.key, platformName(r.platform), count(r.sent), count(r.reached), count(r.clicked)],
      json: (r: SummaryRow) => ({ [keyName]: r.key, PushPlatform: r.platform, Platform: platformName(r.platform), Sent: r.sent, Reached: r.reached, Clicked: r.clicked }),
    },
    rows,
    layout,
  );
  if (table && io.stdoutIsTTY && rows.length > 0) io.stdout.write(`\n${barChart(totalsByKey(rows), io.columns)}`);
}

/** At most this many pushes get bars; the rest are counted. */
const MAX_CHARTED = 10;
/** The widest key label and bar, in columns. */
const MAX_LABEL = 24;
const MAX_BAR = 40;
const MIN_BAR = 10;

/**
 * sent → reached → clicked per push, bars scaled to the largest of the three, with the share of
 * sent that reached and clicked:
 *
 *     batch_695610d8…  sent     ████████████████████ 1,200
 *                      reached  ███████████████      900 75%
 */
export function barChart(totals: ReadonlyArray<{ key: string; sent: number; reached: number; clicked: number }>, columns: number | undefined): string {
  const labels = totals.slice(0, MAX_CHARTED).map((t) => truncate(t.key === '' ? '(none)' : t.key, MAX_LABEL));
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const stageWidth = Math.max(...PUSH_STAGES.map((s) => s.length));
  // Room for the label, the stage, the gaps and "1,234,567 100%".
  const barWidth = Math.max(MIN_BAR, Math.min(MAX_BAR, (columns ?? 80) - labelWidth - stageWidth - 4 - 15));
  let text = '';
  totals.slice(0, MAX_CHARTED).forEach((t, i) => {
    const top = Math.max(t.sent, t.reached, t.clicked, 1);
    PUSH_STAGES.forEach((stage, s) => {
      const value = [t.sent, t.reached, t.clicked][s]!;
      const share = s > 0 && t.sent > 0 ? ` ${Math.round((value * 100) / t.sent)}%` : '';
      const bar = '█'.repeat(Math.round((value / top) * barWidth));
      text += `${(s === 0 ? labels[i]! : '').padEnd(labelWidth)}  ${stage.padEnd(stageWidth)}  ${bar.padEnd(barWidth)} ${thousands(value)}${share}\n`;
    });
  });
  if (totals.length > MAX_CHARTED) text += `… and ${plural(totals.length - MAX_CHARTED, 'more push')}\n`;
  return text;
}
