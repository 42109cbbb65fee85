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
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from '../usersig.js';
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
const COMMANDS = ['im_get_attr_name', 'im_set_attr_name', 'im_get_attr', 'im_set_attr', 'im_remove_attr'] as const;
type Command = (typeof COMMANDS)[number];

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
   * Delay (± jitter) on the way in, before the rate limiter counts the call: the network between
   * client and limiter, which reorders and bunches a paced stream. Default 0.
   */
  latencyInMs?: number;
  jitterInMs?: number;
  /** Calls per second per command; 0 turns the limit off. */
  rateLimit?: number;
  faults?: Fault[];
  faultSeed?: number;
  /** Answer im_get_attr out of request order, as the real API does. Default true. */
  shuffle?: boolean;
  /** Keep at most this many request log entries (oldest dropped). Default: all. */
  logLimit?: number;
  /** Unix milliseconds, for UserSig expiry checks. */
  now?: () => number;
}

export interface LoggedRequest {
  command: string;
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body, or the raw text when it did not parse. */
  body: unknown;
  receivedAt: number;
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

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

interface Answer {
  status?: number;
  body: Record<string, unknown>;
}

function fail(code: number, info: string, extra: Record<string, unknown> = {}): Answer {
  return { body: { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info, ...extra } };
}

function ok(extra: Record<string, unknown> = {}): Answer {
  return { body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...extra } };
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
  if (options.seedUsers) state.seed(options.seedUsers);

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
    let list = receipts.get(command);
    if (!list) receipts.set(command, (list = []));
    while (list.length > 0 && at - list[0]! >= 1000) list.shift();
    list.push(at);
    stats.peakWindow[command] = Math.max(stats.peakWindow[command] ?? 0, list.length);
    stats.maxCallsPerSecond = Math.max(stats.maxCallsPerSecond, list.length);
    return rateLimit > 0 && list.length > rateLimit;
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

  function delay(): number {
    const base = options.latencyMs ?? 0;
    const jitter = options.jitterMs ?? 0;
    return Math.max(0, base + (jitter ? (random() * 2 - 1) * jitter : 0));
  }

  const randomIn = seededRandom((options.faultSeed ?? 1) + 2);
  function delayIn(): number {
    const base = options.latencyInMs ?? 0;
    const jitter = options.jitterInMs ?? 0;
    return Math.max(0, base + (jitter ? (randomIn() * 2 - 1) * jitter : 0));
  }

  function log(entry: LoggedRequest): void {
    requests.push(entry);
    if (options.logLimit !== undefined && requests.length > options.logLimit) requests.shift();
  }

  const server = http.createServer((req, res) => {
    const inbound = options.latencyInMs || options.jitterInMs ? delayIn() : 0;
    if (inbound > 0) {
      req.pause();
      setTimeout(() => serve(req, res), inbound);
    } else serve(req, res);
  });
  function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
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
      const query = Object.fromEntries(url.searchParams);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text in the log; answered with 90001 below
      }
      const command = url.pathname.startsWith(SERVICE_PREFIX) ? url.pathname.slice(SERVICE_PREFIX.length) : '';
      const entry: LoggedRequest = { command, path: url.pathname, query, body, receivedAt, outcome: '' };
      log(entry);
      stats.requests[command || url.pathname] = (stats.requests[command || url.pathname] ?? 0) + 1;

      const send = (answer: Answer): void => {
        entry.outcome = answer.status && answer.status !== 200 ? `http${answer.status}` : String(answer.body.ErrorCode);
        if (answer.body.ErrorCode) stats.errors[String(answer.body.ErrorCode)] = (stats.errors[String(answer.body.ErrorCode)] ?? 0) + 1;
        const payload = JSON.stringify(answer.body);
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(answer.status ?? 200, { 'content-type': 'application/json; charset=utf-8' });
          res.end(payload);
        }, delay());
      };

      if (req.method !== 'POST' || !(COMMANDS as readonly string[]).includes(command)) {
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
      send(handle(command as Command, body as Record<string, unknown>));
    });
  }
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
