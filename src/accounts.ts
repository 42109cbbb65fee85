/**
 * Account IDs from arguments, files and stdin, streamed: one ID per line, trimmed, blanks
 * skipped, duplicates dropped (first occurrence wins). A file is read chunk by chunk with a
 * byte-level line splitter, so memory is bounded by the longest allowed line however big the
 * input is, and a binary file fails on its first long line instead of being buffered whole.
 */
import { open } from 'node:fs/promises';
import { UsageError } from './errors.js';
import { fsReason } from './util/fs.js';
import { plural } from './util/text.js';

/** Where account IDs come from, in the order given. */
export type AccountSource =
  | { kind: 'arg'; values: readonly string[] }
  | { kind: 'file'; path: string }
  | { kind: 'stdin'; stream: NodeJS.ReadableStream };

export interface AccountReaderOptions {
  /** Called at the end (or when the consumer stops early) with each summary warning. */
  onWarning?: (message: string) => void;
  /** Longest line accepted, in bytes, without its line ending. Default MAX_ACCOUNT_LINE_BYTES. */
  maxLineBytes?: number;
}

/**
 * Longest input line we accept. An ID is at most 32 bytes, so anything near this is not a list
 * of IDs (a binary file, a JSON dump on one line); generous so that padded lines still pass.
 */
export const MAX_ACCOUNT_LINE_BYTES = 4096;

/**
 * Tencent recommends account IDs of at most 32 bytes of [a-zA-Z0-9_-] (Cloud Chat docs, account
 * system / account import: UserID length limit and recommended characters). `@` and `.` are
 * common in real IDs (emails, dotted names), so we do not warn about them either. These are
 * warnings only: the API decides what it accepts.
 */
export const MAX_ACCOUNT_ID_BYTES = 32;
export const RECOMMENDED_ACCOUNT_ID = /^[A-Za-z0-9_@.-]*$/;

/** How many offending IDs a warning lists before "and N more". */
const MAX_LISTED = 5;

/** Longest ID, in characters, quoted in a warning before it is cut short. */
const MAX_QUOTED_CHARS = 40;

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

/**
 * Yield each account ID once, in first-occurrence order, reading `sources` in order and lazily.
 * Throws UsageError (naming the source and 1-based line) for a line over `maxLineBytes`, a NUL
 * byte, invalid UTF-8, or a file that cannot be read.
 */
export async function* readAccounts(
  sources: readonly AccountSource[],
  options: AccountReaderOptions = {},
): AsyncGenerator<string> {
  const maxLineBytes = options.maxLineBytes ?? MAX_ACCOUNT_LINE_BYTES;
  const seen = new Set<string>();
  const tooLong = new Collector();
  const unusual = new Collector();
  let duplicates = 0;
  let failed = false;

  function accept(raw: string): string | undefined {
    const id = raw.trim();
    if (id === '') return undefined;
    if (seen.has(id)) {
      duplicates++;
      return undefined;
    }
    seen.add(id);
    if (Buffer.byteLength(id, 'utf8') > MAX_ACCOUNT_ID_BYTES) tooLong.add(id);
    if (!RECOMMENDED_ACCOUNT_ID.test(id)) unusual.add(id);
    return id;
  }

  try {
    for (const source of sources) {
      if (source.kind === 'arg') {
        for (const value of source.values) {
          const id = accept(value);
          if (id !== undefined) yield id;
        }
      } else if (source.kind === 'stdin') {
        for await (const lines of readLineBatches(source.stream, '<stdin>', maxLineBytes)) {
          for (const line of lines) {
            const id = accept(line);
            if (id !== undefined) yield id;
          }
        }
      } else {
        for await (const lines of readFileLines(source.path, maxLineBytes)) {
          for (const line of lines) {
            const id = accept(line);
            if (id !== undefined) yield id;
          }
        }
      }
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // After an error the warnings would only bury it.
    if (!failed && options.onWarning) {
      const warn = options.onWarning;
      if (duplicates > 0) warn(`skipped ${plural(duplicates, 'duplicate account ID')}`);
      if (tooLong.count > 0) {
        warn(
          `${plural(tooLong.count, 'account ID')} ${tooLong.count === 1 ? 'is' : 'are'} longer than ` +
            `${MAX_ACCOUNT_ID_BYTES} bytes, Tencent's recommended maximum: ${tooLong.list()}`,
        );
      }
      if (unusual.count > 0) {
        warn(
          `${plural(unusual.count, 'account ID')} ${unusual.count === 1 ? 'has' : 'have'} characters other than ` +
            `the recommended letters, digits, "_", "-", "@" and ".": ${unusual.list()}`,
        );
      }
    }
  }
}

/** The first few offending IDs, quoted, and a count of the rest. */
class Collector {
  count = 0;
  readonly #listed: string[] = [];

  add(id: string): void {
    this.count++;
    if (this.#listed.length < MAX_LISTED) {
      const chars = [...id];
      this.#listed.push(
        JSON.stringify(chars.length > MAX_QUOTED_CHARS ? chars.slice(0, MAX_QUOTED_CHARS).join('') + '…' : id),
      );
    }
  }

  list(): string {
    const rest = this.count - this.#listed.length;
    return this.#listed.join(', ') + (rest > 0 ? `, and ${rest} more` : '');
  }
}

export { fsReason } from './util/fs.js';

/** Lines of a file, in batches; an error opening or reading it becomes a UsageError naming the path. */
async function* readFileLines(path: string, maxLineBytes: number): AsyncGenerator<string[]> {
  const cannotRead = (error: unknown): UsageError =>
    new UsageError(`cannot read account IDs from ${path}: ${fsReason(error)}`, {
      hint: 'check the path, or pass the account IDs as arguments or on stdin',
      cause: error,
    });
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw cannotRead(error);
  }
  const stream = handle.createReadStream();
  try {
    yield* readLineBatches(stream, path, maxLineBytes);
  } catch (error) {
    throw error instanceof UsageError ? error : cannotRead(error);
  } finally {
    stream.destroy();
    await handle.close().catch(() => undefined);
  }
}

/**
 * Split a byte stream into lines and decode each one: `\n` or `\r\n` endings, a BOM stripped
 * from the first line. Holds at most maxLineBytes + 1 bytes of the current line.
 */
export async function* readTextLines(
  stream: AsyncIterable<unknown>,
  source: string,
  maxLineBytes: number = MAX_ACCOUNT_LINE_BYTES,
): AsyncGenerator<string> {
  for await (const lines of readLineBatches(stream, source, maxLineBytes)) yield* lines;
}

/**
 * readTextLines, one array of lines per chunk read: a million-line file costs a few hundred
 * awaits, not a million (each await is a trip through the microtask queue).
 */
async function* readLineBatches(
  stream: AsyncIterable<unknown>,
  source: string,
  maxLineBytes: number,
): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let lineNumber = 1;

  const finish = (bytes: Buffer): string => {
    let line = bytes;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, -1);
    if (lineNumber === 1 && line.subarray(0, BOM.length).equals(BOM)) line = line.subarray(BOM.length);
    if (line.length > maxLineBytes) throw lineTooLong(source, lineNumber, maxLineBytes);
    if (line.includes(NUL)) {
      throw new UsageError(`line ${lineNumber} of ${source} contains a NUL byte; is this a binary file?`, {
        hint: 'give a text file with one account ID per line',
      });
    }
    try {
      return decoder.decode(line);
    } catch (error) {
      throw new UsageError(`line ${lineNumber} of ${source} is not valid UTF-8`, {
        hint: 'save the file as UTF-8, one account ID per line',
        cause: error,
      });
    }
  };

  // The current line so far, when it spans chunks (copied, so old chunks can be collected).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const raw of stream) {
    const chunk = toBuffer(raw);
    const lines: string[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(LF, start);
      const end = newline === -1 ? chunk.length : newline;
      // +1: a line of exactly maxLineBytes may still carry the \r of a \r\n.
      if (pendingBytes + (end - start) > maxLineBytes + 1) {
        // Hand over the complete lines before this one: they come first, and may be wanted.
        if (lines.length > 0) yield lines;
        throw lineTooLong(source, lineNumber, maxLineBytes);
      }
      if (newline === -1) {
        pending.push(Buffer.from(chunk.subarray(start)));
        pendingBytes += chunk.length - start;
        break;
      }
      const piece = chunk.subarray(start, end);
      const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      try {
        lines.push(finish(bytes));
      } catch (error) {
        if (lines.length > 0) yield lines;
        throw error;
      }
      lineNumber++;
      start = newline + 1;
    }
    if (lines.length > 0) yield lines;
  }
  if (pendingBytes > 0) yield [finish(Buffer.concat(pending))];
}

function lineTooLong(source: string, lineNumber: number, maxLineBytes: number): UsageError {
  return new UsageError(
    `line ${lineNumber} of ${source} is over ${maxLineBytes} bytes long; an account ID is at most ` +
      `${MAX_ACCOUNT_ID_BYTES} bytes. Is this a binary file?`,
    { hint: 'give a text file with one account ID per line' },
  );
}

function toBuffer(chunk: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`expected bytes or text from the stream, got ${typeof chunk}`);
}
