/**
 * csv: RFC 4180 fields, header `account,col…`, one line per record, streamed. The parser that
 * reads it back (input/csv.ts) makes get → set a lossless round trip.
 *
 * Lines end in `\n`, not RFC 4180's CRLF: the output goes into Unix pipelines (`sort`, `grep`,
 * `wc -l`) where a stray `\r` ends up glued to the last field. The parser accepts both.
 */
import { DelimitedWriter } from './columns.js';
import type { WriterOptions } from './types.js';

/** Fields that must be quoted: separators, quotes, line breaks, and edge whitespace (tools trim it). */
const NEEDS_QUOTES = /[",\n\r]|^\s|\s$/;

/** One CSV field, quoted (with `"` doubled) when RFC 4180 or trimming tools require it. */
export function escapeCsvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One CSV line (with its `\n`) from raw fields. */
export function formatCsvLine(fields: readonly string[]): string {
  // A row of one empty field would be a blank line, which parsers skip: quote it.
  if (fields.length === 1 && fields[0] === '') return '""\n';
  return fields.map(escapeCsvField).join(',') + '\n';
}

export class CsvWriter extends DelimitedWriter {
  constructor(options: WriterOptions & { columns: readonly string[] }) {
    super('csv', formatCsvLine, options);
  }
}
