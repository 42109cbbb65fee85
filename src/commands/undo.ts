/**
 * `im-attrs history` and `im-attrs undo`: the write journal (src/jobs/journal.ts) read back.
 *
 * `undo JOURNAL` restores the journal's before-state of every account its run may have changed,
 * exactly: attributes that had a value get it back (set), attributes that had none are removed
 * (remove), and tags are replaced by the list the account had (tags set). It goes through the same
 * runner as every write (dry-run, confirmation, pacing, failures, Ctrl-C) and is journaled itself,
 * so an undo can be undone. A journal of another app, endpoint or API family is refused.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError, InterruptedError, partial, PartialFailureError, UsageError } from '../errors.js';
import { applyEntries } from '../jobs/attr-writes.js';
import { findJournal, journalDir, listJournals, readJournal, type JournalRecord } from '../jobs/journal.js';
import { NotDoneFiles, type NotDone } from '../jobs/not-done.js';
import { addEngineOptions, type CallEnd } from '../jobs/runner.js';
import { withRun, type EngineFlags, type WriteFlags } from '../jobs/run.js';
import { applyTagEntries } from '../jobs/tag-writes.js';
import type { Entry } from '../model.js';
import { writeRows } from '../output/index.js';
import type { Runtime } from '../runtime/runtime.js';
import { plural, thousands } from '../util/text.js';

export interface UndoOptions extends EngineFlags, WriteFlags {}

export function newHistoryCommand(rt: Runtime): Command {
  return new Command('history')
    .summary('list the journaled writes and pushes of this machine, newest first')
    .description(
      'List the write journal: every run that changed data on the server (set, remove, tags, apply, undo, push, names set, ' +
        'schedules) leaves one entry, written before each call left; attribute and tag writes record the state the accounts ' +
        'had before it, which `im-attrs undo ID` puts back (a push is recalled instead). ' +
        'Journals live under $XDG_STATE_HOME/im-attrs/journal (default ~/.local/state/im-attrs/journal), mode 600, ' +
        'and are kept for `journalDays` days (default 30).',
    )
    .addOption(new Option('-o, --output <format>', 'table, tsv or csv (default: table on a terminal, tsv otherwise)').choices(['table', 'tsv', 'csv']))
    .option('--json', 'one JSON object per journal: its header and counts')
    .addHelpText('after', '\nExamples:\n  $ im-attrs history\n  $ im-attrs undo last --dry-run\n')
    .action(async (options: { output?: string; json?: boolean }) => historyRun(rt, options));
}

export function newUndoCommand(rt: Runtime): Command {
  const command = new Command('undo')
    .summary('restore what a journaled write changed (im-attrs history lists them)')
    .description(
      'Restore the state the accounts of one journaled run had before it: attribute values set back, attributes that had ' +
        'no value removed, tags replaced by the list each account had. JOURNAL is an id from `im-attrs history` (or a ' +
        'prefix of one), `last`, or a journal file. Only accounts whose call may have reached the server are in a ' +
        'journal, so an interrupted run is undone exactly as far as it went. The undo is a write like any other: ' +
        '--dry-run shows it, it asks on a terminal (unless --yes), and it is journaled itself (undo it with ' +
        '`im-attrs undo last`). Its passes (set, remove, tags) all run even if one partly fails; the accounts not restored ' +
        'are listed at the end, and re-running the same undo is safe (it writes the same state again). ' +
        'A journal of another app, endpoint or API family is refused.',
    )
    .argument('<journal>', 'journal id, prefix, `last`, or file')
    .option('--dry-run', 'print the requests it would send; send nothing')
    .option('-y, --yes', 'do not ask');
  addEngineOptions(command, {
    kind: 'ids',
    input: 'undo',
    help: 'write the accounts not restored (failed or not sent), one per line; re-running the undo restores them',
  });
  command.addHelpText('after', '\nExamples:\n  $ im-attrs history\n  $ im-attrs undo 20261207T061500 --dry-run\n  $ im-attrs undo last --yes\n');
  command.action(async (ref: string, options: UndoOptions) => undoRun(rt, ref, options));
  return command;
}

async function historyRun(rt: Runtime, options: { output?: string; json?: boolean }): Promise<void> {
  const out = rt.deps.io.stdout;
  const rows: string[][] = [];
  for (const file of listJournals(rt)) {
    let record: JournalRecord;
    try {
      record = readJournal(file);
    } catch {
      continue;
    }
    const { header, counts } = record;
    // Accounts with a before-state (writes); a push records none: its counts say how many it reached.
    const accounts = record.before.size || (counts ? (counts.done ?? 0) + (counts.failed ?? 0) + (counts.unknown ?? 0) + (counts.unsent ?? 0) : 0);
    if (options.json) {
      out.write(`${JSON.stringify({ ...header, accounts, counts: counts ?? null, notes: record.notes })}\n`);
      continue;
    }
    const state = counts ? Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${k} ${thousands(n)}`).join(', ') || 'nothing' : 'did not finish';
    rows.push([header.id, header.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), header.verb, `${header.sdkAppId}${header.profile ? ` (${header.profile})` : ''}`, thousands(accounts), state]);
  }
  if (options.json) return;
  const format = (options.output ?? (rt.deps.io.stdoutIsTTY ? 'table' : 'tsv')) as 'table' | 'tsv' | 'csv';
  const header = ['id', 'time', 'verb', 'app', 'accounts', 'outcome'];
  writeRows(out, format, { header, cells: (row: string[]) => row, json: (row: string[]) => Object.fromEntries(header.map((h, i) => [h, row[i]])) }, rows, { width: rt.deps.io.stdoutIsTTY ? rt.deps.io.columns : undefined });
  if (rows.length === 0) rt.info(`no journal yet (${journalDir(rt)})`);
}

async function* list<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

export async function undoRun(rt: Runtime, ref: string, options: UndoOptions): Promise<void> {
  const record = readJournal(findJournal(rt, ref));
  const { header } = record;
  const [config, family] = await Promise.all([rt.apiConfig(), rt.family()]);
  const here = `app ${config.sdkAppId} at ${new URL(config.baseUrl).origin} (${family})`;
  if (header.sdkAppId !== config.sdkAppId || header.family !== family) {
    throw new ConfigError(`the journal ${header.id} is of app ${header.sdkAppId} at ${header.endpoint} (${header.family}); this run is configured for ${here}`, {
      hint: `select that app (--profile${header.profile ? ` ${header.profile}` : ''}, --api ${header.family}) to undo it there`,
    });
  }
  // The same app through another address (a backup domain, a proxy) is the same data: said, not refused.
  if (header.endpoint !== new URL(config.baseUrl).origin) rt.warn(`the journal was written through ${header.endpoint}; undoing through ${new URL(config.baseUrl).origin}`);
  const sets: Entry[] = [];
  const removes: Entry[] = [];
  const tags: Array<{ account: string; tags: string[] }> = [];
  for (const [account, state] of record.before) {
    const values = Object.entries(state.Attrs ?? {});
    if (values.length > 0) sets.push({ account, attrs: new Map(values) });
    if (state.Unset?.length) removes.push({ account, attrs: new Map(state.Unset.map((name) => [name, ''])) });
    if (state.Tags) tags.push({ account, tags: state.Tags });
  }
  if (sets.length + removes.length + tags.length === 0) {
    rt.info(`the journal ${header.id} (${header.verb}) holds no account state to restore: nothing to undo${header.verb.startsWith('push') ? ' (a push is recalled: im-attrs push revoke TASKID)' : ''}; im-attrs history lists the other journals`);
    return;
  }
  rt.info(
    `undo ${header.id} (${header.verb} of ${header.time}, ${path.basename(record.file)}): ` +
      [sets.length ? `set back ${plural(sets.length, 'account')}` : '', removes.length ? `remove attributes that had no value from ${plural(removes.length, 'account')}` : '', tags.length ? `restore the tags of ${plural(tags.length, 'account')}` : '']
        .filter(Boolean)
        .join(', '),
  );
  await withRun(rt, options, async (run) => {
    // One journal for the whole undo, named so: it can be undone in turn.
    await run.journal('undo');
    if (!options.dryRun && !options.yes && rt.deps.io.stdinIsTTY && !(await run.confirm(`Undo ${header.verb} ${header.id}, restoring ${plural(record.before.size, 'account')} as they were before it?`, 'nothing was changed'))) {
      throw new UsageError('not confirmed; nothing was changed');
    }
    // Asked once for the whole undo: its passes do not ask again.
    run.flags.yes = true;
    // The passes' own --failures and --save-failed would replace each other (as in apply): the
    // undo writes one of each, and a pass that partly fails does not keep the others from running.
    const files = await NotDoneFiles.open(run, [], !options.dryRun);
    const notRestored = new Map<string, NotDone & { step: string }>();
    const done = new Set<string>();
    const onCall =
      (step: string) =>
      (end: CallEnd<{ account: string }, never>): void => {
        if (end.kind === 'answered') {
          const failed = new Set(end.failures.map((f) => f.item.account));
          for (const f of end.failures) notRestored.set(f.item.account, { reason: f.reason, code: f.code, retriable: true, step });
          for (const item of end.items) if (!failed.has(item.account)) done.add(`${step}\0${item.account}`);
        } else for (const item of end.items) notRestored.set(item.account, { reason: end.reason, retriable: true, step });
      };
    let stopped: unknown;
    const pass = async (write: () => Promise<void>): Promise<void> => {
      if (stopped !== undefined) return;
      try {
        await write();
      } catch (error) {
        if (!partial(error)) stopped = error;
      }
    };
    const steps: Array<[string, ReadonlyArray<{ account: string }>]> = [['set back', sets], ['remove', removes], ['tags', tags]];
    if (sets.length) await pass(() => applyEntries(run, { verb: 'set', entries: list(sets), total: sets.length, bad: 0, onCall: onCall('set back') }));
    if (removes.length) await pass(() => applyEntries(run, { verb: 'remove', entries: list(removes), total: removes.length, bad: 0, onCall: onCall('remove') }));
    if (tags.length) await pass(() => applyTagEntries(run, { mode: 'set', entries: () => list(tags), total: tags.length, bad: 0, onCall: onCall('tags') }));
    // A stop (Ctrl-C, an error that ends the run) leaves calls unsent, later passes too: every
    // account whose step was neither done nor failed is named as not sent.
    if (stopped !== undefined && !options.dryRun) {
      for (const [step, entries] of steps) {
        // A tags restore can take two calls an account (clear, then add; or parts of a long list):
        // an answered call does not finish it, so none of that step counts as done after a stop.
        const confirmed = (account: string): boolean => step !== 'tags' && done.has(`${step}\0${account}`);
        for (const { account } of entries) if (!confirmed(account) && !notRestored.has(account)) notRestored.set(account, { reason: 'not confirmed: the undo stopped before it finished', retriable: true, step });
      }
    }
    await files.report(notRestored, {
      what: 'not restored',
      line: (account, why) => `${rt.chalk.red('not restored:')} ${account} (${why.step}): ${why.reason}`,
      reason: (why) => `${why.step}: ${why.reason}`,
    });
    const again = `re-run the same undo (im-attrs undo ${header.id}): it writes the same state again, which is safe to repeat`;
    if (stopped instanceof InterruptedError) throw new InterruptedError(`interrupted: ${plural(notRestored.size, 'account')} not restored`, { hint: again });
    if (stopped !== undefined) throw stopped;
    if (notRestored.size) throw new PartialFailureError(`${plural(notRestored.size, 'account')} not restored; the others were`, notRestored.size, { hint: again });
  });
}
