/** File-system errors in words, shared by every reader and writer of files. */
import type { Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { UsageError } from '../errors.js';

/** Why a file could not be read, in words, from Node's error code. */
const FS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EMFILE: 'too many open files',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

/** Why a file could not be read or written: in words for Node's common error codes, else the error's own message. */
export function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (typeof code === 'string' ? FS_REASONS[code] : undefined) ?? (error instanceof Error ? error.message : String(error));
}


/** What a file that is not a regular file is, for an error ("a FIFO", "a device"). */
export function describeType(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** The first `bytes` bytes of a file as UTF-8 (for format detection); fs errors are thrown as they are. */
export async function readHead(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * A whole stream (stdin given as "-") as text, refusing more than `maxBytes` with `tooBig()`'s
 * error: secrets and names files are small, and a wrong pipe must not fill memory.
 */
export async function readAll(stream: AsyncIterable<unknown>, maxBytes = Infinity, tooBig: () => Error = () => Object.assign(new Error('too big'), { code: 'EFBIG' })): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > maxBytes) throw tooBig();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The JSON objects of an ndjson file that a crash may have cut short (a journal, a manifest):
 * blank lines skipped; a last line that is not JSON left out (the write it was part of never
 * finished); any other line that is not JSON a UsageError naming it (`what`: "the journal x").
 */
export function ndjsonObjects(text: string, what: string): Array<Record<string, unknown>> {
  const lines = text.split('\n');
  const out: Array<Record<string, unknown>> = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      if (i >= lines.length - 2) return;
      throw new UsageError(`line ${i + 1} of ${what} is not JSON`);
    }
  });
  return out;
}
