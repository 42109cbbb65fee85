/**
 * Everything a command needs from the outside world, injected so tests can run the real
 * command in-process: streams, environment, working and home directories, the clock and signals.
 * Nothing in src/ reads `process` except `systemDeps()` and `systemIO()`.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { systemIO, type IO } from './io.js';

/** Emits 'SIGINT' and 'SIGTERM'. The real one forwards the process's signals while subscribed. */
export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  off(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
}

export interface Deps {
  io: IO;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  homeDir: string;
  /** Milliseconds since the epoch. */
  now: () => number;
  signals: SignalSource;
  /**
   * The user's numeric id (undefined where there is none, Windows): a config file owned by anyone
   * else is refused, like git's safe.directory. Tests set it to play another user.
   */
  uid?: number | undefined;
  /**
   * Called when a long batch run starts: the real process bounds V8's heap (boundHeap). Not at
   * start-up: it would slow `--help` for nothing.
   */
  preferSmallHeap?: () => void;
}

/** The real process: its streams, environment, directories, clock and signals. */
export function systemDeps(): Deps {
  return {
    io: systemIO(),
    env: process.env,
    cwd: process.cwd(),
    homeDir: os.homedir(),
    now: () => Date.now(),
    signals: process,
    uid: process.getuid?.(),
    preferSmallHeap: boundHeap,
  };
}

/** Resolves on the first SIGINT or SIGTERM (a server we ship runs until then). */
export function untilStopped(signals: SignalSource): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      signals.off('SIGINT', stop);
      signals.off('SIGTERM', stop);
      resolve();
    };
    signals.on('SIGINT', stop);
    signals.on('SIGTERM', stop);
  });
}

/** A signal source tests can fire by hand: `signals.emit('SIGINT')`. */
export function createTestSignals(): SignalSource & { emit(signal: 'SIGINT' | 'SIGTERM'): void } {
  const emitter = new EventEmitter();
  return {
    on: (signal, handler) => void emitter.on(signal, handler),
    off: (signal, handler) => void emitter.off(signal, handler),
    emit: (signal) => void emitter.emit(signal),
  };
}

/** The young generation a batch run lets V8 grow to: both semi-spaces (V8 starts at 1 MB). */
const YOUNG_GENERATION_BYTES = 16 * 1024 * 1024;

let heapBounded = false;

/**
 * A batch run's heap: the old generation grows by a tenth at a time, and the young generation
 * doubles from its 1 MB start to 16 MB and is held there (V8 has no run-time flag for its
 * largest size: after each garbage collection, an observer checks the size and stops the growth
 * once it is reached). Each account's strings and objects die young; a young generation held at
 * 1 MB collected them in some 840 scavenges per 1,000,000 IDs, a third of the CPU. At 1,000,000
 * IDs (unpaced, loopback, three runs each): held at 1 MB 8.3-8.7 CPU-s and 100 MB peak RSS, at 8
 * MB 7.4-8.7 and 108 MB, at 16 MB 7.2-7.6 and 115 MB; V8's defaults (it grows further) 7.9
 * CPU-s and 165 MB. `--optimize-for-size`, used before, also slows the compiled code: 10.8 CPU-s
 * for 118 MB. Once per process: a second pass of the same run changes nothing.
 */
function boundHeap(): void {
  if (heapBounded) return;
  heapBounded = true;
  // Only a run that lasts needs it: node:v8 and node:perf_hooks (some 2.5 ms of module loading)
  // load after HEAP_BOUND_AFTER_MS, and a short run (`get alice`) ends before the timer fires.
  setTimeout(() => void bindHeap(), HEAP_BOUND_AFTER_MS).unref();
}

/** How long a batch run goes before its heap is bounded: some 7,000 accounts unpaced. */
const HEAP_BOUND_AFTER_MS = 50;

async function bindHeap(): Promise<void> {
  const [{ default: v8 }, { PerformanceObserver }] = await Promise.all([import('node:v8'), import('node:perf_hooks')]);
  v8.setFlagsFromString('--heap-growing-percent=10');
  const observer = new PerformanceObserver(() => {
    const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    if (young === undefined || young.space_size >= YOUNG_GENERATION_BYTES) {
      v8.setFlagsFromString('--semi-space-growth-factor=1');
      observer.disconnect();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}
