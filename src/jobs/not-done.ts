/**
 * The accounts a command of several passes (apply, undo) did not do, and its one --failures and
 * --save-failed: each pass's runner would write its own and replace the one before, so the
 * command takes the two flags off the run before its first pass and writes both files once, at
 * the end, from what its passes' onCall reported.
 */
import path from 'node:path';
import { inputIdentities, SafeFile } from '../util/safe-file.js';
import { plural } from '../util/text.js';
import type { Run } from './run.js';

/** Accounts not done that are listed on stderr; --failures holds them all. */
export const MAX_LISTED = 20;

/** Why one account was not done. */
export interface NotDone {
  reason: string;
  code?: number | undefined;
  retriable: boolean;
}

export class NotDoneFiles {
  readonly #run: Run;
  readonly #failuresFile: string | undefined;
  readonly #saveFailed: string | undefined;
  readonly #failuresOut: SafeFile | undefined;
  readonly #saveOut: SafeFile | undefined;

  private constructor(run: Run, failuresFile: string | undefined, saveFailed: string | undefined, failuresOut: SafeFile | undefined, saveOut: SafeFile | undefined) {
    this.#run = run;
    this.#failuresFile = failuresFile;
    this.#saveFailed = saveFailed;
    this.#failuresOut = failuresOut;
    this.#saveOut = saveOut;
  }

  /**
   * Takes --failures and --save-failed off the run (its passes write neither) and opens them,
   * checked against the command's inputs, unless `write` is false (an undo's dry run).
   */
  static async open(run: Run, inputs: readonly string[], write = true): Promise<NotDoneFiles> {
    const { rt } = run;
    const { failures, saveFailed } = run.flags;
    run.flags.failures = undefined;
    run.flags.saveFailed = undefined;
    const identities = inputIdentities(rt.deps.cwd, inputs, rt.deps.io.stdin);
    const failuresOut = failures && write ? await SafeFile.open(path.resolve(rt.deps.cwd, failures), '--failures', identities) : undefined;
    const saveOut = saveFailed && write ? await SafeFile.open(path.resolve(rt.deps.cwd, saveFailed), '--save-failed', identities) : undefined;
    return new NotDoneFiles(run, failures, saveFailed, failuresOut, saveOut);
  }

  /**
   * Lists the first accounts on stderr (`line` says each), then writes --failures (`reason` says
   * its reason field) and --save-failed (one account ID a line); `what` is how the summary lines
   * name them ("not written"), `saveNote` what to do with the IDs.
   */
  async report<V extends NotDone>(
    notDone: ReadonlyMap<string, V>,
    options: { what: string; line: (account: string, why: V) => string; reason?: (why: V) => string; saveNote?: string },
  ): Promise<void> {
    const { rt } = this.#run;
    for (const [account, why] of [...notDone].slice(0, MAX_LISTED)) rt.stderr(options.line(account, why));
    if (notDone.size > MAX_LISTED) {
      rt.stderr(`… and ${plural(notDone.size - MAX_LISTED, 'more account')}${this.#failuresFile ? ` (all in ${this.#failuresFile})` : ' (--failures FILE lists them all)'}`);
    }
    if (this.#failuresOut) {
      for (const [account, why] of notDone) {
        await this.#failuresOut.write(`${JSON.stringify({ account, code: why.code ?? null, reason: options.reason?.(why) ?? why.reason, retriable: why.retriable })}\n`);
      }
      if (await this.#failuresOut.commit()) rt.info(`wrote ${plural(notDone.size, 'account')} ${options.what} to ${this.#failuresFile} (ndjson: account, code, reason, retriable)`);
    }
    if (this.#saveOut) {
      for (const account of notDone.keys()) await this.#saveOut.write(`${account}\n`);
      if (await this.#saveOut.commit()) rt.info(`wrote ${plural(notDone.size, 'account')} ${options.what} to ${this.#saveFailed}, one per line${options.saveNote ? `; ${options.saveNote}` : ''}`);
    }
  }
}
