/**
 * Shared by the column formats (tsv, csv, table): pick a record's cells in column order and
 * report, once each, the attribute names that have no column.
 */
import type { AttrRecord } from './types.js';

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

  constructor(columns: readonly string[], onUnknown: ((name: string) => void) | undefined) {
    this.columns = columns;
    this.#known = new Set(columns);
    this.#onUnknown = onUnknown;
  }

  /** The attribute cells of `record` in column order; undefined where unset. */
  cells(record: AttrRecord): (string | undefined)[] {
    for (const name of Object.keys(record.Attrs)) {
      if (!this.#known.has(name) && !this.#reported.has(name)) {
        this.#reported.add(name);
        this.#onUnknown?.(name);
      }
    }
    return this.columns.map((name) => attrValue(record.Attrs, name));
  }
}
