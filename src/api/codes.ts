/**
 * What each API error code means and what the client does about it: the one retry/hint table.
 * Source: ../shared/reference/API.md sections 2 and 3 (Tencent docs 1047/34348 "Error codes",
 * 269/1671, and the all_member_push pages 1047/37165–37175), and PUSH-FAMILY.md (the tag, push
 * and TIMPush pages; "Corrections to API.md" 6 lists the codes API.md lacks). Which endpoint
 * documents which code is on each operation descriptor (`codes`). The API has no explicit "retryable"
 * flag; this split is our reading of the documentation's "try again" wording.
 */

/**
 * - `retry`: transient; try the same request again after a back-off.
 * - `throttle`: rate limited; back off AND slow the pacer down.
 * - `renew`: the UserSig expired; sign a new one when a secret key is available, else `auth`.
 * - `auth`: credentials are wrong; stop the run (exit 4).
 * - `config`: the app, region or endpoint is wrong; stop the run (exit 3).
 * - `fatal`: the request itself can never succeed and neither will the next ones; stop (exit 1).
 * - `batch`: this request failed for reasons of its own (bad attribute, too many accounts); its
 *   accounts fail, the run goes on.
 */
export type CodeAction = 'retry' | 'throttle' | 'renew' | 'auth' | 'config' | 'fatal' | 'batch';

export interface CodeInfo {
  action: CodeAction;
  meaning: string;
  hint?: string;
}

const table: Record<number, CodeInfo> = {
  60002: { action: 'fatal', meaning: 'HTTP parse error (bad URL)', hint: 'check `endpoint`: it must be the API origin without a path' },
  60003: { action: 'batch', meaning: 'request JSON could not be parsed' },
  60004: { action: 'auth', meaning: 'the account or signature in the URL is wrong', hint: 'check `identifier` and `userSig`' },
  60005: { action: 'auth', meaning: 'the account or signature in the URL is wrong', hint: 'check `identifier` and `userSig`' },
  60006: { action: 'config', meaning: 'SDKAppID is invalid', hint: 'check `sdkAppId` against the Chat console' },
  60007: { action: 'throttle', meaning: 'REST API call frequency over the limit' },
  60008: { action: 'retry', meaning: 'service timeout' },
  60010: { action: 'auth', meaning: 'the identifier is not an app administrator', hint: 'set `identifier` to an administrator account (Chat console → Account Management)' },
  60011: { action: 'throttle', meaning: 'SDKAppID request frequency over the limit' },
  60012: { action: 'config', meaning: 'SDKAppID missing from the request', hint: 'set `sdkAppId`' },
  60014: { action: 'retry', meaning: 'account switch timeout' },
  60016: { action: 'config', meaning: 'this SDKAppID is disabled', hint: 'check the app status in the Chat console' },
  60017: { action: 'fatal', meaning: 'the request is disabled for this app', hint: 'check the app edition: push to all users needs Pro, Pro Plus or Enterprise' },
  60018: { action: 'throttle', meaning: 'requests too frequent' },
  60019: { action: 'throttle', meaning: 'requests too frequent' },
  60020: { action: 'config', meaning: 'the paid package has expired', hint: 'renew the app\'s package in the Chat console' },
  60021: { action: 'config', meaning: 'the caller IP is not allowed', hint: 'add this machine\'s IP to the app\'s allow list in the Chat console' },
  70001: { action: 'renew', meaning: 'UserSig expired', hint: 'set `secretKey` so im-attrs signs for you, or run `im-attrs usersig gen` for a new one' },
  70052: { action: 'renew', meaning: 'UserSig invalidated', hint: 'set `secretKey` so im-attrs signs for you, or run `im-attrs usersig gen` for a new one' },
  70002: { action: 'auth', meaning: 'UserSig is empty', hint: 'set `userSig`, or `secretKey` so im-attrs signs for you' },
  70003: { action: 'auth', meaning: 'UserSig is invalid', hint: 'run `im-attrs usersig inspect` to see what it holds' },
  70005: { action: 'auth', meaning: 'UserSig is truncated or invalid', hint: 'copy the whole UserSig again, or set `secretKey`' },
  70009: { action: 'auth', meaning: 'UserSig verification failed (wrong secret key or app)', hint: 'the UserSig was signed with another key: check `secretKey` for this SDKAppID' },
  70013: { action: 'auth', meaning: 'the identifier does not match the UserSig', hint: 'sign a UserSig for this identifier: `im-attrs usersig gen`' },
  70014: {
    action: 'auth',
    meaning: 'the SDKAppID does not match the UserSig',
    hint: 'check `sdkAppId` (--sdkappid, IMADMIN_SDKAPPID or .imadminrc): it must be the SDKAppID of the app whose secret key signs (Chat console → Applications)',
  },
  70016: { action: 'config', meaning: 'key not found for this SDKAppID', hint: 'check `region`: this SDKAppID probably lives in another data center' },
  70020: { action: 'config', meaning: 'SDKAppID not found', hint: 'check `region`: this SDKAppID probably lives in another data center' },
  70050: { action: 'auth', meaning: 'too many failed UserSig checks', hint: 'wait a minute before trying again, with a correct UserSig' },
  70107: { action: 'batch', meaning: 'account not imported' },
  70169: { action: 'retry', meaning: 'internal timeout' },
  70202: { action: 'retry', meaning: 'internal timeout' },
  70500: { action: 'retry', meaning: 'internal error' },
  90001: { action: 'batch', meaning: 'the request body is not valid JSON' },
  90009: { action: 'auth', meaning: 'the request needs app administrator permission', hint: 'set `identifier` to an administrator account' },
  90002: { action: 'batch', meaning: 'MsgBody is not in the documented message format' },
  90005: { action: 'batch', meaning: 'MsgRandom is missing or not an integer' },
  90007: { action: 'batch', meaning: 'MsgBody is not an array' },
  90010: { action: 'batch', meaning: 'the message is not in the documented format' },
  90018: { action: 'batch', meaning: 'too many accounts in one request' },
  90020: { action: 'batch', meaning: 'a tag is longer than 50 bytes' },
  90022: { action: 'batch', meaning: 'the same tag is listed twice in the push condition (TagsOr, TagsAnd, TagsNot)' },
  90024: { action: 'throttle', meaning: 'pushes less than a second apart', hint: 'leave more than one second between pushes' },
  90026: { action: 'batch', meaning: 'MsgLifeTime is longer than 7 days (604800 s)' },
  90030: { action: 'batch', meaning: 'an attribute value is empty or longer than 50 bytes' },
  90032: { action: 'batch', meaning: 'too many tags (more than 10 in one condition or add request)' },
  90033: { action: 'batch', meaning: 'invalid attribute', hint: 'list the app\'s attribute names with `im-attrs names`' },
  90034: { action: 'batch', meaning: 'a tag is longer than 50 bytes' },
  90035: { action: 'batch', meaning: 'the attribute or tag belongs to another account type (UserID vs RegistrationID)' },
  90039: { action: 'batch', meaning: 'attribute and tag conditions cannot be mixed in one push' },
  90040: { action: 'batch', meaning: 'an empty tag in the push condition' },
  90044: { action: 'batch', meaning: 'MsgLifeTime is not an integer' },
  90045: {
    action: 'config',
    meaning: 'push to all users is not enabled for this app (or not in this API family)',
    hint:
      'enable "Push to all users" in the Chat console (Pro, Pro Plus or Enterprise edition; older apps: a configuration change ticket, ' +
      'enabled up to 48 h after approval), or try the other API family: --api timpush / --api all_member_push (`im-attrs doctor` tells which one answers)',
  },
  90047: { action: 'fatal', meaning: 'the daily push quota is used up', hint: 'the quota (100 pushes a day by default, 10 on TIMPush Free) resets daily; more can be bought in the console' },
  90048: { action: 'batch', meaning: 'the requested UserID does not exist' },
  90049: { action: 'batch', meaning: 'invalid TaskId' },
  90050: { action: 'batch', meaning: 'the push was already recalled' },
  90051: { action: 'throttle', meaning: 'more than one recall a second' },
  90052: { action: 'batch', meaning: 'the push started more than 24 hours ago and can no longer be recalled' },
  90053: { action: 'batch', meaning: 'a recall of an offline push needs OfflinePushInfo' },
  90056: { action: 'batch', meaning: 'the request body is larger than 10 KB' },
  90057: { action: 'batch', meaning: 'DataId is longer than 64 bytes' },
  91000: { action: 'retry', meaning: 'internal service error' },
};

/** The meaning of a code the table does not have. */
export const UNKNOWN_MEANING = 'unknown error code';

/** What we know about an error code; unknown codes fail their batch and say so. */
export function codeInfo(code: number): CodeInfo {
  return table[code] ?? { action: 'batch', meaning: UNKNOWN_MEANING };
}
