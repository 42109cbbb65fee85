/**
 * Runs the real CLI in-process (main(argv, deps)) with in-memory streams, and starts the real
 * emulator on 127.0.0.1 port 0 (per suite with useEmulator), optionally behind a scripted proxy
 * that makes chosen requests fail. No module is mocked: requests go over loopback HTTP.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach } from 'node:test';
import { ImClient, staticCredentials } from '../../src/api/client.js';
import { createTestSignals, type Deps } from '../../src/deps.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { ApiError } from '../../src/errors.js';
import { createTestIO, type TestIOOptions } from '../../src/io.js';
import { main } from '../../src/main.js';
import { generate } from '../../src/usersig.js';

/** The public demo key from Tencent's repositories (API.md section 4): a test value, not a secret. */
export const TEST_SECRET_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
export const TEST_SDKAPPID = 1400000000;
export const TEST_ADMIN = 'administrator';

export interface RunOptions extends TestIOOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  homeDir?: string;
  now?: () => number;
  /** The user id the CLI runs as (config files owned by anyone else are refused); unset: not checked. */
  uid?: number;
  /** Called with the signal source once the run has started (to fire SIGINT mid-run). */
  onSignals?: (signals: ReturnType<typeof createTestSignals>) => void;
  /**
   * Puts a scripted proxy (startProxy) between the CLI and `env.IMADMIN_ENDPOINT` for this run:
   * it answers a request itself where this returns an envelope, and passes the others on.
   */
  proxy?: ProxyScript;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An empty temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'im-attrs-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temporary directory for the current suite (or file), removed after it. */
export function useTempDir(): { dir: string; write: (name: string, content: string) => string } {
  const { dir, cleanup } = tempDir();
  after(cleanup);
  return {
    dir,
    /** Writes `content` to `name` in the directory and returns its path. */
    write: (name, content) => {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      return file;
    },
  };
}

let isolated: string | undefined;
/** A directory with no config file in it or above it (below the temp root), used as cwd and home. */
function isolatedDir(): string {
  isolated ??= mkdtempSync(path.join(os.tmpdir(), 'im-attrs-home-'));
  return isolated;
}

/** Runs `im-attrs <args>` in-process. The environment is empty unless given. */
export async function runCli(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (options.proxy) {
    const target = options.env?.IMADMIN_ENDPOINT;
    if (target === undefined) throw new Error('runCli: a proxy needs env.IMADMIN_ENDPOINT to pass requests on to');
    const proxy = await startProxy(target, options.proxy);
    try {
      return await runCli(args, { ...options, proxy: undefined, env: { ...options.env, IMADMIN_ENDPOINT: proxy.url } });
    } finally {
      await proxy.close();
    }
  }
  const io = createTestIO(options);
  const signals = createTestSignals();
  const home = options.homeDir ?? isolatedDir();
  const deps: Deps = {
    io,
    env: { XDG_CONFIG_HOME: path.join(home, '.config'), ...options.env },
    cwd: options.cwd ?? home,
    homeDir: home,
    now: options.now ?? (() => Date.now()),
    signals,
    uid: options.uid,
  };
  options.onSignals?.(signals);
  const code = await main(['node', 'im-attrs', ...args], deps);
  return { code, stdout: io.out(), stderr: io.err() };
}

/** Environment that points the CLI at an emulator, signing with the test key. */
export function emulatorEnv(emulator: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    IMADMIN_ENDPOINT: emulator.url,
    IMADMIN_SDKAPPID: String(TEST_SDKAPPID),
    IMADMIN_IDENTIFIER: TEST_ADMIN,
    IMADMIN_SECRET_KEY: TEST_SECRET_KEY,
    ...extra,
  };
}

/** Starts the emulator with UserSig verification on and no rate limit unless asked. */
export function startTestEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ secretKey: TEST_SECRET_KEY, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, ...options });
}

/** user000001 … userNNNNNN as the emulator seeds them. */
export function seededIds(from: number, to: number): string[] {
  const ids: string[] = [];
  for (let i = from; i <= to; i++) ids.push(`user${String(i).padStart(6, '0')}`);
  return ids;
}

/** The emulator a suite runs against, and the environment that points the CLI at it. */
export interface EmulatorFixture {
  /** The running emulator: read it in tests and hooks, not while the suite is being declared. */
  readonly emulator: Emulator;
  /** emulatorEnv(emulator). */
  readonly env: Record<string, string>;
}

/**
 * Starts a test emulator (startTestEmulator(options)) for the current suite and closes it after.
 * By default one emulator serves the whole suite and its request log is cleared before each
 * test; with `perTest`, every test gets a fresh one (for tests that change the app).
 */
export function useEmulator(options: EmulatorOptions = {}, { perTest = false }: { perTest?: boolean } = {}): EmulatorFixture {
  let current: EmulatorFixture | undefined;
  const running = (): EmulatorFixture => {
    if (!current) throw new Error('useEmulator: the emulator runs only while a test or hook of its suite does');
    return current;
  };
  const start = async (): Promise<void> => {
    const emulator = await startTestEmulator(options);
    current = { emulator, env: emulatorEnv(emulator) };
  };
  const stop = async (): Promise<void> => {
    await current?.emulator.close();
    current = undefined;
  };
  if (perTest) {
    beforeEach(start);
    afterEach(stop);
  } else {
    before(start);
    after(stop);
    beforeEach(() => running().emulator.resetLog());
  }
  return {
    get emulator() {
      return running().emulator;
    },
    get env() {
      return running().env;
    },
  };
}

/** The requests the emulator received for the command's own work: without a write's journal reads (before-state). */
export function ownRequests(emulator: Emulator): Emulator['requests'] {
  return emulator.requests.filter((r) => r.purpose !== 'before-state');
}

/**
 * What the emulator received, as [command, body] pairs: the command's own requests, without the
 * reads a write makes for its journal (X-Im-Attrs-Purpose before-state) unless `journal` is set.
 */
export function requestLog(emulator: Emulator, { journal = false }: { journal?: boolean } = {}): Array<[string, unknown]> {
  return emulator.requests.filter((r) => journal || r.purpose !== 'before-state').map((r) => [r.command, r.body]);
}

/** What a scripted proxy does with a request: answer it with this envelope, or pass it on (undefined). */
export type ProxyScript = (command: string, body: string) => object | undefined;

/**
 * A node:http proxy on 127.0.0.1 in front of `target` (a base URL) that answers the requests
 * `script` gives an envelope for, to make exactly the calls we want fail; everything else goes
 * to the target. `command` is the last segment of the path, `body` the request body as text.
 */
export async function startProxy(target: string, script: ProxyScript): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const command = new URL(req.url ?? '/', 'http://proxy').pathname.split('/').pop() ?? '';
      const canned = script(command, raw.toString('utf8'));
      if (canned) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(canned));
        return;
      }
      const upstream = http.request(`${target}${req.url ?? ''}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs `use` with an ImClient for the emulator, for raw requests the CLI would refuse to send; closes it after. */
export async function withRawClient<T>(emulator: Emulator, use: (client: ImClient) => Promise<T>): Promise<T> {
  const userSig = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 3600 });
  const client = new ImClient({ baseUrl: emulator.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, credentials: staticCredentials(userSig), userAgent: 'test' });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** Sends one raw request (withRawClient) and asserts the emulator's answer: success, or an ApiError with `apiCode`. */
export async function assertRawAnswer(emulator: Emulator, send: (client: ImClient) => Promise<unknown>, apiCode: number | undefined): Promise<void> {
  await withRawClient(emulator, async (client) => {
    const call = send(client);
    if (apiCode === undefined) await call;
    else await assert.rejects(call, (e: unknown) => e instanceof ApiError && e.apiCode === apiCode);
  });
}
