/**
 * A local emulator of the Chat REST API's all_member_push attribute commands: a real HTTP server
 * (node:http) that checks the envelope like Tencent does, answers in Tencent's shapes, and can be
 * made slow, rate-limited and faulty on purpose, so that the CLI, the demo, the tests and the
 * benchmark all run offline against something real.
 *
 * Where the documentation is silent (API.md says UNKNOWN), it picks one documented behaviour:
 * - an account that was never imported (not seeded, never set) is left out of `UserAttrs` and
 *   listed in `ErrorList` with 70107, as the newer v4/timpush/get_attr does;
 * - `im_set_attr` on an unknown account imports it;
 * - `im_set_attr_name` merges the slots it is given into the existing ones ("" clears a slot);
 * - rate-limited calls are answered with 60007 and are not served.
 *
 * Beyond the attribute commands it serves all_member_push tags and im_push, the TIMPush family
 * (`v4/timpush/*`) with a store of its own, and account_check: see families.ts for their limits,
 * codes and choices, and src/push/condition.ts for push targeting. Accepted pushes are listed,
 * with every recipient, at `GET /_emulator/pushes`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from '../usersig.js';
import { byteLength, fail, ok, type Answer } from './answer.js';
import { COMMAND_RATE_LIMITS, createFamilyHandlers, DEFAULT_PUSH_QUOTA, type PushTask } from './families.js';
import { DEFAULT_ATTR_NAMES, EmulatorState } from './state.js';

export const DEFAULT_EMULATOR_SDKAPPID = 1400000000;
export const DEFAULT_EMULATOR_IDENTIFIER = 'administrator';
/** The documented limit of every all_member_push command (API.md section 2). */
export const DEFAULT_EMULATOR_RATE_LIMIT = 100;
const MAX_ACCOUNTS = 100;
const MAX_BYTES = 50;
const MAX_SLOTS = 10;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const SERVICE_PREFIX = '/v4/all_member_push/';
/** Other services are logged as `<service>/<command>` (e.g. timpush/get_attr): unambiguous. */
const API_PREFIX = '/v4/';
const COMMANDS = ['im_get_attr_name', 'im_set_attr_name', 'im_get_attr', 'im_set_attr', 'im_remove_attr'] as const;
type Command = (typeof COMMANDS)[number];

/**
 * `strict`: every answer has ActionStatus, ErrorCode and ErrorInfo (the documented samples).
 * `loose`: like the real service sometimes is (PUSH-FAMILY.md, Corrections §5): some answers
 * have no ActionStatus, some successes carry a non-empty ErrorInfo ("sucess") or none at all.
 */
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
  /** Calls per second per command; 0 turns the limit off. */
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
  stats(): EmulatorStats;
  /** Forgets the request log and counters (not the data). */
  resetLog(): void;
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so fault runs are reproducible with --fault-seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
  const now = options.now ?? Date.now;
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
    }, 200);
  }

  /** Records a receipt and says whether it is over the per-command limit. */
  function overRate(command: string, at: number): boolean {
    const limit = rateLimit > 0 ? Math.min(rateLimit, COMMAND_RATE_LIMITS[command] ?? rateLimit) : 0;
    let list = receipts.get(command);
    if (!list) receipts.set(command, (list = []));
    while (list.length > 0 && at - list[0]! >= 1000) list.shift();
    list.push(at);
    stats.peakWindow[command] = Math.max(stats.peakWindow[command] ?? 0, list.length);
    stats.maxCallsPerSecond = Math.max(stats.maxCallsPerSecond, list.length);
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

  function accountsOf(body: Record<string, unknown>, field: string): string[] | Answer {
    const list = body[field];
    if (!Array.isArray(list)) return fail(90001, `${field} must be an array`);
    if (list.length > MAX_ACCOUNTS) return fail(90018, `too many accounts: ${list.length} > ${MAX_ACCOUNTS}`);
    return list as string[];
  }

  const familyHandlers = createFamilyHandlers({
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
  });

  /**
   * The command a path names, as logged (im_get_attr, timpush/get_attr, …; an unknown
   * all_member_push command keeps its name, any other unknown path is ''), and whether it is
   * served. A command is served only under its own service: /v4/all_member_push/timpush/push
   * and /v4/im_get_tag are not.
   */
  function route(pathname: string): { command: string; known: boolean } {
    if (pathname.startsWith(SERVICE_PREFIX)) {
      const command = pathname.slice(SERVICE_PREFIX.length);
      if (command.includes('/')) return { command: '', known: false }; // not to be counted as timpush/…
      return { command, known: (COMMANDS as readonly string[]).includes(command) || Object.hasOwn(familyHandlers, command) };
    }
    const rel = pathname.startsWith(API_PREFIX) ? pathname.slice(API_PREFIX.length) : '';
    const known = rel.includes('/') && Object.hasOwn(familyHandlers, rel);
    return { command: known ? rel : '', known };
  }

  function handle(command: Command, body: Record<string, unknown>): Answer {
    switch (command) {
      case 'im_get_attr_name':
        return ok({ AttrNames: Object.fromEntries([...state.names].sort(([a], [b]) => Number(a) - Number(b))) });
      case 'im_set_attr_name': {
        const names = body.AttrNames;
        if (typeof names !== 'object' || names === null || Array.isArray(names)) return fail(90001, 'AttrNames must be an object');
        const next = new Map(state.names);
        for (const [slot, name] of Object.entries(names as Record<string, unknown>)) {
          if (!/^[0-9]$/.test(slot) || Number(slot) >= MAX_SLOTS) return fail(90033, `invalid attribute slot ${slot}`);
          if (typeof name !== 'string' || byteLength(name) > MAX_BYTES) return fail(90033, `invalid attribute name in slot ${slot}`);
          if (name === '') next.delete(slot);
          else next.set(slot, name);
        }
        const all = [...next.values()];
        if (new Set(all).size !== all.length) return fail(90033, 'duplicate attribute names');
        for (const slot of state.names.keys()) {
          if (!next.has(slot)) for (const values of state.users.values()) values.delete(slot);
        }
        state.names = next;
        scheduleSave();
        return ok();
      }
      case 'im_get_attr': {
        const accounts = accountsOf(body, 'To_Account');
        if (!Array.isArray(accounts)) return accounts;
        stats.largestBatch = Math.max(stats.largestBatch, accounts.length);
        const userAttrs: Array<{ To_Account: string; Attrs: Record<string, string> }> = [];
        const errorList: Array<{ To_Account: string; ErrorCode: number; ErrorInfo: string }> = [];
        for (const account of accounts) {
          const attrs = typeof account === 'string' ? state.attrsOf(account) : undefined;
          if (attrs) userAttrs.push({ To_Account: account, Attrs: attrs });
          else errorList.push({ To_Account: String(account), ErrorCode: 70107, ErrorInfo: 'account not imported' });
        }
        stats.accountsServed += userAttrs.length;
        if (options.shuffle ?? true) shuffle(userAttrs);
        return ok(errorList.length ? { UserAttrs: userAttrs, ErrorList: errorList } : { UserAttrs: userAttrs });
      }
      case 'im_set_attr':
      case 'im_remove_attr': {
        const entries = body.UserAttrs;
        if (!Array.isArray(entries)) return fail(90001, 'UserAttrs must be an array');
        if (entries.length > MAX_ACCOUNTS) return fail(90018, `too many accounts: ${entries.length} > ${MAX_ACCOUNTS}`);
        stats.largestBatch = Math.max(stats.largestBatch, entries.length);
        // Validate the whole request first: a bad entry rejects it all, nothing half-applied.
        const changes: Array<{ account: string; slots: Array<[string, string | undefined]> }> = [];
        for (const entry of entries as Array<Record<string, unknown>>) {
          const account = entry?.To_Account;
          if (typeof account !== 'string' || account === '') return fail(90001, 'To_Account must be a non-empty string');
          const attrs = entry.Attrs;
          const slots: Array<[string, string | undefined]> = [];
          if (command === 'im_set_attr') {
            if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) return fail(90001, 'Attrs must be an object');
            for (const [name, value] of Object.entries(attrs as Record<string, unknown>)) {
              const slot = state.slotOf(name);
              if (slot === undefined) return fail(90033, `attribute ${name} is not an app attribute`);
              if (typeof value !== 'string' || byteLength(value) > MAX_BYTES) return fail(90033, `invalid value for attribute ${name}`);
              slots.push([slot, value]);
            }
          } else {
            if (!Array.isArray(attrs)) return fail(90001, 'Attrs must be an array of names');
            for (const name of attrs) {
              const slot = typeof name === 'string' ? state.slotOf(name) : undefined;
              if (slot === undefined) return fail(90033, `attribute ${String(name)} is not an app attribute`);
              slots.push([slot, undefined]);
            }
          }
          changes.push({ account, slots });
        }
        for (const { account, slots } of changes) {
          let values = state.users.get(account);
          if (!values) {
            if (command === 'im_remove_attr') continue;
            state.users.set(account, (values = new Map()));
          }
          for (const [slot, value] of slots) {
            if (value === undefined) values.delete(slot);
            else values.set(slot, value);
          }
        }
        stats.accountsServed += changes.length;
        scheduleSave();
        return ok();
      }
    }
  }

  function shuffle<T>(list: T[]): void {
    // The real API answers out of request order; a rotation plus a seeded swap pass guarantees
    // a different order for any batch of two or more.
    if (list.length < 2) return;
    list.push(list.shift()!);
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(shuffleRandom() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    if (list.length === 2) return;
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

  const server = http.createServer((req, res) => {
    const receivedAt = now();
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (req.method === 'GET' && url.pathname === '/_emulator/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/_emulator/requests') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(requests.map((r) => ({ ...r, query: { ...r.query, ...(r.query.usersig ? { usersig: '<redacted>' } : {}) } }))));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/_emulator/pushes') {
      const listing: PushListing = { tasks: pushes.map((t) => ({ ...t, time: new Date(t.createdAt).toISOString(), recipientCount: t.recipients.length })) };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(listing));
      return;
    }
    concurrent++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, concurrent);
    res.once('close', () => concurrent--);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const wait = options.latencyInMs || options.jitterInMs ? inboundDelay() : 0;
      // Without an inbound delay the request is handled at once, exactly as before the option.
      if (wait > 0) (options.scheduleInbound ?? setTimeout)(() => void (res.destroyed || serve(now(), wait)), wait);
      else serve(receivedAt);
    });
    const serve = (receivedAt: number, heldInMs?: number): void => {
      const query = Object.fromEntries(url.searchParams);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text in the log; answered with 90001 below
      }
      const { command, known } = route(url.pathname);
      const entry: LoggedRequest = { command, path: url.pathname, query, body, receivedAt, ...(heldInMs === undefined ? {} : { heldInMs }), outcome: '' };
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

      if (req.method !== 'POST' || !known) {
        return send({ status: 404, body: { ActionStatus: 'FAIL', ErrorCode: 60002, ErrorInfo: `no such command: ${url.pathname}` } });
      }
      if (overRate(command, receivedAt)) {
        stats.rejectedForRate++;
        return send(fail(60007, 'REST API call frequency over the limit'));
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
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return send(fail(90001, 'the request body is not valid JSON'));
      const family = familyHandlers[command];
      send(family ? family(body as Record<string, unknown>, size) : handle(command as Command, body as Record<string, unknown>));
    };
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    state,
    requests,
    pushes,
    stats: () => stats,
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
      for (const res of pendingTimeouts) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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
