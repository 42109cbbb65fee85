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
import { createWriter, formatCsvLine, formatTable, formatTsvLine, type OutputFormat, type RecordWriter } from '../output/index.js';
import { matches, type Condition } from '../push/condition.js';
import type { Runtime } from '../runtime/runtime.js';
import { plural, thousands } from '../util/text.js';
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
  $ im-attrs audience --file roster.txt --by city,level
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
    .option('--count', 'print only the number of matched accounts (json and ndjson: {"matched","evaluated","failed"})')
    .option(
      '--by <names>',
      'print the number of matched accounts per value of this attribute (with its share, and a bar on a terminal) ' +
        'instead of the accounts; two names (--by city,level) make a cross-tab',
    )
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
  const by = options.by === undefined ? undefined : byNames(options.by);
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
    for (const name of by ?? []) uses.push(['--by', name]);
    if (uses.length > 0 || (listing && needs.attrs && format !== 'json' && format !== 'ndjson')) {
      appNames = namesInSlotOrder(await run.call(await rt.operation('getAttrNames'), undefined));
      checkAttrNames(uses, appNames);
    }
    const operation = targetingOperation(await rt.operation('getAttrs'), await rt.operation('getTags'), needs);
    const counts = clauses(condition);
    const byCounts = new Map<string, ByRow>();
    const caseMisses = caseClauses(condition);
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
            for (const miss of caseMisses) miss.see(record);
            if (!matches(condition, record.Attrs, record.Tags ?? [])) continue;
            matchedCount++;
            if (options.checkImported) matched.push(record.To_Account);
            if (by !== undefined) {
              const values = by.map((name) => (Object.hasOwn(record.Attrs, name) ? record.Attrs[name] : undefined));
              const key = JSON.stringify(values);
              const row = byCounts.get(key);
              if (row) row.n++;
              else byCounts.set(key, { values, n: 1 });
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
    if (options.count) out.write(formatCount(matchedCount, evaluated, failed, format, rt.deps.io.stdoutIsTTY));
    if (by !== undefined) out.write(formatBy(by, [...byCounts.values()], matchedCount, format, { tty: rt.deps.io.stdoutIsTTY, ...tableLayout(rt, options) }));
    rt.info(summary(matchedCount, evaluated, failed, condition, counts, by, [...byCounts.values()]));
    // 0 matched because of letter case (city=paris, the app says Paris): name the values that differ only in case.
    if (matchedCount === 0) for (const miss of caseMisses) if (miss.seen.size > 0) rt.stderr(miss.describe());
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
  by: readonly string[] | undefined,
  byRows: readonly ByRow[],
): string {
  const lines = [`${thousands(matched)} of ${plural(evaluated, 'account')} match${evaluated === 1 ? 'es' : ''} the condition ${showCondition(condition)}`];
  if (failed) lines[0] += `; ${plural(failed, 'account')} could not be fetched (not counted: see above)`;
  for (const c of counts) lines.push(`  ${c.label}: ${thousands(c.n)}`);
  if (by !== undefined) {
    const shown = sortedRows(byRows).map((r) => `${r.values.map((v) => v ?? '(none)').join(' ')} ${thousands(r.n)}`);
    lines.push(`  ${by.join(' × ')}: ${shown.join(', ') || '(no matched accounts)'}`);
  }
  return lines.join('\n');
}

/** The counts of one --by value (or pair of values, for a cross-tab). */
interface ByRow {
  values: Array<string | undefined>;
  n: number;
}

/** --by's names: one attribute, or two for a cross-tab. */
function byNames(by: string): string[] {
  const names = by.split(',').map((n) => n.trim());
  if (names.length > 2 || names.some((n) => n === '')) {
    throw new UsageError(`--by takes one attribute name, or two separated by a comma, not "${by}"`, { hint: 'e.g. --by city, or --by city,level for a cross-tab' });
  }
  return names;
}

/** Most first, then by value; an account without the attribute (undefined) last. */
function sortedRows(rows: readonly ByRow[]): ByRow[] {
  const key = (r: ByRow): string => r.values.map((v) => v ?? '\uffff').join('\u0000');
  return [...rows].sort((a, b) => b.n - a.n || key(a).localeCompare(key(b)));
}

/** A value's totals over the rows, most first: the order of a cross-tab's rows or columns. */
function marginal(rows: readonly ByRow[], index: number): Array<[string | undefined, number]> {
  const totals = new Map<string | undefined, number>();
  for (const r of rows) totals.set(r.values[index], (totals.get(r.values[index]) ?? 0) + r.n);
  return [...totals].sort(([va, a], [vb, b]) => b - a || (va ?? '\uffff').localeCompare(vb ?? '\uffff'));
}

/** A share of the matched accounts, one decimal: "12.5". */
function percent(n: number, total: number): string {
  return total === 0 ? '0.0' : ((n * 100) / total).toFixed(1);
}

/** Width of the bar a terminal shows for the largest value. */
const BAR_WIDTH = 24;

/**
 * --by on stdout. Machine formats have a row per value (or pair): the values, `accounts`, `percent`
 * of the matched accounts (an account without the attribute: empty, json null). A table has the
 * counts with thousands separators and the share, with a bar on a terminal; two names make a
 * cross-tab with totals.
 */
function formatBy(
  names: readonly string[],
  byRows: readonly ByRow[],
  total: number,
  format: OutputFormat,
  layout: { tty: boolean; width: number | undefined; wide: boolean | undefined },
): string {
  const rows = sortedRows(byRows);
  const record = (r: ByRow): Record<string, string | number | null> => ({
    ...Object.fromEntries(names.map((name, i) => [name, r.values[i] ?? null])),
    accounts: r.n,
    percent: Number(percent(r.n, total)),
  });
  switch (format) {
    case 'json':
      return `${JSON.stringify(rows.map(record))}\n`;
    case 'ndjson':
      return rows.map((r) => `${JSON.stringify(record(r))}\n`).join('');
    case 'csv':
      return [formatCsvLine([...names, 'accounts', 'percent']), ...rows.map((r) => formatCsvLine([...r.values.map((v) => v ?? ''), String(r.n), percent(r.n, total)]))].join('');
    case 'tsv':
      return [formatTsvLine([...names, 'accounts', 'percent']), ...rows.map((r) => formatTsvLine([...r.values.map((v) => v ?? ''), String(r.n), percent(r.n, total)]))].join('');
    case 'table':
      return names.length === 1 ? distributionTable(names[0]!, rows, total, layout) : crossTab(names, rows, total, layout);
  }
}

/** Right-aligns a column of numbers. */
function alignRight(cells: readonly string[]): string[] {
  const width = Math.max(...cells.map((c) => c.length));
  return cells.map((c) => c.padStart(width));
}

function distributionTable(name: string, rows: readonly ByRow[], total: number, layout: { tty: boolean; width: number | undefined; wide: boolean | undefined }): string {
  const max = Math.max(1, ...rows.map((r) => r.n));
  const counts = alignRight(['accounts', ...rows.map((r) => thousands(r.n)), thousands(total)]);
  const shares = alignRight(['share', ...rows.map((r) => `${percent(r.n, total)}%`), '100.0%']);
  const body = rows.map((r, i) => {
    const cells = [r.values[0] ?? '(none)', counts[i + 1]!, shares[i + 1]!];
    // The bar: on a terminal only (a script reads the numbers); at least one block for a value that has any.
    if (layout.tty) cells.push('█'.repeat(Math.max(1, Math.round((r.n / max) * BAR_WIDTH))));
    return cells;
  });
  body.push(['total', counts.at(-1)!, shares.at(-1)!, ...(layout.tty ? [''] : [])]);
  return formatTable([name, counts[0]!, shares[0]!, ...(layout.tty ? [''] : [])], body, layout);
}

function crossTab(names: readonly string[], rows: readonly ByRow[], total: number, layout: { width: number | undefined; wide: boolean | undefined }): string {
  const rowValues = marginal(rows, 0);
  const columnValues = marginal(rows, 1);
  const cell = new Map(rows.map((r) => [JSON.stringify(r.values), r.n]));
  const label = (v: string | undefined): string => v ?? '(none)';
  const header = [`${names[0]!} \\ ${names[1]!}`, ...columnValues.map(([v]) => label(v)), 'total'];
  const body = rowValues.map(([rv, rowTotal]) => [label(rv), ...columnValues.map(([cv]) => thousands(cell.get(JSON.stringify([rv, cv])) ?? 0)), thousands(rowTotal)]);
  body.push(['total', ...columnValues.map(([, n]) => thousands(n)), thousands(total)]);
  // Numbers right-aligned in their columns (the first column is the row's value).
  const columns = header.map((h, i) => (i === 0 ? [h, ...body.map((r) => r[0]!)] : alignRight([h, ...body.map((r) => r[i]!)])));
  const aligned = (r: number): string[] => columns.map((c) => c[r]!);
  return formatTable(aligned(0), body.map((_, i) => aligned(i + 1)), layout);
}

/** --count on stdout: the number (with thousands separators on a terminal), or an object in json and ndjson. */
function formatCount(matched: number, evaluated: number, failed: number, format: OutputFormat, tty: boolean): string {
  if (format === 'json') return `${JSON.stringify({ matched, evaluated, failed }, null, 2)}\n`;
  if (format === 'ndjson') return `${JSON.stringify({ matched, evaluated, failed })}\n`;
  return `${format === 'table' && tty ? thousands(matched) : String(matched)}\n`;
}

/** An attribute clause, and the values the fetched accounts have that differ from its value only in case. */
interface CaseMiss {
  seen: Map<string, number>;
  see(record: AttrRecord): void;
  describe(): string;
}

function caseClauses(condition: Condition | undefined): CaseMiss[] {
  const pairs = [...Object.entries(condition?.AttrsAnd ?? {}), ...Object.entries(condition?.AttrsOr ?? {})];
  return pairs.map(([name, value]) => {
    const lower = value.toLowerCase();
    const seen = new Map<string, number>();
    return {
      seen,
      see(record: AttrRecord): void {
        const actual = Object.hasOwn(record.Attrs, name) ? record.Attrs[name] : undefined;
        if (actual !== undefined && actual !== value && actual.toLowerCase() === lower) seen.set(actual, (seen.get(actual) ?? 0) + 1);
      },
      describe(): string {
        const others = [...seen].sort(([, a], [, b]) => b - a).map(([v, n]) => `${thousands(n)} ${n === 1 ? 'has' : 'have'} ${name}=${v}`);
        return `no account has ${name}=${value}; ${others.join(', ')} (values are compared exactly, letter case included)`;
      },
    };
  });
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
