/**
 * The batch engine under the job runner (src/jobs/runner.ts): generic over items and results; the
 * batch size is the operation's limit, chosen by the runner.
 *
 * items (lazy) → batches of ≤ batchSize → at most `concurrency` requests in flight, each start
 * paced by the Pacer → retries per policy.ts → reports handed to `onBatch` in input order.
 *
 * Memory stays flat for any input size: the source is pulled only when a batch may start, and a
 * batch holds a slot of the reorder window from its start until it has been handed on, so at most
 * `window` batches are ever held (the window is twice the concurrency so that one slow batch does
 * not stall the others at once).
 *
 * Nothing is lost: every item pulled from the source ends in exactly one of `onBatch` (done, or
 * failed by index), `onUndone` (never sent: the run was stopped or hit a fatal error) or
 * `onUnknown` (its request left and no answer tells what became of it: aborted in flight, or a
 * `retrySafe: false` call whose failure may have reached the server; such a call is never sent
 * again). When the run stops early, the rest of the source is drained into `onUndone` as well.
 */
import { setMaxListeners } from 'node:events';
import type { Credentials } from '../api/client.js';
import type { BatchOutcome } from '../api/operation.js';
import { backoffMs, classify, mayHaveArrived, shouldRetry, toRunError, type RetryOptions, type Verdict } from '../api/policy.js';
import { sleep, type Pacer } from '../api/pacer.js';
import { ApiError, ImAttrsError, InterruptedError } from '../errors.js';

/**
 * Requests in flight unpaced (--rate 0), when nothing is known of the round trip: enough to keep
 * a loopback server busy. Paced runs size themselves (autoConcurrency).
 */
export const DEFAULT_CONCURRENCY = 30;

/**
 * The most requests a paced run keeps in flight on its own: a whole window of the documented
 * limit at once, which is what a run's first second needs (no round trip has been measured yet).
 * The pacer then sizes it down from the round trips (Pacer.concurrency).
 */
export const MAX_AUTO_CONCURRENCY = 100;

/** Batches failing one after another (after their retries) before the run gives up. */
export const MAX_FAILED_BATCHES_IN_A_ROW = 5;

export interface Failure<I> {
  item: I;
  reason: string;
  /** The API's code for this item (an ErrorList entry), when it gave one. */
  code?: number | undefined;
}

/** What one batch came to, handed on in input order. */
export interface BatchReport<I, R> {
  index: number;
  items: I[];
  results: R[];
  failures: Failure<I>[];
  attempts: number;
}


export interface EngineStats {
  /** Items pulled from the source so far. */
  itemsRead: number;
  itemsDone: number;
  itemsFailed: number;
  itemsUndone: number;
  /** Items whose request may have reached the server without an answer (see onUnknown). */
  itemsUnknown: number;
  batchesDone: number;
  /** Attempts started (each one is a call against the rate limit). */
  calls: number;
  retries: number;
  inFlight: number;
  maxInFlight: number;
  renewals: number;
  startedAt: number;
  /** Whether the engine is waiting for the input to give the next items (for an interrupt's idle check). */
  waitingForInput: boolean;
}

/** First Ctrl-C: `stop()` (no new batches); second: `abort()` (cancel in-flight requests). */
export class StopSwitch {
  stopped = false;
  reason: 'interrupt' | 'fatal' | undefined;
  /**
   * Set by whoever closed the input after the stop (the runner, once it was idle): reading it
   * then fails or ends, and that is the end of the input, not an input error.
   */
  inputClosed = false;
  readonly controller = new AbortController();
  /** Aborted by the first stop: wakes every wait for a pacer turn or a retry's back-off. */
  private readonly stopping = new AbortController();
  private readonly waiters = new Set<() => void>();

  constructor() {
    // Every request in flight and every pacer wait listens to this one signal: dozens at once.
    setMaxListeners(0, this.controller.signal);
    setMaxListeners(0, this.stopping.signal);
  }

  stop(reason: 'interrupt' | 'fatal' = 'interrupt'): void {
    if (!this.stopped) {
      this.stopped = true;
      this.reason = reason;
      this.stopping.abort();
    }
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  abort(): void {
    this.stop();
    this.controller.abort();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Aborted by the first stop (a Ctrl-C, a fatal error). Waits listen to it: stop means stop, and
   * no request that had not left by then leaves after it, however deep the pacer's queue or long
   * a back-off. Requests in flight listen to `signal`, which only a second Ctrl-C aborts.
   */
  get waitSignal(): AbortSignal {
    return this.stopping.signal;
  }

  /** Resolves on stop; used to wake a dispatcher that waits for a slot. */
  onStop(wake: () => void): () => void {
    if (this.stopped) {
      wake();
      return () => undefined;
    }
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }
}

export interface EngineOptions<I, R> {
  source: AsyncIterable<I>;
  /** One attempt at one batch. Throw (ApiError, NetworkError) to let the policy decide. */
  send: (items: I[], signal: AbortSignal, sent: () => void) => Promise<BatchOutcome<R>>;
  /**
   * Work a batch needs before it takes a turn of the pacer (a write's read of its accounts'
   * before-state, on another endpoint), once per batch: done here, it does not hold the turn, so
   * the calls still leave evenly spaced. When it throws, the batch fails with its reason (or, for
   * an error that ends the run, is not sent).
   */
  prepare?: ((items: I[]) => Promise<void>) | undefined;
  /** Called in input order, one batch at a time (awaited). */
  onBatch: (report: BatchReport<I, R>) => void | Promise<void>;
  /**
   * Items that were not done and whose request did nothing, in chunks: never sent, or (with
   * `refused`, the reason) sent and refused by an error that ends the run (auth, config).
   */
  onUndone?: ((items: I[], refused?: string) => void | Promise<void>) | undefined;
  /** Items whose request left without an answer that says what became of them, and why (in input order with the rest). */
  onUnknown?: ((items: I[], reason: string) => void | Promise<void>) | undefined;
  /** Called once before the first batch with the live stats object (for a progress display). */
  onStart?: ((stats: EngineStats) => void | Promise<void>) | undefined;
  /** Called when a retry is scheduled (for --verbose). */
  onRetry?: ((info: { index: number; attempt: number; reason: string; delayMs: number }) => void) | undefined;
  batchSize: number;
  /** Requests in flight; with autoConcurrency, the most. */
  concurrency: number;
  /**
   * Size the requests in flight from the measured round trips (the pacer's rate × round trip,
   * with headroom), never above `concurrency`. For a --concurrency the user did not give.
   */
  autoConcurrency?: boolean | undefined;
  pacer: Pacer;
  retry: RetryOptions;
  /** With per-item caps split into parts: the account of an item, so that no call carries two parts of one account. */
  keyOf?: ((item: I) => string) | undefined;
  /**
   * Whether a call that may have reached the server can be sent again (the operation's
   * `retrySafe`). When false, only failures the server cannot have acted on are retried.
   */
  retrySafe?: boolean | undefined;
  credentials?: Credentials | undefined;
  stop?: StopSwitch | undefined;
  now?: () => number;
}

/** How a batch ended, kept until every earlier one has been handed on. */
interface Finished<I, R> {
  report?: BatchReport<I, R>;
  undone?: I[];
  /** Set when the undone items' request left and was refused by an error that ends the run. */
  refused?: string | undefined;
  unknown?: { items: I[]; reason: string };
}

export interface EngineOutcome {
  stats: EngineStats;
  /** The error that stopped the run (auth, config, fatal), if any. */
  fatal: ImAttrsError | undefined;
  interrupted: boolean;
}

class Slots {
  private free: number;
  private size: number;
  private readonly queue: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
    this.size = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }
  release(): void {
    this.free++;
    if (this.free > 0 && this.queue.length > 0) {
      this.free--;
      this.queue.shift()!();
    }
  }
  /** Changes the number of slots; a smaller size takes effect as held slots are released. */
  resize(size: number): void {
    this.free += size - this.size;
    this.size = size;
    while (this.free > 0 && this.queue.length > 0) {
      this.free--;
      this.queue.shift()!();
    }
  }

  /** Wakes every waiter (on stop); they re-check the stop flag. */
  releaseAll(): void {
    for (const next of this.queue.splice(0)) next();
  }
}

/**
 * A source that can also hand over its items many at a time (accounts.ts's AccountStream): then
 * a batch costs one await per chunk of input, not one per item.
 */
export interface ChunkedSource<I> extends AsyncIterable<I> {
  chunks(): AsyncIterable<I[]>;
}

function isChunked<I>(source: AsyncIterable<I>): source is ChunkedSource<I> {
  return typeof (source as Partial<ChunkedSource<I>>).chunks === 'function';
}

/**
 * Batches of at most `size` items. With `keyOf`, two items with the same key (parts of one
 * account's request, split by a per-item cap) never share a batch: each goes in its own call.
 * When the source fails (a bad input line), the good items read before it are yielded first, so
 * that they are sent (or saved) before the error ends the run.
 */
async function* chunk<I>(source: AsyncIterable<I>, size: number, stats: EngineStats, keyOf?: (item: I) => string): AsyncGenerator<I[]> {
  let batch: I[] = [];
  const keys = new Set<string>();
  try {
    if (isChunked(source) && !keyOf) {
      for await (const items of source.chunks()) {
        stats.itemsRead += items.length;
        let at = 0;
        while (at < items.length) {
          const take = Math.min(size - batch.length, items.length - at);
          if (take === size) batch = items.slice(at, at + take);
          else for (let i = at; i < at + take; i++) batch.push(items[i]!);
          at += take;
          if (batch.length >= size) {
            yield batch;
            batch = [];
          }
        }
      }
    } else {
      for await (const item of source) {
        stats.itemsRead++;
        if (keyOf) {
          const key = keyOf(item);
          if (keys.has(key)) {
            yield batch;
            batch = [];
            keys.clear();
          }
          keys.add(key);
        }
        batch.push(item);
        if (batch.length >= size) {
          yield batch;
          batch = [];
          keys.clear();
        }
      }
    }
  } catch (error) {
    if (batch.length > 0) {
      const partial = batch;
      batch = [];
      yield partial;
    }
    throw error;
  }
  if (batch.length > 0) yield batch;
}

/** Runs the whole pipeline; resolves when every item has been reported (or handed to onUndone). */
export async function runBatches<I, R>(options: EngineOptions<I, R>): Promise<EngineOutcome> {
  const now = options.now ?? Date.now;
  const stats: EngineStats = {
    itemsRead: 0,
    itemsDone: 0,
    itemsFailed: 0,
    itemsUndone: 0,
    itemsUnknown: 0,
    batchesDone: 0,
    calls: 0,
    retries: 0,
    inFlight: 0,
    maxInFlight: 0,
    renewals: 0,
    startedAt: now(),
    waitingForInput: false,
  };
  await options.onStart?.(stats);
  const stop = options.stop ?? new StopSwitch();
  const concurrency = Math.max(1, options.concurrency);
  const inflight = new Slots(concurrency);
  const window = new Slots(concurrency * 2);
  const unsubscribe = stop.onStop(() => {
    inflight.releaseAll();
    window.releaseAll();
  });
  let fatal: ImAttrsError | undefined;
  let sourceError: unknown;
  let failedInARow = 0;

  // Reorder buffer: finished batches wait here until every earlier one has been handed on.
  const finished = new Map<number, Finished<I, R>>();
  let nextToEmit = 0;
  let emitting: Promise<void> = Promise.resolve();
  const pending = new Set<Promise<void>>();

  const emitReady = async (): Promise<void> => {
    for (;;) {
      const entry = finished.get(nextToEmit);
      if (!entry) return;
      finished.delete(nextToEmit);
      nextToEmit++;
      if (entry.report) {
        stats.itemsDone += entry.report.items.length - entry.report.failures.length;
        stats.itemsFailed += entry.report.failures.length;
        stats.batchesDone++;
        await options.onBatch(entry.report);
      }
      if (entry.undone) {
        stats.itemsUndone += entry.undone.length;
        await options.onUndone?.(entry.undone, entry.refused);
      }
      if (entry.unknown) {
        stats.itemsUnknown += entry.unknown.items.length;
        await options.onUnknown?.(entry.unknown.items, entry.unknown.reason);
      }
      window.release();
    }
  };
  const finish = (index: number, entry: Finished<I, R>): Promise<void> => {
    finished.set(index, entry);
    emitting = emitting.then(emitReady);
    return emitting;
  };

  const runBatch = async (items: I[], index: number): Promise<void> => {
    let attempt = 0;
    // The last attempt that left and failed, if a retry is due: what a stop before the retry reports.
    let lastSent: { reason: string; code: number | undefined } | undefined;
    const renewal = { renewed: false };
    try {
      if (options.prepare) {
        try {
          if (stop.stopped) return void (await finish(index, { undone: items }));
          await options.prepare(items);
          if (stop.stopped) return void (await finish(index, { undone: items }));
        } catch (error) {
          const verdict = classify(error);
          if (stop.stopped || endsRun(verdict)) {
            if (!stop.stopped) {
              fatal ??= toRunError(error, verdict, renewal);
              stop.stop('fatal');
            }
            return void (await finish(index, { undone: items }));
          }
          return void (await finish(index, { report: { index, items, results: [], failures: items.map((item) => ({ item, reason: verdict.reason })), attempts: 0 } }));
        }
      }
      for (;;) {
        // Stop means stop: a batch waiting for its turn, or for a retry, when the run was stopped
        // is not sent (the pacer's queue can hold dozens of them at a low rate). One whose earlier
        // attempt left is not "not sent": it failed (a retry-safe write; a re-run sends it again).
        const stopped = (): Finished<I, R> =>
          lastSent === undefined ? { undone: items } : { report: { index, items, results: [], failures: items.map((item) => ({ item, reason: `${lastSent!.reason} (stopped before retrying)`, code: lastSent!.code })), attempts: attempt } };
        if (stop.stopped) return void (await finish(index, stopped()));
        const sent = await options.pacer.acquire(stop.waitSignal);
        if (stop.stopped) return void (await finish(index, stopped()));
        attempt++;
        stats.calls++;
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        let outcome: BatchOutcome<R> | undefined;
        let failure: unknown;
        let sentAt: number | undefined;
        try {
          outcome = await options.send(items, stop.signal, () => {
            sentAt = now();
            sent();
          });
        } catch (error) {
          failure = error;
        } finally {
          stats.inFlight--;
        }
        if (outcome) {
          if (sentAt !== undefined) options.pacer.observe(now() - sentAt, sent.grantedAt);
          if (options.autoConcurrency) inflight.resize(options.pacer.concurrency(concurrency));
          failedInARow = 0;
          const failures = outcome.failures.map((f) => ({ item: items[f.index]!, reason: f.reason, code: f.code }));
          return void (await finish(index, { report: { index, items, results: outcome.results, failures, attempts: attempt } }));
        }
        const verdict = classify(failure);
        // Aborted (a second Ctrl-C): items whose request never left are not sent; once it left,
        // the server may have acted on it.
        if (stop.signal.aborted) {
          return void (await finish(index, sentAt === undefined ? { undone: items } : { unknown: { items, reason: 'aborted in flight' } }));
        }
        if (options.retrySafe === false && sentAt !== undefined && mayHaveArrived(verdict)) {
          // Not safe to send again, and it may have arrived: never "failed, re-run it".
          return void (await finish(index, { unknown: { items, reason: verdict.reason } }));
        }
        const next = afterFailure(verdict, attempt, renewal, options, sent.grantedAt);
        if (next.kind === 'renew') {
          // A fresh UserSig from the secret key; this attempt does not count against --retries.
          stats.renewals++;
          attempt--;
          continue;
        }
        if (next.kind === 'retry') {
          if (sentAt !== undefined) lastSent = { reason: verdict.reason, code: failure instanceof ApiError ? failure.apiCode : undefined };
          stats.retries++;
          options.onRetry?.({ index, attempt, reason: verdict.reason, delayMs: next.delayMs });
          await sleep(next.delayMs, stop.waitSignal);
          continue;
        }
        if (endsRun(verdict)) {
          // Every later batch would fail the same way: stop the run, keep these items as undone.
          fatal ??= toRunError(failure, verdict, renewal);
          stop.stop('fatal');
          return void (await finish(index, { undone: items, refused: sentAt === undefined ? undefined : verdict.reason }));
        }
        const reason = attempt > 1 ? `${verdict.reason} (after ${attempt} attempts)` : verdict.reason;
        // The call's own error code (a whole call refused), for --failures.
        const code = failure instanceof ApiError ? failure.apiCode : undefined;
        const failures = items.map((item) => ({ item, reason, code }));
        // Only transient failures that outlived their retries say the endpoint is down; a request
        // the server refused for its content (90033, 90034) got an answer.
        // Rate rejections that outlived their retries say the budget is shared, not that the
        // endpoint is down: they do not count.
        failedInARow = verdict.action === 'retry' ? failedInARow + 1 : verdict.action === 'throttle' ? failedInARow : 0;
        if (failedInARow >= MAX_FAILED_BATCHES_IN_A_ROW && !fatal) {
          // A dead endpoint would otherwise be retried batch after batch for the whole input.
          fatal = new ApiError(`stopped after ${failedInARow} batches in a row failed (last: ${reason})`, {
            hint: 'the endpoint looks unavailable: check it (im-attrs doctor), then re-run the rest from --save-failed',
          });
          stop.stop('fatal');
        }
        return void (await finish(index, { report: { index, items, results: [], failures, attempts: attempt } }));
      }
    } finally {
      inflight.release();
    }
  };

  let index = 0;
  const batches = chunk(options.source, Math.max(1, options.batchSize), stats, options.keyOf);
  try {
    for (;;) {
      if (stop.stopped) break;
      await window.acquire();
      if (stop.stopped) break;
      await inflight.acquire();
      if (stop.stopped) {
        inflight.release();
        break;
      }
      let next: IteratorResult<I[]>;
      try {
        stats.waitingForInput = true;
        next = await batches.next();
      } catch (error) {
        inflight.release();
        // Stopped while reading, and the runner closed the input: what was read is handed on as
        // undone, and that is the end of the input, not an error.
        if (stop.inputClosed) break;
        // The input itself is bad (a binary line, unreadable file): finish the batches read before
        // it (waiting for their turn too: not a stop), hand them on, then report the input error;
        // the rest of the input cannot be read.
        sourceError = error;
        break;
      } finally {
        stats.waitingForInput = false;
      }
      if (next.done) {
        inflight.release();
        break;
      }
      if (stop.stopped) {
        // Stopped while this batch was being read: it is not sent, but kept, reported in its turn
        // after the batches before it (an account split over two batches is counted once).
        inflight.release();
        await finish(index++, { undone: next.value });
        break;
      }
      const task = runBatch(next.value, index++);
      pending.add(task);
      void task.finally(() => pending.delete(task));
    }
    await Promise.all(pending);
    await emitting;
    if (sourceError !== undefined) {
      if (sourceError instanceof ImAttrsError) fatal ??= sourceError;
      else throw sourceError;
    } else if (stop.stopped && options.onUndone) {
      // Drain what was never sent so the caller can save it: nothing is silently dropped. Only
      // for a caller that keeps it (--save-failed): otherwise reading on would be waiting for
      // nothing. An input that stays idle is closed by the runner (stop.inputClosed).
      try {
        stats.waitingForInput = true;
        for await (const items of batches) {
          stats.itemsUndone += items.length;
          await options.onUndone?.(items);
        }
      } catch (error) {
        // The rest of the input cannot be read (closed by an interrupt, or a bad line): what was
        // read before it was handed on. A bad line after a fatal error is reported after it.
        if (!stop.inputClosed && fatal === undefined && error instanceof ImAttrsError) fatal = error;
      } finally {
        stats.waitingForInput = false;
      }
    }
  } finally {
    unsubscribe();
  }
  return { stats, fatal, interrupted: stop.reason === 'interrupt' };
}

/**
 * One call that is not a batch (attribute names), under the same policy as the engine's
 * batches: paced, retried, renewed on 70001, and turned into the run's error when it cannot work.
 */
export async function callOnce<T>(
  fn: (signal: AbortSignal, sent: () => void) => Promise<T>,
  options: {
    pacer: Pacer;
    retry: RetryOptions;
    retrySafe?: boolean | undefined;
    credentials?: Credentials | undefined;
    stop?: StopSwitch | undefined;
    onRetry?: (reason: string, delayMs: number) => void;
  },
): Promise<T> {
  const stop = options.stop ?? new StopSwitch();
  const renewal = { renewed: false };
  for (let attempt = 1; ; attempt++) {
    if (stop.stopped) throw new InterruptedError('stopped: the request was not sent');
    const sent = await options.pacer.acquire(stop.waitSignal);
    if (stop.stopped) throw new InterruptedError('stopped: the request was not sent');
    try {
      return await fn(stop.signal, sent);
    } catch (error) {
      const verdict = classify(error);
      const next = afterFailure(verdict, attempt, renewal, options, sent.grantedAt);
      if (next.kind === 'renew') {
        attempt--;
        continue;
      }
      if (next.kind === 'give-up') throw toRunError(error, verdict, renewal);
      if (stop.stopped) throw new InterruptedError(`stopped before retrying (${verdict.reason})`);
      options.onRetry?.(verdict.reason, next.delayMs);
      await sleep(next.delayMs, stop.waitSignal);
      if (stop.stopped) throw new InterruptedError(`stopped before retrying (${verdict.reason})`);
    }
  }
}

/** What to do after a failed attempt: the one place that renews, slows the pacer and retries. */
function afterFailure(
  verdict: Verdict,
  attempt: number,
  renewal: { renewed: boolean },
  options: { pacer: Pacer; retry: RetryOptions; retrySafe?: boolean | undefined; credentials?: Credentials | undefined },
  grantedAt?: number,
): { kind: 'renew' } | { kind: 'retry'; delayMs: number } | { kind: 'give-up' } {
  if (verdict.action === 'renew' && !renewal.renewed && options.credentials?.renew()) {
    renewal.renewed = true;
    return { kind: 'renew' };
  }
  // A rate rejection widens the pacer's guard and waits out its window, instead of backing off.
  const windowWait = verdict.action === 'throttle' ? options.pacer.throttle(grantedAt) : 0;
  if (shouldRetry(verdict, attempt, options.retry, options.retrySafe ?? true)) {
    return { kind: 'retry', delayMs: windowWait > 0 ? windowWait : backoffMs(attempt, options.retry) };
  }
  return { kind: 'give-up' };
}

/** Failures after which every later request would fail the same way. */
function endsRun(verdict: Verdict): boolean {
  return verdict.action === 'auth' || verdict.action === 'renew' || verdict.action === 'config' || verdict.action === 'fatal';
}
