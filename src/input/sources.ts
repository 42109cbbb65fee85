/** Where a batched command's account IDs come from: arguments, files, stdin. */
import { accessSync, constants, fstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { fsReason, readAccounts, type AccountSource, type AccountStream } from './accounts.js';
import { UsageError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { idSources } from './id-files.js';

/**
 * Where account IDs come from: arguments, files, stdin (see the command's description). A file
 * named "-" is stdin, as an argument "-" is; other files are resolved against the working directory.
 */
export function accountSources(rt: Runtime, args: readonly string[], files: readonly string[] = []): AccountSource[] {
  const sources: AccountSource[] = [];
  const ids = args.filter((a) => a !== '-');
  const wantsStdin = args.includes('-') || files.includes('-');
  if (ids.length) sources.push({ kind: 'arg', values: ids });
  for (const given of files) {
    if (given === '-') continue;
    const file = path.resolve(rt.deps.cwd, given);
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

/**
 * The account IDs of `sources`, streamed through the account reader: record files (CSV/TSV with
 * a header, ndjson, json) give their account column (id-files.ts), plain lists their lines.
 * Record files are recognised now, before any request, so a wrong --id-column costs nothing.
 */
export async function accountIds(rt: Runtime, sources: readonly AccountSource[], idColumn: string | undefined): Promise<AccountStream> {
  return readAccounts(await idSources(sources, idColumn), { onWarning: (m) => rt.warn(m) });
}

/** `im-attrs get < /tmp`: reading a directory gives no lines and no error; say what is wrong instead. */
export function checkStdinIsNotDirectory(stdin: unknown, what: 'account IDs' | 'records' = 'account IDs'): void {
  const fd = (stdin as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return;
  let directory = false;
  try {
    directory = fstatSync(fd).isDirectory();
  } catch {
    return;
  }
  if (directory) {
    throw new UsageError(`cannot read ${what} from <stdin>: it is a directory`, {
      hint: what === 'records' ? 'redirect a file of records: im-attrs set < records.ndjson' : 'redirect a file of account IDs, one per line: im-attrs get < ids.txt',
    });
  }
}
