/**
 * `im-attrs diff BEFORE AFTER`: two snapshots (`get --output ndjson`, `get --tags`, `tags get`),
 * or a snapshot and a desired-state file, compared offline: the same lines as `plan`, no API call.
 *
 * Memory: when both inputs list their accounts in the same (ascending) order, as two `get` runs
 * of the same sorted ID list do, both stream (a merge join); otherwise BEFORE is held in memory.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { ChangesPendingError, UsageError } from '../errors.js';
import { DesiredReader, type DesiredEntry } from '../input/desired.js';
import { openRecordInputs, RECORD_FORMATS, type AppNames, type RecordFormat, type RecordInputSpec } from '../input/records.js';
import { scanRecords } from '../jobs/attr-writes.js';
import { changeLines, diffAccount, PlanCounts, type AccountState } from '../plan/diff.js';
import type { Runtime } from '../runtime/runtime.js';
import { plural, thousands } from '../util/text.js';

export interface DiffOptions {
  format?: RecordFormat;
  tagPrefix?: string;
  detailedExitcode?: boolean;
}

const EXAMPLES = `
Examples:
  $ im-attrs get --file ids.txt --tags --output ndjson > monday.ndjson
  $ im-attrs get --file ids.txt --tags --output ndjson > tuesday.ndjson
  $ im-attrs diff monday.ndjson tuesday.ndjson
  $ im-attrs diff snapshot.ndjson desired.ndjson --tag-prefix deadline:
`;

/** Offline there is no list of the app's attributes: every name a record uses is taken as one. */
const ANY_NAMES: AppNames = { list: [], set: { has: () => true } as unknown as ReadonlySet<string> };

export function newDiffCommand(rt: Runtime): Command {
  const command = new Command('diff')
    .summary('compare two snapshots (or a snapshot and a desired state) offline, as plan shows it')
    .description(
      'Compare two sets of records without calling the API: BEFORE and AFTER are what `get --output ndjson` (with --tags), `tags get` ' +
        'or a desired-state file hold (ndjson/json/csv/tsv, as `plan --file` reads them). The output is plan\'s: "~ alice  city: Paris → Lyon", ' +
        '"+ bob  level=gold", "- carol  sex", "+ dave  tag vip"; the counts on stderr. An attribute in BEFORE and not in AFTER\'s record ' +
        'is shown as removed (a snapshot is an account\'s whole state); tags are compared when AFTER\'s record has them. An account only in ' +
        'BEFORE is counted, not shown.\n\n' +
        'Memory: when both inputs list their accounts in the same ascending order (two `get` runs over the same sorted ID list), both are ' +
        'streamed; otherwise BEFORE is held in memory (about 200 bytes an account).',
    )
    .argument('<before>', 'the earlier records ("-": stdin)')
    .argument('<after>', 'the later records, or the desired state')
    .addOption(new Option('--format <format>', 'format of both inputs (default: detected from each one\'s content)').choices(RECORD_FORMATS))
    .option('--tag-prefix <prefix>', 'compare only tags with this prefix')
    .option('--detailed-exitcode', 'exit 6 when the two differ, 0 when they do not');
  command.addHelpText('after', EXAMPLES);
  command.action(async (before: string, after: string, options: DiffOptions) => diffRun(rt, before, after, options));
  return command;
}

function spec(rt: Runtime, file: string): RecordInputSpec {
  return file === '-' ? { kind: 'stdin', stream: rt.deps.io.stdin } : { kind: 'file', path: path.resolve(rt.deps.cwd, file), label: file };
}

/** Whether every entry comes in strictly ascending account order. */
async function sorted(entries: AsyncIterable<DesiredEntry>): Promise<boolean> {
  let last: string | undefined;
  for await (const entry of entries) {
    if (last !== undefined && !(last < entry.account)) return false;
    last = entry.account;
  }
  return true;
}

const stateOf = (entry: DesiredEntry): AccountState => ({ Attrs: Object.fromEntries(entry.attrs), Tags: entry.tags });

export async function diffRun(rt: Runtime, beforeFile: string, afterFile: string, options: DiffOptions): Promise<void> {
  if (beforeFile === '-' && afterFile === '-') throw new UsageError('only one of the two inputs can be stdin');
  if (options.tagPrefix === '') throw new UsageError('--tag-prefix is empty');
  const inputs = await openRecordInputs([spec(rt, beforeFile), spec(rt, afterFile)], options.format);
  try {
    const before = new DesiredReader([inputs.sources[0]!], ANY_NAMES);
    const after = new DesiredReader([inputs.sources[1]!], ANY_NAMES);
    for (const reader of [before, after]) await scanRecords(rt, reader, true);
    const counts = new PlanCounts();
    let onlyBefore = 0;
    const out = rt.deps.io.stdout;
    const compare = (now: AccountState | undefined, desired: DesiredEntry): void => {
      const current = now ?? { Attrs: {}, Tags: [] };
      const change = diffAccount(desired, current, { prune: true, tagPrefix: options.tagPrefix, appNames: [...Object.keys(current.Attrs)] });
      counts.add(change);
      if (change) out.write(`${changeLines(change).join('\n')}\n`);
    };
    if ((await sorted(before.entries())) && (await sorted(after.entries()))) {
      // A merge join: both streams, one entry of each held.
      const left = before.entries()[Symbol.asyncIterator]();
      let next = await left.next();
      for await (const desired of after.entries()) {
        while (!next.done && next.value.account < desired.account) {
          onlyBefore++;
          next = await left.next();
        }
        if (!next.done && next.value.account === desired.account) {
          compare(stateOf(next.value), desired);
          next = await left.next();
        } else compare(undefined, desired);
      }
      for (; !next.done; next = await left.next()) onlyBefore++;
    } else {
      const held = new Map<string, AccountState>();
      for await (const entry of before.entries()) held.set(entry.account, stateOf(entry));
      for await (const desired of after.entries()) {
        compare(held.get(desired.account), desired);
        held.delete(desired.account);
      }
      onlyBefore = held.size;
    }
    const parts = [`${thousands(counts.unchanged)} unchanged`, `${thousands(counts.changed)} changed`];
    if (onlyBefore) parts.push(`${thousands(onlyBefore)} only in ${beforeFile} (not shown)`);
    rt.info(`diff: ${plural(counts.accounts, 'account')} in ${afterFile}: ${parts.join(', ')}`);
    if (counts.changed > 0 && options.detailedExitcode) throw new ChangesPendingError(`${plural(counts.changed, 'account')} differ`);
  } finally {
    await inputs.close();
  }
}
