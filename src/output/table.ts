/**
 * table: a boxed table for people, rendered by cli-table3 at end() (column widths need every
 * row). Plain text only, no colour codes, so the output is the same on a TTY and in a test.
 */
import { createRequire } from 'node:module';
import type CliTable from 'cli-table3';
import { ColumnPicker } from './columns.js';
import { ACCOUNT_COLUMN, ATTRS_ONLY, type AttrRecord, type RecordFields, type RecordWriter, type WriterOptions } from './types.js';

const require = createRequire(import.meta.url);

/** cli-table3 (CommonJS), loaded when a table is drawn: `--help` and the machine formats never need it. */
export function loadTable(): typeof CliTable {
  return require('cli-table3') as typeof CliTable;
}

/** Control characters other than `\n` (which makes a multi-line cell): C0, DEL and C1. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g;
const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\r': '\\r' };

/**
 * A cell as a person should see it: control characters shown as `\t`, `\r`, `\x1b`, ... so that
 * an attribute value cannot move the cursor, recolour the terminal or break the column layout.
 * Lossy on purpose (a literal `\t` looks the same); scripts use tsv, csv or json.
 */
export function displayCell(value: string): string {
  return value.replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class TableWriter implements RecordWriter {
  readonly #out: NodeJS.WritableStream;
  readonly #picker: ColumnPicker | undefined;
  readonly #records: AttrRecord[] = [];
  readonly #fields: RecordFields;
  #ended = false;

  constructor(options: WriterOptions) {
    this.#out = options.out;
    this.#fields = options.fields ?? ATTRS_ONLY;
    this.#picker =
      options.columns === undefined ? undefined : new ColumnPicker(options.columns, options.onUnknownColumn, this.#fields);
  }

  write(record: AttrRecord): void {
    if (this.#ended) throw new Error('table writer: write() after end()');
    this.#records.push(record);
  }

  writeAll(records: readonly AttrRecord[]): void {
    for (const record of records) this.write(record);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const picker = this.#picker ?? new ColumnPicker(this.#fields.attrs ? unionOfNames(this.#records) : [], undefined, this.#fields);
    const Table = loadTable();
    const table = new Table({
      head: [ACCOUNT_COLUMN, ...picker.header].map(displayCell),
      style: { head: [], border: [] },
    });
    for (const record of this.#records) {
      table.push([record.To_Account, ...picker.cells(record).map((v) => v ?? '')].map(displayCell));
    }
    this.#out.write(table.toString() + '\n');
  }
}

/** Every attribute name the records have, in first-seen order. */
function unionOfNames(records: readonly AttrRecord[]): string[] {
  const names = new Set<string>();
  for (const record of records) for (const name of Object.keys(record.Attrs)) names.add(name);
  return [...names];
}
