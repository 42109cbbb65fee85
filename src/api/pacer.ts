/**
 * Client-side pacing: at most `rate` request starts in any sliding one-second window, the way the
 * server counts (all_member_push allows 100 calls/s per app: API.md section 2), each start dated
 * from when its request really left (`sent`).
 *
 * The limit belongs to the app, not to this run: the app's own backend, a nightly job or a second
 * admin may spend part of it, and some endpoints allow less. So `rate` is a ceiling, and the pacer
 * looks for the rate the server really gives:
 * - a stray rate rejection (the server refused a call while we used our whole rate, and none came
 *   just before) means the way in bunched calls we spaced apart: the guard between windows widens
 *   and the call waits out its window, the rate stays;
 * - rejections that persist (see reaction()), or one that came while we sent well under our rate
 *   (the server counts someone else's calls), cut the rate multiplicatively, to a share of what
 *   passed in the second before the rejected call; a call let go just after the rejected one that
 *   passes takes the cut back (past the limit, it would have been rejected too);
 * - calls that pass raise it again on a cubic curve (TCP CUBIC, as the AWS SDK v3's adaptive
 *   retry mode does in its DefaultRateLimiter): quickly back towards the rate that was cut, slowly
 *   past it, then faster, up to the ceiling, so that a client that stopped sharing gets it back.
 *
 * Starts leave evenly spaced, 1/rate apart on a schedule: a burst that leaves at once arrives at
 * once, and a delay on the way in then moves a whole group of calls into the next window.
 *
 * It also tells the engine how many requests to keep in flight: enough to send a window's calls
 * within a fraction of the round trip (rate × round trip × CONCURRENCY_HEADROOM), up to a cap.
 */

/** Documented limit of every all_member_push command (calls per second per app). */
export const API_RATE_LIMIT = 100;

/** The sliding window the limit is measured over. */
export const WINDOW_MS = 1000;

/**
 * The guard a run starts with, before any round trip is measured, and the floor it relaxes to:
 * the least time past a window that a start waits, for calls the server dates a little late.
 */
export const WINDOW_GUARD_MS = 10;

/** The widest the guard grows: a quarter of the window. */
export const MAX_GUARD_MS = 250;

/**
 * Requests in flight per call the round trip holds at the full rate: 2, so that a window's calls
 * leave in the first half of it, close together, as the limiter on the far side expects them.
 */
export const CONCURRENCY_HEADROOM = 2;

/**
 * Share of the round-trip spread (95th minus 5th percentile) taken as the guard before any
 * rejection (EARLY_SHARE), and at least that after one (SPREAD_SHARE), when the guard also grows
 * by WIDEN_FACTOR: the way in is part of the round trip, but the client cannot tell how much of
 * the spread lies before the limiter. Chosen with `npm run bench` (test/bench/RESULTS.md).
 */
const EARLY_SHARE = 0.3;
const SPREAD_SHARE = 0.4;
/** The most a second widening takes, as a share of the spread (see lateGuard). */
const SECOND_SPREAD_SHARE = 1.25;
/** How much a stray rate rejection widens the guard (at least; SPREAD_SHARE of the spread if more). */
const WIDEN_FACTOR = 1.5;

/**
 * Before any rejection, the guard taken from the spread is relaxed: after RELAX_AFTER_MS of clean
 * running, each window of starts without a rejection takes RELAX_STEP_MS off it, down to
 * WINDOW_GUARD_MS. A way in that bunches calls shows itself early, and one that does not should
 * cost nothing for the rest of the run. After a rejection the guard never shrinks again.
 */
const RELAX_AFTER_MS = 3000;
const RELAX_STEP_MS = 2;

/** Round trips remembered for the spread and the sizing. */
const RTT_SAMPLES = 64;

/**
 * A rejection that came while we had sent fewer than this share of our own limit in the second
 * before it was not ours to cause: the server counted someone else's calls in that window.
 */
const OWN_SHARE = 0.9;

/** A second rejection this soon after a widening is the limit, not a stray: the rate is cut. */
const PERSIST_MS = 2 * WINDOW_MS;

/**
 * After a cut, the first rejection after this long without one, at a rate past what passed before
 * the cut, is a probe past the limit: cut.
 */
const QUIET_MS = 2 * WINDOW_MS;

/**
 * After a cut, a rejection cuts again when it comes after this many others with no call passing
 * in between: past the limit nearly every call is rejected (the server counts rejected calls too),
 * while a server that rejects a fifth of the calls whatever the rate gives five in a row to one
 * call in 3,000.
 */
const REJECTED_IN_A_ROW = 5;

/**
 * The cut: the rate becomes BETA of what passed in the second before the rejected call (at most
 * the rate in force). CLEAN_BETA when none of our calls in that second had been rejected: then
 * what passed is what the server let us have, and a small margin below it is enough. BETA (the
 * AWS SDK's and CUBIC's 0.7) otherwise, when earlier rejections cloud the measure; and never less
 * than MIN_KEEP of the rate in force from such a clouded measure.
 */
const CLEAN_BETA = 0.9;
const BETA = 0.7;
const MIN_KEEP = 0.5;

/** The least rate a cut leaves (calls per second): a run keeps making progress. */
const MIN_RATE = 0.5;

/**
 * How fast the rate climbs back after a cut, as a share of lastMax (what passed before the cut)
 * per second³: rate(t) = lastMax × (1 + scale × (t − K)³), where K is when it is back at lastMax
 * (3 s after a clean cut, 4.3 s after another). Scaled by lastMax so that a 5 calls/s endpoint
 * probes as carefully as a 100 calls/s one. Past lastMax it climbs ABOVE_SCALE, slower: each probe
 * past what the server allows costs the calls in flight when the first rejection comes back.
 */
const CUBIC_SCALE = 0.1 / 27;
const ABOVE_SCALE = CUBIC_SCALE / 4;

/** Grant times remembered to measure what passed before a rejection. */
const HISTORY_MS = 10 * WINDOW_MS;

export interface PacerOptions {
  /** Calls per second at most (the configured or documented rate); 0 disables pacing. */
  rate: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const NOOP = (): void => undefined;

/**
 * A start the pacer let go: call it once the request has actually left. `grantedAt` is when it
 * was let go, on the pacer's clock: hand it back to throttle() if the call is rejected.
 */
export interface Turn {
  (): void;
  readonly grantedAt: number;
}

function turn(grantedAt: number, sent: () => void = NOOP): Turn {
  return Object.assign(() => sent(), { grantedAt });
}

const UNPACED: Turn = turn(-Infinity);

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** How many of `sorted` (ascending) are below `at`. */
function countBelow(sorted: readonly number[], at: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Pacer {
  /** The ceiling: calls per second at most, whatever the server allows. */
  readonly rate: number;
  private current: number;
  private readonly starts: number[] = [];
  private readonly now: () => number;
  private readonly sleepFn: (ms: number, signal?: AbortSignal) => Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  /** When a rejection last widened the guard or cut the rate: only calls let go after it tell something new. */
  private reactedAt = -Infinity;
  private widenedAt = -Infinity;
  private nextStartAt = -Infinity;
  private sendLag = 0;
  private readonly rtts: number[] = [];
  private rttNext = 0;
  /** Before any rejection: EARLY_SHARE of the spread (it only grows), and what clean windows took off it. */
  private spreadGuard = WINDOW_GUARD_MS;
  private relaxedMs = 0;
  private firstStartAt: number | undefined;
  private cleanStarts = 0;
  /** Grant times of the last HISTORY_MS (ascending), and those of calls rejected for rate. */
  private readonly grants: number[] = [];
  private readonly rejected: number[] = [];
  /** The last cut: what passed before it (the rate the curve climbs back to), when, and K in seconds. */
  private lastMax: number | undefined;
  private cutAt = -Infinity;
  private cutK = 0;
  /** The grant the last cut measured from, and the reaction before it (its episode began after). */
  private cutGrant = -Infinity;
  private episodeFrom = -Infinity;
  /** The state before the last cut, until a call let go after it is answered. */
  private undo: { current: number; lastMax: number | undefined; cutAt: number; cutK: number; cutGrant: number } | undefined;
  /** Rejections since the last call that passed. */
  private rejectedInARow = 0;
  private lastRejectedAt = -Infinity;
  /** The guard in force now, in milliseconds. */
  guardMs = WINDOW_GUARD_MS;
  /** Rate-limit answers that widened the guard (strays). */
  throttles = 0;
  /** Rate-limit answers that cut the rate (the server allowed less than we sent), less those taken back. */
  cuts = 0;
  /** Cuts taken back: a call let go just after the rejected one passed (see observe). */
  takenBack = 0;

  constructor(options: PacerOptions) {
    this.rate = options.rate;
    this.current = options.rate;
    this.now = options.now ?? Date.now;
    this.sleepFn = options.sleep ?? sleep;
  }

  /** The rate in force, calls per second: `rate` until the server refuses persistently, then what it allows. */
  get currentRate(): number {
    return this.current;
  }

  /**
   * What the server seemed to allow this run, in calls per second: undefined when the rate was
   * never cut, or has climbed back to the ceiling since; otherwise what passed in the second
   * before the last cut, or the rate in force if that is higher (it passed since).
   */
  allowedRate(): number | undefined {
    if (this.lastMax === undefined || this.current >= this.rate) return undefined;
    return Math.max(this.lastMax, this.current);
  }

  /**
   * Waits until one more start fits in the window, then records it. Callers are served in order.
   * Resolves with `sent`: call it when the request has actually left (its body is on the wire).
   * That moves the recorded start to the real send time: the first requests of a run spend tens
   * of milliseconds on connection set-up, and a window counted from the moment they were allowed
   * would let the server see them arrive inside the next second's window.
   */
  acquire(signal?: AbortSignal): Promise<Turn> {
    if (this.rate <= 0) return Promise.resolve(UNPACED);
    const next = this.queue.then(() => this.waitForSlot(signal));
    this.queue = next.then(NOOP, NOOP);
    return next;
  }

  private async waitForSlot(signal?: AbortSignal): Promise<Turn> {
    for (;;) {
      if (signal?.aborted) return UNPACED;
      const now = this.now();
      const limit = this.limit();
      // A start waits for the window minus the usual delay between being let go and leaving,
      // so that the real sends, which the server counts, are a window plus the guard apart.
      const span = WINDOW_MS + this.guardMs - Math.min(this.sendLag, this.guardMs / 2);
      // Forget starts that left the window.
      while (this.starts.length > 0 && now - this.starts[0]! >= span) this.starts.shift();
      // The spacing runs on a schedule, not from the last start, so that timers firing late do
      // not slow the rate. The count keeps the guard, and holds back the starts after a cut
      // until the calls sent at the old rate have left the window.
      const spacing = WINDOW_MS / this.current;
      if (this.starts.length < limit && now >= this.nextStartAt) {
        this.nextStartAt = Math.max(this.nextStartAt, now - spacing) + spacing;
        this.starts.push(now);
        this.record(now);
        this.relax(now, limit);
        return turn(now, () => this.moveStart(now));
      }
      const windowWait = this.starts.length < limit ? 0 : this.starts[this.starts.length - limit]! + span - now;
      await this.sleepFn(Math.max(1, Math.ceil(Math.max(windowWait, this.nextStartAt - now))), signal);
    }
  }

  /** Starts allowed in one window at the rate in force. */
  private limit(): number {
    return Math.max(1, Math.floor(this.current));
  }

  /** Remembers a grant, forgetting those older than HISTORY_MS. */
  private record(grantedAt: number): void {
    this.grants.push(grantedAt);
    let old = 0;
    while (old < this.grants.length && grantedAt - this.grants[old]! > HISTORY_MS) old++;
    if (old > 0) this.grants.splice(0, old);
  }

  /** Before any rejection: one more clean start; a whole window of them relaxes the guard a step. */
  private relax(now: number, limit: number): void {
    this.firstStartAt ??= now;
    if (this.throttles > 0 || now - this.firstStartAt < RELAX_AFTER_MS || ++this.cleanStarts < limit) return;
    this.cleanStarts = 0;
    // Never more than down to the floor: a spread that grows later raises the guard again.
    this.relaxedMs = Math.min(this.relaxedMs + RELAX_STEP_MS, Math.max(0, this.spreadGuard - WINDOW_GUARD_MS));
    this.guardMs = this.earlyGuard();
  }

  /** The guard before any rejection. */
  private earlyGuard(): number {
    return Math.min(MAX_GUARD_MS, Math.max(WINDOW_GUARD_MS, this.spreadGuard - this.relaxedMs));
  }

  /** Moves one recorded start from `recorded` to now, keeping the list sorted. */
  private moveStart(recorded: number): void {
    const at = this.starts.lastIndexOf(recorded);
    if (at < 0) return;
    const now = Math.max(recorded, this.now());
    // The lag the window may anticipate: the smallest of the recent ones, slowly forgotten.
    this.sendLag = Math.min(now - recorded, this.sendLag + 0.05 * (now - recorded - this.sendLag + 1));
    if (now === recorded) return;
    this.starts.splice(at, 1);
    let i = this.starts.length;
    while (i > 0 && this.starts[i - 1]! > now) i--;
    this.starts.splice(i, 0, now);
  }

  /**
   * One measured round trip (send to answer), in milliseconds, of a call that was not rejected
   * for rate: it is also how the pacer learns that calls pass, and climbs back after a cut.
   */
  observe(rttMs: number, grantedAt?: number): void {
    if (this.rtts.length < RTT_SAMPLES) this.rtts.push(rttMs);
    else this.rtts[this.rttNext] = rttMs;
    this.rttNext = (this.rttNext + 1) % RTT_SAMPLES;
    // Recomputed every few answers. Before any rejection: a share of the spread of the round
    // trips, which bounds how much the way in can bunch calls (less what clean windows took off).
    // After one: at least SPREAD_SHARE of it, as the spread comes to be known; it only grows.
    if (this.rttNext % 16 === 0 && this.rtts.length >= 16) {
      const spread = this.rttSpread();
      if (this.throttles === 0) {
        this.spreadGuard = Math.max(this.spreadGuard, Math.round(spread * EARLY_SHARE));
        this.guardMs = this.earlyGuard();
      } else {
        this.guardMs = Math.min(MAX_GUARD_MS, Math.max(this.guardMs, this.lateGuard()));
      }
    }
    this.rejectedInARow = 0;
    if (this.undo) {
      // Without the Turn's grantedAt, the send time the round trip implies, less the usual lag.
      const granted = grantedAt ?? this.now() - rttMs - this.sendLag;
      // A call let go after the one that caused the last cut, before the cut, passed: the server
      // was not full then (past the limit it would have rejected that one too), so the rejection
      // was not the rate's doing. The cut is taken back. A call let go after the cut settles it.
      if (granted > this.cutGrant && granted < this.cutAt) this.takeBack();
      else if (granted >= this.cutAt) this.undo = undefined;
    }
    this.climb();
  }

  /** After a cut, a call passed: the rate follows the cubic curve up, never past the ceiling. */
  private climb(): void {
    if (this.lastMax === undefined || this.current >= this.rate) return;
    const t = (this.now() - this.cutAt) / 1000 - this.cutK;
    const target = this.lastMax * (1 + (t < 0 ? CUBIC_SCALE : ABOVE_SCALE) * t * t * t);
    this.current = Math.min(this.rate, Math.max(this.current, target));
  }

  /**
   * The least guard after a rejection, from the round trips seen lately: SPREAD_SHARE of their
   * spread after the first; after a second, their range (max - min), which covers the delays on
   * the way in that those round trips held, but no more than 1.25 times their spread, so that one
   * stray slow answer cannot pin the guard (and the rate) for the rest of the run.
   */
  private lateGuard(): number {
    const spread = this.rttSpread();
    if (this.throttles < 2 || this.rtts.length < 2) return Math.round(spread * SPREAD_SHARE);
    const sorted = this.sortedRtts();
    return Math.min(sorted[sorted.length - 1]! - sorted[0]!, Math.round(spread * SECOND_SPREAD_SHARE));
  }

  /** 95th minus 5th percentile of the round trips seen lately; 0 before two answers. */
  private rttSpread(): number {
    if (this.rtts.length < 2) return 0;
    const sorted = this.sortedRtts();
    return sorted[Math.floor(sorted.length * 0.95)]! - sorted[Math.floor(sorted.length * 0.05)]!;
  }

  /** The round trips seen lately, sorted; empty before the first answer. */
  private sortedRtts(): number[] {
    return [...this.rtts].sort((a, b) => a - b);
  }

  /**
   * Requests to keep in flight: rate in force × (a high round trip) × CONCURRENCY_HEADROOM, at
   * least 1, at most `max`; `max` until a round trip has been measured, or when unpaced.
   */
  concurrency(max: number): number {
    if (this.rate <= 0 || this.rtts.length < 8) return max;
    const sorted = this.sortedRtts();
    const high = sorted[Math.floor(sorted.length * 0.9)]!;
    return Math.max(1, Math.min(max, Math.ceil((this.current * high * CONCURRENCY_HEADROOM) / WINDOW_MS)));
  }

  /**
   * The server said "too fast" about a call the pacer let go at `grantedAt` (its Turn's): widen
   * the guard or cut the rate (see the top of this file), and return how long the rejected call
   * waits (until its window has passed). Only a call let go after the last reaction tells
   * something new: the others were paced the old way (several of those can come back together).
   * Without `grantedAt`, at most one reaction a window.
   */
  throttle(grantedAt?: number): number {
    if (this.rate <= 0) return 0;
    const now = this.now();
    const at = grantedAt ?? now;
    const quiet = now - this.lastRejectedAt >= QUIET_MS;
    this.lastRejectedAt = now;
    this.rejectedInARow++;
    const fresh = grantedAt !== undefined ? grantedAt > this.reactedAt : now - this.reactedAt >= WINDOW_MS;
    const reaction = fresh ? this.reaction(at, now, quiet) : undefined;
    if (reaction) {
      this.episodeFrom = this.reactedAt;
      this.reactedAt = now;
      if (reaction === 'cut') this.cut(at, now);
      else this.widen(now);
    } else if (!fresh && this.cutAt === this.reactedAt && at > this.episodeFrom && at < this.cutGrant) {
      // Answers come back out of order: an earlier call of the same burst, rejected too, shows
      // where the server's count really ended.
      this.cut(at, this.cutAt, true);
    }
    this.rejected.splice(countBelow(this.rejected, at), 0, at);
    while (this.rejected.length > 0 && now - this.rejected[0]! > HISTORY_MS) this.rejected.shift();
    return WINDOW_MS + this.guardMs;
  }

  /**
   * What a fresh rejection of a call let go at `at` calls for. Before any cut: a cut when it came
   * while we sent well under our own rate (the server counted someone else's calls) or soon after
   * a widening (it persists), a widening otherwise (a stray). After one: a cut when it is the first
   * after a quiet spell at a rate past what passed before the cut (a probe past the limit), or when
   * no call passes any more (the cut was not deep enough); nothing otherwise:
   * rejections scattered among passing calls are not the rate's doing, and cutting on each would
   * take the rate to nothing.
   */
  private reaction(at: number, now: number, quiet: boolean): 'cut' | 'widen' | undefined {
    if (this.cuts === 0) {
      if (now - this.widenedAt < PERSIST_MS) return 'cut';
      // What we may send in a second: the limit, less what the guard holds back.
      const own = (this.limit() * WINDOW_MS) / (WINDOW_MS + this.guardMs);
      return this.secondBefore(at).sent < OWN_SHARE * own ? 'cut' : 'widen';
    }
    if (quiet && this.current > this.lastMax!) return 'cut';
    return this.rejectedInARow >= REJECTED_IN_A_ROW ? 'cut' : undefined;
  }

  /** Our calls let go in the second before `at`, and how many of those were rejected so far. */
  private secondBefore(at: number): { sent: number; rejected: number } {
    const sent = countBelow(this.grants, at) - countBelow(this.grants, at - WINDOW_MS);
    const rejected = countBelow(this.rejected, at) - countBelow(this.rejected, at - WINDOW_MS);
    return { sent, rejected };
  }

  /** Takes the last cut back: the rate, and what it climbs back to, as they were before it. */
  private takeBack(): void {
    const undo = this.undo!;
    this.undo = undefined;
    this.current = undo.current;
    this.lastMax = undo.lastMax;
    this.cutAt = undo.cutAt;
    this.cutK = undo.cutK;
    this.cutGrant = undo.cutGrant;
    this.cuts--;
    this.takenBack++;
  }

  private widen(now: number): void {
    this.widenedAt = now;
    this.throttles++;
    this.guardMs = Math.min(MAX_GUARD_MS, Math.max(Math.round(WIDEN_FACTOR * this.guardMs), this.lateGuard()));
  }

  /**
   * Cuts the rate to a share of what passed in the second before the call let go at `at`; with
   * `again`, measures the same cut again from an earlier call (the lower measure wins).
   */
  private cut(at: number, now: number, again = false): void {
    const { sent, rejected } = this.secondBefore(at);
    const passed = sent - rejected;
    const clean = rejected === 0;
    const measured = clean ? passed : Math.max(passed, MIN_KEEP * this.current);
    const beta = clean ? CLEAN_BETA : BETA;
    const before = { current: this.current, lastMax: this.lastMax, cutAt: this.cutAt, cutK: this.cutK, cutGrant: this.cutGrant };
    const lastMax = Math.max(1, Math.min(again ? this.lastMax! : this.current, measured));
    if (again && lastMax >= this.lastMax!) return;
    this.lastMax = lastMax;
    this.current = Math.min(this.current, Math.max(MIN_RATE, beta * lastMax));
    this.cutAt = now;
    this.cutGrant = at;
    this.cutK = Math.cbrt((1 - this.current / lastMax) / CUBIC_SCALE);
    if (again) return;
    this.cuts++;
    this.undo = { current: before.current, lastMax: before.lastMax, cutAt: before.cutAt, cutK: before.cutK, cutGrant: before.cutGrant };
  }
}
