/**
 * Output files that never destroy anything (issue 11): `--save-failed`, `config init`, the trust
 * list. A target is written to a temporary file beside it and renamed into place at the end, so
 * an existing file is replaced only when there is something to write, and a crash leaves it as
 * it was. A target that is also an input (same device and inode, through symlinks and hard links)
 * or that is not a regular file (a FIFO, a device such as /dev/full, a directory) is refused
 * before anything is sent; a write error (ENOSPC, EIO) is an error, never "wrote N accounts".
 */
import { randomBytes } from 'node:crypto';
import { fstatSync, lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { describeType } from './fs.js';

/** A file the run reads: refused as a target. */
export interface FileIdentity {
  dev: number;
  ino: number;
  /** How the input was named, for the error. */
  label: string;
}

/**
 * The identities of a run's inputs: the `--file` paths (resolved against `cwd`, "-" skipped) and
 * stdin when it is a regular file (`< ids.txt`). An input that cannot be stat'ed is left out: its
 * reader reports it.
 */
export function inputIdentities(cwd: string, files: readonly string[] | undefined, stdin: unknown): FileIdentity[] {
  const out: FileIdentity[] = [];
  for (const file of files ?? []) {
    if (file === '-') continue;
    try {
      const stat = statSync(path.resolve(cwd, file));
      out.push({ dev: stat.dev, ino: stat.ino, label: file });
    } catch {
      // Unreadable input: its reader says so.
    }
  }
  const fd = (stdin as { fd?: unknown } | undefined)?.fd;
  if (typeof fd === 'number') {
    try {
      const stat = fstatSync(fd);
      if (stat.isFile()) out.push({ dev: stat.dev, ino: stat.ino, label: 'stdin' });
    } catch {
      // A closed stdin is no file.
    }
  }
  return out;
}

/**
 * Where a target really is: its own path, or the file a symlink points to (written through, so
 * a dotfiles symlink stays a symlink). Throws for a target that is not a regular file or is an input.
 */
export function checkTarget(file: string, flag: string, inputs: readonly FileIdentity[]): string {
  let stat: Stats;
  try {
    lstatSync(file);
  } catch {
    return file; // does not exist yet: created by the rename
  }
  try {
    stat = statSync(file);
  } catch (error) {
    // A dangling symlink: refuse rather than replace the link with a file.
    throw new UsageError(`${flag} ${file} cannot be written: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'give a path to a regular file, or a new one',
    });
  }
  if (!stat.isFile()) {
    throw new UsageError(`${flag} ${file} is ${describeType(stat)}, not a regular file`, {
      hint: 'give a path to a regular file, or a new one',
    });
  }
  const input = inputs.find((i) => i.dev === stat.dev && i.ino === stat.ino);
  if (input) {
    throw new UsageError(`${flag} ${file} is also an input (${input.label}); writing it would destroy the accounts being read`, {
      hint: `save to another file, e.g. ${flag} failed-${path.basename(file)}`,
    });
  }
  return realpathSync(file);
}

/**
 * A target written whole or not at all. `write` appends to the temporary file; `commit` renames it
 * into place when anything was written (an existing target is otherwise left as it was) and
 * `discard` removes the temporary file.
 */
export class SafeFile {
  /** The path as given (resolved), for messages. */
  readonly path: string;
  /** Bytes written so far. */
  written = 0;
  readonly #target: string;
  readonly #tmp: string;
  readonly #flag: string;
  #handle: FileHandle | undefined;
  #error: NodeJS.ErrnoException | undefined;
  #closed = false;

  private constructor(file: string, target: string, flag: string, handle: FileHandle, tmp: string) {
    this.path = file;
    this.#target = target;
    this.#flag = flag;
    this.#handle = handle;
    this.#tmp = tmp;
  }

  /**
   * Checks the target and creates the temporary file now, so that a bad path is reported before
   * anything is sent. `inputs`: the run's inputs (inputIdentities), which the target must not be.
   */
  static async open(file: string, flag: string, inputs: readonly FileIdentity[] = []): Promise<SafeFile> {
    const target = checkTarget(file, flag, inputs);
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(tmp, 'wx', 0o600);
      return new SafeFile(file, target, flag, handle, tmp);
    } catch (error) {
      throw new UsageError(`${flag} ${file} cannot be written: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }

  /**
   * Appends text. A write error (ENOSPC, EIO) does not throw here, in the middle of a batch: it is
   * kept, later writes are skipped, and commit throws it.
   */
  async write(text: string): Promise<void> {
    if (text === '' || this.#error || !this.#handle) return;
    try {
      await this.#handle.write(text);
      this.written += Buffer.byteLength(text);
    } catch (error) {
      this.#error = error as NodeJS.ErrnoException;
    }
  }

  /**
   * Flushes the temporary file to disk and renames it over the target, empty when nothing was
   * written: the file always describes this run (a stale one from an earlier run, re-run by a
   * script, would re-apply old records). Returns whether anything was written. Throws a UsageError
   * (exit 2) when the file could not be written whole.
   */
  async commit(lines?: Iterable<string>): Promise<boolean> {
    if (this.#closed) return false;
    try {
      if (lines) for (const line of lines) await this.write(line);
      if (this.#error) throw this.failure();
      try {
        await this.#handle!.sync();
        await this.#handle!.close();
        this.#handle = undefined;
        await rename(this.#tmp, this.#target);
      } catch (error) {
        this.#error = error as NodeJS.ErrnoException;
        throw this.failure();
      }
      this.#closed = true;
      return this.written > 0;
    } catch (error) {
      await this.discard();
      throw error;
    }
  }

  /** Removes the temporary file; the target is untouched. */
  async discard(): Promise<void> {
    this.#closed = true;
    await this.#handle?.close().catch(() => undefined);
    this.#handle = undefined;
    await rm(this.#tmp, { force: true });
  }

  private failure(): UsageError {
    const err = this.#error!;
    return new UsageError(`${this.#flag} ${this.path} cannot be written: ${err.code ?? err.message}`, {
      hint: 'the accounts were not saved there; free some space or choose another path, and run again',
    });
  }
}

/** Writes `content` to `file` atomically, mode 0600, through a symlink (not over it). */
export async function writeFileAtomic(file: string, content: string, flag: string): Promise<void> {
  const safe = await SafeFile.open(file, flag);
  await safe.commit([content]);
}

