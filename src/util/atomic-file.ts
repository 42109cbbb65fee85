import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import { fsReason } from './fs.js';

/**
 * A file written whole or not at all: lines go to a temporary file beside it (mode 0600), and
 * `commit` renames it into place. `create` fails at once when the directory is not writable, so
 * that a bad `--save-failed` path is reported before anything is sent.
 */
export class AtomicFile {
  readonly path: string;
  readonly #tmp: string;

  private constructor(file: string) {
    this.path = file;
    this.#tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  }

  static async create(file: string, flag: string): Promise<AtomicFile> {
    const atomic = new AtomicFile(file);
    try {
      await writeFile(atomic.#tmp, '', { mode: 0o600 });
    } catch (error) {
      throw new UsageError(`${flag} ${file} cannot be written: ${(error as NodeJS.ErrnoException).code ?? fsReason(error)}`, { cause: error });
    }
    return atomic;
  }

  /** Writes the lines and renames the file into place. */
  async commit(lines: Iterable<string>): Promise<void> {
    try {
      await pipeline(Readable.from(lines), createWriteStream(this.#tmp, { mode: 0o600 }));
      await rename(this.#tmp, this.path);
    } catch (error) {
      await this.discard();
      throw error;
    }
  }

  async discard(): Promise<void> {
    await rm(this.#tmp, { force: true });
  }
}
