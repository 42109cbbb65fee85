/**
 * Push targeting: validating a push `Condition` (and the push request fields around it) and
 * deciding whether one account matches it. Pure: no network, no emulator, no I/O. The emulator's
 * `im_push` / `timpush/push` and the client's audience preview both use THIS module, so a preview
 * and the emulator can never disagree.
 *
 * Source: ../shared/reference/PUSH-FAMILY.md §2.1–2.2 (EN/37166, CN/269/45934 for all_member_push;
 * EN/60561, EN/74196 for timpush). Readings where the documentation is silent (one sentence each;
 * these are copied into `--help`, see CONDITION_READINGS):
 * - TagsAnd together with TagsOr: an account must satisfy both (have every TagsAnd tag and at least one TagsOr tag).
 * - AttrsAnd together with AttrsOr: an account must satisfy both (match every AttrsAnd pair and at least one AttrsOr pair).
 * - TagsNot (TIMPush only): an account that has ANY of the TagsNot tags is excluded; TagsNot alone targets every other account.
 * - Matching is exact, case-sensitive string equality for tags and attribute values.
 * - An empty list or map counts as absent (it adds no constraint); `{}` or no Condition targets every account.
 * - Each of TagsOr, TagsAnd and TagsNot may list up to 10 tags (the limit is per list, not their total).
 * - A tag in TagsNot that is also in TagsOr or TagsAnd is refused like a TagsOr/TagsAnd duplicate (90022).
 *
 * And one reading for the whole request (NULL_FIELDS_NOTE): a JSON null is an absent field. Go
 * structs without `omitempty` send `"TagsAnd": null`, Java and C# clients `"DataId": null`; no
 * page says null is refused, and refusing it broke seven third-party clients.
 */
import { MAX_TAG_BYTES } from '../api/facts.js';

export type PushFamily = 'all_member_push' | 'timpush';

export interface Condition {
  TagsOr?: string[];
  TagsAnd?: string[];
  /** TIMPush only. */
  TagsNot?: string[];
  AttrsOr?: Record<string, string>;
  AttrsAnd?: Record<string, string>;
}

/** One reason a push request is refused: the API error code it gets and a human message. */
export interface ConditionProblem {
  code: number;
  message: string;
}

/** The one-sentence readings above, in order, for `--help` text. */
export const CONDITION_READINGS: readonly string[] = [
  'TagsAnd together with TagsOr: an account must satisfy both (have every TagsAnd tag and at least one TagsOr tag).',
  'AttrsAnd together with AttrsOr: an account must satisfy both (match every AttrsAnd pair and at least one AttrsOr pair).',
  'TagsNot (TIMPush only): an account that has ANY of the TagsNot tags is excluded; TagsNot alone targets every other account.',
  'Matching is exact, case-sensitive string equality for tags and attribute values.',
  'An empty list or map counts as absent (it adds no constraint); {} or no Condition targets every account.',
  'Each of TagsOr, TagsAnd and TagsNot may list up to 10 tags (the limit is per list, not their total).',
  'A tag in TagsNot that is also in TagsOr or TagsAnd is refused like a TagsOr/TagsAnd duplicate (90022).',
];

/** The null reading above, one sentence for `--help` (the emulator's and the push commands'). */
export const NULL_FIELDS_NOTE = 'A JSON null in the request (a Condition field, DataId) is read as an absent field.';

/** "can contain up to ten tags" (EN/37166, TagsOr / TagsAnd). */
export const MAX_CONDITION_TAGS = 10;
/** A tag in a condition: 1-50 bytes (EN/37166; 90020 beyond), as everywhere (api/facts.ts). */
export { MAX_TAG_BYTES };
/** "The maximum duration is 604,800 seconds (7 days)" (EN/37166, MsgLifeTime). */
export const MAX_MSG_LIFETIME_SECONDS = 604_800;
/** MsgRandom is an unsigned 32-bit integer like the query's `random` (API.md §1). */
export const MAX_MSG_RANDOM = 4_294_967_295;

/** Error codes, each with the page that documents it (PUSH-FAMILY.md §2.2, EN/37166, EN/74196). */
export const PUSH_CODES = {
  /** "Invalid format of <Field>" (F12): a field of the wrong type, a missing/invalid MsgRandom. */
  format: 90001,
  /** MsgBody missing or not an array of message elements (all_member_push, EN/37166). */
  msgBody: 90002,
  /** A tag longer than 50 bytes in a condition. */
  tagTooLong: 90020,
  /** The same tag in TagsOr and TagsAnd. */
  duplicateTag: 90022,
  /** MsgLifeTime over 7 days. */
  lifeTimeRange: 90026,
  /** More than 10 tags in a condition. */
  tooManyTags: 90032,
  /** An attribute name that is not one of the app's ("Invalid attribute"). */
  invalidAttr: 90033,
  /** Tag and attribute conditions together ("mutually exclusive"). */
  tagsWithAttrs: 90039,
  /** An empty tag. */
  emptyTag: 90040,
  /** MsgLifeTime not an integer. */
  lifeTimeNotInteger: 90044,
} as const;

const TAG_FIELDS = ['TagsOr', 'TagsAnd', 'TagsNot'] as const;
const ATTR_FIELDS = ['AttrsOr', 'AttrsAnd'] as const;

/** A JSON object (not null, not an array). The one copy the emulator and the CLI's push code share. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The UTF-8 byte length of `text`: every documented size limit ("50 bytes", "64 bytes") counts bytes. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Every problem with `condition` for `family`, in a fixed order (format, mix, counts, tags,
 * duplicates, attribute names); an empty list means it is valid. `attrNames`, when given, are the
 * app's attribute names: a condition naming another attribute gets 90033. `undefined` or `null` (no
 * Condition) is valid, and so is a field whose value is null (NULL_FIELDS_NOTE).
 */
export function validateCondition(condition: unknown, family: PushFamily, attrNames?: Iterable<string>): ConditionProblem[] {
  if (condition === undefined || condition === null) return [];
  if (!isPlainObject(condition)) return [{ code: PUSH_CODES.format, message: 'Invalid format of Condition: it must be an object' }];
  const problems: ConditionProblem[] = [];
  const allowed = new Set<string>(family === 'timpush' ? [...TAG_FIELDS, ...ATTR_FIELDS] : ['TagsOr', 'TagsAnd', ...ATTR_FIELDS]);
  for (const [key, value] of Object.entries(condition)) {
    if (value !== null && !allowed.has(key)) {
      problems.push({ code: PUSH_CODES.format, message: `Invalid format of Condition: unknown field ${key}${key === 'TagsNot' ? ' (TagsNot is TIMPush only)' : ''}` });
    }
  }
  const lists: Partial<Record<(typeof TAG_FIELDS)[number], string[]>> = {};
  for (const field of TAG_FIELDS) {
    const value = condition[field];
    if (value === undefined || value === null || !allowed.has(field)) continue;
    if (!Array.isArray(value) || value.some((tag) => typeof tag !== 'string')) {
      problems.push({ code: PUSH_CODES.format, message: `Invalid format of Condition.${field}: it must be an array of strings` });
      continue;
    }
    lists[field] = value as string[];
  }
  const maps: Partial<Record<(typeof ATTR_FIELDS)[number], Record<string, string>>> = {};
  for (const field of ATTR_FIELDS) {
    const value = condition[field];
    if (value === undefined || value === null) continue;
    if (!isPlainObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
      problems.push({ code: PUSH_CODES.format, message: `Invalid format of Condition.${field}: it must map attribute names to strings` });
      continue;
    }
    maps[field] = value as Record<string, string>;
  }
  const hasTags = TAG_FIELDS.some((f) => (lists[f]?.length ?? 0) > 0);
  const hasAttrs = ATTR_FIELDS.some((f) => Object.keys(maps[f] ?? {}).length > 0);
  if (hasTags && hasAttrs) {
    problems.push({ code: PUSH_CODES.tagsWithAttrs, message: 'Message push by attribute and message push by tag are mutually exclusive' });
  }
  for (const field of TAG_FIELDS) {
    const tags = lists[field];
    if (!tags) continue;
    if (tags.length > MAX_CONDITION_TAGS) {
      problems.push({ code: PUSH_CODES.tooManyTags, message: `Condition.${field} has ${tags.length} tags; at most ${MAX_CONDITION_TAGS}` });
    }
    for (const tag of tags) {
      if (tag === '') problems.push({ code: PUSH_CODES.emptyTag, message: `Condition.${field} has an empty tag` });
      else if (byteLength(tag) > MAX_TAG_BYTES) problems.push({ code: PUSH_CODES.tagTooLong, message: `Condition.${field} tag "${tag}" is longer than ${MAX_TAG_BYTES} bytes` });
    }
  }
  const positive = new Set([...(lists.TagsOr ?? [])]);
  for (const tag of new Set(lists.TagsAnd ?? [])) {
    if (positive.has(tag)) problems.push({ code: PUSH_CODES.duplicateTag, message: `tag "${tag}" is in both TagsOr and TagsAnd` });
    positive.add(tag);
  }
  for (const tag of new Set(lists.TagsNot ?? [])) {
    if (positive.has(tag)) problems.push({ code: PUSH_CODES.duplicateTag, message: `tag "${tag}" is in TagsNot and in TagsOr or TagsAnd` });
  }
  if (attrNames !== undefined) {
    const known = new Set(attrNames);
    for (const field of ATTR_FIELDS) {
      for (const name of Object.keys(maps[field] ?? {})) {
        if (!known.has(name)) problems.push({ code: PUSH_CODES.invalidAttr, message: `Invalid attribute ${name} in Condition.${field}` });
      }
    }
  }
  return problems;
}

/**
 * Every problem with a whole push request body (Condition plus MsgRandom, MsgLifeTime and, for
 * all_member_push, MsgBody), Condition problems last. Quota, spacing and body size are the
 * server's business, not this function's.
 */
export function validatePushRequest(body: Readonly<Record<string, unknown>>, family: PushFamily, attrNames?: Iterable<string>): ConditionProblem[] {
  const problems: ConditionProblem[] = [];
  const random = body.MsgRandom;
  if (typeof random !== 'number' || !Number.isInteger(random) || random < 0 || random > MAX_MSG_RANDOM) {
    // F12 (timpush batch): "Invalid format of MsgRandom", "MsgRandom is invalid or not set".
    problems.push({ code: PUSH_CODES.format, message: 'Invalid format of MsgRandom' });
  }
  const lifeTime = body.MsgLifeTime;
  if (lifeTime !== undefined && lifeTime !== null) {
    if (typeof lifeTime !== 'number' || !Number.isInteger(lifeTime)) {
      problems.push({ code: PUSH_CODES.lifeTimeNotInteger, message: 'MsgLifeTime must be an integer' });
    } else if (lifeTime < 0 || lifeTime > MAX_MSG_LIFETIME_SECONDS) {
      problems.push({ code: PUSH_CODES.lifeTimeRange, message: `MsgLifeTime ${lifeTime} is outside 0..${MAX_MSG_LIFETIME_SECONDS} seconds (7 days)` });
    }
  }
  if (family === 'all_member_push') {
    const msgBody = body.MsgBody;
    if (!Array.isArray(msgBody) || msgBody.length === 0 || msgBody.some((e) => !isPlainObject(e) || typeof e.MsgType !== 'string')) {
      problems.push({ code: PUSH_CODES.msgBody, message: 'Invalid format of MsgBody: a non-empty array of {MsgType, MsgContent}' });
    }
  }
  if (body.From_Account !== undefined && body.From_Account !== null && typeof body.From_Account !== 'string') {
    problems.push({ code: PUSH_CODES.format, message: 'Invalid format of From_Account' });
  }
  problems.push(...validateCondition(body.Condition, family, attrNames));
  return problems;
}

/** An account's attributes by name (a record or a map) and its tags (an array or a set). */
export type AttrLookup = Readonly<Record<string, string>> | ReadonlyMap<string, string>;
export type TagList = readonly string[] | ReadonlySet<string>;

function attrOf(attrs: AttrLookup, name: string): string | undefined {
  if (attrs instanceof Map) return (attrs as ReadonlyMap<string, string>).get(name);
  return Object.prototype.hasOwnProperty.call(attrs, name) ? (attrs as Record<string, string>)[name] : undefined;
}

function hasTag(tags: TagList, tag: string): boolean {
  return tags instanceof Set ? tags.has(tag) : (tags as readonly string[]).includes(tag);
}

/**
 * Whether an account with these attributes and tags is a recipient of a push with `condition`.
 * The condition must have passed validateCondition (an invalid one gives an unspecified answer).
 * No condition, or `{}`, matches every account.
 */
export function matches(condition: Condition | undefined, attrs: AttrLookup, tags: TagList): boolean {
  if (!condition) return true;
  const { TagsAnd, TagsOr, TagsNot, AttrsAnd, AttrsOr } = condition;
  if (TagsAnd && !TagsAnd.every((t) => hasTag(tags, t))) return false;
  if (TagsOr && TagsOr.length > 0 && !TagsOr.some((t) => hasTag(tags, t))) return false;
  if (TagsNot && TagsNot.some((t) => hasTag(tags, t))) return false;
  if (AttrsAnd && !Object.entries(AttrsAnd).every(([name, value]) => attrOf(attrs, name) === value)) return false;
  if (AttrsOr) {
    const pairs = Object.entries(AttrsOr);
    if (pairs.length > 0 && !pairs.some(([name, value]) => attrOf(attrs, name) === value)) return false;
  }
  return true;
}

/**
 * The same condition with attribute names replaced by `keyOf(name)` (e.g. a storage slot), so a
 * store keyed by something else than names can be matched without building a record per account.
 * A name without a key becomes a key no account has (`\u0000name`), which matches nothing.
 */
export function rekeyCondition(condition: Condition | undefined, keyOf: (name: string) => string | undefined): Condition | undefined {
  if (!condition) return condition;
  const rekey = (map: Record<string, string> | undefined): Record<string, string> | undefined =>
    map && Object.fromEntries(Object.entries(map).map(([name, value]) => [keyOf(name) ?? `\u0000${name}`, value]));
  const out: Condition = { ...condition };
  if (condition.AttrsAnd) out.AttrsAnd = rekey(condition.AttrsAnd)!;
  if (condition.AttrsOr) out.AttrsOr = rekey(condition.AttrsOr)!;
  return out;
}
