/**
 * Tag endpoints of both families: all_member_push `im_get_tag`, `im_add_tag`, `im_remove_tag`,
 * `im_remove_all_tags` (PUSH-FAMILY.md §1) and TIMPush `get_tag`, `add_tag`, `remove_tag`,
 * `clear_all_tags` (§3). Codes chosen where a page lists none: see CODES in limits.ts.
 *
 * Choices where the documentation is silent:
 * - all_member_push `im_add_tag` on an account that is not imported imports it, as `im_set_attr`
 *   does; `im_get_tag` lists a never-imported account under ErrorList 70107, as `im_get_attr` does.
 * - TIMPush never imports: an account that is neither imported nor a RegistrationID is answered
 *   per account in ErrorList with 70107, the rest is applied.
 * - The 1,000 distinct tags per app limit is documented for TIMPush only, so only TIMPush has it.
 */
import { MAX_TAG_BYTES } from '../push/condition.js';
import { accountList } from './attrs.js';
import { byteLength, fail, invalidFormat, isPlainObject, notImported, ok, okWithErrors, type Answer, type ErrorItem } from './answer.js';
import { accountLimit, row, type EmulatorContext, type Endpoint, type Handler } from './context.js';
import { timpushAccounts } from './context.js';
import { CODES, MAX_ACCOUNTS, MAX_APP_TAGS, MAX_TAGS_PER_ADD, MAX_TAGS_PER_REPLACE, MAX_TAGS_PER_USER, REST_CALLS_PER_SECOND } from './limits.js';
import type { AccountType } from './state.js';

interface UserTagsEntry {
  account: string;
  tags: string[];
}

/** `UserTags: [{To_Account, Tags:[…]}]`, or the Answer refusing it. */
function userTags(body: Record<string, unknown>): UserTagsEntry[] | Answer {
  const entries = body.UserTags;
  if (!Array.isArray(entries)) return fail(CODES.format, invalidFormat('UserTags'));
  const out: UserTagsEntry[] = [];
  for (const entry of entries as unknown[]) {
    if (!isPlainObject(entry) || typeof entry.To_Account !== 'string' || entry.To_Account === '') return fail(CODES.format, invalidFormat('To_Account'));
    const tags = entry.Tags;
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) return fail(CODES.format, invalidFormat('Tags'));
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

const REST = { adjustable: true };

/** get_tag of either family: each known account's tags; an account not imported is an ErrorList item. */
function tagReader(ctx: EmulatorContext, known: (account: string) => boolean, tagsOf: (account: string) => readonly string[]): Handler {
  return (body) => {
    const accounts = accountList(body, 'To_Account');
    if (!Array.isArray(accounts)) return accounts;
    const found: Array<{ To_Account: string; Tags: string[] }> = [];
    const errors: ErrorItem[] = [];
    for (const account of accounts) {
      if (known(account)) found.push({ To_Account: account, Tags: [...tagsOf(account)] });
      else errors.push(notImported(account));
    }
    ctx.served(accounts.length, found.length);
    return okWithErrors({ UserTags: found }, errors);
  };
}

/** The all_member_push tag endpoints (PUSH-FAMILY.md §1, F3). */
export function ampTagEndpoints(ctx: EmulatorContext): Endpoint[] {
  const { state } = ctx;

  const getTag = tagReader(ctx, (account) => state.isImported(account), (account) => state.tagsOf(account));

  const addTag: Handler = (body) => {
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

  const removeTag: Handler = (body) => {
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

  const removeAllTags: Handler = (body) => {
    const accounts = accountList(body, 'To_Account');
    if (!Array.isArray(accounts)) return accounts;
    for (const account of accounts) if (state.isImported(account)) state.setTags(account, []);
    ctx.served(accounts.length, accounts.length);
    ctx.changed();
    return ok();
  };

  return [
    row('all_member_push/im_get_tag', getTag, REST_CALLS_PER_SECOND, { ...REST, accounts: accountLimit('To_Account', MAX_ACCOUNTS) }),
    row('all_member_push/im_add_tag', addTag, REST_CALLS_PER_SECOND, { ...REST, accounts: accountLimit('UserTags', MAX_ACCOUNTS) }),
    row('all_member_push/im_remove_tag', removeTag, REST_CALLS_PER_SECOND, { ...REST, accounts: accountLimit('UserTags', MAX_ACCOUNTS) }),
    row('all_member_push/im_remove_all_tags', removeAllTags, REST_CALLS_PER_SECOND, { ...REST, accounts: accountLimit('To_Account', MAX_ACCOUNTS) }),
  ];
}

/** The TIMPush tag endpoints (PUSH-FAMILY.md §3, F7, F8, F9). */
export function timpushTagEndpoints(ctx: EmulatorContext): Endpoint[] {
  const { tp, known, accountType, touched } = timpushAccounts(ctx);

  const addTag: Handler = (body) => {
    const replace = body.Replace ?? 0;
    if (replace !== 0 && replace !== 1) return fail(CODES.format, invalidFormat('Replace', '0 or 1'));
    const entries = userTags(body);
    if (!Array.isArray(entries)) return entries;
    const cap = replace ? MAX_TAGS_PER_REPLACE : MAX_TAGS_PER_ADD;
    for (const { account, tags } of entries) {
      if (tags.length > cap) return fail(CODES.format, invalidFormat('Tags', `${account} has ${tags.length} tags; at most ${cap} with Replace:${replace}`));
      const bad = tags.find((t) => !tagLengthOk(t));
      if (bad !== undefined) return fail(CODES.format, invalidFormat('Tags', `"${bad}" is empty or longer than ${MAX_TAG_BYTES} bytes`));
    }
    // Work out every account's outcome before changing anything, so a request over a limit
    // changes nothing. Tags that a Replace drops are not credited to the app-wide count.
    const errors: ErrorItem[] = [];
    const next = new Map<string, string[]>();
    const newTags = new Map<string, AccountType>();
    for (const { account, tags } of entries) {
      if (!known(account)) {
        errors.push(notImported(account));
        continue;
      }
      const type = accountType(account);
      if (tags.some((t) => (tp.tagTypes.get(t) ?? newTags.get(t) ?? type) !== type)) {
        errors.push({ To_Account: account, ErrorCode: CODES.otherAccountType, ErrorInfo: 'A tag can only be applicable to one account type' });
        continue;
      }
      const merged = replace ? union([], tags) : union(next.get(account) ?? tp.tagsOf(account), tags);
      if (merged.length > MAX_TAGS_PER_USER) return fail(CODES.format, invalidFormat('Tags', `${account} would have ${merged.length} tags; at most ${MAX_TAGS_PER_USER}`));
      for (const t of tags) if (!tp.tagUsers.has(t)) newTags.set(t, type);
      next.set(account, merged);
    }
    if (tp.tagUsers.size + newTags.size > MAX_APP_TAGS) {
      return fail(CODES.format, invalidFormat('Tags', `the app would have ${tp.tagUsers.size + newTags.size} distinct tags; at most ${MAX_APP_TAGS}`));
    }
    for (const [account, tags] of next) tp.setTags(account, tags, accountType(account));
    ctx.served(entries.length, next.size);
    touched();
    return okWithErrors({}, errors);
  };

  const getTag = tagReader(ctx, known, (account) => tp.tagsOf(account));

  const removeTag: Handler = (body) => {
    const entries = userTags(body);
    if (!Array.isArray(entries)) return entries;
    for (const { tags } of entries) {
      const bad = tags.find((t) => byteLength(t) > MAX_TAG_BYTES);
      if (bad !== undefined) return fail(CODES.format, invalidFormat('Tags', `"${bad}" is longer than ${MAX_TAG_BYTES} bytes`));
    }
    const errors: ErrorItem[] = [];
    for (const { account, tags } of entries) {
      if (!known(account)) {
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
      if (known(account)) tp.setTags(account, [], accountType(account));
      else errors.push(notImported(account));
    }
    ctx.served(accounts.length, accounts.length - errors.length);
    touched();
    return okWithErrors({}, errors);
  };

  return [
    row('timpush/add_tag', addTag, REST_CALLS_PER_SECOND, { ...REST, accounts: accountLimit('UserTags', MAX_ACCOUNTS) }),
    row('timpush/get_tag', getTag, REST_CALLS_PER_SECOND, { ...REST, accounts: accountLimit('To_Account', MAX_ACCOUNTS) }),
    row('timpush/remove_tag', removeTag, REST_CALLS_PER_SECOND, { ...REST, accounts: accountLimit('UserTags', MAX_ACCOUNTS) }),
    row('timpush/clear_all_tags', clearAllTags, REST_CALLS_PER_SECOND, { ...REST, accounts: accountLimit('To_Account', MAX_ACCOUNTS) }),
  ];
}
