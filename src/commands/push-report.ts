/**
 * `im-attrs push report TASKID… | --manifest FILE [--user ID…]`: how TIMPush pushes went, in one
 * report (DELIVERY.md §3): the funnel total → sent → delivered → clicked per platform
 * (all_member_push_statistics), the loss reasons per stage and platform (all_member_push_loss), and
 * with --user the per-device trace of those users (all_member_push_trace). Every endpoint is paced
 * by the run at its documented 1 call/s, each on its own budget.
 *
 * A list push (`push send --to`) is many calls, each with its own `batch_…` TaskId, written to a
 * manifest (ndjson, one line per call); --manifest reads every TaskId of the calls that were sent
 * or may have been sent and adds the chunks up into one report.
 *
 * Readings where the documentation is silent (DELIVERY.md §1, §3; UNCONFIRMED):
 * - the report endpoints are taken to accept `batch_…` TaskIds (the callback doc says "TaskId for
 *   all-member/Tag/single push"; the emulator accepts them). A TaskId the server has no statistics
 *   for is named and the run exits 5, as `push stats` does;
 * - pushes of ordinary messages (normal_push_statistics) and im_push TaskIds are not reported;
 * - the trace's PushStatus is read as 1 done, 2 failed, 0 not reached.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { PUSH_PLATFORMS, type LossSpan, type PushLoss, type PushTrace } from '../api/delivery.js';
import { LOSS_MAX_SPAN_DAYS, MAX_STATS_TASKS } from '../api/facts.js';
import type { PushStats } from '../api/push.js';
import { ApiError, NetworkError, PartialFailureError, UsageError } from '../errors.js';
import { withRun } from '../jobs/run.js';
import type { Runtime } from '../runtime/runtime.js';
import { collect, plural, thousands } from '../util/text.js';

/** A manifest file is a few hundred bytes per call; anything far bigger is the wrong file. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** Manifest states whose TaskId is reported: the call's push went out, or may have. */
const REPORTED_STATES = new Set(['sent', 'may-have-been-sent']);
/** Width of the funnel's longest bar, so a line fits 80 columns. */
const BAR_WIDTH = 40;
const DAY_SECONDS = 86_400;

export interface PushReportOptions {
  manifest?: string;
  user?: string[];
  json?: boolean;
}

interface Counts {
  TotalCount: number;
  SentCount: number;
  DeliveredCount: number;
  ClickCount: number;
}

/** The funnel of one platform channel, summed over the tasks. */
interface ChannelCounts extends Counts {
  EventType: number | undefined;
  PushPlatform: number | undefined;
}

/** One loss reason at one stage and channel, summed over the tasks. */
interface LossRow {
  Stage: 'ReadyToSendLoss' | 'PostSendDeliveredLoss';
  EventType: number | undefined;
  PushPlatform: number | undefined;
  ErrCode: string;
  ErrInfo: string;
  ErrCount: number;
}

/** Everything the report holds: what the server gave, and the sums. */
export interface PushReport {
  TaskIDs: string[];
  statistics: Array<Record<string, unknown>>;
  loss: Array<Record<string, unknown>>;
  traces: PushTrace[];
  totals: Counts & { PlatformStatistics: ChannelCounts[]; Loss: LossRow[] };
  /** TaskIds the server had no statistics for. */
  missing: string[];
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const optNum = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const str = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));
const objects = (value: unknown): Array<Record<string, unknown>> =>
  Array.isArray(value) ? (value as unknown[]).filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && !Array.isArray(e)) : [];

/** The TaskIds of a manifest: every distinct one of a line whose state is "sent" or "may-have-been-sent". */
export function manifestTaskIds(rt: Runtime, file: string): string[] {
  const resolved = path.resolve(rt.deps.cwd, file);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (error) {
    throw new UsageError(`--manifest ${resolved} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (text.length > MAX_MANIFEST_BYTES) throw new UsageError(`--manifest ${resolved} is larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MB; is it a manifest?`);
  const ids: string[] = [];
  let lost = 0;
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      throw new UsageError(`--manifest ${resolved} line ${index + 1} is not JSON`, { hint: 'a manifest has one JSON object per line, as `push send --to` writes it' });
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`--manifest ${resolved} line ${index + 1} is not a JSON object`);
    const { state, TaskId: id } = entry as { state?: unknown; TaskId?: unknown };
    if (typeof state !== 'string' || !REPORTED_STATES.has(state)) return;
    if (typeof id === 'string' && id !== '') ids.push(id);
    else lost++;
  });
  // A call whose answer was lost has no TaskId: its push (if it went out) cannot be reported.
  if (lost > 0) rt.warn(`--manifest: ${plural(lost, 'call')} sent or maybe sent without a TaskId (the answer was lost): not in the report`);
  return ids;
}

/** Sums statistics into totals and per-channel counts. */
function sumStatistics(stats: readonly PushStats[]): Counts & { PlatformStatistics: ChannelCounts[] } {
  const totals: Counts = { TotalCount: 0, SentCount: 0, DeliveredCount: 0, ClickCount: 0 };
  const channels = new Map<string, ChannelCounts>();
  for (const s of stats) {
    totals.TotalCount += s.TotalCount;
    totals.SentCount += s.SentCount;
    totals.DeliveredCount += s.DeliveredCount;
    totals.ClickCount += s.ClickCount;
    for (const p of objects(s.raw.PlatformStatistics)) {
      const [eventType, platform] = [optNum(p.EventType), optNum(p.PushPlatform)];
      const key = `${eventType}/${platform}`;
      let c = channels.get(key);
      if (!c) channels.set(key, (c = { EventType: eventType, PushPlatform: platform, TotalCount: 0, SentCount: 0, DeliveredCount: 0, ClickCount: 0 }));
      c.TotalCount += num(p.TotalCount);
      c.SentCount += num(p.SentCount);
      c.DeliveredCount += num(p.DeliveredCount);
      c.ClickCount += num(p.ClickCount);
    }
  }
  const order = (a: ChannelCounts, b: ChannelCounts): number => (a.EventType ?? 0) - (b.EventType ?? 0) || (a.PushPlatform ?? 0) - (b.PushPlatform ?? 0);
  return { ...totals, PlatformStatistics: [...channels.values()].sort(order) };
}

/**
 * Sums loss reasons by stage, channel, ErrCode and ErrInfo: the per-platform lists (F15's
 * `PlatformReadyToSendLoss`, and presumably `PlatformPostSendDeliveredLoss`) where the server gave
 * them, else the overall list without a platform.
 */
function sumLoss(losses: readonly PushLoss[]): LossRow[] {
  const rows = new Map<string, LossRow>();
  for (const l of losses) {
    for (const Stage of ['ReadyToSendLoss', 'PostSendDeliveredLoss'] as const) {
      const perPlatform = l.raw[`Platform${Stage}`];
      const entries = Array.isArray(perPlatform) ? objects(perPlatform) : objects(l.raw[Stage]);
      for (const e of entries) {
        const row: LossRow = { Stage, EventType: optNum(e.EventType), PushPlatform: optNum(e.PushPlatform), ErrCode: str(e.ErrCode), ErrInfo: str(e.ErrInfo), ErrCount: 0 };
        const key = JSON.stringify([Stage, row.EventType, row.PushPlatform, row.ErrCode, row.ErrInfo]);
        const into = rows.get(key) ?? row;
        into.ErrCount += num(e.ErrCount);
        rows.set(key, into);
      }
    }
  }
  return [...rows.values()].sort((a, b) => (a.Stage < b.Stage ? 1 : a.Stage > b.Stage ? -1 : 0) || b.ErrCount - a.ErrCount);
}

/** "FCM, offline": a channel as people say it (PushPlatform and EventType, EN/67551). */
function channelName(eventType: number | undefined, platform: number | undefined): string {
  const name = platform === undefined ? 'all platforms' : (PUSH_PLATFORMS[platform] ?? `platform ${platform}`);
  const kind = eventType === 1 ? 'offline' : eventType === 2 ? 'online' : eventType === undefined ? '' : `event ${eventType}`;
  return kind ? `${name}, ${kind}` : name;
}

/** Lines of padded columns; `right` columns are right-aligned (numbers). */
function columns(rows: readonly (readonly string[])[], right: ReadonlySet<number>, indent = '  '): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => indent + r.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** The funnel as a bar chart: each stage a bar scaled to the total, with its share. */
function funnel(counts: Counts): string {
  const stages: Array<[string, number]> = [
    ['total', counts.TotalCount],
    ['sent', counts.SentCount],
    ['delivered', counts.DeliveredCount],
    ['clicked', counts.ClickCount],
  ];
  const top = Math.max(1, counts.TotalCount);
  const rows = stages.map(([name, n]) => {
    const bar = '█'.repeat(Math.round((Math.min(n, top) / top) * BAR_WIDTH)).padEnd(BAR_WIDTH);
    const share = counts.TotalCount > 0 ? `${((n / counts.TotalCount) * 100).toFixed(1)}%` : '-';
    return [name, thousands(n), bar, share];
  });
  return columns(rows, new Set([1, 3]));
}

const STEP_WORDS: Readonly<Record<number, string>> = { 0: 'not reached', 1: 'done', 2: 'failed' };

/** One user's devices in one task, step by step. */
function traceText(trace: PushTrace): string {
  const head = `Trace of ${trace.UserID} in ${trace.TaskID}`;
  if (trace.InstanceTrace.length === 0) return `${head}: no device (not a recipient, or more than ${LOSS_MAX_SPAN_DAYS} days ago)\n`;
  let out = `${head}: ${plural(trace.InstanceTrace.length, 'device')}\n`;
  for (const d of trace.InstanceTrace) {
    out += `  device ${str(d.InstanceId)}: ${str(d.System) || '?'}, ${channelName(optNum(d.EventType), optNum(d.PushPlatform))}, pushed ${str(d.PushTime)}\n`;
    const steps: string[][] = [];
    for (const [group, value] of Object.entries(d)) {
      if (!group.endsWith('Stat') || typeof value !== 'object' || value === null) continue;
      for (const [name, step] of Object.entries(value as Record<string, unknown>)) {
        if (typeof step !== 'object' || step === null) continue;
        const s = step as Record<string, unknown>;
        const status = num(s.PushStatus);
        const word = STEP_WORDS[status] ?? `status ${status}`;
        const error = status === 2 ? ` ${str(s.ErrorCode)} ${str(s.ErrorInfo)}`.trimEnd() : '';
        steps.push([`${group}.${name}`, `${word}${error}`, str(s.EventTime)]);
      }
    }
    if (steps.length > 0) out += columns(steps, new Set(), '    ');
  }
  return out;
}

/** The report as text: funnel bars, per platform, loss reasons, traces. Fits 80 columns. */
export function reportText(report: PushReport): string {
  const ids = report.TaskIDs;
  const named = ids.length <= 3 ? ids.join(', ') : `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more`;
  let out = `Push report: ${plural(ids.length, 'task')}${ids.length ? ` (${named})` : ''}\n\nFunnel\n${funnel(report.totals)}`;
  const channels = report.totals.PlatformStatistics;
  if (channels.length > 0) {
    const rows = [['platform', 'total', 'sent', 'delivered', 'clicked'], ...channels.map((c) => [channelName(c.EventType, c.PushPlatform), ...[c.TotalCount, c.SentCount, c.DeliveredCount, c.ClickCount].map(thousands)])];
    out += `\nBy platform\n${columns(rows, new Set([1, 2, 3, 4]))}`;
  }
  const stages: Array<[LossRow['Stage'], string]> = [
    ['ReadyToSendLoss', 'Lost before sending (ReadyToSendLoss)'],
    ['PostSendDeliveredLoss', 'Sent, not delivered (PostSendDeliveredLoss)'],
  ];
  for (const [stage, title] of stages) {
    const rows = report.totals.Loss.filter((r) => r.Stage === stage);
    out += `\n${title}\n`;
    if (rows.length === 0) out += '  none\n';
    else out += columns([['count', 'platform', 'code', 'reason'], ...rows.map((r) => [thousands(r.ErrCount), channelName(r.EventType, r.PushPlatform), r.ErrCode, r.ErrInfo])], new Set([0]));
  }
  for (const trace of report.traces) out += `\n${traceText(trace)}`;
  return out;
}

export async function pushReportRun(rt: Runtime, taskIds: string[], options: PushReportOptions): Promise<void> {
  const ids = [...taskIds];
  if (options.manifest !== undefined) ids.push(...manifestTaskIds(rt, options.manifest));
  const tasks = [...new Set(ids)];
  if (tasks.length === 0) {
    throw new UsageError(options.manifest !== undefined ? `--manifest ${options.manifest} names no call that was sent` : 'no TaskId to report on', {
      hint: 'give the TaskIds `push send` printed, or --manifest FILE for a list push',
    });
  }
  const sched = tasks.find((t) => /^\d+$/.test(t));
  if (sched !== undefined) {
    throw new UsageError(`${sched} is a scheduled task's TaskID, not a push TaskId`, { hint: `\`im-attrs --api timpush push schedule show ${sched}\` names the push it fired (push task)` });
  }
  const users = [...new Set(options.user ?? [])];
  // operationFor refuses a family without them (all_member_push) with a --api hint.
  const [statsOp, lossOp, traceOp] = await Promise.all([rt.operation('pushStatistics'), rt.operation('pushLoss'), rt.operation('pushTrace')]);
  const nowSec = Math.floor(rt.deps.now() / 1000);
  // Loss "supports up to 7 days" (EN/71895): the 7 days up to now.
  const span: LossSpan = { StartTime: nowSec - LOSS_MAX_SPAN_DAYS * DAY_SECONDS, EndTime: nowSec };
  const stats: PushStats[] = [];
  const losses: PushLoss[] = [];
  const traces: PushTrace[] = [];
  const missing: string[] = [];
  const untraced: string[] = [];
  const chunks = (list: readonly string[]): string[][] => Array.from({ length: Math.ceil(list.length / MAX_STATS_TASKS) }, (_, i) => list.slice(i * MAX_STATS_TASKS, (i + 1) * MAX_STATS_TASKS));
  await withRun(rt, {}, async (run) => {
    for (const chunk of chunks(tasks)) {
      const outcome = await run.callBatch(statsOp!, chunk, undefined);
      stats.push(...outcome.results);
      for (const f of outcome.failures) {
        missing.push(chunk[f.index]!);
        rt.stderr(`${rt.chalk.red('failed:')} ${chunk[f.index]!}: ${f.reason}`);
      }
    }
    const found = tasks.filter((t) => !missing.includes(t));
    for (const chunk of chunks(found)) losses.push(...(await run.callBatch(lossOp!, chunk, span)).results);
    const calls = found.flatMap((TaskID) => users.map((UserID) => ({ TaskID, UserID })));
    const progress = rt.deps.io.stderrIsTTY && !rt.options.quiet && calls.length > 1;
    for (const [i, call] of calls.entries()) {
      if (progress) rt.deps.io.stderr.write(`\rtrace ${i + 1}/${calls.length} (1 call/s): ${call.UserID} in ${call.TaskID}\x1b[K`);
      try {
        traces.push(await run.call(traceOp!, call));
      } catch (error) {
        // One trace that cannot be read does not take the funnel and the loss reasons with it:
        // named, and the run ends with exit 5. Credentials, configuration and a stop still end it.
        if (!(error instanceof ApiError) && !(error instanceof NetworkError)) throw error;
        if (progress) rt.deps.io.stderr.write('\r\x1b[K');
        untraced.push(`${call.UserID} in ${call.TaskID}`);
        rt.stderr(`${rt.chalk.red('failed:')} the trace of ${call.UserID} in ${call.TaskID}: ${error.message}`);
      }
    }
    if (progress) rt.deps.io.stderr.write('\r\x1b[K');
  });
  const report: PushReport = {
    TaskIDs: tasks,
    statistics: stats.map((s) => s.raw),
    loss: losses.map((l) => l.raw),
    traces,
    totals: { ...sumStatistics(stats), Loss: sumLoss(losses) },
    missing,
  };
  rt.deps.io.stdout.write(options.json ? `${JSON.stringify(report)}\n` : reportText({ ...report, TaskIDs: tasks.filter((t) => !missing.includes(t)) }));
  if (missing.length > 0) {
    throw new PartialFailureError(`${plural(missing.length, 'TaskId')} without statistics; the report covers the others`, missing.length, {
      hint: 'statistics cover TIMPush pushes of the last 30 days (condition, batch and fired scheduled pushes; im_push TaskIds are not accepted)',
    });
  }
  if (untraced.length > 0) {
    throw new PartialFailureError(`${plural(untraced.length, 'trace')} could not be read (${untraced.join(', ')}); the report covers the rest`, untraced.length, {
      hint: 'a trace covers the last 7 days; run again for those users later, or check the UserID',
    });
  }
}

const REPORT_HELP = `
What it asks (TIMPush, 1 call/s per endpoint, ${MAX_STATS_TASKS} TaskIds per call):
  all_member_push_statistics  the funnel, per platform (the last 30 days)
  all_member_push_loss        loss reasons per stage and platform, ErrCode and ErrInfo as the
                              server gives them (StartTime..EndTime: the last ${LOSS_MAX_SPAN_DAYS} days)
  all_member_push_trace       with --user: each device of each user, one call per task and user

Readings where Tencent's documentation is silent:
  - batch_… TaskIds (list pushes) are taken to be accepted by all three, as condition pushes are;
    a TaskId without statistics is named on stderr and the run exits 5;
  - ordinary message pushes (normal_push_*) and im_push TaskIds are not reported;
  - a trace step's PushStatus is read as 1 done, 2 failed, 0 not reached.

Output: a text report (the funnel as bars, per platform, loss reasons, traces) that fits 80
columns; --json prints everything: the server's statistics, loss and traces, and the sums.
`;

/** `push report`: one report over pushes, or over the chunks of a list push. */
export function newPushReportCommand(rt: Runtime): Command {
  return new Command('report')
    .summary('TIMPush: how pushes went: funnel per platform, loss reasons, per-user device traces')
    .description(
      'TIMPush only (--api timpush): one report over the pushes named (or every call of a list push, --manifest): total → sent → ' +
        'delivered → clicked per platform, why pushes were lost before or after sending, and with --user the trace of each of ' +
        "that user's devices.",
    )
    .argument('[taskIds...]', 'push TaskIds (`push send` printed them; a fired scheduled task names its push in `push schedule show`)')
    .option('--manifest <file>', 'the manifest of a list push (ndjson, one line per call): every TaskId of a call sent or maybe sent')
    .option('--user <id>', 'also trace this user\'s devices in each task (repeatable; one call per task and user, 1 call/s)', collect)
    .option('--json', 'print everything as JSON: statistics, loss and traces as the server gave them, and the sums')
    .addHelpText('after', `${REPORT_HELP}\nExamples:\n  $ im-attrs --api timpush push report 6571b7c1_53724e00_1_2a --user alice\n  $ im-attrs --api timpush push report --manifest sale.manifest.ndjson --json\n`)
    .action(async (taskIds: string[], options: PushReportOptions) => pushReportRun(rt, taskIds, options));
}
