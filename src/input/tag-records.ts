/**
 * Tag records for `tags add`, `tags remove` and `tags set`: read from what `tags get --output …`
 * prints (ndjson/json `{"To_Account":"a","Tags":["x","y"]}`, csv/tsv with the header
 * `account,tags` and the tags cell as joinTagsCell writes it), checked against the documented
 * limits, with the line number of every bad record. Same two passes as attribute records
 * (records.ts: `scan` reports, `entries` yields; stdin copied to a file by openRecordInputs).
 *
 * Duplicates: an account on several lines gets one entry, at its last line. For add and remove
 * its lists are joined (what applying the lines one after the other would do); for set the last
 * line wins (each line replaces the tags before it).
 */
import { MAX_TAG_BYTES, MAX_TAGS_PER_USER } from '../api/facts.js';
import type { TagEntry } from '../api/tags.js';
import { kindOf } from '../api/envelope.js';
import { UsageError } from '../errors.js';
import { ACCOUNT_COLUMN, TAGS_COLUMN, splitTagsCell } from '../model.js';
import { TwoPassReader, type BadLine, type RawRecord, type RecordSource, type ScanReport, type TableShape } from './records.js';
import { didYouMean } from '../util/suggest.js';

/** What tag records are for. */
export type TagMode = 'add' | 'remove' | 'set';

/** Why a tag cannot be sent, or undefined (1-50 bytes, PUSH-FAMILY.md section 1). */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string') return `a tag must be a string, not ${kindOf(tag)}`;
  const bytes = Buffer.byteLength(tag, 'utf8');
  if (bytes === 0) return 'a tag is empty (tags are 1-50 bytes)';
  if (bytes > MAX_TAG_BYTES) return `the tag ${JSON.stringify(tag)} is ${bytes} bytes, over the limit of ${MAX_TAG_BYTES}`;
  return undefined;
}

/** Tags in order, repeats dropped; every problem listed (bad tags, more than 100). */
export function checkTags(tags: readonly unknown[]): { tags: string[] } | { problems: string[] } {
  const problems: string[] = [];
  const unique = new Set<string>();
  for (const tag of tags) {
    const problem = tagProblem(tag);
    if (problem) problems.push(problem);
    else unique.add(tag as string);
  }
  if (unique.size > MAX_TAGS_PER_USER) problems.push(`${unique.size} tags, over the limit of ${MAX_TAGS_PER_USER} per user`);
  return problems.length ? { problems } : { tags: [...unique] };
}

/** Checks one record: `{"To_Account":"alice","Tags":["vip"]}`; other keys are ignored. */
export function checkTagRecord(value: unknown): { entry: TagEntry } | { problems: string[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: [`expected an object like {"To_Account":"alice","Tags":["vip"]}, not ${kindOf(value)}`] };
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const problems: string[] = [];
  const account = record.To_Account;
  if (!Object.hasOwn(record, 'To_Account')) problems.push(`"To_Account" is missing${didYouMean('To_Account', keys)}`);
  else if (typeof account !== 'string') problems.push(`"To_Account" must be a string, not ${kindOf(account)}`);
  else if (account.trim() === '') problems.push('the account is empty');
  let tags: string[] = [];
  if (!Object.hasOwn(record, 'Tags')) problems.push(`"Tags" is missing${didYouMean('Tags', keys)}`);
  else if (!Array.isArray(record.Tags)) problems.push(`"Tags" must be a list of strings, not ${kindOf(record.Tags)}`);
  else {
    const checked = checkTags(record.Tags as unknown[]);
    if ('problems' in checked) problems.push(...checked.problems);
    else tags = checked.tags;
  }
  if (problems.length) return { problems };
  return { entry: { account: (account as string).trim(), tags } };
}

/** csv/tsv: the header `account,tags`, a row's tags cell split as joinTagsCell joined it. */
const TAG_TABLE: TableShape = {
  header(fields, source, line) {
    const first = fields[0] ?? '';
    const problems: string[] = [];
    if (first.trim().toLowerCase() !== ACCOUNT_COLUMN && first !== 'To_Account') problems.push(`the first column must be "${ACCOUNT_COLUMN}", not ${JSON.stringify(first)}`);
    // Other columns are ignored: what `get --tags` prints (account, attributes…, tags) reads too.
    if (fields.indexOf(TAGS_COLUMN) < 1) problems.push(`a "${TAGS_COLUMN}" column is missing`);
    if (problems.length) {
      throw new UsageError(`line ${line} of ${source.label} (the ${source.format} header): ${problems.join('; ')}`, {
        hint: `the header is \`${ACCOUNT_COLUMN}${source.format === 'tsv' ? '\\t' : ','}${TAGS_COLUMN}\`, as \`im-attrs tags get --output ${source.format}\` prints it`,
      });
    }
    return [...fields];
  },
  row(fields, header, line): RawRecord {
    if (fields.length !== header.length) return { line, error: `${fields.length} ${fields.length === 1 ? 'field' : 'fields'}, but the header has ${header.length}` };
    return { line, value: { To_Account: fields[0], Tags: splitTagsCell(fields[header.indexOf(TAGS_COLUMN)]!) } };
  },
};

/** Tag records from one or more inputs (records.ts's two-pass reader): `scan` first, then `entries` as often as needed. */
export class TagRecordReader extends TwoPassReader<TagEntry> {
  #distinct: Set<string> | undefined;

  constructor(sources: readonly RecordSource[], mode: TagMode) {
    super(sources, {
      table: TAG_TABLE,
      check: checkTagRecord,
      // For set, an empty list is something to do (remove every tag); the last line decides.
      hasSomething: (entry, before) => mode === 'set' || before === true || entry.tags.length > 0,
      merge: (before, entry) => (mode === 'set' ? entry : { account: entry.account, tags: [...new Set([...(before?.tags ?? []), ...entry.tags])] }),
    });
  }

  /** The distinct tags of the good records (after scan): what a run would add to the app. */
  get distinctTags(): ReadonlySet<string> {
    if (!this.#distinct) throw new Error('TagRecordReader: distinctTags before scan()');
    return this.#distinct;
  }

  override async scan(onBad: (bad: BadLine) => void): Promise<ScanReport> {
    const distinct = new Set<string>();
    const report = await super.scan(onBad, (entry) => {
      for (const tag of entry.tags) distinct.add(tag);
    });
    this.#distinct = distinct;
    return report;
  }
}
