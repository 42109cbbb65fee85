/**
 * Authentication of Tencent's push-result callback (DELIVERY.md §5, trtc.io/document/34354): the
 * callback URL carries `Sign = sha256(Token + RequestTime)` (lowercase hex, no separator: test
 * vector C1) and `RequestTime` (Unix seconds) next to `SdkAppid`, `CallbackCommand` and
 * `contenttype`. The receiver recomputes the Sign with its own token, checks that RequestTime is
 * recent (a replayed URL is refused) and that SdkAppid is its own app (EN/67551: the receiver
 * "must check whether the SDKAppID contained in the request URL is consistent with its own").
 *
 * Nothing here prints, and no verdict carries the token or the expected Sign: a refusal says what
 * was wrong, never what would have been right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** `CallbackCommand` of the push-result callback (EN/67551: "Fixed as: Push.AllMemberPush"). */
export const PUSH_CALLBACK_COMMAND = 'Push.AllMemberPush';

/**
 * How far RequestTime may be from our clock, in seconds, by default. The Live copy of the webhook
 * page (CN/269/117703) says a RequestTime more than one minute off is invalid (replay
 * protection); the Chat copy does not say it (DELIVERY.md §5: UNCONFIRMED for Chat), so it is a
 * default (`--max-skew`), not a constant.
 */
export const DEFAULT_MAX_SKEW_SECONDS = 60;

/** A Sign is SHA-256 in hex: 64 characters. */
const SIGN_HEX_LENGTH = 64;

/**
 * The shortest token accepted. Shorter values could not be redacted from output either (redact.ts
 * MIN_SECRET_LENGTH), and a short token can be guessed from a single captured URL: its Sign is a
 * plain SHA-256 of token and time.
 */
export const MIN_TOKEN_LENGTH = 8;

/** The Sign Tencent puts in the callback URL for this token and RequestTime (lowercase hex). */
export function callbackSign(token: string, requestTime: string): string {
  return createHash('sha256').update(token, 'utf8').update(requestTime, 'utf8').digest('hex');
}

/** Why a callback URL is refused (the key of the listener's refusal counts). */
export type SignatureProblem = 'missing-sign' | 'bad-sign' | 'bad-time' | 'stale-time' | 'wrong-app';

export interface SignatureCheck {
  ok: boolean;
  /** Set when ok is false. */
  problem?: SignatureProblem;
  /** One sentence for people: what is wrong (or right), without the token or the expected Sign. */
  detail: string;
  /** RequestTime as a number, when it is one. */
  requestTime?: number;
  /** Our clock minus RequestTime, in seconds (positive: the request is from the past). */
  ageSeconds?: number;
}

/** Whether `given` is the Sign for `token` and `requestTime`, in constant time. */
export function signMatches(token: string, requestTime: string, given: string): boolean {
  if (given.length !== SIGN_HEX_LENGTH || !/^[0-9a-fA-F]+$/.test(given)) return false;
  const expected = Buffer.from(callbackSign(token, requestTime), 'hex');
  // Compared as bytes, so an upper-case hex Sign is the same Sign; timingSafeEqual leaks nothing
  // about how many leading bytes matched.
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

/**
 * "95 s in the past: clocks differ or a replay", "3 s in the future": how far RequestTime is from
 * our clock, said so that the likely cause is named.
 */
export function describeSkew(ageSeconds: number): string {
  if (ageSeconds >= 0) return `${ageSeconds} s in the past: clocks differ or a replay`;
  return `${-ageSeconds} s in the future: clocks differ (check NTP on this machine)`;
}

/**
 * Checks the Sign and RequestTime of a callback URL's query. The Sign first: a request that is not
 * Tencent's learns nothing about our clock or app. `nowMs` is our clock (injected, as everywhere).
 */
export function checkSignature(query: URLSearchParams, token: string, nowMs: number, maxSkewSeconds: number): SignatureCheck {
  const sign = query.get('Sign');
  const time = query.get('RequestTime');
  if (sign === null || sign === '' || time === null || time === '') {
    const missing = [sign ? undefined : 'Sign', time ? undefined : 'RequestTime'].filter(Boolean).join(' and ');
    return { ok: false, problem: 'missing-sign', detail: `the URL has no ${missing}: is callback authentication on in the Chat console?` };
  }
  if (!signMatches(token, time, sign)) {
    return { ok: false, problem: 'bad-sign', detail: 'Sign does not match the token and RequestTime: another token, or a forged or altered URL' };
  }
  const timeCheck = checkRequestTime(time, nowMs, maxSkewSeconds);
  return timeCheck.ok ? { ...timeCheck, detail: 'Sign matches the token and RequestTime' } : timeCheck;
}

/** Whether RequestTime is a Unix time within `maxSkewSeconds` of our clock (either way). */
export function checkRequestTime(time: string, nowMs: number, maxSkewSeconds: number): SignatureCheck {
  if (!/^[0-9]{1,12}$/.test(time)) {
    return { ok: false, problem: 'bad-time', detail: 'RequestTime is not a Unix time in seconds' };
  }
  const requestTime = Number(time);
  const ageSeconds = Math.floor(nowMs / 1000) - requestTime;
  if (Math.abs(ageSeconds) > maxSkewSeconds) {
    return { ok: false, problem: 'stale-time', detail: `RequestTime is ${describeSkew(ageSeconds)} (at most ${maxSkewSeconds} s allowed)`, requestTime, ageSeconds };
  }
  return { ok: true, detail: `RequestTime is ${describeSkew(ageSeconds).replace(/:.*/, '')}, within ${maxSkewSeconds} s`, requestTime, ageSeconds };
}

/** How much of a foreign SdkAppid a refusal repeats (the value is the sender's, not ours). */
const MAX_SHOWN_APP_ID = 20;

/** Checks the URL's SdkAppid against the app's own (a callback for another app is refused). */
export function checkSdkAppId(query: URLSearchParams, sdkAppId: number): SignatureCheck {
  const given = query.get('SdkAppid');
  if (given === null || given.trim() === '') return { ok: false, problem: 'wrong-app', detail: `the URL has no SdkAppid (this app is ${sdkAppId})` };
  if (given.trim() !== String(sdkAppId)) return { ok: false, problem: 'wrong-app', detail: `SdkAppid ${JSON.stringify(given.slice(0, MAX_SHOWN_APP_ID))} is not this app (${sdkAppId})` };
  return { ok: true, detail: `SdkAppid ${sdkAppId} is this app` };
}
