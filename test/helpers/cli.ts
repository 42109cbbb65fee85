/**
 * Runs the real CLI in-process (main(argv, deps)) with in-memory streams, and starts the real
 * emulator on 127.0.0.1 port 0. No module is mocked: requests go over loopback HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestSignals, type Deps } from '../../src/deps.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { createTestIO, type TestIOOptions } from '../../src/io.js';
import { main } from '../../src/main.js';

/** The public demo key from Tencent's repositories (API.md section 4): a test value, not a secret. */
export const TEST_SECRET_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
export const TEST_SDKAPPID = 1400000000;
export const TEST_ADMIN = 'administrator';

export interface RunOptions extends TestIOOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  homeDir?: string;
  now?: () => number;
  /** Called with the signal source once the run has started (to fire SIGINT mid-run). */
  onSignals?: (signals: ReturnType<typeof createTestSignals>) => void;
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

let isolated: string | undefined;
/** A directory with no config file in it or above it (below the temp root), used as cwd and home. */
function isolatedDir(): string {
  isolated ??= mkdtempSync(path.join(os.tmpdir(), 'im-attrs-home-'));
  return isolated;
}

/** Runs `im-attrs <args>` in-process. The environment is empty unless given. */
export async function runCli(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
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
