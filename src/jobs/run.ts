/**
 * A run: what a command asks for instead of building it (gh's Factory, STYLE.md "the operation
 * layer, second pass"). One per command run, made by `withRun`:
 *
 * - the client, opened on first use and closed when the run ends;
 * - one pacer per endpoint, at the endpoint's documented rate (its descriptor's
 *   `callsPerSecond`), or less when `--rate` / the `rate` setting asks for less: two endpoints
 *   never share a budget, and one endpoint is never paced twice;
 * - the engine settings of a batch operation, bounded and defaulted by its descriptor
 *   (`--batch-size` ≤ `maxItems`, `--rate` ≤ `callsPerSecond`);
 * - single calls under the retry policy, a `retrySafe: false` one ending as MaybeSentError when
 *   its request may have arrived, and single writes previewed under `--dry-run`;
 * - the one y/N question, asked with the progress spinner stopped, naming the app it touches.
 */
import { Option, type Command } from 'commander';
import type { ImClient } from '../api/client.js';
import { codeInfo } from '../api/codes.js';
import type { BatchOperation, BatchOutcome, Endpoint, Operation, OperationCallOptions } from '../api/operation.js';
import { Pacer } from '../api/pacer.js';
import { classify, DEFAULT_RETRIES, DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_CAP_MS, mayHaveArrived, type RetryOptions } from '../api/policy.js';
import { describeSource } from '../config/resolve.js';
import { ApiError, ImAttrsError, InterruptedError, MaybeSentError, UsageError } from '../errors.js';
import { readTextLines } from '../input/accounts.js';
import { parseIntOption, type Runtime } from '../runtime/runtime.js';
import { callOnce, DEFAULT_CONCURRENCY, MAX_AUTO_CONCURRENCY, StopSwitch } from './engine.js';
import { Journal } from './journal.js';

/** Engine flags as commander parses them (strings until checked; absent: the operation's own). */
export interface EngineFlags {
  batchSize?: string | undefined;
  concurrency?: string | undefined;
  rate?: string | undefined;
  retries?: string | undefined;
  retryDelay?: string | undefined;
  retryMaxDelay?: string | undefined;
  saveFailed?: string | undefined;
  /** --failures: every failed and unsent account as ndjson. */
  failures?: string | undefined;
  /** The command's --file inputs, which --save-failed must not be. */
  file?: string[] | undefined;
}

/** What a write command adds: preview instead of sending, and skip the question. */
export interface WriteFlags {
  dryRun?: boolean | undefined;
  yes?: boolean | undefined;
}

export interface EngineSettings {
  batchSize: number;
  concurrency: number;
  /** No --concurrency given: the engine sizes it from the round trips, up to `concurrency`. */
  autoConcurrency: boolean;
  rate: number;
  retry: RetryOptions;
  saveFailed: string | undefined;
  /** --failures FILE (as given). */
  failures: string | undefined;
  /** The command's --file paths (as given): --save-failed refuses to be one of them. */
  inputFiles: readonly string[] | undefined;
}

/** What --save-failed holds: account IDs (reads) or records to re-run (writes). */
export type SaveKind = 'ids' | 'records';

/**
 * Adds the engine's flags to a batch command. Their defaults come from the operation the run sends.
 * `save.input`: the option that reads the saved file back (default --file; `push send` reads --to).
 * `save.help`: what --save-failed holds, for a command whose file is neither (undo).
 */
export function addEngineOptions(command: Command, save: { kind: SaveKind; verb?: string; input?: string; help?: string } = { kind: 'ids' }): Command {
  const input = save.input ?? '--file';
  return command
    .addOption(new Option('--batch-size <n>', "accounts per request (default and most: the endpoint's limit, 100 for attributes and tags)"))
    .addOption(
      new Option('--concurrency <n>', `requests in flight at once (default: sized from the round trips, at most ${MAX_AUTO_CONCURRENCY}; ${DEFAULT_CONCURRENCY} unpaced)`),
    )
    .addOption(
      new Option(
        '--rate <calls/s>',
        "most request starts in any one second (default: the `rate` setting, else the endpoint's documented limit, which is also the most); 0 = unpaced (emulator, private endpoints)",
      ),
    )
    .addOption(new Option('--retries <n>', 'retries of a failed request (network errors, 5xx, retryable codes)').default(String(DEFAULT_RETRIES)))
    .addOption(new Option('--retry-delay <ms>', 'first back-off ceiling; doubles per retry, full jitter').default(String(DEFAULT_RETRY_BASE_MS)))
    .addOption(new Option('--retry-max-delay <ms>', 'longest back-off').default(String(DEFAULT_RETRY_CAP_MS)))
    .option(
      '--save-failed <path>',
      save.help ??
        (save.kind === 'ids'
          ? `write the accounts that failed or were not sent, one per line (ready for ${input})`
          : `write the records of the accounts that failed or were not sent, as ndjson, ready for \`im-attrs ${save.verb} --file\` (default: none)`),
    )
    .option(
      '--failures <path>',
      `write every account that failed, was not sent or may have been sent as ndjson: {"account","code","reason","retriable"} (${input} reads it back)`,
    );
}

/** Asks on stderr, reads one line from stdin; only "y" or "yes" is a yes. */
async function ask(rt: Runtime, question: string): Promise<boolean> {
  rt.deps.io.stderr.write(`${question} [y/N] `);
  for await (const line of readTextLines(rt.deps.io.stdin, '<stdin>')) return /^\s*(y|yes)\s*$/i.test(line);
  return false;
}

/** Something on stderr that a question must not be hidden by (the progress spinner). */
export interface Pausable {
  clear(): void;
  /** Stops it for good (a question is an end to progress; the run redraws nothing after). */
  stop(): void;
}

/** What a single write's answer names, for its journal: a push's TaskId, a schedule's id. */
function resultId(out: unknown): string | undefined {
  if (typeof out === 'string' || typeof out === 'number') return String(out);
  if (out !== null && typeof out === 'object' && 'TaskId' in out) return String((out as { TaskId: unknown }).TaskId);
  return undefined;
}

export class Run {
  readonly rt: Runtime;
  readonly flags: EngineFlags & WriteFlags;
  /** The run's stop switch: Ctrl-C and fatal errors stop every batch and single call of the run. */
  readonly stop = new StopSwitch();
  #client: Promise<ImClient> | undefined;
  readonly #pacers = new Map<string, Pacer>();
  #requestedRate: number | undefined | null = null;
  #spinner: Pausable | undefined;
  #journal: Promise<Journal> | undefined;

  constructor(rt: Runtime, flags: EngineFlags & WriteFlags = {}) {
    this.rt = rt;
    this.flags = flags;
  }

  /** The client, opened on first use (sockets to cover the largest concurrency a run may use). */
  client(): Promise<ImClient> {
    const concurrency = this.flags.concurrency !== undefined ? parseIntOption('--concurrency', this.flags.concurrency, 1, 1000) : MAX_AUTO_CONCURRENCY;
    this.#client ??= this.rt.client({ maxSockets: concurrency });
    return this.#client;
  }

  #signals = 0;
  #underSignals = false;
  /** Removes the handler that ignores signals after an interrupted pass (close() calls it). */
  #ignoreLate: (() => void) | undefined;

  /**
   * Runs `use` with SIGINT/SIGTERM the run's: the first stops it (no new request of any kind),
   * the second aborts the requests in flight, any later one changes nothing, so the run still
   * writes its accounting (--save-failed, --failures, the journal) and ends with exit 130.
   */
  async underSignals<T>(use: () => Promise<T>): Promise<T> {
    // Already the run's (a write's before-state read inside its job): one handler, one count.
    if (this.#underSignals) return use();
    this.#underSignals = true;
    const { signals } = this.rt.deps;
    const onSignal = (): void => {
      this.#signals++;
      if (this.#signals === 1) {
        this.stop.stop('interrupt');
        this.rt.stderr('stopping: no new requests; waiting for those in flight (press Ctrl-C again to abort them)');
      } else this.stop.abort();
    };
    signals.on('SIGINT', onSignal);
    signals.on('SIGTERM', onSignal);
    try {
      return await use();
    } finally {
      this.#underSignals = false;
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
      if (this.#signals > 0 && this.#ignoreLate === undefined) {
        // Interrupted: the command still writes its accounting (later passes named, files
        // committed, the journal's end line) and exits 130. A signal in between must not kill it
        // first (the default action would end it without a word): ignored until the run closes.
        const late = (): void => undefined;
        signals.on('SIGINT', late);
        signals.on('SIGTERM', late);
        this.#ignoreLate = () => {
          signals.off('SIGINT', late);
          signals.off('SIGTERM', late);
        };
      }
    }
  }

  /** The run's write journal (journal.ts): one per run, whatever passes it makes. */
  journal(verb: string): Promise<Journal> {
    this.#journal ??= Journal.create(this.rt, verb);
    return this.#journal;
  }

  /** Ends the run: its journal's end line (once, whatever passes it made), then the client's sockets. */
  async close(): Promise<void> {
    try {
      (await this.#journal?.catch(() => undefined))?.finish();
    } finally {
      this.#ignoreLate?.();
    }
    const client = await this.#client?.catch(() => undefined);
    client?.close();
  }

  /**
   * The rate the user asked for: --rate, else the `rate` setting, else none (undefined: the
   * endpoint's own). Read once; 0 means unpaced.
   */
  async requestedRate(): Promise<number | undefined> {
    if (this.#requestedRate !== null) return this.#requestedRate;
    let rate: number | undefined;
    if (this.flags.rate !== undefined) rate = parseIntOption('--rate', this.flags.rate, 0, 100_000);
    else {
      const setting = (await this.rt.settings()).values.rate;
      if (setting !== undefined && setting.value.trim() !== '') rate = parseIntOption(`rate (from ${describeSource(setting.source)})`, setting.value.trim(), 0, 100_000);
    }
    this.#requestedRate = rate;
    return rate;
  }

  /** The rate an endpoint is paced at: the requested one, never above what the endpoint documents; 0 unpaced. */
  async rateFor(endpoint: Endpoint): Promise<number> {
    const requested = await this.requestedRate();
    if (requested === 0) return 0;
    return Math.min(requested ?? endpoint.callsPerSecond, endpoint.callsPerSecond);
  }

  /** The pacer of an endpoint (by path): one per endpoint per run, made once the rate is known (see rateFor). */
  async pacer(endpoint: Endpoint): Promise<Pacer> {
    let pacer = this.#pacers.get(endpoint.path);
    if (!pacer) {
      const rate = await this.rateFor(endpoint);
      // Another caller may have made it while the settings were read.
      pacer = this.#pacers.get(endpoint.path) ?? new Pacer({ rate });
      this.#pacers.set(endpoint.path, pacer);
    }
    return pacer;
  }

  /**
   * What the run learned of a shared budget: for each endpoint whose pacer had to go below its
   * rate because the server kept refusing (another client shares the app's limit), a line for
   * the summary.
   */
  sharedBudgetNotes(): string[] {
    const notes: string[] = [];
    for (const [endpoint, pacer] of this.#pacers) {
      const allowed = pacer.allowedRate();
      if (allowed === undefined) continue;
      notes.push(
        `the server allowed about ${Math.round(allowed)} calls/s to ${endpoint.slice(endpoint.lastIndexOf('/') + 1)} (asked: ${pacer.rate}): another client may share this app's limit; set --rate (or the rate setting) to leave it room`,
      );
    }
    return notes;
  }

  /** The retry policy of the flags (or the defaults, for commands without engine flags). */
  get retry(): RetryOptions {
    return {
      retries: parseIntOption('--retries', this.flags.retries ?? String(DEFAULT_RETRIES), 0, 100),
      baseMs: parseIntOption('--retry-delay', this.flags.retryDelay ?? String(DEFAULT_RETRY_BASE_MS), 0, 600_000),
      capMs: parseIntOption('--retry-max-delay', this.flags.retryMaxDelay ?? String(DEFAULT_RETRY_CAP_MS), 0, 3_600_000),
    };
  }

  /** The engine settings of a batch operation: the flags, bounded and defaulted by its descriptor. */
  async settingsFor<I, R, P>(op: BatchOperation<I, R, P>): Promise<EngineSettings> {
    const rate = await this.rateFor(op);
    const batchSize = this.flags.batchSize === undefined ? op.maxItems : parseIntOption('--batch-size', this.flags.batchSize, 1, op.maxItems);
    return {
      batchSize,
      ...concurrencySetting(this.flags.concurrency, rate),
      rate,
      retry: this.retry,
      saveFailed: this.flags.saveFailed,
      failures: this.flags.failures,
      inputFiles: this.flags.file,
    };
  }

  /**
   * One call that is not a batch (attribute names, a push, a recall), paced by its endpoint's
   * pacer and retried by the policy. A `retrySafe: false` call whose request may have reached
   * the server is never sent again: it ends as MaybeSentError.
   */
  call<In, Out>(op: Operation<In, Out>, input: In): Promise<Out> {
    return this.#once(op, (client, options) => client.call(op, input, options));
  }

  /** One call of a batch operation outside the runner (a write's before-state read), as `call`; `purpose` labels it. */
  callBatch<I, R, P>(op: BatchOperation<I, R, P>, items: readonly I[], params: P, purpose?: string): Promise<BatchOutcome<R>> {
    return this.#once(op, (client, options) => client.callBatch(op, items, params, { ...options, purpose }));
  }

  async #once<T>(op: Endpoint, send: (client: ImClient, options: OperationCallOptions) => Promise<T>): Promise<T> {
    // Stop means stop: once a run is told to stop, no new request of any kind starts.
    if (this.stop.stopped) throw new InterruptedError(`stopped: ${op.command} was not sent`);
    const [client, pacer] = await Promise.all([this.client(), this.pacer(op)]);
    let sent = false;
    try {
      // A single call is the run's under signals too: the first Ctrl-C lets it finish (a push
      // that left is answered and journaled) and sends no retry; the second aborts it.
      return await this.underSignals(() => callOnce(
        (signal, onSent) =>
          send(client, {
            signal,
            onSent: () => {
              sent = true;
              onSent();
            },
          }),
        {
          pacer,
          retry: this.retry,
          retrySafe: op.retrySafe,
          credentials: client.options.credentials,
          stop: this.stop,
          onRetry: (reason, delayMs) => this.rt.verbose(`${op.command}: ${reason}; retrying in ${delayMs} ms`),
        },
      ));
    } catch (error) {
      if (op.retrySafe || !sent || !(error instanceof ImAttrsError) || !mayHaveArrived(classify(error))) throw refusedNote(error, op);
      throw new MaybeSentError(`${error.message}: the request may have been sent (${op.path}); it was not sent again`, {
        hint: 'check what arrived before sending it again: `im-attrs --api timpush push stats` (TIMPush) or the Chat console',
        cause: error,
      });
    }
  }

  /** A single write: under --dry-run, the request printed on stdout and undefined returned; otherwise sent (see call). */
  async write<In, Out>(op: Operation<In, Out>, input: In, verb: string = op.command): Promise<Out | undefined> {
    if (this.flags.dryRun) {
      this.rt.deps.io.stdout.write(`${JSON.stringify(op.body(input), null, 2)}\n`);
      this.rt.info(`--dry-run: POST ${op.path} (to ${await this.target()}); nothing was sent`);
      return undefined;
    }
    // Journaled like every write: the request before it leaves, then how it ended.
    const journal = await this.journal(verb);
    journal.recordSingle(op.command, 'sending');
    try {
      const out = await this.call(op, input);
      journal.recordSingle(op.command, 'done', resultId(out));
      journal.addCounts({ done: 1 });
      return out;
    } catch (error) {
      const state = error instanceof MaybeSentError ? 'maybe' : 'failed';
      journal.recordSingle(op.command, state);
      journal.addCounts(state === 'maybe' ? { unknown: 1 } : { failed: 1 });
      throw error;
    }
  }

  /** The app a run touches, for questions and summaries: "app 1400000000 (profile prod), https://…". */
  async target(): Promise<string> {
    const [config, settings] = await Promise.all([this.rt.apiConfig(), this.rt.settings()]);
    const profile = settings.profile ? `, profile "${settings.profile.value}"` : '';
    return `app ${config.sdkAppId}${profile} at ${new URL(config.baseUrl).host}`;
  }

  /** The progress display a question must stop first (the runner registers its spinner). */
  set spinner(spinner: Pausable | undefined) {
    this.#spinner = spinner;
  }

  /**
   * Asks `question` (naming the app the run touches) where a person can answer (stdin is a
   * terminal), with the spinner stopped so the whole question is on its own line; true for
   * "y"/"yes". Otherwise it does not ask: --yes decides, and without it a UsageError says `what`
   * was not done.
   */
  async confirm(question: string, what = 'nothing was sent'): Promise<boolean> {
    if (this.flags.yes) return true;
    const { io } = this.rt.deps;
    if (!io.stdinIsTTY) {
      throw new UsageError(`this needs confirmation, and stdin is not a terminal: ${what}`, { hint: 'check what it would do (--dry-run), then pass --yes' });
    }
    this.#spinner?.clear();
    this.#spinner?.stop();
    this.#spinner = undefined;
    return ask(this.rt, `\n${question}\nTarget: ${await this.target()}.`);
  }
}

/** An explicit --concurrency wins; without one, paced runs size themselves up to a window's calls. */
function concurrencySetting(flag: string | undefined, rate: number): { concurrency: number; autoConcurrency: boolean } {
  if (flag !== undefined) return { concurrency: parseIntOption('--concurrency', flag, 1, 1000), autoConcurrency: false };
  if (rate <= 0) return { concurrency: DEFAULT_CONCURRENCY, autoConcurrency: false };
  return { concurrency: Math.min(MAX_AUTO_CONCURRENCY, Math.max(DEFAULT_CONCURRENCY, rate)), autoConcurrency: true };
}

/** A push (not safe to repeat) refused with an error code was not sent: say so, with the code's hint. */
function refusedNote(error: unknown, op: Endpoint): unknown {
  if (op.retrySafe || !(error instanceof ApiError) || error.apiCode === undefined) return error;
  return new ApiError(`${error.message} (refused: nothing was sent)`, {
    hint: error.hint ?? codeInfo(error.apiCode).hint,
    apiCode: error.apiCode,
    errorInfo: error.errorInfo,
    cause: error,
  });
}

/** Runs `use` with a Run of these flags, and closes it (the client's sockets) whatever happens. */
export async function withRun<T>(rt: Runtime, flags: EngineFlags & WriteFlags, use: (run: Run) => Promise<T>): Promise<T> {
  const run = new Run(rt, flags);
  try {
    return await use(run);
  } finally {
    await run.close();
  }
}
