/**
 * The one job runner every batched command goes through (get, set, remove, and every batched
 * endpoint after them). A command supplies its operation (api/operation.ts), its items and what
 * to do with results; the runner owns everything around the engine:
 *
 * - splitting by the operation's limits (`maxItems`, per-item `split`), pacing, retries by the
 *   operation's retry safety, Ctrl-C (first: no new requests; second: abort those in flight);
 * - `--dry-run` for writes (the requests it would send, on stdout);
 * - failures (failures.ts): a bounded block on stderr, every one in `--failures FILE` (ndjson);
 *   `--save-failed`, the summary and the exit status.
 *
 * Reads and writes differ in what a re-run needs, and the operation's `writes` says which:
 * - a read saves account IDs (streamed: ready for `--file`), prints its summary on a terminal or
 *   with --verbose, and fails with exit 5 when some accounts failed ("the others were printed");
 * - a write saves the body element of each account not updated (`itemBody`, as ndjson, written
 *   whole at the end: the same command's `--file` re-runs exactly them), always prints a summary
 *   that counts skipped input, and exits 5 when any input was skipped or any account failed.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { API_RATE_LIMIT, Pacer } from '../api/pacer.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_CAP_MS } from '../api/policy.js';
import type { ImClient } from '../api/client.js';
import { MAX_ACCOUNTS_PER_CALL } from '../api/attrs.js';
import type { BatchOperation, Operation } from '../api/operation.js';
import { callOnce, DEFAULT_CONCURRENCY, MAX_AUTO_CONCURRENCY, runBatches, StopSwitch, type BatchReport, type EngineStats } from './engine.js';
import { ApiError, ExitCode, ImAttrsError, InterruptedError, PartialFailureError, UsageError } from '../errors.js';
import { parseIntOption, type Runtime } from '../runtime/runtime.js';
import { checkTarget, inputIdentities, SafeFile } from '../util/safe-file.js';
import { plural } from '../util/text.js';
import { FailureReport, listedId, NOT_PRINTED } from './failures.js';

/** Engine flags as commander parses them (strings until checked). */
export interface EngineFlags {
  batchSize: string;
  concurrency?: string | undefined;
  rate: string;
  retries: string;
  retryDelay: string;
  retryMaxDelay: string;
  saveFailed?: string | undefined;
  /** --failures: every failed and unsent account as ndjson. */
  failures?: string | undefined;
  /** The command's --file inputs, which --save-failed must not be. */
  file?: string[] | undefined;
}

export interface EngineSettings {
  batchSize: number;
  concurrency: number;
  /** No --concurrency given: the engine sizes it from the round trips, up to `concurrency`. */
  autoConcurrency?: boolean | undefined;
  rate: number;
  retries: number;
  retryDelayMs: number;
  retryMaxDelayMs: number;
  saveFailed: string | undefined;
  /** --failures FILE (as given). */
  failures: string | undefined;
  /** The command's --file paths (as given): --save-failed refuses to be one of them. */
  inputFiles: readonly string[] | undefined;
}

/** After an interrupt, how long the input may stay idle before stdin is closed (see watchIdleInput). */
const IDLE_INPUT_MS = 400;

/** What `--save-failed` holds: account IDs (reads) or records to re-run (writes). */
export type SaveKind = 'ids' | 'records';

/** Adds the engine's flags to a command. */
export function addEngineOptions(command: Command, save: { kind: SaveKind; verb?: string } = { kind: 'ids' }): Command {
  return command
    .addOption(new Option('--batch-size <n>', `accounts per request, 1-${MAX_ACCOUNTS_PER_CALL}`).default(String(MAX_ACCOUNTS_PER_CALL)))
    .addOption(
      new Option('--concurrency <n>', `requests in flight at once (default: sized from the round trips, at most ${MAX_AUTO_CONCURRENCY}; ${DEFAULT_CONCURRENCY} unpaced)`),
    )
    .addOption(
      new Option('--rate <calls/s>', 'most request starts in any one second; 0 = unpaced (emulator, private endpoints)').default(
        String(API_RATE_LIMIT),
      ),
    )
    .addOption(new Option('--retries <n>', 'retries of a failed request (network errors, 5xx, retryable codes)').default(String(DEFAULT_RETRIES)))
    .addOption(new Option('--retry-delay <ms>', 'first back-off ceiling; doubles per retry, full jitter').default(String(DEFAULT_RETRY_BASE_MS)))
    .addOption(new Option('--retry-max-delay <ms>', 'longest back-off').default(String(DEFAULT_RETRY_CAP_MS)))
    .option(
      '--save-failed <path>',
      save.kind === 'ids'
        ? 'write the accounts that failed or were not sent, one per line (ready for --file)'
        : `write the records of the accounts that failed or were not sent, as ndjson, ready for \`im-attrs ${save.verb} --file\` (default: none)`,
    )
    .option(
      '--failures <path>',
      'write every account that failed or was not sent as ndjson: {"account","code","reason","retriable"} (--file reads it back)',
    );
}

/** Checks the engine flags. */
export function engineSettings(flags: EngineFlags): EngineSettings {
  return {
    batchSize: parseIntOption('--batch-size', flags.batchSize, 1, MAX_ACCOUNTS_PER_CALL),
    ...concurrencySetting(flags.concurrency, parseIntOption('--rate', flags.rate, 0, 100_000)),
    rate: parseIntOption('--rate', flags.rate, 0, 100_000),
    retries: parseIntOption('--retries', flags.retries, 0, 100),
    retryDelayMs: parseIntOption('--retry-delay', flags.retryDelay, 0, 600_000),
    retryMaxDelayMs: parseIntOption('--retry-max-delay', flags.retryMaxDelay, 0, 3_600_000),
    saveFailed: flags.saveFailed,
    failures: flags.failures,
    inputFiles: flags.file,
  };
}

/** An explicit --concurrency wins; without one, paced runs size themselves up to a window's calls. */
function concurrencySetting(flag: string | undefined, rate: number): { concurrency: number; autoConcurrency: boolean } {
  if (flag !== undefined) return { concurrency: parseIntOption('--concurrency', flag, 1, 1000), autoConcurrency: false };
  if (rate <= 0) return { concurrency: DEFAULT_CONCURRENCY, autoConcurrency: false };
  return { concurrency: Math.min(MAX_AUTO_CONCURRENCY, Math.max(DEFAULT_CONCURRENCY, rate)), autoConcurrency: true };
}

/** Input a write command read but will not send, for the summary and the exit status. */
export interface Skipped {
  /** Records refused by the checks (already listed on stderr). */
  bad: number;
  /** Records with nothing to do (no attribute to set). */
  empty: number;
}

export interface Job<I, R> {
  /** What each call does. */
  operation: BatchOperation<I, R>;
  client: ImClient;
  /** Shared with the command's single calls, so together they stay under --rate. */
  pacer: Pacer;
  /** "get", "set", "remove": used in messages. */
  verb: string;
  items: AsyncIterable<I>;
  /** Results of one call, in input order. */
  onResults?: (results: R[]) => void | Promise<void>;
  /** Called once after the last batch, even after an error (close the JSON array, render the table). */
  finish?: () => void;
  /** Accounts known in advance (for the spinner's ETA); undefined when streaming. */
  total?: number | undefined;
  /**
   * Work before the first batch (e.g. fetching the attribute names, creating the writer), once
   * --save-failed is open: when it fails, every account is written there as not done, then its
   * error ends the run. `out` is stdout as the runner watches it: write results there (and only
   * from `onResults`/`finish`), so that a write error is caught and what was not printed is saved.
   */
  before?: (out: NodeJS.WritableStream) => Promise<void>;
  /** Writes: input skipped before sending, counted as the items stream past (read at the end). */
  skipped?: () => Skipped;
  /** Writes: print the requests instead of sending them. */
  dryRun?: boolean | undefined;
  /**
   * Writes in two passes (`tags set` on all_member_push: clear, then add): the items an earlier
   * pass failed, read at the end. They count as failed in the summary and exit status and are
   * saved to --save-failed with this pass's own, so the file holds every account not done.
   */
  failedBefore?: () => readonly I[];
  /** Writes whose --file reads account IDs (`tags clear`): what --save-failed writes per item (default: the itemBody as ndjson). */
  saveLine?: (item: I) => string;
}

/**
 * Runs a job to the end and returns normally only when every account succeeded. Otherwise
 * throws: the fatal error (auth/config), InterruptedError (130) or PartialFailureError (5), always
 * after the output is complete and --save-failed is written.
 */
export async function runJob<I, R>(rt: Runtime, settings: EngineSettings, job: Job<I, R>): Promise<EngineStats | undefined> {
  const items = job.operation.split ? splitItems(job.items, job.operation.split) : job.items;
  if (job.operation.writes) return runWrite(rt, settings, { ...job, items });
  return runRead(rt, settings, { ...job, items });
}

/** Items with per-item caps split into parts, in order. */
async function* splitItems<I>(items: AsyncIterable<I>, split: (item: I) => I[]): AsyncGenerator<I> {
  for await (const item of items) yield* split(item);
}

/** The engine flags' retry policy. */
function retryOptions(settings: EngineSettings): { retries: number; baseMs: number; capMs: number } {
  return { retries: settings.retries, baseMs: settings.retryDelayMs, capMs: settings.retryMaxDelayMs };
}

/**
 * Opens --save-failed (util/safe-file.ts): never one of the inputs, never a FIFO or device, and
 * replaced (atomically, through a temporary file beside it) only when something is saved.
 */
function openSaveFailed(rt: Runtime, settings: EngineSettings): Promise<SafeFile> {
  return SafeFile.open(path.resolve(rt.deps.cwd, settings.saveFailed!), '--save-failed', inputIdentities(rt.deps.cwd, settings.inputFiles, rt.deps.io.stdin));
}

/**
 * Checks --save-failed now (not an input, not a FIFO or device), for commands that make a call
 * before the runner opens it (set and remove fetch the attribute names first): a bad target is
 * refused before any request, --dry-run included.
 */
export function checkSaveFailed(rt: Runtime, settings: EngineSettings): void {
  if (settings.saveFailed) checkTarget(path.resolve(rt.deps.cwd, settings.saveFailed), '--save-failed', inputIdentities(rt.deps.cwd, settings.inputFiles, rt.deps.io.stdin));
}


/** The core shared by reads and writes: signals, spinner, engine, failure lines. */

/** Opens --failures, with the same rules as --save-failed (util/safe-file.ts). */
async function openFailures(rt: Runtime, settings: EngineSettings): Promise<FailureReport> {
  if (!settings.failures) return new FailureReport(undefined);
  if (settings.saveFailed && path.resolve(rt.deps.cwd, settings.saveFailed) === path.resolve(rt.deps.cwd, settings.failures)) {
    throw new UsageError('--failures and --save-failed name the same file', { hint: 'give them different paths' });
  }
  const inputs = inputIdentities(rt.deps.cwd, settings.inputFiles, rt.deps.io.stdin);
  return new FailureReport(await SafeFile.open(path.resolve(rt.deps.cwd, settings.failures), '--failures', inputs), settings.failures);
}

/** Prints the bounded failure block on stderr. */
function printFailures(rt: Runtime, report: FailureReport): void {
  for (const line of report.lines()) rt.stderr(`${rt.chalk.red('failed:')} ${line}`);
}

/** Commits --failures and says where the full list went. */
async function commitFailures(rt: Runtime, report: FailureReport, verb: string): Promise<void> {
  if (!report.file) return;
  if (await report.commit()) {
    const rerun = verb === 'get' ? `; re-run them with --file ${report.file}` : '';
    rt.info(`wrote ${plural(report.written, 'failed account')} to ${report.file} (ndjson: account, code, reason, retriable)${rerun}`);
  }
}

/** The core shared by reads and writes: signals, spinner, engine, failures. */
async function drive<I, R>(
  rt: Runtime,
  settings: EngineSettings,
  job: Job<I, R>,
  hooks: {
    /** Where items never sent go; undefined when nothing keeps them (no --save-failed): the input is then not read on after a stop. */
    save: ((items: I[]) => Promise<void>) | undefined;
    onSent?: (items: readonly I[]) => void;
    stop?: StopSwitch;
    failures: FailureReport;
  },
): Promise<{ stats: EngineStats; fatal: ImAttrsError | undefined; interrupted: boolean; reasons: ReadonlyMap<string, number> }> {
  const { deps } = rt;
  const op = job.operation;
  deps.preferSmallHeap?.();
  const stop = hooks.stop ?? new StopSwitch();
  let signalCount = 0;
  const onSignal = (): void => {
    signalCount++;
    if (signalCount === 1) {
      stop.stop('interrupt');
      rt.stderr(`stopping: no new requests; waiting for those in flight (press Ctrl-C again to abort them)`);
    } else {
      stop.abort();
    }
  };
  let stats: EngineStats | undefined;
  // Whatever stops the run (Ctrl-C, an auth error, a closed stdout), an input that then stays
  // idle is closed, so that the run ends with what it read.
  let idle: { stop(): void } | undefined;
  stop.onStop(() => {
    idle ??= closeInputWhenIdle(rt, stop, () => (stats ? { waiting: stats.waitingForInput, read: stats.itemsRead } : undefined));
  });
  deps.signals.on('SIGINT', onSignal);
  deps.signals.on('SIGTERM', onSignal);
  const report = hooks.failures;
  let spinner: Spinner | undefined;
  const out = deps.io.stdout as NodeJS.WritableStream & { writableNeedDrain?: boolean };
  try {
    const outcome = await runBatches<I, R>({
      source: job.items,
      send: async (items, signal, sent) => {
        hooks.onSent?.(items);
        // A composite operation (two calls per batch) sends itself, pacing its further calls.
        if (op.send) return op.send(job.client, items, { signal, onSent: sent, pacer: job.pacer });
        return job.client.call(op, items, { signal, onSent: sent });
      },
      batchSize: Math.min(settings.batchSize, op.maxItems),
      keyOf: op.split ? op.accountOf : undefined,
      concurrency: settings.concurrency,
      autoConcurrency: settings.autoConcurrency,
      pacer: job.pacer,
      retry: retryOptions(settings),
      retrySafe: op.retrySafe,
      credentials: job.client.options.credentials,
      stop,
      onStart: async (live) => {
        stats = live;
        spinner = await startSpinner(rt, job.verb, job.total, live);
      },
      onRetry: ({ index, attempt, reason, delayMs }) => rt.verbose(`batch ${index + 1}: ${reason}; retry ${attempt}/${settings.retries} in ${delayMs} ms`),
      onBatch: async (batch: BatchReport<I, R>) => {
        await job.onResults?.(batch.results);
        if (batch.failures.length > 0) {
          // Failures are gathered into the bounded block printed at the end (and --failures);
          // --verbose shows each batch's as it happens.
          const byReason = new Map<string, I[]>();
          for (const f of batch.failures) {
            const list = byReason.get(f.reason) ?? [];
            list.push(f.item);
            byReason.set(f.reason, list);
          }
          for (const [reason, failed] of byReason) {
            if (rt.options.verbose) spinner?.clear();
            rt.verbose(`batch ${batch.index + 1}: failed: ${plural(failed.length, 'account')} (${reason}): ${failed.map((i) => listedId(op.accountOf(i))).join(' ')}`);
            await hooks.save?.(failed);
          }
          // The per-account code travels on the operation's ItemFailure when the API gave one.
          await report.failed(batch.failures.map((f) => ({ account: op.accountOf(f.item), reason: f.reason, code: (f as { code?: number }).code })));
        }
        rt.verbose(`batch ${batch.index + 1}: ${batch.results.length} ok, ${batch.failures.length} failed, ${batch.attempts} attempt(s)`);
        if (out.writableNeedDrain) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      },
      // Read on after a stop only for a file that keeps what was not sent (--save-failed, --failures).
      onUndone:
        hooks.save || hooks.failures.file
          ? async (items) => {
              await hooks.save?.(items);
              await report.unsent(items.map(op.accountOf));
            }
          : undefined,
    });
    spinner?.stop();
    printFailures(rt, report);
    return { ...outcome, reasons: report.reasons };
  } finally {
    idle?.stop();
    spinner?.stop();
    deps.signals.off('SIGINT', onSignal);
    deps.signals.off('SIGTERM', onSignal);
  }
}

/**
 * After a stop, what the input still holds is read (and saved) as long as it comes; but a stdin
 * that is open and idle (a script's inherited stdin, `sleep 100 | im-attrs get`), a FIFO or a
 * producer that never ends would keep the run waiting for a line that never comes. Once the input
 * has been waited on for IDLE_INPUT_MS without a new item, it is closed (Runtime.closeInput).
 */
function closeInputWhenIdle(rt: Runtime, stop: StopSwitch, progress: () => { waiting: boolean; read: number } | undefined): { stop(): void } {
  let last = -1;
  let idleSince = Date.now();
  const timer = setInterval(() => {
    const now = progress();
    if (!now) return;
    if (!now.waiting || now.read !== last) {
      last = now.read;
      idleSince = Date.now();
    } else if (Date.now() - idleSince >= IDLE_INPUT_MS) {
      clearInterval(timer);
      stop.inputClosed = true;
      rt.closeInput();
    }
  }, IDLE_INPUT_MS / 4);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The account a result is about: results are records named as the API names them. */
function accountOfResult(result: unknown): string {
  return typeof result === 'object' && result !== null && 'To_Account' in result ? String((result as { To_Account: unknown }).To_Account) : String(result);
}

/**
 * stdout as a read job writes to it, watched. What a batch's results write is gathered and
 * handed to stdout in one write when the batch is done (one write per batch also saves the CPU of
 * one per record); the batch counts as printed only when stdout accepted that write. After a write
 * error (a closed pipe, a full disk) nothing more is written, and the accounts of every batch not
 * printed are handed back to be saved: each account ends printed or saved, never both.
 * Chunks written outside a batch (a header, the closing bracket) go straight through.
 */
function watchOutput(real: NodeJS.WritableStream, onError: (error: NodeJS.ErrnoException) => void) {
  let buffer: Array<string | Uint8Array> | undefined;
  let error: NodeJS.ErrnoException | undefined;
  const unprinted: string[] = [];
  const fail = (err: NodeJS.ErrnoException): void => {
    if (error) return;
    error = err;
    onError(err);
  };
  // The stream also emits 'error': without a listener that would end the process.
  const onStreamError = (err: NodeJS.ErrnoException): void => fail(err);
  real.on('error', onStreamError);
  /** Writes to stdout; `done(ok)` once it accepted or refused the chunk. */
  const put = (chunk: string | Uint8Array, done: (ok: boolean) => void): void => {
    if (error) return done(false);
    try {
      real.write(chunk, (err?: Error | null) => {
        if (err) fail(err as NodeJS.ErrnoException);
        done(!err);
      });
    } catch (err) {
      fail(err as NodeJS.ErrnoException);
      done(false);
    }
  };
  const stream = {
    write(chunk: string | Uint8Array): boolean {
      if (buffer) buffer.push(chunk);
      else put(chunk, () => undefined);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return {
    stream,
    get error(): NodeJS.ErrnoException | undefined {
      return error;
    },
    /**
     * Runs `print` with what it writes gathered, then writes it in one piece, counted against
     * `accounts` (asked for only when the write fails: the common path makes no list).
     */
    async printing(accounts: () => string[], print: () => void | Promise<void>): Promise<void> {
      buffer = [];
      try {
        await print();
      } finally {
        const chunks = buffer;
        buffer = undefined;
        const text = chunks.every((c) => typeof c === 'string') ? (chunks as string[]).join('') : Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
        if (text.length === 0) {
          if (error) unprinted.push(...accounts());
        } else {
          put(text, (ok) => {
            if (!ok) unprinted.push(...accounts());
          });
        }
      }
    },
    /** Waits until stdout has accepted (or refused) everything written; returns the accounts not printed. */
    async settle(): Promise<string[]> {
      await new Promise<void>((resolve) => put('', () => resolve()));
      real.off('error', onStreamError);
      return unprinted.splice(0);
    },
  };
}

/** A read: results printed as they come, failed and unsent account IDs streamed to --save-failed. */
async function runRead<I, R>(rt: Runtime, settings: EngineSettings, job: Job<I, R>): Promise<EngineStats> {
  const op = job.operation;
  const sink = settings.saveFailed ? await openSaveFailed(rt, settings) : undefined;
  let saved = 0;
  const saveAccounts = async (accounts: string[]): Promise<void> => {
    if (!sink || accounts.length === 0) return;
    saved += accounts.length;
    await sink.write(`${accounts.join('\n')}\n`);
  };
  const save = (items: I[]): Promise<void> => saveAccounts(items.map(op.accountOf));
  const failures = await openFailures(rt, settings);
  const stop = new StopSwitch();
  // A write error on stdout stops the run like a fatal error: nothing more is sent, and the
  // rest of the input is saved with the accounts that were not printed.
  const output = watchOutput(rt.deps.io.stdout, () => stop.stop('fatal'));
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    job.finish?.();
  };
  try {
    if (job.before) {
      try {
        await job.before(output.stream);
      } catch (error) {
        // Nothing was sent: every account is not done.
        if (sink || failures.file) {
          await drainToSave(rt, job.items, async (items) => {
            await save(items);
            await failures.unsent(items.map(op.accountOf));
          });
        }
        throw error;
      }
    }
    const { stats: s, fatal, interrupted } = await drive(
      rt,
      settings,
      {
        ...job,
        onResults: (results) => output.printing(() => results.map(accountOfResult), () => job.onResults?.(results)),
      },
      { save: sink ? save : undefined, stop, failures },
    );
    finish();
    const unprinted = await output.settle();
    await saveAccounts(unprinted);
    await failures.unsent(unprinted, NOT_PRINTED);
    const seconds = Math.max(0.001, (Date.now() - s.startedAt) / 1000);
    const parts = [`${plural(s.itemsDone, 'account')} returned`];
    if (s.itemsFailed) parts.push(`${s.itemsFailed.toLocaleString('en-US')} failed`);
    if (s.itemsUndone) parts.push(`${s.itemsUndone.toLocaleString('en-US')} not sent`);
    const summary = `${parts.join(', ')} in ${seconds.toFixed(1)} s (${plural(s.calls, 'call')}, ${plural(s.retries, 'retry')})`;
    if (rt.deps.io.stderrIsTTY || rt.options.verbose) rt.info(summary);
    // A write error (a full disk) is an error here, never "wrote N accounts".
    await sink?.commit();
    if (sink && saved) rt.info(`wrote ${plural(saved, 'account')} to ${settings.saveFailed}; re-run with --file ${settings.saveFailed}`);
    await commitFailures(rt, failures, job.verb);
    if (fatal) throw fatal;
    const outputError = output.error;
    if (outputError) {
      // A closed pipe (`| head`) is the reader's choice: stop quietly, as a Unix filter does.
      if (outputError.code === 'EPIPE' || outputError.code === 'ERR_STREAM_DESTROYED') return s;
      throw new ImAttrsError('output', ExitCode.api, `cannot write the output: ${outputError.code ?? outputError.message}`, {
        hint: sink
          ? `the accounts not printed were saved: re-run them with --file ${settings.saveFailed}`
          : 'use --save-failed <path> to keep the accounts that could not be printed',
      });
    }
    const hint = settings.saveFailed ? `re-run them with --file ${settings.saveFailed}` : 'use --save-failed <path> to collect them for a re-run';
    if (interrupted) {
      throw new InterruptedError(`interrupted: ${plural(s.itemsDone, 'account')} done, ${plural(s.itemsUndone + s.itemsFailed, 'account')} not done`, {
        hint: settings.saveFailed ? `re-run the rest with --file ${settings.saveFailed}` : 'use --save-failed <path> to keep the accounts that were not done',
      });
    }
    if (s.itemsFailed) {
      const why = failures.why();
      // Nothing came back at all: that is not a partial result but a failed run (exit 1).
      if (s.itemsDone === 0) throw new ApiError(`all ${plural(s.itemsFailed, 'account')} failed (${why})`, { hint });
      throw new PartialFailureError(`${plural(s.itemsFailed, 'account')} failed (${why}); the others were printed`, s.itemsFailed, { hint });
    }
    return s;
  } finally {
    finish();
    await output.settle();
    // Already committed unless the run failed early; then say so if the accounts could not be saved.
    await sink?.commit().catch((error: Error) => rt.stderr(`im-attrs: ${error.message}`));
    await failures.commit().catch((error: Error) => rt.stderr(`im-attrs: ${error.message}`));
  }
}

/**
 * A write: the requests (or, with --dry-run, what they would be), then a summary that counts
 * skipped input, and --save-failed with the records of every account not updated.
 */
async function runWrite<I, R>(rt: Runtime, settings: EngineSettings, job: Job<I, R>): Promise<EngineStats | undefined> {
  const op = job.operation;
  const { verb } = job;
  const itemBody = op.itemBody ?? ((item: I) => ({ To_Account: op.accountOf(item) }));
  const skipped = (): Skipped => job.skipped?.() ?? { bad: 0, empty: 0 };
  const emptyNote = (empty: number): string => (empty ? `, ${empty} skipped (nothing to ${verb})` : '');

  if (job.dryRun) {
    const out = rt.deps.io.stdout;
    const batchSize = Math.min(settings.batchSize, op.maxItems);
    let batch: I[] = [];
    const inBatch = new Set<string>();
    let requests = 0;
    let accounts = 0;
    let lastAccount: string | undefined;
    const flush = (): void => {
      if (batch.length === 0) return;
      requests++;
      out.write(`${op.command} request ${requests} (${plural(batch.length, 'account')})\n`);
      for (const item of batch) out.write(`  ${JSON.stringify(itemBody(item))}\n`);
      batch = [];
      inBatch.clear();
    };
    for await (const item of job.items) {
      const account = op.accountOf(item);
      if (account !== lastAccount) accounts++;
      lastAccount = account;
      // As the engine chunks: parts of one account's request (a per-item cap) go in separate calls.
      if (op.split && inBatch.has(account)) flush();
      inBatch.add(account);
      batch.push(item);
      if (batch.length >= batchSize) flush();
    }
    flush();
    const { bad, empty } = skipped();
    rt.info(`${verb} --dry-run: ${plural(accounts, 'account')} in ${plural(requests, 'request')} would be updated, ${bad} skipped (bad input)${emptyNote(empty)}; nothing was sent`);
    if (bad > 0) throw skippedError(verb, bad, true);
    return undefined;
  }

  const saveFile = settings.saveFailed ? await openSaveFailed(rt, settings) : undefined;
  const failures = await openFailures(rt, settings);
  // Items handed to the engine and not yet confirmed, by identity (an account split into parts by a
  // per-item cap is several items), each with whether it went out in a request: at the end, the
  // attempted ones failed and the others were never sent. Confirmed items leave, so memory stays
  // with what is in flight or failed.
  const outstanding = new Map<I, { attempted: boolean }>();
  // Accounts read (the parts of one account are consecutive): updated = read − failed − unsent.
  let accountsRead = 0;
  let lastAccount: string | undefined;
  async function* tracked(): AsyncGenerator<I> {
    for await (const item of job.items) {
      const account = op.accountOf(item);
      if (account !== lastAccount) accountsRead++;
      lastAccount = account;
      outstanding.set(item, { attempted: false });
      yield item;
    }
  }
  let failure: unknown;
  let stats: EngineStats | undefined;
  try {
    const outcome = await drive(
      rt,
      settings,
      {
        ...job,
        items: tracked(),
        onResults: async (results) => {
          // A write's results are its items, the same objects (writeOutcome).
          for (const result of results) outstanding.delete(result as unknown as I);
          await job.onResults?.(results);
        },
      },
      {
        // The records of what was not updated are written whole at the end.
        save: saveFile ? async () => undefined : undefined,
        onSent: (items) => {
          for (const item of items) {
            const state = outstanding.get(item);
            if (state) state.attempted = true;
          }
        },
        failures,
      },
    );
    stats = outcome.stats;
    const s = outcome.stats;
    if (outcome.fatal) throw outcome.fatal;
    const hint = 'use --save-failed <path> to collect them for a re-run';
    if (outcome.interrupted) {
      throw new InterruptedError(`interrupted: ${plural(s.itemsDone, 'account')} done, ${plural(s.itemsUndone + s.itemsFailed, 'account')} not done`, {
        hint: 'use --save-failed <path> to keep the accounts that were not done',
      });
    }
    if (s.itemsFailed) {
      const why = failures.why();
      if (s.itemsDone === 0) throw new ApiError(`all ${plural(s.itemsFailed, 'account')} failed (${why})`, { hint });
      throw new PartialFailureError(`${plural(s.itemsFailed, 'account')} failed (${why}); the others were updated`, s.itemsFailed, { hint });
    }
  } catch (error) {
    failure = error;
  } finally {
    job.finish?.();
  }
  // Counted in accounts: one failed part fails its account, which is then not "not sent" too.
  const failedAccounts = new Set<string>();
  const unsentAccounts = new Set<string>();
  for (const [item, state] of outstanding) (state.attempted ? failedAccounts : unsentAccounts).add(op.accountOf(item));
  for (const account of failedAccounts) unsentAccounts.delete(account);
  const unsent = unsentAccounts.size;
  const updated = accountsRead - failedAccounts.size - unsent;
  // A second pass (tags set): the accounts its first pass failed are failed too.
  const earlier = job.failedBefore?.() ?? [];
  const failed = failedAccounts.size + earlier.length;
  if (failure instanceof PartialFailureError && earlier.length > 0) {
    failure = new PartialFailureError(`${failure.message}; ${plural(earlier.length, 'account')} failed in an earlier step`, failure.failed + earlier.length, { hint: failure.hint });
  } else if (failure === undefined && earlier.length > 0) {
    const hint = 'use --save-failed <path> to collect them for a re-run';
    failure =
      updated === 0
        ? new ApiError(`all ${plural(earlier.length, 'account')} failed`, { hint })
        : new PartialFailureError(`${plural(earlier.length, 'account')} failed in an earlier step; the others were updated`, earlier.length, { hint });
  }
  const { bad, empty } = skipped();
  rt.info(`${verb}: ${plural(updated, 'account')} updated, ${bad} skipped (bad input)${emptyNote(empty)}, ${failed} failed${unsent ? `, ${unsent} not sent` : ''}`);
  const rerun = saveFile ? `im-attrs ${verb} --file ${settings.saveFailed}` : undefined;
  if (saveFile) {
    try {
      // Each part not done, so that a re-run sends exactly what did not happen.
      const line = job.saveLine ?? ((item: I) => JSON.stringify(itemBody(item)));
      await saveFile.commit([...earlier, ...outstanding.keys()].map((item) => `${line(item)}\n`));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--save-failed ${saveFile.path} cannot be written: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const written = outstanding.size + earlier.length;
    if (written > 0) rt.info(`wrote ${plural(written, 'record')} to ${settings.saveFailed}; re-run them: ${rerun}`);
  }
  try {
    await commitFailures(rt, failures, verb);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--failures ${settings.failures} cannot be written: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (failure !== undefined) throw rerun ? withRerunHint(failure, rerun) : failure;
  if (bad > 0) throw skippedError(verb, bad, false);
  return stats;
}

function skippedError(verb: string, bad: number, dryRun: boolean): PartialFailureError {
  return new PartialFailureError(
    `${plural(bad, 'bad record')} ${dryRun ? 'would be' : 'were'} skipped; the other accounts ${dryRun ? 'would be' : 'were'} updated`.replace(
      /^1 bad record were/,
      '1 bad record was',
    ),
    bad,
    { hint: `fix the records listed above and run again (${verb} is idempotent), or use --strict to refuse any input with a bad record` },
  );
}

/** The engine's errors point at --save-failed generically; with records saved, say how to re-run them. */
function withRerunHint(error: unknown, rerun: string): unknown {
  if (!(error instanceof ImAttrsError) || !error.hint?.includes('--save-failed')) return error;
  const hint = `re-run them: ${rerun}`;
  if (error instanceof PartialFailureError) return new PartialFailureError(error.message, error.failed, { hint });
  if (error instanceof InterruptedError) return new InterruptedError(error.message, { hint });
  if (error instanceof ApiError) return new ApiError(error.message, { hint, apiCode: error.apiCode, errorInfo: error.errorInfo, status: error.status });
  return error;
}

/** Writes every item of the input to --save-failed, in chunks; an input that stays idle is closed. */
async function drainToSave<I>(rt: Runtime, items: AsyncIterable<I>, save: (items: I[]) => Promise<void>): Promise<void> {
  let read = 0;
  let waiting = false;
  const idle = closeInputWhenIdle(rt, new StopSwitch(), () => ({ waiting, read }));
  const chunk: I[] = [];
  try {
    const iterator = items[Symbol.asyncIterator]();
    for (;;) {
      waiting = true;
      const next = await iterator.next();
      waiting = false;
      if (next.done) break;
      read++;
      chunk.push(next.value);
      if (chunk.length >= 1000) await save(chunk.splice(0));
    }
  } catch {
    // The input itself is bad too, or was closed while idle: what could be read is saved; the
    // first error is the one to report.
  } finally {
    idle.stop();
  }
  await save(chunk);
}

interface Spinner {
  clear(): void;
  stop(): void;
}

/** How often the spinner text is refreshed. */
const SPINNER_REFRESH_MS = 250;

/**
 * The progress spinner on stderr: only on a TTY and without --quiet. Shows accounts done (of the
 * total when known), calls per second, retries and, with a total, the time left.
 */
async function startSpinner(rt: Runtime, verb: string, total: number | undefined, stats: EngineStats): Promise<Spinner | undefined> {
  if (!rt.deps.io.stderrIsTTY || rt.options.quiet) return undefined;
  // A pseudo-terminal may report 0 columns (script, expect, some CI runners): ora would then try to
  // clear an endless number of lines and never yield. No width, no spinner.
  const columns = (rt.deps.io.stderr as { columns?: number }).columns;
  if (!columns || columns < 20) return undefined;
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: rt.deps.io.stderr as NodeJS.WriteStream, isEnabled: true, discardStdin: false });
  const text = (): string => {
    const elapsed = Math.max(0.001, (Date.now() - stats.startedAt) / 1000);
    const done = stats.itemsDone + stats.itemsFailed;
    const parts = [`${verb}: ${done.toLocaleString('en-US')}${total ? `/${total.toLocaleString('en-US')}` : ''} accounts`];
    parts.push(`${Math.round(stats.calls / elapsed)} calls/s`);
    if (stats.retries) parts.push(`${stats.retries} retries`);
    if (total && done > 0 && done < total) parts.push(`ETA ${Math.ceil(((total - done) * elapsed) / done)} s`);
    return parts.join(' · ');
  };
  spinner.start(text());
  const timer = setInterval(() => (spinner.text = text()), SPINNER_REFRESH_MS);
  timer.unref();
  let stopped = false;
  return {
    clear: () => spinner.clear(),
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      spinner.stop();
    },
  };
}

/**
 * A single call (not a batch: attribute names, a push) under the engine's pacing and retry
 * policy, with the operation's retry safety. Its send time is what the pacer counts.
 */
export function callSingle<In, Out>(rt: Runtime, settings: EngineSettings, client: ImClient, pacer: Pacer, op: Operation<In, Out>, input: In): Promise<Out> {
  return callOnce((signal, sent) => client.call(op, input, { signal, onSent: sent }), {
    pacer,
    retry: retryOptions(settings),
    retrySafe: op.retrySafe,
    credentials: client.options.credentials,
    onRetry: (reason, delayMs) => rt.verbose(`${reason}; retrying in ${delayMs} ms`),
  });
}
