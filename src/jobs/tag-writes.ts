/**
 * What the tag writers (`tags add`, `tags remove`, `tags set`) share: their input (one account
 * from arguments, many accounts with the same --tags, or tag records from --file/stdin, checked
 * before anything is sent) and handing the entries to the job runner with the family's operation.
 *
 * `tags set` is the family's replace: TIMPush add_tag with `Replace: 1` (one call per user's whole
 * list); all_member_push has no replace, so it is two runner passes: remove every tag
 * (im_remove_all_tags), then add the list to the accounts whose clear succeeded. Not atomic there:
 * between the passes (or when the add fails) an account has no tags; the help and the output say so.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { MAX_APP_TAGS } from '../api/facts.js';
import { batchOperation, type BatchOperation } from '../api/operation.js';
import type { TagEntry } from '../api/tags.js';
import { InterruptedError, UsageError, partial } from '../errors.js';
import { RECORD_FORMATS, openRecordInputs, type RecordFormat, type RecordInputSpec } from '../input/records.js';
import type { Runtime } from '../runtime/runtime.js';
import { checkTags, TagRecordReader, type TagMode } from '../input/tag-records.js';
import { inputIdentities, SafeFile } from '../util/safe-file.js';
import { plural, thousands } from '../util/text.js';
import { CONFIRM_ABOVE_ACCOUNTS, confirmBigWrite, recordInputSpecs, scanRecords } from './attr-writes.js';
import { addEngineOptions, runJob, type Job } from './runner.js';
import { readBefore } from './before-state.js';
import type { BeforeState } from './journal.js';
import { withRun, type EngineFlags, type Run, type WriteFlags } from './run.js';

/** --format, --strict, --dry-run, then the engine's flags with --save-failed writing tag records. */
export function addTagWriteOptions(command: Command, mode: TagMode): void {
  command
    .addOption(new Option('--format <format>', 'format of the records (default: detected from the content)').choices(RECORD_FORMATS))
    .option('--strict', 'send nothing when any record is bad (default: skip bad records, send the others)')
    .option('--dry-run', 'check the input and print the requests it would send, on stdout; send nothing')
    .option('-y, --yes', `do not ask before a write of more than ${thousands(CONFIRM_ABOVE_ACCOUNTS)} accounts on a terminal`);
  addEngineOptions(command, { kind: 'records', verb: `tags ${mode}` });
}

/** `--tags vip,gold` or tag arguments: checked (1-50 bytes, ≤100), repeats dropped. Throws a UsageError listing every problem. */
export function checkArgumentTags(tags: readonly string[], account?: string): string[] {
  const checked = checkTags(tags);
  if ('problems' in checked) throw new UsageError(`${account ? `${account}: ` : ''}${checked.problems.join('; ')}`, { hint: 'a tag is 1-50 bytes; a user has at most 100 tags' });
  return checked.tags;
}

/** Where tag records come from: as for `set` (`-`/`--file -` is stdin, a piped stdin when nothing is named). */
export function tagRecordSpecs(rt: Runtime, stdinArg: boolean, files: readonly string[] = [], mode: TagMode): RecordInputSpec[] {
  return recordInputSpecs(rt, stdinArg, files, {
    message: 'no accounts or tag records given',
    hint: `name an account and its tags (im-attrs tags ${mode} alice vip gold), accounts with --tags (im-attrs tags ${mode} --file ids.txt --tags vip), or records: im-attrs tags get --output ndjson … | im-attrs tags ${mode}`,
  });
}

/** What a tag write is given once its input is read. */
export interface TagWriteJob {
  mode: TagMode;
  /** Entries in input order; for `set`, may be iterated twice (two passes on all_member_push). */
  entries: () => AsyncIterable<TagEntry>;
  total: number | undefined;
  bad: number;
  /** Distinct tags the run would add (add, set), when known in advance: for the 1,000-tag warning. */
  distinctTags?: ReadonlySet<string> | undefined;
  /** How each call ended (the runner's Job.onCall), in every pass: for a caller that gathers outcomes (apply). */
  onCall?: Job<TagEntry, never>['onCall'];
}

/** Warns when a run would add more distinct tags than a TIMPush app may have (EN/60568). */
export function warnAppTagCap(rt: Runtime, family: string, distinct: ReadonlySet<string> | undefined): void {
  if (family !== 'timpush' || !distinct || distinct.size <= MAX_APP_TAGS) return;
  rt.warn(
    `the input has ${distinct.size.toLocaleString('en-US')} distinct tags; a TIMPush app may have at most ${MAX_APP_TAGS.toLocaleString('en-US')} in all, ` +
      'so some adds will fail once the app reaches that (tags already in the app count too)',
  );
}

/** Sends the entries of an add, remove or set through the runner. */
export async function applyTagEntries(run: Run, job: TagWriteJob): Promise<void> {
  const { rt } = run;
  const family = await rt.family();
  if (job.mode !== 'remove') warnAppTagCap(rt, family, job.distinctTags);
  const verb = `tags ${job.mode}`;
  let empty = 0;
  const withTags = async function* (entries: AsyncIterable<TagEntry>): AsyncGenerator<TagEntry> {
    for await (const entry of entries) {
      if (entry.tags.length === 0) empty++;
      else yield entry;
    }
  };
  if (job.mode !== 'set') {
    await runJob(run, {
      operation: await rt.operation(job.mode === 'add' ? 'addTags' : 'removeTags'),
      verb,
      total: job.total,
      items: confirmBigWrite<TagEntry>(run, (count) => `${verb} ${count} accounts? This changes their push tags.`)(withTags(job.entries())),
      beforeState: tagBeforeState(run, (e: TagEntry) => e.account),
      skipped: () => ({ bad: job.bad, empty }),
      onCall: job.onCall,
    });
    return;
  }
  const replace = family === 'timpush' ? await rt.operation('replaceTags') : undefined;
  if (replace) {
    // TIMPush: one add_tag with Replace: 1 per user's whole list; an empty list clears (a
    // replace by nothing is not documented), in a first pass of clear_all_tags.
    await setInTwoPasses(run, job, await rt.operation('clearTags'), replace, { clearAll: false });
    return;
  }
  rt.warn('tags set on all_member_push is not atomic: every tag of each account is removed first (im_remove_all_tags), then its list is added (im_add_tag); an account whose add fails is left with no tags (saved with --save-failed)');
  await setInTwoPasses(run, job, await rt.operation('clearTags'), await rt.operation('addTags'), { clearAll: true });
}

/**
 * The tags of one call's accounts just before it leaves (get_tag, on its own pacer), for the
 * journal: `undo` replaces each account's tags with this list. An account the app does not know
 * (70107) had none; any other failure stops the run before that call is sent.
 */
export function tagBeforeState<I>(run: Run, accountOf: (item: I) => string): (items: I[]) => Promise<Record<string, BeforeState>> {
  return async (items) => {
    const accounts = [...new Set(items.map(accountOf))];
    const read = await readBefore(run, await run.rt.operation('getTags'), accounts, 'tags');
    return Object.fromEntries(accounts.map((a) => [a, { Tags: read.get(a)?.Tags ?? [] }]));
  };
}

/** clear_all_tags over tag entries: what a set's first pass sends, saving the whole record when it fails. */
function clearEntries(clear: BatchOperation<string, never>): BatchOperation<TagEntry, never> {
  const { family, path, maxItems, retrySafe, writes, codes, callsPerSecond, wording } = clear;
  return batchOperation<TagEntry, never>({
    family,
    path,
    maxItems,
    retrySafe,
    writes,
    codes,
    callsPerSecond,
    wording,
    accountOf: (entry) => entry.account,
    itemBody: (entry) => ({ To_Account: entry.account, Tags: entry.tags }),
    body: (entries) => clear.body(entries.map((e) => e.account)),
    // Failures come by index, so the entries' own order carries over.
    read: (envelope, entries, ctx) => clear.read(envelope, entries.map((e) => e.account), ctx),
  });
}

/**
 * `tags set` as two runner passes: clear (every account on all_member_push; on TIMPush only those
 * whose new list is empty), then add/replace the lists of the accounts whose clear succeeded.
 * Accounts whose clear failed are not added: they are reported and saved as failed.
 */
async function setInTwoPasses(
  run: Run,
  job: TagWriteJob,
  clear: BatchOperation<string, never>,
  add: BatchOperation<TagEntry, never>,
  { clearAll }: { clearAll: boolean },
): Promise<void> {
  const { rt } = run;
  const dryRun = run.flags.dryRun;
  const cleared = new Set<string>();
  const needsClear = (entry: TagEntry): boolean => clearAll || entry.tags.length === 0;
  const firstPass = async function* (): AsyncGenerator<TagEntry> {
    for await (const entry of job.entries()) if (needsClear(entry)) yield entry;
  };
  let clearing = false;
  let adding = false;
  for await (const entry of job.entries()) {
    clearing ||= needsClear(entry);
    adding ||= entry.tags.length > 0;
    if (clearing && adding) break;
  }
  // The first pass's failures, by account: reported by the second pass, which writes the one
  // --failures and --save-failed of the command (a pass each would replace the other's).
  const clearFailed = new Map<string, { entry: TagEntry; reason: string; code?: number | undefined }>();
  // A dry run shows both steps too; only a real run moves the failure files to the second pass.
  const secondPassFollows = adding;
  const filesMoved = secondPassFollows && !dryRun;
  if (clearing) {
    rt.info(clearAll ? 'tags set, step 1 of 2: remove every tag of the accounts' : 'tags set: clear the accounts whose new list is empty');
    const { failures, saveFailed } = run.flags;
    if (filesMoved) {
      run.flags.failures = undefined;
      run.flags.saveFailed = undefined;
    }
    try {
      await runJob(run, {
        operation: clearEntries(clear),
        verb: 'tags set',
        items: confirmBigWrite<TagEntry>(run, (count) => `tags set ${count} accounts? Their tags are replaced (removed first, then added).`)(firstPass()),
        total: clearAll ? job.total : undefined,
        onDone: (entries) => {
          for (const entry of entries) cleared.add(entry.account);
        },
        beforeState: tagBeforeState(run, (e: TagEntry) => e.account),
        onCall: async (end) => {
          if (end.kind === 'answered') for (const f of end.failures) clearFailed.set(f.item.account, { entry: f.item, reason: f.reason, code: f.code });
          else if (end.kind === 'unknown') for (const entry of end.items) clearFailed.set(entry.account, { entry, reason: end.reason });
          await job.onCall?.(end);
        },
        // Bad input is counted once, by the last pass.
        skipped: () => ({ bad: secondPassFollows ? 0 : job.bad, empty: 0 }),
      });
    } catch (error) {
      // Failed accounts go on to the second pass's report; anything else (auth, Ctrl-C) ends the
      // run here, and the files the second pass would have written are written now.
      if (partial(error) && secondPassFollows) {
        // go on
      } else if (filesMoved && (failures || saveFailed)) {
        throw await stoppedBetweenSteps(run, job, error, { cleared, clearFailed, failures, saveFailed });
      } else throw error;
    } finally {
      run.flags.failures = failures;
      run.flags.saveFailed = saveFailed;
    }
    // Nothing to add: the first pass was the whole run.
    if (!secondPassFollows) return;
  }
  const failedClear: Array<{ item: TagEntry; reason: string; code?: number | undefined }> = [];
  // An account cleared to an empty list has no second step: if its clear failed, it is failed.
  for (const { entry, reason, code } of clearFailed.values()) if (entry.tags.length === 0) failedClear.push({ item: entry, reason, code });
  const secondPass = async function* (): AsyncGenerator<TagEntry> {
    for await (const entry of job.entries()) {
      if (entry.tags.length === 0) continue;
      if (clearAll && !dryRun && !cleared.has(entry.account)) {
        const why = clearFailed.get(entry.account);
        failedClear.push({ item: entry, reason: why ? `its tags could not be removed first: ${why.reason}` : 'its tags could not be removed first', code: why?.code });
      } else yield entry;
    }
  };
  if (clearAll) rt.info('tags set, step 2 of 2: add the new tags');
  await runJob(run, {
    operation: add,
    verb: 'tags set',
    // After a clear pass the journal already holds these accounts' tags (all_member_push).
    beforeState: clearing && clearAll ? undefined : tagBeforeState(run, (e: TagEntry) => e.account),
    items: clearing && clearAll ? secondPass() : confirmBigWrite<TagEntry>(run, (count) => `tags set ${count} accounts? Their tags are replaced.`)(secondPass()),
    total: undefined,
    skipped: () => ({ bad: job.bad, empty: 0 }),
    failedBefore: () => failedClear,
    onCall: job.onCall,
  });
  if (clearAll && !dryRun) rt.info(`tags set: ${plural(cleared.size, 'account')} had their tags replaced in two steps (not atomic on all_member_push)`);
}

/**
 * `tags set` stopped in its first step (a Ctrl-C, an error that ends the run) with a second step
 * to come: every entry not fully done goes to --failures and --save-failed (as records `tags set
 * --file` re-runs): those whose clear failed or was never sent, and those cleared whose new tags
 * were never added, which are named on stderr (they have no tags now). Returns the error to throw.
 */
async function stoppedBetweenSteps(
  run: Run,
  job: TagWriteJob,
  error: unknown,
  state: { cleared: ReadonlySet<string>; clearFailed: ReadonlyMap<string, { reason: string; code?: number | undefined }>; failures?: string | undefined; saveFailed?: string | undefined },
): Promise<unknown> {
  const { rt } = run;
  const identities = inputIdentities(rt.deps.cwd, run.flags.file, rt.deps.io.stdin);
  const failuresOut = state.failures ? await SafeFile.open(path.resolve(rt.deps.cwd, state.failures), '--failures', identities) : undefined;
  const saveOut = state.saveFailed ? await SafeFile.open(path.resolve(rt.deps.cwd, state.saveFailed), '--save-failed', identities) : undefined;
  let notDone = 0;
  let bare = 0;
  for await (const entry of job.entries()) {
    const wasCleared = state.cleared.has(entry.account);
    if (wasCleared && entry.tags.length === 0) continue;
    notDone++;
    const failed = state.clearFailed.get(entry.account);
    const reason = wasCleared ? 'tags removed, new tags not added: the run stopped between the two steps' : (failed?.reason ?? 'not sent: the run stopped first');
    if (wasCleared) bare++;
    await failuresOut?.write(`${JSON.stringify({ account: entry.account, code: failed?.code ?? null, reason, retriable: true })}\n`);
    await saveOut?.write(`${JSON.stringify({ To_Account: entry.account, Tags: entry.tags })}\n`);
  }
  if (bare) rt.warn(`${plural(bare, 'account')} had their tags removed and the new ones not added (the run stopped between the two steps)${state.saveFailed ? `: in ${state.saveFailed}` : ''}`);
  if (failuresOut && (await failuresOut.commit())) rt.info(`wrote ${plural(notDone, 'account')} not done to ${state.failures} (ndjson: account, code, reason, retriable)`);
  if (saveOut && (await saveOut.commit())) rt.info(`wrote ${plural(notDone, 'record')} to ${state.saveFailed}; re-run them: im-attrs tags set --file ${state.saveFailed}`);
  if (!state.saveFailed || !(error instanceof InterruptedError)) return error;
  return new InterruptedError(error.message, { hint: `re-run them: im-attrs tags set --file ${state.saveFailed}` });
}

/** Records from --file/stdin: open (copying stdin), scan (bad records listed), then apply. */
export async function applyTagRecordFiles(
  rt: Runtime,
  mode: TagMode,
  specs: readonly RecordInputSpec[],
  options: { format?: RecordFormat | undefined; strict?: boolean | undefined } & EngineFlags & WriteFlags,
): Promise<void> {
  const inputs = await openRecordInputs(specs, options.format);
  try {
    const reader = new TagRecordReader(inputs.sources, mode);
    const report = await scanRecords(rt, reader, options.strict);
    await withRun(rt, options, (run) =>
      applyTagEntries(run, {
        mode,
        entries: () => reader.entries(),
        total: report.accounts - report.empty,
        bad: report.bad,
        distinctTags: reader.distinctTags,
      }),
    );
  } finally {
    await inputs.close();
  }
}
