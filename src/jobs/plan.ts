/**
 * Planning: read the desired state (input/desired.ts), read the current state of exactly those
 * accounts (the composite targeting read: attributes and, when the desired state has tags, tags,
 * in parallel, each endpoint on its own pacer), and per account compute the changes
 * (plan/diff.ts). The readable diff goes to stdout, the counts to stderr, the plan file
 * (plan/file.ts) to `--out`. Shared by `plan` and `apply --file`.
 *
 * Memory: the desired state streams (the reader's second pass); only the entries of the batches
 * in flight are held, to be compared when their answer comes. The plan file streams too.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { targetingOperation } from '../api/composite.js';
import type { AttrRecord } from '../model.js';
import { DesiredReader, type DesiredEntry } from '../input/desired.js';
import { addColumnOptions, RECORD_FORMATS, type OpenedInputs, type ColumnOptions, type RecordFormat } from '../input/records.js';
import { addIdColumnOption } from '../input/id-files.js';
import { changeLines, diffAccount, PlanCounts, type Change } from '../plan/diff.js';
import { PLAN_VERSION, type PlanHeader } from '../plan/file.js';
import { inputIdentities, SafeFile } from '../util/safe-file.js';
import { plural, thousands } from '../util/text.js';
import { fetchAppNames, scanRecords } from './attr-writes.js';
import { addEngineOptions, runJob } from './runner.js';
import type { Run } from './run.js';

/** What planning takes from the command line. */
export interface PlanFlags {
  prune?: boolean | undefined;
  tagPrefix?: string | undefined;
  strict?: boolean | undefined;
  format?: RecordFormat | undefined;
}

/** The desired-state options `plan` and `apply --file` share. */
export function addDesiredOptions(command: Command): Command {
  command
    .option('-f, --file <path>', 'the desired state: records (ndjson/json with Attrs and/or Tags, csv/tsv with an account column); "-" is stdin (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .addOption(new Option('--format <format>', 'format of the records (default: detected from the content)').choices(RECORD_FORMATS))
    .option('--prune', "also remove attributes the server has and the desired record does not give (only among the attributes the record speaks for: a csv/tsv header's columns, --columns, or every attribute of the app for ndjson/json records with Attrs)")
    .option('--tag-prefix <prefix>', 'change only tags that start with this prefix (e.g. deadline:); the account\'s other tags are kept')
    .option('--strict', 'read nothing from the server when any record is bad (default: skip bad records)');
  addIdColumnOption(command);
  return addColumnOptions(command);
}

/** Adds the engine's flags, --save-failed saving the accounts that could not be read. */
export function addPlanEngineOptions(command: Command): Command {
  return addEngineOptions(command, { kind: 'ids' });
}

/** What a plan came to. */
export interface PlanOutcome {
  counts: PlanCounts;
  /** Accounts that could not be read (failures, named and saved by the runner). */
  failed: number;
  /** The error that ended the read (partial failure, interrupt), rethrown by the caller after the plan file is kept. */
  error: unknown;
}

/** The plan file's header for this run. */
async function planHeader(run: Run, flags: PlanFlags, tags: boolean, labels: string[]): Promise<PlanHeader> {
  const [config, family] = await Promise.all([run.rt.apiConfig(), run.rt.family()]);
  return {
    plan: PLAN_VERSION,
    time: new Date(run.rt.deps.now()).toISOString(),
    sdkAppId: config.sdkAppId,
    family,
    endpoint: new URL(config.baseUrl).origin,
    prune: Boolean(flags.prune),
    tagPrefix: flags.tagPrefix ?? null,
    tags,
    inputs: labels,
  };
}

/** Opens the plan file (never one of the inputs), replaced atomically when the plan is complete. */
export async function openPlanFile(run: Run, file: string): Promise<SafeFile> {
  const { rt } = run;
  return SafeFile.open(path.resolve(rt.deps.cwd, file), '--out', inputIdentities(rt.deps.cwd, run.flags.file, rt.deps.io.stdin));
}

/**
 * Plans the desired state of `inputs` against the server: the diff on stdout (`print`), the plan
 * file to `out` (header, one line per changed account, the counts), the counts on stderr.
 * Accounts that could not be read are failures (the runner names them, saves them with
 * --save-failed), never "unchanged"; the error comes back in the outcome for the caller to throw
 * once it has done with the plan.
 */
export async function makePlan(run: Run, inputs: OpenedInputs, flags: PlanFlags & { columns: ColumnOptions }, out: SafeFile | undefined, print = true): Promise<PlanOutcome> {
  const { rt } = run;
  const names = await fetchAppNames(run);
  const reader = new DesiredReader(inputs.sources, names, flags.columns);
  const report = await scanRecords(rt, reader, flags.strict);
  const tags = reader.hasTags;
  if (flags.tagPrefix !== undefined && !tags) rt.warn('--tag-prefix has no effect: the desired state gives no tags');
  const operation = targetingOperation(await rt.operation('getAttrs'), await rt.operation('getTags'), { attrs: true, tags });
  const header = await planHeader(run, flags, tags, inputs.sources.map((s) => s.label));
  await out?.write(`${JSON.stringify(header)}\n`);
  const options = { prune: Boolean(flags.prune), tagPrefix: flags.tagPrefix, appNames: names.list };
  const counts = new PlanCounts();
  // The entries of the batches in flight, by account: compared when their answer comes, then dropped.
  const pending = new Map<string, DesiredEntry>();
  async function* accounts(): AsyncGenerator<string> {
    for await (const entry of reader.entries()) {
      pending.set(entry.account, entry);
      yield entry.account;
    }
  }
  let stdout: NodeJS.WritableStream | undefined;
  let failed = 0;
  let error: unknown;
  try {
    await runJob(run, {
      operation,
      verb: 'plan',
      items: accounts(),
      total: report.accounts,
      before: async (o) => {
        stdout = o;
      },
      onResults: async (records: AttrRecord[]) => {
        let text = '';
        let lines = '';
        for (const record of records) {
          const desired = pending.get(record.To_Account);
          if (!desired) continue;
          const change: Change | undefined = diffAccount(desired, { Attrs: record.Attrs, Tags: record.Tags }, options);
          counts.add(change);
          if (!change) continue;
          if (print) for (const line of changeLines(change)) text += `${line}\n`;
          lines += `${JSON.stringify(change)}\n`;
        }
        if (text) stdout?.write(text);
        await out?.write(lines);
      },
      onCall: (end) => {
        if (end.kind === 'answered') failed += end.failures.length;
        for (const account of end.items) pending.delete(account);
      },
    });
  } catch (e) {
    error = e;
  }
  await out?.write(`${JSON.stringify({ end: true, counts: counts.toJSON(), failed })}\n`);
  rt.info(summary(counts, failed, report.bad));
  return { counts, failed, error };
}

/** `plan: 50,000 accounts read: 49,500 unchanged, 500 to change (set 320 values on 300 accounts, …)`. */
export function summary(counts: PlanCounts, failed: number, bad: number): string {
  const k = counts.kinds;
  const kinds = [
    k.set.accounts ? `set ${plural(k.set.values, 'attribute')} on ${plural(k.set.accounts, 'account')}` : '',
    k.remove.accounts ? `remove ${plural(k.remove.values, 'attribute')} from ${plural(k.remove.accounts, 'account')}` : '',
    k.addTags.accounts ? `add ${plural(k.addTags.values, 'tag')} to ${plural(k.addTags.accounts, 'account')}` : '',
    k.removeTags.accounts ? `remove ${plural(k.removeTags.values, 'tag')} from ${plural(k.removeTags.accounts, 'account')}` : '',
  ].filter(Boolean);
  const parts = [`${thousands(counts.unchanged)} unchanged`, `${thousands(counts.changed)} to change${kinds.length ? ` (${kinds.join(', ')})` : ''}`];
  if (failed) parts.push(`${thousands(failed)} could not be read (not planned)`);
  if (bad) parts.push(`${plural(bad, 'bad record')} skipped`);
  return `plan: ${plural(counts.accounts + failed, 'account')} read: ${parts.join(', ')}`;
}

