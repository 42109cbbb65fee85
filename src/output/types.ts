/**
 * The one record type every writer takes, and the writer contract. A record is what the
 * "get push attributes" endpoint returns for one account: its ID and its attribute map.
 */

import type { AttrRecord } from '../model.js';

export type { AttrRecord } from '../model.js';
export { ACCOUNT_COLUMN, TAGS_COLUMN } from '../model.js';

/** The output formats, in the order `--help` lists them. */
export const OUTPUT_FORMATS = ['table', 'tsv', 'csv', 'json', 'ndjson'] as const satisfies readonly string[];

export type OutputFormat = (typeof OUTPUT_FORMATS)[number];


export interface RecordWriter {
  /** Write one record (records arrive in final order). */
  write(record: AttrRecord): void;
  /**
   * Write the records of one batch, in order: the same bytes as write() for each, in one
   * out.write() (a write per record cost a tenth of an unpaced run's CPU). Optional: a writer
   * without it gets write() per record.
   */
  writeAll?(records: readonly AttrRecord[]): void;
  /** Finish: close the JSON array, print the table's last rows, etc. Idempotent. */
  end(): void;
  /** Called after each batch of records: the table prints its first rows (and fixes its widths) then. */
  flush?(): void;
}

export interface WriterOptions {
  /**
   * Where the output goes; the writers call `out.write(string)` and nothing else. They do not
   * wait for 'drain': the caller owns back-pressure (records come in API batches of 100 anyway).
   */
  out: NodeJS.WritableStream;
  /**
   * Attribute columns in order. Required for tsv/csv (the header is written at creation, before
   * any record); for table: when undefined, the union of attribute names seen, in first-seen
   * order. Ignored for json/ndjson.
   */
  columns?: readonly string[] | undefined;
  /**
   * Called once per attribute name that a record has but `columns` lacks (tsv/csv/table with
   * explicit columns), so the caller can warn. The value is left out of the output.
   */
  onUnknownColumn?: (name: string) => void;
  /**
   * What a record carries (default: attributes only). `tags` adds the `Tags` array to json/ndjson
   * and a last `tags` column to tsv/csv/table (joinTagsCell); `attrs: false` leaves out `Attrs`
   * (json/ndjson print `{"To_Account","Tags"}`, as the get-tags endpoints name them).
   */
  fields?: RecordFields | undefined;
  /** table: the terminal width to fit (cells cut with `…`); undefined: not a terminal, nothing cut. */
  width?: number | undefined;
  /** table: never cut a cell (`--wide`). */
  wide?: boolean | undefined;
}

/** Which parts of a record a writer prints. */
export interface RecordFields {
  attrs: boolean;
  tags: boolean;
}

/** Attributes only: what `get` prints without --tags. */
export const ATTRS_ONLY: RecordFields = { attrs: true, tags: false };
