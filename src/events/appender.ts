/**
 * Where the listener's events go: an ndjson file written durably, or a stream (stdout).
 *
 * The file is opened append-only with mode 0600 (the events name users). A request is answered
 * only once its lines are on disk: written and fdatasync'ed. fsync costs milliseconds and Tencent
 * sends up to 1,000 callbacks a second (EN/67551 "default QPS: 1000"), so writes are group
 * committed: while one write-and-sync runs, the lines of the requests that arrive wait together
 * and share the next one (as databases commit their logs). A batch that fails (ENOSPC, EIO) is
 * cut back off the file, so no half line is left for the next batch to be glued to, and every
 * request in it is refused (Tencent retries). A file removed under the listener is noticed after
 * the sync (its link count is 0): that batch is refused, and the path is created again for the
 * next one; a file moved away (log rotation) keeps what was written to it, and the next batch goes
 * to a new file at the path.
 */
import { openSync, closeSync, fsyncSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsReason } from '../util/fs.js';

/** Where accepted events are appended. */
export interface EventSink {
  /** Appends `text` (whole lines); resolves once it is durable, rejects with a SinkWriteError. */
  append(text: string): Promise<void>;
  /** Waits for the writes under way, then closes. */
  close(): Promise<void>;
  /** "events.ndjson" or "stdout", for messages. */
  readonly label: string;
  /** Group commits done so far (each one write and one sync), for the exit summary and the bench. */
  readonly commits: number;
}

/** A write or sync that failed: the message says why in words, without a stack. */
export class SinkWriteError extends Error {}

/** The permission bits of the out file when it is created: the events name users. */
export const OUT_FILE_MODE = 0o600;

interface Waiter {
  resolve: () => void;
  reject: (error: SinkWriteError) => void;
}

/**
 * Group commit over a `commit(text)` that writes and syncs: appends that arrive while one commit
 * runs are joined into the next.
 */
abstract class GroupCommitSink implements EventSink {
  abstract readonly label: string;
  commits = 0;
  private queue: string[] = [];
  private waiters: Waiter[] = [];
  private running: Promise<void> | undefined;

  append(text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push(text);
      this.waiters.push({ resolve, reject });
      this.running ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const text = this.queue.join('');
      const waiters = this.waiters;
      this.queue = [];
      this.waiters = [];
      try {
        await this.commit(text);
        this.commits++;
        for (const w of waiters) w.resolve();
      } catch (error) {
        const failure = error instanceof SinkWriteError ? error : new SinkWriteError(fsReason(error));
        for (const w of waiters) w.reject(failure);
      }
    }
    this.running = undefined;
  }

  /** Writes `text` and makes it durable; throws SinkWriteError when it is not. */
  protected abstract commit(text: string): Promise<void>;

  async close(): Promise<void> {
    while (this.running) await this.running;
    await this.release();
  }

  protected abstract release(): Promise<void>;
}

/** An ndjson file, appended and fdatasync'ed per group commit. */
export class FileSink extends GroupCommitSink {
  readonly label: string;
  private handle: FileHandle | undefined;
  /** Only a regular file is synced: a FIFO or a device (/dev/null) has nothing to sync. */
  private regular = true;

  private constructor(private readonly file: string) {
    super();
    this.label = file;
  }

  /**
   * Opens (or creates, mode 0600) `file` for appending. Throws SinkWriteError when it cannot be
   * opened; `warn` hears about a file others can read.
   */
  static async open(file: string, warn: (message: string) => void = () => undefined): Promise<FileSink> {
    const sink = new FileSink(file);
    await sink.reopen();
    const mode = (await sink.handle!.stat()).mode & 0o777;
    if (sink.regular && mode & 0o077 && process.platform !== 'win32') {
      warn(`${file} is readable by others (mode ${mode.toString(8)}) and the events name your users; fix it with: chmod 600 ${file}`);
    }
    return sink;
  }

  private async reopen(): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(this.file, 'a', OUT_FILE_MODE);
    } catch (error) {
      throw new SinkWriteError(`${this.file} cannot be opened for appending: ${fsReason(error)}`);
    }
    const info = await handle.stat();
    this.handle = handle;
    this.regular = info.isFile();
    // A new file is durable only once its directory entry is: sync the directory too.
    if (this.regular) syncDirectory(path.dirname(this.file));
  }

  protected async commit(text: string): Promise<void> {
    if (!this.handle) await this.reopen();
    const handle = this.handle!;
    const data = Buffer.from(text, 'utf8');
    const before = this.regular ? (await handle.stat()).size : 0;
    try {
      for (let at = 0; at < data.length; ) {
        const { bytesWritten } = await handle.write(data, at, data.length - at);
        at += bytesWritten;
      }
      if (this.regular) await handle.datasync();
    } catch (error) {
      // A half-written batch would leave a broken line that the next batch continues: cut it off.
      if (this.regular) await handle.truncate(before).catch(() => undefined);
      throw new SinkWriteError(`cannot append to ${this.file}: ${fsReason(error)}`);
    }
    if (!this.regular) return;
    const after = await handle.stat();
    if (after.nlink === 0) {
      // Written and synced into a file no directory names any more: lost. Refuse this batch (it
      // is sent again) and create the file again for the next.
      this.handle = undefined;
      await handle.close().catch(() => undefined);
      throw new SinkWriteError(`${this.file} was removed while the listener ran; it is created again for the next events`);
    }
    const now = await stat(this.file).catch(() => undefined);
    if (now === undefined || now.ino !== after.ino || now.dev !== after.dev) {
      // Moved away (log rotation): this batch is safe in the moved file; the next starts a new one.
      this.handle = undefined;
      await handle.close().catch(() => undefined);
    }
  }

  protected async release(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/** fsync of a directory, so that a file just created in it survives a crash (best effort: not every platform allows it). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a directory; some file systems refuse fsync on one.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A stream (stdout): a batch is done when the stream has taken it. There is nothing to sync: with
 * a pipe the reader owns durability (say so in --help; use --out for a file).
 */
export class StreamSink extends GroupCommitSink {
  constructor(
    private readonly stream: NodeJS.WritableStream,
    readonly label = 'stdout',
  ) {
    super();
  }

  protected commit(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.write(text, (error?: Error | null) => (error ? reject(new SinkWriteError(`cannot write to ${this.label}: ${fsReason(error)}`)) : resolve()));
    });
  }

  protected async release(): Promise<void> {
    // stdout belongs to the process: it is not ended here.
  }
}
