/**
 * table: a boxed table for people, rendered by cli-table3 at end() (column widths need every
 * row). Plain text only, no colour codes, so the output is the same on a TTY and in a test.
 */
import { createRequire } from 'node:module';
import type CliTable from 'cli-table3';
import { attrValue, ColumnPicker } from './columns.js';
import { ACCOUNT_COLUMN, type AttrRecord, type RecordWriter, type WriterOptions } from './types.js';

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
  #ended = false;

  constructor(options: WriterOptions) {
    this.#out = options.out;
    this.#picker =
      options.columns === undefined ? undefined : new ColumnPicker(options.columns, options.onUnknownColumn);
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
    const columns = this.#picker?.columns ?? unionOfNames(this.#records);
    const Table = loadTable();
    const table = new Table({
      head: [ACCOUNT_COLUMN, ...columns].map(displayCell),
      style: { head: [], border: [] },
    });
    for (const record of this.#records) {
      const cells = this.#picker
        ? this.#picker.cells(record)
        : columns.map((name) => attrValue(record.Attrs, name));
      table.push([record.To_Account, ...cells.map((v) => v ?? '')].map(displayCell));
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
