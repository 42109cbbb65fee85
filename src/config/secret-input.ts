/**
 * Secrets read from a file or stdin instead of the command line, where every user of the machine
 * can read them (`ps`, /proc/PID/cmdline): `--usersig-file PATH|-`.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { readAll } from '../util/fs.js';
import type { Settings, Source } from './resolve.js';

/** A UserSig is ~300-500 characters; anything much longer is the wrong file. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** The first line of a file (or stdin with "-"), trimmed; a usage error naming `flag` when unusable. */
export async function readSecretInput(deps: Pick<Deps, 'cwd' | 'io'>, file: string, flag: string): Promise<string> {
  let text: string;
  if (file === '-') {
    text = await readAll(deps.io.stdin, MAX_SECRET_FILE_BYTES, () => new UsageError(`${flag} -: stdin is larger than ${MAX_SECRET_FILE_BYTES / 1024} KB`));
  } else {
    const resolved = path.resolve(deps.cwd, file);
    try {
      const stat = statSync(resolved);
      if (!stat.isFile()) throw new UsageError(`${flag} ${resolved} is not a regular file`);
      if (stat.size > MAX_SECRET_FILE_BYTES) throw new UsageError(`${flag} ${resolved} is larger than ${MAX_SECRET_FILE_BYTES / 1024} KB`);
      text = readFileSync(resolved, 'utf8');
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`${flag} ${resolved} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const value = text.split(/\r?\n/)[0]?.trim() ?? '';
  if (!value) throw new UsageError(`${flag} ${file}: the file is empty`);
  return value;
}

/**
 * `--usersig-file`: read once, registered as a secret, and used as the --usersig flag would be
 * (flags beat the environment and the file).
 */
export async function applyUsersigFile(
  rt: { deps: Pick<Deps, 'cwd' | 'io'>; options: { usersig?: string | undefined; usersigFile?: string | undefined }; secrets: { add(s: string | undefined): void } },
  settings: Settings,
): Promise<void> {
  const file = rt.options.usersigFile;
  if (file === undefined) return;
  if (rt.options.usersig !== undefined) {
    throw new UsageError('--usersig and --usersig-file contradict each other', { hint: 'give one of them (--usersig-file keeps the UserSig out of ps)' });
  }
  const value = await readSecretInput(rt.deps, file, '--usersig-file');
  rt.secrets.add(value);
  settings.values.userSig = { value, source: { kind: 'flag', name: '--usersig-file' } };
}

/** Said once a UserSig from the command line is about to be used: every user of the machine can read argv. */
export function warnIfArgv(rt: { warn(message: string): void }, source: Source): void {
  if (source.kind === 'flag' && source.name === '--usersig') {
    rt.warn('--usersig on the command line can be read by other users of this machine (ps); prefer --usersig-file PATH or IMADMIN_USERSIG');
  }
}
