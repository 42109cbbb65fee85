/**
 * What every batching command (get, set, remove) shares around the engine: the engine flags,
 * Ctrl-C handling, the spinner, failure reports on stderr, `--save-failed`, the summary and the
 * exit status. A command supplies the items, one `send` per batch, and what to do with results.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { API_RATE_LIMIT, Pacer } from '../api/pacer.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_CAP_MS } from '../api/policy.js';
import {
  callOnce,
  DEFAULT_CONCURRENCY,
  MAX_BATCH_SIZE,
  runBatches,
  StopSwitch,
  type BatchReport,
  type EngineStats,
  type SendResult,
} from '../engine.js';
import { ApiError, InterruptedError, PartialFailureError } from '../errors.js';
import { parseIntOption, type Runtime } from '../runtime.js';
import type { Credentials, ImClient } from '../api/client.js';
import { plural } from '../util/text.js';
import { inputIdentities, SafeFile } from '../util/safe-file.js';

/** Engine flags as commander parses them (strings until checked). */
export interface EngineFlags {
  batchSize: string;
  concurrency: string;
  rate: string;
  retries: string;
  retryDelay: string;
  retryMaxDelay: string;
  saveFailed?: string | undefined;
  /** The command's --file inputs, which --save-failed must not be. */
  file?: string[] | undefined;
}

export interface EngineSettings {
  batchSize: number;
  concurrency: number;
  rate: number;
  retries: number;
  retryDelayMs: number;
  retryMaxDelayMs: number;
  saveFailed: string | undefined;
  /** The command's --file paths (as given): --save-failed refuses to be one of them. */
  inputFiles: readonly string[] | undefined;
}

/** Adds the engine's flags to a command. */
export function addEngineOptions(command: Command): Command {
  return command
    .addOption(new Option('--batch-size <n>', `accounts per request, 1-${MAX_BATCH_SIZE}`).default(String(MAX_BATCH_SIZE)))
    .addOption(
      new Option('--concurrency <n>', 'requests in flight at once (30 reaches 100 calls/s at 300 ms round trips)').default(
        String(DEFAULT_CONCURRENCY),
      ),
    )
    .addOption(
      new Option('--rate <calls/s>', 'most request starts in any one second; 0 = unpaced (emulator, private endpoints)').default(
        String(API_RATE_LIMIT),
      ),
    )
    .addOption(new Option('--retries <n>', 'retries of a failed request (network errors, 5xx, retryable codes)').default(String(DEFAULT_RETRIES)))
    .addOption(new Option('--retry-delay <ms>', 'first back-off ceiling; doubles per retry, full jitter').default(String(DEFAULT_RETRY_BASE_MS)))
    .addOption(new Option('--retry-max-delay <ms>', 'longest back-off').default(String(DEFAULT_RETRY_CAP_MS)))
    .option('--save-failed <path>', 'write the accounts that failed or were not sent, one per line (ready for --file)');
}

/** Checks the engine flags. */
export function engineSettings(flags: EngineFlags): EngineSettings {
  return {
    batchSize: parseIntOption('--batch-size', flags.batchSize, 1, MAX_BATCH_SIZE),
    concurrency: parseIntOption('--concurrency', flags.concurrency, 1, 1000),
    rate: parseIntOption('--rate', flags.rate, 0, 100_000),
    retries: parseIntOption('--retries', flags.retries, 0, 100),
    retryDelayMs: parseIntOption('--retry-delay', flags.retryDelay, 0, 600_000),
    retryMaxDelayMs: parseIntOption('--retry-max-delay', flags.retryMaxDelay, 0, 3_600_000),
    saveFailed: flags.saveFailed,
    inputFiles: flags.file,
  };
}

export interface BatchJob<I, R> {
  /** set/remove print their own summary (it counts skipped input); the engine then prints none. */
  ownSummary?: boolean;
  /** "get", "set", "remove": used in messages. */
  verb: string;
  items: AsyncIterable<I>;
  /** The account ID of an item, for failure reports and --save-failed. */
  accountOf: (item: I) => string;
  send: (items: I[], signal: AbortSignal, sent: () => void) => Promise<SendResult<I, R>>;
  /** Results of one batch, in input order. */
  onResults: (results: R[]) => void | Promise<void>;
  /** Called once after the last batch (close the JSON array, render the table). */
  finish?: () => void;
  /** Accounts known in advance (for the spinner's ETA); undefined when streaming. */
  total?: number | undefined;
  credentials?: Credentials | undefined;
  /**
   * Work before the first batch (e.g. fetching the attribute names), once --save-failed is open:
   * when it fails, every account is written there as not done, then its error ends the run.
   */
  before?: () => Promise<void>;
  /** Shared with any single calls the command makes, so together they stay under --rate. */
  pacer?: Pacer | undefined;
}

/**
 * Runs a batching job to the end and returns normally only when every account succeeded.
 * Otherwise throws: the fatal error (auth/config), InterruptedError (130) or PartialFailureError (5),
 * always after the output is complete and --save-failed is written.
 */
export async function runBatchJob<I, R>(rt: Runtime, settings: EngineSettings, job: BatchJob<I, R>): Promise<EngineStats> {
  const { deps } = rt;
  deps.preferSmallHeap?.();
  const stop = new StopSwitch();
  // Never an input, never a FIFO or device; replaced (atomically) only when something is saved.
  const saveStream = settings.saveFailed ? await SafeFile.open(path.resolve(deps.cwd, settings.saveFailed), '--save-failed', inputIdentities(deps.cwd, settings.inputFiles, deps.io.stdin)) : undefined;
  const save = async (accounts: string[]): Promise<void> => {
    if (saveStream && accounts.length > 0) await saveStream.write(`${accounts.join('\n')}\n`);
  };

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
  deps.signals.on('SIGINT', onSignal);
  deps.signals.on('SIGTERM', onSignal);

  const reasons = new Map<string, number>();
  let spinner: Spinner | undefined;
  const out = deps.io.stdout as NodeJS.WritableStream & { writableNeedDrain?: boolean };
  try {
    if (job.before) {
      try {
        await job.before();
      } catch (error) {
        // Nothing was sent: every account is not done.
        await drainToSave(job, save);
        throw error;
      }
    }
    const outcome = await runBatches<I, R>({
      source: job.items,
      send: job.send,
      batchSize: settings.batchSize,
      concurrency: settings.concurrency,
      pacer: job.pacer ?? new Pacer({ rate: settings.rate }),
      retry: { retries: settings.retries, baseMs: settings.retryDelayMs, capMs: settings.retryMaxDelayMs },
      credentials: job.credentials,
      stop,
      onStart: async (stats) => {
        spinner = await startSpinner(rt, job.verb, job.total, stats);
      },
      onRetry: ({ index, attempt, reason, delayMs }) =>
        rt.verbose(`batch ${index + 1}: ${reason}; retry ${attempt}/${settings.retries} in ${delayMs} ms`),
      onBatch: async (report: BatchReport<I, R>) => {
        await job.onResults(report.results);
        if (report.failures.length > 0) {
          const byReason = new Map<string, string[]>();
          for (const f of report.failures) {
            const list = byReason.get(f.reason) ?? [];
            list.push(job.accountOf(f.item));
            byReason.set(f.reason, list);
          }
          for (const [reason, accounts] of byReason) {
            reasons.set(reason, (reasons.get(reason) ?? 0) + accounts.length);
            spinner?.clear();
            rt.stderr(`${rt.chalk.red('failed:')} ${plural(accounts.length, 'account')} (${reason}): ${accounts.join(' ')}`);
            await save(accounts);
          }
        }
        rt.verbose(`batch ${report.index + 1}: ${report.results.length} ok, ${report.failures.length} failed, ${report.attempts} attempt(s)`);
        if (out.writableNeedDrain) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      },
      onUndone: async (items) => save(items.map(job.accountOf)),
    });
    spinner?.stop();
    job.finish?.();

    const s = outcome.stats;
    const seconds = Math.max(0.001, (Date.now() - s.startedAt) / 1000);
    const parts = [`${plural(s.itemsDone, 'account')} ${job.verb === 'get' ? 'returned' : 'updated'}`];
    if (s.itemsFailed) parts.push(`${s.itemsFailed.toLocaleString('en-US')} failed`);
    if (s.itemsUndone) parts.push(`${s.itemsUndone.toLocaleString('en-US')} not sent`);
    const summary = `${parts.join(', ')} in ${seconds.toFixed(1)} s (${plural(s.calls, 'call')}, ${plural(s.retries, 'retry')})`;
    if (!job.ownSummary && (deps.io.stderrIsTTY || rt.options.verbose)) rt.info(summary);
    // A write error (a full disk) is an error here, never "wrote N accounts".
    await saveStream?.commit();
    if (saveStream && (s.itemsFailed || s.itemsUndone)) {
      rt.info(`wrote ${plural(s.itemsFailed + s.itemsUndone, 'account')} to ${settings.saveFailed}; re-run with --file ${settings.saveFailed}`);
    }

    if (outcome.fatal) throw outcome.fatal;
    if (outcome.interrupted) {
      throw new InterruptedError(
        `interrupted: ${plural(s.itemsDone, 'account')} done, ${plural(s.itemsUndone + s.itemsFailed, 'account')} not done`,
        { hint: settings.saveFailed ? `re-run the rest with --file ${settings.saveFailed}` : 'use --save-failed <path> to keep the accounts that were not done' },
      );
    }
    if (s.itemsFailed) {
      // Nothing came back at all: that is not a partial result but a failed run (exit 1).
      const Failure = s.itemsDone === 0 ? ApiError : undefined;
      const why = [...reasons].map(([reason, n]) => `${n.toLocaleString('en-US')} × ${reason}`).join('; ');
      const hint = settings.saveFailed ? `re-run them with --file ${settings.saveFailed}` : 'use --save-failed <path> to collect them for a re-run';
      if (Failure) throw new Failure(`all ${plural(s.itemsFailed, 'account')} failed (${why})`, { hint });
      throw new PartialFailureError(`${plural(s.itemsFailed, 'account')} failed (${why}); the others were ${job.verb === 'get' ? 'printed' : 'updated'}`, s.itemsFailed, {
        hint,
      });
    }
    return s;
  } finally {
    spinner?.stop();
    deps.signals.off('SIGINT', onSignal);
    deps.signals.off('SIGTERM', onSignal);
    // Already committed unless the run failed early; then say so if the accounts could not be saved.
    await saveStream?.commit().catch((error: Error) => rt.stderr(`im-attrs: ${error.message}`));
  }
}

/** Writes every account of the input to --save-failed, in chunks. */
async function drainToSave<I>(job: Pick<BatchJob<I, unknown>, 'items' | 'accountOf'>, save: (accounts: string[]) => Promise<void>): Promise<void> {
  try {
    const chunk: string[] = [];
    for await (const item of job.items) {
      chunk.push(job.accountOf(item));
      if (chunk.length >= 1000) await save(chunk.splice(0));
    }
    await save(chunk);
  } catch {
    // The input itself is bad too: what could be read was saved; the first error is the one to report.
  }
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

/** A single call (not a batch) under the engine's pacing and retry policy. */
export function callWithPolicy<T>(
  rt: Runtime,
  settings: EngineSettings,
  client: ImClient,
  pacer: Pacer,
  fn: (signal: AbortSignal, sent: () => void) => Promise<T>,
): Promise<T> {
  return callOnce(fn, {
    pacer,
    retry: { retries: settings.retries, baseMs: settings.retryDelayMs, capMs: settings.retryMaxDelayMs },
    credentials: client.options.credentials,
    onRetry: (reason, delayMs) => rt.verbose(`${reason}; retrying in ${delayMs} ms`),
  });
}
