/**
 * The types the emulator's endpoint modules share: one row of the endpoint table, the context a
 * handler works in, and a push task as the emulator records it.
 */
import type { Condition, PushFamily } from '../push/condition.js';
import { fail, type Answer } from './answer.js';
import { CODES } from './limits.js';
import type { EmulatorState } from './state.js';

/** A push the emulator accepted, as `GET /_emulator/pushes` lists it. */
export interface PushTask {
  TaskId: string;
  family: PushFamily;
  /** `push`: im_push or timpush/push (a Condition); `batch`: timpush/batch (a list of accounts). */
  kind: 'push' | 'batch';
  /** The Condition as sent; null when there was none. */
  condition: Condition | null;
  /** Every recipient account, in store order (a batch: request order, duplicates dropped). */
  recipients: string[];
  /** Unix milliseconds (the emulator's clock). */
  createdAt: number;
  msgRandom: number;
  /** The DataId the push carried, passed through to callback events (EN/67553). */
  dataId?: string;
  /** The sched task that fired this push (its integer TaskID). */
  schedTaskId?: number;
  /** Unix milliseconds of a successful TIMPush revoke. */
  revokedAt?: number;
}

/** What every handler may use. */
export interface EmulatorContext {
  state: EmulatorState;
  sdkAppId: number;
  /** The emulator's clock, Unix ms (EmulatorOptions.now plus any clock offset). */
  now: () => number;
  /** A change to persist (`--data`). */
  changed: () => void;
  /** Counts a batch for /_emulator/stats (accountsServed, largestBatch). */
  served: (batch: number, accounts: number) => void;
  /** Pushes a day per family. */
  pushQuota: number;
  /** Every accepted push of both families, oldest first. */
  tasks: PushTask[];
  /** Answer im_get_attr out of request order (EmulatorOptions.shuffle). */
  shuffle: <T>(list: T[]) => void;
  /** Called with every accepted TIMPush task (push, batch, fired sched task): sends its callbacks. */
  taskAccepted: (task: PushTask) => void;
}

/** A handler gets the request body (JSON nulls removed) and the raw body size. */
export type Handler = (body: Record<string, unknown>, rawBytes: number) => Answer;

/** An endpoint's limit on the accounts of one request field, checked before its handler runs. */
export interface AccountLimit {
  /** The array field holding the accounts (To_Account, UserAttrs, UserTags, CheckItem). */
  field: string;
  max: number;
  /** The answer when the array is longer than `max`. */
  tooMany: (count: number) => Answer;
}

/**
 * One row of the endpoint table: the whole endpoint. server.ts checks the envelope and the UserSig,
 * applies `callsPerSecond`, injects faults, logs, enforces `accounts` and `maxBodyBytes`, then
 * calls `handler`.
 */
export interface Endpoint {
  /** The request path, e.g. /v4/timpush/get_attr. */
  path: string;
  /**
   * The name the request log and /_emulator/stats use: the all_member_push commands by their bare
   * name (im_get_attr), the others as `<service>/<command>` (timpush/get_attr).
   */
  command: string;
  handler: Handler;
  /** The documented calls per second. */
  callsPerSecond: number;
  /**
   * The general --rate-limit replaces `callsPerSecond` (the 100/s limits, adjustable and paid on
   * Pro editions: PUSH-FAMILY.md Corrections §9); otherwise it can only lower it.
   */
  adjustable?: boolean;
  accounts?: AccountLimit;
  /** A larger body is refused with `code` before the handler runs. */
  maxBodyBytes?: { bytes: number; code: number };
}

const AMP_PREFIX = '/v4/all_member_push/';
const API_PREFIX = '/v4/';

/**
 * What the TIMPush handlers ask of its store: whether it knows an account (imported, or a
 * RegistrationID), the account's type (0 UserID, 1 RegistrationID), and a write's bookkeeping.
 */
export function timpushAccounts(ctx: EmulatorContext): {
  tp: EmulatorState['timpush'];
  known: (account: string) => boolean;
  accountType: (account: string) => 0 | 1;
  touched: () => void;
} {
  const tp = ctx.state.timpush;
  return {
    tp,
    known: (account) => ctx.state.isImported(account) || tp.registrationIds.has(account),
    accountType: (account) => (tp.registrationIds.has(account) ? 1 : 0),
    touched: () => {
      tp.touched = true;
      ctx.changed();
    },
  };
}

/** The name the log uses for `path` (see Endpoint.command). */
export function commandOf(path: string): string {
  return path.startsWith(AMP_PREFIX) ? path.slice(AMP_PREFIX.length) : path.slice(API_PREFIX.length);
}

/** One table row for `<service>/<command>` (e.g. 'timpush/get_attr'), answered by `handler`. */
export function row(name: string, handler: Handler, callsPerSecond: number, extra: Partial<Pick<Endpoint, 'adjustable' | 'accounts' | 'maxBodyBytes'>> = {}): Endpoint {
  const path = `${API_PREFIX}${name}`;
  return { path, command: commandOf(path), handler, callsPerSecond, ...extra };
}

/** An account limit answered with 90018 "too many accounts: n > max" (the tag, attribute and TIMPush pages). */
export function accountLimit(field: string, max: number, code: number = CODES.tooManyAccounts): AccountLimit {
  return { field, max, tooMany: (count) => fail(code, `too many accounts: ${count} > ${max}`) };
}
