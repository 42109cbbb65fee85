/**
 * The desired state of `plan`, `apply --file` and `diff`: records as `set` and `tags set` read
 * them (ndjson/json `{"To_Account","Attrs":{…},"Tags":[…]}`, either key optional but not both;
 * csv/tsv with an account column, attribute columns and an optional `tags` column), with the
 * column options of a CRM export (records.ts ColumnOptions). Same two passes as every record
 * input (records.ts TwoPassReader): `scan` reports bad records and counts, `entries` streams.
 *
 * What a record speaks for: the attributes it gives, and for `--prune` the attributes it could
 * have given (a csv/tsv header's attribute columns; `--columns`; for an ndjson record with
 * `Attrs`, every attribute of the app; without `Attrs`, none). Tags: the whole list when the
 * record has one (csv/tsv: a `tags` column), none otherwise.
 */
import { kindOf } from '../api/envelope.js';
import { didYouMean } from '../util/suggest.js';
import { applyColumnOptions, attrTable, MANAGED_ATTRS, TwoPassReader, unknownAttribute, valueProblem, type AppNames, type BadLine, type ColumnOptions, type RecordSource, type ScanReport } from './records.js';
import { checkTags } from './tag-records.js';

/** One account's desired state. */
export interface DesiredEntry {
  account: string;
  /** Attribute → value the account must have. */
  attrs: Map<string, string>;
  /** The attributes the record speaks for (`--prune` removes only among these); undefined: every attribute of the app. */
  managed: readonly string[] | undefined;
  /** The account's whole tag list, when the record gives one. */
  tags: string[] | undefined;
}

const EXAMPLE = '{"To_Account":"alice","Attrs":{"city":"Paris"},"Tags":["vip"]}';
const NO_ATTRS: readonly string[] = Object.freeze([]);

/** Checks one desired record; every problem listed. */
export function checkDesired(value: unknown, names: AppNames, columns: ColumnOptions | undefined): { entry: DesiredEntry } | { problems: string[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problems: [`expected an object like ${EXAMPLE}, not ${kindOf(value)}`] };
  const record = value as Record<string | symbol, unknown>;
  const keys = Object.keys(record);
  const problems: string[] = [];
  const account = record.To_Account;
  const idKey = columns?.idColumn ?? 'To_Account';
  if (account === undefined) problems.push(`${JSON.stringify(idKey)} is missing${didYouMean(idKey, keys)}`);
  else if (typeof account !== 'string') problems.push(`${JSON.stringify(idKey)} must be a string, not ${kindOf(account)}`);
  else if (account.trim() === '') problems.push('the account is empty');
  const hasAttrs = Object.hasOwn(record, 'Attrs');
  const hasTags = Object.hasOwn(record, 'Tags');
  if (!hasAttrs && !hasTags) problems.push(`"Attrs" or "Tags" is missing${didYouMean('Attrs', keys)}`);
  const attrs = new Map<string, string>();
  if (hasAttrs) {
    const given = record.Attrs;
    if (typeof given !== 'object' || given === null || Array.isArray(given)) problems.push(`"Attrs" must be an object of name → value, not ${kindOf(given)}`);
    else {
      for (const [name, v] of Object.entries(given)) {
        if (!names.set.has(name)) problems.push(unknownAttribute(name, names));
        const problem = valueProblem(name, v);
        if (problem) problems.push(problem);
        else attrs.set(name, v as string);
      }
    }
  }
  let tags: string[] | undefined;
  if (hasTags) {
    if (!Array.isArray(record.Tags)) problems.push(`"Tags" must be a list of strings, not ${kindOf(record.Tags)}`);
    else {
      const checked = checkTags(record.Tags as unknown[]);
      if ('problems' in checked) problems.push(...checked.problems);
      else tags = checked.tags;
    }
  }
  if (problems.length) return { problems };
  const shaped = record[MANAGED_ATTRS] as readonly string[] | undefined;
  const picked = columns?.columns?.map((c) => columns.map?.get(c) ?? c).filter((n) => names.set.has(n));
  const managed = !hasAttrs ? NO_ATTRS : (shaped ?? picked);
  return { entry: { account: (account as string).trim(), attrs, managed, tags } };
}

/** Desired-state records from one or more inputs: `scan` first, then `entries` as often as needed. */
export class DesiredReader extends TwoPassReader<DesiredEntry> {
  #hasTags = false;

  constructor(sources: readonly RecordSource[], names: AppNames, columns?: ColumnOptions) {
    super(sources, {
      table: attrTable(names, columns, true),
      check: (value) => checkDesired(applyColumnOptions(value, columns), names, columns),
      // A desired record always says something: even an empty one (with --prune, remove everything it speaks for).
      hasSomething: () => true,
      // Later lines win, per attribute; a later tag list replaces an earlier one.
      merge: (before, entry) => ({
        account: entry.account,
        attrs: new Map([...(before?.attrs ?? []), ...entry.attrs]),
        managed: before === undefined ? entry.managed : before.managed === undefined || entry.managed === undefined ? undefined : [...new Set([...before.managed, ...entry.managed])],
        tags: entry.tags ?? before?.tags,
      }),
    });
  }

  /** Whether any good record gives tags (after scan): then the plan reads the accounts' tags too. */
  get hasTags(): boolean {
    return this.#hasTags;
  }

  override async scan(onBad: (bad: BadLine) => void): Promise<ScanReport> {
    return super.scan(onBad, (entry) => {
      if (entry.tags !== undefined) this.#hasTags = true;
    });
  }
}
