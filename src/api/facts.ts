/**
 * The documented limits of the Chat REST API, each once, with the page it comes from. The
 * operation descriptors (attrs.ts, tags.ts, push.ts) carry them as their `maxItems` and
 * `callsPerSecond`; the input checks (src/input/) refuse what the server would refuse, before
 * anything is sent. Sources: ../shared/reference/API.md, PUSH-FAMILY.md, DELIVERY.md.
 */

/** Every attribute and tag endpoint: "Maximum call frequency 100 times/second" (API.md section 2; PUSH-FAMILY.md sections 1 and 3). */
export const TARGETING_CALLS_PER_SECOND = 100;

/** An app has at most 10 attributes, in slots "0".."9" (API.md section 2). */
export const MAX_ATTR_SLOTS = 10;

/** Attribute names and values are at most 50 bytes (API.md section 2; 90030 beyond). */
export const MAX_ATTR_BYTES = 50;

/** Accounts per get/set/remove attribute or tag call (API.md section 2: "at most 100 accounts"; 90018 beyond). */
export const MAX_ACCOUNTS_PER_CALL = 100;

/** Tags of one user in one add call (CN/1212/45941, EN/37173: "up to 10 tags"; 90032 beyond). */
export const MAX_TAGS_PER_ADD_CALL = 10;

/** Tags a user may have in total (CN/1212/45941); also the most a TIMPush `Replace: 1` call takes per user (trtc.io/document/67821). */
export const MAX_TAGS_PER_USER = 100;

/** A tag is 1-50 bytes (EN/37173; 90034 "Tag length is greater than 50"). */
export const MAX_TAG_BYTES = 50;

/** Distinct tags in a whole app, TIMPush only (EN/60568, CN/269/100641); UNCONFIRMED for all_member_push. */
export const MAX_APP_TAGS = 1000;

/** account_check: "≤100/call", 100 calls/s (CN/269/38417, EN/34956). */
export const MAX_ACCOUNT_CHECK_ITEMS = 100;
export const ACCOUNT_CALLS_PER_SECOND = 100;

/** Pushes: "The interval between two pushes must be greater than one second" (EN/37166): at most one a second. */
export const PUSH_CALLS_PER_SECOND = 1;

/** all_member_push_statistics / _loss / _trace and revoke: 1 call/s (EN/71893-71895, EN/60571). */
export const REPORT_CALLS_PER_SECOND = 1;

/** all_member_push_statistics and _loss: at most 5 TaskIDs per request (EN/71894, EN/71895). */
export const MAX_STATS_TASKS = 5;

/** Revoke "within 24 h of the task start" (EN/60571). */
export const REVOKE_WINDOW_HOURS = 24;

/** timpush/batch: 1-500 accounts per call (trtc.io/document/67553; DELIVERY.md §1). */
export const MAX_LIST_PUSH_ACCOUNTS = 500;

/** timpush/batch's DataId: "limited to a maximum of 64 bytes" (EN/67553); 90057 beyond. */
export const MAX_DATA_ID_BYTES = 64;

/** The TIMPush editions, which set timpush/batch's rate (DELIVERY.md §1). */
export const PUSH_EDITIONS = ['free', 'standard', 'advanced'] as const;
export type PushEdition = (typeof PUSH_EDITIONS)[number];

/**
 * timpush/batch calls per second by edition: "The default free edition supports 10 times/s,
 * standard version 30 times/s, and advanced edition 40 times/s" (trtc.io/document/67553). A run
 * assumes the lowest unless the `pushEdition` setting says more.
 */
export const LIST_PUSH_CALLS_PER_SECOND: Readonly<Record<PushEdition, number>> = { free: 10, standard: 30, advanced: 40 };
/** The five `*_sched_task` endpoints: "5 requests per second" (DELIVERY.md §2; EN/78839-78843). */
export const SCHED_CALLS_PER_SECOND = 5;

/** A User-type scheduled task: `To_Account` "Array size range: [1, 500]" (EN/78839, DELIVERY.md §2). */
export const MAX_SCHED_USER_ACCOUNTS = 500;

/**
 * list_sched_task: BeginTime..EndTime may not exceed "the system's maximum number of days", which
 * no page gives (UNCONFIRMED, DELIVERY.md §2); the emulator allows 90, and so do we.
 */
export const SCHED_LIST_MAX_SPAN_DAYS = 90;

/** list_sched_task `Want`: the doc sample's 20 (CN/269/130281); its maximum is UNCONFIRMED. */
export const SCHED_LIST_PAGE_SIZE = 20;

/** all_member_push_loss: "supports up to 7 days" (EN/71895); all_member_push_trace: "within 7 days" (EN/71893). */
export const LOSS_MAX_SPAN_DAYS = 7;

/** The 90107 refusal of modify/delete_sched_task: "Only tasks with \"pending\" status can be …" (C2, EN/78840, EN/78841). */
export const SCHED_NOT_PENDING_CODE = 90107;
