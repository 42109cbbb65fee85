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
import { ConfigError, UsageError } from '../errors.js';
import { applyEntries } from '../jobs/attr-writes.js';
import { findJournal, journalDir, listJournals, readJournal, type JournalRecord } from '../jobs/journal.js';
import { addEngineOptions } from '../jobs/runner.js';
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
      'List the write journal: every run that changed data on the server (set, remove, tags, push) leaves one entry, ' +
        'written before each call left, with the state the accounts had before it. `im-attrs undo ID` puts that back. ' +
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
        '--dry-run shows it, it asks on a terminal (--yes otherwise for more than 1,000 accounts), and it is journaled ' +
        'itself (undo it with `im-attrs undo last`). A journal of another app, endpoint or API family is refused.',
    )
    .argument('<journal>', 'journal id, prefix, `last`, or file')
    .option('--dry-run', 'print the requests it would send; send nothing')
    .option('-y, --yes', 'do not ask');
  addEngineOptions(command, { kind: 'records', verb: 'set' });
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
    if (options.json) {
      out.write(`${JSON.stringify({ ...header, accounts: record.before.size, counts: counts ?? null, notes: record.notes })}\n`);
      continue;
    }
    const state = counts ? Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${k} ${thousands(n)}`).join(', ') || 'nothing' : 'did not finish';
    rows.push([header.id, header.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), header.verb, `${header.sdkAppId}${header.profile ? ` (${header.profile})` : ''}`, thousands(record.before.size), state]);
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
    rt.info(`the journal ${header.id} (${header.verb}) holds no account state to restore: nothing to undo`);
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
    if (sets.length) await applyEntries(run, { verb: 'set', entries: list(sets), total: sets.length, bad: 0 });
    if (removes.length) await applyEntries(run, { verb: 'remove', entries: list(removes), total: removes.length, bad: 0 });
    if (tags.length) await applyTagEntries(run, { mode: 'set', entries: () => list(tags), total: tags.length, bad: 0 });
  });
}
