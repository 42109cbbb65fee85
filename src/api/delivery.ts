/**
 * The delivery side of TIMPush as descriptors (DELIVERY.md §2 and §3): scheduled pushes
 * (`add/get/list/modify/delete_sched_task`, 5 calls/s each) and the per-task diagnostics
 * (`all_member_push_loss` and `all_member_push_trace`, 1 call/s each; statistics are push.ts's
 * `pushStatistics`). TIMPush only: families.ts puts them in the timpush table alone.
 *
 * A scheduled task's `TaskID` is an Integer; a push's `TaskId` is a string (`…_…`, `batch_…`):
 * the types here keep the two apart (`number` against `string`), as DELIVERY.md's rules ask.
 */
import { shapeError, type Envelope } from './envelope.js';
import { MAX_STATS_TASKS, REPORT_CALLS_PER_SECOND, SCHED_CALLS_PER_SECOND, SCHED_NOT_PENDING_CODE } from './facts.js';
import { batchOperation, commandOf, operation, RETURNED, type ApiFamily, type BatchOperation, type BatchOutcome, type Operation } from './operation.js';

/** "All for push to all users, Tag for tag-based push, User for single-user push" (EN/78839). */
export const SCHED_TYPES = ['All', 'Tag', 'User'] as const;
export type SchedType = (typeof SCHED_TYPES)[number];

/** Codes the sched-task pages show: 90107 (C2) and the family's common ones (the full set is UNCONFIRMED). */
const SCHED_CODES = [90001, 90009, SCHED_NOT_PENDING_CODE, 91000];
/** EN/71893 and EN/71895 list no code table in our references: the family's common codes (UNCONFIRMED). */
const REPORT_CODES = [90001, 90009, 91000];

/**
 * PushPlatform values of the push-result callback (EN/67551, DELIVERY.md §5), which the
 * statistics, loss and trace answers use too.
 */
export const PUSH_PLATFORMS: Readonly<Record<number, string>> = {
  0: 'unknown',
  1: 'APNs',
  2: 'Xiaomi',
  3: 'Huawei',
  4: 'FCM',
  5: 'Meizu',
  6: 'OPPO',
  7: 'vivo',
  8: 'Honor',
};

/** A task as get_sched_task and list_sched_task describe it (F16), with the whole entry for --json. */
export interface SchedTaskInfo {
  TaskID: number;
  Type: string;
  /** "YYYY-MM-DD HH:MM:SS", UTC. */
  SchedAt: string;
  CreateAt: string;
  Status: string;
  Title: string;
  Desc: string;
  /** The push it fired, once it has ("" before). */
  PushTaskID: string;
  Content: Record<string, unknown>;
  raw: Record<string, unknown>;
}

/** add_sched_task's request (EN/78839). */
export interface SchedAddRequest {
  Sdkappid: number;
  Type: SchedType;
  SchedAt: string;
  Content: Record<string, unknown>;
}

/** list_sched_task's request (EN/78843): BeginTime and EndTime are required together. */
export interface SchedListRequest {
  Sdkappid: number;
  Offset: number;
  Want: number;
  OrderBy: 'schedat' | 'createat';
  Asc: boolean;
  BeginTime: string;
  EndTime: string;
  Keyword?: string | undefined;
}

/** modify_sched_task's request (EN/78840): Type must be the task's; SchedAt and Content only when they change. */
export interface SchedModifyRequest {
  Sdkappid: number;
  TaskID: number;
  Type: string;
  SchedAt?: string | undefined;
  Content?: Record<string, unknown> | undefined;
}

/** A page of list_sched_task. */
export interface SchedPage {
  Total: number;
  Tasks: SchedTaskInfo[];
}

/** One task's loss reasons (F15) as the server gave them. */
export interface PushLoss {
  TaskID: string;
  raw: Record<string, unknown>;
}

/** The StartTime..EndTime (Unix seconds) of a loss request. */
export interface LossSpan {
  StartTime: number;
  EndTime: number;
}

/** One all_member_push_trace answer (C4): the devices of one user in one task. */
export interface PushTrace {
  TaskID: string;
  UserID: string;
  InstanceTrace: Array<Record<string, unknown>>;
}

/** The delivery operations; absent from the all_member_push table. */
export interface DeliveryOperations {
  addSchedTask?: Operation<SchedAddRequest, number>;
  getSchedTask?: Operation<{ Sdkappid: number; TaskID: number }, SchedTaskInfo>;
  listSchedTasks?: Operation<SchedListRequest, SchedPage>;
  modifySchedTask?: Operation<SchedModifyRequest, void>;
  deleteSchedTask?: Operation<{ Sdkappid: number; TaskID: number; Type: string }, void>;
  pushLoss?: BatchOperation<string, PushLoss, LossSpan>;
  pushTrace?: Operation<{ TaskID: string; UserID: string }, PushTrace>;
}

export interface DeliveryPaths {
  add: string;
  get: string;
  list: string;
  modify: string;
  delete: string;
  loss: string;
  trace: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));

/** Reads a TaskInfo entry (F16). The TaskID must be an integer; the other fields are read leniently. */
export function readTaskInfo(command: string, value: unknown): SchedTaskInfo {
  if (!isObject(value)) throw shapeError(command, 'a task is not an object');
  if (!Number.isSafeInteger(value.TaskID)) throw shapeError(command, 'a task has no integer TaskID');
  return {
    TaskID: value.TaskID as number,
    Type: text(value.Type),
    SchedAt: text(value.SchedAt),
    CreateAt: text(value.CreateAt),
    Status: text(value.Status),
    Title: text(value.Title),
    Desc: text(value.Desc),
    PushTaskID: text(value.PushTaskID),
    Content: isObject(value.Content) ? value.Content : {},
    raw: value,
  };
}

/** The TaskID an add answer carries (an Integer, as get and delete return it; the add sample is UNCONFIRMED). */
function readTaskId(command: string, envelope: Envelope): number {
  const id = envelope.TaskID;
  if (!Number.isSafeInteger(id) || (id as number) <= 0) throw shapeError(command, 'no integer TaskID in a successful answer');
  return id as number;
}

/** Reads loss Results (F15) by TaskID; a task the server left out fails. */
function readLoss(command: string, envelope: Envelope, tasks: readonly string[]): BatchOutcome<PushLoss> {
  const results = envelope.Results ?? [];
  if (!Array.isArray(results)) throw shapeError(command, 'Results is not an array');
  const byTask = new Map<string, PushLoss>();
  for (const entry of results as unknown[]) {
    if (!isObject(entry) || typeof entry.TaskID !== 'string') throw shapeError(command, 'an entry of Results is not an object with a TaskID string');
    if (!byTask.has(entry.TaskID)) byTask.set(entry.TaskID, { TaskID: entry.TaskID, raw: entry });
  }
  const out: BatchOutcome<PushLoss> = { results: [], failures: [] };
  tasks.forEach((task, index) => {
    const loss = byTask.get(task);
    if (loss) out.results.push(loss);
    else out.failures.push({ index, reason: 'no loss data for this TaskId' });
  });
  return out;
}

/** The delivery operations over `paths`. */
export function deliveryOperations(family: ApiFamily, paths: DeliveryPaths): Required<DeliveryOperations> {
  const sched = { family, callsPerSecond: SCHED_CALLS_PER_SECOND, codes: SCHED_CODES } as const;
  const report = { family, callsPerSecond: REPORT_CALLS_PER_SECOND, codes: REPORT_CODES, retrySafe: true, writes: false } as const;
  const addCommand = commandOf(paths.add);
  const getCommand = commandOf(paths.get);
  const listCommand = commandOf(paths.list);
  const traceCommand = commandOf(paths.trace);
  const lossCommand = commandOf(paths.loss);
  return {
    addSchedTask: operation({
      ...sched,
      path: paths.add,
      // Each add creates a task: sent twice, the push would go out twice. Never repeated once it may have arrived.
      retrySafe: false,
      writes: true,
      body: (request: SchedAddRequest) => request,
      read: (envelope) => readTaskId(addCommand, envelope),
    }),
    getSchedTask: operation({
      ...sched,
      path: paths.get,
      retrySafe: true,
      writes: false,
      body: (request: { Sdkappid: number; TaskID: number }) => request,
      read: (envelope) => readTaskInfo(getCommand, envelope.TaskInfo),
    }),
    listSchedTasks: operation({
      ...sched,
      path: paths.list,
      retrySafe: true,
      writes: false,
      body: (request: SchedListRequest) => request,
      read: (envelope) => {
        const tasks = envelope.Tasks ?? [];
        if (!Array.isArray(tasks)) throw shapeError(listCommand, 'Tasks is not an array');
        if (!Number.isSafeInteger(envelope.Total)) throw shapeError(listCommand, 'no integer Total');
        return { Total: envelope.Total as number, Tasks: (tasks as unknown[]).map((t) => readTaskInfo(listCommand, t)) };
      },
    }),
    modifySchedTask: operation({
      ...sched,
      path: paths.modify,
      // Setting the same SchedAt and Content twice leaves the task as the first call did.
      retrySafe: true,
      writes: true,
      body: (request: SchedModifyRequest) => request,
      read: () => undefined,
    }),
    deleteSchedTask: operation({
      ...sched,
      path: paths.delete,
      // A second delete of a task the first one removed is refused ("no task"): that would hide
      // that the first worked, so a delete whose answer was lost says "may have been sent".
      retrySafe: false,
      writes: true,
      body: (request: { Sdkappid: number; TaskID: number; Type: string }) => request,
      read: () => undefined,
    }),
    pushLoss: batchOperation({
      ...report,
      path: paths.loss,
      maxItems: MAX_STATS_TASKS,
      wording: { ...RETURNED, noun: 'task' },
      accountOf: (task: string) => task,
      body: (tasks: readonly string[], span: LossSpan) => ({ StartTime: span.StartTime, EndTime: span.EndTime, TaskID: tasks }),
      read: (envelope, tasks) => readLoss(lossCommand, envelope, tasks),
    }),
    pushTrace: operation({
      ...report,
      path: paths.trace,
      body: (request: { TaskID: string; UserID: string }) => ({ TaskID: request.TaskID, UserID: request.UserID }),
      read: (envelope, request) => {
        const list = envelope.InstanceTrace ?? [];
        if (!Array.isArray(list) || list.some((e) => !isObject(e))) throw shapeError(traceCommand, 'InstanceTrace is not an array of objects');
        return { TaskID: request.TaskID, UserID: request.UserID, InstanceTrace: list as Array<Record<string, unknown>> };
      },
    }),
  };
}
