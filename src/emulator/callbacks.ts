/**
 * Push-result callbacks (DELIVERY.md §5; EN/67551, trtc.io/document/34354): after every accepted
 * TIMPush task (push, batch, fired sched task) the emulator POSTs `Push.AllMemberPush` events for
 * its recipients to EmulatorOptions.callbackUrl, at most 100 events a request, signed with the
 * callback token: `?SdkAppid=…&CallbackCommand=Push.AllMemberPush&contenttype=json&Sign=…&RequestTime=…`,
 * Sign = lowercase hex sha256(token + RequestTime) (C1). The events come from delivery.ts, the
 * source of the statistics, loss and trace answers: for each recipient a "sent" event (PushStage
 * 1; ErrCode 0 "OK", or the reason it was not sent, e.g. -2 "token not uploaded"), a "reached"
 * event (2) when it arrived and a "clicked" event (3) when it was clicked.
 *
 * Delivery: at most 8 requests in flight, never in the way of the API's answers. A request is
 * acknowledged only by HTTP 200 with `{"ErrorCode":0}`; anything else, or no answer within 2 s
 * (Tencent's webhook timeout), is re-sent up to `callbackRetries` times with a doubling back-off,
 * then given up. `callbackDuplicateFraction` of the acknowledged requests are sent once more, as
 * Tencent's retries do: a receiver must deduplicate.
 *
 * Choices where the documentation is silent: RequestTime is the emulator's clock (a moved clock
 * moves it, so a receiver checking a replay window must use the same clock); without a token no
 * Sign or RequestTime is sent; im_push tasks send no callbacks (UNCONFIRMED, PUSH-FAMILY.md §2.3);
 * TaskTime is the task's time and EventTime adds delivery.ts's per-stage seconds.
 */
import http from 'node:http';
import https from 'node:https';
import { callbackSign } from '../events/sign.js';
import type { PushTask } from './context.js';
import { CLICKED_AFTER_S, deliveryOf, REACHED_AFTER_S, SENT_AFTER_S, type Delivery } from './delivery.js';
import type { EmulatorState } from './state.js';

/** "The length of the events array ranges from 1 to 100" (EN/67551). */
export const MAX_EVENTS_PER_CALLBACK = 100;
/** The webhook timeout "is two seconds" (trtc.io/document/34354). */
export const CALLBACK_TIMEOUT_MS = 2000;
/** Re-sends of a request that failed or timed out, by default. */
export const DEFAULT_CALLBACK_RETRIES = 5;
/** The first back-off; each re-send waits twice the one before. */
export const DEFAULT_CALLBACK_RETRY_BASE_MS = 200;
/** Requests in flight at once: the emulator paces itself rather than flood a test's receiver. */
export const MAX_CALLBACKS_IN_FLIGHT = 8;
/** At most this many events are kept in `log` (oldest dropped); the counts stay exact. */
export const CALLBACK_LOG_LIMIT = 200_000;
export const CALLBACK_COMMAND = 'Push.AllMemberPush';

/** 1 sent, 2 reached, 3 clicked (EN/67551). */
export type PushStage = 1 | 2 | 3;

/** One event as sent (F17). */
export interface CallbackEvent {
  CallbackCommand: typeof CALLBACK_COMMAND;
  EventType: number;
  TaskId: string;
  DataId?: string;
  TaskTime: number;
  EventTime: number;
  To_Account: string;
  PushPlatform: number;
  DeviceType: number;
  PushStage: PushStage;
  ErrCode: number;
  ErrInfo: string;
}

/** What happened to one event. */
export interface CallbackLogEntry {
  TaskId: string;
  To_Account: string;
  PushStage: PushStage;
  /** Whether a request carrying it was acknowledged. */
  acknowledged: boolean;
  /** Requests that carried it: attempts plus a duplicate. */
  sends: number;
}

/** Counts of GET /_emulator/callbacks, in events except `requests`. */
export interface CallbackCounts {
  /** Events generated. */
  events: number;
  /** HTTP requests made: first attempts, re-sends and duplicates. */
  requests: number;
  /** Events in an acknowledged request. */
  acknowledged: number;
  /** Events given up after every re-send failed. */
  failed: number;
  /** Events sent again after they were acknowledged. */
  duplicates: number;
}

/** The callbacks side as the Emulator object shows it. */
export interface Callbacks extends CallbackCounts {
  log: CallbackLogEntry[];
}

export interface CallbackOptions {
  url: string;
  /** The callback token; never logged or shown. */
  token: string | undefined;
  sdkAppId: number;
  state: EmulatorState;
  now: () => number;
  retries: number;
  retryBaseMs: number;
  duplicateFraction: number;
  random: () => number;
}


/** The events of one recipient's delivery. */
function eventsOf(task: PushTask, d: Delivery): CallbackEvent[] {
  const taskTime = Math.floor(task.createdAt / 1000);
  const event = (stage: PushStage, after: number, errCode = 0, errInfo = 'OK'): CallbackEvent => ({
    CallbackCommand: CALLBACK_COMMAND,
    EventType: d.eventType,
    TaskId: task.TaskId,
    ...(task.dataId === undefined ? {} : { DataId: task.dataId }),
    TaskTime: taskTime,
    EventTime: taskTime + after,
    To_Account: d.account,
    PushPlatform: d.pushPlatform,
    DeviceType: d.devicePlatform,
    PushStage: stage,
    ErrCode: errCode,
    ErrInfo: errInfo,
  });
  const out = [d.readyLoss ? event(1, SENT_AFTER_S, Number(d.readyLoss.code), d.readyLoss.info) : event(1, SENT_AFTER_S)];
  if (d.reached) out.push(event(2, REACHED_AFTER_S));
  if (d.clicked) out.push(event(3, CLICKED_AFTER_S));
  return out;
}

/** A task's events not yet cut into requests: recipients are read lazily, so 20,000 cost nothing queued. */
interface Cursor {
  task: PushTask;
  next: number;
  pending: CallbackEvent[];
}

/** Sends the callbacks; `enqueue` never blocks. */
export class CallbackSender {
  readonly counts: CallbackCounts = { events: 0, requests: 0, acknowledged: 0, failed: 0, duplicates: 0 };
  readonly log: CallbackLogEntry[] = [];
  private readonly queue: Cursor[] = [];
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<http.ClientRequest>();
  private closed = false;

  constructor(private readonly options: CallbackOptions) {}

  /** Queues a task's events. */
  enqueue(task: PushTask): void {
    if (this.closed || task.recipients.length === 0) return;
    this.queue.push({ task, next: 0, pending: [] });
    this.pump();
  }

  /** Resolves once every event is acknowledged or given up (duplicates sent too). */
  settle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops: nothing more is sent; settle() resolves. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    this.inFlight = 0;
    this.wake();
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  private wake(): void {
    if (!this.idle() && !this.closed) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The next request's events (at most 100), from the head of the queue. */
  private nextChunk(): CallbackEvent[] | undefined {
    while (this.queue.length > 0) {
      const cursor = this.queue[0]!;
      const { recipients } = cursor.task;
      while (cursor.pending.length < MAX_EVENTS_PER_CALLBACK && cursor.next < recipients.length) {
        cursor.pending.push(...eventsOf(cursor.task, deliveryOf(this.options.state, recipients[cursor.next++]!)));
      }
      if (cursor.next >= recipients.length) {
        if (cursor.pending.length <= MAX_EVENTS_PER_CALLBACK) this.queue.shift();
        if (cursor.pending.length === 0) continue;
      }
      return cursor.pending.splice(0, MAX_EVENTS_PER_CALLBACK);
    }
    return undefined;
  }

  private pump(): void {
    while (!this.closed && this.inFlight < MAX_CALLBACKS_IN_FLIGHT) {
      const events = this.nextChunk();
      if (!events) break;
      const entries = events.map((e): CallbackLogEntry => ({ TaskId: e.TaskId, To_Account: e.To_Account, PushStage: e.PushStage, acknowledged: false, sends: 0 }));
      this.counts.events += events.length;
      for (const entry of entries) this.log.push(entry);
      if (this.log.length > CALLBACK_LOG_LIMIT) this.log.splice(0, this.log.length - CALLBACK_LOG_LIMIT);
      this.inFlight++;
      void this.deliver(JSON.stringify({ Events: events }), entries).finally(() => {
        if (this.closed) return;
        this.inFlight--;
        this.pump();
        this.wake();
      });
    }
  }

  /** Sends one request until acknowledged or out of re-sends; then maybe a duplicate. */
  private async deliver(body: string, entries: CallbackLogEntry[]): Promise<void> {
    const { retries, retryBaseMs, duplicateFraction, random } = this.options;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await this.sleep(retryBaseMs * 2 ** (attempt - 1));
      if (this.closed) return;
      for (const entry of entries) entry.sends++;
      if (await this.post(body)) {
        for (const entry of entries) entry.acknowledged = true;
        this.counts.acknowledged += entries.length;
        if (duplicateFraction > 0 && random() < duplicateFraction) {
          for (const entry of entries) entry.sends++;
          this.counts.duplicates += entries.length;
          await this.post(body);
        }
        return;
      }
    }
    this.counts.failed += entries.length;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** One POST; true when acknowledged (HTTP 200, `{"ErrorCode":0}`). */
  private post(body: string): Promise<boolean> {
    const { url, token, sdkAppId, now } = this.options;
    const target = new URL(url);
    target.searchParams.set('SdkAppid', String(sdkAppId));
    target.searchParams.set('CallbackCommand', CALLBACK_COMMAND);
    target.searchParams.set('contenttype', 'json');
    if (token !== undefined) {
      const requestTime = Math.floor(now() / 1000);
      target.searchParams.set('Sign', callbackSign(token, String(requestTime)));
      target.searchParams.set('RequestTime', String(requestTime));
    }
    this.counts.requests++;
    return new Promise((resolve) => {
      const client = target.protocol === 'https:' ? https : http;
      const request = client.request(target, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }, timeout: CALLBACK_TIMEOUT_MS });
      this.requests.add(request);
      const done = (acknowledged: boolean): void => {
        this.requests.delete(request);
        resolve(acknowledged);
      };
      request.on('timeout', () => request.destroy());
      request.on('error', () => done(false));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', () => done(false));
        response.on('end', () => {
          if (response.statusCode !== 200) return done(false);
          try {
            const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ErrorCode?: unknown };
            done(answer.ErrorCode === 0);
          } catch {
            done(false);
          }
        });
      });
      request.end(body);
    });
  }
}
