/**
 * The push operations (PUSH-FAMILY.md §2 im_push, §3 timpush push / revoke /
 * all_member_push_statistics, §5 account_check) and the composite read `audience` uses (the
 * attributes and the tags of the same accounts in one runner call). Descriptors only: the family
 * tables (families.ts) give them their paths; the runner and `ImClient.call` send them.
 *
 * account_check (`v4/im_open_login_svc/account_check`) is in neither family's URL prefix: it is the
 * same endpoint for both, so both tables carry the one descriptor (`ACCOUNT_CHECK`).
 */
import { codeInfo } from './codes.js';
import { shapeError, type Envelope } from './envelope.js';
import { randomInt } from 'node:crypto';
import { ACCOUNT_CALLS_PER_SECOND, LIST_PUSH_CALLS_PER_SECOND, MAX_ACCOUNT_CHECK_ITEMS, MAX_LIST_PUSH_ACCOUNTS, MAX_STATS_TASKS, PUSH_CALLS_PER_SECOND, REPORT_CALLS_PER_SECOND } from './facts.js';
import {
  batchOperation,
  commandOf,
  operation,
  RETURNED,
  errorListReasons,
  failuresByAccount,
  type ApiFamily,
  type BatchOperation,
  type BatchOutcome,
  type ItemFailure,
  type Operation,
  type ReadContext,
} from './operation.js';

/** Error codes each push endpoint documents (PUSH-FAMILY.md §2.1, §3; EN/37166, EN/74196, EN/60571). */
export const PUSH_OPERATION_CODES = {
  imPush: [90001, 90002, 90005, 90007, 90009, 90010, 90020, 90022, 90024, 90026, 90032, 90033, 90039, 90040, 90045, 90047, 91000],
  timpushPush: [90001, 90005, 90009, 90018, 90020, 90022, 90024, 90026, 90032, 90033, 90039, 90040, 90045, 90047, 90056, 91000],
  revoke: [90001, 90009, 90049, 90050, 90051, 90052, 90053],
  // EN/71894 lists no code table in our references: the family's common codes (UNCONFIRMED).
  statistics: [90001, 90009, 91000],
  // No code list in our references (PUSH-FAMILY.md §5); the emulator answers 70402 for a bad item.
  accountCheck: [] as number[],
  // trtc.io/document/67553 (mirror 52550981827).
  listPush: [90001, 90009, 90045, 90057, 91000],
} as const;

const meaning = (code: number): string => codeInfo(code).meaning;

/** A push request body as the API takes it (validated by src/push/condition.ts before sending). */
export type PushBody = Readonly<Record<string, unknown>>;

/** What a push answered: its TaskId and the whole envelope (for --json). */
export interface PushAnswer {
  TaskId: string;
  answer: Envelope;
}

/** One task's funnel from all_member_push_statistics (F14). */
export interface PushStats {
  TaskID: string;
  TotalCount: number;
  SentCount: number;
  DeliveredCount: number;
  ClickCount: number;
  /** The entry as the server sent it (PlatformStatistics included), for --json. */
  raw: Record<string, unknown>;
}

/** One account_check answer (F19). */
export interface AccountStatus {
  UserID: string;
  AccountStatus: 'Imported' | 'NotImported';
}

/** The push operations of one family; account_check is in both. */
export interface PushOperations {
  push: Operation<PushBody, PushAnswer>;
  /** TIMPush only: recall a push within 24 h. */
  revokePush?: Operation<{ TaskId: string; OfflinePushInfo: Record<string, unknown> }, void>;
  /** TIMPush only: total, sent, delivered, clicked per task; no TaskIDs = every task of the last 30 days. */
  pushStatistics?: BatchOperation<string, PushStats>;
  accountCheck: BatchOperation<string, AccountStatus>;
  /**
   * TIMPush only: push to a list, 1-500 accounts a call (timpush/batch). Not safe to repeat: a
   * call that may have arrived ends "may have been sent" and is never sent again. Paced at the
   * free edition's rate; `withEdition` raises it.
   */
  listPush?: BatchOperation<RosterItem, ListPushCall, ListPushMessage>;
}

/** The list push at the rate of a TIMPush edition (DELIVERY.md §1: 10, 30 or 40 calls/s). */
export function withEdition<I, R, P>(op: BatchOperation<I, R, P>, edition: keyof typeof LIST_PUSH_CALLS_PER_SECOND): BatchOperation<I, R, P> {
  return { ...op, callsPerSecond: LIST_PUSH_CALLS_PER_SECOND[edition] };
}

export type PushPaths = { push: string; revoke?: string; statistics?: string; listPush?: string };

/** One account of a list push's roster, with its place in the (deduplicated) roster: a manifest names calls by these ranges. */
export interface RosterItem {
  account: string;
  position: number;
}

/** What every call of a list push carries besides its accounts: the message, sent once per call. */
export interface ListPushMessage {
  From_Account?: string;
  MsgBody?: unknown[];
  MsgLifeTime?: number;
  OfflinePushInfo?: Record<string, string>;
  /** Passed through to the push-result callbacks (≤ 64 bytes). */
  DataId?: string;
}

/** What one call of a list push answered. */
export interface ListPushCall {
  TaskId: string;
}

/** The largest MsgRandom: an unsigned 32-bit integer (EN/37166). */
const MSG_RANDOM_LIMIT = 2 ** 32;

/** Reads a push answer: a TaskId string is required (F4, F13's push). */
function readPush(command: string, envelope: Envelope): PushAnswer {
  if (typeof envelope.TaskId !== 'string' || envelope.TaskId === '') throw shapeError(command, 'no TaskId in a successful push answer');
  return { TaskId: envelope.TaskId, answer: envelope };
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** Reads statistics (F14): one result per task asked for; a task the server left out fails. No tasks asked: every result. */
export function readStatistics(command: string, envelope: Envelope, tasks: readonly string[]): BatchOutcome<PushStats> {
  const results = envelope.Results ?? [];
  if (!Array.isArray(results)) throw shapeError(command, 'Results is not an array');
  const byTask = new Map<string, PushStats>();
  const all: PushStats[] = [];
  for (const entry of results as unknown[]) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw shapeError(command, 'an entry of Results is not an object');
    const raw = entry as Record<string, unknown>;
    if (typeof raw.TaskID !== 'string') throw shapeError(command, 'an entry of Results has no TaskID string');
    const stats: PushStats = {
      TaskID: raw.TaskID,
      TotalCount: count(raw.TotalCount),
      SentCount: count(raw.SentCount),
      DeliveredCount: count(raw.DeliveredCount),
      ClickCount: count(raw.ClickCount),
      raw,
    };
    all.push(stats);
    if (!byTask.has(stats.TaskID)) byTask.set(stats.TaskID, stats);
  }
  if (tasks.length === 0) return { results: all, failures: [] };
  const out: BatchOutcome<PushStats> = { results: [], failures: [] };
  tasks.forEach((task, index) => {
    const stats = byTask.get(task);
    if (stats) out.results.push(stats);
    else out.failures.push({ index, reason: 'no statistics for this TaskId (unknown, not a TIMPush condition push, or older than 30 days)' });
  });
  return out;
}

/** Reads account_check (F19), matched by UserID in request order; an account left out or with a ResultCode fails. */
export function readAccountCheck(command: string, envelope: Envelope, accounts: readonly string[], ctx: ReadContext): BatchOutcome<AccountStatus> {
  const items = envelope.ResultItem ?? [];
  if (!Array.isArray(items)) throw shapeError(command, 'ResultItem is not an array');
  const answers = new Map<string, { status?: AccountStatus['AccountStatus']; code?: number; info?: string }>();
  for (const entry of items as unknown[]) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw shapeError(command, 'an entry of ResultItem is not an object');
    const { UserID: id, ResultCode: code, ResultInfo: info, AccountStatus: status } = entry as Record<string, unknown>;
    if (typeof id !== 'string' || answers.has(id)) continue;
    const resultCode = typeof code === 'number' ? code : 0;
    answers.set(id, {
      status: status === 'Imported' || status === 'NotImported' ? status : undefined,
      code: resultCode,
      info: typeof info === 'string' && info ? ctx.clean(info) : undefined,
    });
  }
  const results: AccountStatus[] = [];
  const failures: ItemFailure[] = [];
  accounts.forEach((account, index) => {
    const answer = answers.get(account);
    if (answer === undefined) failures.push({ index, reason: 'not in the response' });
    else if (answer.code) failures.push({ index, code: answer.code, reason: `${answer.code} ${answer.info ?? meaning(answer.code)}` });
    else if (answer.status === undefined) failures.push({ index, reason: 'unexpected response shape: no AccountStatus' });
    else results.push({ UserID: account, AccountStatus: answer.status });
  });
  return { results, failures };
}

/** `v4/im_open_login_svc/account_check`: the same endpoint for both families (not under their prefixes). */
export const ACCOUNT_CHECK_PATH = 'v4/im_open_login_svc/account_check';

/** The account_check descriptor of a family's table. */
export function accountCheckOperation(family: ApiFamily): BatchOperation<string, AccountStatus> {
  return batchOperation({
    family,
    path: ACCOUNT_CHECK_PATH,
    maxItems: MAX_ACCOUNT_CHECK_ITEMS,
    callsPerSecond: ACCOUNT_CALLS_PER_SECOND,
    wording: { done: 'checked' },
    retrySafe: true,
    writes: false,
    codes: PUSH_OPERATION_CODES.accountCheck,
    accountOf: (account) => account,
    body: (accounts) => ({ CheckItem: accounts.map((UserID) => ({ UserID })) }),
    read: (envelope, accounts, ctx) => readAccountCheck('account_check', envelope, accounts, ctx),
  });
}

/** The push operations over `paths` (revoke and statistics only where the family has them). */
export function pushOperations(family: ApiFamily, paths: PushPaths): PushOperations {
  const pushCommand = commandOf(paths.push);
  const ops: PushOperations = {
    push: operation({
      family,
      path: paths.push,
      // A push sent twice reaches every recipient twice (and MsgRandom dedupe is documented only
      // "within a second" now, PUSH-FAMILY.md Corrections 10): never repeated once it may have
      // reached the server. Refusals the server cannot have acted on (rate limits, a connection
      // that never opened) are still retried: src/api/policy.ts shouldRetry.
      retrySafe: false,
      writes: true,
      callsPerSecond: PUSH_CALLS_PER_SECOND,
      codes: family === 'timpush' ? PUSH_OPERATION_CODES.timpushPush : PUSH_OPERATION_CODES.imPush,
      body: (request: PushBody) => request,
      read: (envelope) => readPush(pushCommand, envelope),
    }),
    accountCheck: accountCheckOperation(family),
  };
  if (paths.revoke) {
    ops.revokePush = operation({
      family,
      path: paths.revoke,
      // Recalling twice leaves the push recalled (the second answer is 90050 "already recalled").
      retrySafe: true,
      writes: true,
      callsPerSecond: REPORT_CALLS_PER_SECOND,
      codes: PUSH_OPERATION_CODES.revoke,
      body: (input: { TaskId: string; OfflinePushInfo: Record<string, unknown> }) => ({ TaskId: input.TaskId, OfflinePushInfo: input.OfflinePushInfo }),
      read: () => undefined,
    });
  }
  if (paths.statistics) {
    const command = commandOf(paths.statistics);
    ops.pushStatistics = batchOperation({
      family,
      path: paths.statistics,
      maxItems: MAX_STATS_TASKS,
      callsPerSecond: REPORT_CALLS_PER_SECOND,
      wording: { ...RETURNED, noun: 'task' },
      retrySafe: true,
      writes: false,
      codes: PUSH_OPERATION_CODES.statistics,
      accountOf: (task) => task,
      body: (tasks) => (tasks.length ? { TaskID: tasks } : {}),
      read: (envelope, tasks) => readStatistics(command, envelope, tasks),
    });
  }
  if (paths.listPush) {
    const command = commandOf(paths.listPush);
    ops.listPush = batchOperation<RosterItem, ListPushCall, ListPushMessage>({
      family,
      path: paths.listPush,
      maxItems: MAX_LIST_PUSH_ACCOUNTS,
      callsPerSecond: LIST_PUSH_CALLS_PER_SECOND.free,
      // Each call is a push to real people: never repeated once it may have arrived.
      retrySafe: false,
      writes: true,
      codes: PUSH_OPERATION_CODES.listPush,
      wording: { done: 'sent' },
      accountOf: (item) => item.account,
      itemBody: (item) => ({ To_Account: item.account }),
      // A fresh MsgRandom per call (a retry happens only when the server cannot have acted on it).
      body: (items, message) => ({ ...message, To_Account: items.map((i) => i.account), MsgRandom: randomInt(0, MSG_RANDOM_LIMIT) }),
      read: (envelope, items, ctx) => {
        if (typeof envelope.TaskId !== 'string' || envelope.TaskId === '') throw shapeError(command, 'no TaskId in a successful batch answer');
        const reasons = errorListReasons(envelope.ErrorList, ctx.clean);
        return { results: [{ TaskId: envelope.TaskId }], failures: failuresByAccount(items, (i) => i.account, (a) => reasons.get(a)) };
      },
    });
  }
  return ops;
}

export { joinOutcomes, targetingOperation, type TargetingNeeds } from './composite.js';
