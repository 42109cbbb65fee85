/**
 * The TIMPush report endpoints, 1 call/s each: `all_member_push_statistics` (EN/71894, F14),
 * `all_member_push_loss` (EN/71895, F15) and `all_member_push_trace` (EN/71893, C4). Every answer
 * is derived from the task's recorded recipients through delivery.ts, the same source as the
 * push-result callbacks.
 *
 * Choices where the documentation is silent:
 * - TIMPush condition pushes, batch tasks (`batch_…`) and fired sched tasks are reported; im_push
 *   tasks are not (whether batch TaskIds are accepted is UNCONFIRMED, DELIVERY.md §1).
 * - No TaskID (or an empty list) reports every task whose time is in StartTime..EndTime, one
 *   Result each; StartTime/EndTime default to the maximum span ending now. An unknown TaskID is
 *   left out of Results.
 * - trace: a TaskID or UserID that is unknown, not a recipient, or a task older than 7 days gives
 *   an empty InstanceTrace. Every recipient has one device. Its `PushStatus` is 1 for a step done,
 *   2 for a step that failed and 0 for a step not reached (the enum is UNCONFIRMED).
 */
import { fail, invalidFormat, okSucess, type Answer } from './answer.js';
import { row, type EmulatorContext, type Endpoint, type Handler, type PushTask } from './context.js';
import { CLICKED_AFTER_S, deliveriesOf, deliveryOf, REACHED_AFTER_S, SENT_AFTER_S, type Delivery, type Loss } from './delivery.js';
import { CODES, LOSS_MAX_SPAN_SECONDS, REPORT_CALLS_PER_SECOND, REPORT_MAX_TASKS, STATS_MAX_SPAN_SECONDS, TRACE_MAX_AGE_MS } from './limits.js';
import { formatUtc } from './time.js';

const DAY_SECONDS = 86_400;
/** The SDK versions C4's sample shows. */
const SDK_VERSION = '8.0.1';

interface Counts {
  TotalCount: number;
  SentCount: number;
  DeliveredCount: number;
  ClickCount: number;
}

/** Adds one delivery to a tally. */
function count(into: Counts, d: Delivery): void {
  into.TotalCount++;
  if (d.sent) into.SentCount++;
  if (d.reached) into.DeliveredCount++;
  if (d.clicked) into.ClickCount++;
}

/** `(EventType, PushPlatform)` in numeric order, for a stable answer. */
const byChannel = (a: { EventType: number; PushPlatform: number }, b: { EventType: number; PushPlatform: number }): number => a.EventType - b.EventType || a.PushPlatform - b.PushPlatform;

/** Losses tallied by code, and by channel and code (F15's two list shapes). */
function lossLists(deliveries: Delivery[], pick: (d: Delivery) => Loss | undefined): { overall: object[]; perPlatform: object[] } {
  const overall = new Map<string, { ErrCode: string; ErrCount: number; ErrInfo: string }>();
  const perPlatform = new Map<string, { EventType: number; PushPlatform: number; ErrCode: string; ErrCount: number; ErrInfo: string }>();
  for (const d of deliveries) {
    const loss = pick(d);
    if (!loss) continue;
    const total = overall.get(loss.code) ?? { ErrCode: loss.code, ErrCount: 0, ErrInfo: loss.info };
    total.ErrCount++;
    overall.set(loss.code, total);
    const key = `${d.eventType}/${d.pushPlatform}/${loss.code}`;
    const one = perPlatform.get(key) ?? { EventType: d.eventType, PushPlatform: d.pushPlatform, ErrCode: loss.code, ErrCount: 0, ErrInfo: loss.info };
    one.ErrCount++;
    perPlatform.set(key, one);
  }
  return {
    overall: [...overall.values()].sort((a, b) => Number(a.ErrCode) - Number(b.ErrCode)),
    perPlatform: [...perPlatform.values()].sort((a, b) => byChannel(a, b) || Number(a.ErrCode) - Number(b.ErrCode)),
  };
}

/** One step of a trace (C4's `IMStat`, `ClickStat`, …). */
function step(status: 'done' | 'failed' | 'not reached', at: number, loss?: Loss): Record<string, unknown> {
  if (status === 'not reached') return { PushStatus: 0, ErrorCode: 0, ErrorInfo: '', EventTime: '' };
  if (status === 'failed') return { PushStatus: 2, ErrorCode: Number(loss!.code), ErrorInfo: loss!.info, EventTime: formatUtc(at) };
  return { PushStatus: 1, ErrorCode: 0, ErrorInfo: 'success', EventTime: formatUtc(at) };
}

/** C4's InstanceTrace entry for one device (with its odd snake_case `last_active_terminal`). */
function traceOf(task: PushTask, d: Delivery): Record<string, unknown> {
  const t = task.createdAt;
  const sentAt = t + SENT_AFTER_S * 1000;
  const reachedAt = t + REACHED_AFTER_S * 1000;
  const offline = d.eventType === 1;
  const none = step('not reached', t);
  return {
    InstanceId: String(d.n),
    PushTime: formatUtc(t),
    DeviceModel: '',
    System: d.devicePlatform === 1 ? 'iOS' : 'Android',
    SystemVersion: '',
    EventType: d.eventType,
    PushPlatform: d.pushPlatform,
    Token: d.token,
    CertId: d.certId,
    SdkVersion: SDK_VERSION,
    PushVersion: SDK_VERSION,
    NotificationStatus: 1,
    last_active_terminal: 1,
    IMCommitStat: { IMStat: step('done', sentAt) },
    OfflinePushStat: offline
      ? {
          OfflineStat: d.readyLoss ? step('failed', sentAt, d.readyLoss) : step('done', sentAt),
          ChannelStat: d.sent ? step('done', sentAt) : none,
          DeviceStat: d.postLoss ? step('failed', reachedAt, d.postLoss) : d.reached ? step('done', reachedAt) : none,
          ClickStat: d.clicked ? step('done', t + CLICKED_AFTER_S * 1000) : none,
        }
      : { OfflineStat: none, ChannelStat: none, DeviceStat: none, ClickStat: none },
    // OnlinePushStat is cut off in C4: one step, reached or not (UNCONFIRMED).
    OnlinePushStat: { OnlineStat: offline ? none : step('done', reachedAt) },
  };
}

/** The report endpoints. */
export function reportEndpoints(ctx: EmulatorContext): Endpoint[] {
  const reported = (t: PushTask): boolean => t.family === 'timpush';

  /** The tasks a statistics/loss request asks for, or the Answer refusing it. */
  function reportedTasks(body: Record<string, unknown>, maxSpan: number): PushTask[] | Answer {
    const endSec = body.EndTime ?? Math.floor(ctx.now() / 1000);
    const startSec = body.StartTime ?? (endSec as number) - maxSpan;
    if (!Number.isInteger(startSec) || !Number.isInteger(endSec) || (endSec as number) < (startSec as number)) return fail(CODES.format, invalidFormat('StartTime/EndTime'));
    if ((endSec as number) - (startSec as number) > maxSpan) return fail(CODES.format, `StartTime..EndTime spans more than ${maxSpan / DAY_SECONDS} days`);
    const ids = body.TaskID ?? [];
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) return fail(CODES.format, invalidFormat('TaskID'));
    if (ids.length > REPORT_MAX_TASKS) return fail(CODES.format, invalidFormat('TaskID', `at most ${REPORT_MAX_TASKS} TaskIDs`));
    const inRange = (t: PushTask): boolean => t.createdAt >= (startSec as number) * 1000 && t.createdAt < ((endSec as number) + 1) * 1000;
    const tasks = ctx.tasks.filter(reported);
    if (ids.length === 0) return tasks.filter(inRange);
    return (ids as string[]).map((id) => tasks.find((t) => t.TaskId === id)).filter((t): t is PushTask => t !== undefined);
  }

  const statistics: Handler = (body) => {
    const tasks = reportedTasks(body, STATS_MAX_SPAN_SECONDS);
    if (!Array.isArray(tasks)) return tasks;
    const Results = tasks.map((task) => {
      const total: Counts = { TotalCount: 0, SentCount: 0, DeliveredCount: 0, ClickCount: 0 };
      const channels = new Map<string, { EventType: number; PushPlatform: number } & Counts>();
      for (const d of deliveriesOf(ctx.state, task)) {
        count(total, d);
        const key = `${d.eventType}/${d.pushPlatform}`;
        let channel = channels.get(key);
        if (!channel) channels.set(key, (channel = { EventType: d.eventType, PushPlatform: d.pushPlatform, TotalCount: 0, SentCount: 0, DeliveredCount: 0, ClickCount: 0 }));
        count(channel, d);
      }
      return { TaskID: task.TaskId, ...total, PlatformStatistics: [...channels.values()].sort(byChannel) };
    });
    return okSucess({ Results });
  };

  const loss: Handler = (body) => {
    const tasks = reportedTasks(body, LOSS_MAX_SPAN_SECONDS);
    if (!Array.isArray(tasks)) return tasks;
    const Results = tasks.map((task) => {
      const deliveries = deliveriesOf(ctx.state, task);
      const ready = lossLists(deliveries, (d) => d.readyLoss);
      const post = lossLists(deliveries, (d) => d.postLoss);
      return {
        TaskID: task.TaskId,
        ReadyToSendLoss: ready.overall,
        PostSendDeliveredLoss: post.overall,
        PlatformReadyToSendLoss: ready.perPlatform,
        // The key after PlatformReadyToSendLoss is cut off in EN/71895: this name is presumed (DELIVERY.md §3).
        PlatformPostSendDeliveredLoss: post.perPlatform,
      };
    });
    return okSucess({ Results });
  };

  const trace: Handler = (body) => {
    if (typeof body.TaskID !== 'string' || body.TaskID === '') return fail(CODES.format, invalidFormat('TaskID'));
    if (typeof body.UserID !== 'string' || body.UserID === '') return fail(CODES.format, invalidFormat('UserID'));
    const task = ctx.tasks.find((t) => reported(t) && t.TaskId === body.TaskID);
    const recent = task !== undefined && ctx.now() - task.createdAt <= TRACE_MAX_AGE_MS;
    const InstanceTrace = recent && task.recipients.includes(body.UserID) ? [traceOf(task, deliveryOf(ctx.state, body.UserID))] : [];
    return okSucess({ InstanceTrace });
  };

  return [
    row('timpush/all_member_push_statistics', statistics, REPORT_CALLS_PER_SECOND),
    row('timpush/all_member_push_loss', loss, REPORT_CALLS_PER_SECOND),
    row('timpush/all_member_push_trace', trace, REPORT_CALLS_PER_SECOND),
  ];
}
