/**
 * The manifest of a list push: one ndjson line per call, written as the calls go, so that a run
 * stopped at any point (Ctrl-C, a crash, SIGKILL) can be resumed without sending a chunk twice.
 *
 *     {"manifest":1,"started":"2026-12-07T06:00:00.000Z","message":"<sha256 of the message>"}
 *     {"call":3,"from":1000,"to":1500,"state":"sending","accounts":["u1000",…]}
 *     {"call":3,"from":1000,"to":1500,"state":"sent","TaskId":"batch_…","failed":[{"account":"u1042","code":70107,"reason":"…"}]}
 *     {"call":4,"from":1500,"to":2000,"state":"may-have-been-sent","reason":"the connection was reset"}
 *
 * `from`/`to` are positions in the deduplicated roster (the same input gives the same positions).
 * A "sending" line is synced to disk before the call's request leaves: a call with a "sending"
 * line and no later state may have been sent, and is treated so. Resuming skips every range that
 * was sent or may have been sent, and sends the rest: a chunk that may have arrived is never sent
 * again by itself; `push report --manifest` shows what arrived.
 */
import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { fsReason, ndjsonObjects } from '../util/fs.js';

export const MANIFEST_VERSION = 1;

/** The states a call's last line may say. */
export type CallState = 'sending' | 'sent' | 'may-have-been-sent' | 'failed';

export interface ManifestCall {
  call: number;
  from: number;
  to: number;
  state: CallState;
  TaskId?: string | undefined;
  accounts?: string[] | undefined;
}

/** A fingerprint of the message, so that a resume with another message is refused. */
export function messageDigest(message: unknown): string {
  return createHash('sha256').update(JSON.stringify(message)).digest('hex');
}

/** What a manifest says: its message digest and, per call, its last state. */
export interface ManifestState {
  message: string;
  calls: Map<number, ManifestCall>;
  /** The next call number to use. */
  nextCall: number;
}

/** Reads a manifest (for --resume and `push report --manifest`); a bad one is a UsageError naming the line. */
export function readManifest(file: string): ManifestState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the manifest ${file}: ${fsReason(error)}`);
  }
  const calls = new Map<number, ManifestCall>();
  let message: string | undefined;
  let nextCall = 1;
  // A line cut short by a crash can only be the last one: the call it started stays "sending".
  for (const value of ndjsonObjects(text, `the manifest ${file}`)) {
    if (value.manifest !== undefined) {
      if (value.manifest !== MANIFEST_VERSION || typeof value.message !== 'string') throw new UsageError(`${file} is not an im-attrs list-push manifest (version ${String(value.manifest)})`);
      // One push per manifest: a second header means two runs wrote to it, and their call
      // numbers collide; a resume from it could skip or repeat the wrong ranges.
      if (message !== undefined) throw new UsageError(`the manifest ${file} holds more than one push (two header lines): it cannot be resumed safely`, { hint: 'check what each run sent (push report) before sending again' });
      message = value.message;
      continue;
    }
    const { call, from, to, state } = value;
    if (typeof call !== 'number' || typeof from !== 'number' || typeof to !== 'number' || typeof state !== 'string') {
      throw new UsageError(`the manifest ${file} has a line that is not a call line: ${JSON.stringify(value).slice(0, 80)}`);
    }
    const previous = calls.get(call);
    calls.set(call, {
      call,
      from,
      to,
      state: state as CallState,
      TaskId: typeof value.TaskId === 'string' ? value.TaskId : previous?.TaskId,
      accounts: Array.isArray(value.accounts) ? (value.accounts as string[]) : previous?.accounts,
    });
    nextCall = Math.max(nextCall, call + 1);
  }
  if (message === undefined) throw new UsageError(`${file} is not an im-attrs list-push manifest (no header line)`);
  return { message, calls, nextCall };
}

/** Roster ranges a resume must not send again: sent, may have been sent, or started ("sending"). */
export function doneRanges(state: ManifestState): Array<{ from: number; to: number; accounts?: string[] | undefined }> {
  return [...state.calls.values()].filter((c) => c.state !== 'failed').sort((a, b) => a.from - b.from);
}

/** Appends lines to a manifest, each synced before the write returns (a call's "sending" line must be on disk before it leaves). */
export class ManifestWriter {
  readonly file: string;
  readonly #fd: number;

  private constructor(file: string, fd: number) {
    this.file = file;
    this.#fd = fd;
  }

  /**
   * Opens `file` (created 0600): a new manifest (with its header) must not exist yet, since two
   * pushes in one manifest could not be told apart; a resumed one (no header) is appended to.
   */
  static open(file: string, header: { message: string; started: string } | undefined): ManifestWriter {
    let fd: number;
    try {
      fd = openSync(file, header ? 'wx' : 'a', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UsageError(`the manifest ${file} already exists (another push's): nothing was sent`, { hint: `go on with that push: --resume ${file}; or name a new file with --manifest` });
      }
      throw new UsageError(`cannot write the manifest ${file}: ${fsReason(error)}`);
    }
    const writer = new ManifestWriter(file, fd);
    if (header) writer.append({ manifest: MANIFEST_VERSION, ...header });
    return writer;
  }

  append(line: object): void {
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
    fdatasyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
