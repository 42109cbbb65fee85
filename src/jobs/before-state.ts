/** The reads a write makes before each call leaves, for its journal (journal.ts) and --backup. */
import type { BatchOperation } from '../api/operation.js';
import { ApiError } from '../errors.js';
import { plural } from '../util/text.js';
import { BEFORE_STATE } from './journal.js';
import type { Run } from './run.js';

/**
 * A write's before-state read of `accounts` (get_attr or get_tag, labelled for the emulator's log),
 * its results by account. An account the app does not know (70107, or left out of the answer) had
 * nothing; any other failure leaves the old state unknown, and the call must not be sent.
 */
export async function readBefore<R extends { To_Account: string }>(run: Run, op: BatchOperation<string, R>, accounts: readonly string[], what: string): Promise<Map<string, R>> {
  const outcome = await run.callBatch(op, accounts, undefined, BEFORE_STATE);
  const failures = outcome.failures.filter((f) => f.code !== 70107 && !f.reason.startsWith('not in the response'));
  if (failures.length > 0) {
    const f = failures[0]!;
    throw new ApiError(`the ${what} of ${plural(failures.length, 'account')} could not be read before writing (${f.reason}: ${accounts[f.index]!}); that call was not sent`, {
      hint: 'the accounts before them were written and journaled (im-attrs history; undo with im-attrs undo last)',
    });
  }
  return new Map(outcome.results.map((r) => [r.To_Account, r]));
}

