/**
 * What happens to a push at each recipient's device, decided once, deterministically, from the
 * account: its platform, whether it is online, whether its token or certificate is missing, and
 * whether the push is sent, reached and clicked. Statistics, loss, trace (reports.ts) and the
 * push-result callbacks (callbacks.ts) all read THIS, so they can never disagree.
 *
 * The rules, by the account's number n (its seed number for user000001…, else a hash of its ID):
 * - the device's vendor: PushPlatform (n mod 8) + 1, i.e. 1 APNs … 8 Honor (EN/67551's list);
 * - every 4th device is online: an online push (EventType 2, PushPlatform 0, as F17's second event),
 *   always reached, never clicked (clicks are counted on notifications: ClickStat is under
 *   OfflinePushStat in C4);
 * - offline devices (EventType 1): every 7th has no token uploaded ("-2" "token not uploaded"),
 *   else every 11th has no certificate ID ("-1" "Certificate id not set") (F15's ReadyToSendLoss);
 *   these are never sent;
 * - of the sent offline pushes every 13th is lost after sending: APNs "410" "Unregistered", any
 *   other vendor "1" "regid_invalid" (F15's PostSendDeliveredLoss);
 * - of the reached offline pushes every 5th is clicked.
 */
import type { PushTask } from './context.js';
import type { EmulatorState } from './state.js';

/** EN/67551: 1 = Apple APNs … 8 = Honor push; 0 = unknown vendor (online pushes). */
const PLATFORMS = 8;
const APNS = 1;
const ONLINE_EVERY = 4;
const NO_TOKEN_EVERY = 7;
const NO_CERT_EVERY = 11;
const LOST_AFTER_SEND_EVERY = 13;
const CLICKED_EVERY = 5;

/** Seconds after the task's time at which each stage happens (C4's sample: pushed 16:16:27, stats 16:16:29). */
export const SENT_AFTER_S = 2;
export const REACHED_AFTER_S = 3;
export const CLICKED_AFTER_S = 60;

/** A loss reason: ErrCode is a string in F15. */
export interface Loss {
  code: string;
  info: string;
}

export const NO_TOKEN: Loss = { code: '-2', info: 'token not uploaded' };
export const NO_CERTIFICATE: Loss = { code: '-1', info: 'Certificate id not set' };

/** One recipient's device and what the push does there. */
export interface Delivery {
  account: string;
  /** The number the rules read. */
  n: number;
  /** 1 offline push, 2 online push (EN/67551). */
  eventType: 1 | 2;
  /** The vendor channel of the push: 1–8, or 0 for an online push. */
  pushPlatform: number;
  /** The device's vendor, 1–8, whatever the channel. */
  devicePlatform: number;
  /** '' when no token was uploaded. */
  token: string;
  /** '0' when no certificate ID is set (normal_push_trace's sample shows "CertId": "0"). */
  certId: string;
  /** Why it was not sent (offline only). */
  readyLoss?: Loss;
  /** Why it did not arrive after sending (offline only). */
  postLoss?: Loss;
  sent: boolean;
  reached: boolean;
  clicked: boolean;
}

/** FNV-1a, 32 bits: a stable number for an account that is not a seeded one. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The delivery of a push to `account` (see the header for the rules). */
export function deliveryOf(state: EmulatorState, account: string): Delivery {
  const n = state.seedIndex(account) || hash(account);
  const devicePlatform = (n % PLATFORMS) + 1;
  const token = `token-${n.toString(16)}`;
  const certId = String(1000 + devicePlatform);
  if (n % ONLINE_EVERY === 0) {
    return { account, n, eventType: 2, pushPlatform: 0, devicePlatform, token, certId, sent: true, reached: true, clicked: false };
  }
  const base = { account, n, eventType: 1 as const, pushPlatform: devicePlatform, devicePlatform };
  if (n % NO_TOKEN_EVERY === 0) return { ...base, token: '', certId, readyLoss: NO_TOKEN, sent: false, reached: false, clicked: false };
  if (n % NO_CERT_EVERY === 0) return { ...base, token, certId: '0', readyLoss: NO_CERTIFICATE, sent: false, reached: false, clicked: false };
  if (n % LOST_AFTER_SEND_EVERY === 0) {
    const postLoss = devicePlatform === APNS ? { code: '410', info: 'Unregistered' } : { code: '1', info: 'regid_invalid' };
    return { ...base, token, certId, postLoss, sent: true, reached: false, clicked: false };
  }
  return { ...base, token, certId, sent: true, reached: true, clicked: n % CLICKED_EVERY === 0 };
}

/** Every recipient's delivery for a task. */
export function deliveriesOf(state: EmulatorState, task: PushTask): Delivery[] {
  return task.recipients.map((account) => deliveryOf(state, account));
}
