/**
 * Push endpoints: all_member_push `im_push` (PUSH-FAMILY.md §2), TIMPush `push`, `batch` and
 * `revoke` (§3, F12, F13; DELIVERY.md §1). Every accepted push becomes a PushTask with its full
 * list of recipients, which the reports (reports.ts) and the callbacks (callbacks.ts) derive from.
 *
 * Choices where the documentation is silent:
 * - A refused push (bad request, spacing, quota) does not count against the quota; the quota day
 *   is the calendar day in UTC+8 (Tencent's console time, UNCONFIRMED); each family has its own
 *   quota and spacing.
 * - timpush/batch does not count against the daily push quota and is not spaced a second from
 *   other pushes: its page documents per-second limits only (whether it counts is UNCONFIRMED,
 *   DELIVERY.md §1). Its rate is the edition's (EmulatorOptions.pushEdition).
 * - TaskIds of im_push are not accepted by TIMPush revoke or statistics (UNCONFIRMED,
 *   PUSH-FAMILY.md §2.3): they answer 90049 / are left out. Only TIMPush tasks send callbacks.
 * - revoke takes TIMPush condition pushes only (recalling a batch is UNCONFIRMED).
 */
import { MAX_MSG_RANDOM, matches, rekeyCondition, validatePushRequest, type Condition, type PushFamily } from '../push/condition.js';
import { byteLength, fail, invalidFormat, isPlainObject, notImported, ok, okWithErrors, type Answer, type ErrorItem } from './answer.js';
import { row, type EmulatorContext, type Endpoint, type Handler, type PushTask } from './context.js';
import {
  BATCH_CALLS_PER_SECOND,
  CODES,
  MAX_BATCH_ACCOUNTS,
  MAX_DATA_ID_BYTES,
  MAX_TIMPUSH_BODY_BYTES,
  PUSH_SPACING_MS,
  QUOTA_DAY_OFFSET_MS,
  REST_CALLS_PER_SECOND,
  REVOKE_SPACING_MS,
  REVOKE_WINDOW_MS,
  type PushEdition,
} from './limits.js';

/** The middle field of F4's im_push TaskId ("1400123456_144115212910570789_…"), counted up from here. */
const AMP_TASK_ID_BASE = 144115212910570000n;
const DAY_MS = 86_400_000;

/** The calendar day (UTC+8) of a Unix-ms time, for the daily quota. */
function quotaDay(ms: number): number {
  return Math.floor((ms + QUOTA_DAY_OFFSET_MS) / DAY_MS);
}

/** A DataId as a request carries it: absent, or a string of at most 64 bytes (EN/67553). */
export function dataIdProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return invalidFormat('DataId');
  if (byteLength(value) > MAX_DATA_ID_BYTES) return `DataId is longer than ${MAX_DATA_ID_BYTES} bytes`;
  return undefined;
}

/** What a new TIMPush task is made of (from a request or a fired sched task). */
export interface TaskDraft {
  kind: 'push' | 'batch';
  condition?: Condition | undefined;
  /** batch: the listed accounts, already filtered to known ones. */
  accounts?: string[];
  msgRandom: number;
  dataId?: string | undefined;
  schedTaskId?: number;
  /** Unix ms; default the clock's now. */
  at?: number;
}

/** The push side the other modules use: recipients and task creation. */
export interface Pushes {
  endpoints: Endpoint[];
  /** Whether TIMPush knows an account (imported, or a RegistrationID). */
  timpushKnown: (account: string) => boolean;
  /** Records a TIMPush task (and sends its callbacks); returns it. */
  launch: (draft: TaskDraft) => PushTask;
}

/** Builds the push endpoints. `edition` sets timpush/batch's rate (DELIVERY.md §1). */
export function createPushes(ctx: EmulatorContext, edition: PushEdition): Pushes {
  const { state } = ctx;
  const tp = state.timpush;
  const pushCount = new Map<PushFamily, { day: number; count: number }>();
  const lastPushAt = new Map<PushFamily, number>();
  let lastRevokeAt: number | undefined;
  let taskSeq = 0;

  const timpushKnown = (account: string): boolean => state.isImported(account) || tp.registrationIds.has(account);

  /** Every recipient of `condition` in a family's store: O(accounts), inherently. */
  function recipients(family: PushFamily, condition: Condition | undefined): string[] {
    const out: string[] = [];
    if (family === 'all_member_push') {
      const rekeyed = rekeyCondition(condition, (name) => state.slotOf(name));
      for (const [account, values] of state.users) if (matches(rekeyed, values, state.tagsOf(account))) out.push(account);
      return out;
    }
    const rekeyed = rekeyCondition(condition, (name) => tp.slotOf(name));
    const consider = (account: string): void => {
      if (matches(rekeyed, tp.rawAttrs(account), tp.tagsOf(account))) out.push(account);
    };
    for (const account of state.users.keys()) consider(account);
    for (const account of tp.registrationIds) consider(account);
    return out;
  }

  function taskId(family: PushFamily, at: number, msgRandom: number): string {
    taskSeq++;
    const seconds = Math.floor(at / 1000);
    // Shapes of the documented samples: F4 (im_push) and F13 (TIMPush). F4's middle field is
    // above 2^53, where a Number cannot count up by one: BigInt arithmetic.
    if (family === 'all_member_push') return `${ctx.sdkAppId}_${AMP_TASK_ID_BASE + BigInt(taskSeq)}_${seconds}_${msgRandom}`;
    const hex = (n: number): string => n.toString(16);
    return `${hex(seconds)}_${hex(ctx.sdkAppId)}_${hex(taskSeq)}_${hex(msgRandom)}`;
  }

  function launch(draft: TaskDraft): PushTask {
    const at = draft.at ?? ctx.now();
    const id = taskId('timpush', at, draft.msgRandom);
    const task: PushTask = {
      TaskId: draft.kind === 'batch' ? `batch_${id}` : id,
      family: 'timpush',
      kind: draft.kind,
      condition: draft.condition ?? null,
      recipients: draft.kind === 'batch' ? (draft.accounts ?? []) : recipients('timpush', draft.condition),
      createdAt: at,
      msgRandom: draft.msgRandom,
      ...(draft.dataId === undefined ? {} : { dataId: draft.dataId }),
      ...(draft.schedTaskId === undefined ? {} : { schedTaskId: draft.schedTaskId }),
    };
    ctx.tasks.push(task);
    ctx.taskAccepted(task);
    return task;
  }

  const push =
    (family: PushFamily): Handler =>
    (body) => {
      const names = family === 'timpush' ? tp.names.values() : state.names.values();
      const problems = validatePushRequest(body, family, names);
      if (problems.length > 0) return fail(problems[0]!.code, problems[0]!.message);
      const dataId = family === 'timpush' ? dataIdProblem(body.DataId) : undefined;
      if (dataId) return fail(CODES.format, invalidFormat('DataId', `at most ${MAX_DATA_ID_BYTES} bytes`));
      const at = ctx.now();
      const last = lastPushAt.get(family);
      // EN/37166 "must be greater than one second"; 90024 is the code PUSH-FAMILY.md §2.4 pairs with it.
      if (last !== undefined && at - last <= PUSH_SPACING_MS) return fail(CODES.pushSpacing, `pushes must be more than ${PUSH_SPACING_MS} ms apart; the last was ${at - last} ms ago`);
      const day = quotaDay(at);
      const used = pushCount.get(family);
      const count = used && used.day === day ? used.count : 0;
      if (count >= ctx.pushQuota) return fail(CODES.pushQuota, `the daily push limit (${ctx.pushQuota}) is reached`);
      const condition = body.Condition as Condition | undefined;
      let task: PushTask;
      if (family === 'timpush') {
        task = launch({ kind: 'push', condition, msgRandom: body.MsgRandom as number, dataId: body.DataId as string | undefined, at });
      } else {
        task = {
          TaskId: taskId(family, at, body.MsgRandom as number),
          family,
          kind: 'push',
          condition: condition ?? null,
          recipients: recipients(family, condition),
          createdAt: at,
          msgRandom: body.MsgRandom as number,
        };
        ctx.tasks.push(task);
      }
      lastPushAt.set(family, at);
      pushCount.set(family, { day, count: count + 1 });
      return ok({ TaskId: task.TaskId });
    };

  const revoke: Handler = (body) => {
    const at = ctx.now();
    if (lastRevokeAt !== undefined && at - lastRevokeAt < REVOKE_SPACING_MS) return fail(CODES.revokeTooFrequent, 'revoke is limited to 1 call per second');
    lastRevokeAt = at;
    if (typeof body.TaskId !== 'string') return fail(CODES.format, invalidFormat('TaskId'));
    const task = ctx.tasks.find((t) => t.TaskId === body.TaskId && t.family === 'timpush' && t.kind === 'push');
    if (!task) return fail(CODES.revokeBadTask, `invalid TaskId ${body.TaskId}`);
    if (task.revokedAt !== undefined) return fail(CODES.revokeAlready, `task ${task.TaskId} was already recalled`);
    if (at - task.createdAt > REVOKE_WINDOW_MS) return fail(CODES.revokeTooLate, `task ${task.TaskId} started more than 24 hours ago`);
    if (!isPlainObject(body.OfflinePushInfo)) return fail(CODES.revokeNeedsOfflinePushInfo, 'OfflinePushInfo is required to recall an offline push');
    task.revokedAt = at;
    return ok();
  };

  /** timpush/batch: a push to a list of 1–500 accounts (F12; DELIVERY.md §1). */
  const batch: Handler = (body) => {
    const refuse = (code: number, info: string): Answer => fail(code, info, { TaskId: '' });
    const list = body.To_Account;
    if (!Array.isArray(list) || list.length === 0 || list.some((a) => typeof a !== 'string' || a === '')) return refuse(CODES.format, batchAccountsInfo);
    const random = body.MsgRandom;
    if (typeof random !== 'number' || !Number.isInteger(random) || random < 0 || random > MAX_MSG_RANDOM) return refuse(CODES.format, invalidFormat('MsgRandom'));
    const dataId = dataIdProblem(body.DataId);
    if (dataId) return refuse(CODES.dataIdTooLong, dataId);
    const errors: ErrorItem[] = [];
    const reached: string[] = [];
    for (const account of new Set(list as string[])) {
      if (timpushKnown(account)) reached.push(account);
      else errors.push(notImported(account));
    }
    const task = launch({ kind: 'batch', accounts: reached, msgRandom: random, dataId: body.DataId as string | undefined });
    ctx.served(list.length, reached.length);
    return okWithErrors({ TaskId: task.TaskId }, errors);
  };

  const REST = { adjustable: true };
  return {
    timpushKnown,
    launch,
    endpoints: [
      row('all_member_push/im_push', push('all_member_push'), REST_CALLS_PER_SECOND, REST),
      row('timpush/push', push('timpush'), REST_CALLS_PER_SECOND, { ...REST, maxBodyBytes: { bytes: MAX_TIMPUSH_BODY_BYTES, code: CODES.timpushBodyTooLarge } }),
      row('timpush/batch', batch, BATCH_CALLS_PER_SECOND[edition], {
        accounts: { field: 'To_Account', max: MAX_BATCH_ACCOUNTS, tooMany: () => fail(CODES.format, batchAccountsInfo, { TaskId: '' }) },
      }),
      // revoke's 1 call/s answers 90051, not 60007 (EN/60571): the handler enforces it.
      row('timpush/revoke', revoke, REST_CALLS_PER_SECOND, REST),
    ],
  };
}

const batchAccountsInfo = invalidFormat('To_Account', `1 to ${MAX_BATCH_ACCOUNTS} accounts`);
