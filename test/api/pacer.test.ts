/**
 * The pacer on its own, in simulated time: a fake clock and sleep injected through PacerOptions,
 * a simulated network and a simulated sliding-window limiter. No timers, no real clock: no
 * verdict here depends on the machine's speed (the real-time figures are in `npm run bench`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONCURRENCY_HEADROOM, MAX_GUARD_MS, Pacer, WINDOW_GUARD_MS, WINDOW_MS } from '../../src/api/pacer.js';

describe('Pacer', () => {
  it('allows at most `rate` starts in any sliding window of one second', async () => {
    let now = 0;
    const starts: number[] = [];
    const pacer = new Pacer({
      rate: 10,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    for (let i = 0; i < 35; i++) {
      await pacer.acquire();
      starts.push(now);
      now += 7;
    }
    for (const start of starts) {
      const inWindow = starts.filter((t) => t >= start && t < start + WINDOW_MS).length;
      assert.ok(inWindow <= 10, `window at ${start} had ${inWindow}`);
    }
  });

  it('keeps its rate on a throttle, widens its guard once per window, and has the call wait out its window', async () => {
    let now = 0;
    const pacer = new Pacer({ rate: 100, now: () => now });
    for (const rtt of [100, 150, 200, 250, 300]) pacer.observe(rtt);
    assert.equal(pacer.guardMs, WINDOW_GUARD_MS);
    // 1.5 times the guard, or 0.4 of the round-trip spread seen (200 ms), whichever is larger.
    assert.equal(pacer.throttle(), WINDOW_MS + 80);
    assert.equal(pacer.currentRate, 100);
    assert.equal(pacer.throttle(), WINDOW_MS + 80); // within the same window: the same observation
    now += WINDOW_MS;
    // A second rejection: the whole range of the round trips (300 - 100), which holds any delay on the way in.
    assert.equal(pacer.throttle(), WINDOW_MS + 200);
    now += WINDOW_MS;
    assert.equal(pacer.throttle(), WINDOW_MS + MAX_GUARD_MS);
    assert.equal(pacer.throttles, 3);
  });

  it('relaxes the guard it took from the spread after 3 clean seconds, a step a window, never below the floor, and never after a rejection', async () => {
    let now = 0;
    const pacer = new Pacer({ rate: 100, now: () => now, sleep: async (ms) => void (now += ms) });
    // Round trips from 20 to 120 ms: a spread of 95 ms at the 5th and 95th percentiles, 0.3 of it is 29 ms.
    for (let i = 0; i < 16; i++) pacer.observe(20 + Math.round((100 * i) / 15));
    const early = pacer.guardMs;
    assert.ok(early > WINDOW_GUARD_MS + 10, `guard ${early}`);
    const guards: number[] = [];
    for (let i = 0; i < 1600; i++) {
      (await pacer.acquire())();
      if (i % 100 === 99) guards.push(pacer.guardMs);
    }
    // Steps of 2 ms a window once 3 s have passed, down to WINDOW_GUARD_MS and no further.
    assert.equal(guards[0], early);
    assert.ok(guards.some((g) => g < early && g > WINDOW_GUARD_MS), `guards ${guards.join(',')}`);
    assert.equal(guards.at(-1), WINDOW_GUARD_MS);
    for (let i = 1; i < guards.length; i++) assert.ok(guards[i]! <= guards[i - 1]! && guards[i - 1]! - guards[i]! <= 2, `guards ${guards.join(',')}`);
    pacer.throttle();
    const widened = pacer.guardMs;
    for (let i = 0; i < 600; i++) (await pacer.acquire())();
    assert.equal(pacer.guardMs, widened);
  });

  /**
   * The pacer against a simulated network and limiter, in simulated time (no timers, no threshold
   * on a real clock): each call's way in and way out take seeded random delays, and the server
   * counts arrivals in a sliding second as the emulator does (rejected ones included). The cases
   * of `npm run bench`: latency after the limiter only, and half of 200 ± 100 ms before it.
   */
  async function simulate(
    seed: number,
    wayIn: [number, number],
    wayOut: [number, number],
    calls: number,
  ): Promise<{ rejected: number; rejectedAt: number[]; rejectedGrants: number[]; widenings: number[]; steady: number }> {
    let state = seed >>> 0;
    const random = (): number => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const delay = ([base, jitter]: [number, number]): number => Math.max(0, Math.round(base + (random() * 2 - 1) * jitter));
    let now = 0;
    const pacer = new Pacer({ rate: 100, now: () => now, sleep: async (ms) => void (now += ms) });
    type Event = { at: number; sent: number; granted: number; kind: 'arrive' | 'answer'; rejected?: boolean };
    const events: Event[] = [];
    const push = (event: Event): void => {
      let i = events.length;
      while (i > 0 && events[i - 1]!.at > event.at) i--;
      events.splice(i, 0, event);
    };
    const receipts: number[] = [];
    const accepted: number[] = [];
    const rejectedAt: number[] = [];
    const rejectedGrants: number[] = [];
    const widenings: number[] = [];
    let retries = 0;
    const settle = (until: number): void => {
      while (events.length > 0 && events[0]!.at <= until) {
        const event = events.shift()!;
        if (event.kind === 'arrive') {
          while (receipts.length > 0 && event.at - receipts[0]! >= WINDOW_MS) receipts.shift();
          receipts.push(event.at);
          const rejected = receipts.length > 100;
          if (rejected) {
            rejectedAt.push(event.at);
            rejectedGrants.push(event.granted);
          } else accepted.push(event.at);
          push({ at: event.at + delay(wayOut), sent: event.sent, granted: event.granted, kind: 'answer', rejected });
        } else {
          pacer.observe(event.at - event.sent);
          if (event.rejected) {
            const before = pacer.throttles;
            pacer.throttle(event.granted);
            if (pacer.throttles > before) widenings.push(now);
            retries++;
          }
        }
      }
    };
    for (let i = 0; i < calls + retries; i++) {
      const sent = await pacer.acquire();
      settle(now);
      sent();
      push({ at: now + delay(wayIn), sent: now, granted: sent.grantedAt, kind: 'arrive' });
    }
    settle(Infinity);
    const spans: number[] = [];
    const [t0, t1] = [accepted[0]!, accepted.at(-1)!];
    for (let i = 0; i + 100 < accepted.length; i++) if (accepted[i]! - t0 >= WINDOW_MS && accepted[i + 100]! <= t1 - WINDOW_MS) spans.push(accepted[i + 100]! - accepted[i]!);
    spans.sort((a, b) => a - b);
    return { rejected: rejectedAt.length, rejectedAt, rejectedGrants, widenings, steady: (100 * WINDOW_MS) / spans[Math.floor(spans.length / 2)]! };
  }

  it('simulated, 60 ± 30 ms after the limiter: no rejection and at least 98 % of the limit', async () => {
    for (const seed of [1, 2, 3]) {
      const run = await simulate(seed, [0, 0], [60, 30], 3000);
      assert.equal(run.rejected, 0, `seed ${seed}`);
      assert.ok(run.steady >= 98, `seed ${seed}: ${run.steady.toFixed(1)} calls/s`);
    }
  });

  it('simulated, 200 ± 100 ms with half before the limiter: at most one rejection, never a second, at least 92 % of the limit', async () => {
    for (const seed of [1, 2, 3]) {
      const run = await simulate(seed, [100, 50], [100, 50], 3000);
      assert.ok(run.rejected <= 1, `seed ${seed}: rejected at ${run.rejectedAt.join(', ')} ms`);
      assert.ok(run.steady >= 92, `seed ${seed}: ${run.steady.toFixed(1)} calls/s`);
    }
  });

  it('simulated, a way in that the first widening does not cover: a second widening, and no call let go after it is rejected', async () => {
    for (const seed of [1, 2, 3]) {
      const run = await simulate(seed, [50, 50], [10, 5], 3000);
      assert.ok(run.widenings.length <= 2, `seed ${seed}: widened at ${run.widenings.join(', ')} ms`);
      const last = run.widenings.at(-1) ?? -Infinity;
      assert.deepEqual(run.rejectedGrants.filter((granted) => granted > last), [], `seed ${seed}: widened at ${run.widenings.join(', ')} ms`);
    }
  });

  it('a second widening takes the range of the round trips, but one stray slow answer does not pin the guard', () => {
    const pacer = new Pacer({ rate: 100, now: () => 0 });
    for (let i = 0; i < 63; i++) pacer.observe(100 + i);
    pacer.observe(900);
    pacer.throttle(1);
    pacer.throttle(2);
    // Range 800 ms, spread (5th to 95th percentile) 57 ms: 1.25 times the spread, 71 ms.
    assert.equal(pacer.guardMs, 71);
  });

  it('sizes the requests in flight from the round trips: rate × high round trip × headroom, capped', () => {
    const pacer = new Pacer({ rate: 100 });
    assert.equal(pacer.concurrency(100), 100); // nothing measured yet: a whole window at once
    for (let i = 0; i < 64; i++) pacer.observe(60 + (i % 31));
    assert.equal(pacer.concurrency(100), Math.ceil((100 * 87 * CONCURRENCY_HEADROOM) / WINDOW_MS));
    for (let i = 0; i < 64; i++) pacer.observe(900);
    assert.equal(pacer.concurrency(100), 100);
    assert.equal(new Pacer({ rate: 0 }).concurrency(30), 30);
  });

  it('does not pace at all with rate 0', async () => {
    const pacer = new Pacer({ rate: 0, now: () => 0, sleep: async () => assert.fail('slept') });
    for (let i = 0; i < 1000; i++) await pacer.acquire();
  });
});
