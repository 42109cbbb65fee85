/**
 * Everything a command needs from the outside world, injected so tests can run the real
 * command in-process: streams, environment, working and home directories, the clock and signals.
 * Nothing in src/ reads `process` except `systemDeps()` and `systemIO()`.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import v8 from 'node:v8';
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
   * Called when a long batch run starts: the real process asks V8 to favour a small heap. The API
   * caps a run at 10,000 accounts/s, far below what the client can do, and with V8's default heap
   * growth a 1,000,000-ID run peaked at 320 MB RSS (160 MB with it; `npm run bench`). Not at
   * start-up: compiling the modules that way makes `--help` slower.
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
    preferSmallHeap: () => v8.setFlagsFromString('--optimize-for-size'),
  };
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
