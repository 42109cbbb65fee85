/** Reading tsv back: the inverse of output/tsv.ts's escaping (see there for the format). */

const UNESCAPES: Readonly<Record<string, string>> = { '\\': '\\', t: '\t', n: '\n', r: '\r', '0': '\0' };

/** Undo escapeTsvField. An unknown escape (`\x`) or a trailing lone backslash is kept as is. */
export function unescapeTsvField(field: string): string {
  return field.replace(/\\(.?)/gs, (whole, c: string) => UNESCAPES[c] ?? whole);
}

/**
 * Split one TSV line into unescaped fields. The line is given without its `\n`; a trailing `\r`
 * (CRLF line endings) is dropped, since a CR inside a field is always written as `\r`.
 */
export function parseTsvLine(line: string): string[] {
  const body = line.endsWith('\r') ? line.slice(0, -1) : line;
  return body.split('\t').map(unescapeTsvField);
}
