/**
 * The one writer for results that are not account records (push statistics, attribute names,
 * scheduled tasks, journals, event summaries): a descriptor gives a projection (its header, the
 * cells of a row, the JSON of a row), and the rows print in every format `get` has. A table on a
 * person's screen can show more (or friendlier) columns than tsv/csv, which stay the stable
 * columns a script reads.
 */
import { formatCsvLine } from './csv.js';
import { formatTable, type TableLayout } from './table.js';
import { formatTsvLine } from './tsv.js';
import type { OutputFormat } from './types.js';

/** How one kind of result prints. */
export interface Projection<R> {
  /** The columns of tsv and csv (and of the table, unless `table` says otherwise). */
  header: readonly string[];
  cells(row: R): readonly string[];
  /** The JSON of a row (json, ndjson): as the server named things, or the same as the cells. */
  json(row: R): unknown;
  /** What a table shows instead (a person's view): its own header and cells. */
  table?: { header: readonly string[]; cells(row: R): readonly string[] };
}

/** Prints `rows` in `format` through `projection`; a table fits `layout`. */
export function writeRows<R>(out: NodeJS.WritableStream, format: OutputFormat, projection: Projection<R>, rows: readonly R[], layout: TableLayout = {}): void {
  switch (format) {
    case 'table': {
      const view = projection.table ?? projection;
      out.write(formatTable(view.header, rows.map((r) => view.cells(r)), layout));
      return;
    }
    case 'tsv':
    case 'csv': {
      const line = format === 'tsv' ? formatTsvLine : formatCsvLine;
      out.write([projection.header, ...rows.map((r) => projection.cells(r))].map((cells) => line(cells)).join(''));
      return;
    }
    case 'json':
      out.write(rows.length === 0 ? '[]\n' : `[\n${rows.map((r) => `  ${JSON.stringify(projection.json(r))}`).join(',\n')}\n]\n`);
      return;
    case 'ndjson':
      out.write(rows.map((r) => `${JSON.stringify(projection.json(r))}\n`).join(''));
      return;
  }
}
