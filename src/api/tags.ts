/**
 * The tag operations (PUSH-FAMILY.md section 1 for all_member_push, section 3 for TIMPush), as
 * descriptors the family tables fill in with their paths. Same bodies in both families, except
 * that TIMPush add_tag takes `Replace` (1: the tags given replace the user's tags).
 */
import { kindOf, shapeError, warnInvalidUtf8, type Envelope } from './envelope.js';
import { MAX_ACCOUNTS_PER_CALL, MAX_TAGS_PER_ADD_CALL, TARGETING_CALLS_PER_SECOND } from './facts.js';
import {
  batchOperation,
  batchWrite,
  commandOf,
  errorListReasons,
  failuresByAccount,
  RETURNED,
  type ApiFamily,
  type BatchOperation,
  type BatchOutcome,
  type ReadContext,
} from './operation.js';

/** Error codes each tag endpoint documents (PUSH-FAMILY.md sections 1 and 3). */
export const TAG_CODES = {
  getTags: [90001, 90009, 90018, 91000],
  addTags: [90001, 90009, 90018, 90032, 90034, 90035, 91000],
  removeTags: [90001, 90009, 90018, 91000],
  clearTags: [90001, 90009, 90018, 91000],
} as const;

/** One account's tags, named as the API names them: what `tags get` prints and `tags set` reads. */
export interface TagRecord {
  To_Account: string;
  Tags: string[];
}

/** One account and the tags to add, remove or set. */
export interface TagEntry {
  account: string;
  tags: string[];
}

/**
 * Reads a get-tags answer, matched by `To_Account` and returned in request order (the docs do not
 * say whether order is kept; treated like get_attr). Every requested account ends in exactly one
 * of results or failures: missing accounts fail with their ErrorList reason (TIMPush 70107) or
 * "not in the response"; unrequested and duplicate entries are ignored.
 */
export function parseGetTags(command: string, envelope: Envelope, accounts: readonly string[], ctx: ReadContext): BatchOutcome<TagRecord> {
  const userTags = envelope.UserTags ?? [];
  if (!Array.isArray(userTags)) throw shapeError(command, 'UserTags is not an array');
  const requested = new Set(accounts);
  const answers = new Map<string, string[] | { problem: string }>();
  for (const entry of userTags as unknown[]) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw shapeError(command, 'an entry of UserTags is not an object');
    const { To_Account: account, Tags: tags } = entry as { To_Account?: unknown; Tags?: unknown };
    if (typeof account !== 'string') throw shapeError(command, 'an entry of UserTags has no To_Account string');
    if (!requested.has(account) || answers.has(account)) continue;
    if (tags === undefined || tags === null) answers.set(account, []);
    else if (!Array.isArray(tags)) answers.set(account, { problem: `Tags is ${kindOf(tags)}, not an array` });
    else if (tags.some((t) => typeof t !== 'string')) answers.set(account, { problem: 'a tag is not a string' });
    else answers.set(account, tags as string[]);
  }
  const reasons = errorListReasons(envelope.ErrorList, ctx.clean);
  const results: TagRecord[] = [];
  const failures = failuresByAccount(accounts, (a) => a, (account) => {
    const answer = answers.get(account);
    if (answer === undefined) return reasons.get(account) ?? { reason: 'not in the response (account not imported?)' };
    if (!Array.isArray(answer)) return { reason: `unexpected response shape: ${answer.problem}` };
    results.push({ To_Account: account, Tags: answer });
    return undefined;
  });
  warnInvalidUtf8(envelope, results.map((r) => ({ account: r.To_Account, values: r.Tags })), ctx.warn);
  return { results, failures };
}

/** Splits an entry into parts of at most `size` tags, in order (the API caps tags per user per call). */
export function splitTags(entry: TagEntry, size: number): TagEntry[] {
  if (entry.tags.length <= size) return [entry];
  const parts: TagEntry[] = [];
  for (let i = 0; i < entry.tags.length; i += size) parts.push({ account: entry.account, tags: entry.tags.slice(i, i + size) });
  return parts;
}

/** The tag operations of one family. */
export interface TagOperations {
  getTags: BatchOperation<string, TagRecord>;
  addTags: BatchOperation<TagEntry, never>;
  removeTags: BatchOperation<TagEntry, never>;
  clearTags: BatchOperation<string, never>;
  /** TIMPush only: add_tag with `Replace: 1`, the tags given become the user's tags in one call. */
  replaceTags?: BatchOperation<TagEntry, never>;
}

export type TagPaths = Record<'getTags' | 'addTags' | 'removeTags' | 'clearTags', string>;

const tagItem = (e: TagEntry): { To_Account: string; Tags: string[] } => ({ To_Account: e.account, Tags: e.tags });
const userTags = (entries: readonly TagEntry[]): Array<{ To_Account: string; Tags: string[] }> => entries.map(tagItem);
const accountOfEntry = (e: TagEntry): string => e.account;

/** The tag operations over `paths`. `replace` adds the TIMPush `Replace` flag and operation. */
export function tagOperations(family: ApiFamily, paths: TagPaths, options: { replace: boolean }): TagOperations {
  const add = (replace: boolean): BatchOperation<TagEntry, never> =>
    batchWrite({
      family,
      path: paths.addTags,
      maxItems: MAX_ACCOUNTS_PER_CALL,
      callsPerSecond: TARGETING_CALLS_PER_SECOND,
      // Adding a tag a user already has leaves the same tags; replacing with the same list too.
      retrySafe: true,
      codes: TAG_CODES.addTags,
      accountOf: accountOfEntry,
      itemBody: tagItem,
      // A replace must arrive whole (a second part would replace the first): at most 100 tags,
      // which is also the per-user total, so it is never split. Adds go 10 per user per call.
      split: replace ? undefined : (entry) => splitTags(entry, MAX_TAGS_PER_ADD_CALL),
      body: (entries) => (options.replace ? { Replace: replace ? 1 : 0, UserTags: userTags(entries) } : { UserTags: userTags(entries) }),
    });
  return {
    getTags: batchOperation({
      family,
      path: paths.getTags,
      maxItems: MAX_ACCOUNTS_PER_CALL,
      callsPerSecond: TARGETING_CALLS_PER_SECOND,
      retrySafe: true,
      writes: false,
      codes: TAG_CODES.getTags,
      wording: RETURNED,
      accountOf: (account) => account,
      body: (accounts) => ({ To_Account: accounts }),
      read: (envelope, accounts, ctx) => parseGetTags(commandOf(paths.getTags), envelope, accounts, ctx),
    }),
    addTags: add(false),
    removeTags: batchWrite({
      family,
      path: paths.removeTags,
      maxItems: MAX_ACCOUNTS_PER_CALL,
      callsPerSecond: TARGETING_CALLS_PER_SECOND,
      // Removing a tag a user does not have is not an error.
      retrySafe: true,
      codes: TAG_CODES.removeTags,
      accountOf: accountOfEntry,
      itemBody: tagItem,
      body: (entries) => ({ UserTags: userTags(entries) }),
    }),
    clearTags: batchWrite({
      family,
      path: paths.clearTags,
      maxItems: MAX_ACCOUNTS_PER_CALL,
      callsPerSecond: TARGETING_CALLS_PER_SECOND,
      retrySafe: true,
      codes: TAG_CODES.clearTags,
      accountOf: (account) => account,
      itemBody: (account) => ({ To_Account: account }),
      body: (accounts) => ({ To_Account: accounts }),
    }),
    ...(options.replace ? { replaceTags: add(true) } : {}),
  };
}
