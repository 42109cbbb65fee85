/**
 * What a command gets: the injected deps, the global flags, a stderr logger that redacts
 * secrets, and lazy access to the resolved configuration and an API client. One Runtime per run,
 * made by main.ts.
 *
 * Everything heavy is loaded on first use: runtime/connect.ts (config files, trust, signing, the
 * client) when a command asks for settings or a client, chalk once a command runs or an error is
 * printed. `--help` and `--version` load none of it (cold start: `npm run bench`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ImClient } from '../api/client.js';
import type { FamilyOperations, OperationName } from '../api/families.js';
import type { ApiFamily } from '../api/operation.js';
import type { ApiConfig } from './connect.js';
import type { GlobalOptions, Settings } from '../config/resolve.js';
import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { Secrets } from '../redact.js';
import { readAll } from '../util/fs.js';

export type { GlobalOptions } from '../config/resolve.js';

/** The colours stderr uses (plain functions, no chaining): chalk's, or plain text before chalk is loaded. */
export type Colors = Record<'red' | 'yellow' | 'green' | 'cyan' | 'dim', (text: string) => string>;

const plain = (text: string): string => text;
export const PLAIN_COLORS: Colors = { red: plain, yellow: plain, green: plain, cyan: plain, dim: plain };


export class Runtime {
  readonly deps: Deps;
  readonly secrets = new Secrets();
  private globals: GlobalOptions = {};
  private settingsPromise: Promise<Settings> | undefined;
  private familyPromise: Promise<ApiFamily> | undefined;
  private chalkModule: typeof import('chalk') | undefined;
  private colors: Colors | undefined;
  private warned = new Set<string>();

  /** Aborted when a stopped run closes its input (see closeInput). */
  private readonly inputAbort = new AbortController();

  constructor(deps: Deps) {
    this.deps = deps;
    // Secrets given through the environment are known before anything can print them.
    this.secrets.add(deps.env.IMADMIN_SECRET_KEY);
    this.secrets.add(deps.env.IMADMIN_USERSIG);
  }

  /** Files opened for input listen to this: closeInput() closes them. */
  get inputSignal(): AbortSignal {
    return this.inputAbort.signal;
  }

  /**
   * Stops reading input: closes stdin and every file opened with inputSignal. A stopped run calls
   * it once the input has been idle a while, so that an idle stdin, a FIFO or a producer that
   * never ends cannot keep it waiting; what was already read is kept.
   */
  closeInput(): void {
    this.inputAbort.abort();
    (this.deps.io.stdin as { destroy?: () => void }).destroy?.();
  }

  /** The command line of this run (main.ts sets it), as the write journal records it, redacted. */
  argv: readonly string[] = [];

  /** Called by program.ts once commander has parsed the global flags. */
  setGlobals(globals: GlobalOptions): void {
    this.globals = globals;
    this.secrets.add(globals.usersig);
    this.colors = undefined;
  }

  get options(): GlobalOptions {
    return this.globals;
  }

  /** Loads chalk: program.ts's preAction hook does before a command runs, main.ts before it prints an error. */
  async loadColors(): Promise<void> {
    this.chalkModule ??= await import('chalk');
  }

  /**
   * Colours for stderr: --color, then NO_COLOR/FORCE_COLOR, then whether stderr is a TTY. Plain
   * text until loadColors() has run (nothing prints through it before then today).
   */
  get chalk(): Colors {
    if (!this.chalkModule) return PLAIN_COLORS;
    if (!this.colors) {
      const mode = this.globals.color ?? 'auto';
      const env = this.deps.env;
      let enabled: boolean;
      if (mode === 'always') enabled = true;
      else if (mode === 'never') enabled = false;
      else if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') enabled = false;
      else if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') enabled = true;
      else enabled = this.deps.io.color;
      this.colors = new this.chalkModule.Chalk({ level: enabled ? 1 : 0 });
    }
    return this.colors;
  }

  /** Writes one line to stderr, secrets redacted. */
  stderr(line: string): void {
    this.deps.io.stderr.write(`${this.secrets.redact(line)}\n`);
  }

  /** A warning: always shown (even with --quiet), once per distinct text. */
  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.stderr(`${this.chalk.yellow('warning:')} ${message}`);
  }

  /** Progress and summaries: hidden by --quiet. */
  info(message: string): void {
    if (!this.globals.quiet) this.stderr(message);
  }

  /** Per-batch detail: only with --verbose or --debug. */
  verbose(message: string): void {
    if (this.globals.verbose || this.globals.debug) this.stderr(this.chalk.dim(message));
  }

  /** Request traces: only with --debug. */
  debug(message: string): void {
    if (this.globals.debug) this.stderr(this.chalk.dim(`debug: ${message}`));
  }

  /** Loads the config file and collects every setting (once per run). */
  settings(): Promise<Settings> {
    this.settingsPromise ??= import('./connect.js').then((connect) => connect.loadSettings(this));
    return this.settingsPromise;
  }

  /** The API family of this run (`api`: flag --api, IMADMIN_API, config), all_member_push by default. */
  family(): Promise<ApiFamily> {
    this.familyPromise ??= Promise.all([import('./connect.js'), this.settings()]).then(([connect, settings]) => connect.apiFamily(settings));
    return this.familyPromise;
  }

  /** The operation `name` of this run's API family. */
  async operation<N extends OperationName>(name: N): Promise<FamilyOperations[N]> {
    const [family, { operationFor }] = await Promise.all([this.family(), import('../api/families.js')]);
    return operationFor(family, name);
  }

  /** Validates everything an API call needs; errors name the key and where its value came from. */
  async apiConfig(): Promise<ApiConfig> {
    const [connect, settings] = await Promise.all([import('./connect.js'), this.settings()]);
    return connect.apiConfig(this, settings);
  }

  /** Reads a secret key from a file or stdin ("-"): the first line, trimmed, registered as a secret. */
  async readSecretKeyFile(file: string): Promise<string> {
    let text: string;
    if (file === '-') {
      text = await readAll(this.deps.io.stdin);
    } else {
      const resolved = path.resolve(this.deps.cwd, file);
      try {
        text = readFileSync(resolved, 'utf8');
      } catch (error) {
        throw new UsageError(`--secret-key-file ${resolved} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    const key = text.split(/\r?\n/)[0]?.trim() ?? '';
    if (!key) throw new UsageError(`--secret-key-file ${file}: the file is empty`);
    this.secrets.add(key);
    return key;
  }

  /** An API client for the resolved configuration. Close it when done. */
  async client(options: { maxSockets?: number } = {}): Promise<ImClient> {
    const [connect, config] = await Promise.all([import('./connect.js'), this.apiConfig()]);
    return connect.newClient(this, config, options);
  }
}

/** Parses an integer option within bounds, as a usage error naming the flag. */
export function parseIntOption(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return n;
}
