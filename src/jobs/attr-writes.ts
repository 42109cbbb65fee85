/**
 * What the attribute writers (set, remove) share: record input (files, stdin, arguments) checked
 * against the app's attribute names, and handing the entries to the job runner.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { namesInSlotOrder } from '../api/attrs.js';
import { UsageError } from '../errors.js';
import type { Entry } from '../model.js';
import {
  appNames,
  openRecordInputs,
  RECORD_FORMATS,
  RecordReader,
  unknownAttribute,
  valueProblem,
  type AppNames,
  type ColumnOptions,
  type RecordFormat,
  type RecordInputSpec,
  type RecordMode,
  type ScanReport,
} from '../input/records.js';
import type { Runtime } from '../runtime/runtime.js';
import { checkStdinIsNotDirectory } from '../input/sources.js';
import { inputIdentities, SafeFile } from '../util/safe-file.js';
import { plural, thousands } from '../util/text.js';
import { addEngineOptions, checkSaveFailed, runJob, type Job } from './runner.js';
import { readBefore } from './before-state.js';
import type { BeforeState } from './journal.js';
import { withRun, type EngineFlags, type Run, type WriteFlags } from './run.js';

/**
 * Bad records listed one by one on stderr before the rest are only counted (unless --verbose):
 * a file with a wrong attribute on every line must not bury the summary.
 */
export const MAX_LISTED_BAD_LINES = 100;

/** A write touching more accounts than this asks once on a terminal (--yes skips). */
export const CONFIRM_ABOVE_ACCOUNTS = 1000;

/** --backup, as set and remove take it. */
export interface BackupFlag {
  backup?: string | undefined;
}

/**
 * What set and remove share after their own options: --format, --strict and --dry-run, then the
 * engine's flags, with --save-failed writing records (re-runnable) instead of bare IDs.
 */
export function addRecordOptions(command: Command, verb: RecordMode): void {
  command
    .addOption(new Option('--format <format>', 'format of the records (default: detected from the content)').choices(RECORD_FORMATS))
    .option('--strict', 'send nothing when any record is bad (default: skip bad records, send the others)')
    .option('--dry-run', 'check the input and print the requests it would send, on stdout; send nothing (one im_get_attr_name call only)')
    .option(
      '--backup <path>',
      `before each batch is written, fetch its accounts' values of the attributes it ${verb === 'set' ? 'sets' : 'removes'} and write them as ndjson records: \`im-attrs set --file <path>\` restores them`,
    )
    .option('-y, --yes', `do not ask before a write of more than ${CONFIRM_ABOVE_ACCOUNTS.toLocaleString('en-US')} accounts on a terminal`);
  addEngineOptions(command, { kind: 'records', verb });
}

/** Checks attribute names (and, for set, values) from arguments; throws one UsageError for all problems. */
export function checkArgumentAttrs(attrs: ReadonlyMap<string, string>, names: AppNames, mode: RecordMode): void {
  const problems: string[] = [];
  for (const [name, value] of attrs) {
    if (!names.set.has(name)) problems.push(unknownAttribute(name, names));
    else if (mode === 'set') {
      const problem = valueProblem(name, value);
      if (problem) problems.push(problem);
    }
  }
  if (problems.length > 0) {
    throw new UsageError(problems.join('; '), { hint: `the app's attributes are ${names.list.join(', ')} (im-attrs names)` });
  }
}

/**
 * Where records come from (set, remove, tags): `-`/`--file -` is stdin, as is a piped stdin when
 * nothing else is named; `none` is the error when nothing is.
 */
export function recordInputSpecs(rt: Runtime, stdinArg: boolean, files: readonly string[] = [], none: { message: string; hint: string }): RecordInputSpec[] {
  const specs: RecordInputSpec[] = [];
  const stdin: RecordInputSpec = { kind: 'stdin', stream: rt.deps.io.stdin };
  // Inputs are read in the order given; stdin once, where it is first named.
  if (stdinArg) specs.push(stdin);
  for (const file of files) {
    if (file !== '-') specs.push({ kind: 'file', path: path.resolve(rt.deps.cwd, file), label: file });
    else if (!specs.includes(stdin)) specs.push(stdin);
  }
  // A piped stdin is read when nothing else is named (never a terminal: it would wait for typing).
  if (specs.length === 0 && !rt.deps.io.stdinIsTTY) specs.push(stdin);
  if (specs.length === 0) throw new UsageError(none.message, { hint: none.hint });
  // `im-attrs set < /tmp` reads nothing from a directory without an error: say what is wrong.
  if (specs.includes(stdin)) checkStdinIsNotDirectory(rt.deps.io.stdin, 'records');
  return specs;
}

/** What set and remove say when they are given no records. */
export const NO_RECORDS: Readonly<Record<RecordMode, { message: string; hint: string }>> = {
  set: {
    message: 'no records given',
    hint: 'name an account (im-attrs set alice city=Paris), use --file attrs.csv, or pipe records: im-attrs get --output ndjson … | im-attrs set',
  },
  remove: {
    message: 'no records given',
    hint: 'name accounts and --attrs (im-attrs remove alice --attrs city), use --file records.ndjson, or pipe records',
  },
};

/** The app's attribute names (one call, paced and retried); refuses an app that has none. */
export async function fetchAppNames(run: Run): Promise<AppNames> {
  // A bad --save-failed target is refused before this first request, not after it.
  checkSaveFailed(run);
  const names = namesInSlotOrder(await run.call(await run.rt.operation('getAttrNames'), undefined));
  if (names.length === 0) {
    throw new UsageError('the app has no attribute names yet, so no attribute can be set or removed', {
      hint: 'define them first: im-attrs names set 0=sex 1=city',
    });
  }
  return appNames(names);
}

/**
 * The first pass over records: lists the bad ones on stderr (`line 7: …`), refuses with
 * --strict, refuses an input with nothing but bad records.
 */
export async function scanRecords(rt: Runtime, reader: Pick<RecordReader, 'scan'>, strict: boolean | undefined): Promise<ScanReport> {
  let listed = 0;
  const limit = rt.options.verbose || rt.options.debug ? Infinity : MAX_LISTED_BAD_LINES;
  const report = await reader.scan((bad) => {
    if (listed++ < limit) rt.stderr(`${bad.where}: ${bad.problems.join('; ')}`);
  });
  if (listed > limit) rt.stderr(`… and ${plural(listed - limit, 'more bad record')} (--verbose lists them all)`);
  if (report.bad > 0 && strict) {
    throw new UsageError(`${plural(report.bad, 'bad record')} in the input; nothing was sent (--strict)`, {
      hint: 'fix the records listed above, or leave out --strict to send the good ones and skip the bad',
    });
  }
  if (report.bad > 0 && report.accounts === 0) {
    throw new UsageError(`no good records, ${plural(report.bad, 'bad one')}; nothing was sent`, { hint: 'fix the records listed above' });
  }
  if (report.records === 0) rt.warn('the input has no records; nothing to do');
  if (report.duplicates > 0) {
    rt.warn(
      `${plural(report.duplicates, 'record')} ${report.duplicates === 1 ? 'repeats' : 'repeat'} the account of an earlier one; each account is sent once, at its last record, ` +
        'with its records merged (later values win)',
    );
  }
  return report;
}

export interface EntryJob {
  verb: RecordMode;
  entries: AsyncIterable<Entry>;
  /** Accounts with something to send, when known (for the spinner). */
  total: number | undefined;
  /** Records skipped as bad (already reported). */
  bad: number;
  /** --backup. */
  backup?: string | undefined;
  /** How each call ended (the runner's Job.onCall): for a caller that gathers outcomes across passes (apply). */
  onCall?: Job<Entry, never>['onCall'];
}

/**
 * Asks once before a big write of more than CONFIRM_ABOVE_ACCOUNTS accounts, on a terminal only
 * (run.confirm: the spinner stopped, the app named); without one it proceeds, as it always did.
 * With a known total it asks before anything is sent; streaming, when the count passes the limit
 * (the first entries held back, so nothing is sent before the answer).
 */
export function confirmBigWrite<T>(run: Run, question: (count: string) => string): (entries: AsyncIterable<T>) => AsyncGenerator<T> {
  const { rt } = run;
  const ask = !run.flags.dryRun && !run.flags.yes && rt.deps.io.stdinIsTTY && rt.deps.io.stderrIsTTY;
  const refuse = (): never => {
    throw new UsageError('not confirmed; nothing was changed', { hint: 'pass --yes to skip the question' });
  };
  return async function* (entries) {
    if (!ask) {
      yield* entries;
      return;
    }
    const iterator = entries[Symbol.asyncIterator]();
    const held: T[] = [];
    for (let next = await iterator.next(); !next.done; next = held.length > CONFIRM_ABOVE_ACCOUNTS ? { done: true, value: undefined } : await iterator.next()) {
      held.push(next.value);
    }
    if (held.length > CONFIRM_ABOVE_ACCOUNTS && !(await run.confirm(question(`more than ${thousands(CONFIRM_ABOVE_ACCOUNTS)}`), 'nothing was changed'))) {
      await iterator.return?.();
      refuse();
    }
    yield* held;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  };
}

/**
 * The before-state of one call's entries (the attributes it sets or removes: their values, and
 * `Unset` for those an account did not have), read with get_attr on its own endpoint's pacer just
 * before the call leaves: what the journal records and --backup writes. An account the app does
 * not know yet (70107, or left out of the answer) had nothing: all its attributes are Unset. Any
 * other failure leaves the old values unknown, and the call is not sent (the run stops there).
 */
function attrBeforeState(run: Run): (entries: Entry[]) => Promise<Record<string, BeforeState>> {
  return async (entries) => {
    const read = await readBefore(run, await run.rt.operation('getAttrs'), entries.map((e) => e.account), 'values');
    const before: Record<string, BeforeState> = {};
    for (const entry of entries) {
      const had = read.get(entry.account)?.Attrs ?? {};
      const attrs: Record<string, string> = {};
      const unset: string[] = [];
      for (const name of entry.attrs.keys()) {
        if (Object.hasOwn(had, name)) Object.defineProperty(attrs, name, { value: had[name], enumerable: true, writable: true, configurable: true });
        else unset.push(name);
      }
      before[entry.account] = unset.length ? { Attrs: attrs, Unset: unset } : { Attrs: attrs };
    }
    return before;
  };
}

/** --backup: the journal's before-state of each call as set records, written as the call leaves (never for a call that did not). */
function backupRecords(backup: SafeFile, count: { accounts: number; unset: number }): (items: Entry[], before: Record<string, BeforeState>) => Promise<void> {
  return async (items, before) => {
    let text = '';
    for (const entry of items) {
      const state = before[entry.account] ?? {};
      count.accounts++;
      if (state.Unset?.length) count.unset++;
      text += `${JSON.stringify(state.Unset?.length ? { To_Account: entry.account, Attrs: state.Attrs ?? {}, Unset: state.Unset } : { To_Account: entry.account, Attrs: state.Attrs ?? {} })}\n`;
    }
    await backup.write(text);
  };
}

/**
 * Sends entries through the job runner with the family's set or remove operation (or, with
 * --dry-run, prints the requests it would send). Entries with no attribute are skipped and
 * counted as "nothing to set".
 */
export async function applyEntries(run: Run, job: EntryJob): Promise<void> {
  const { rt } = run;
  const operation = await rt.operation(job.verb === 'set' ? 'setAttrs' : 'removeAttrs');
  let empty = 0;
  async function* withSomething(): AsyncGenerator<Entry> {
    for await (const entry of job.entries) {
      if (entry.attrs.size === 0) empty++;
      else yield entry;
    }
  }
  const question = (count: string): string => `${job.verb} ${count} accounts? This changes their push attributes (--backup <path> keeps the old values).`;
  let items: AsyncIterable<Entry> = withSomething();
  if (job.total !== undefined && job.total > CONFIRM_ABOVE_ACCOUNTS && !run.flags.dryRun && !run.flags.yes && rt.deps.io.stdinIsTTY && rt.deps.io.stderrIsTTY) {
    // The count is known: ask before anything is read or sent.
    if (!(await run.confirm(question(thousands(job.total)), 'nothing was changed'))) {
      throw new UsageError('not confirmed; nothing was changed', { hint: 'pass --yes to skip the question' });
    }
  } else items = confirmBigWrite<Entry>(run, question)(items);
  const backup = job.backup && !run.flags.dryRun
    ? await SafeFile.open(path.resolve(rt.deps.cwd, job.backup), '--backup', inputIdentities(rt.deps.cwd, run.flags.file, rt.deps.io.stdin))
    : undefined;
  const count = { accounts: 0, unset: 0 };
  try {
    await runJob(run, {
      operation,
      verb: job.verb,
      items,
      total: job.total,
      skipped: () => ({ bad: job.bad, empty }),
      onCall: job.onCall,
      // Read before each call takes its turn, on get_attr's own pacer: the journal's before-state, and --backup's.
      beforeState: attrBeforeState(run),
      onJournaled: backup ? backupRecords(backup, count) : undefined,
    });
  } finally {
    if (backup && (await backup.commit())) {
      const file = job.backup!;
      rt.info(`wrote the previous values of ${plural(count.accounts, 'account')} to ${file} (im-attrs undo last restores them, unset ones included)`);
      if (count.unset > 0) {
        rt.info(`${plural(count.unset, 'account')} had no value for some of these attributes ("Unset" in ${file}, which set ignores; im-attrs undo removes them)`);
      }
    }
  }
}

/** Records from files/stdin: open (copying stdin), fetch the names, scan, then apply. Shared with remove. */
export async function applyRecordFiles(
  rt: Runtime,
  verb: RecordMode,
  specs: readonly RecordInputSpec[],
  options: { format?: RecordFormat | undefined; strict?: boolean | undefined; columns?: ColumnOptions | undefined } & EngineFlags & WriteFlags & BackupFlag,
): Promise<void> {
  const inputs = await openRecordInputs(specs, options.format);
  try {
    await withRun(rt, options, async (run) => {
      const reader = new RecordReader(inputs.sources, verb, await fetchAppNames(run), options.columns);
      const report = await scanRecords(rt, reader, options.strict);
      await applyEntries(run, { verb, entries: reader.entries(), total: report.accounts - report.empty, bad: report.bad, backup: options.backup });
    });
  } finally {
    await inputs.close();
  }
}

export async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}
