/**
 * Account IDs from arguments, files and stdin, streamed: one ID per line, trimmed, blanks
 * skipped, duplicates dropped (first occurrence wins). A file is read chunk by chunk with a
 * byte-level line splitter, so memory is bounded by the longest allowed line however big the
 * input is, and a binary file fails on its first long line instead of being buffered whole.
 */
import { closeSync, constants, createReadStream, fstat, open, openSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { UsageError } from '../errors.js';
import { IdSet } from './id-set.js';
import { fsReason } from '../util/fs.js';
import { plural } from '../util/text.js';

/** Where account IDs come from, in the order given. */
export type AccountSource =
  | { kind: 'arg'; values: readonly string[] }
  /** `signal` closes the file when aborted (a FIFO or a slow producer must not keep a stopped run waiting). */
  | { kind: 'file'; path: string; signal?: AbortSignal | undefined }
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

/** Account IDs, once each in first-occurrence order: one at a time, or a chunk at a time. */
export interface AccountStream extends AsyncIterable<string> {
  /** The same IDs as arrays, one per chunk of input read (the batch engine takes these). */
  chunks(): AsyncGenerator<string[]>;
}

/**
 * Each account ID once, in first-occurrence order, reading `sources` in order and lazily. Throws
 * UsageError (naming the source and 1-based line) for a line over `maxLineBytes`, a NUL byte,
 * invalid UTF-8, or a file that cannot be read. Iterate it once, either way.
 */
export function readAccounts(sources: readonly AccountSource[], options: AccountReaderOptions = {}): AccountStream {
  return {
    chunks: () => readAccountChunks(sources, options),
    async *[Symbol.asyncIterator]() {
      for await (const ids of readAccountChunks(sources, options)) yield* ids;
    },
  };
}

/**
 * Fast check of an ID that needs no warning: at most 32 bytes of the recommended characters
 * (all ASCII, so characters are bytes). Anything else takes the slow path of `accept`.
 */
const PLAIN_ID = /^[A-Za-z0-9_@.-]{1,32}$/;

async function* readAccountChunks(sources: readonly AccountSource[], options: AccountReaderOptions): AsyncGenerator<string[]> {
  const maxLineBytes = options.maxLineBytes ?? MAX_ACCOUNT_LINE_BYTES;
  const seen = new IdSet();
  const tooLong = new Collector();
  const unusual = new Collector();
  let duplicates = 0;
  let failed = false;

  /** The IDs of `lines` that are neither blank nor seen before, in order. */
  function accept(lines: readonly string[]): string[] {
    const out: string[] = [];
    for (const raw of lines) {
      const id = raw.trim();
      if (id === '') continue;
      if (!seen.add(id)) {
        duplicates++;
        continue;
      }
      out.push(id);
      if (PLAIN_ID.test(id)) continue;
      if (Buffer.byteLength(id, 'utf8') > MAX_ACCOUNT_ID_BYTES) tooLong.add(id);
      if (!RECOMMENDED_ACCOUNT_ID.test(id)) unusual.add(id);
    }
    return out;
  }

  try {
    for (const source of sources) {
      const batches =
        source.kind === 'arg'
          ? [source.values]
          : source.kind === 'stdin'
            ? readLineBatches(source.stream, '<stdin>', maxLineBytes)
            : readFileLines(source.path, maxLineBytes, source.signal);
      for await (const lines of batches) {
        const ids = accept(lines);
        if (ids.length > 0) yield ids;
      }
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    seen.close();
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

export { fsReason } from '../util/fs.js';

/**
 * A file saved as UTF-16 (Windows tools, Excel's "Unicode text"): a UTF-16 byte-order mark, or
 * ASCII text with a NUL after (or before) every character. Said as such, with how to convert it,
 * rather than as "binary" or "not valid UTF-8". `head` is the start of the input.
 */
export function utf16Error(head: Uint8Array, source: string): UsageError | undefined {
  const le = head[0] === 0xff && head[1] === 0xfe;
  const be = head[0] === 0xfe && head[1] === 0xff;
  let pattern: 'le' | 'be' | undefined;
  if (!le && !be && head.length >= 4) {
    const pairs = Math.min(64, Math.floor(head.length / 2));
    let zeroOdd = 0;
    let zeroEven = 0;
    for (let i = 0; i < pairs; i++) {
      if (head[2 * i] === 0 && head[2 * i + 1] !== 0) zeroEven++;
      if (head[2 * i + 1] === 0 && head[2 * i] !== 0) zeroOdd++;
    }
    if (zeroOdd === pairs) pattern = 'le';
    else if (zeroEven === pairs) pattern = 'be';
  }
  if (!le && !be && !pattern) return undefined;
  const encoding = le || pattern === 'le' ? 'UTF-16LE' : 'UTF-16BE';
  return new UsageError(`${source} is ${encoding} text, not UTF-8`, {
    hint: `convert it first: iconv -f ${encoding} -t UTF-8 ${source === '<stdin>' ? 'FILE' : source} > ids-utf8.txt (or save it as "CSV UTF-8" / UTF-8)`,
  });
}

/** Lines of a file, in batches; an error opening or reading it becomes a UsageError naming the path. */
async function* readFileLines(path: string, maxLineBytes: number, signal?: AbortSignal): AsyncGenerator<string[]> {
  const cannotRead = (error: unknown): UsageError =>
    new UsageError(`cannot read account IDs from ${path}: ${fsReason(error)}`, {
      hint: 'check the path, or pass the account IDs as arguments or on stdin',
      cause: error,
    });
  let stream;
  try {
    stream = await openInput(path, signal);
  } catch (error) {
    throw cannotRead(error);
  }
  // Closed before a writer came: nothing was read, nothing is lost.
  if (stream === undefined) return;
  const close = (): void => void stream.destroy();
  signal?.addEventListener('abort', close, { once: true });
  try {
    yield* readLineBatches(stream, path, maxLineBytes);
  } catch (error) {
    throw error instanceof UsageError ? error : cannotRead(error);
  } finally {
    signal?.removeEventListener('abort', close);
    stream.destroy();
  }
}

/**
 * The file at `path` as a stream to read once (a FIFO or pipe too, see openInput), destroyed when
 * `signal` aborts; an empty stream when it aborted before the file opened. For readers other
 * than the account list's own (id-files.ts reads records from a pipe with it).
 */
export async function openInputStream(path: string, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
  const stream = await openInput(path, signal);
  if (stream === undefined) return Readable.from([]);
  if (signal) {
    const close = (): void => void stream.destroy();
    signal.addEventListener('abort', close, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', close));
  }
  return stream;
}

const openFd = promisify(open);
const fstatFd = promisify(fstat);

/**
 * A stream of the file at `path` whose destroy() really stops it, or undefined when `signal`
 * aborted before the file opened.
 *
 * A regular file is read as usual, through the thread pool. A FIFO or other pipe is read as Node
 * reads a piped stdin, as a non-blocking pipe handle (net.Socket): a thread-pool read of a pipe
 * blocks until the writer writes or exits, destroy() cannot cancel it, and the pending read kept
 * a stopped run alive for as long as the FIFO's writer lived. Opening a FIFO blocks until it has a
 * writer (the reader must not see an EOF because the producer has not started yet); if the run
 * is stopped meanwhile, we become that writer for an instant so the pending open returns.
 */
async function openInput(path: string, signal?: AbortSignal): Promise<(NodeJS.ReadableStream & { destroy(): void }) | undefined> {
  // A closed input reads no further pipe; a regular file after it is read as it always was (it
  // ends by itself).
  if (signal?.aborted && isFifo(path)) return undefined;
  const unblock = (): void => unblockFifoOpen(path);
  signal?.addEventListener('abort', unblock, { once: true });
  let fd: number;
  try {
    fd = await openFd(path, 'r');
  } finally {
    signal?.removeEventListener('abort', unblock);
  }
  try {
    const stats = await fstatFd(fd);
    if (stats.isFIFO() || stats.isSocket()) {
      if (signal?.aborted) {
        closeSync(fd);
        return undefined;
      }
      return new Socket({ fd, readable: true, writable: false });
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return createReadStream('', { fd });
}

function isFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
}

/** Lets a pending open() of the FIFO at `path` for reading return, by opening it to write and closing it at once. */
function unblockFifoOpen(path: string): void {
  if (!isFifo(path)) return;
  try {
    // Non-blocking: fails with ENXIO, harmlessly, when no reader is waiting any more.
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // The open has returned already, or the FIFO is gone: nothing waits on it.
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
    if (lineNumber === 1) {
      const utf16 = utf16Error(bytes, source);
      if (utf16) throw utf16;
    }
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

  /**
   * The slow path, one line at a time (the original way): for a region that holds a NUL byte or
   * invalid UTF-8, so that the error names its line and the lines before it are handed over.
   */
  function* slowLines(region: Buffer): Generator<string[]> {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const newline = region.indexOf(LF, start);
      const end = newline === -1 ? region.length : newline;
      try {
        lines.push(finish(region.subarray(start, end)));
      } catch (error) {
        if (lines.length > 0) yield lines;
        throw error;
      }
      lineNumber++;
      if (newline === -1) break;
      start = newline + 1;
    }
    yield lines;
  }

  /**
   * The lines of `region` (whole lines, without the last line ending), decoded in one call:
   * per-line decoding was most of the cost of reading a million IDs.
   */
  function* regionLines(region: Buffer): Generator<string[]> {
    if (region.includes(NUL)) return yield* slowLines(region);
    let text: string;
    try {
      text = decoder.decode(region);
    } catch {
      return yield* slowLines(region);
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      if (line.endsWith('\r')) line = lines[i] = line.slice(0, -1);
      if (lineNumber === 1 && line.startsWith('\uFEFF')) line = lines[i] = line.slice(1);
      // Characters are at most bytes, bytes at most three times the characters.
      if (line.length > maxLineBytes || (line.length * 3 > maxLineBytes && Buffer.byteLength(line, 'utf8') > maxLineBytes)) {
        if (i > 0) yield lines.slice(0, i);
        throw lineTooLong(source, lineNumber, maxLineBytes);
      }
      lineNumber++;
    }
    yield lines;
  }

  // The current line so far, when it spans chunks (copied, so old chunks can be collected).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const raw of stream) {
    const chunk = toBuffer(raw);
    const last = chunk.lastIndexOf(LF);
    if (last === -1) {
      // +1: a line of exactly maxLineBytes may still carry the \r of a \r\n.
      if (pendingBytes + chunk.length > maxLineBytes + 1) throw lineTooLong(source, lineNumber, maxLineBytes);
      pending.push(Buffer.from(chunk));
      pendingBytes += chunk.length;
      continue;
    }
    const first = chunk.indexOf(LF);
    if (pendingBytes + first > maxLineBytes + 1) throw lineTooLong(source, lineNumber, maxLineBytes);
    const head = chunk.subarray(0, last);
    const region = pending.length === 0 ? head : Buffer.concat([...pending, head]);
    pending = [];
    pendingBytes = 0;
    yield* regionLines(region);
    const tail = chunk.subarray(last + 1);
    if (tail.length > maxLineBytes + 1) {
      throw lineTooLong(source, lineNumber, maxLineBytes);
    }
    if (tail.length > 0) {
      pending.push(Buffer.from(tail));
      pendingBytes = tail.length;
    }
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
