/**
 * Shared by the column formats (tsv, csv, table): pick a record's cells in column order and
 * report, once each, the attribute names that have no column.
 */
import { joinTagsCell, TAGS_COLUMN } from '../model.js';
import { ATTRS_ONLY, type AttrRecord, type RecordFields } from './types.js';

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
