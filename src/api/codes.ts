/**
 * What each API error code means and what the client does about it: the one retry/hint table.
 * Source: ../shared/reference/API.md sections 2 and 3 (Tencent docs 1047/34348 "Error codes",
 * 269/1671, and the all_member_push pages 1047/37165–37175). The API has no explicit "retryable"
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
  70014: { action: 'auth', meaning: 'the SDKAppID does not match the UserSig', hint: 'sign a UserSig for this SDKAppID: `im-attrs usersig gen`' },
  70016: { action: 'config', meaning: 'key not found for this SDKAppID', hint: 'check `region`: this SDKAppID probably lives in another data center' },
  70020: { action: 'config', meaning: 'SDKAppID not found', hint: 'check `region`: this SDKAppID probably lives in another data center' },
  70050: { action: 'auth', meaning: 'too many failed UserSig checks', hint: 'wait a minute before trying again, with a correct UserSig' },
  70107: { action: 'batch', meaning: 'account not imported' },
  70169: { action: 'retry', meaning: 'internal timeout' },
  70202: { action: 'retry', meaning: 'internal timeout' },
  70500: { action: 'retry', meaning: 'internal error' },
  90001: { action: 'batch', meaning: 'the request body is not valid JSON' },
  90009: { action: 'auth', meaning: 'the request needs app administrator permission', hint: 'set `identifier` to an administrator account' },
  90018: { action: 'batch', meaning: 'too many accounts in one request' },
  90033: { action: 'batch', meaning: 'invalid attribute', hint: 'list the app\'s attribute names with `im-attrs names`' },
  91000: { action: 'retry', meaning: 'internal service error' },
};

/** What we know about an error code; unknown codes fail their batch and say so. */
export function codeInfo(code: number): CodeInfo {
  return table[code] ?? { action: 'batch', meaning: 'unknown error code' };
}

/** All codes in the table, for the README and tests. */
export function knownCodes(): number[] {
  return Object.keys(table).map(Number);
}
