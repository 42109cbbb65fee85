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
 * The run (run.ts) opens the client and one pacer per endpoint and asks the questions; the
 * operation's descriptor bounds and defaults the engine settings. Nothing here knows an endpoint.
 *
 * Reads and writes differ in what a re-run needs, and the operation's `writes` says which:
 * - a read saves account IDs (streamed: ready for `--file`), prints its summary on a terminal or
 *   with --verbose, and fails with exit 5 when some accounts failed ("the others were printed");
 * - a write saves the body element of each account not updated (`itemBody`, as ndjson, written
 *   whole at the end: the same command's `--file` re-runs exactly them), always prints a summary
 *   that counts skipped input, and exits 5 when any input was skipped or any account failed;
 * - a write that is not safe to repeat (`retrySafe: false`: a push) whose request may have
 *   arrived ends "may have been sent": listed apart, in --failures with retriable:false, never in
 *   --save-failed, and no message suggests sending those accounts again.
 */
import path from 'node:path';
import type { BatchOperation } from '../api/operation.js';
import { ApiError, ExitCode, ImAttrsError, InterruptedError, MaybeSentError, PartialFailureError, UsageError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { checkTarget, inputIdentities, SafeFile } from '../util/safe-file.js';
import { plural, thousands } from '../util/text.js';
import { runBatches, StopSwitch, type BatchReport, type EngineStats } from './engine.js';
import { FailureReport, listedId, NOT_PRINTED } from './failures.js';
import type { BeforeState } from './journal.js';
import type { EngineSettings, Run } from './run.js';

export { addEngineOptions, type EngineFlags, type EngineSettings, type SaveKind, type WriteFlags } from './run.js';

/** After an interrupt, how long the input may stay idle before stdin is closed (see watchIdleInput). */
const IDLE_INPUT_MS = 400;

/** Input a write command read but will not send, for the summary and the exit status. */
export interface Skipped {
  /** Records refused by the checks (already listed on stderr). */
  bad: number;
  /** Records with nothing to do (no attribute to set). */
  empty: number;
}

export interface Job<I, R, P = void> {
  /** What each call does. */
  operation: BatchOperation<I, R, P>;
  /** Request-level parameters every call carries once (a push's message). */
  params?: P;
  /** "get", "set", "tags set": used in messages. */
  verb: string;
  items: AsyncIterable<I>;
  /** Results of one call, in input order. */
  onResults?: (results: R[]) => void | Promise<void>;
  /** Writes: the items of one call that are done (e.g. the accounts a first pass cleared). */
  onDone?: (items: I[]) => void;
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
  /**
   * Writes in two passes (`tags set`: clear, then add): the items an earlier pass failed, with
   * why, read at the end. They count as failed in the summary and exit status, and go to
   * --failures and --save-failed with this pass's own (the earlier pass wrote neither), so each
   * file describes the whole command.
   */
  failedBefore?: () => ReadonlyArray<{ item: I; reason: string; code?: number | undefined }>;
  /**
   * How the accounts saved with --save-failed are sent again (default: the same verb's --file).
   * `push send` reads them with --to, and needs its message again.
   */
  rerun?: (file: string) => string;
  /** Writes whose --file reads account IDs (`tags clear`): what --save-failed writes per item (default: the itemBody as ndjson). */
  saveLine?: (item: I) => string;
  /** Reads that keep nothing for a re-run (audience's roster pass): --save-failed does not apply. */
  noSave?: boolean;
  /**
   * Called before each request of a call leaves (every attempt), awaited: a journal or manifest
   * makes the call's items durable here, so that a crash at any point leaves a record of every
   * call that may have been sent.
   */
  onSending?: (items: I[]) => void | Promise<void>;
  /** How each call ended, in input order: answered (results, failures by item) or unknown (may have been sent). */
  onCall?: (call: CallEnd<I, R>) => void | Promise<void>;
  /** Writes: a call's before-state once it is in the journal, as the call is about to leave (--backup writes it out). */
  onJournaled?: (items: I[], before: Record<string, BeforeState>) => void | Promise<void>;
  /** Work each call needs before it takes its pacer turn (see engine.ts `prepare`). */
  prepare?: (items: I[]) => Promise<void>;
  /**
   * Writes: the state of one call's accounts before it is sent (what it sets or removes, or their
   * tags), for the run's journal (journal.ts): recorded, synced, then the call leaves. Without it
   * a write is journaled as a record of what was sent, with nothing to undo.
   */
  beforeState?: (items: I[]) => Promise<Record<string, BeforeState>>;
}

/** How one call of a job ended, for a manifest. */
export type CallEnd<I, R> =
  | { kind: 'answered'; items: I[]; results: R[]; failures: Array<{ item: I; reason: string; code?: number | undefined }> }
  | { kind: 'unknown'; items: I[]; reason: string }
  | { kind: 'refused'; items: I[]; reason: string }
  /** Never sent: the run stopped first (a Ctrl-C, an error that ends the run). */
  | { kind: 'unsent'; items: I[]; reason: string };

/**
 * Runs a job to the end and returns normally only when every account succeeded. Otherwise
 * throws: the fatal error (auth/config), InterruptedError (130) or PartialFailureError (5), always
 * after the output is complete and --save-failed is written.
 */
export async function runJob<I, R, P>(run: Run, job: Job<I, R, P>): Promise<EngineStats | undefined> {
  const settings = await run.settingsFor(job.operation);
  if (job.noSave) settings.saveFailed = undefined;
  const items = job.operation.split ? splitItems(job.items, job.operation.split) : job.items;
  // Signals are the run's from here until its accounting is written (saved files, journal): a
  // signal after the abort changes nothing, and the process is not killed half-way through.
  if (job.operation.writes) return run.underSignals(() => runWrite(run, settings, { ...job, items }));
  return run.underSignals(() => runRead(run, settings, { ...job, items }));
}

/** Items with per-item caps split into parts, in order. */
async function* splitItems<I>(items: AsyncIterable<I>, split: (item: I) => I[]): AsyncGenerator<I> {
  for await (const item of items) yield* split(item);
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
export function checkSaveFailed(run: Run): void {
  const { rt, flags } = run;
  if (flags.saveFailed) checkTarget(path.resolve(rt.deps.cwd, flags.saveFailed), '--save-failed', inputIdentities(rt.deps.cwd, flags.file, rt.deps.io.stdin));
}


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
async function drive<I, R, P>(
  run: Run,
  settings: EngineSettings,
  job: Job<I, R, P>,
  hooks: {
    /**
     * Where items not done go (never sent, or sent and refused by a run-ending error: `refused`);
     * undefined when nothing keeps or counts them: the input is then not read on after a stop.
     */
    unsent: ((items: I[], refused?: string) => Promise<void>) | undefined;
    /** Items whose request may have arrived without an answer (see engine.ts onUnknown). */
    unknown?: (items: I[], reason: string) => Promise<void>;
    /** Items that failed (named by the answer, or their call failed after its retries). */
    failed?: (items: I[]) => Promise<void>;
    failures: FailureReport;
  },
): Promise<{ stats: EngineStats; fatal: ImAttrsError | undefined; interrupted: boolean; reasons: ReadonlyMap<string, number> }> {
  const { rt } = run;
  const { deps } = rt;
  const op = job.operation;
  deps.preferSmallHeap?.();
  const stop = run.stop;
  const [client, pacer] = await Promise.all([run.client(), run.pacer(op)]);
  let stats: EngineStats | undefined;
  // Whatever stops the run (Ctrl-C, an auth error, a closed stdout), an input that then stays
  // idle is closed, so that the run ends with what it read.
  let idle: { stop(): void } | undefined;
  stop.onStop(() => {
    idle ??= closeInputWhenIdle(rt, stop, () => (stats ? { waiting: stats.waitingForInput, read: stats.itemsRead } : undefined));
  });
  const report = hooks.failures;
  let spinner: Spinner | undefined;
  const out = deps.io.stdout as NodeJS.WritableStream & { writableNeedDrain?: boolean };
  try {
    const outcome = await runBatches<I, R>({
      source: job.items,
      send: async (items, signal, sent) => {
        // A composite operation (two requests per batch) sends itself, each request paced by its endpoint's pacer.
        await job.onSending?.(items);
        if (op.send) return op.send(client, items, { signal, onSent: sent, pace: async (endpoint, s) => (await run.pacer(endpoint)).acquire(s) });
        return client.callBatch(op, items, job.params as P, { signal, onSent: sent });
      },
      batchSize: settings.batchSize,
      prepare: job.prepare,
      keyOf: op.split ? op.accountOf : undefined,
      concurrency: settings.concurrency,
      autoConcurrency: settings.autoConcurrency,
      pacer,
      retry: settings.retry,
      retrySafe: op.retrySafe,
      credentials: client.options.credentials,
      stop,
      onStart: async (live) => {
        stats = live;
        spinner = await startSpinner(rt, job.verb, job.total, live, op.wording.noun ?? 'account');
        run.spinner = spinner;
      },
      onRetry: ({ index, attempt, reason, delayMs }) => rt.verbose(`batch ${index + 1}: ${reason}; retry ${attempt}/${settings.retry.retries} in ${delayMs} ms`),
      onBatch: async (batch: BatchReport<I, R>) => {
        await job.onResults?.(batch.results);
        await job.onCall?.({ kind: 'answered', items: batch.items, results: batch.results, failures: batch.failures });
        if (job.onDone) {
          const failed = new Set(batch.failures.map((f) => f.item));
          job.onDone(failed.size === 0 ? batch.items : batch.items.filter((item) => !failed.has(item)));
        }
        if (batch.failures.length > 0) {
          await hooks.failed?.(batch.failures.map((f) => f.item));
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
          }
          await report.failed(batch.failures.map((f) => ({ account: op.accountOf(f.item), reason: f.reason, code: f.code })));
        }
        rt.verbose(`batch ${batch.index + 1}: ${batch.items.length - batch.failures.length} ok, ${batch.failures.length} failed, ${batch.attempts} attempt(s)`);
        if (out.writableNeedDrain) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      },
      // Read on after a stop only for a file that keeps what was not sent (--save-failed, --failures).
      onUndone:
        hooks.unsent || hooks.failures.file
          ? async (items, refused) => {
              if (refused !== undefined) await job.onCall?.({ kind: 'refused', items, reason: refused });
              await hooks.unsent?.(items, refused);
              await report.unsent(items.map(op.accountOf), refused);
            }
          : undefined,
      onUnknown: async (items, reason) => {
        await job.onCall?.({ kind: 'unknown', items, reason });
        await hooks.unknown?.(items, reason);
      },
    });
    spinner?.stop();
    run.spinner = undefined;
    printFailures(rt, report);
    // What the server allowed, once some calls passed (a server that refuses everything allowed nothing to measure).
    if (outcome.stats.itemsDone > 0) for (const note of run.sharedBudgetNotes()) rt.info(note);
    return { ...outcome, reasons: report.reasons };
  } finally {
    idle?.stop();
    spinner?.stop();
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
async function runRead<I, R, P>(run: Run, settings: EngineSettings, job: Job<I, R, P>): Promise<EngineStats> {
  const { rt } = run;
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
  // A write error on stdout stops the run like a fatal error: nothing more is sent, and the
  // rest of the input is saved with the accounts that were not printed.
  const output = watchOutput(rt.deps.io.stdout, () => run.stop.stop('fatal'));
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
      run,
      settings,
      {
        ...job,
        onResults: (results) => output.printing(() => results.map(accountOfResult), () => job.onResults?.(results)),
      },
      {
        unsent: sink ? save : undefined,
        failed: sink ? save : undefined,
        failures,
        // A read aborted in flight (a second Ctrl-C) came to nothing: not done, like the unsent.
        unknown: async (items, reason) => {
          await save(items);
          await failures.unsent(items.map(op.accountOf), reason);
        },
      },
    );
    finish();
    const unprinted = await output.settle();
    await saveAccounts(unprinted);
    await failures.unsent(unprinted, NOT_PRINTED);
    const seconds = Math.max(0.001, (Date.now() - s.startedAt) / 1000);
    const parts = [`${plural(s.itemsDone, op.wording.noun ?? 'account')} ${op.wording.done}`];
    if (s.itemsFailed) parts.push(`${thousands(s.itemsFailed)} failed`);
    if (s.itemsUndone + s.itemsUnknown) parts.push(`${thousands(s.itemsUndone + s.itemsUnknown)} not sent`);
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
      throw new InterruptedError(`interrupted: ${plural(s.itemsDone, 'account')} done, ${plural(s.itemsUndone + s.itemsUnknown + s.itemsFailed, 'account')} not done`, {
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
 *
 * Each item read ends in exactly one of: done (its call succeeded and did not name it), failed
 * (named by the answer, or its call failed after its retries), not sent (the run stopped first),
 * or may have been sent (its request left and no answer came back; only what is not safe to send
 * again is kept apart: a `retrySafe` write aborted in flight is simply failed and re-runnable).
 * The engine reports them by batch; nothing here depends on which objects a reader returns.
 */
async function runWrite<I, R, P>(run: Run, settings: EngineSettings, job: Job<I, R, P>): Promise<EngineStats | undefined> {
  const { rt } = run;
  const op = job.operation;
  const { verb } = job;
  const itemBody = op.itemBody ?? ((item: I) => ({ To_Account: op.accountOf(item) }));
  const skipped = (): Skipped => job.skipped?.() ?? { bad: 0, empty: 0 };
  const emptyNote = (empty: number): string => (empty ? `, ${thousands(empty)} skipped (nothing to ${verb})` : '');

  if (run.flags.dryRun) return dryRun(run, settings, job, itemBody, () => {
    const { bad, empty } = skipped();
    return { bad, note: `${bad} skipped (bad input)${emptyNote(empty)}` };
  });

  const saveFile = settings.saveFailed ? await openSaveFailed(rt, settings) : undefined;
  const failures = await openFailures(rt, settings);
  // Before each call leaves: its accounts' before-state, synced to the run's journal.
  const journal = await run.journal(verb);
  // Read once per call, before it takes its pacer turn (engine `prepare`), and journaled just
  // before it leaves: a retry after an attempt that may have been applied must not record the new
  // values as the old ones, and a call stopped before it left is not in the journal.
  const before = new WeakMap<object, Record<string, BeforeState>>();
  const recorded = new WeakSet<object>();
  const journaled: Job<I, R, P> = {
    ...job,
    prepare: async (items) => {
      before.set(items, job.beforeState ? await job.beforeState(items) : {});
    },
    onSending: async (items) => {
      if (!recorded.has(items)) {
        const state = before.get(items) ?? {};
        journal.recordCall(items, [...new Set(items.map(op.accountOf))], state);
        recorded.add(items);
        await job.onJournaled?.(items, state);
      }
      await job.onSending?.(items);
    },
    onCall: async (end) => {
      journal.endCall(end.items, end.kind === 'unknown' ? 'maybe' : end.kind === 'answered' && end.failures.length < end.items.length ? 'done' : 'failed');
      await job.onCall?.(end);
    },
  };
  // What did not happen, by item, for --save-failed (in the order it is learned).
  const notDone: I[] = [];
  // Accounts per outcome: one failed part fails its account, which is then not "not sent" too.
  const failedAccounts = new Set<string>();
  const unknownAccounts = new Set<string>();
  // Not sent: counted, not kept (a stopped run of millions leaves millions unsent); the parts of
  // one account are consecutive, and a part that failed or may have been sent came before.
  let unsent = 0;
  let lastUnsent: string | undefined;
  let accountsRead = 0;
  let lastAccount: string | undefined;
  async function* counted(): AsyncGenerator<I> {
    for await (const item of job.items) {
      const account = op.accountOf(item);
      if (account !== lastAccount) accountsRead++;
      lastAccount = account;
      yield item;
    }
  }
  let failure: unknown;
  let stats: EngineStats | undefined;
  try {
    const outcome = await drive(
      run,
      settings,
      {
        ...journaled,
        items: counted(),
        onResults: async (results) => {
          await job.onResults?.(results);
        },
      },
      {
        unsent: async (items, refused) => {
          if (refused !== undefined) {
            // Sent and refused by the error that ended the run: failed, and worth a re-run once it is fixed.
            for (const item of items) failedAccounts.add(op.accountOf(item));
            if (saveFile) notDone.push(...items);
            return;
          }
          for (const item of items) {
            const account = op.accountOf(item);
            if (account !== lastUnsent && !failedAccounts.has(account) && !unknownAccounts.has(account)) unsent++;
            lastUnsent = account;
          }
          if (saveFile) notDone.push(...items);
          // Straight to the caller (apply, undo gather them across passes), not to the journal: never sent.
          await job.onCall?.({ kind: 'unsent', items, reason: 'not sent: the run stopped first' });
        },
        unknown: async (items, reason) => {
          if (op.retrySafe) {
            // Safe to send again: an aborted write is a failure a re-run fixes.
            for (const item of items) failedAccounts.add(op.accountOf(item));
            if (saveFile) notDone.push(...items);
            await failures.failed(items.map((item) => ({ account: op.accountOf(item), reason })));
            return;
          }
          for (const item of items) unknownAccounts.add(op.accountOf(item));
          await failures.maybeSent(items.map(op.accountOf), reason);
        },
        failures,
        failed: async (items) => {
          for (const item of items) failedAccounts.add(op.accountOf(item));
          if (saveFile) notDone.push(...items);
        },
      },
    );
    stats = outcome.stats;
    if (outcome.fatal) throw outcome.fatal;
    if (outcome.interrupted) failure = new InterruptedError('interrupted');
  } catch (error) {
    failure = error;
  } finally {
    job.finish?.();
  }
  for (const account of failedAccounts) unknownAccounts.delete(account);
  const unknown = unknownAccounts.size;
  // A second pass (tags set): the accounts its first pass failed are failed too.
  const earlier = job.failedBefore?.() ?? [];
  const failed = failedAccounts.size + earlier.length;
  const updated = accountsRead - failedAccounts.size - unknown - unsent;
  const { bad, empty } = skipped();
  journal.addCounts({ done: updated, failed, unknown, unsent, bad });
  if (journal.written) rt.verbose(`journal: ${journal.file}`);
  const parts = [`${plural(updated, op.wording.noun ?? 'account')} ${op.wording.done}`, `${thousands(bad)} skipped (bad input)${emptyNote(empty)}`, `${thousands(failed)} failed`];
  if (unknown) parts.push(`${thousands(unknown)} may have been sent`);
  if (unsent) parts.push(`${thousands(unsent)} not sent`);
  // On a terminal the summary names the app it wrote to (a script reads the exit status instead).
  rt.info(`${verb}: ${parts.join(', ')}${rt.deps.io.stderrIsTTY ? ` (${await run.target()})` : ''}`);
  if (unknown) {
    rt.stderr(
      `${rt.chalk.yellow('may have been sent:')} ${plural(unknown, 'account')}: ${[...unknownAccounts].slice(0, 5).map(listedId).join(' ')}${unknown > 5 ? ` … and ${thousands(unknown - 5)} more` : ''} ` +
        `(their request left and no answer came; ${op.command} is not safe to repeat, so they were not sent again${failures.file ? `; listed in ${failures.file}` : ''})`,
    );
  }
  const rerun = saveFile ? (job.rerun?.(settings.saveFailed!) ?? `im-attrs ${verb} --file ${settings.saveFailed}`) : undefined;
  if (saveFile) {
    try {
      // Each part not done, so that a re-run sends exactly what did not happen.
      const line = job.saveLine ?? ((item: I) => JSON.stringify(itemBody(item)));
      await saveFile.commit([...earlier.map((e) => e.item), ...notDone].map((item) => `${line(item)}\n`));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--save-failed ${saveFile.path} cannot be written: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const written = notDone.length + earlier.length;
    if (written > 0) rt.info(`wrote ${plural(written, 'record')} to ${settings.saveFailed}; re-run them: ${rerun}`);
  }
  try {
    if (earlier.length) await failures.failed(earlier.map((e) => ({ account: op.accountOf(e.item), reason: e.reason, code: e.code })));
    await commitFailures(rt, failures, verb);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--failures ${settings.failures} cannot be written: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const notDoneCount = failed + unsent;
  const keep = saveFile ? `re-run them: ${rerun}` : 'use --save-failed <path> to collect them for a re-run';
  const maybe = unknown ? `; ${plural(unknown, 'account')} may have been sent: check before sending them again` : '';
  if (failure instanceof InterruptedError) {
    throw new InterruptedError(`interrupted: ${plural(updated, 'account')} done, ${plural(notDoneCount, 'account')} not done${maybe}`, { hint: notDoneCount ? keep : undefined });
  }
  if (failure !== undefined) throw saveFile && notDoneCount ? withRerunHint(failure, `re-run them: ${rerun}`) : failure;
  if (unknown && !failed) {
    throw new MaybeSentError(`${plural(unknown, 'account')} may have been sent${failed ? `, ${thousands(failed)} failed` : ''}; the others were ${op.wording.done}`, {
      hint: 'they were not sent again: check what arrived before sending to them again',
    });
  }
  if (failed) {
    const why = failures.why() || 'failed in an earlier step';
    // Nothing done at all (not a part of an account either): a failed run, not a partial one.
    if ((stats?.itemsDone ?? 0) === 0 && !unknown) throw new ApiError(`all ${plural(failed, 'account')} failed (${why})`, { hint: keep });
    throw new PartialFailureError(`${plural(failed, 'account')} failed (${why})${maybe}; the others were ${op.wording.done}`, failed, { hint: keep });
  }
  if (bad > 0) throw skippedError(verb, bad, false);
  return stats;
}

/** --dry-run of a write: the requests it would send, on stdout, chunked as the engine chunks; nothing is sent. */
async function dryRun<I, R, P>(run: Run, settings: EngineSettings, job: Job<I, R, P>, itemBody: (item: I) => object, skipped: () => { bad: number; note: string }): Promise<undefined> {
  const { rt } = run;
  const op = job.operation;
  const out = rt.deps.io.stdout;
  let batch: I[] = [];
  const inBatch = new Set<string>();
  let requests = 0;
  let accounts = 0;
  let lastAccount: string | undefined;
  const flush = (): void => {
    if (batch.length === 0) return;
    requests++;
    out.write(`${op.command} request ${requests} (${plural(batch.length, op.wording.noun ?? 'account')})\n`);
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
    if (batch.length >= settings.batchSize) flush();
  }
  flush();
  const { bad, note } = skipped();
  rt.info(`${job.verb} --dry-run: ${plural(accounts, op.wording.noun ?? 'account')} in ${plural(requests, 'request')} would be ${op.wording.done}, ${note}; nothing was sent`);
  if (bad > 0) throw skippedError(job.verb, bad, true);
  return undefined;
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
async function startSpinner(rt: Runtime, verb: string, total: number | undefined, stats: EngineStats, noun: string): Promise<Spinner | undefined> {
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
    const parts = [`${verb}: ${thousands(done)}${total ? `/${thousands(total)}` : ''} ${noun}s`];
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
