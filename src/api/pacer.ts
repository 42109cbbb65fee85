/**
 * Client-side pacing: at most `rate` request starts in any sliding one-second window, the way the
 * server counts (all_member_push allows 100 calls/s per app: API.md section 2). On a rate-limit
 * answer the pacer cuts its rate to THROTTLE_FACTOR of what it was and then climbs back by a tenth
 * of the limit per quiet second, like the AWS SDK's adaptive retry mode, so that a shared quota is
 * not hammered.
 */

/** Documented limit of every all_member_push command (calls per second per app). */
export const API_RATE_LIMIT = 100;

/** The sliding window the limit is measured over. */
export const WINDOW_MS = 1000;

/**
 * What a rate-limit answer leaves of the rate: 0.7, the multiplicative decrease of the AWS SDK's
 * adaptive mode (CUBIC's beta). Halving cost a fifth of a 100,000-account run for one stray 60007.
 */
export const THROTTLE_FACTOR = 0.7;

/**
 * The server counts a request when it gets round to handling it, and handles a burst one request
 * after another, so it sees the tail of a burst later than we sent it. A guard on each window keeps
 * that tail out of the next window. Measured with `npm run bench` (60 ± 30 ms latency, 100 calls/s
 * limit): 15 ms let 3–4 calls of 1,000 be rejected in some runs (each one also slows the pacer);
 * 25 ms gave none, at about 2 % of throughput.
 */
export const WINDOW_GUARD_MS = 25;

export interface PacerOptions {
  /** Calls per second; 0 disables pacing. */
  rate: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const NOOP = (): void => undefined;

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

export class Pacer {
  readonly rate: number;
  private effective: number;
  private readonly starts: number[] = [];
  private readonly now: () => number;
  private readonly sleepFn: (ms: number, signal?: AbortSignal) => Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  private lastThrottle = -Infinity;
  private lastRecovery = -Infinity;
  /** Times the pacer slowed down after a rate-limit answer. */
  throttles = 0;

  constructor(options: PacerOptions) {
    this.rate = options.rate;
    this.effective = options.rate;
    this.now = options.now ?? Date.now;
    this.sleepFn = options.sleep ?? sleep;
  }

  /** The rate in force now (lower than `rate` after a throttle). */
  get currentRate(): number {
    return this.effective;
  }

  /**
   * Waits until one more start fits in the window, then records it. Callers are served in order.
   * Resolves with `sent`: call it when the request has actually left (its body is on the wire).
   * That moves the recorded start to the real send time: the first requests of a run spend tens
   * of milliseconds on connection and TLS set-up, and a window counted from the moment they were
   * allowed would let the server see them arrive inside the next second's window.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.rate <= 0) return Promise.resolve(NOOP);
    const turn = this.queue.then(() => this.waitForSlot(signal));
    this.queue = turn.then(NOOP, NOOP);
    return turn;
  }

  private async waitForSlot(signal?: AbortSignal): Promise<() => void> {
    for (;;) {
      if (signal?.aborted) return NOOP;
      const now = this.now();
      this.recover(now);
      const limit = Math.max(1, Math.floor(this.effective));
      // Forget starts that left the window.
      while (this.starts.length > 0 && now - this.starts[0]! >= WINDOW_MS + WINDOW_GUARD_MS) this.starts.shift();
      if (this.starts.length < limit) {
        this.starts.push(now);
        return () => this.moveStart(now);
      }
      const oldestRelevant = this.starts[this.starts.length - limit]!;
      await this.sleepFn(Math.max(1, oldestRelevant + WINDOW_MS + WINDOW_GUARD_MS - now), signal);
    }
  }

  /** Moves one recorded start from `recorded` to now, keeping the list sorted. */
  private moveStart(recorded: number): void {
    const at = this.starts.indexOf(recorded);
    if (at < 0) return;
    this.starts.splice(at, 1);
    const now = Math.max(recorded, this.now());
    let i = this.starts.length;
    while (i > 0 && this.starts[i - 1]! > now) i--;
    this.starts.splice(i, 0, now);
  }

  /** The server said "too fast": cut the rate (at most once per window). */
  throttle(): void {
    if (this.rate <= 0) return;
    const now = this.now();
    if (now - this.lastThrottle < WINDOW_MS) return;
    this.lastThrottle = now;
    this.lastRecovery = now;
    this.throttles++;
    this.effective = Math.max(1, this.effective * THROTTLE_FACTOR);
  }

  private recover(now: number): void {
    if (this.effective >= this.rate) return;
    if (now - this.lastRecovery < WINDOW_MS) return;
    const seconds = Math.floor((now - this.lastRecovery) / WINDOW_MS);
    this.lastRecovery += seconds * WINDOW_MS;
    this.effective = Math.min(this.rate, this.effective + (seconds * this.rate) / 10);
  }
}
