/**
 * The one record type every writer takes, and the writer contract. A record is what the
 * "get push attributes" endpoint returns for one account: its ID and its attribute map.
 */

/** One account's push attributes, named as the REST API names them. */
export interface AttrRecord {
  To_Account: string;
  Attrs: Record<string, string>;
}

/** The output formats, in the order `--help` lists them. */
export const OUTPUT_FORMATS = ['table', 'tsv', 'csv', 'json', 'ndjson'] as const satisfies readonly string[];

export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The header of the first column in tsv, csv and table output. */
export const ACCOUNT_COLUMN = 'account';

export interface RecordWriter {
  /** Write one record (records arrive in final order). */
  write(record: AttrRecord): void;
  /** Finish: close the JSON array, render the table, etc. Idempotent. */
  end(): void;
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
}
