/**
 * The tag operations (PUSH-FAMILY.md section 1 for all_member_push, section 3 for TIMPush), as
 * descriptors the family tables fill in with their paths. Same bodies in both families, except
 * that TIMPush add_tag takes `Replace` (1: the tags given replace the user's tags).
 */
import { ApiError } from '../errors.js';
import type { Envelope } from './envelope.js';
import { batchOperation, batchWrite, commandOf, errorListReasons, type ApiFamily, type BatchOperation, type ItemFailure, type ReadContext } from './operation.js';
import { MAX_ACCOUNTS_PER_CALL, kindOf } from './attrs.js';

/** Tags of one user in one add call (CN/1212/45941, EN/37173: "up to 10 tags"; 90032 beyond). */
export const MAX_TAGS_PER_ADD_CALL = 10;
/** With TIMPush `Replace: 1`, one call may carry up to 100 tags per user (trtc.io/document/67821). */
export const MAX_TAGS_PER_REPLACE_CALL = 100;
/** Tags a user may have in total (CN/1212/45941: "delete old tags before adding new ones"). */
export const MAX_TAGS_PER_USER = 100;
/** A tag is 1-50 bytes (EN/37173; 90034 "Tag length is greater than 50"). */
export const MAX_TAG_BYTES = 50;
/** Distinct tags in a whole app, TIMPush only (EN/60568, CN/269/100641); UNCONFIRMED for all_member_push. */
export const MAX_APP_TAGS = 1000;

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

function shapeError(command: string, what: string): ApiError {
  return new ApiError(`${command}: unexpected response shape: ${what}`, {
    hint: 'the server is not answering like the Chat REST API: check `endpoint`',
  });
}

/**
 * Reads a get-tags answer, matched by `To_Account` and returned in request order (the docs do not
 * say whether order is kept; treated like get_attr). Every requested account ends in exactly one
 * of results or failures: missing accounts fail with their ErrorList reason (TIMPush 70107) or
 * "not in the response"; unrequested and duplicate entries are ignored.
 */
export function parseGetTags(command: string, envelope: Envelope, accounts: readonly string[], ctx: ReadContext): { results: TagRecord[]; failures: ItemFailure<string>[] } {
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
  const failures: ItemFailure<string>[] = [];
  for (const account of accounts) {
    const answer = answers.get(account);
    if (answer === undefined) {
      const listed = reasons.get(account);
      failures.push({ item: account, reason: listed?.reason ?? 'not in the response (account not imported?)', code: listed?.code });
    } else if (!Array.isArray(answer)) failures.push({ item: account, reason: `unexpected response shape: ${answer.problem}` });
    else results.push({ To_Account: account, Tags: answer });
  }
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
  addTags: BatchOperation<TagEntry, TagEntry>;
  removeTags: BatchOperation<TagEntry, TagEntry>;
  clearTags: BatchOperation<string, string>;
  /** TIMPush only: add_tag with `Replace: 1`, the tags given become the user's tags in one call. */
  replaceTags?: BatchOperation<TagEntry, TagEntry>;
}

export type TagPaths = Record<'getTags' | 'addTags' | 'removeTags' | 'clearTags', string>;

const tagItem = (e: TagEntry): { To_Account: string; Tags: string[] } => ({ To_Account: e.account, Tags: e.tags });
const userTags = (entries: readonly TagEntry[]): Array<{ To_Account: string; Tags: string[] }> => entries.map(tagItem);
const accountOfEntry = (e: TagEntry): string => e.account;

/** The tag operations over `paths`. `replace` adds the TIMPush `Replace` flag and operation. */
export function tagOperations(family: ApiFamily, paths: TagPaths, options: { replace: boolean }): TagOperations {
  const add = (replace: boolean): BatchOperation<TagEntry, TagEntry> =>
    batchWrite({
      family,
      path: paths.addTags,
      maxItems: MAX_ACCOUNTS_PER_CALL,
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
      retrySafe: true,
      writes: false,
      codes: TAG_CODES.getTags,
      accountOf: (account) => account,
      body: (accounts) => ({ To_Account: accounts }),
      read: (envelope, accounts, ctx) => parseGetTags(commandOf(paths.getTags), envelope, accounts, ctx),
    }),
    addTags: add(false),
    removeTags: batchWrite({
      family,
      path: paths.removeTags,
      maxItems: MAX_ACCOUNTS_PER_CALL,
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
      retrySafe: true,
      codes: TAG_CODES.clearTags,
      accountOf: (account) => account,
      itemBody: (account) => ({ To_Account: account }),
      body: (accounts) => ({ To_Account: accounts }),
    }),
    ...(options.replace ? { replaceTags: add(true) } : {}),
  };
}
