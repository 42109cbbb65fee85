/**
 * tsv: a header line `account<TAB>col…`, then one line per record, streamed.
 *
 * TSV has no quoting standard (IANA's text/tab-separated-values simply forbids tabs in fields),
 * so we escape the way PostgreSQL's COPY text format and most TSV tools do:
 *
 *     backslash → \\     tab → \t     newline → \n     carriage return → \r
 *
 * Every line is then one record and every tab a separator, so `cut -f2` and `awk -F'\t'` work,
 * and parseTsvLine (input/tsv.ts) undoes it exactly. An unset attribute is an empty cell, and an empty cell reads
 * back as unset: a value of "" does not survive tsv (or csv); json and ndjson keep it.
 */
import { DelimitedWriter } from './columns.js';
import type { WriterOptions } from './types.js';

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };

/** One TSV field: backslash, tab, newline, CR and NUL escaped as `\\`, `\t`, `\n`, `\r`, `\0`. */
export function escapeTsvField(value: string): string {
  return value.replace(/[\\\t\n\r\0]/g, (c) => ESCAPES[c] ?? c);
}

/** One TSV line (with its `\n`) from raw fields. */
export function formatTsvLine(fields: readonly string[]): string {
  return fields.map(escapeTsvField).join('\t') + '\n';
}

export class TsvWriter extends DelimitedWriter {
  constructor(options: WriterOptions & { columns: readonly string[] }) {
    super('tsv', formatTsvLine, options);
  }
}
