/**
 * The emulator's handlers beyond the all_member_push attribute commands: all_member_push tags
 * and im_push, the TIMPush family (`v4/timpush/*`), and account_check. Source for every limit and
 * code: ../shared/reference/PUSH-FAMILY.md (§1 tags, §2 push, §3 TIMPush, §5 account_check,
 * Corrections §7: each endpoint answers only its documented codes). Where a limit has no code of
 * its own on an endpoint's page, the comment at the constant says which documented code was chosen.
 *
 * Choices where the documentation is silent:
 * - all_member_push `im_add_tag` on an account that is not imported imports it, as `im_set_attr`
 *   does; `im_get_tag` lists a never-imported account under ErrorList 70107, as `im_get_attr` does.
 * - TIMPush never imports: get/set/remove of an account that is neither imported nor a
 *   RegistrationID is answered per account in ErrorList with 70107, the rest is applied.
 * - TIMPush answers in request order; only all_member_push get calls are shuffled.
 * - all_member_push write calls validate the whole request first and apply nothing on an error
 *   (that family documents no per-account errors); TIMPush applies what it can (ErrorList).
 * - The 1,000 distinct tags per app limit is documented for TIMPush only, so only TIMPush has it.
 * - Pushes: a refused push (bad request, spacing, quota) does not count against the quota; the
 *   quota day is the calendar day in UTC+8 (Tencent's console time, UNCONFIRMED); each family has
 *   its own quota and spacing. TaskIds of im_push are not accepted by TIMPush revoke/statistics
 *   (UNCONFIRMED, PUSH-FAMILY.md §2.3): they answer 90049 / leave them out.
 */
import { MAX_MSG_RANDOM, MAX_TAG_BYTES, matches, rekeyCondition, validatePushRequest, type Condition, type PushFamily } from '../push/condition.js';
import { byteLength, fail, isPlainObject, ok, type Answer } from './answer.js';
import type { AccountType, EmulatorState } from './state.js';

/** "Up to 100 users … at a time" on every tag/attr/account_check page (trtc.io/document/37172, 37174, 67821; CN/269/38417). */
export const MAX_ACCOUNTS = 100;
/** "A maximum of 10 tags can be added for a user in one request" (CN/1212/45941; EN/37173). */
export const MAX_TAGS_PER_ADD = 10;
/** TIMPush add_tag with Replace:1: up to 100 tags (trtc.io/document/67821). */
export const MAX_TAGS_PER_REPLACE = 100;
/** "Up to 100 tags per user" (CN/1212/45941; trtc.io/document/67821). */
export const MAX_TAGS_PER_USER = 100;
/** "The deduplicated total for all users' tags" may not exceed 1,000 (EN/60568, TIMPush only). */
export const MAX_APP_TAGS = 1000;
/** A value or name is at most 50 bytes (API.md §2; trtc.io/document/60565). */
export const MAX_ATTR_BYTES = 50;
/** "By default, it can be called 100 times every day" (EN/37166; TIMPush Standard, CN/269/100634). */
export const DEFAULT_PUSH_QUOTA = 100;
/** "The interval between two pushes must be greater than one second" (EN/37166). */
export const PUSH_SPACING_MS = 1000;
/** Revoke "within 24 h of the task start" (EN/60571). */
export const REVOKE_WINDOW_MS = 24 * 3600 * 1000;
/** Revoke: 1 call/s, else 90051 (EN/60571). */
export const REVOKE_SPACING_MS = 1000;
/** TIMPush push body at most 10 KB, else 90056 (EN/74196). */
export const MAX_TIMPUSH_BODY_BYTES = 10 * 1024;
/** timpush/batch: "1–500 accounts" per call (trtc.io/document/67553). */
export const MAX_BATCH_ACCOUNTS = 500;
/** timpush/batch DataId at most 64 bytes, else 90057 (trtc.io/document/67553). */
export const MAX_DATA_ID_BYTES = 64;
/** all_member_push_statistics: "up to 30 days", at most 5 TaskIDs (EN/71894). */
export const STATS_MAX_SPAN_SECONDS = 30 * 24 * 3600;
/** all_member_push_loss: "up to 7 days", at most 5 TaskIDs (EN/71895). */
export const LOSS_MAX_SPAN_SECONDS = 7 * 24 * 3600;
export const STATS_MAX_TASKS = 5;
/** UTC+8: the quota day (see the header). */
const QUOTA_DAY_OFFSET_MS = 8 * 3600 * 1000;

/**
 * Codes chosen where an endpoint's page lists none for a limit:
 * - im_add_tag: more than 10 tags for a user, or more than 100 in total → 90032, whose documented
 *   text is "…or the number of tags in the tag adding request exceeds 10" (EN/37166); a tag of 0 or
 *   more than 50 bytes → 90034 "Tag length is greater than 50" (error-code list, INTL/34348).
 * - TIMPush add_tag / remove_tag: their pages list 90001, 90009, 90018, 91000 and 90035 only, so
 *   every tag-count or tag-length limit is answered 90001 ("Invalid format of Tags").
 * - account_check: no code list in our references; over 100 items or a bad item → 70402
 *   ("参数非法", invalid parameter, the account APIs' code per Tencent support, 2019).
 */
const CODES = {
  format: 90001,
  tooManyAccounts: 90018,
  invalidAttr: 90033,
  ampTagCount: 90032,
  ampTagLength: 90034,
  otherAccountType: 90035,
  notImported: 70107,
  pushSpacing: 90024,
  pushQuota: 90047,
  timpushBodyTooLarge: 90056,
  revokeBadTask: 90049,
  revokeAlready: 90050,
  revokeTooFrequent: 90051,
  revokeTooLate: 90052,
  revokeNeedsOfflinePushInfo: 90053,
  accountCheckInvalid: 70402,
  dataIdTooLong: 90057,
} as const;

/** A push the emulator accepted, as `GET /_emulator/pushes` lists it. */
export interface PushTask {
  TaskId: string;
  family: PushFamily;
  /** `push`: im_push or timpush/push (a Condition); `batch`: timpush/batch (a list of accounts). */
  kind: 'push' | 'batch';
  /** The Condition as sent; null when there was none. */
  condition: Condition | null;
  /** Every recipient account, in store order. */
  recipients: string[];
  /** Unix milliseconds (the emulator's clock). */
  createdAt: number;
  msgRandom: number;
  /** Unix milliseconds of a successful TIMPush revoke. */
  revokedAt?: number;
}

export interface FamilyContext {
  state: EmulatorState;
  sdkAppId: number;
  now: () => number;
  /** A change to persist (`--data`). */
  changed: () => void;
  /** Counts a batch for /_emulator/stats (accountsServed, largestBatch). */
  served: (batch: number, accounts: number) => void;
  pushQuota: number;
  tasks: PushTask[];
}

export type Handler = (body: Record<string, unknown>, rawBytes: number) => Answer;

interface ErrorItem {
  To_Account: string;
  ErrorCode: number;
  ErrorInfo: string;
}

const notImported = (account: string): ErrorItem => ({ To_Account: account, ErrorCode: CODES.notImported, ErrorInfo: 'account not imported' });
const okWithErrors = (extra: Record<string, unknown>, errors: ErrorItem[]): Answer => ok(errors.length ? { ...extra, ErrorList: errors } : extra);

/** A `To_Account` string array of at most 100, or the Answer refusing it. */
function accountList(body: Record<string, unknown>, field: string): string[] | Answer {
  const list = body[field];
  if (!Array.isArray(list) || list.some((a) => typeof a !== 'string' || a === '')) return fail(CODES.format, `Invalid format of ${field}`);
  if (list.length > MAX_ACCOUNTS) return fail(CODES.tooManyAccounts, `too many accounts: ${list.length} > ${MAX_ACCOUNTS}`);
  return list as string[];
}

interface UserTagsEntry {
  account: string;
  tags: string[];
}

/** `UserTags: [{To_Account, Tags:[…]}]` of at most 100 entries, or the Answer refusing it. */
function userTags(body: Record<string, unknown>): UserTagsEntry[] | Answer {
  const entries = body.UserTags;
  if (!Array.isArray(entries)) return fail(CODES.format, 'Invalid format of UserTags');
  if (entries.length > MAX_ACCOUNTS) return fail(CODES.tooManyAccounts, `too many accounts: ${entries.length} > ${MAX_ACCOUNTS}`);
  const out: UserTagsEntry[] = [];
  for (const entry of entries as unknown[]) {
    if (!isPlainObject(entry) || typeof entry.To_Account !== 'string' || entry.To_Account === '') return fail(CODES.format, 'Invalid format of To_Account');
    const tags = entry.Tags;
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) return fail(CODES.format, 'Invalid format of Tags');
    out.push({ account: entry.To_Account, tags: tags as string[] });
  }
  return out;
}

/** `existing` plus the new tags not in it yet, in order. */
function union(existing: readonly string[], added: readonly string[]): string[] {
  const seen = new Set(existing);
  const out = [...existing];
  for (const tag of added) {
    if (seen.has(tag)) continue;
    seen.add(tag);
    out.push(tag);
  }
  return out;
}

function tagLengthOk(tag: string): boolean {
  return tag !== '' && byteLength(tag) <= MAX_TAG_BYTES;
}

/** The calendar day (UTC+8) of a Unix-ms time, for the daily quota. */
function quotaDay(ms: number): number {
  return Math.floor((ms + QUOTA_DAY_OFFSET_MS) / 86_400_000);
}

/** Builds the handlers, keyed by the command as the request log names it. */
export function createFamilyHandlers(ctx: FamilyContext): Record<string, Handler> {
  const { state } = ctx;
  const tp = state.timpush;
  const pushCount = new Map<PushFamily, { day: number; count: number }>();
  const lastPushAt = new Map<PushFamily, number>();
  let lastRevokeAt: number | undefined;
  let taskSeq = 0;

  const timpushKnown = (account: string): boolean => state.isImported(account) || tp.registrationIds.has(account);
  const accountType = (account: string): AccountType => (tp.registrationIds.has(account) ? 1 : 0);
  const touched = (): void => {
    tp.touched = true;
    ctx.changed();
  };

  // ---- all_member_push tags (PUSH-FAMILY.md §1) ----

  const imGetTag: Handler = (body) => {
    const accounts = accountList(body, 'To_Account');
    if (!Array.isArray(accounts)) return accounts;
    const found: Array<{ To_Account: string; Tags: string[] }> = [];
    const errors: ErrorItem[] = [];
    for (const account of accounts) {
      if (state.isImported(account)) found.push({ To_Account: account, Tags: [...state.tagsOf(account)] });
      else errors.push(notImported(account));
    }
    ctx.served(accounts.length, found.length);
    return okWithErrors({ UserTags: found }, errors);
  };

  const imAddTag: Handler = (body) => {
    const entries = userTags(body);
    if (!Array.isArray(entries)) return entries;
    const next = new Map<string, string[]>();
    for (const { account, tags } of entries) {
      if (tags.length > MAX_TAGS_PER_ADD) return fail(CODES.ampTagCount, `${account}: ${tags.length} tags in one request; at most ${MAX_TAGS_PER_ADD}`);
      const bad = tags.find((t) => !tagLengthOk(t));
      if (bad !== undefined) return fail(CODES.ampTagLength, `${account}: tag "${bad}" is empty or longer than ${MAX_TAG_BYTES} bytes`);
      const merged = union(next.get(account) ?? state.tagsOf(account), tags);
      if (merged.length > MAX_TAGS_PER_USER) return fail(CODES.ampTagCount, `${account} would have ${merged.length} tags; at most ${MAX_TAGS_PER_USER} (remove old tags first)`);
      next.set(account, merged);
    }
    for (const [account, tags] of next) {
      state.importAccount(account);
      state.setTags(account, tags);
    }
    ctx.served(entries.length, entries.length);
    ctx.changed();
    return ok();
  };

  const imRemoveTag: Handler = (body) => {
    const entries = userTags(body);
    if (!Array.isArray(entries)) return entries;
    for (const { account, tags } of entries) {
      const drop = new Set(tags);
      if (state.isImported(account)) state.setTags(account, state.tagsOf(account).filter((t) => !drop.has(t)));
    }
    ctx.served(entries.length, entries.length);
    ctx.changed();
    return ok();
  };

  const imRemoveAllTags: Handler = (body) => {
    const accounts = accountList(body, 'To_Account');
    if (!Array.isArray(accounts)) return accounts;
    for (const account of accounts) if (state.isImported(account)) state.setTags(account, []);
    ctx.served(accounts.length, accounts.length);
    ctx.changed();
    return ok();
  };

  // ---- TIMPush attributes (PUSH-FAMILY.md §3) ----

  const sortedSlots = <T>(map: Map<string, T>): Array<[string, T]> => [...map].sort(([a], [b]) => Number(a) - Number(b));

  const getAttrName: Handler = () => {
    const names = sortedSlots(tp.names);
    return ok({ AttrNames: Object.fromEntries(names), AttrTypes: Object.fromEntries(names.map(([slot]) => [slot, tp.typeOfSlot(slot)])) });
  };

  const setAttrName: Handler = (body) => {
    const names = body.AttrNames;
    if (!isPlainObject(names)) return fail(CODES.format, 'Invalid format of AttrNames');
    const types = body.AttrTypes ?? {};
    if (!isPlainObject(types) || Object.values(types).some((t) => t !== 0 && t !== 1)) return fail(CODES.format, 'Invalid format of AttrTypes: 0 (UserID) or 1 (RegistrationID)');
    const next = new Map(tp.names);
    for (const [slot, name] of Object.entries(names)) {
      if (!/^[0-9]$/.test(slot)) return fail(CODES.invalidAttr, `invalid attribute index:${slot}`);
      if (typeof name !== 'string' || byteLength(name) > MAX_ATTR_BYTES) return fail(CODES.invalidAttr, `invalid attribute name at index:${slot}`);
      if (name === '') next.delete(slot);
      else next.set(slot, name);
    }
    for (const [slot, name] of Object.entries(names)) {
      for (const [other, n] of next) {
        // F10: "attrName:city already exists at index:1"
        if (other !== slot && n === name) return fail(CODES.invalidAttr, `attrName:${name} already exists at index:${other}`);
      }
    }
    const nextTypes = new Map(tp.types);
    for (const [slot, type] of Object.entries(types) as Array<[string, AccountType]>) {
      if (!next.has(slot)) return fail(CODES.invalidAttr, `no attribute at index:${slot}`);
      // "does not support modification afterward": a slot that already has a name keeps its type.
      if (tp.names.has(slot) && tp.typeOfSlot(slot) !== type) return fail(CODES.invalidAttr, `account type in AttrTypes cannot be changed: index:${slot}`);
      if (type === 1) nextTypes.set(slot, 1);
    }
    const cleared = [...tp.names.keys()].filter((slot) => !next.has(slot));
    for (const slot of cleared) nextTypes.delete(slot);
    // A cleared slot drops its values (as in all_member_push), so that a later attribute in the
    // same slot does not inherit them. O(written accounts), on this rare admin call only.
    for (const slot of cleared) tp.clearSlot(slot);
    tp.names = next;
    tp.types = nextTypes;
    touched();
    return ok();
  };

  const getAttr: Handler = (body) => {
    const accounts = accountList(body, 'To_Account');
    if (!Array.isArray(accounts)) return accounts;
    const found: Array<{ To_Account: string; Attrs: Record<string, string> }> = [];
    const errors: ErrorItem[] = [];
    for (const account of accounts) {
      if (timpushKnown(account)) found.push({ To_Account: account, Attrs: tp.attrsOf(account) });
      else errors.push(notImported(account));
    }
    ctx.served(accounts.length, found.length);
    return okWithErrors({ UserAttrs: found }, errors);
  };

  const setOrRemoveAttr = (remove: boolean): Handler => (body) => {
    const entries = body.UserAttrs;
    if (!Array.isArray(entries)) return fail(CODES.format, 'Invalid format of UserAttrs');
    if (entries.length > MAX_ACCOUNTS) return fail(CODES.tooManyAccounts, `too many accounts: ${entries.length} > ${MAX_ACCOUNTS}`);
    const changes: Array<{ account: string; slots: Array<[string, string | undefined]> }> = [];
    for (const entry of entries as unknown[]) {
      if (!isPlainObject(entry) || typeof entry.To_Account !== 'string' || entry.To_Account === '') return fail(CODES.format, 'Invalid format of To_Account');
      const attrs = entry.Attrs;
      const slots: Array<[string, string | undefined]> = [];
      if (!remove) {
        if (!isPlainObject(attrs)) return fail(CODES.format, 'Invalid format of Attrs');
        for (const [name, value] of Object.entries(attrs)) {
          const slot = tp.slotOf(name);
          if (slot === undefined) return fail(CODES.invalidAttr, `attribute ${name} is not an app attribute`);
          if (typeof value !== 'string' || byteLength(value) > MAX_ATTR_BYTES) return fail(CODES.invalidAttr, `invalid value for attribute ${name}`);
          slots.push([slot, value]);
        }
      } else {
        if (!Array.isArray(attrs)) return fail(CODES.format, 'Invalid format of Attrs: an array of names');
        for (const name of attrs) {
          const slot = typeof name === 'string' ? tp.slotOf(name) : undefined;
          if (slot === undefined) return fail(CODES.invalidAttr, `attribute ${String(name)} is not an app attribute`);
          slots.push([slot, undefined]);
        }
      }
      changes.push({ account: entry.To_Account, slots });
    }
    const errors: ErrorItem[] = [];
    for (const { account, slots } of changes) {
      if (!timpushKnown(account)) {
        errors.push(notImported(account));
        continue;
      }
      const type = accountType(account);
      if (!remove && slots.some(([slot]) => tp.typeOfSlot(slot) !== type)) {
        errors.push({ To_Account: account, ErrorCode: CODES.otherAccountType, ErrorInfo: 'A property can only be applicable to one account type' });
        continue;
      }
      const copy = { ...tp.rawAttrs(account) };
      for (const [slot, value] of slots) {
        if (value === undefined) delete copy[slot];
        else copy[slot] = value;
      }
      tp.setRawAttrs(account, copy);
    }
    ctx.served(changes.length, changes.length - errors.length);
    touched();
    return okWithErrors({}, errors);
  };

  // ---- TIMPush tags ----

  const addTag: Handler = (body) => {
    const replace = body.Replace ?? 0;
    if (replace !== 0 && replace !== 1) return fail(CODES.format, 'Invalid format of Replace: 0 or 1');
    const entries = userTags(body);
    if (!Array.isArray(entries)) return entries;
    const cap = replace ? MAX_TAGS_PER_REPLACE : MAX_TAGS_PER_ADD;
    for (const { account, tags } of entries) {
      if (tags.length > cap) return fail(CODES.format, `Invalid format of Tags: ${account} has ${tags.length} tags; at most ${cap} with Replace:${replace}`);
      const bad = tags.find((t) => !tagLengthOk(t));
      if (bad !== undefined) return fail(CODES.format, `Invalid format of Tags: "${bad}" is empty or longer than ${MAX_TAG_BYTES} bytes`);
    }
    // Work out every account's outcome before changing anything, so a request over a limit
    // changes nothing. Tags that a Replace drops are not credited to the app-wide count.
    const errors: ErrorItem[] = [];
    const next = new Map<string, string[]>();
    const newTags = new Map<string, AccountType>();
    for (const { account, tags } of entries) {
      if (!timpushKnown(account)) {
        errors.push(notImported(account));
        continue;
      }
      const type = accountType(account);
      if (tags.some((t) => (tp.tagTypes.get(t) ?? newTags.get(t) ?? type) !== type)) {
        errors.push({ To_Account: account, ErrorCode: CODES.otherAccountType, ErrorInfo: 'A tag can only be applicable to one account type' });
        continue;
      }
      const merged = replace ? union([], tags) : union(next.get(account) ?? tp.tagsOf(account), tags);
      if (merged.length > MAX_TAGS_PER_USER) return fail(CODES.format, `Invalid format of Tags: ${account} would have ${merged.length} tags; at most ${MAX_TAGS_PER_USER}`);
      for (const t of tags) if (!tp.tagUsers.has(t)) newTags.set(t, type);
      next.set(account, merged);
    }
    if (tp.tagUsers.size + newTags.size > MAX_APP_TAGS) {
      return fail(CODES.format, `Invalid format of Tags: the app would have ${tp.tagUsers.size + newTags.size} distinct tags; at most ${MAX_APP_TAGS}`);
    }
    for (const [account, tags] of next) tp.setTags(account, tags, accountType(account));
    ctx.served(entries.length, next.size);
    touched();
    return okWithErrors({}, errors);
  };

  const getTag: Handler = (body) => {
    const accounts = accountList(body, 'To_Account');
    if (!Array.isArray(accounts)) return accounts;
    const found: Array<{ To_Account: string; Tags: string[] }> = [];
    const errors: ErrorItem[] = [];
    for (const account of accounts) {
      if (timpushKnown(account)) found.push({ To_Account: account, Tags: [...tp.tagsOf(account)] });
      else errors.push(notImported(account));
    }
    ctx.served(accounts.length, found.length);
    return okWithErrors({ UserTags: found }, errors);
  };

  const removeTag: Handler = (body) => {
    const entries = userTags(body);
    if (!Array.isArray(entries)) return entries;
    for (const { tags } of entries) {
      const bad = tags.find((t) => byteLength(t) > MAX_TAG_BYTES);
      if (bad !== undefined) return fail(CODES.format, `Invalid format of Tags: "${bad}" is longer than ${MAX_TAG_BYTES} bytes`);
    }
    const errors: ErrorItem[] = [];
    for (const { account, tags } of entries) {
      if (!timpushKnown(account)) {
        errors.push(notImported(account));
        continue;
      }
      const drop = new Set(tags);
      tp.setTags(account, tp.tagsOf(account).filter((t) => !drop.has(t)), accountType(account));
    }
    ctx.served(entries.length, entries.length - errors.length);
    touched();
    return okWithErrors({}, errors);
  };

  const clearAllTags: Handler = (body) => {
    const accounts = accountList(body, 'To_Account');
    if (!Array.isArray(accounts)) return accounts;
    const errors: ErrorItem[] = [];
    for (const account of accounts) {
      if (timpushKnown(account)) tp.setTags(account, [], accountType(account));
      else errors.push(notImported(account));
    }
    ctx.served(accounts.length, accounts.length - errors.length);
    touched();
    return okWithErrors({}, errors);
  };

  // ---- push, revoke, statistics (PUSH-FAMILY.md §2, §3) ----

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
    // Shapes of the documented samples: F4 (im_push) and F13 (TIMPush).
    if (family === 'all_member_push') return `${ctx.sdkAppId}_${144115212910570000 + taskSeq}_${seconds}_${msgRandom}`;
    const hex = (n: number): string => n.toString(16);
    return `${hex(seconds)}_${hex(ctx.sdkAppId)}_${hex(taskSeq)}_${hex(msgRandom)}`;
  }

  const push = (family: PushFamily): Handler => (body, rawBytes) => {
    if (family === 'timpush' && rawBytes > MAX_TIMPUSH_BODY_BYTES) return fail(CODES.timpushBodyTooLarge, `the request body is ${rawBytes} bytes; at most ${MAX_TIMPUSH_BODY_BYTES}`);
    const names = family === 'timpush' ? tp.names.values() : state.names.values();
    const problems = validatePushRequest(body, family, names);
    if (problems.length > 0) return fail(problems[0]!.code, problems[0]!.message);
    const at = ctx.now();
    const last = lastPushAt.get(family);
    // EN/37166 "must be greater than one second"; 90024 is the code PUSH-FAMILY.md §2.4 pairs with it.
    if (last !== undefined && at - last <= PUSH_SPACING_MS) return fail(CODES.pushSpacing, `pushes must be more than ${PUSH_SPACING_MS} ms apart; the last was ${at - last} ms ago`);
    const day = quotaDay(at);
    const used = pushCount.get(family);
    const count = used && used.day === day ? used.count : 0;
    if (count >= ctx.pushQuota) return fail(CODES.pushQuota, `the daily push limit (${ctx.pushQuota}) is reached`);
    const condition = body.Condition as Condition | undefined;
    const task: PushTask = {
      TaskId: taskId(family, at, body.MsgRandom as number),
      family,
      kind: 'push',
      condition: condition ?? null,
      recipients: recipients(family, condition),
      createdAt: at,
      msgRandom: body.MsgRandom as number,
    };
    ctx.tasks.push(task);
    lastPushAt.set(family, at);
    pushCount.set(family, { day, count: count + 1 });
    return ok({ TaskId: task.TaskId });
  };

  const revoke: Handler = (body) => {
    const at = ctx.now();
    if (lastRevokeAt !== undefined && at - lastRevokeAt < REVOKE_SPACING_MS) return fail(CODES.revokeTooFrequent, 'revoke is limited to 1 call per second');
    lastRevokeAt = at;
    if (typeof body.TaskId !== 'string') return fail(CODES.format, 'Invalid format of TaskId');
    // Only TIMPush condition pushes: whether batch or im_push TaskIds can be recalled is UNCONFIRMED.
    const task = ctx.tasks.find((t) => t.TaskId === body.TaskId && t.family === 'timpush' && t.kind === 'push');
    if (!task) return fail(CODES.revokeBadTask, `invalid TaskId ${body.TaskId}`);
    if (task.revokedAt !== undefined) return fail(CODES.revokeAlready, `task ${task.TaskId} was already recalled`);
    if (at - task.createdAt > REVOKE_WINDOW_MS) return fail(CODES.revokeTooLate, `task ${task.TaskId} started more than 24 hours ago`);
    if (!isPlainObject(body.OfflinePushInfo)) return fail(CODES.revokeNeedsOfflinePushInfo, 'OfflinePushInfo is required to recall an offline push');
    task.revokedAt = at;
    return ok();
  };

  /** The TIMPush condition pushes a statistics/loss request asks for, or the Answer refusing it. */
  function reportedTasks(body: Record<string, unknown>, maxSpan: number): PushTask[] | Answer {
    const endSec = body.EndTime ?? Math.floor(ctx.now() / 1000);
    const startSec = body.StartTime ?? (endSec as number) - maxSpan;
    if (!Number.isInteger(startSec) || !Number.isInteger(endSec) || (endSec as number) < (startSec as number)) return fail(CODES.format, 'Invalid format of StartTime/EndTime');
    if ((endSec as number) - (startSec as number) > maxSpan) return fail(CODES.format, `StartTime..EndTime spans more than ${maxSpan / 86400} days`);
    const ids = body.TaskID ?? [];
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) return fail(CODES.format, 'Invalid format of TaskID');
    if (ids.length > STATS_MAX_TASKS) return fail(CODES.format, `at most ${STATS_MAX_TASKS} TaskIDs`);
    const inRange = (t: PushTask): boolean => t.createdAt >= (startSec as number) * 1000 && t.createdAt < ((endSec as number) + 1) * 1000;
    const timpushTasks = ctx.tasks.filter((t) => t.family === 'timpush' && t.kind === 'push');
    if (ids.length === 0) return timpushTasks.filter(inRange);
    return (ids as string[]).map((id) => timpushTasks.find((t) => t.TaskId === id)).filter((t): t is PushTask => t !== undefined);
  }

  /** A plausible, deterministic funnel for a task: 90% sent, 80% of those delivered, 10% clicked. */
  function funnel(t: PushTask): { TotalCount: number; SentCount: number; DeliveredCount: number; ClickCount: number } {
    const TotalCount = t.recipients.length;
    const SentCount = Math.floor(TotalCount * 0.9);
    const DeliveredCount = Math.floor(SentCount * 0.8);
    return { TotalCount, SentCount, DeliveredCount, ClickCount: Math.floor(DeliveredCount / 10) };
  }

  const statistics: Handler = (body) => {
    const tasks = reportedTasks(body, STATS_MAX_SPAN_SECONDS);
    if (!Array.isArray(tasks)) return tasks;
    const Results = tasks.map((t) => {
      const counts = funnel(t);
      return { TaskID: t.TaskId, ...counts, PlatformStatistics: [{ EventType: 1, PushPlatform: 1, ...counts }] };
    });
    // F14: this endpoint answers "sucess" in ErrorInfo on success (EN/71894).
    return { body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: 'sucess', Results } };
  };

  /** F15's shape; the losses are the funnel's gaps (ErrCode is a string there, as in the sample). */
  const loss: Handler = (body) => {
    const tasks = reportedTasks(body, LOSS_MAX_SPAN_SECONDS);
    if (!Array.isArray(tasks)) return tasks;
    const Results = tasks.map((t) => {
      const { TotalCount, SentCount, DeliveredCount } = funnel(t);
      return {
        TaskID: t.TaskId,
        ReadyToSendLoss: [{ ErrCode: '-2', ErrCount: TotalCount - SentCount, ErrInfo: 'token not uploaded' }],
        PostSendDeliveredLoss: [{ ErrCode: '1', ErrCount: SentCount - DeliveredCount, ErrInfo: 'regid_invalid' }],
      };
    });
    return { body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: 'sucess', Results } };
  };

  /**
   * timpush/batch: a push to a list of 1–500 accounts (F12). Not subject to the daily push quota
   * or the spacing between pushes (its page documents per-second limits only); not in statistics.
   */
  const batch: Handler = (body) => {
    const refuse = (code: number, info: string): Answer => fail(code, info, { TaskId: '' });
    const list = body.To_Account;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_ACCOUNTS || list.some((a) => typeof a !== 'string' || a === '')) {
      return refuse(CODES.format, `Invalid format of To_Account: 1 to ${MAX_BATCH_ACCOUNTS} accounts`);
    }
    const random = body.MsgRandom;
    if (typeof random !== 'number' || !Number.isInteger(random) || random < 0 || random > MAX_MSG_RANDOM) return refuse(CODES.format, 'Invalid format of MsgRandom');
    if (body.DataId !== undefined && (typeof body.DataId !== 'string' || byteLength(body.DataId) > MAX_DATA_ID_BYTES)) {
      return refuse(CODES.dataIdTooLong, `DataId is longer than ${MAX_DATA_ID_BYTES} bytes`);
    }
    const errors: ErrorItem[] = [];
    const reached: string[] = [];
    for (const account of new Set(list as string[])) {
      if (timpushKnown(account)) reached.push(account);
      else errors.push(notImported(account));
    }
    const at = ctx.now();
    const TaskId = `batch_${taskId('timpush', at, random)}`;
    ctx.tasks.push({ TaskId, family: 'timpush', kind: 'batch', condition: null, recipients: reached, createdAt: at, msgRandom: random });
    ctx.served(list.length, reached.length);
    return okWithErrors({ TaskId }, errors);
  };

  // ---- account_check (PUSH-FAMILY.md §5, F19) ----

  const accountCheck: Handler = (body) => {
    const items = body.CheckItem;
    if (!Array.isArray(items) || items.some((i) => !isPlainObject(i) || typeof i.UserID !== 'string' || i.UserID === '')) return fail(CODES.accountCheckInvalid, 'Invalid format of CheckItem');
    if (items.length > MAX_ACCOUNTS) return fail(CODES.accountCheckInvalid, `too many accounts: ${items.length} > ${MAX_ACCOUNTS}`);
    const ResultItem = (items as Array<{ UserID: string }>).map(({ UserID }) => ({
      UserID,
      ResultCode: 0,
      ResultInfo: '',
      AccountStatus: state.isImported(UserID) ? 'Imported' : 'NotImported',
    }));
    ctx.served(items.length, items.length);
    return ok({ ResultItem });
  };

  return {
    im_get_tag: imGetTag,
    im_add_tag: imAddTag,
    im_remove_tag: imRemoveTag,
    im_remove_all_tags: imRemoveAllTags,
    im_push: push('all_member_push'),
    'timpush/get_attr_name': getAttrName,
    'timpush/set_attr_name': setAttrName,
    'timpush/get_attr': getAttr,
    'timpush/set_attr': setOrRemoveAttr(false),
    'timpush/remove_attr': setOrRemoveAttr(true),
    'timpush/add_tag': addTag,
    'timpush/get_tag': getTag,
    'timpush/remove_tag': removeTag,
    'timpush/clear_all_tags': clearAllTags,
    'timpush/push': push('timpush'),
    'timpush/batch': batch,
    'timpush/revoke': revoke,
    'timpush/all_member_push_statistics': statistics,
    'timpush/all_member_push_loss': loss,
    'im_open_login_svc/account_check': accountCheck,
  };
}

/** Per-command call limits lower than the general one (calls/s): statistics 1/s (EN/71894). */
export const COMMAND_RATE_LIMITS: Readonly<Record<string, number>> = {
  'timpush/all_member_push_statistics': 1,
  'timpush/all_member_push_loss': 1,
  // batch: Free 10/s, Standard 30/s, Advanced 40/s (trtc.io/document/67553); the emulator is Standard.
  'timpush/batch': 30,
};
