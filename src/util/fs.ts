/** File-system errors in words, shared by every reader and writer of files. */
import type { Stats } from 'node:fs';
import { open } from 'node:fs/promises';

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
