/**
 * Applying a plan (plan/file.ts): only its changes, grouped into the fewest calls, through the
 * writers every other write uses (attr-writes.ts applyEntries, tag-writes.ts applyTagEntries:
 * pacing, retries, failures, Ctrl-C, the journal `undo` reads, --dry-run).
 *
 * 1. Refresh (unless --no-refresh): the plan's accounts are read again (attributes, and tags when
 *    the plan read them) and compared with the plan's `before`; an account whose state moved is
 *    not written (it is listed: stderr, --failures), as is one that could not be read.
 * 2. The passes, each over the plan file again (streamed): set_attr with only the changed
 *    attributes, remove_attr, then tags: remove_tag, add_tag; on TIMPush an account with both
 *    (or with more than one add call's worth) gets one add_tag Replace: 1 with its whole new list.
 *
 * One journal for the whole apply (its passes' before-states merged per attribute and tag by
 * journal.ts), so `undo last` restores every account as the plan found it.
 */
import { targetingOperation } from '../api/composite.js';
import { MAX_TAGS_PER_ADD_CALL } from '../api/facts.js';
import type { TagEntry } from '../api/tags.js';
import { ConfigError, partial, PartialFailureError, UsageError } from '../errors.js';
import type { Entry } from '../model.js';
import type { AccountState, Change } from '../plan/diff.js';
import { describeMove, planChanges, sameState, type PlanSummary } from '../plan/file.js';
import { plural, thousands } from '../util/text.js';
import { applyEntries, CONFIRM_ABOVE_ACCOUNTS } from './attr-writes.js';
import { NotDoneFiles, type NotDone } from './not-done.js';
import { runJob, type CallEnd } from './runner.js';
import type { Run } from './run.js';
import { applyTagEntries } from './tag-writes.js';

/** Accounts listed one by one on stderr before the rest are only counted. */
/** Why an account of the plan was not written. */
/** Refuses a plan made for another app or API family (as undo refuses a journal). */
export async function checkPlanTarget(run: Run, summary: PlanSummary, label: string): Promise<void> {
  const { rt } = run;
  const { header } = summary;
  const [config, family] = await Promise.all([rt.apiConfig(), rt.family()]);
  if (header.sdkAppId !== config.sdkAppId || header.family !== family) {
    throw new ConfigError(`the plan ${label} is for app ${header.sdkAppId} at ${header.endpoint} (${header.family}); this run is configured for app ${config.sdkAppId} at ${new URL(config.baseUrl).origin} (${family})`, {
      hint: `select that app (--profile, --api ${header.family}) to apply it there, or make a plan for this one`,
    });
  }
  if (!summary.trailer) rt.warn(`the plan ${label} has no last line: it was cut short; only the accounts it lists are applied`);
}

/** The TIMPush replace of one account: its whole new list, when that is fewer calls than remove + add. */
function replaceList(change: Change): string[] | undefined {
  const calls = (change.removeTags.length ? 1 : 0) + Math.ceil(change.addTags.length / MAX_TAGS_PER_ADD_CALL);
  if (calls <= 1 || change.before.Tags === undefined) return undefined;
  const removed = new Set(change.removeTags);
  return [...new Set([...change.before.Tags.filter((t) => !removed.has(t)), ...change.addTags])];
}

/**
 * Applies the plan in `file`. `refresh`: re-read its accounts first and skip those that moved
 * (false for --no-refresh, and for `apply --file`, whose plan was read a moment ago: `fresh`).
 */
export async function applyPlan(run: Run, file: string, label: string, summary: PlanSummary, options: { refresh: boolean; fresh?: boolean }): Promise<void> {
  const { rt } = run;
  const family = await rt.family();
  const dryRun = Boolean(run.flags.dryRun);
  // One journal for every pass, named so.
  if (!dryRun) await run.journal('apply');
  // The passes' own --failures and --save-failed would replace each other: apply writes one of each.
  const files = await NotDoneFiles.open(run, [file]);
  const notWritten = new Map<string, NotDone>();
  const moved = new Map<string, string>();
  let stopped: unknown;
  try {
    if (options.refresh) await refresh(run, file, label, summary, moved, notWritten);
    const skip = (account: string): boolean => moved.has(account) || notWritten.has(account);
    // A replace writes the whole list: only over a state known to be the plan's (re-read, or just planned).
    const useReplace = family === 'timpush' && (options.refresh || options.fresh === true);
    // What each pass sends, counted first (the plan file is read again for each pass).
    const counts = { set: 0, remove: 0, replace: 0, removeTags: 0, addTags: 0, accounts: 0 };
    for await (const change of planChanges(file, label)) {
      if (skip(change.To_Account)) continue;
      counts.accounts++;
      if (Object.keys(change.set).length) counts.set++;
      if (change.remove.length) counts.remove++;
      if (useReplace && replaceList(change)) counts.replace++;
      else {
        if (change.removeTags.length) counts.removeTags++;
        if (change.addTags.length) counts.addTags++;
      }
    }
    if (moved.size) rt.warn(`${plural(moved.size, 'account')} changed on the server since the plan and will not be written (listed at the end)`);
    if (counts.accounts === 0) {
      rt.info('apply: nothing to write');
    } else {
      rt.info(
        `apply: ${plural(counts.accounts, 'account')}: ` +
          [
            counts.set ? `set attributes of ${thousands(counts.set)}` : '',
            counts.remove ? `remove attributes of ${thousands(counts.remove)}` : '',
            counts.removeTags ? `remove tags of ${thousands(counts.removeTags)}` : '',
            counts.addTags ? `add tags to ${thousands(counts.addTags)}` : '',
            counts.replace ? `replace the tags of ${thousands(counts.replace)} (add_tag Replace, one call instead of two)` : '',
          ]
            .filter(Boolean)
            .join(', '),
      );
      if (counts.accounts > CONFIRM_ABOVE_ACCOUNTS && !dryRun && !run.flags.yes && rt.deps.io.stdinIsTTY && rt.deps.io.stderrIsTTY) {
        if (!(await run.confirm(`Apply the plan to ${thousands(counts.accounts)} accounts?`, 'nothing was changed'))) throw new UsageError('not confirmed; nothing was changed');
      }
      // Asked once for the whole apply: its passes do not ask again.
      run.flags.yes = true;
      const onCall = (end: CallEnd<{ account: string }, never>): void => {
        if (end.kind === 'answered') for (const f of end.failures) notWritten.set(f.item.account, { reason: f.reason, code: f.code, retriable: true });
        else for (const item of end.items) notWritten.set(item.account, { reason: end.reason, retriable: true });
      };
      const pass = async (write: () => Promise<void>, accounts: AsyncIterable<{ account: string } | string>): Promise<void> => {
        if (stopped !== undefined) {
          // The apply stopped in an earlier pass: this one's accounts are not written either.
          for await (const item of accounts) {
            const account = typeof item === 'string' ? item : item.account;
            if (!notWritten.has(account)) notWritten.set(account, { reason: 'not sent: the apply stopped first', retriable: true });
          }
          return;
        }
        try {
          await write();
        } catch (error) {
          // Failed and unsent accounts are gathered (onCall) and reported at the end; the other
          // passes go on after a partial failure, and after a stop name their accounts.
          if (!partial(error)) stopped = error;
        }
      };
      async function* select<T>(pick: (change: Change) => T | undefined): AsyncGenerator<T> {
        for await (const change of planChanges(file, label)) {
          if (skip(change.To_Account)) continue;
          const item = pick(change);
          if (item !== undefined) yield item;
        }
      }
      const entry = (change: Change, names: Iterable<[string, string]>): Entry => ({ account: change.To_Account, attrs: new Map(names) });
      if (counts.set) {
        const sets = (): AsyncGenerator<Entry> => select((c) => (Object.keys(c.set).length ? entry(c, Object.entries(c.set)) : undefined));
        await pass(() => applyEntries(run, { verb: 'set', entries: sets(), total: counts.set, bad: 0, onCall }), sets());
      }
      if (counts.remove) {
        const removes = (): AsyncGenerator<Entry> => select((c) => (c.remove.length ? entry(c, c.remove.map((n) => [n, ''])) : undefined));
        await pass(() => applyEntries(run, { verb: 'remove', entries: removes(), total: counts.remove, bad: 0, onCall }), removes());
      }
      const tagEntry = (change: Change, tags: string[]): TagEntry => ({ account: change.To_Account, tags });
      const separate = (change: Change): boolean => !(useReplace && replaceList(change));
      if (counts.replace) {
        const replaces = (): AsyncGenerator<TagEntry> => select((c) => (separate(c) ? undefined : tagEntry(c, replaceList(c)!)));
        await pass(() => applyTagEntries(run, { mode: 'set', entries: replaces, total: counts.replace, bad: 0, onCall }), replaces());
      }
      // Removes first: a tag renamed (deadline:a → deadline:b) never takes a user over the 100-tag limit.
      if (counts.removeTags) {
        const tagRemoves = (): AsyncGenerator<TagEntry> => select((c) => (separate(c) && c.removeTags.length ? tagEntry(c, c.removeTags) : undefined));
        await pass(() => applyTagEntries(run, { mode: 'remove', entries: tagRemoves, total: counts.removeTags, bad: 0, onCall }), tagRemoves());
      }
      if (counts.addTags) {
        const tagAdds = (): AsyncGenerator<TagEntry> => select((c) => (separate(c) && c.addTags.length ? tagEntry(c, c.addTags) : undefined));
        await pass(() => applyTagEntries(run, { mode: 'add', entries: tagAdds, total: counts.addTags, bad: 0, onCall }), tagAdds());
      }
    }
  } catch (error) {
    stopped = error;
  }
  // The accounts not written: listed, in --failures, their IDs in --save-failed.
  await files.report(notWritten, {
    what: 'not written',
    line: (account, why) => `${moved.has(account) ? rt.chalk.yellow('not written:') : rt.chalk.red('failed:')} ${account}: ${why.reason}`,
    saveNote: 'plan them again',
  });
  if (stopped !== undefined) throw stopped;
  if (notWritten.size > 0) {
    const failed = notWritten.size - moved.size;
    const why = [moved.size ? `${thousands(moved.size)} changed on the server since the plan` : '', failed ? `${thousands(failed)} failed or could not be re-read` : ''].filter(Boolean).join(', ');
    throw new PartialFailureError(`${plural(notWritten.size, 'account')} of the plan not written (${why}); the others were ${dryRun ? 'shown' : 'applied'}`, notWritten.size, {
      hint: 'plan again for those accounts (their state is not what the plan saw), then apply the new plan',
    });
  }
}

/** Re-reads the plan's accounts and compares each with the plan's `before`: moved or unread ones are not written. */
async function refresh(run: Run, file: string, label: string, summary: PlanSummary, moved: Map<string, string>, notWritten: Map<string, NotDone>): Promise<void> {
  const { rt } = run;
  if (summary.accounts === 0) return;
  const operation = targetingOperation(await rt.operation('getAttrs'), await rt.operation('getTags'), { attrs: true, tags: summary.header.tags });
  const planned = new Map<string, AccountState>();
  async function* accounts(): AsyncGenerator<string> {
    for await (const change of planChanges(file, label)) {
      planned.set(change.To_Account, change.before);
      yield change.To_Account;
    }
  }
  rt.info(`apply: re-reading the ${plural(summary.accounts, 'account')} of the plan, to write none whose state moved since`);
  try {
    await runJob(run, {
      operation,
      verb: 'apply (re-read)',
      items: accounts(),
      total: summary.accounts,
      onResults: (records) => {
        for (const record of records) {
          const before = planned.get(record.To_Account);
          if (!before) continue;
          const now: AccountState = { Attrs: record.Attrs, Tags: record.Tags };
          if (sameState(before, now)) continue;
          const what = describeMove(before, now);
          moved.set(record.To_Account, what);
          notWritten.set(record.To_Account, { reason: `changed on the server since the plan (${what})`, retriable: false });
        }
      },
      onCall: (end) => {
        if (end.kind === 'answered') for (const f of end.failures) notWritten.set(f.item, { reason: `could not be re-read before writing: ${f.reason}`, code: f.code, retriable: true });
        for (const account of end.items) planned.delete(account);
      },
    });
  } catch (error) {
    if (!partial(error)) throw error;
  }
}
