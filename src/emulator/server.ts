/**
 * A local emulator of the Chat REST API's push commands: a real HTTP server (node:http) that
 * checks the envelope like Tencent does, answers in Tencent's shapes, and can be made slow,
 * rate-limited and faulty on purpose, so that the CLI, the demo, the tests and the benchmark all
 * run offline against something real.
 *
 * Every endpoint is one row of the endpoint table (endpoints.ts; the rows live with their
 * handlers in attrs.ts, tags.ts, push.ts, schedule.ts, reports.ts, accounts.ts). This file is the
 * one dispatch path every request takes: route by path, rate limit (the row's calls per second),
 * injected faults, envelope and UserSig checks, the JSON body (nulls read as absent), the row's
 * body-size and account limits, then the row's handler; every request is logged.
 *
 * Choices where the documentation is silent are listed in each area's module; here:
 * - rate-limited calls are answered with 60007 and are not served;
 * - the emulator's clock (EmulatorOptions.now plus an offset that POST /_emulator/clock, the
 *   --clock-offset flag or Emulator.advanceClock move) drives UserSig expiry, the rate limiter,
 *   push spacing, the daily quota, revoke windows and sched tasks, which fire when the clock
 *   passes their SchedAt: checked on every request and every clock move, no timers.
 *
 * Pages for tests and scripts (GET unless said): /_emulator/stats, /_emulator/requests (UserSig
 * redacted), /_emulator/pushes (every accepted push with its recipients), /_emulator/callbacks
 * (callback counts), /_emulator/clock (GET, or POST {"advanceMs": n} / {"offsetMs": n}).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from '../usersig.js';
import { CallbackSender, DEFAULT_CALLBACK_RETRIES, DEFAULT_CALLBACK_RETRY_BASE_MS, type CallbackCounts, type Callbacks } from './callbacks.js';
import { fail, isPlainObject, withoutNulls, type Answer } from './answer.js';
import { commandOf, type Endpoint, type PushTask } from './context.js';
import { createEndpointTable } from './endpoints.js';
import { CODES, DEFAULT_PUSH_EDITION, DEFAULT_PUSH_QUOTA, MAX_REQUEST_BODY_BYTES, REST_CALLS_PER_SECOND, type PushEdition } from './limits.js';
import type { SchedTask } from './schedule.js';
import { seededRandom } from './random.js';
import { DEFAULT_ATTR_NAMES, EmulatorState } from './state.js';

export type { PushTask } from './context.js';
export type { PushEdition } from './limits.js';
export type { SchedTask } from './schedule.js';
export type { CallbackCounts, CallbackLogEntry, Callbacks } from './callbacks.js';

export const DEFAULT_EMULATOR_SDKAPPID = 1400000000;
export const DEFAULT_EMULATOR_IDENTIFIER = 'administrator';
/** The documented limit of every all_member_push command (API.md section 2). */
export const DEFAULT_EMULATOR_RATE_LIMIT = REST_CALLS_PER_SECOND;
const AMP_PREFIX = '/v4/all_member_push/';
/** How long after the last change a `--data` file is written. */
const SAVE_DELAY_MS = 200;
const KEEP_ALIVE_MS = 30_000;

export type EnvelopeMode = 'strict' | 'loose';

export type FaultKind = 'http502' | 'http503' | 'reset' | 'timeout' | 'garbage' | `code:${number}`;

export interface Fault {
  kind: FaultKind;
  /** Probability per request, 0..1. */
  fraction: number;
}

export interface EmulatorOptions {
  host?: string;
  port?: number;
  sdkAppId?: number;
  identifier?: string;
  /** When set, every UserSig is verified with it exactly as Tencent does. */
  secretKey?: string | undefined;
  dataFile?: string | undefined;
  seedUsers?: number;
  attrNames?: Record<string, string>;
  latencyMs?: number;
  jitterMs?: number;
  /**
   * Calls per second of every endpoint documented at 100/s (it replaces that limit); the
   * endpoints with lower documented limits (reports 1/s, sched tasks 5/s, batch by edition) keep
   * theirs unless this is lower. 0 turns every limit off.
   */
  rateLimit?: number;
  faults?: Fault[];
  faultSeed?: number;
  /** Answer im_get_attr out of request order, as the real API does. Default true. */
  shuffle?: boolean;
  /** Keep at most this many request log entries (oldest dropped). Default: all. */
  logLimit?: number;
  /**
   * Unix milliseconds: the emulator's clock, for UserSig expiry, the rate limiter, push spacing,
   * the daily push quota and revoke windows. Tests inject one to move time without sleeping.
   */
  now?: () => number;
  /** Milliseconds added to `now` from the start (the --clock-offset flag); advanceClock adds more. */
  clockOffsetMs?: number;
  /** The TIMPush edition, which sets timpush/batch's rate: 10, 30 or 40 calls/s (DELIVERY.md §1). Default 'free'. */
  pushEdition?: PushEdition;
  /** Where push-result callbacks (Push.AllMemberPush, DELIVERY.md §5) go; none are sent without it. */
  callbackUrl?: string;
  /** The callback token that signs them (Sign, RequestTime); never logged or shown. */
  callbackToken?: string;
  /** 0..1: that share of acknowledged callback requests is sent once more, as Tencent's retries do. Default 0. */
  callbackDuplicateFraction?: number;
  /** Re-sends of a callback request that failed or timed out (2 s). Default 5. */
  callbackRetries?: number;
  /** The first back-off before a re-send, ms; each next one doubles. Default 200. */
  callbackRetryBaseMs?: number;
  /** Delay (ms) before a request reaches the rate limiter, modelling the network on the way in. */
  latencyInMs?: number;
  /** Random ± added to latencyInMs (seeded by faultSeed). */
  jitterInMs?: number;
  /**
   * How the inbound delay waits: setTimeout by default. Tests pass their own to hold requests
   * "on the wire" and release them when they choose, with no wall-clock waiting.
   */
  scheduleInbound?: (serve: () => void, ms: number) => void;
  /** Default strict. */
  envelope?: EnvelopeMode;
  /** Pushes a day per family (im_push, timpush/push); default 100 (EN/37166). */
  pushQuota?: number;
  /**
   * TIMPush reads and writes the all_member_push attributes and tags instead of a store of its
   * own (whether Tencent shares them is UNCONFIRMED, so the default keeps them apart).
   */
  sharedStores?: boolean;
  /** Accounts that are not imported, applied after --data and --seed-users. */
  notImported?: string[];
  /** Accounts of TIMPush account type 1 (RegistrationIDs), applied after notImported. */
  registrationIds?: string[];
}

export interface LoggedRequest {
  command: string;
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body, or the raw text when it did not parse. */
  body: unknown;
  receivedAt: number;
  /**
   * With --latency-in / --jitter-in: the delay added on the way in before `receivedAt`, in ms
   * (what the bench takes off to tell how late the emulator itself dated a call). Absent without.
   */
  heldInMs?: number;
  /** What was answered: an ErrorCode, an HTTP status, or a fault. */
  outcome: string;
  /** The X-Im-Attrs-Purpose header, when the client sent one (`before-state`: a write's journal read). */
  purpose?: string;
}

export interface EmulatorStats {
  requests: Record<string, number>;
  accountsServed: number;
  largestBatch: number;
  /** Highest number of requests received within any one-second window, per command. */
  peakWindow: Record<string, number>;
  /** The highest of peakWindow. */
  maxCallsPerSecond: number;
  rejectedForRate: number;
  /** Most API requests being handled at the same moment (received, not yet answered). */
  maxConcurrent: number;
  faultsInjected: Record<string, number>;
  errors: Record<string, number>;
}

export interface Emulator {
  url: string;
  port: number;
  state: EmulatorState;
  requests: LoggedRequest[];
  /** Every accepted push of both families, oldest first (also at GET /_emulator/pushes). */
  pushes: PushTask[];
  /** The sched tasks not deleted, by TaskID. */
  schedTasks: ReadonlyMap<number, SchedTask>;
  stats(): EmulatorStats;
  /** The emulator's clock now, Unix ms (options.now plus the offset). */
  now(): number;
  /** Moves the emulator's clock forward (or back, if negative) by `ms` and fires due sched tasks. */
  advanceClock(ms: number): void;
  /** Sets the clock's offset from options.now, in ms, and fires due sched tasks. */
  setClockOffset(ms: number): void;
  /** What the push-result callbacks did (also at GET /_emulator/callbacks, without the log). */
  callbacks: Callbacks;
  /** Resolves once every callback is acknowledged or given up. */
  settleCallbacks(): Promise<void>;
  /** Forgets the request log and counters (not the data). */
  resetLog(): void;
  close(): Promise<void>;
}


/** The JSON shape of GET /_emulator/pushes. */
export interface PushListing {
  tasks: Array<PushTask & { time: string; recipientCount: number }>;
}

/** Loose envelopes: one of four variants per answer, from a seeded PRNG (see EnvelopeMode). */
function loosen(body: Record<string, unknown>, roll: number): Record<string, unknown> {
  const { ActionStatus: _status, ...rest } = body;
  if (roll < 0.25) return rest;
  if (body.ErrorCode !== 0) return body;
  if (roll < 0.5) return { ...body, ErrorInfo: 'sucess' };
  if (roll < 0.75) {
    const { ErrorInfo: _dropped, ...noInfo } = body;
    return noInfo;
  }
  return body;
}

/** Starts the emulator; resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const sdkAppId = options.sdkAppId ?? DEFAULT_EMULATOR_SDKAPPID;
  const admin = options.identifier ?? DEFAULT_EMULATOR_IDENTIFIER;
  const rateLimit = options.rateLimit ?? DEFAULT_EMULATOR_RATE_LIMIT;
  const baseNow = options.now ?? Date.now;
  let clockOffsetMs = options.clockOffsetMs ?? 0;
  const now = (): number => baseNow() + clockOffsetMs;
  const random = seededRandom(options.faultSeed ?? 1);
  const shuffleRandom = seededRandom((options.faultSeed ?? 1) + 1);
  const state = options.dataFile ? EmulatorState.load(options.dataFile) : new EmulatorState(options.attrNames ?? DEFAULT_ATTR_NAMES);
  if (options.attrNames && options.dataFile) state.names = new Map(Object.entries(options.attrNames));
  if (options.sharedStores) state.shareStores();
  if (options.seedUsers) state.seed(options.seedUsers);
  for (const account of options.notImported ?? []) state.unimport(account);
  for (const account of options.registrationIds ?? []) state.markRegistrationId(account);
  // Separate PRNGs for the newer options, so that existing --fault-seed runs stay identical.
  const envelopeRandom = seededRandom((options.faultSeed ?? 1) + 2);
  const inboundRandom = seededRandom((options.faultSeed ?? 1) + 3);
  const pushes: PushTask[] = [];

  const requests: LoggedRequest[] = [];
  const receipts = new Map<string, number[]>();
  let stats = emptyStats();
  const pendingTimeouts = new Set<http.ServerResponse>();
  let saveTimer: NodeJS.Timeout | undefined;
  let concurrent = 0;

  function emptyStats(): EmulatorStats {
    return { requests: {}, accountsServed: 0, largestBatch: 0, peakWindow: {}, maxCallsPerSecond: 0, rejectedForRate: 0, maxConcurrent: 0, faultsInjected: {}, errors: {} };
  }

  function scheduleSave(): void {
    if (!options.dataFile || saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      state.save(options.dataFile!);
    }, SAVE_DELAY_MS);
  }

  function shuffle<T>(list: T[]): void {
    // The real API answers out of request order; a rotation plus a seeded swap pass guarantees
    // a different order for any batch of two or more.
    if (!(options.shuffle ?? true) || list.length < 2) return;
    list.push(list.shift()!);
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(shuffleRandom() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
  }

  const sender = options.callbackUrl
    ? new CallbackSender({
        url: options.callbackUrl,
        token: options.callbackToken,
        sdkAppId,
        state,
        now,
        retries: options.callbackRetries ?? DEFAULT_CALLBACK_RETRIES,
        retryBaseMs: options.callbackRetryBaseMs ?? DEFAULT_CALLBACK_RETRY_BASE_MS,
        duplicateFraction: options.callbackDuplicateFraction ?? 0,
        random: seededRandom((options.faultSeed ?? 1) + 4),
      })
    : undefined;
  const noCallbacks: CallbackCounts = { events: 0, requests: 0, acknowledged: 0, failed: 0, duplicates: 0 };
  const callbackCounts = (): CallbackCounts => ({ ...(sender?.counts ?? noCallbacks) });
  const callbacks: Callbacks = {
    get events() {
      return callbackCounts().events;
    },
    get requests() {
      return callbackCounts().requests;
    },
    get acknowledged() {
      return callbackCounts().acknowledged;
    },
    get failed() {
      return callbackCounts().failed;
    },
    get duplicates() {
      return callbackCounts().duplicates;
    },
    get log() {
      return sender?.log ?? [];
    },
  };

  const table = createEndpointTable(
    {
      state,
      sdkAppId,
      now,
      changed: scheduleSave,
      served: (batch, accounts) => {
        stats.largestBatch = Math.max(stats.largestBatch, batch);
        stats.accountsServed += accounts;
      },
      pushQuota: options.pushQuota ?? DEFAULT_PUSH_QUOTA,
      tasks: pushes,
      shuffle,
      taskAccepted: (task) => sender?.enqueue(task),
    },
    { pushEdition: options.pushEdition ?? DEFAULT_PUSH_EDITION },
  );

  /** The calls per second a row allows under --rate-limit (0: no limit). */
  function limitOf(endpoint: Endpoint): number {
    if (rateLimit <= 0) return 0;
    return endpoint.adjustable ? rateLimit : Math.min(rateLimit, endpoint.callsPerSecond);
  }

  /** Records a receipt and says whether it is over the endpoint's limit. */
  function overRate(endpoint: Endpoint, at: number): boolean {
    const { command } = endpoint;
    let list = receipts.get(command);
    if (!list) receipts.set(command, (list = []));
    while (list.length > 0 && at - list[0]! >= 1000) list.shift();
    list.push(at);
    stats.peakWindow[command] = Math.max(stats.peakWindow[command] ?? 0, list.length);
    stats.maxCallsPerSecond = Math.max(stats.maxCallsPerSecond, list.length);
    const limit = limitOf(endpoint);
    return limit > 0 && list.length > limit;
  }

  function checkAuth(query: Record<string, string>): Answer | undefined {
    if (!query.sdkappid) return fail(60012, 'SDKAppID is missing');
    if (query.sdkappid !== String(sdkAppId)) return fail(70014, `sdkappid ${query.sdkappid} does not match this app`);
    if (query.contenttype !== undefined && query.contenttype !== 'json') return fail(60002, 'contenttype must be json');
    if (!query.usersig) return fail(70002, 'UserSig is empty');
    if (options.secretKey) {
      const result = verify(query.usersig, { secretKey: options.secretKey, now: Math.floor(now() / 1000) });
      if (!result.ok) {
        switch (result.reason) {
          case 'expired':
            return fail(70001, 'UserSig expired');
          case 'malformed':
            return fail(70003, 'UserSig is invalid');
          default:
            return fail(70009, 'UserSig verification failed');
        }
      }
      if (result.decoded.sdkAppId !== sdkAppId) return fail(70014, 'SDKAppID does not match the UserSig');
      if (result.decoded.identifier !== query.identifier) return fail(70013, 'identifier does not match the UserSig');
    }
    if (query.identifier !== admin) return fail(60010, `${query.identifier ?? ''} is not an app administrator`);
    return undefined;
  }

  /**
   * The row a path names, and the command as logged: an unknown all_member_push command keeps
   * its name, any other unknown path is ''. A command is served only under its own service:
   * /v4/all_member_push/timpush/push and /v4/im_get_tag are not.
   */
  function route(pathname: string): { command: string; endpoint?: Endpoint } {
    const endpoint = table.byPath.get(pathname);
    if (endpoint) return { command: endpoint.command, endpoint };
    if (pathname.startsWith(AMP_PREFIX)) {
      const command = commandOf(pathname);
      return { command: command.includes('/') ? '' : command }; // not to be counted as timpush/…
    }
    return { command: '' };
  }

  /** The row's own limits, then its handler. */
  function dispatch(endpoint: Endpoint, raw: Record<string, unknown>, size: number): Answer {
    const body = withoutNulls(raw) as Record<string, unknown>;
    const { maxBodyBytes, accounts } = endpoint;
    if (maxBodyBytes && size > maxBodyBytes.bytes) return fail(maxBodyBytes.code, `the request body is ${size} bytes; at most ${maxBodyBytes.bytes}`);
    if (accounts) {
      const list = body[accounts.field];
      if (Array.isArray(list) && list.length > accounts.max) return accounts.tooMany(list.length);
    }
    return endpoint.handler(body, size);
  }

  function pickFault(): Fault | undefined {
    for (const fault of options.faults ?? []) {
      if (random() < fault.fraction) return fault;
    }
    return undefined;
  }

  function inboundDelay(): number {
    const base = options.latencyInMs ?? 0;
    const jitter = options.jitterInMs ?? 0;
    return Math.max(0, base + (jitter ? (inboundRandom() * 2 - 1) * jitter : 0));
  }

  function delay(): number {
    const base = options.latencyMs ?? 0;
    const jitter = options.jitterMs ?? 0;
    return Math.max(0, base + (jitter ? (random() * 2 - 1) * jitter : 0));
  }

  function log(entry: LoggedRequest): void {
    requests.push(entry);
    if (options.logLimit !== undefined && requests.length > options.logLimit) requests.shift();
  }

  function moveClock(offsetMs: number): void {
    clockOffsetMs = offsetMs;
    table.tick();
  }

  /** The /_emulator/… pages; false when `pathname` is not one. */
  function servePage(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): boolean {
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'GET' && pathname === '/_emulator/stats') {
      json(200, stats);
      return true;
    }
    if (req.method === 'GET' && pathname === '/_emulator/requests') {
      json(200, requests.map((r) => ({ ...r, query: { ...r.query, ...(r.query.usersig ? { usersig: '<redacted>' } : {}) } })));
      return true;
    }
    if (req.method === 'GET' && pathname === '/_emulator/pushes') {
      const listing: PushListing = { tasks: pushes.map((t) => ({ ...t, time: new Date(t.createdAt).toISOString(), recipientCount: t.recipients.length })) };
      json(200, listing);
      return true;
    }
    if (req.method === 'GET' && pathname === '/_emulator/callbacks') {
      json(200, callbackCounts());
      return true;
    }
    if (pathname === '/_emulator/clock' && (req.method === 'GET' || req.method === 'POST')) {
      const answer = (): void => json(200, clockState());
      if (req.method === 'GET') {
        answer();
        return true;
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const move = parseClockMove(Buffer.concat(chunks).toString('utf8'));
        if (typeof move === 'string') return json(400, { error: move });
        moveClock(move.offsetMs ?? clockOffsetMs + (move.advanceMs ?? 0));
        answer();
      });
      return true;
    }
    return false;
  }

  function clockState(): ClockState {
    const at = now();
    return { now: at, time: new Date(at).toISOString(), offsetMs: clockOffsetMs };
  }

  const server = http.createServer((req, res) => {
    const receivedAt = now();
    const url = new URL(req.url ?? '/', 'http://emulator');
    // Sched tasks fire when the clock has passed their time: on every request, before anything.
    table.tick();
    if (url.pathname.startsWith('/_emulator/') && servePage(req, res, url.pathname)) return;
    concurrent++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, concurrent);
    res.once('close', () => concurrent--);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const wait = options.latencyInMs || options.jitterInMs ? inboundDelay() : 0;
      // Without an inbound delay the request is handled at once, exactly as before the option.
      if (wait > 0) (options.scheduleInbound ?? setTimeout)(() => void (res.destroyed || serve(now(), wait)), wait);
      else serve(receivedAt);
    });
    const serve = (receivedAt: number, heldInMs?: number): void => {
      if (heldInMs !== undefined) table.tick();
      const query = Object.fromEntries(url.searchParams);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text in the log; answered with 90001 below
      }
      const { command, endpoint } = route(url.pathname);
      const purpose = req.headers['x-im-attrs-purpose'];
      const entry: LoggedRequest = {
        command,
        path: url.pathname,
        query,
        body,
        receivedAt,
        ...(heldInMs === undefined ? {} : { heldInMs }),
        ...(typeof purpose === 'string' ? { purpose } : {}),
        outcome: '',
      };
      log(entry);
      stats.requests[command || url.pathname] = (stats.requests[command || url.pathname] ?? 0) + 1;

      const send = (answer: Answer): void => {
        entry.outcome = answer.status && answer.status !== 200 ? `http${answer.status}` : String(answer.body.ErrorCode);
        if (answer.body.ErrorCode) stats.errors[String(answer.body.ErrorCode)] = (stats.errors[String(answer.body.ErrorCode)] ?? 0) + 1;
        const envelope = (options.envelope ?? 'strict') === 'loose' && (answer.status ?? 200) === 200 ? loosen(answer.body, envelopeRandom()) : answer.body;
        const payload = JSON.stringify(envelope);
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(answer.status ?? 200, { 'content-type': 'application/json; charset=utf-8' });
          res.end(payload);
        }, delay());
      };

      if (req.method !== 'POST' || !endpoint) {
        return send({ status: 404, body: { ActionStatus: 'FAIL', ErrorCode: 60002, ErrorInfo: `no such command: ${url.pathname}` } });
      }
      if (overRate(endpoint, receivedAt)) {
        stats.rejectedForRate++;
        return send(fail(CODES.rateLimited, 'REST API call frequency over the limit'));
      }
      const fault = pickFault();
      if (fault) {
        stats.faultsInjected[fault.kind] = (stats.faultsInjected[fault.kind] ?? 0) + 1;
        entry.outcome = `fault:${fault.kind}`;
        switch (fault.kind) {
          case 'http502':
          case 'http503':
            res.writeHead(fault.kind === 'http502' ? 502 : 503, { 'content-type': 'text/html' });
            res.end('<html><body>Bad Gateway</body></html>');
            return;
          case 'reset':
            req.socket.destroy();
            return;
          case 'timeout':
            pendingTimeouts.add(res);
            res.on('close', () => pendingTimeouts.delete(res));
            return;
          case 'garbage':
            res.writeHead(200, { 'content-type': 'text/html' });
            res.end('<html><body>502 Bad Gateway (garbage)</body></html>');
            return;
          default: {
            const code = Number(fault.kind.slice('code:'.length));
            return send(fail(code, `injected fault ${code}`));
          }
        }
      }
      const auth = checkAuth(query);
      if (auth) return send(auth);
      if (!isPlainObject(body)) return send(fail(CODES.format, 'Invalid format of the request body: not a JSON object'));
      send(dispatch(endpoint, body, size));
    };
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  table.tick();

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    state,
    requests,
    pushes,
    schedTasks: table.schedTasks,
    stats: () => stats,
    now,
    advanceClock: (ms) => moveClock(clockOffsetMs + ms),
    setClockOffset: (ms) => moveClock(ms),
    callbacks,
    settleCallbacks: () => sender?.settle() ?? Promise.resolve(),
    resetLog: () => {
      requests.length = 0;
      receipts.clear();
      stats = emptyStats();
    },
    close: async () => {
      if (saveTimer) {
        clearTimeout(saveTimer);
        saveTimer = undefined;
        state.save(options.dataFile!);
      }
      sender?.close();
      for (const res of pendingTimeouts) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What GET and POST /_emulator/clock answer. */
export interface ClockState {
  /** The emulator's clock, Unix ms. */
  now: number;
  /** The same as an ISO-8601 string. */
  time: string;
  /** Its offset from the real (or injected) clock, ms. */
  offsetMs: number;
}

/** A POST /_emulator/clock body: `{"advanceMs": n}` or `{"offsetMs": n}`; a string says what is wrong. */
function parseClockMove(text: string): { advanceMs?: number; offsetMs?: number } | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'the body must be JSON: {"advanceMs": n} or {"offsetMs": n}';
  }
  if (!isPlainObject(body)) return 'the body must be a JSON object: {"advanceMs": n} or {"offsetMs": n}';
  const { advanceMs, offsetMs } = body;
  const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  if ((advanceMs === undefined) === (offsetMs === undefined)) return 'give exactly one of advanceMs and offsetMs';
  if (advanceMs !== undefined && !isMs(advanceMs)) return 'advanceMs must be an integer number of milliseconds';
  if (offsetMs !== undefined && !isMs(offsetMs)) return 'offsetMs must be an integer number of milliseconds';
  return advanceMs !== undefined ? { advanceMs: advanceMs as number } : { offsetMs: offsetMs as number };
}

/** Parses `--fail what:fraction` (what: an error code, http502, http503, reset, timeout, garbage). */
export function parseFault(text: string): Fault {
  const match = /^([a-z0-9]+):([0-9.]+)$/i.exec(text.trim());
  const fraction = match ? Number(match[2]) : NaN;
  if (!match || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new Error(`--fail "${text}": expected <what>:<fraction>, e.g. 91000:0.1 or http502:0.05 (fraction between 0 and 1)`);
  }
  const what = match[1]!.toLowerCase();
  if (/^[0-9]+$/.test(what)) return { kind: `code:${Number(what)}`, fraction };
  if (['http502', 'http503', 'reset', 'timeout', 'garbage'].includes(what)) return { kind: what as FaultKind, fraction };
  throw new Error(`--fail "${text}": unknown fault "${what}"; use an error code (91000, 70169, …), http502, http503, reset, timeout or garbage`);
}
