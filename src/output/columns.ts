/**
 * Shared by the column formats (tsv, csv, table): pick a record's cells in column order and
 * report, once each, the attribute names that have no column.
 */
import { joinTagsCell, TAGS_COLUMN } from '../model.js';
import { ACCOUNT_COLUMN, ATTRS_ONLY, type AttrRecord, type RecordFields, type RecordWriter, type WriterOptions } from './types.js';

/**
 * The value of attribute `name`, or undefined when unset. Own properties only: an attribute
 * called `__proto__` or `toString` must not find Object.prototype's.
 */
export function attrValue(attrs: Record<string, string>, name: string): string | undefined {
  return Object.hasOwn(attrs, name) ? attrs[name] : undefined;
}

/** Maps records to cells for a fixed column list; reports unknown attribute names once each. */
export class ColumnPicker {
  readonly columns: readonly string[];
  readonly #known: ReadonlySet<string>;
  readonly #reported = new Set<string>();
  readonly #onUnknown: ((name: string) => void) | undefined;

  readonly #tags: boolean;
  readonly #attrs: boolean;

  constructor(columns: readonly string[], onUnknown: ((name: string) => void) | undefined, fields: RecordFields = ATTRS_ONLY) {
    this.columns = fields.attrs ? columns : [];
    this.#known = new Set(this.columns);
    this.#onUnknown = onUnknown;
    this.#tags = fields.tags;
    this.#attrs = fields.attrs;
  }

  /** The header cells after the account column: the attribute columns, then `tags` when printed. */
  get header(): string[] {
    return this.#tags ? [...this.columns, TAGS_COLUMN] : [...this.columns];
  }

  /** The cells of `record` after the account, in header order; undefined where unset. */
  cells(record: AttrRecord): (string | undefined)[] {
    if (this.#attrs) {
      for (const name of Object.keys(record.Attrs)) {
        if (!this.#known.has(name) && !this.#reported.has(name)) {
          this.#reported.add(name);
          this.#onUnknown?.(name);
        }
      }
    }
    const cells = this.columns.map((name) => attrValue(record.Attrs, name));
    if (this.#tags) cells.push(joinTagsCell(record.Tags ?? []));
    return cells;
  }
}

/**
 * A writer of delimited lines (tsv, csv): the header `account,col…`, then one line per record,
 * each made by `formatLine` from raw fields (it escapes them and adds the `\n`).
 */
export class DelimitedWriter implements RecordWriter {
  readonly #out: NodeJS.WritableStream;
  readonly #picker: ColumnPicker;
  readonly #formatLine: (fields: readonly string[]) => string;
  readonly #name: string;
  #ended = false;

  constructor(name: string, formatLine: (fields: readonly string[]) => string, options: WriterOptions & { columns: readonly string[] }) {
    this.#name = name;
    this.#formatLine = formatLine;
    this.#out = options.out;
    this.#picker = new ColumnPicker(options.columns, options.onUnknownColumn, options.fields);
    this.#out.write(formatLine([ACCOUNT_COLUMN, ...this.#picker.header]));
  }

  write(record: AttrRecord): void {
    if (this.#ended) throw new Error(`${this.#name} writer: write() after end()`);
    this.#out.write(this.#line(record));
  }

  writeAll(records: readonly AttrRecord[]): void {
    if (this.#ended) throw new Error(`${this.#name} writer: write() after end()`);
    let text = '';
    for (const record of records) text += this.#line(record);
    if (text !== '') this.#out.write(text);
  }

  #line(record: AttrRecord): string {
    const cells = this.#picker.cells(record).map((v) => v ?? '');
    return this.#formatLine([record.To_Account, ...cells]);
  }

  end(): void {
    this.#ended = true;
  }
}
