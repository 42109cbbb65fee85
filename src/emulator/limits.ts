/**
 * Every limit and error code the emulator enforces, declared once, each with the page it comes
 * from (../shared/reference/API.md, PUSH-FAMILY.md, DELIVERY.md; `EN/n` =
 * tencentcloud.com/document/product/1047/n). The endpoint table (endpoints.ts) says which
 * endpoint enforces which; the handlers only read them from here.
 */
// The documented limits are the client's too (api/facts.ts): one source, so the two never drift.
import {
  LIST_PUSH_CALLS_PER_SECOND,
  MAX_ACCOUNTS_PER_CALL,
  MAX_APP_TAGS as FACT_APP_TAGS,
  MAX_ATTR_BYTES as FACT_ATTR_BYTES,
  MAX_ATTR_SLOTS as FACT_ATTR_SLOTS,
  MAX_DATA_ID_BYTES as FACT_DATA_ID_BYTES,
  MAX_LIST_PUSH_ACCOUNTS,
  MAX_TAGS_PER_ADD_CALL,
  MAX_TAGS_PER_USER as FACT_TAGS_PER_USER,
} from '../api/facts.js';

/** "Maximum call frequency 100 times/second" on every attribute, tag and account page (API.md §2). */
export const REST_CALLS_PER_SECOND = 100;
/** Statistics, loss and trace: "1 call/s" (EN/71893–71895). */
export const REPORT_CALLS_PER_SECOND = 1;
/** The five `*_sched_task` endpoints: "5 requests per second" (DELIVERY.md §2). */
export const SCHED_CALLS_PER_SECOND = 5;
/** revoke: 1 call/s, else 90051 (EN/60571): enforced by the handler with its own code. */
export const REVOKE_SPACING_MS = 1000;

/** The TIMPush editions, which set timpush/batch's rate (DELIVERY.md §1). */
export type PushEdition = 'free' | 'standard' | 'advanced';
export const PUSH_EDITIONS: readonly PushEdition[] = ['free', 'standard', 'advanced'];
/** "The default free edition supports 10 times/s, standard version 30 times/s, and advanced edition 40 times/s" (trtc.io/document/67553). */
export const BATCH_CALLS_PER_SECOND: Readonly<Record<PushEdition, number>> = LIST_PUSH_CALLS_PER_SECOND;
export const DEFAULT_PUSH_EDITION: PushEdition = 'free';

/** "Up to 100 users … at a time" on every tag/attr/account_check page (trtc.io/document/37172, 37174, 67821; CN/269/38417). */
export const MAX_ACCOUNTS = MAX_ACCOUNTS_PER_CALL;
/** A value or name is at most 50 bytes (API.md §2; trtc.io/document/60565). */
export const MAX_ATTR_BYTES = FACT_ATTR_BYTES;
/** Slots "0".."9": at most 10 attributes per app (API.md §2). */
export const MAX_ATTR_SLOTS = FACT_ATTR_SLOTS;
/** "A maximum of 10 tags can be added for a user in one request" (CN/1212/45941; EN/37173). */
export const MAX_TAGS_PER_ADD = MAX_TAGS_PER_ADD_CALL;
/** TIMPush add_tag with Replace:1: up to 100 tags (trtc.io/document/67821). */
export const MAX_TAGS_PER_REPLACE = 100;
/** "Up to 100 tags per user" (CN/1212/45941; trtc.io/document/67821). */
export const MAX_TAGS_PER_USER = FACT_TAGS_PER_USER;
/** "The deduplicated total for all users' tags" may not exceed 1,000 (EN/60568, TIMPush only). */
export const MAX_APP_TAGS = FACT_APP_TAGS;

/** "By default, it can be called 100 times every day" (EN/37166; TIMPush Standard, CN/269/100634). */
export const DEFAULT_PUSH_QUOTA = 100;
/** "The interval between two pushes must be greater than one second" (EN/37166). */
export const PUSH_SPACING_MS = 1000;
/** Revoke "within 24 h of the task start" (EN/60571). */
export const REVOKE_WINDOW_MS = 24 * 3600 * 1000;
/** TIMPush push body at most 10 KB, else 90056 (EN/74196). */
export const MAX_TIMPUSH_BODY_BYTES = 10 * 1024;
/** timpush/batch and a User sched task: "1–500 accounts" per call (trtc.io/document/67553; DELIVERY.md §2). */
export const MAX_BATCH_ACCOUNTS = MAX_LIST_PUSH_ACCOUNTS;
/** DataId: "limited to a maximum of 64 bytes", else 90057 (EN/67553). */
export const MAX_DATA_ID_BYTES = FACT_DATA_ID_BYTES;
/** UTC+8: the push quota day (Tencent's console time; UNCONFIRMED). */
export const QUOTA_DAY_OFFSET_MS = 8 * 3600 * 1000;

/** all_member_push_statistics: "up to 30 days" (EN/71894). */
export const STATS_MAX_SPAN_SECONDS = 30 * 24 * 3600;
/** all_member_push_loss: "supports up to 7 days" (EN/71895). */
export const LOSS_MAX_SPAN_SECONDS = 7 * 24 * 3600;
/** all_member_push_trace: "data query within 7 days" (EN/71893). */
export const TRACE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Statistics and loss: at most 5 TaskIDs (EN/71894, EN/71895). */
export const REPORT_MAX_TASKS = 5;

/** list_sched_task: the "maximum number of days" is UNCONFIRMED (DELIVERY.md §2); the emulator takes 90. */
export const SCHED_LIST_MAX_SPAN_DAYS = 90;
/** list_sched_task `Want`: 20 in the doc sample; its maximum is UNCONFIRMED, the emulator takes 100. */
export const SCHED_LIST_DEFAULT_WANT = 20;
export const SCHED_LIST_MAX_WANT = 100;
/**
 * How long a fired sched task stays "dispatching": the Chat push pages give "push concurrency
 * limit is 200 users/second" (PUSH-FAMILY.md §3), so a task of n recipients dispatches for
 * ceil(n / 200) seconds of the emulator's clock, at least one.
 */
export const DISPATCH_USERS_PER_SECOND = 200;

/** The emulator's own cap on a request body (Tencent documents none beyond TIMPush's 10 KB). */
export const MAX_REQUEST_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Error codes by meaning. Where an endpoint's page lists no code for a limit, the comment says
 * which documented code was chosen:
 * - im_add_tag: more than 10 tags for a user, or more than 100 in total → 90032, whose documented
 *   text is "…or the number of tags in the tag adding request exceeds 10" (EN/37166); a tag of 0 or
 *   more than 50 bytes → 90034 "Tag length is greater than 50" (error-code list, INTL/34348).
 * - TIMPush add_tag / remove_tag: their pages list 90001, 90009, 90018, 91000 and 90035 only, so
 *   every tag-count or tag-length limit is answered 90001 ("Invalid format of Tags").
 * - account_check: no code list in our references; over 100 items or a bad item → 70402
 *   ("参数非法", invalid parameter, the account APIs' code per Tencent support, 2019).
 * - sched tasks: 90107 is the only code seen (C2); every other refusal is 90001 "Invalid format of
 *   <Field>" (UNCONFIRMED, DELIVERY.md §2).
 */
export const CODES = {
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
  schedNotPending: 90107,
  rateLimited: 60007,
} as const;
