/**
 * The body of a push-result callback (`Push.AllMemberPush`, DELIVERY.md §5, EN/67551; sample F17):
 * `{"Events":[…]}` with 1 to 100 events. What an event must hold is kept to what the summary
 * needs, because a refused callback is a lost one: `To_Account` (a string) and `PushStage` (1 sent,
 * 2 reached, 3 clicked). `TaskId` and `DataId` (strings) and `EventType`, `EventTime`,
 * `PushPlatform` (integers) are checked when present; app authors meet callbacks without `TaskId`,
 * `DataId` or `DeviceType` and with a null `ErrInfo` (DELIVERY.md "Rules for the emulator"), so
 * none of these is required. Every other field is kept as it came.
 */

/** Events in one callback (EN/67551: "The length of the events array ranges from 1 to 100"). */
export const MAX_EVENTS_PER_REQUEST = 100;

/** PushStage (EN/67551): 1 push sent, 2 push reached, 3 push clicked. */
export const PUSH_STAGES = ['sent', 'reached', 'clicked'] as const;
export type PushStageName = (typeof PUSH_STAGES)[number];

/**
 * PushPlatform by number (EN/67551): 0 unknown vendor, 1 Apple APNs, 2 Xiaomi, 3 Huawei, 4 Google
 * FCM, 5 Meizu, 6 OPPO, 7 vivo, 8 Honor. A number beyond the table is shown as itself.
 */
export const PUSH_PLATFORMS: readonly string[] = ['unknown', 'APNs', 'Xiaomi', 'Huawei', 'FCM', 'Meizu', 'OPPO', 'vivo', 'Honor'];

/** The platform's name, or "platform N" for a number the doc does not list. */
export function platformName(platform: number): string {
  return PUSH_PLATFORMS[platform] ?? `platform ${platform}`;
}

/** One event as the callback sends it (the fields the summary reads; others are kept). */
export interface PushEvent {
  To_Account: string;
  PushStage: 1 | 2 | 3;
  TaskId?: string | null;
  DataId?: string | null;
  EventType?: number;
  EventTime?: number;
  PushPlatform?: number;
  [field: string]: unknown;
}

export type ParsedBody = { ok: true; events: PushEvent[] } | { ok: false; detail: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why an event is not one, or undefined when it is. `at` is its index, for the message. */
export function eventProblem(event: unknown, at: number): string | undefined {
  const where = `Events[${at}]`;
  if (!isObject(event)) return `${where} is not an object`;
  if (typeof event.To_Account !== 'string' || event.To_Account === '') return `${where} has no To_Account (a non-empty string)`;
  if (event.PushStage !== 1 && event.PushStage !== 2 && event.PushStage !== 3) return `${where}: PushStage must be 1 (sent), 2 (reached) or 3 (clicked)`;
  for (const field of ['TaskId', 'DataId'] as const) {
    const value = event[field];
    if (value !== undefined && value !== null && typeof value !== 'string') return `${where}: ${field} must be a string`;
  }
  for (const field of ['EventType', 'EventTime', 'PushPlatform'] as const) {
    const value = event[field];
    if (value !== undefined && value !== null && !(Number.isSafeInteger(value) && (value as number) >= 0)) return `${where}: ${field} must be a whole number`;
  }
  return undefined;
}

/** Parses and checks a callback body: `{"Events":[…]}` with 1 to MAX_EVENTS_PER_REQUEST valid events. */
export function parseEventsBody(body: Buffer | string): ParsedBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return { ok: false, detail: 'the body is not JSON' };
  }
  if (!isObject(parsed)) return { ok: false, detail: 'the body is not a JSON object' };
  const events = parsed.Events;
  if (!Array.isArray(events)) return { ok: false, detail: 'the body has no Events array' };
  if (events.length === 0 || events.length > MAX_EVENTS_PER_REQUEST) {
    return { ok: false, detail: `Events holds ${events.length} events; a callback carries 1 to ${MAX_EVENTS_PER_REQUEST}` };
  }
  for (let i = 0; i < events.length; i++) {
    const problem = eventProblem(events[i], i);
    if (problem !== undefined) return { ok: false, detail: problem };
  }
  return { ok: true, events: events as PushEvent[] };
}
