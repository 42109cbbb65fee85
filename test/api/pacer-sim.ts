/**
 * The pacer driven the way the engine drives it, against a simulated network and a simulated
 * server limiter, in simulated time: no timer and no real clock decides anything, so a verdict
 * never depends on the machine's speed (setImmediate only lets pending promises settle).
 *
 * - the clock: a queue of simulated timers, run in time order (ties in the order they were set);
 * - the engine: up to `concurrency` batches at once (sized by `pacer.concurrency`), each one
 *   `acquire` → leave after a connection set-up lag → arrive → answer; a rejected call waits what
 *   `throttle` says and tries again, up to `retries` retries, then it is lost;
 * - the limiter: counts every arrival in a sliding second, rejected ones and other clients' calls
 *   included, as the emulator does, and rejects a call that makes the count exceed `limit(at)`;
 * - other clients: calls arriving evenly at their own rate from a given time, never backing off.
 */
import { Pacer } from '../../src/api/pacer.js';

export interface SimOptions {
  seed: number;
  /** The pacer's ceiling (calls per second). */
  rate: number;
  /** Batches to get through. */
  calls: number;
  /** The server's limit (all clients together) at a moment. Default: `rate`. */
  limit?: (at: number) => number;
  /** Base and ± jitter of the way in (before the limiter) and the way out, in ms. */
  wayIn?: [number, number];
  wayOut?: [number, number];
  /** Other clients of the same app and endpoint: evenly spaced arrivals at `rate` per second from `from` ms. */
  others?: Array<{ from: number; rate: number }>;
  /** The engine's cap on requests in flight (it sizes below it from the round trips). Default 100. */
  concurrency?: number;
  /** Retries of a rejected batch before it is lost. Default 5 (DEFAULT_RETRIES). */
  retries?: number;
  /** Share of our calls the server rejects for rate whatever the rate (seeded), as the emulator's `--fail 60007:x`. */
  faults?: number;
  /** Passes reported without their turn's `grantedAt` (an engine that does not hand it to observe). */
  anonymousPasses?: boolean;
  /** Milliseconds between a call's turn and its leaving, by the call's number (connection set-up). Default 0. */
  sendLag?: (call: number) => number;
}

export interface SimRun {
  pacer: Pacer;
  /** Our calls, retries included, and how many of them were rejected for rate. */
  attempts: number;
  rejected: number;
  /** Batches that ran out of retries. */
  lost: number;
  /** When each of our calls left, arrived (accepted or not), and when accepted ones arrived. */
  sends: number[];
  arrivals: number[];
  accepted: number[];
  /** Every arrival the limiter saw (ours and others'), in order. */
  serverArrivals: number[];
  /** The rate in force sampled at each of our sends. */
  rates: Array<{ at: number; rate: number }>;
  /** When the run ended (the last answer). */
  end: number;
}

/** mulberry32, as the emulator's seeded jitter. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function simulate(options: SimOptions): Promise<SimRun> {
  const random = seeded(options.seed);
  const delay = ([base, jitter]: [number, number]): number => Math.max(0, Math.round(base + (random() * 2 - 1) * jitter));
  const wayIn = options.wayIn ?? [0, 0];
  const wayOut = options.wayOut ?? [60, 30];
  const limit = options.limit ?? ((): number => options.rate);
  const retries = options.retries ?? 5;
  const cap = options.concurrency ?? 100;

  let now = 0;
  let sequence = 0;
  const timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = { at: now + Math.max(0, ms), seq: sequence++, fire: resolve };
      let i = timers.length;
      while (i > 0 && (timers[i - 1]!.at > timer.at || (timers[i - 1]!.at === timer.at && timers[i - 1]!.seq > timer.seq))) i--;
      timers.splice(i, 0, timer);
    });
  const pacer = new Pacer({ rate: options.rate, now: () => now, sleep });

  const window: number[] = [];
  const serverArrivals: number[] = [];
  const arrive = (): boolean => {
    while (window.length > 0 && now - window[0]! >= 1000) window.shift();
    window.push(now);
    serverArrivals.push(now);
    return window.length > limit(now);
  };

  const run: SimRun = { pacer, attempts: 0, rejected: 0, lost: 0, sends: [], arrivals: [], accepted: [], serverArrivals, rates: [], end: 0 };
  let callNumber = 0;
  let inFlight = 0;
  let allowed = cap;
  let wake: (() => void) | undefined;

  const batch = async (): Promise<void> => {
    try {
      for (let attempt = 0; ; attempt++) {
        const turn = await pacer.acquire();
        const lag = options.sendLag?.(callNumber++) ?? 0;
        if (lag > 0) await sleep(lag);
        turn();
        const sentAt = now;
        run.sends.push(now);
        run.rates.push({ at: now, rate: pacer.currentRate });
        run.attempts++;
        await sleep(delay(wayIn));
        const rejected = arrive() || random() < (options.faults ?? 0);
        run.arrivals.push(now);
        if (!rejected) run.accepted.push(now);
        await sleep(delay(wayOut));
        run.end = Math.max(run.end, now);
        if (!rejected) {
          pacer.observe(now - sentAt, options.anonymousPasses ? undefined : turn.grantedAt);
          allowed = pacer.concurrency(cap);
          return;
        }
        run.rejected++;
        const wait = pacer.throttle(turn.grantedAt);
        if (attempt >= retries) {
          run.lost++;
          return;
        }
        await sleep(wait);
      }
    } finally {
      inFlight--;
      wake?.();
    }
  };

  let finished = false;
  const engine = (async (): Promise<void> => {
    const batches: Array<Promise<void>> = [];
    for (let i = 0; i < options.calls; i++) {
      while (inFlight >= allowed) await new Promise<void>((resolve) => (wake = resolve));
      inFlight++;
      batches.push(batch());
    }
    await Promise.all(batches);
    finished = true;
  })();
  for (const other of options.others ?? []) {
    void (async (): Promise<void> => {
      await sleep(other.from);
      for (let i = 1; !finished; i++) {
        arrive();
        await sleep(other.from + (i * 1000) / other.rate - now);
      }
    })();
  }

  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    if (finished) break;
    const timer = timers.shift();
    if (!timer) throw new Error('the simulation stalled: nothing in flight and nothing scheduled');
    now = timer.at;
    timer.fire();
  }
  await engine;
  return run;
}

/**
 * The steady rate of `times` (ascending) between `from` and `to`: `per` calls over the median time
 * `per` consecutive ones took, as the bench measures it (a count per span would flatter bursts).
 */
export function steadyRate(times: readonly number[], per: number, from = -Infinity, to = Infinity): number {
  const spans: number[] = [];
  for (let i = 0; i + per < times.length; i++) if (times[i]! >= from && times[i + per]! <= to) spans.push(times[i + per]! - times[i]!);
  if (spans.length === 0) return 0;
  spans.sort((a, b) => a - b);
  return (per * 1000) / spans[Math.floor(spans.length / 2)]!;
}

/** The most of `times` (ascending) in any sliding second [t, t + 1000). */
export function peakSecond(times: readonly number[]): number {
  let peak = 0;
  let first = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[i]! - times[first]! >= 1000) first++;
    peak = Math.max(peak, i - first + 1);
  }
  return peak;
}
