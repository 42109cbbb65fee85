/**
 * Shared pieces of the configuration tests: config files on disk, a pool of real emulators that
 * each accept one (SDKAppID, identifier, secret key), and a `get` run against them.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigFile } from '../../src/config/load.js';
import { trustFile } from '../../src/config/trust.js';
import type { Emulator } from '../../src/emulator/server.js';
import { runCli, startTestEmulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY, type RunOptions, type RunResult } from '../helpers/cli.js';

/** The layers a setting can come from, highest first (defaults are "nothing set"). */
export type Layer = 'flag' | 'env' | 'profile' | 'file';

/** The profile every test selects (with `defaultProfile`) when it puts a value in a profile. */
export const PROFILE = 'prod';

/** What `get user000001 -o ndjson` prints for the seeded account. */
export const USER1_NDJSON = '{"To_Account":"user000001","Attrs":{"sex":"M","city":"Shenzhen"}}\n';

/** The valid regions as `describeRegions()` lists them in error hints. */
export const VALID_REGIONS =
  'cn (China), sgp (Singapore), kr (Seoul), jpn (Tokyo), ger (Frankfurt), usa (Silicon Valley), idn (Jakarta), ind (Mumbai), ksa (Riyadh)';

/**
 * Writes a config file (an object as JSON, a string as is), creating its directory, with the mode
 * given: 0600 by default so a file that holds a secret does not warn unless a test wants it to.
 */
export function writeConfig(file: string, content: string | object, mode = 0o600): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  // writeFileSync's mode is filtered by the umask and ignored for an existing file.
  chmodSync(file, mode);
  return file;
}

export interface EmulatorWants {
  sdkAppId?: number;
  identifier?: string;
  secretKey?: string;
  /** Tells apart emulators that accept the same values (to see which endpoint was used). */
  label?: string;
}

/**
 * Real emulators on 127.0.0.1, one per distinct set of accepted values, started on first use.
 * An emulator answers 70014/60010/70009 to any other SDKAppID, identifier or key, so a run that
 * exits 0 proves the CLI resolved exactly the values the emulator was started with.
 */
export class EmulatorPool {
  private readonly started = new Map<string, Promise<Emulator>>();

  async get(wants: EmulatorWants = {}): Promise<Emulator> {
    const sdkAppId = wants.sdkAppId ?? TEST_SDKAPPID;
    const identifier = wants.identifier ?? TEST_ADMIN;
    const secretKey = wants.secretKey ?? TEST_SECRET_KEY;
    const key = JSON.stringify([sdkAppId, identifier, secretKey, wants.label ?? '']);
    let emulator = this.started.get(key);
    if (!emulator) {
      emulator = startTestEmulator({ sdkAppId, identifier, secretKey, seedUsers: 1, rateLimit: 0 });
      this.started.set(key, emulator);
    }
    const ready = await emulator;
    ready.resetLog();
    return ready;
  }

  async close(): Promise<void> {
    const all = await Promise.all(this.started.values());
    await Promise.all(all.map((e) => e.close()));
  }
}

/** What an emulator received, reduced to the fields configuration decides. */
export function received(emulator: Emulator): Array<{ command: string; sdkappid: string | undefined; identifier: string | undefined }> {
  return emulator.requests.map((r) => ({ command: r.command, sdkappid: r.query.sdkappid, identifier: r.query.identifier }));
}

/** `im-attrs get user000001 -o ndjson <args>`: one request, no attribute-name lookup. */
export function getUser1(args: readonly string[], options: RunOptions): Promise<RunResult> {
  return runCli(['get', 'user000001', '-o', 'ndjson', ...args], options);
}

/** The secrets that appear on stdout or stderr (an empty list when none leaked). */
export function leakedSecrets(result: RunResult, secrets: readonly string[]): string[] {
  return secrets.filter((s) => result.stdout.includes(s) || result.stderr.includes(s));
}

const CODE_FILE = /\.(?:c|m)?js$/;

/**
 * Trusts a config file as `im-attrs config trust` does (issue 11): tests that put a project file
 * with routing settings beside credentials from the environment must trust it first, as a user
 * would. JavaScript files are skipped (never trusted, never run from a project directory).
 */
export async function trustProjectFile(file: string, deps: { env: Record<string, string | undefined>; homeDir: string; cwd: string }): Promise<void> {
  if (CODE_FILE.test(file)) return;
  const env = { XDG_CONFIG_HOME: path.join(deps.homeDir, '.config'), ...deps.env };
  const loaded = await loadConfigFile({ env, homeDir: deps.homeDir, cwd: deps.cwd }, file);
  if (loaded) await trustFile({ env, homeDir: deps.homeDir }, loaded);
}
