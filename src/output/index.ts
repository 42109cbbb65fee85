/**
 * The output writers: one record type (AttrRecord), five formats. createWriter picks one; the
 * parsers in input/ read tsv and csv back for `set`, so get → edit → set is lossless.
 */
import { UsageError } from '../errors.js';
import { CsvWriter } from './csv.js';
import { JsonWriter } from './json.js';
import { NdjsonWriter } from './ndjson.js';
import { TableWriter } from './table.js';
import { TsvWriter } from './tsv.js';
import { OUTPUT_FORMATS, type OutputFormat, type RecordWriter, type WriterOptions } from './types.js';

export { ACCOUNT_COLUMN, ATTRS_ONLY, OUTPUT_FORMATS, TAGS_COLUMN } from './types.js';
export type { AttrRecord, OutputFormat, RecordFields, RecordWriter, WriterOptions } from './types.js';
export { escapeCsvField, formatCsvLine } from './csv.js';
export { escapeTsvField, formatTsvLine } from './tsv.js';
export { displayCell, displayWidth, formatTable, truncate, FIRST_PAGE } from './table.js';
export type { TableLayout } from './table.js';
export { recordJson } from './ndjson.js';
export { writeRows, type Projection } from './rows.js';

/**
 * A writer for `format`. tsv and csv write their header now, so they need `options.columns`;
 * table buffers its first page (FIRST_PAGE records, or until flush()) to fix its widths, then
 * streams; json and ndjson stream and ignore columns.
 */
export function createWriter(format: OutputFormat, options: WriterOptions): RecordWriter {
  switch (format) {
    case 'ndjson':
      return new NdjsonWriter(options);
    case 'json':
      return new JsonWriter(options);
    case 'table':
      return new TableWriter(options);
    case 'tsv':
    case 'csv': {
      const { columns } = options;
      if (columns === undefined && options.fields?.attrs !== false) {
        throw new UsageError(`${format} output needs the attribute columns up front`, {
          hint: 'name the attributes to print, or use table, json or ndjson output',
        });
      }
      return format === 'tsv' ? new TsvWriter({ ...options, columns: columns ?? [] }) : new CsvWriter({ ...options, columns: columns ?? [] });
    }
    default: {
      const unknown: never = format;
      throw new UsageError(`unknown output format ${JSON.stringify(unknown)}`, {
        hint: `use one of: ${OUTPUT_FORMATS.join(', ')}`,
      });
    }
  }
}
