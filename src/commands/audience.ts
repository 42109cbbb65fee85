/**
 * `im-attrs audience`: who a push with this Condition would reach, before it is sent. No API in
 * either family previews or counts a push's recipients (PUSH-FAMILY.md §2.4), so: a roster of
 * account IDs in (args, --file, stdin, as `get` takes them), their attributes and/or tags fetched
 * at the API's ceiling by the one runner, the condition evaluated locally with the same module
 * the emulator's push uses (src/push/condition.ts `matches`), the matched accounts out.
 *
 * Only what the condition needs is fetched: attributes (get_attr), tags (get_tag), or both (a
 * composite of the two per batch, api/push.ts targetingOperation). An account that could not be
 * fetched is a failure (stderr, --save-failed, exit 5), never "not matched".
 */
import path from 'node:path';
import { Command } from 'commander';
import { namesInSlotOrder } from '../api/attrs.js';
import { targetingOperation, type AccountStatus } from '../api/push.js';
import { PartialFailureError, UsageError } from '../errors.js';
import {
  addConditionOptions,
  attrUses,
  checkAttrNames,
  checkCondition,
  CONDITION_HELP,
  conditionFromFlags,
  conditionNeeds,
  showCondition,
  type ConditionFlags,
} from '../jobs/condition-input.js';
import { accountIds, accountSources } from '../input/sources.js';
import { addEngineOptions, runJob } from '../jobs/runner.js';
import { withRun, type EngineFlags, type Run } from '../jobs/run.js';
import type { AttrRecord } from '../model.js';
import { createWriter, formatCsvLine, formatTsvLine, type OutputFormat, type RecordWriter } from '../output/index.js';
import { matches, type Condition } from '../push/condition.js';
import type { Runtime } from '../runtime/runtime.js';
import { plural } from '../util/text.js';
import { addAccountFileOptions, addOutputOptions, resolveOutputFormat, tableLayout, type ReadOptions } from '../jobs/read-options.js';

export interface AudienceOptions extends EngineFlags, ConditionFlags, ReadOptions {
  file?: string[];
  count?: boolean;
  by?: string;
  checkImported?: boolean;
}

const EXAMPLES = `
Examples:
  $ im-attrs audience --file roster.txt --attrs-and city=Paris --attrs-and level=gold
  $ im-attrs audience --file roster.txt --condition paris.json --count
  $ im-attrs audience --file roster.txt --tags-or vip --by city
  $ im-attrs --api timpush audience --file roster.txt --tags-or vip --tags-not churned -o ndjson
  $ im-attrs audience --file roster.txt --condition paris.json --check-imported --save-failed failed.txt
`;

export function newAudienceCommand(rt: Runtime): Command {
  const command = new Command('audience')
    .summary('preview who a push with this condition reaches: matched accounts and counts')
    .description(
      'Preview who a push (`im-attrs push send`) with this condition would reach, among the accounts given.\n\n' +
        'No API lists an app\'s accounts or previews a push, so the roster comes from the arguments, --file ' +
        '(repeatable) and stdin, as for `get`. Only what the condition needs is fetched (attributes, tags, or ' +
        'both), in batches of 100 at the API limit; the condition is evaluated locally exactly as the push ' +
        'evaluates it. The matched accounts are printed (with their attributes and/or tags) in any `get` format; ' +
        'a summary with counts per clause goes to stderr. Accounts that could not be fetched are failures ' +
        '(exit 5, --save-failed), never "not matched".',
    )
    .argument('[accounts...]', 'account IDs; "-" reads stdin')
    .option('--count', 'print only the number of matched accounts')
    .option('--by <name>', 'print the number of matched accounts per value of this attribute instead of the accounts')
    .option('--check-imported', 'also check the matched accounts with account_check and list those not imported (a push does not reach them)');
  addAccountFileOptions(command);
  addOutputOptions(command);
  addConditionOptions(command);
  addEngineOptions(command);
  command.addHelpText('after', `${CONDITION_HELP}\n${EXAMPLES}`);
  command.action(async (accounts: string[], options: AudienceOptions) => {
    await audienceRun(rt, accounts, options);
  });
  return command;
}

/** One clause of a condition and how many fetched accounts satisfy it on its own. */
interface ClauseCount {
  label: string;
  test: (record: AttrRecord) => boolean;
  n: number;
}

function clauses(condition: Condition | undefined): ClauseCount[] {
  const out: ClauseCount[] = [];
  const has = (r: AttrRecord, tag: string): boolean => (r.Tags ?? []).includes(tag);
  for (const tag of condition?.TagsAnd ?? []) out.push({ label: `TagsAnd ${tag}`, test: (r) => has(r, tag), n: 0 });
  for (const tag of condition?.TagsOr ?? []) out.push({ label: `TagsOr ${tag}`, test: (r) => has(r, tag), n: 0 });
  for (const tag of condition?.TagsNot ?? []) out.push({ label: `TagsNot ${tag} (have it, left out)`, test: (r) => has(r, tag), n: 0 });
  for (const [name, value] of Object.entries(condition?.AttrsAnd ?? {})) out.push({ label: `AttrsAnd ${name}=${value}`, test: (r) => Object.hasOwn(r.Attrs, name) && r.Attrs[name] === value, n: 0 });
  for (const [name, value] of Object.entries(condition?.AttrsOr ?? {})) out.push({ label: `AttrsOr ${name}=${value}`, test: (r) => Object.hasOwn(r.Attrs, name) && r.Attrs[name] === value, n: 0 });
  return out;
}

export async function audienceRun(rt: Runtime, args: string[], options: AudienceOptions): Promise<void> {
  if (options.count && options.by !== undefined) throw new UsageError('--count and --by contradict each other', { hint: 'give one of them' });
  const family = await rt.family();
  const condition = conditionFromFlags(rt.deps.cwd, options);
  checkCondition(condition, family);
  const format = await resolveOutputFormat(rt, options);
  const sources = accountSources(rt, args, (options.file ?? []).map((f) => path.resolve(rt.deps.cwd, f)));
  const needs = conditionNeeds(condition);
  if (options.by !== undefined) needs.attrs = true;
  // No clause at all ({} or none): every account matches; its attributes tell it exists.
  if (!needs.attrs && !needs.tags) needs.attrs = true;
  const listing = !options.count && options.by === undefined;

  const items = await accountIds(rt, sources, options.idColumn);
  await withRun(rt, options, async (run) => {
    // The app's attribute names: to check the condition's (90033) and --by, and as columns.
    let appNames: string[] | undefined;
    const uses = attrUses(condition);
    if (options.by !== undefined) uses.push(['--by', options.by]);
    if (uses.length > 0 || (listing && needs.attrs && format !== 'json' && format !== 'ndjson')) {
      appNames = namesInSlotOrder(await run.call(await rt.operation('getAttrNames'), undefined));
      checkAttrNames(uses, appNames);
    }
    const operation = targetingOperation(await rt.operation('getAttrs'), await rt.operation('getTags'), needs);
    const counts = clauses(condition);
    const byCounts = new Map<string | undefined, number>();
    const matched: string[] = [];
    let evaluated = 0;
    let matchedCount = 0;
    let writer: RecordWriter | undefined;
    let failure: unknown;
    try {
      await runJob(run, {
        operation,
        verb: 'audience',
        items,
        before: async (out) => {
          if (!listing) return;
          writer = createWriter(format, { out, columns: needs.attrs ? appNames : undefined, fields: needs, ...tableLayout(rt, options) });
        },
        onResults: (records) => {
          for (const record of records) {
            evaluated++;
            for (const c of counts) if (c.test(record)) c.n++;
            if (!matches(condition, record.Attrs, record.Tags ?? [])) continue;
            matchedCount++;
            if (options.checkImported) matched.push(record.To_Account);
            if (options.by !== undefined) {
              const value = Object.hasOwn(record.Attrs, options.by) ? record.Attrs[options.by] : undefined;
              byCounts.set(value, (byCounts.get(value) ?? 0) + 1);
            }
            writer?.write(record);
          }
        },
        finish: () => writer?.end(),
      });
    } catch (error) {
      failure = error;
    }
    // A fatal error or an interrupt: no counts to stand behind.
    if (failure !== undefined && !(failure instanceof PartialFailureError)) throw failure;
    const failed = failure instanceof PartialFailureError ? failure.failed : 0;
    const out = rt.deps.io.stdout;
    if (options.count) out.write(`${matchedCount}\n`);
    if (options.by !== undefined) out.write(formatBy(options.by, byCounts, format));
    rt.info(summary(matchedCount, evaluated, failed, condition, counts, options.by, byCounts));
    if (options.checkImported && matched.length > 0) await checkImported(run, matched);
    if (failure !== undefined) throw failure;
  });
}

/** "12,408 of 50,000 accounts match {…}" and a line per clause (and per --by value). */
function summary(
  matched: number,
  evaluated: number,
  failed: number,
  condition: Condition | undefined,
  counts: readonly ClauseCount[],
  by: string | undefined,
  byCounts: ReadonlyMap<string | undefined, number>,
): string {
  const lines = [`${matched.toLocaleString('en-US')} of ${plural(evaluated, 'account')} match${evaluated === 1 ? 'es' : ''} the condition ${showCondition(condition)}`];
  if (failed) lines[0] += `; ${plural(failed, 'account')} could not be fetched (not counted: see above)`;
  for (const c of counts) lines.push(`  ${c.label}: ${c.n.toLocaleString('en-US')}`);
  if (by !== undefined) {
    lines.push(`  ${by}: ${sortedBy(byCounts).map(([value, n]) => `${value ?? '(none)'} ${n.toLocaleString('en-US')}`).join(', ') || '(no matched accounts)'}`);
  }
  return lines.join('\n');
}

function sortedBy(byCounts: ReadonlyMap<string | undefined, number>): Array<[string | undefined, number]> {
  return [...byCounts].sort(([va, a], [vb, b]) => b - a || (va ?? '\uffff').localeCompare(vb ?? '\uffff'));
}

/** --by on stdout: NAME and count per value, most first; an account without the attribute has an empty value (json: null). */
function formatBy(name: string, byCounts: ReadonlyMap<string | undefined, number>, format: OutputFormat): string {
  const rows = sortedBy(byCounts);
  switch (format) {
    case 'json':
      return `${JSON.stringify(rows.map(([value, n]) => ({ [name]: value ?? null, accounts: n })))}\n`;
    case 'ndjson':
      return rows.map(([value, n]) => `${JSON.stringify({ [name]: value ?? null, accounts: n })}\n`).join('');
    case 'csv':
      return [formatCsvLine([name, 'accounts']), ...rows.map(([value, n]) => formatCsvLine([value ?? '', String(n)]))].join('');
    default:
      return [formatTsvLine([name, 'accounts']), ...rows.map(([value, n]) => formatTsvLine([value ?? '', String(n)]))].join('');
  }
}

/** --check-imported: account_check (≤100 per call) over the matched accounts; those not imported are listed on stderr. */
async function checkImported(run: Run, matched: string[]): Promise<void> {
  const { rt } = run;
  const notImported: string[] = [];
  async function* items(): AsyncGenerator<string> {
    yield* matched;
  }
  // Its own run: --save-failed already holds the accounts the preview could not fetch.
  await runJob(run, {
    operation: await rt.operation('accountCheck'),
    noSave: true,
    verb: 'account_check',
    items: items(),
    total: matched.length,
    onResults: (results: AccountStatus[]) => {
      for (const r of results) if (r.AccountStatus === 'NotImported') notImported.push(r.UserID);
    },
  });
  if (notImported.length === 0) rt.info(`account_check: all ${plural(matched.length, 'matched account')} are imported`);
  else rt.stderr(`account_check: ${plural(notImported.length, 'matched account')} not imported (a push does not reach them): ${notImported.join(' ')}`);
}
