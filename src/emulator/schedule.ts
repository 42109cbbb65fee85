/**
 * Scheduled pushes: `add_sched_task`, `get_sched_task`, `list_sched_task`, `modify_sched_task`,
 * `delete_sched_task` under v4/timpush, 5 calls/s each (DELIVERY.md §2; EN/78839–78843). A task
 * is "pending" until the emulator's clock passes its SchedAt; it then fires: it becomes a real
 * TIMPush task (a condition push for Type All/Tag, a batch for Type User) with its recipients
 * recorded and callbacks sent, its `PushTaskID` set, and it is "dispatching" for
 * ceil(recipients / 200) seconds (at least one) of the emulator's clock, then "dispatched".
 *
 * Choices where the documentation is silent (UNCONFIRMED in DELIVERY.md §2):
 * - Answers: add, modify and delete answer `TaskID`; a refused modify or delete answers
 *   `"TaskID": 0` as C2 does; every refusal other than 90107 is 90001 "Invalid format of <Field>".
 *   An unknown TaskID is "Invalid format of TaskID: no task <id>".
 * - A SchedAt that is not in the future is refused: "Invalid format of SchedAt: … is not in the future".
 * - Type All takes no tag condition (use Tag) but may carry an attribute condition; Type Tag needs
 *   TagsOr, TagsAnd or TagsNot; Type User needs `To_Account`, 1–500 accounts (unknown ones are
 *   skipped when it fires). `MsgRandom` may be left out (the add sample has none): the emulator
 *   picks one and shows it in Content, as F16 does. `From_Account` may be a string or, as in F16,
 *   an integer.
 * - modify merges the Content fields it is given into the task's Content ("If not provided, …
 *   will not be modified") and needs the task's Type; delete checks Type when given.
 * - list: BeginTime..EndTime (both required, UTC, at most 90 days apart) selects tasks by
 *   SchedAt, inclusive; OrderBy `schedat`/`schedAt` (default) or `createat`/`createAt`; Asc
 *   default false; Want 1–100 (default 20); Keyword matches Title or Desc as a case-sensitive
 *   substring. Deleted tasks are gone from get and list.
 * - A fired task does not count against the daily push quota and is not spaced a second from
 *   other pushes. DispatchSuccess is 1 once dispatched, else 0; DispatchErr stays "".
 * - Tasks live in memory only, like the push log: `--data` does not keep them.
 */
import { validatePushRequest, type Condition } from '../push/condition.js';
import { fail, invalidFormat, isPlainObject, ok, type Answer } from './answer.js';
import { row, type EmulatorContext, type Endpoint, type Handler } from './context.js';
import { CODES, DISPATCH_USERS_PER_SECOND, MAX_BATCH_ACCOUNTS, SCHED_CALLS_PER_SECOND, SCHED_LIST_DEFAULT_WANT, SCHED_LIST_MAX_SPAN_DAYS, SCHED_LIST_MAX_WANT } from './limits.js';
import { dataIdProblem, type Pushes } from './push.js';
import { formatUtc, parseUtc } from './time.js';

/** The first TaskID handed out: the doc samples' 1234567890 (F16, C2, C3). */
const FIRST_TASK_ID = 1234567890;
const DAY_MS = 86_400_000;
const TYPES = ['All', 'Tag', 'User'] as const;
type SchedType = (typeof TYPES)[number];
export type SchedStatus = 'pending' | 'dispatching' | 'dispatched';
const ORDER_FIELDS: Readonly<Record<string, 'schedAt' | 'createdAt'>> = { schedat: 'schedAt', schedAt: 'schedAt', createat: 'createdAt', createAt: 'createdAt' };
const TAG_FIELDS = ['TagsOr', 'TagsAnd', 'TagsNot'] as const;
const UINT32 = 2 ** 32;

/** A scheduled task as the emulator keeps it. */
export interface SchedTask {
  TaskID: number;
  Type: SchedType;
  Content: Record<string, unknown>;
  /** Unix ms. */
  schedAt: number;
  createdAt: number;
  status: SchedStatus;
  /** The push it fired, once it has. */
  pushTaskId: string;
  /** When "dispatching" ends, Unix ms. */
  dispatchedAt?: number;
}

/** The sched-task side: its endpoints and the clock hook that fires due tasks. */
export interface Schedule {
  endpoints: Endpoint[];
  /** Fires every pending task whose SchedAt has passed and finishes dispatching ones: call on every clock move. */
  tick: () => void;
  /** Every task not deleted, by TaskID. */
  tasks: ReadonlyMap<number, SchedTask>;
}

const hasTags = (condition: Record<string, unknown> | undefined): boolean => TAG_FIELDS.some((f) => Array.isArray(condition?.[f]) && (condition![f] as unknown[]).length > 0);

/** Builds the sched-task endpoints over `pushes`. */
export function createSchedule(ctx: EmulatorContext, pushes: Pushes): Schedule {
  const tasks = new Map<number, SchedTask>();
  let nextId = FIRST_TASK_ID;

  /** TaskInfo as F16 shows it. */
  function info(task: SchedTask): Record<string, unknown> {
    const offline = isPlainObject(task.Content.OfflinePushInfo) ? task.Content.OfflinePushInfo : {};
    return {
      TaskID: task.TaskID,
      Sdkappid: ctx.sdkAppId,
      CreateAt: formatUtc(task.createdAt),
      Type: task.Type,
      SchedAt: formatUtc(task.schedAt),
      Content: task.Content,
      Title: typeof offline.Title === 'string' ? offline.Title : '',
      Desc: typeof offline.Desc === 'string' ? offline.Desc : '',
      Status: task.status,
      DispatchSuccess: task.status === 'dispatched' ? 1 : 0,
      DispatchErr: '',
      PushTaskID: task.pushTaskId,
    };
  }

  const sdkappidProblem = (body: Record<string, unknown>): string | undefined =>
    body.Sdkappid === ctx.sdkAppId ? undefined : invalidFormat('Sdkappid', `it must be ${ctx.sdkAppId}, the sdkappid in the URL`);

  function schedAtOf(value: unknown): number | string {
    const at = parseUtc(value);
    if (at === undefined) return invalidFormat('SchedAt', '"YYYY-MM-DD HH:MM:SS" in UTC');
    if (at <= ctx.now()) return invalidFormat('SchedAt', `${String(value)} UTC is not in the future`);
    return at;
  }

  /** The problem with a task's Content for its Type, if any (code and text). */
  function contentProblem(type: SchedType, content: Record<string, unknown>): [number, string] | undefined {
    // F16 shows From_Account as an integer: a doc inconsistency the emulator tolerates.
    const { From_Account: from, ...rest } = content;
    if (from !== undefined && typeof from !== 'string' && !Number.isInteger(from)) return [CODES.format, invalidFormat('From_Account')];
    const problems = validatePushRequest(rest, 'timpush', ctx.state.timpush.names.values());
    if (problems.length > 0) return [problems[0]!.code, problems[0]!.message];
    const dataId = dataIdProblem(content.DataId);
    if (dataId) return [typeof content.DataId === 'string' ? CODES.dataIdTooLong : CODES.format, dataId];
    const condition = isPlainObject(content.Condition) ? content.Condition : undefined;
    if (type === 'Tag' && !hasTags(condition)) return [CODES.format, invalidFormat('Condition', 'a Tag task needs TagsOr, TagsAnd or TagsNot')];
    if (type === 'All' && hasTags(condition)) return [CODES.format, invalidFormat('Condition', 'an All task takes no tags; use Type Tag')];
    if (type === 'User') {
      const list = content.To_Account;
      if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_ACCOUNTS || list.some((a) => typeof a !== 'string' || a === '')) {
        return [CODES.format, invalidFormat('To_Account', `1 to ${MAX_BATCH_ACCOUNTS} accounts`)];
      }
    }
    return undefined;
  }

  /** The task a get/modify/delete names, or the problem. */
  function taskOf(body: Record<string, unknown>): SchedTask | string {
    const problem = sdkappidProblem(body);
    if (problem) return problem;
    if (!Number.isSafeInteger(body.TaskID)) return invalidFormat('TaskID', 'an integer');
    return tasks.get(body.TaskID as number) ?? invalidFormat('TaskID', `no task ${String(body.TaskID)}`);
  }

  const add: Handler = (body) => {
    const problem = sdkappidProblem(body);
    if (problem) return fail(CODES.format, problem);
    if (!TYPES.includes(body.Type as SchedType)) return fail(CODES.format, invalidFormat('Type', 'All, Tag or User'));
    const schedAt = schedAtOf(body.SchedAt);
    if (typeof schedAt === 'string') return fail(CODES.format, schedAt);
    if (!isPlainObject(body.Content)) return fail(CODES.format, invalidFormat('Content'));
    const TaskID = nextId;
    // The add sample has no MsgRandom: pick one, from the TaskID, so it is reproducible.
    const content = { ...body.Content, MsgRandom: body.Content.MsgRandom ?? TaskID % UINT32 };
    const bad = contentProblem(body.Type as SchedType, content);
    if (bad) return fail(bad[0], bad[1]);
    nextId++;
    tasks.set(TaskID, { TaskID, Type: body.Type as SchedType, Content: content, schedAt, createdAt: ctx.now(), status: 'pending', pushTaskId: '' });
    return ok({ TaskID });
  };

  const get: Handler = (body) => {
    const task = taskOf(body);
    if (typeof task === 'string') return fail(CODES.format, task);
    return ok({ TaskInfo: info(task) });
  };

  const list: Handler = (body) => {
    const problem = sdkappidProblem(body);
    if (problem) return fail(CODES.format, problem);
    const begin = parseUtc(body.BeginTime);
    const end = parseUtc(body.EndTime);
    // "BeginTime 和 EndTime 必须同时设置,且 BeginTime 不能晚于 EndTime" (CN/269/130281).
    if (begin === undefined) return fail(CODES.format, invalidFormat('BeginTime', 'required, "YYYY-MM-DD HH:MM:SS" in UTC'));
    if (end === undefined) return fail(CODES.format, invalidFormat('EndTime', 'required, "YYYY-MM-DD HH:MM:SS" in UTC'));
    if (begin > end) return fail(CODES.format, invalidFormat('BeginTime', 'it is later than EndTime'));
    if (end - begin > SCHED_LIST_MAX_SPAN_DAYS * DAY_MS) return fail(CODES.format, invalidFormat('EndTime', `BeginTime..EndTime spans more than ${SCHED_LIST_MAX_SPAN_DAYS} days`));
    const offset = body.Offset ?? 0;
    if (!Number.isSafeInteger(offset) || (offset as number) < 0) return fail(CODES.format, invalidFormat('Offset'));
    const want = body.Want ?? SCHED_LIST_DEFAULT_WANT;
    if (!Number.isSafeInteger(want) || (want as number) < 1 || (want as number) > SCHED_LIST_MAX_WANT) return fail(CODES.format, invalidFormat('Want', `1 to ${SCHED_LIST_MAX_WANT}`));
    const orderBy = body.OrderBy ?? 'schedat';
    const key = typeof orderBy === 'string' ? ORDER_FIELDS[orderBy] : undefined;
    if (!key) return fail(CODES.format, invalidFormat('OrderBy', 'schedat or createat (schedAt, createAt)'));
    const asc = body.Asc ?? false;
    if (typeof asc !== 'boolean') return fail(CODES.format, invalidFormat('Asc'));
    const keyword = body.Keyword ?? '';
    if (typeof keyword !== 'string') return fail(CODES.format, invalidFormat('Keyword'));
    const selected = [...tasks.values()]
      .filter((t) => t.schedAt >= begin && t.schedAt <= end)
      .map((t) => ({ task: t, info: info(t) }))
      .filter(({ info: i }) => keyword === '' || (i.Title as string).includes(keyword) || (i.Desc as string).includes(keyword))
      .sort((a, b) => (a.task[key] - b.task[key] || a.task.TaskID - b.task.TaskID) * (asc ? 1 : -1));
    return ok({ Total: selected.length, Tasks: selected.slice(offset as number, (offset as number) + (want as number)).map((s) => s.info) });
  };

  const modifyOrDelete =
    (verb: 'modify' | 'delete'): Handler =>
    (body) => {
      const refuse = (code: number, text: string): Answer => fail(code, text, { TaskID: 0 });
      const task = taskOf(body);
      if (typeof task === 'string') return refuse(CODES.format, task);
      // "Type must be the same as when the task was created"; the delete sample carries it too.
      if ((verb === 'modify' || body.Type !== undefined) && body.Type !== task.Type) return refuse(CODES.format, invalidFormat('Type', `it must be ${task.Type}, the task's type`));
      // C2: "delete failed: task dispatching" (90107); "Only tasks with "pending" status can be …".
      if (task.status !== 'pending') return refuse(CODES.schedNotPending, `${verb} failed: task ${task.status}`);
      if (verb === 'delete') {
        tasks.delete(task.TaskID);
        return ok({ TaskID: task.TaskID });
      }
      let schedAt = task.schedAt;
      if (body.SchedAt !== undefined) {
        const at = schedAtOf(body.SchedAt);
        if (typeof at === 'string') return refuse(CODES.format, at);
        schedAt = at;
      }
      let content = task.Content;
      if (body.Content !== undefined) {
        if (!isPlainObject(body.Content)) return refuse(CODES.format, invalidFormat('Content'));
        content = { ...task.Content, ...body.Content };
        const bad = contentProblem(task.Type, content);
        if (bad) return refuse(bad[0], bad[1]);
      }
      task.schedAt = schedAt;
      task.Content = content;
        return ok({ TaskID: task.TaskID });
    };

  /** Fires one task: its push, recorded at its SchedAt. */
  function fire(task: SchedTask): void {
    const content = task.Content;
    const dataId = typeof content.DataId === 'string' ? content.DataId : undefined;
    const msgRandom = content.MsgRandom as number;
    const pushed =
      task.Type === 'User'
        ? pushes.launch({ kind: 'batch', accounts: [...new Set(content.To_Account as string[])].filter(pushes.timpushKnown), msgRandom, dataId, schedTaskId: task.TaskID, at: task.schedAt })
        : pushes.launch({ kind: 'push', condition: content.Condition as Condition | undefined, msgRandom, dataId, schedTaskId: task.TaskID, at: task.schedAt });
    task.status = 'dispatching';
    task.pushTaskId = pushed.TaskId;
    task.dispatchedAt = task.schedAt + Math.max(1, Math.ceil(pushed.recipients.length / DISPATCH_USERS_PER_SECOND)) * 1000;
  }

  function tick(): void {
    const at = ctx.now();
    const due = [...tasks.values()].filter((t) => t.status === 'pending' && t.schedAt <= at).sort((a, b) => a.schedAt - b.schedAt || a.TaskID - b.TaskID);
    for (const task of due) fire(task);
    for (const task of tasks.values()) if (task.status === 'dispatching' && task.dispatchedAt! <= at) task.status = 'dispatched';
  }

  return {
    tasks,
    tick,
    endpoints: [
      row('timpush/add_sched_task', add, SCHED_CALLS_PER_SECOND),
      row('timpush/get_sched_task', get, SCHED_CALLS_PER_SECOND),
      row('timpush/list_sched_task', list, SCHED_CALLS_PER_SECOND),
      row('timpush/modify_sched_task', modifyOrDelete('modify'), SCHED_CALLS_PER_SECOND),
      row('timpush/delete_sched_task', modifyOrDelete('delete'), SCHED_CALLS_PER_SECOND),
    ],
  };
}
