/**
 * `im-attrs push schedule create|list|show|edit|cancel`: TIMPush scheduled pushes
 * (`add/get/list/modify/delete_sched_task`, DELIVERY.md §2, 5 calls/s each).
 *
 * Times are in the user's terms: `--at 2026-12-24T09:00` is read in the local zone (TZ, else the
 * system's), or with an offset or `Z`; the API wants UTC "YYYY-MM-DD HH:MM:SS" (EN/78839), and
 * every message shows both. A scheduled push reaches real people when it fires, so `create`,
 * `edit` and `cancel` are guarded like `push send`: what they will do is shown first, a terminal
 * is asked, otherwise --yes is needed; --dry-run prints the request(s) and sends nothing.
 *
 * Readings where the documentation is silent (DELIVERY.md §2, UNCONFIRMED), the emulator's too:
 * - Type is All, Tag or User only: an attribute condition has no Type, so it is refused.
 * - list's longest BeginTime..EndTime is taken as 90 days; the page size is the sample's 20.
 * - modify replaces the Content fields it is given: an OfflinePushInfo is sent whole (the task's
 *   merged with the change), so changing the title keeps the description.
 */
import { Command, Option } from 'commander';
import type { SchedAddRequest, SchedListRequest, SchedTaskInfo, SchedType } from '../api/delivery.js';
import { MAX_SCHED_USER_ACCOUNTS, SCHED_LIST_MAX_SPAN_DAYS, SCHED_LIST_PAGE_SIZE, SCHED_NOT_PENDING_CODE } from '../api/facts.js';
import { ApiError, ConfigError, UsageError } from '../errors.js';
import { readAccounts, type AccountSource } from '../input/accounts.js';
import { addConditionOptions, checkCondition, conditionFromFlags, conditionNeeds, showCondition, type ConditionFlags } from '../jobs/condition-input.js';
import { addOutputOptions, resolveOutputFormat, tableLayout } from '../jobs/read-options.js';
import { withRun } from '../jobs/run.js';
import { formatCsvLine, formatTable, formatTsvLine, type OutputFormat } from '../output/index.js';
import { validatePushRequest } from '../push/condition.js';
import type { Runtime } from '../runtime/runtime.js';
import { plural } from '../util/text.js';
import { pushBody, type PushContentFlags } from '../push/body.js';
import path from 'node:path';

const DAY_MS = 86_400_000;
/** `list` without --from/--until: the next 30 days (our default; the API requires a span). */
export const SCHED_LIST_DEFAULT_DAYS = 30;

// ---------------------------------------------------------------------------------------------
// Time in the user's terms

/** The user's time zone: TZ from the injected environment, else the system's (Intl). */
export function userZone(rt: Runtime): string {
  const tz = rt.deps.env.TZ?.replace(/^:/, '');
  const zone = tz ? tz : Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ConfigError(`TZ="${tz ?? ''}" is not a time zone`, { hint: 'set TZ to an IANA zone such as Europe/Paris, or give times with an offset: --at 2026-12-24T09:00+01:00' });
  }
  return zone;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock time of `ms` in `zone`. */
function wallTime(ms: number, zone: string): Wall {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

const wallUtc = (w: Wall): number => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
const sameWall = (a: Wall, b: Wall): boolean =>
  a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Unix ms → "YYYY-MM-DD HH:MM:SS", UTC: the API's SchedAt, BeginTime and EndTime (EN/78839). */
export function formatUtc(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** "YYYY-MM-DD HH:MM:SS" (UTC, as the API writes it) → Unix ms, or undefined. */
export function parseUtc(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return formatUtc(ms) === text ? ms : undefined;
}

/** `ms` on the wall clock of `zone`: "2026-12-24 09:00 Europe/Paris" (seconds only when not 0). */
export function formatLocal(ms: number, zone: string): string {
  const w = wallTime(ms, zone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}${w.second ? `:${pad(w.second)}` : ''} ${zone}`;
}

/** Both readings of a time: "2026-12-24 09:00 Europe/Paris = 2026-12-24 08:00:00 UTC". */
export function describeTime(ms: number, zone: string): string {
  return `${formatLocal(ms, zone)} = ${formatUtc(ms)} UTC`;
}

/**
 * A time as the user gives it: `2026-12-24T09:00` (or with a space, with seconds) in `zone`, or
 * with `Z` or an offset (`+01:00`, `-0500`). A local time the clocks skip (a DST gap) is refused.
 */
export function parseUserTime(flag: string, text: string, zone: string): number {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/i.exec(text);
  const bad = (why: string): UsageError =>
    new UsageError(`${flag} "${text}" ${why}`, { hint: `a time such as ${flag} 2026-12-24T09:00 (in ${zone}), 2026-12-24T08:00Z or 2026-12-24T09:00+01:00` });
  if (!m) throw bad('is not a date and time');
  const wall: Wall = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6] ?? 0) };
  const asUtc = wallUtc(wall);
  // Date.UTC rolls 2026-02-30 over into March: a time that does not come back the same is not one.
  if (!sameWall(wallTime(asUtc, 'UTC'), wall)) throw bad('is not a valid date and time');
  const offset = m[7];
  if (offset !== undefined) {
    if (offset.toUpperCase() === 'Z') return asUtc;
    const o = /^([+-])(\d{2}):?(\d{2})$/.exec(offset)!;
    const minutes = Number(o[2]) * 60 + Number(o[3]);
    if (Number(o[2]) > 23 || Number(o[3]) > 59) throw bad('has an offset that is not one');
    return asUtc - (o[1] === '-' ? -1 : 1) * minutes * 60_000;
  }
  // The zone's offset at that moment: guess, then correct once (enough across one DST change).
  const offsetAt = (ms: number): number => wallUtc(wallTime(ms, zone)) - Math.floor(ms / 1000) * 1000;
  let ms = asUtc - offsetAt(asUtc);
  ms = asUtc - offsetAt(ms);
  if (!sameWall(wallTime(ms, zone), wall)) throw bad(`does not exist in ${zone} (the clocks skip it)`);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Shared

/** A sched TaskID: a positive integer (push TaskIds are strings: keep the two apart). */
export function parseSchedTaskId(text: string): number {
  const id = Number(text);
  if (!/^\s*[1-9][0-9]*\s*$/.test(text) || !Number.isSafeInteger(id)) {
    throw new UsageError(`"${text}" is not a scheduled task's TaskID (a positive integer)`, {
      hint: /_|@/.test(text) ? 'that looks like a push TaskId: read it with `im-attrs --api timpush push report`' : 'list the tasks with `im-attrs --api timpush push schedule list`',
    });
  }
  return id;
}

/** Scheduled pushes exist only in the TIMPush family (DELIVERY.md §2). */
async function requireTimpush(rt: Runtime): Promise<void> {
  const family = await rt.family();
  if (family !== 'timpush') {
    throw new ConfigError(`the ${family} API family has no scheduled pushes (they are TIMPush only: timpush/*_sched_task)`, {
      hint: 'use --api timpush (or `api: timpush` in the config) if the app runs on TIMPush',
    });
  }
}

/** A task that is not pending can no longer be changed (90107, C2): exit 1, pointing to its report. */
function notPending(id: number, status: string, verb: string, pushTaskId?: string): ApiError {
  return new ApiError(`task ${id} is no longer pending (${status}): it can no longer be ${verb}`, {
    apiCode: SCHED_NOT_PENDING_CODE,
    hint: pushTaskId
      ? `it fired as push ${pushTaskId}: see how it went with \`im-attrs --api timpush push report ${pushTaskId}\``
      : `once it has fired, \`im-attrs --api timpush push schedule show ${id}\` names its push TaskId; then \`im-attrs --api timpush push report PUSHTASKID\``,
  });
}

/** A 90107 answer as notPending ("delete failed: task dispatching" → dispatching); anything else as it came. */
function mapNotPending(error: unknown, id: number, verb: string, pushTaskId: string): unknown {
  if (!(error instanceof ApiError) || error.apiCode !== SCHED_NOT_PENDING_CODE) return error;
  const status = /task (\w+)/.exec(error.errorInfo ?? '')?.[1] ?? 'not pending';
  return notPending(id, status, verb, pushTaskId || undefined);
}

/** Where a show line goes: stderr, hidden by --quiet unless the user is asked about it. */
function shower(rt: Runtime, asking: boolean): (line: string) => void {
  return asking ? (line) => rt.stderr(line) : (line) => rt.info(line);
}

// ---------------------------------------------------------------------------------------------
// create

type ContentFlags = PushContentFlags;

export interface ScheduleCreateOptions extends ConditionFlags, ContentFlags {
  at: string;
  to?: string;
  yes?: boolean;
  dryRun?: boolean;
}

function addContentOptions(command: Command): Command {
  return command
    .option('--text <text>', 'the message: a text element (TIMTextElem)')
    .option('--msg-body <file>', 'the message: a JSON file holding the raw MsgBody array (instead of --text)')
    .option('--lifetime <duration>', 'offline storage (MsgLifeTime): seconds, or with s, m, h, d; at most 7d')
    .option('--offline-title <title>', 'offline push notification title (OfflinePushInfo.Title)')
    .option('--offline-desc <text>', 'offline push notification text (OfflinePushInfo.Desc)')
    .option('--from <account>', 'the sender account (From_Account)');
}

const hasContent = (o: ContentFlags): boolean => [o.text, o.msgBody, o.offlineTitle, o.offlineDesc].some((v) => v !== undefined);

/** The accounts of --to FILE|-: each once, in order. */
async function readTo(rt: Runtime, file: string): Promise<string[]> {
  const source: AccountSource = file === '-' ? { kind: 'stdin', stream: rt.deps.io.stdin } : { kind: 'file', path: path.resolve(rt.deps.cwd, file), signal: rt.inputSignal };
  const ids: string[] = [];
  for await (const chunk of readAccounts([source], { onWarning: (m) => rt.warn(m) }).chunks()) ids.push(...chunk);
  return ids;
}

export async function scheduleCreateRun(rt: Runtime, options: ScheduleCreateOptions): Promise<void> {
  await requireTimpush(rt);
  const zone = userZone(rt);
  const at = parseUserTime('--at', options.at, zone);
  const now = rt.deps.now();
  if (at <= now) {
    throw new UsageError(`--at ${describeTime(at, zone)} is in the past (now: ${describeTime(now, zone)}): nothing was sent`, { hint: 'give a time in the future' });
  }
  const condition = conditionFromFlags(rt.deps.cwd, options);
  if (options.to !== undefined && condition !== undefined) {
    throw new UsageError('--to and a condition contradict each other', { hint: '--to FILE schedules a push to those accounts (Type User); a condition, to everyone matching it (Type All or Tag)' });
  }
  const needs = conditionNeeds(condition);
  if (needs.attrs) {
    throw new UsageError('an attribute condition cannot be scheduled: a scheduled push is All, Tag or User (DELIVERY.md §2, EN/78839), none of which takes attributes', {
      hint: 'list the accounts with `im-attrs audience` and schedule them with --to FILE, or tag them and schedule a tag condition',
    });
  }
  checkCondition(condition, 'timpush');
  if (!hasContent(options)) throw new UsageError('nothing to push', { hint: 'give --text or --msg-body, and/or --offline-title/--offline-desc' });
  const type: SchedType = options.to !== undefined ? 'User' : needs.tags ? 'Tag' : 'All';
  const chunks: Array<string[] | undefined> = [];
  let accounts = 0;
  if (options.to !== undefined) {
    const ids = await readTo(rt, options.to);
    if (ids.length === 0) throw new UsageError(`--to ${options.to} names no account: nothing was sent`);
    accounts = ids.length;
    for (let i = 0; i < ids.length; i += MAX_SCHED_USER_ACCOUNTS) chunks.push(ids.slice(i, i + MAX_SCHED_USER_ACCOUNTS));
  } else chunks.push(undefined);
  const { sdkAppId } = await rt.apiConfig();
  const SchedAt = formatUtc(at);
  // One MsgRandom per task: tasks firing in the same second must not be taken for one push.
  const requests: SchedAddRequest[] = chunks.map((chunk) => {
    const Content = pushBody(rt.deps.cwd, options as PushContentFlags, condition);
    if (chunk) Content.To_Account = chunk;
    const problems = validatePushRequest(Content, 'timpush');
    if (problems.length > 0) throw new UsageError(`invalid push: ${problems.map((p) => `${p.message} (the API would answer ${p.code})`).join('; ')}`);
    return { Sdkappid: sdkAppId, Type: type, SchedAt, Content };
  });
  const op = (await rt.operation('addSchedTask'))!;
  const asking = !options.yes && !options.dryRun;
  const show = shower(rt, asking);
  const tasks = plural(requests.length, 'scheduled task');
  show(`schedule: ${tasks} (Type ${type}) at ${describeTime(at, zone)}`);
  if (type === 'User') show(`to: ${plural(accounts, 'account')}${requests.length > 1 ? ` in ${requests.length} tasks of at most ${MAX_SCHED_USER_ACCOUNTS}, created one after the other` : ''}`);
  else show(`to: ${showCondition(condition)}`);
  if (asking) {
    const [first] = requests;
    const sample = type === 'User' ? { ...first, Content: { ...first!.Content, To_Account: `[${plural((first!.Content.To_Account as string[]).length, 'account')}]` } } : first;
    show(`request: POST ${op.path}${requests.length > 1 ? ` (the first of ${requests.length})` : ''}\n${JSON.stringify(sample, null, 2)}`);
  }
  await withRun(rt, options, async (run) => {
    if (asking && !(await run.confirm(`Create ${tasks} for ${describeTime(at, zone)}? When ${requests.length > 1 ? 'they fire, they reach' : 'it fires, it reaches'} real users.`))) {
      throw new UsageError('not confirmed; nothing was sent');
    }
    const created: number[] = [];
    for (const [index, request] of requests.entries()) {
      let id: number | undefined;
      try {
        id = await run.write(op, request, 'push schedule create');
      } catch (error) {
        if (created.length > 0) rt.stderr(`created ${created.length} of ${requests.length} tasks before this error: ${created.join(' ')}; task ${index + 1} and later were not created`);
        throw error;
      }
      if (id === undefined) continue;
      created.push(id);
      rt.deps.io.stdout.write(`${id}\n`);
      const part = type === 'User' && requests.length > 1 ? ` (accounts ${index * MAX_SCHED_USER_ACCOUNTS + 1}-${index * MAX_SCHED_USER_ACCOUNTS + (request.Content.To_Account as string[]).length})` : '';
      rt.info(`scheduled task ${id}${part}: ${describeTime(at, zone)}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// list and show

export interface ScheduleListOptions {
  from?: string;
  until?: string;
  keyword?: string;
  order: 'schedat' | 'createat';
  asc?: boolean;
  output?: string;
  json?: boolean;
  wide?: boolean;
}

const TASK_COLUMNS = ['task', 'type', 'sched_at_utc', 'status', 'title', 'push_task_id'];
const taskCells = (t: SchedTaskInfo): string[] => [String(t.TaskID), t.Type, t.SchedAt, t.Status, t.Title, t.PushTaskID];

/** A task's SchedAt on the user's wall clock ("" when the server's text is not a time). */
function localOf(t: SchedTaskInfo, zone: string): string {
  const ms = parseUtc(t.SchedAt);
  return ms === undefined ? '' : formatLocal(ms, zone);
}

/** Prints tasks in `format`: the table adds the local time; json and ndjson are the server's entries. */
function printTasks(rt: Runtime, format: OutputFormat, tasks: readonly SchedTaskInfo[], zone: string, wide: boolean | undefined): void {
  const out = rt.deps.io.stdout;
  switch (format) {
    case 'json':
      out.write(`${JSON.stringify(tasks.map((t) => t.raw))}\n`);
      return;
    case 'ndjson':
      for (const t of tasks) out.write(`${JSON.stringify(t.raw)}\n`);
      return;
    case 'tsv':
    case 'csv': {
      const line = format === 'tsv' ? formatTsvLine : formatCsvLine;
      out.write(line(TASK_COLUMNS));
      for (const t of tasks) out.write(line(taskCells(t)));
      return;
    }
    case 'table': {
      const header = ['task', 'type', 'sched at (UTC)', 'local', 'status', 'title', 'push task'];
      const rows = tasks.map((t) => [String(t.TaskID), t.Type, t.SchedAt, localOf(t, zone), t.Status, t.Title, t.PushTaskID]);
      out.write(formatTable(header, rows, tableLayout(rt, { wide })));
    }
  }
}

export async function scheduleListRun(rt: Runtime, options: ScheduleListOptions): Promise<void> {
  await requireTimpush(rt);
  const zone = userZone(rt);
  const format = await resolveOutputFormat(rt, options);
  const from = options.from !== undefined ? parseUserTime('--from', options.from, zone) : Math.floor(rt.deps.now() / 1000) * 1000;
  const until = options.until !== undefined ? parseUserTime('--until', options.until, zone) : from + SCHED_LIST_DEFAULT_DAYS * DAY_MS;
  if (until < from) throw new UsageError(`--until ${describeTime(until, zone)} is before --from ${describeTime(from, zone)}`);
  if (until - from > SCHED_LIST_MAX_SPAN_DAYS * DAY_MS) {
    throw new UsageError(`${formatUtc(from)} UTC to ${formatUtc(until)} UTC spans more than ${SCHED_LIST_MAX_SPAN_DAYS} days, the most list_sched_task is taken to allow`, {
      hint: 'list a shorter span with --from and --until, several times if needed',
    });
  }
  const { sdkAppId } = await rt.apiConfig();
  const op = (await rt.operation('listSchedTasks'))!;
  const tasks: SchedTaskInfo[] = [];
  await withRun(rt, {}, async (run) => {
    const seen = new Set<number>();
    let offset = 0;
    for (;;) {
      const request: SchedListRequest = {
        Sdkappid: sdkAppId,
        Offset: offset,
        Want: SCHED_LIST_PAGE_SIZE,
        OrderBy: options.order,
        Asc: Boolean(options.asc),
        BeginTime: formatUtc(from),
        EndTime: formatUtc(until),
      };
      if (options.keyword !== undefined) request.Keyword = options.keyword;
      const page = await run.call(op, request);
      // A task created or deleted between pages shifts the rest: keep each TaskID once.
      for (const t of page.Tasks) if (!seen.has(t.TaskID) && seen.add(t.TaskID)) tasks.push(t);
      offset += page.Tasks.length;
      if (page.Tasks.length === 0 || offset >= page.Total) break;
    }
  });
  printTasks(rt, format, tasks, zone, options.wide);
  rt.info(`${plural(tasks.length, 'scheduled task')} from ${describeTime(from, zone)} to ${describeTime(until, zone)}`);
}

/** The readable block of one task (show on a terminal). */
function taskBlock(t: SchedTaskInfo, zone: string): string {
  const lines: Array<[string, string]> = [
    ['task', String(t.TaskID)],
    ['type', t.Type],
    ['sched at', `${t.SchedAt} UTC${localOf(t, zone) ? ` (${localOf(t, zone)})` : ''}`],
    ['status', t.Status],
    ['title', t.Title],
    ['desc', t.Desc],
    ['created', t.CreateAt ? `${t.CreateAt} UTC` : ''],
    ['push task', t.PushTaskID || '(not fired yet)'],
    ['content', JSON.stringify(t.Content)],
  ];
  return lines.map(([k, v]) => `${k.padEnd(10)} ${v}`.trimEnd()).join('\n') + '\n';
}

export async function scheduleShowRun(rt: Runtime, idText: string, options: { output?: string; json?: boolean; wide?: boolean }): Promise<void> {
  await requireTimpush(rt);
  const id = parseSchedTaskId(idText);
  const zone = userZone(rt);
  const format = await resolveOutputFormat(rt, options);
  const { sdkAppId } = await rt.apiConfig();
  const op = (await rt.operation('getSchedTask'))!;
  const task = await withRun(rt, {}, (run) => run.call(op, { Sdkappid: sdkAppId, TaskID: id }));
  if (format === 'table') rt.deps.io.stdout.write(taskBlock(task, zone));
  else if (format === 'json') rt.deps.io.stdout.write(`${JSON.stringify(task.raw)}\n`);
  else printTasks(rt, format, [task], zone, options.wide);
}

// ---------------------------------------------------------------------------------------------
// edit and cancel

export interface ScheduleEditOptions extends ContentFlags {
  at?: string;
  yes?: boolean;
  dryRun?: boolean;
}

export async function scheduleEditRun(rt: Runtime, idText: string, options: ScheduleEditOptions): Promise<void> {
  await requireTimpush(rt);
  const id = parseSchedTaskId(idText);
  const zone = userZone(rt);
  const contentGiven = hasContent(options) || options.lifetime !== undefined || options.from !== undefined;
  if (options.at === undefined && !contentGiven) throw new UsageError('nothing to change', { hint: 'give --at and/or content options (--text, --offline-title, …)' });
  let at: number | undefined;
  if (options.at !== undefined) {
    at = parseUserTime('--at', options.at, zone);
    const now = rt.deps.now();
    if (at <= now) throw new UsageError(`--at ${describeTime(at, zone)} is in the past (now: ${describeTime(now, zone)}): nothing was sent`, { hint: 'give a time in the future' });
  }
  const { sdkAppId } = await rt.apiConfig();
  const [getOp, op] = await Promise.all([rt.operation('getSchedTask'), rt.operation('modifySchedTask')]);
  const asking = !options.yes && !options.dryRun;
  const show = shower(rt, asking);
  await withRun(rt, options, async (run) => {
    // "Type must be the same as when the task was created" (EN/78840): read it first.
    const task = await run.call(getOp!, { Sdkappid: sdkAppId, TaskID: id });
    if (task.Status !== 'pending') throw notPending(id, task.Status, 'edited', task.PushTaskID || undefined);
    let Content: Record<string, unknown> | undefined;
    if (contentGiven) {
      // pushBody reads the content flags as `push send` does; a modify keeps the task's MsgRandom.
      const { MsgRandom: _random, ...fields } = pushBody(rt.deps.cwd, options as PushContentFlags, undefined);
      void _random;
      const offline = fields.OfflinePushInfo as Record<string, unknown> | undefined;
      const before = task.Content.OfflinePushInfo;
      if (offline) fields.OfflinePushInfo = { ...(typeof before === 'object' && before !== null ? before : {}), ...offline };
      Content = fields;
    }
    const request = { Sdkappid: sdkAppId, TaskID: id, Type: task.Type, ...(at !== undefined ? { SchedAt: formatUtc(at) } : {}), ...(Content ? { Content } : {}) };
    show(`edit task ${id} (${task.Type}, ${task.Status}):`);
    if (at !== undefined) {
      const old = parseUtc(task.SchedAt);
      show(`  sched at: ${old === undefined ? task.SchedAt : describeTime(old, zone)} → ${describeTime(at, zone)}`);
    }
    for (const [key, value] of Object.entries(Content ?? {})) show(`  ${key}: ${JSON.stringify(task.Content[key] ?? null)} → ${JSON.stringify(value)}`);
    if (asking && !(await run.confirm(`Change scheduled task ${id}?`))) throw new UsageError('not confirmed; nothing was sent');
    try {
      if ((await run.write(op!, request, 'push schedule edit')) === undefined && options.dryRun) return;
    } catch (error) {
      throw mapNotPending(error, id, 'edited', task.PushTaskID);
    }
    rt.info(`task ${id} updated${at !== undefined ? `: ${describeTime(at, zone)}` : ''}`);
  });
}

export async function scheduleCancelRun(rt: Runtime, idText: string, options: { yes?: boolean; dryRun?: boolean }): Promise<void> {
  await requireTimpush(rt);
  const id = parseSchedTaskId(idText);
  const zone = userZone(rt);
  const { sdkAppId } = await rt.apiConfig();
  const [getOp, op] = await Promise.all([rt.operation('getSchedTask'), rt.operation('deleteSchedTask')]);
  const asking = !options.yes && !options.dryRun;
  await withRun(rt, options, async (run) => {
    const task = await run.call(getOp!, { Sdkappid: sdkAppId, TaskID: id });
    if (task.Status !== 'pending') throw notPending(id, task.Status, 'cancelled', task.PushTaskID || undefined);
    const when = parseUtc(task.SchedAt);
    shower(rt, asking)(`cancel task ${id}: ${task.Type}, ${when === undefined ? task.SchedAt : describeTime(when, zone)}${task.Title ? `, "${task.Title}"` : ''}`);
    if (asking && !(await run.confirm(`Cancel scheduled task ${id}? It cannot be restored.`))) throw new UsageError('not confirmed; nothing was sent');
    try {
      await run.write(op!, { Sdkappid: sdkAppId, TaskID: id, Type: task.Type }, 'push schedule cancel');
    } catch (error) {
      throw mapNotPending(error, id, 'cancelled', task.PushTaskID);
    }
    if (!options.dryRun) rt.info(`task ${id} cancelled`);
  });
}

// ---------------------------------------------------------------------------------------------
// The command

const SCHEDULE_HELP = `
Times: --at, --from and --until take 2026-12-24T09:00 (or "2026-12-24 09:00[:SS]") in the local
zone (TZ, else the system's), or with Z or an offset (2026-12-24T08:00Z, 2026-12-24T09:00+01:00).
The API takes UTC "YYYY-MM-DD HH:MM:SS"; messages show both. A time in the past is refused.

Readings where Tencent's documentation is silent (the emulator reads them the same way):
  - a task is All (no condition), Tag (a tag condition) or User (--to); an attribute condition has
    no Type and is refused;
  - list spans at most ${SCHED_LIST_MAX_SPAN_DAYS} days, ${SCHED_LIST_PAGE_SIZE} tasks a page; edit sends OfflinePushInfo whole (the
    task's, with your change), since modify replaces the Content fields it is given.
`;

const EXAMPLES = `
Examples:
  $ im-attrs --api timpush push schedule create --at 2026-12-24T09:00 --tags-or vip --offline-title Sale --offline-desc "-20% today"
  $ im-attrs --api timpush push schedule create --at 2026-12-24T08:00Z --to winners.txt --text "You won" --yes
  $ im-attrs --api timpush push schedule list --from 2026-12-01T00:00 --until 2027-01-31T00:00
  $ im-attrs --api timpush push schedule edit 1234567890 --at 2026-12-24T10:00 --yes
  $ im-attrs --api timpush push schedule cancel 1234567890
`;

/** `push schedule`: TIMPush scheduled pushes; `pushBody` reads the content flags as `push send` does. */
export function newPushScheduleCommand(rt: Runtime): Command {
  const schedule = new Command('schedule')
    .summary('TIMPush: schedule a push for later; list, show, edit and cancel scheduled pushes')
    .description(
      'TIMPush only (--api timpush): scheduled pushes (timpush/*_sched_task, at most 5 calls/s). A task is pending until ' +
        'its time, then fires as a push (its push TaskId: `schedule show`; its delivery: `push report`); only a pending task ' +
        'can be edited or cancelled.',
    )
    .addHelpText('after', `${SCHEDULE_HELP}${EXAMPLES}`);

  const create = new Command('create')
    .summary('schedule a push: to a condition (All/Tag) or to a list of accounts (User); guarded')
    .description(
      'Schedule a push for --at: to every account (no condition: Type All), to a tag condition (Type Tag) or to the accounts ' +
        `of --to FILE|- (Type User, ${MAX_SCHED_USER_ACCOUNTS} accounts per task: more become several tasks, created one after the other ` +
        'after one confirmation). Shows what it will create; on a terminal it asks, otherwise it needs --yes; --dry-run prints ' +
        'the request(s) and sends nothing. Prints each TaskID on stdout.',
    )
    .requiredOption('--at <time>', 'when it fires: 2026-12-24T09:00 (local zone), or with Z or an offset')
    .option('--to <file>', `the accounts, one per line ("-": stdin): Type User, ${MAX_SCHED_USER_ACCOUNTS} per task`);
  addContentOptions(create);
  addConditionOptions(create);
  create
    .option('-y, --yes', 'create without asking (needed when stdin is not a terminal)')
    .option('--dry-run', 'print the request body (or bodies) on stdout and send nothing')
    .addHelpText('after', SCHEDULE_HELP)
    .action(async (options: ScheduleCreateOptions) => scheduleCreateRun(rt, options));

  const list = new Command('list')
    .summary('list scheduled tasks (default: those due in the next 30 days)')
    .description(
      `List scheduled tasks whose time is in --from..--until (default: now to ${SCHED_LIST_DEFAULT_DAYS} days ahead; at most ${SCHED_LIST_MAX_SPAN_DAYS} days), ` +
        `reading every page (${SCHED_LIST_PAGE_SIZE} a call). Columns: task, type, sched at (UTC; the table adds the local time), status, title, push task id.`,
    )
    .option('--from <time>', 'earliest sched time (default: now)')
    .option('--until <time>', `latest sched time (default: --from + ${SCHED_LIST_DEFAULT_DAYS} days)`)
    .option('--keyword <text>', 'only tasks whose title or description contains this')
    .addOption(new Option('--order <field>', 'sort by sched time or creation time').choices(['schedat', 'createat']).default('schedat'))
    .option('--asc', 'oldest first (default: newest first)');
  addOutputOptions(list);
  list.action(async (options: ScheduleListOptions) => scheduleListRun(rt, options));

  const show = new Command('show')
    .summary('one scheduled task (get_sched_task)')
    .description('One scheduled task: a readable block on a terminal (table), or tsv, csv, json (the server\'s TaskInfo) or ndjson.')
    .argument('<taskId>', 'the TaskID `schedule create` printed (an integer)');
  addOutputOptions(show);
  show.action(async (id: string, options: { output?: string; json?: boolean; wide?: boolean }) => scheduleShowRun(rt, id, options));

  const edit = new Command('edit')
    .summary('change a pending task\'s time or content (guarded)')
    .description(
      'Change a pending task (modify_sched_task): its time (--at) and/or its content. Its Type is read first (the API needs ' +
        'it unchanged). Shows before → after; asks on a terminal, otherwise needs --yes; --dry-run prints the request. A task ' +
        'that is no longer pending cannot be edited (exit 1).',
    )
    .argument('<taskId>', 'the TaskID (an integer)')
    .option('--at <time>', 'the new time');
  addContentOptions(edit);
  edit
    .option('-y, --yes', 'change without asking')
    .option('--dry-run', 'print the request body and send nothing')
    .action(async (id: string, options: ScheduleEditOptions) => scheduleEditRun(rt, id, options));

  const cancel = new Command('cancel')
    .summary('delete a pending task (guarded)')
    .description(
      'Delete a pending task (delete_sched_task). Asks on a terminal, otherwise needs --yes; --dry-run prints the request. ' +
        'A task that is no longer pending cannot be cancelled (exit 1; its push can be read with `push report`, and recalled within 24 h with `push revoke`).',
    )
    .argument('<taskId>', 'the TaskID (an integer)')
    .option('-y, --yes', 'cancel without asking')
    .option('--dry-run', 'print the request body and send nothing')
    .action(async (id: string, options: { yes?: boolean; dryRun?: boolean }) => scheduleCancelRun(rt, id, options));

  return schedule.addCommand(create).addCommand(list).addCommand(show).addCommand(edit).addCommand(cancel);
}
