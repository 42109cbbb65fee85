/**
 * What the attribute writers (set, remove) share: record input (files, stdin, arguments) checked
 * against the app's attribute names, and handing the entries to the job runner.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { namesInSlotOrder } from '../api/attrs.js';
import type { ImClient } from '../api/client.js';
import { Pacer } from '../api/pacer.js';
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
  type RecordFormat,
  type RecordInputSpec,
  type RecordMode,
  type ScanReport,
} from '../records.js';
import type { Runtime } from '../runtime.js';
import { plural } from '../util/text.js';
import { addEngineOptions, callSingle, checkSaveFailed, runJob, type EngineSettings } from './runner.js';

/**
 * Bad records listed one by one on stderr before the rest are only counted (unless --verbose):
 * a file with a wrong attribute on every line must not bury the summary.
 */
export const MAX_LISTED_BAD_LINES = 100;

/**
 * What set and remove share after their own options: --format, --strict and --dry-run, then the
 * engine's flags, with --save-failed writing records (re-runnable) instead of bare IDs.
 */
export function addRecordOptions(command: Command, verb: RecordMode): void {
  command
    .addOption(new Option('--format <format>', 'format of the records (default: detected from the content)').choices(RECORD_FORMATS))
    .option('--strict', 'send nothing when any record is bad (default: skip bad records, send the others)')
    .option('--dry-run', 'check the input and print the requests it would send, on stdout; send nothing (one im_get_attr_name call only)');
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
  // A bad --save-failed target is refused before this first request, not after it.
  checkSaveFailed(rt, settings);
  const names = namesInSlotOrder(await callSingle(rt, settings, client, pacer, await rt.operation('getAttrNames'), undefined));
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
  dryRun: boolean | undefined;
  client: ImClient;
  pacer: Pacer;
}

/**
 * Sends entries through the job runner with the family's set or remove operation (or, with
 * --dry-run, prints the requests it would send). Entries with no attribute are skipped and
 * counted as "nothing to set".
 */
export async function applyEntries(rt: Runtime, settings: EngineSettings, job: EntryJob): Promise<void> {
  const operation = await rt.operation(job.verb === 'set' ? 'setAttrs' : 'removeAttrs');
  let empty = 0;
  async function* withSomething(): AsyncGenerator<Entry> {
    for await (const entry of job.entries) {
      if (entry.attrs.size === 0) empty++;
      else yield entry;
    }
  }
  await runJob(rt, settings, {
    operation,
    client: job.client,
    pacer: job.pacer,
    verb: job.verb,
    items: withSomething(),
    total: job.total,
    dryRun: job.dryRun,
    skipped: () => ({ bad: job.bad, empty }),
  });
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
