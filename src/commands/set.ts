/**
 * `im-attrs set`: push attributes in, from `name=value` arguments for one account or from
 * records (ndjson, json, csv, tsv: what `get --output …` prints) for many.
 * input → records.ts (checked, duplicates merged) → batches of ≤ 100 → im_set_attr.
 *
 * Also home of what set and remove share around the engine (`applyEntries`): dry runs, the
 * summary, `--save-failed` with records, and the exit status for skipped input.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { COMMANDS, getAttrNames, namesInSlotOrder, removeAttrs, setAttrs } from '../api/attrs.js';
import type { ImClient } from '../api/client.js';
import { Pacer } from '../api/pacer.js';
import { ApiError, ImAttrsError, InterruptedError, PartialFailureError, UsageError } from '../errors.js';
import {
  appNames,
  openRecordInputs,
  RECORD_FORMATS,
  RecordReader,
  removeEntry,
  setEntry,
  unknownAttribute,
  valueProblem,
  type AppNames,
  type Entry,
  type RecordFormat,
  type RecordInputSpec,
  type RecordMode,
  type ScanReport,
} from '../records.js';
import type { Runtime } from '../runtime.js';
import { addEngineOptions, callWithPolicy, engineSettings, runBatchJob, type EngineFlags, type EngineSettings } from './batching.js';
import { collect, plural } from '../util/text.js';
import { inputIdentities, SafeFile } from '../util/safe-file.js';

export interface SetOptions extends EngineFlags {
  file?: string[];
  format?: RecordFormat;
  strict?: boolean;
  dryRun?: boolean;
}

/**
 * Bad records listed one by one on stderr before the rest are only counted (unless --verbose):
 * a file with a wrong attribute on every line must not bury the summary.
 */
export const MAX_LISTED_BAD_LINES = 100;

const EXAMPLES = `
Examples:
  $ im-attrs set alice city=Paris sex=F
  $ im-attrs set --file crm-export.csv --dry-run
  $ im-attrs get --file ids.txt --output ndjson > backup.ndjson && im-attrs set --file backup.ndjson --profile prod
  $ im-attrs set --file big.tsv --save-failed failed.ndjson || im-attrs set --file failed.ndjson
`;

export function newSetCommand(rt: Runtime): Command {
  const command = new Command('set')
    .summary('set push attributes of one account, or of many from records')
    .description(
      'Set push attributes: of one account from name=value arguments, or of many from records in --file ' +
        '(repeatable) or stdin. Records are what `im-attrs get --output …` prints: ndjson ' +
        '({"To_Account":"u1","Attrs":{"city":"Paris"}} per line), json (one array of those; read whole), ' +
        'csv or tsv with the header account,<name>,<name>… (an empty cell leaves that attribute unchanged). ' +
        'The format is detected from the content unless --format says.\n\n' +
        'Before anything is sent, every record is checked: attribute names must be the app\'s (fetched ' +
        'once), values strings of at most 50 bytes, accounts non-empty (and trimmed). A bad record is reported with its ' +
        'line number and skipped (--strict: nothing is sent at all). A record with no attributes is ' +
        'skipped as "nothing to set". An account on several lines gets one request at its last line, ' +
        'the lines merged (later values win). Only the attributes given are written: the others are left ' +
        'as they are (remove them with `im-attrs remove`).\n\n' +
        'The summary on stderr counts accounts updated, records skipped and accounts failed; exit 5 when ' +
        'any record was skipped or any account failed.',
    )
    .argument('[account]', 'the account to set (or "-": read records from stdin)')
    .argument('[name=value...]', 'attributes of that account; "name=" sets an empty value')
    .option('-f, --file <path>', 'read records from a file; "-" is stdin (repeatable) (default: stdin when it is not a terminal)', collect);
  addRecordOptions(command, 'set');
  command.addHelpText('after', EXAMPLES);
  command.action(async (account: string | undefined, assignments: string[], options: SetOptions) => {
    await setRun(rt, account, assignments, options);
  });
  return command;
}

/**
 * What set and remove share after their own options: --format, --strict and --dry-run, then the
 * engine's flags, with --save-failed writing records (re-runnable) instead of bare IDs.
 */
export function addRecordOptions(command: Command, verb: RecordMode): void {
  command
    .addOption(new Option('--format <format>', 'format of the records (default: detected from the content)').choices(RECORD_FORMATS))
    .option('--strict', 'send nothing when any record is bad (default: skip bad records, send the others)')
    .option('--dry-run', 'check the input and print the requests it would send, on stdout; send nothing (one im_get_attr_name call only)');
  addEngineOptions(command);
  const saveFailed = command.options.find((o) => o.long === '--save-failed');
  if (saveFailed) {
    saveFailed.description =
      `write the records of the accounts that failed or were not sent, as ndjson, ready for \`im-attrs ${verb} --file\`` +
      ' (default: none)';
  }
}

/** `name=value` arguments → attributes, checked against the app's names. Throws a UsageError listing every problem. */
export function parseAssignments(account: string, pairs: readonly string[]): Map<string, string> {
  if (pairs.length === 0) {
    throw new UsageError(`nothing to set for ${JSON.stringify(account)}`, { hint: `give name=value pairs: im-attrs set ${account} city=Paris` });
  }
  const attrs = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`"${pair}" is not name=value`, { hint: `e.g. im-attrs set ${account} city=Paris` });
    }
    const name = pair.slice(0, eq);
    if (attrs.has(name)) throw new UsageError(`attribute ${JSON.stringify(name)} is given twice`);
    attrs.set(name, pair.slice(eq + 1));
  }
  return attrs;
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

/** Where records come from: `-`/`--file -` is stdin, as is a piped stdin when nothing else is named. */
export function recordInputSpecs(rt: Runtime, stdinArg: boolean, files: readonly string[] = [], verb: RecordMode): RecordInputSpec[] {
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
  if (specs.length === 0) {
    throw new UsageError('no records given', {
      hint:
        verb === 'set'
          ? 'name an account (im-attrs set alice city=Paris), use --file attrs.csv, or pipe records: im-attrs get --output ndjson … | im-attrs set'
          : 'name accounts and --attrs (im-attrs remove alice --attrs city), use --file records.ndjson, or pipe records',
    });
  }
  return specs;
}

/** The app's attribute names (one call, paced and retried); refuses an app that has none. */
export async function fetchAppNames(rt: Runtime, settings: EngineSettings, client: ImClient, pacer: Pacer): Promise<AppNames> {
  const names = namesInSlotOrder(await callWithPolicy(rt, settings, client, pacer, (signal) => getAttrNames(client, { signal })));
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
export async function scanRecords(rt: Runtime, reader: RecordReader, strict: boolean | undefined): Promise<ScanReport> {
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
  dryRun: boolean | undefined;
  client: ImClient;
  pacer: Pacer;
}

/**
 * Sends entries through the shared engine (or, with --dry-run, prints the requests it would
 * send), then prints the summary and writes --save-failed. `--save-failed` gets the records of
 * the accounts that were not updated, as ndjson, so `im-attrs set|remove --file` re-runs exactly
 * them (bare IDs would not be a valid input for set). The file is written atomically at the end.
 */
export async function applyEntries(rt: Runtime, settings: EngineSettings, job: EntryJob): Promise<void> {
  const { verb } = job;
  const toBody = verb === 'set' ? setEntry : removeEntry;
  let empty = 0;
  async function* withSomething(): AsyncGenerator<Entry> {
    for await (const entry of job.entries) {
      if (entry.attrs.size === 0) empty++;
      else yield entry;
    }
  }

  if (job.dryRun) {
    const command = verb === 'set' ? COMMANDS.setAttrs : COMMANDS.removeAttrs;
    const out = rt.deps.io.stdout;
    let batch: Entry[] = [];
    let requests = 0;
    let accounts = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      requests++;
      accounts += batch.length;
      out.write(`${command} request ${requests} (${plural(batch.length, 'account')})\n`);
      for (const entry of batch) out.write(`  ${JSON.stringify(toBody(entry))}\n`);
      batch = [];
    };
    for await (const entry of withSomething()) {
      batch.push(entry);
      if (batch.length >= settings.batchSize) flush();
    }
    flush();
    rt.info(
      `${verb} --dry-run: ${plural(accounts, 'account')} in ${plural(requests, 'request')} would be updated, ` +
        `${job.bad} skipped (bad input)${empty ? `, ${empty} skipped (nothing to ${verb})` : ''}; nothing was sent`,
    );
    if (job.bad > 0) throw skippedError(verb, job.bad, true);
    return;
  }

  const saveFile = settings.saveFailed ? await SafeFile.open(path.resolve(rt.deps.cwd, settings.saveFailed), '--save-failed', inputIdentities(rt.deps.cwd, settings.inputFiles, rt.deps.io.stdin)) : undefined;
  // Entries handed to the engine and not yet confirmed: at the end, the failed and the unsent.
  const outstanding = new Map<string, Entry>();
  async function* tracked(): AsyncGenerator<Entry> {
    for await (const entry of withSomething()) {
      outstanding.set(entry.account, entry);
      yield entry;
    }
  }
  // Entries that went out in at least one request: the outstanding ones failed; the others were never sent.
  const attempted = new WeakSet<Entry>();
  let updated = 0;
  let failure: unknown;
  try {
    await runBatchJob<Entry, Entry>(
      rt,
      // --save-failed is written here, with records; the engine must not write IDs to it.
      { ...settings, saveFailed: undefined },
      {
        verb,
        items: tracked(),
        accountOf: (entry) => entry.account,
        total: job.total,
        credentials: job.client.options.credentials,
        pacer: job.pacer,
        ownSummary: true,
        send: async (entries, signal, sent) => {
          for (const entry of entries) attempted.add(entry);
          if (verb === 'set') await setAttrs(job.client, entries.map(setEntry), { signal, onSent: sent });
          else await removeAttrs(job.client, entries.map(removeEntry), { signal, onSent: sent });
          // Neither command answers per account: a successful call updated every account in it.
          return { results: entries, failures: [] };
        },
        onResults: (entries) => {
          updated += entries.length;
          for (const entry of entries) outstanding.delete(entry.account);
        },
      },
    );
  } catch (error) {
    failure = error;
  }
  let failed = 0;
  for (const entry of outstanding.values()) if (attempted.has(entry)) failed++;
  const unsent = outstanding.size - failed;
  rt.info(
    `${verb}: ${plural(updated, 'account')} updated, ${job.bad} skipped (bad input)` +
      `${empty ? `, ${empty} skipped (nothing to ${verb})` : ''}, ${failed} failed${unsent ? `, ${unsent} not sent` : ''}`,
  );
  const rerun = saveFile ? `im-attrs ${verb} --file ${settings.saveFailed}` : undefined;
  if (saveFile) {
    try {
      await saveFile.commit([...outstanding.values()].map((entry) => `${JSON.stringify(toBody(entry))}\n`));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--save-failed ${saveFile.path} cannot be written: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    if (outstanding.size > 0) rt.info(`wrote ${plural(outstanding.size, 'record')} to ${settings.saveFailed}; re-run them: ${rerun}`);
  }
  if (failure !== undefined) throw rerun ? withRerunHint(failure, rerun) : failure;
  if (job.bad > 0) throw skippedError(verb, job.bad, false);
}

function skippedError(verb: RecordMode, bad: number, dryRun: boolean): PartialFailureError {
  return new PartialFailureError(
    `${plural(bad, 'bad record')} ${dryRun ? 'would be' : 'were'} skipped; the other accounts ${dryRun ? 'would be' : 'were'} updated`.replace(
      /^1 bad record were/,
      '1 bad record was',
    ),
    bad,
    { hint: `fix the records listed above and run again (${verb} is idempotent), or use --strict to refuse any input with a bad record` },
  );
}

/** The engine's errors point at --save-failed generically; with records saved, say how to re-run them. */
function withRerunHint(error: unknown, rerun: string): unknown {
  if (!(error instanceof ImAttrsError) || !error.hint?.includes('--save-failed')) return error;
  const hint = `re-run them: ${rerun}`;
  if (error instanceof PartialFailureError) return new PartialFailureError(error.message, error.failed, { hint });
  if (error instanceof InterruptedError) return new InterruptedError(error.message, { hint });
  if (error instanceof ApiError) return new ApiError(error.message, { hint, apiCode: error.apiCode, errorInfo: error.errorInfo, status: error.status });
  return error;
}

export async function setRun(rt: Runtime, account: string | undefined, assignments: readonly string[], options: SetOptions): Promise<void> {
  const settings = engineSettings(options);
  if (account !== undefined && account !== '-') {
    // One account from the arguments.
    if (options.file?.length) throw new UsageError('give an account with name=value pairs, or --file records, not both');
    if (options.format) throw new UsageError('--format is for records from --file or stdin, not name=value arguments');
    if (account.trim() === '') throw new UsageError('the account is empty');
    const attrs = parseAssignments(account, assignments);
    const client = await rt.client({ maxSockets: settings.concurrency });
    const pacer = new Pacer({ rate: settings.rate });
    try {
      checkArgumentAttrs(attrs, await fetchAppNames(rt, settings, client, pacer), 'set');
      await applyEntries(rt, settings, { verb: 'set', entries: toAsync([{ account, attrs }]), total: 1, bad: 0, dryRun: options.dryRun, client, pacer });
    } finally {
      client.close();
    }
    return;
  }
  if (assignments.length > 0) {
    throw new UsageError(`name=value pairs need an account first, not "-"`, { hint: 'im-attrs set alice city=Paris' });
  }
  await applyRecordFiles(rt, settings, 'set', recordInputSpecs(rt, account === '-', options.file, 'set'), options);
}

/** Records from files/stdin: open (copying stdin), fetch the names, scan, then apply. Shared with remove. */
export async function applyRecordFiles(
  rt: Runtime,
  settings: EngineSettings,
  verb: RecordMode,
  specs: readonly RecordInputSpec[],
  options: { format?: RecordFormat | undefined; strict?: boolean | undefined; dryRun?: boolean | undefined },
): Promise<void> {
  const inputs = await openRecordInputs(specs, options.format);
  try {
    const client = await rt.client({ maxSockets: settings.concurrency });
    const pacer = new Pacer({ rate: settings.rate });
    try {
      const reader = new RecordReader(inputs.sources, verb, await fetchAppNames(rt, settings, client, pacer));
      const report = await scanRecords(rt, reader, options.strict);
      await applyEntries(rt, settings, {
        verb,
        entries: reader.entries(),
        total: report.accounts - report.empty,
        bad: report.bad,
        dryRun: options.dryRun,
        client,
        pacer,
      });
    } finally {
      client.close();
    }
  } finally {
    await inputs.close();
  }
}

export async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}
