/** Where a batched command's account IDs come from: arguments, files, stdin. */
import { accessSync, constants, fstatSync, statSync } from 'node:fs';
import { fsReason, type AccountSource } from '../accounts.js';
import { UsageError } from '../errors.js';
import type { Runtime } from '../runtime.js';

/** Where account IDs come from: arguments, files, stdin (see the command's description). */
export function accountSources(rt: Runtime, args: readonly string[], files: readonly string[] = []): AccountSource[] {
  const sources: AccountSource[] = [];
  const ids = args.filter((a) => a !== '-');
  const wantsStdin = args.includes('-');
  if (ids.length) sources.push({ kind: 'arg', values: ids });
  for (const file of files) {
    // Checked now, before any request: a typo in a path should not cost an API call or print
    // an empty result first.
    try {
      accessSync(file, constants.R_OK);
      if (statSync(file).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    } catch (error) {
      throw new UsageError(`cannot read account IDs from ${file}: ${fsReason(error)}`);
    }
    sources.push({ kind: 'file', path: file, signal: rt.inputSignal });
  }
  // Explicit accounts turn off the implicit stdin: a script's inherited, never-closed stdin
  // must not make `im-attrs get alice` hang.
  if (wantsStdin || (sources.length === 0 && !rt.deps.io.stdinIsTTY)) {
    checkStdinIsNotDirectory(rt.deps.io.stdin);
    sources.push({ kind: 'stdin', stream: rt.deps.io.stdin });
  }
  if (sources.length === 0) {
    throw new UsageError('no accounts given', {
      hint: 'name them (im-attrs get alice bob), use --file ids.txt, or pipe them: cut -f1 users.tsv | im-attrs get',
    });
  }
  return sources;
}


/** `im-attrs get < /tmp`: reading a directory gives no lines and no error; say what is wrong instead. */
export function checkStdinIsNotDirectory(stdin: unknown): void {
  const fd = (stdin as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return;
  let directory = false;
  try {
    directory = fstatSync(fd).isDirectory();
  } catch {
    return;
  }
  if (directory) {
    throw new UsageError('cannot read account IDs from <stdin>: it is a directory', {
      hint: 'redirect a file of account IDs, one per line: im-attrs get < ids.txt',
    });
  }
}
